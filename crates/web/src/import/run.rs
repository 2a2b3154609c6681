//! One import, the same for a page upload, the API and the command line: read and check the
//! whole file on a blocking thread (rows streamed from the file, each good row converted to its
//! typed form, every bad row collected), then — only if no row was bad — write everything in one
//! transaction with its audit entry. A refused file writes nothing.

use std::ops::ControlFlow;

use axum::body::Bytes;
use gongzhi_core::cases::data::RowError;
use gongzhi_core::import::{ErrorList, Phase, Reach, Record};
use gongzhi_core::people::Actor;

use super::jobs::{Job, Outcome};
use crate::AppState;

/// Reads and checks the file of `job`, giving every good row to `convert` (which may refuse it
/// with its own problems: a repeat, a place outside the importer's reach …). All good rows, in
/// file order, or the refusal naming every bad row.
pub async fn read_all<T: Send + 'static>(
    job: &Job,
    bytes: Bytes,
    mut convert: impl FnMut(Record) -> Result<T, Vec<RowError>> + Send + 'static,
) -> Result<Vec<T>, Outcome> {
    let file = job.file.clone();
    let template = job.template;
    let progress = job.progress.clone();
    let read = tokio::task::spawn_blocking(move || {
        let mut errors = ErrorList::default();
        let mut good = Vec::new();
        let read = gongzhi_office::read_records(&file, &bytes, &template, &progress, &mut errors, |record| {
            good.push(convert(record)?);
            Ok(ControlFlow::Continue(()))
        });
        progress.set_phase(Phase::Validating);
        match read {
            Err(e) => Err(Outcome::Refused(e)),
            Ok(_) => match errors.into_result(&file) {
                Err(e) => Err(Outcome::Refused(e)),
                Ok(()) => Ok(good),
            },
        }
    })
    .await;
    match read {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "import reader failed");
            Err(Outcome::Failed)
        }
    }
}

/// Runs `job` to its outcome.
pub async fn execute(state: &AppState, job: &Job, bytes: Bytes, actor: &Actor, reach: &Reach) -> Outcome {
    let _ = (state, actor, reach);
    match read_all(job, bytes, Ok).await {
        Err(o) => o,
        Ok(_) => Outcome::Refused(gongzhi_core::cases::data::DataError::one(
            job.file.clone(),
            RowError::file(gongzhi_core::cases::data::Problem::other(
                "此类数据暂不支持导入",
                "this kind of data cannot be imported yet",
            )),
        )),
    }
}
