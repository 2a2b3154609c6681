//! The audit record: verifying the chain, and anchoring its end outside the database.
//!
//! The chain alone shows an entry changed, inserted or removed in the middle, but not entries
//! removed from the end with the head row rewritten to match: what is left is a valid shorter
//! chain. So the end is written down elsewhere: a checkpoint (the last entry's number and MAC
//! and the time, signed with the audit key, [`Checkpoint`]) in a file outside the database,
//! handed also to a witness command the operator configures (a log host, a WORM store, a
//! notary). Verification compares the record with the checkpoint, and by default checks only
//! what was appended after it (the checkpoint's own entry included); `full` checks everything.

pub mod configuration;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use gongzhi_core::ErrorCode;
use gongzhi_core::Localized;
use gongzhi_core::audit::checkpoint::{Checkpoint, CheckpointError};
use gongzhi_core::audit::{AuditKey, BrokenReason, Head, Verdict};
use gongzhi_core::people::{Actor, Role};
use gongzhi_store::audit::Verification;

use crate::{App, AppError};

/// Where the record's end is anchored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The checkpoint file (default `DATA_DIR/audit.checkpoint`).
    pub file: PathBuf,
    /// A command given each new checkpoint on its standard input (program and arguments, no
    /// shell); empty for none. It must exit 0 within [`WITNESS_TIMEOUT`].
    pub witness: Vec<String>,
}

/// How long a witness command may take.
pub const WITNESS_TIMEOUT: Duration = Duration::from_secs(30);

/// A verification and what it was measured against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub verification: Verification,
    /// Whether every entry was checked (else only those from the checkpoint's on).
    pub full: bool,
    /// The checkpoint the record was compared with, when there is one (and it could be trusted).
    pub checkpoint: Option<Checkpoint>,
}

/// Verifies the chain with the server's key against its checkpoint: from the checkpoint on, or
/// whole when `full`. Only the audit administrator may ask: the system administrator, whose work
/// the record watches, may not (三员分立).
pub async fn verify(app: &App, actor: &Actor, full: bool) -> Result<Report, AppError> {
    if !actor.has_role(Role::AuditAdmin) {
        return Err(AppError::forbidden_role("审计管理员", "audit administrator"));
    }
    verify_record(app, full).await
}

/// [`verify`] without the role check, for the command line and the scheduled checkpoint.
pub async fn verify_record(app: &App, full: bool) -> Result<Report, AppError> {
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let (checkpoint, distrusted) = match app.audit_anchor() {
        None => (None, None),
        Some(anchor) => match read_checkpoint(&anchor.file, &key) {
            Ok(c) => (c, None),
            Err(reason) => (None, Some(reason)),
        },
    };
    // A checkpoint that cannot be trusted anchors nothing: the whole chain is checked, and the
    // checkpoint is reported if the chain itself is intact.
    let full = full || distrusted.is_some();
    let anchor = checkpoint.as_ref().map(Checkpoint::head);
    let mut verification = gongzhi_store::audit::verify_from(&app.db, &key, anchor.as_ref(), full).await?;
    if let Some(reason) = distrusted
        && verification.verdict.is_intact()
    {
        verification.verdict = Verdict::Broken { broken_at: 0, reason };
    }
    Ok(Report {
        verification,
        full,
        checkpoint,
    })
}

/// The checkpoint in `file`: `None` when there is none yet, a reason when it cannot be trusted.
fn read_checkpoint(file: &Path, key: &AuditKey) -> Result<Option<Checkpoint>, BrokenReason> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(BrokenReason::CheckpointInvalid {
                file: file.display().to_string(),
                why: CheckpointError::Unreadable(e.to_string()),
            });
        }
    };
    Checkpoint::parse(&text, key)
        .map(Some)
        .map_err(|why| BrokenReason::CheckpointInvalid {
            file: file.display().to_string(),
            why,
        })
}

/// What [`checkpoint`] did.
#[derive(Debug)]
pub struct Checkpointed {
    /// The verification from the previous checkpoint on, which a new one needs intact.
    pub report: Report,
    /// The checkpoint written, if the record was intact and had grown since the last one.
    pub written: Option<Checkpoint>,
    /// The witness command's failure, if it failed (the file is written all the same).
    pub witness_failed: Option<String>,
}

