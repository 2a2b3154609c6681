//! The registry's import (`registry::import`), the same for a page upload, the API and the command
//! line: read and check the
//! whole file on a blocking thread (rows streamed from the file, each good row converted to its
//! typed form, every bad row collected), then — only if no row was bad — write everything in one
//! transaction with its audit entry. A refused file writes nothing.
//!
//! That sequence is [`run`], once; each of the eight templates is a [`Template`] saying only what is
//! its own: how a row reads, what it checks against the store, what it writes.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use gongzhi_core::Lang;
use gongzhi_core::audit::{AuditKey, NewAuditEntry};
use gongzhi_core::data::{DataError, Problem, RowError};
use gongzhi_core::import::registry::{outline_of, position_of};
use gongzhi_core::import::{ErrorList, Imported, Phase, Progress, Reach, Record};
use gongzhi_core::people::Actor;
use gongzhi_core::people::cipher::CipherProvider;
use gongzhi_core::people::id_number::IdNumber;
use gongzhi_core::territory::{GridCode, TerritoryCode};
use gongzhi_store::{StoreError, Tx};

mod jobs;
mod orgs;
mod party;
mod places;
mod residents;

pub use jobs::{Job, Jobs, Outcome};

use crate::App;
use crate::territory::TerritoryIndex;

/// `$body` with `$T` the [`Template`] of the registry template `$key`, or `$other` for a key
/// that has none.
macro_rules! by_template {
    ($key:expr, $T:ident => $body:expr, _ => $other:expr) => {
        match $key {
            "residents" => {
                type $T = residents::Residents;
                $body
            }
            "member-orgs" => {
                type $T = orgs::MemberOrgs;
                $body
            }
            "property-companies" => {
                type $T = orgs::PropertyCompanies;
                $body
            }
            "posted-offices" => {
                type $T = orgs::PostedOffices;
                $body
            }
            "compounds" => {
                type $T = orgs::Compounds;
                $body
            }
            "buildings" => {
                type $T = places::Buildings;
                $body
            }
            "households" => {
                type $T = places::Households;
                $body
            }
            "party-orgs" => {
                type $T = party::PartyOrgs;
                $body
            }
            "party-members" => {
                type $T = party::PartyMembers;
                $body
            }
            _ => $other,
        }
    };
}

/// Runs `job` to its outcome.
pub async fn execute(app: &App, job: &Job, bytes: Bytes, actor: &Actor, reach: &Reach) -> Outcome {
    let result = by_template!(
        job.template.key,
        T => run::<T>(app, job, bytes, actor, reach).await,
        _ => Err(not_importable(job))
    );
    match result {
        Ok(done) => {
            tracing::info!(
                template = job.template.key,
                rows = done.rows,
                actor = %actor.account,
                "registry import committed"
            );
            Outcome::Imported(done)
        }
        Err(o) => o,
    }
}

/// A template that no spreadsheet imports yet.
fn not_importable(job: &Job) -> Outcome {
    Outcome::Refused(DataError::one(
        job.file.clone(),
        RowError::file(Problem::other(
            format!("{}暂不支持从表格导入", job.template.name_zh),
            format!("{} cannot be imported from a spreadsheet yet", job.template.name_en),
        )),
    ))
}

/// What importing one of the registry's spreadsheet templates has of its own; [`run`] does the
/// rest, the same for all (not to be confused with `gongzhi_core::import::Template`, the columns
/// a file is read by).
trait Template {
    /// The keys its writes need: taken before the file is read, so that a server without them
    /// refuses at once.
    type Keys: Keys;
    /// One good row of the file, as reading it made it.
    type Row: Send + 'static;
    /// The rows once checked against the store, with what writing them needs of what was found.
    type Checked;

    /// Makes one row of the file into a [`Template::Row`] or the row's problems. It runs on the
    /// reading thread, so it owns what it needs (the grid index and the reach, taken once for
    /// the whole import) and may keep state across rows (the repeats seen so far).
    fn reader(index: Arc<TerritoryIndex>, reach: Reach) -> impl Reader<Self::Row>;

