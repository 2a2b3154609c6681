//! Notes integrations add to a case (Open311's `servicerequestupdates`, FixMyStreet's
//! extension): a `note` event on the timeline that changes nothing but the case's revision, and
//! the integration's `update_id` kept per key, so that a repeated update_id never adds a second.

use chrono::{DateTime, Utc};
use gongzhi_core::audit::{AuditKey, NewAuditEntry};
use serde_json::Value;

use super::{CaseRecord, flow_json, insert_event, is_unique_violation};
use crate::db::Db;
use crate::error::StoreError;

/// The event kind of a note: not an action of the loop, so the state stays as it was.
pub const NOTE_KIND: &str = "note";

/// Where an update landed: the case and the revision of its note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRef {
    pub case_id: i64,
    pub revision: i32,
    /// Whether it is the note an earlier post with the same update_id made.
    pub replayed: bool,
}

/// A timeline event with its case's number, for the update feed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedEvent {
    pub case_no: String,
    pub revision: i32,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub to_state: String,
    pub body: String,
}

impl Db {
    /// The note a key already made under `update_id`, if any.
    pub async fn note_by_update_id(&self, api_key_id: i64, update_id: &str) -> Result<Option<NoteRef>, StoreError> {
        let row: Option<(i64, i32)> = on_pool!(self, p => sqlx::query_as(
            "SELECT case_id, revision FROM open311_updates WHERE api_key_id = $1 AND update_id = $2")
            .bind(api_key_id).bind(update_id).fetch_optional(p).await)?;
        Ok(row.map(|(case_id, revision)| NoteRef {
            case_id,
            revision,
            replayed: true,
        }))
    }

    /// Adds a note to `record` as `account`: the case's revision moves on (so the note is ordered
    /// with the actions, and an action computed before it is refused as stale), the state does
    /// not. A note under an update_id the key used before is not added again: the first is
    /// returned.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_note(
        &self,
        record: &CaseRecord,
        api_key_id: i64,
        update_id: &str,
        account: &str,
        body: &Value,
        now: DateTime<Utc>,
        audit_key: &AuditKey,
    ) -> Result<NoteRef, StoreError> {
        if let Some(found) = self.note_by_update_id(api_key_id, update_id).await? {
            return Ok(found);
        }
        let mut flow = record.flow.clone();
        let previous = flow.revision;
        flow.revision += 1;
        let revision = flow.revision;
        let flow_text = flow_json(&flow)?;
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE cases SET revision = $1, flow = $2, updated_at = $3 WHERE id = $4 AND revision = $5")
            .bind(revision as i32).bind(flow_text).bind(now).bind(record.id).bind(previous as i32)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StoreError::Conflict {
                what: "case",
                id: flow.number.to_string(),
            });
        }
        let state = flow.state.as_str();
        insert_event(
            &mut tx,
            record.id,
            revision,
            now,
            account,
            NOTE_KIND,
            Some(state),
            state,
            body,
        )
        .await?;
        let inserted = on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO open311_updates (api_key_id, update_id, case_id, revision, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(api_key_id).bind(update_id).bind(record.id).bind(revision as i32).bind(now)
            .execute(conn).await.map(|_| ()));
        match inserted {
            Ok(()) => {}
            Err(e) => {
                let e = StoreError::from(e);
                if is_unique_violation(&e) {
                    // Another post with the same update_id won the race: answer with its note.
                    drop(tx);
                    if let Some(found) = self.note_by_update_id(api_key_id, update_id).await? {
                        return Ok(found);
                    }
                }
                return Err(e);
            }
        }
        let entry = NewAuditEntry::new(now, account, "case.note", "case", flow.number.as_str(), body.clone())?;
        crate::audit::append(&mut tx, audit_key, entry).await?;
        tx.commit().await?;
        Ok(NoteRef {
            case_id: record.id,
            revision: revision as i32,
            replayed: false,
        })
    }

    /// Timeline events after the report, `from` ≤ at ≤ `to`, oldest first, at most `limit`.
    pub async fn feed_events(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT c.case_no, e.revision, e.at, e.kind, e.to_state, e.body
             FROM case_events e JOIN cases c ON c.id = e.case_id
             WHERE e.at >= $1 AND e.at <= $2 AND e.revision > 0
             ORDER BY e.at, e.case_id, e.revision LIMIT $3")
            .bind(from).bind(to).bind(limit).fetch_all(p).await)?)
    }
}