/// Verifies what was appended since the last checkpoint and, if the record is intact and has
/// grown, writes a new checkpoint of its end (atomically: a new file renamed over the old) and
/// gives it to the witness command. A broken record gets no checkpoint: the last good one stays.
pub async fn checkpoint(app: &App) -> Result<Checkpointed, AppError> {
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let anchor = app.audit_anchor().ok_or_else(|| {
        AppError::new(
            ErrorCode::CheckpointFailed,
            None,
            "未配置审计检查点文件",
            "no audit checkpoint file is configured",
        )
    })?;
    let report = verify_record(app, false).await?;
    let Verdict::Intact { entries, head } = &report.verification.verdict else {
        return Ok(Checkpointed {
            report,
            written: None,
            witness_failed: None,
        });
    };
    let head = Head {
        seq: *entries as i64,
        mac: head.clone(),
    };
    if report.checkpoint.as_ref().is_some_and(|c| c.head() == head) {
        return Ok(Checkpointed {
            report,
            written: None,
            witness_failed: None,
        });
    }
    let new = Checkpoint::of(&head, Utc::now());
    // Another process (the server, the command line) may have written a later one meanwhile.
    if let Ok(Some(current)) = read_checkpoint(&anchor.file, &key)
        && current.seq > new.seq
    {
        return Ok(Checkpointed {
            report,
            written: None,
            witness_failed: None,
        });
    }
    let text = new.to_signed_text(&key);
    write_atomically(&anchor.file, &text).map_err(|e| {
        AppError::new(
            ErrorCode::CheckpointFailed,
            None,
            format!("无法写入审计检查点 {}：{e}", anchor.file.display()),
            format!("cannot write the audit checkpoint {}: {e}", anchor.file.display()),
        )
    })?;
    let witness_failed = if anchor.witness.is_empty() {
        None
    } else {
        run_witness(&anchor.witness, &text).await.err()
    };
    Ok(Checkpointed {
        report,
        written: Some(new),
        witness_failed,
    })
}

fn write_atomically(file: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut name = file.as_os_str().to_owned();
    name.push(".new");
    let tmp = PathBuf::from(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, file)
}

/// Runs the witness command with `text` on its standard input.
async fn run_witness(command: &[String], text: &str) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    let program = &command[0];
    let mut child = tokio::process::Command::new(program)
        .args(&command[1..])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .await
            .map_err(|e| format!("{program}: {e}"))?;
    }
    let out = tokio::time::timeout(WITNESS_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| format!("{program}: no answer within {} s", WITNESS_TIMEOUT.as_secs()))?
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let said = String::from_utf8_lossy(&out.stderr);
        Err(format!("{program}: {} {}", out.status, said.trim()))
    }
}

impl App {
    /// Anchors the record's end in `anchor` (its checkpoint file and witness).
    pub fn with_audit_anchor(mut self, anchor: Anchor) -> App {
        self.audit_anchor = Some(std::sync::Arc::new(anchor));
        self
    }

    /// Where the record's end is anchored, when configured.
    pub fn audit_anchor(&self) -> Option<std::sync::Arc<Anchor>> {
        self.audit_anchor.clone()
    }

    /// Writes a checkpoint now and then every `period` (see [`checkpoint`]); a broken record or
    /// a failed witness is logged as an error.
    pub fn spawn_audit_checkpoints(&self, period: Duration) -> tokio::task::JoinHandle<()> {
        self.every(period, |app| async move {
            match checkpoint(&app).await {
                Ok(Checkpointed {
                    report,
                    written,
                    witness_failed,
                }) => {
                    if let Verdict::Broken { broken_at, reason } = &report.verification.verdict {
                        tracing::error!(broken_at, reason = %reason.message(gongzhi_core::Lang::En),
                            "the audit record is broken: no new checkpoint written");
                    }
                    if let Some(c) = written {
                        tracing::info!(
                            seq = c.seq,
                            checked = report.verification.checked,
                            "audit checkpoint written"
                        );
                    }
                    if let Some(e) = witness_failed {
                        tracing::error!(error = %e, "the audit checkpoint's witness failed");
                    }
                }
                Err(e) => tracing::error!(error = %e.message(gongzhi_core::Lang::En), "audit checkpoint failed"),
            }
        })
    }
}
