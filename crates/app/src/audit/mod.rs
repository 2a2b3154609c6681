//! The audit record: verifying the chain.

pub mod configuration;

use gongzhi_core::audit::Verdict;
use gongzhi_core::people::{Actor, Role};

use crate::{App, AppError};

/// Verifies the whole chain with the server's key. Reads the chain in batches, so it stays cheap
/// in memory however long the record is; its time grows with the record (about 80,000 entries a
/// second). Only the audit administrator may ask: the system administrator, whose work the
/// record watches, may not (三员分立).
pub async fn verify(app: &App, actor: &Actor) -> Result<Verdict, AppError> {
    if !actor.has_role(Role::AuditAdmin) {
        return Err(AppError::forbidden_role("审计管理员", "audit administrator"));
    }
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    Ok(gongzhi_store::audit::verify(&app.db, &key).await?)
}
