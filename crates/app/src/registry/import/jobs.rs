//! Running imports: each upload becomes a job with an unguessable id whose progress the job page
//! polls. A job runs on its own task; its file stays in memory only while it runs. Finished jobs
//! are kept for an hour so their page can still say what happened.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use gongzhi_core::data::DataError;
use gongzhi_core::import::{Imported, Phase, Progress, Template};
use gongzhi_core::people::Actor;

use crate::people::random_token;

/// How an import ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Imported(Imported),
    /// The file was refused (bad rows, missing column, wrong kind of file): nothing was written.
    Refused(DataError),
    /// Something of ours failed (the database): nothing was written; the details are in the log.
    Failed,
}

/// One import, from upload to its outcome.
#[derive(Debug)]
pub struct Job {
    pub id: String,
    /// The account that uploaded: the only one who may see the job.
    pub owner: String,
    pub template: Template,
    pub file: String,
    pub started_at: DateTime<Utc>,
    pub progress: Arc<Progress>,
    outcome: Mutex<Option<(Outcome, Instant)>>,
}

impl Job {
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(o, _)| o.clone())
    }

    pub fn finish(&self, outcome: Outcome) {
        self.progress.set_phase(match outcome {
            Outcome::Imported(_) => Phase::Done,
            _ => Phase::Failed,
        });
        *self.outcome.lock().unwrap_or_else(|p| p.into_inner()) = Some((outcome, Instant::now()));
    }

    fn finished_before(&self, when: Instant) -> bool {
        self.outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|(_, at)| *at < when)
    }
}

/// The jobs of this server.
#[derive(Debug, Clone, Default)]
pub struct Jobs {
    jobs: Arc<Mutex<HashMap<String, Arc<Job>>>>,
}

/// How long a finished job's page stays.
const KEEP: Duration = Duration::from_secs(3600);

impl Jobs {
    /// Registers a new job of `actor` for `file` of `bytes` bytes.
    pub fn start(&self, actor: &Actor, template: Template, file: &str, bytes: &Bytes) -> Arc<Job> {
        let job = Arc::new(Job {
            id: random_token()[..24].to_string(),
            owner: actor.account.clone(),
            template,
            file: file.to_string(),
            started_at: Utc::now(),
            progress: Arc::new(Progress::new(bytes.len() as u64)),
            outcome: Mutex::new(None),
        });
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cutoff) = Instant::now().checked_sub(KEEP) {
            jobs.retain(|_, j| !j.finished_before(cutoff));
        }
        jobs.insert(job.id.clone(), job.clone());
        job
    }

    /// The job of this id, if it belongs to `account`.
    pub fn get(&self, id: &str, account: &str) -> Option<Arc<Job>> {
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .filter(|j| j.owner == account)
            .cloned()
    }
}