    /// Checks the rows against what is stored (reading only), putting every problem in `errors`.
    async fn check(
        cx: &Importing<'_, Self::Keys>,
        rows: Vec<Self::Row>,
        errors: &mut ErrorList,
    ) -> Result<Self::Checked, Outcome>;

    /// Writes the checked rows in the import's open transaction (only the store can fail there).
    async fn write(cx: &Importing<'_, Self::Keys>, tx: &mut Tx, checked: Self::Checked) -> Result<Created, StoreError>;
}

/// Makes one record of a file into a row, or gives the row's problems; on the reading thread.
trait Reader<Row>: FnMut(Record) -> Result<Row, Vec<RowError>> + Send + 'static {}

impl<Row, F: FnMut(Record) -> Result<Row, Vec<RowError>> + Send + 'static> Reader<Row> for F {}

/// What a template's write created: how many of each kind (`residents`, `households` …), in the
/// order the import's report says them.
type Created = Vec<(&'static str, u64)>;

/// One import under way, as a template's check and write see it.
struct Importing<'a, K> {
    app: &'a App,
    job: &'a Job,
    actor: &'a Actor,
    reach: &'a Reach,
    keys: K,
    /// The grid index, taken once: rows are checked and written against the same one.
    index: Arc<TerritoryIndex>,
    /// The rows a template said it wrote so far (see [`Importing::rows_written`]).
    written: AtomicU64,
}

impl<K: Keys> Importing<'_, K> {
    fn audit_key(&self) -> &AuditKey {
        self.keys.audit_key()
    }

    fn account(&self) -> &str {
        &self.actor.account
    }

    /// `n` more rows written: for a template writing in chunks, so that progress moves while it
    /// writes. [`run`] says the rest when the write is done.
    fn rows_written(&self, n: u64) {
        self.job.progress.rows_written(n);
        self.written.fetch_add(n, Ordering::Relaxed);
    }
}

/// An import of the template `T`, from the file's bytes to its commit: the keys; the file read
/// and checked row by row; the rows checked against the store; the refusal naming every bad row,
/// or the write of everything with its audit entry in one transaction.
async fn run<T: Template>(
    app: &App,
    job: &Job,
    bytes: Bytes,
    actor: &Actor,
    reach: &Reach,
) -> Result<Imported, Outcome> {
    let keys = T::Keys::of(app, job)?;
    let index = app.index();
    let rows = read_all(job, bytes, T::reader(index.clone(), reach.clone())).await?;
    let n = rows.len() as u64;
    let cx = Importing {
        app,
        job,
        actor,
        reach,
        keys,
        index,
        written: AtomicU64::new(0),
    };
    let mut errors = ErrorList::default();
    let checked = T::check(&cx, rows, &mut errors).await?;
    refuse(errors, job)?;

    job.progress.set_phase(Phase::Writing);
    let mut tx = app.db().begin().await.map_err(failed)?;
    let created = T::write(&cx, &mut tx, checked).await.map_err(failed)?;
    let said = cx.written.load(Ordering::Relaxed);
    job.progress.rows_written(n.saturating_sub(said));
    let mut done = Imported::new(job.template.key, n);
    for (what, k) in created {
        done = done.created(what, k);
    }
    commit(tx, cx.audit_key(), actor, job, done).await
}

/// Reads and checks the file of `job`, giving every good row to `convert` (which may refuse it
/// with its own problems: a repeat, a place outside the importer's reach …). All good rows, in
/// file order, or the refusal naming every bad row.
async fn read_all<T: Send + 'static>(job: &Job, bytes: Bytes, convert: impl Reader<T>) -> Result<Vec<T>, Outcome> {
    let file = job.file.clone();
    let template = job.template;
    let progress = job.progress.clone();
    let read = tokio::task::spawn_blocking(move || {
        read_checked(&file, &bytes, &template, &progress, convert).map_err(Outcome::Refused)
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

/// The reading half of [`read_all`], on the calling thread.
fn read_checked<T>(
    file: &str,
    bytes: &[u8],
    template: &gongzhi_core::import::Template,
    progress: &Progress,
    mut convert: impl Reader<T>,
) -> Result<Vec<T>, DataError> {
    let mut errors = ErrorList::default();
    let mut good = Vec::new();
    let read = gongzhi_office::read_records(file, bytes, template, progress, &mut errors, |record| {
        good.push(convert(record)?);
        Ok(ControlFlow::Continue(()))
    });
    progress.set_phase(Phase::Validating);
    read?;
    errors.into_result(file)?;
    Ok(good)
}

/// Reads and checks a file against the template `key` as an import's first phase does, without
/// the store and without writing: the number of good rows, or the refusal naming every bad row
/// (the fuzzing targets run every template's reader through it). `None` for a key that is not a
/// registry template.
pub fn read_only(
    key: &str,
    file: &str,
    bytes: &[u8],
    index: Arc<TerritoryIndex>,
    reach: Reach,
) -> Option<Result<usize, DataError>> {
    let template = gongzhi_core::import::registry::template(key)?;
    let progress = Progress::new(bytes.len() as u64);
    by_template!(
        key,
        T => Some(read_checked(file, bytes, &template, &progress, T::reader(index, reach)).map(|rows| rows.len())),
        _ => None
    )
}

/// A store failure during an import: logged (never with row values), nothing written.
fn failed(e: impl std::fmt::Display) -> Outcome {
    tracing::error!(error = %e, "registry import failed; rolled back");
    Outcome::Failed
}

/// The audit entry of a committed import: who, which file, how many rows and things created;
/// never a value of a row.
async fn audit_import(tx: &mut Tx, key: &AuditKey, actor: &Actor, job: &Job, done: &Imported) -> Result<(), Outcome> {
    let created: serde_json::Map<String, serde_json::Value> = done
        .created
        .iter()
        .map(|(k, n)| (k.to_string(), serde_json::json!(n)))
        .collect();
    let entry = NewAuditEntry::new(
        chrono::Utc::now(),
        actor.account.clone(),
        "registry.import",
        "import",
        job.template.key,
        serde_json::json!({
            "template": job.template.key,
            "file": job.file,
            "rows": done.rows,
            "created": created,
        }),
    )
    .map_err(failed)?;
    gongzhi_store::audit::append(tx, key, entry).await.map_err(failed)?;
    Ok(())
}

/// Ends an import: its audit entry, then the commit of everything.
async fn commit(mut tx: Tx, key: &AuditKey, actor: &Actor, job: &Job, done: Imported) -> Result<Imported, Outcome> {
    audit_import(&mut tx, key, actor, job, &done).await?;
    tx.commit().await.map_err(failed)?;
    Ok(done)
}

/// The keys a template's writes need.
trait Keys: Sized {
    /// The keys from the server's configuration, or the refusal saying which is missing.
    fn of(app: &App, job: &Job) -> Result<Self, Outcome>;
    fn audit_key(&self) -> &AuditKey;
}

/// The audit key alone: for templates that seal nothing.
struct Auditing(Arc<AuditKey>);

/// The audit key and the personal-data cipher: for templates that seal people's data.
struct Sealing {
    audit_key: Arc<AuditKey>,
    cipher: Arc<dyn CipherProvider>,
}

impl Sealing {
    fn cipher(&self) -> &dyn CipherProvider {
        self.cipher.as_ref()
    }
}

/// The refusal of an import on a server that lacks a key.
fn no_key(job: &Job, zh: &str, en: &str) -> Outcome {
    Outcome::Refused(DataError::one(job.file.clone(), RowError::file(Problem::other(zh, en))))
}

impl Keys for Auditing {
    fn of(app: &App, job: &Job) -> Result<Auditing, Outcome> {
        app.audit_key().map(Auditing).ok_or_else(|| {
            no_key(
                job,
                "服务器未配置审计密钥，无法记录导入",
                "the server has no audit key, so it cannot record an import",
            )
        })
    }

    fn audit_key(&self) -> &AuditKey {
        &self.0
    }
}

impl Keys for Sealing {
    fn of(app: &App, job: &Job) -> Result<Sealing, Outcome> {
        let Auditing(audit_key) = Auditing::of(app, job)?;
        let cipher = app.cipher().ok_or_else(|| {
            no_key(
                job,
                "服务器未配置个人信息密钥，无法加密保存",
                "the server has no personal-data key, so it cannot store personal data",
            )
        })?;
        Ok(Sealing { audit_key, cipher })
    }

    fn audit_key(&self) -> &AuditKey {
        &self.audit_key
    }
}

/// A row naming something the registry holds already.
fn registered(row: usize, column: &str, value: &str) -> RowError {
    RowError::cell(
        row,
        column,
        Problem::other(format!("“{value}”已登记"), format!("{value:?} is registered already")),
    )
}

/// A kind of thing a row may name that an earlier import must bring: in Chinese, in English and
/// the English plural that names that import.
struct Prior(&'static str, &'static str, &'static str);

const COMPOUNDS: Prior = Prior("小区", "compound", "compounds");
const BUILDINGS: Prior = Prior("楼栋", "building", "buildings");
const PROPERTY_COMPANIES: Prior = Prior("物业企业", "property company", "property companies");
const MEMBER_ORGS: Prior = Prior("辖区单位", "member organization", "member organizations");
const PARTY_ORGS: Prior = Prior("党组织", "party organization", "party organizations");

/// A row naming something not registered that an earlier import must bring.
fn import_first(row: usize, column: &str, value: impl Into<String>, what: &Prior) -> RowError {
    let Prior(zh, en, en_plural) = what;
    RowError::cell(
        row,
        column,
        Problem::unknown(
            value,
            format!("{zh}（请先导入{zh}）"),
            format!("{en} (import {en_plural} first)"),
        ),
    )
}

/// A row whose ID number is registered already: in the register `register_zh` names, as
/// `what_en` says; the number masked.
fn id_number_registered(row: usize, id: &IdNumber, register_zh: &str, what_en: &str) -> RowError {
    let masked = id.masked();
    RowError::cell(
        row,
        "身份证号",
        Problem::other(
            format!("{masked} 已在{register_zh}中"),
            format!("{masked} is {what_en}"),
        ),
    )
}

/// The next free code of a series (`GRID-B004`, `COMMUNITY-C07`, `BUILDING-0012`): the serial
/// counted on until its code is not taken, which it then is.
fn next_code(serial: &mut usize, taken: &mut HashSet<String>, code: impl Fn(usize) -> String) -> String {
    loop {
        *serial += 1;
        let c = code(*serial);
        if taken.insert(c.clone()) {
            return c;
        }
    }
}

/// The refusal of a file with problems, or nothing.
fn refuse(errors: ErrorList, job: &Job) -> Result<(), Outcome> {
    errors.into_result(&job.file).map_err(Outcome::Refused)
}

/// The row's grid, known and inside `reach`, or the row's problem.
fn grid_in(index: &TerritoryIndex, reach: &Reach, r: &Record) -> Result<GridCode, RowError> {
    let text = r.text("grid_code");
    match TerritoryCode::parse(text) {
        Ok(code @ TerritoryCode::Grid(_)) if index.by_code.contains_key(text) => {
            if !reach.reaches(&code) {
                return Err(r.error(
                    "grid_code",
                    Problem::other(
                        format!("网格 {text} 不在您的辖区内"),
                        format!("grid {text} is outside your area"),
                    ),
                ));
            }
            GridCode::parse(text).map_err(|_| r.error("grid_code", Problem::unknown(text, "网格", "grid")))
        }
        _ => Err(r.error("grid_code", Problem::unknown(text, "网格", "grid"))),
    }
}
