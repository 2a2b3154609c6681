//! Co-building agreements (共建协议): an agreement between a community and a member organization
//! with its commitments, cross-appointments and talent pairings; its renewal (a new agreement
//! that `renews` it, the old one renewed in the same transaction), its end with a reason, and
//! records of what was done under a commitment. Every change is audited in the transaction that
//! makes it; a step is written only from the active state (else `StoreError::Conflict`, nothing
//! written).

use chrono::{DateTime, NaiveDate, Utc};
use gongzhi_core::audit::AuditKey;
use gongzhi_core::cogov::agreements::{AgreementState, RecordDraft, Terms};
use serde_json::json;

use super::audit;
use crate::db::{Db, Tx};
use crate::error::StoreError;

#[derive(Debug, Clone, sqlx::FromRow)]
struct AgreementRow {
    id: i64,
    community_code: String,
    organization_id: i64,
    organization_name: String,
    term_from: NaiveDate,
    term_to: NaiveDate,
    state: String,
    renews: Option<i64>,
    end_reason: Option<String>,
    signed_by: String,
    signed_at: DateTime<Utc>,
    changed_at: DateTime<Utc>,
}

/// An agreement as stored.
#[derive(Debug, Clone)]
pub struct Agreement {
    pub id: i64,
    pub community_code: String,
    pub organization_id: i64,
    pub organization_name: String,
    pub term_from: NaiveDate,
    pub term_to: NaiveDate,
    pub state: AgreementState,
    /// The agreement this one renews.
    pub renews: Option<i64>,
    pub end_reason: Option<String>,
    pub signed_by: String,
    pub signed_at: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
}

impl TryFrom<AgreementRow> for Agreement {
    type Error = StoreError;
    fn try_from(r: AgreementRow) -> Result<Agreement, StoreError> {
        Ok(Agreement {
            state: AgreementState::parse(&r.state).ok_or_else(|| StoreError::Corrupt {
                what: "agreement",
                detail: format!("agreement {} state {}", r.id, r.state),
            })?,
            id: r.id,
            community_code: r.community_code,
            organization_id: r.organization_id,
            organization_name: r.organization_name,
            term_from: r.term_from,
            term_to: r.term_to,
            renews: r.renews,
            end_reason: r.end_reason,
            signed_by: r.signed_by,
            signed_at: r.signed_at,
            changed_at: r.changed_at,
        })
    }
}

/// A commitment of an agreement, under a mechanism.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredCommitment {
    pub id: i64,
    pub agreement_id: i64,
    pub mechanism: String,
    pub body: String,
}

/// A cross-appointment (交叉任职).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredAppointment {
    pub id: i64,
    pub person: String,
    pub organization_post: String,
    pub community_post: String,
}

/// A talent pairing (人才结对).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredPairing {
    pub id: i64,
    pub first_person: String,
    pub second_person: String,
    pub subject: String,
}

/// What was done under a commitment.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgreementRecord {
    pub id: i64,
    pub agreement_id: i64,
    pub commitment_id: i64,
    pub done_on: NaiveDate,
    pub body: String,
    pub people: Option<i64>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, community_code, organization_id, organization_name, term_from, term_to, state, renews, \
     end_reason, signed_by, signed_at, changed_at";

/// Inserts an agreement with its lists (in `tx`) and audits its signing; its id.
#[allow(clippy::too_many_arguments)]
async fn insert_tx(
    tx: &mut Tx,
    community: &str,
    organization: i64,
    organization_name: &str,
    terms: &Terms,
    renews: Option<i64>,
    by: &str,
    now: DateTime<Utc>,
    key: &AuditKey,
) -> Result<i64, StoreError> {
    let id: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO cogov_agreements (community_code, organization_id, organization_name, term_from, term_to, state,
         renews, signed_by, signed_at, changed_at) VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $8) RETURNING id")
        .bind(community).bind(organization).bind(organization_name).bind(terms.term_from).bind(terms.term_to)
        .bind(renews).bind(by).bind(now).fetch_one(conn).await)?;
    for c in &terms.commitments {
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO cogov_agreement_commitments (agreement_id, mechanism, body) VALUES ($1, $2, $3)")
            .bind(id).bind(&c.mechanism).bind(&c.text).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    for a in &terms.appointments {
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO cogov_agreement_appointments (agreement_id, person, organization_post, community_post)
             VALUES ($1, $2, $3, $4)")
            .bind(id).bind(&a.person).bind(&a.organization_post).bind(&a.community_post)
            .execute(conn).await.map(|r| r.rows_affected()))?;
    }
    for p in &terms.pairings {
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO cogov_agreement_pairings (agreement_id, first_person, second_person, subject)
             VALUES ($1, $2, $3, $4)")
            .bind(id).bind(&p.first).bind(&p.second).bind(&p.subject)
            .execute(conn).await.map(|r| r.rows_affected()))?;
    }
    audit(
        tx,
        key,
        now,
        by,
        "cogov.agreement.sign",
        "agreement",
        &id.to_string(),
        json!({
            "community": community,
            "organization": organization,
            "term_from": terms.term_from.to_string(),
            "term_to": terms.term_to.to_string(),
            "renews": renews,
            "commitments": terms.commitments.iter().map(|c| json!({"mechanism": c.mechanism, "text": c.text})).collect::<Vec<_>>(),
            "appointments": terms.appointments.len(),
            "pairings": terms.pairings.len(),
        }),
    )
    .await?;
    Ok(id)
}

/// Moves an active agreement to `to` (in `tx`); `Conflict` if it is not active any more.
async fn leave_active_tx(
    tx: &mut Tx,
    id: i64,
    to: AgreementState,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changed = on_tx!(tx, conn => sqlx::query(
        "UPDATE cogov_agreements SET state = $1, end_reason = COALESCE($2, end_reason), changed_at = $3
         WHERE id = $4 AND state = 'active'")
        .bind(to.as_str()).bind(reason).bind(now).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
    if changed == 0 {
        return Err(StoreError::Conflict {
            what: "agreement",
            id: id.to_string(),
        });
    }
    Ok(())
}

impl Db {
    /// Signs an agreement of a community with a member organization (named as the registry has
    /// it now), audited; its id.
    #[allow(clippy::too_many_arguments)]
    pub async fn sign_agreement(
        &self,
        community: &str,
        organization: i64,
        organization_name: &str,
        terms: &Terms,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let id = insert_tx(
            &mut tx,
            community,
            organization,
            organization_name,
            terms,
            None,
            by,
            now,
            key,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Renews an active agreement: a new agreement of the same community and organization that
    /// `renews` it, and the old one renewed, in one transaction, both audited; the new id.
    /// `Conflict` (nothing written) if the old one is not active any more.
    pub async fn renew_agreement(
        &self,
        old: &Agreement,
        terms: &Terms,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        leave_active_tx(&mut tx, old.id, AgreementState::Renewed, None, now).await?;
        let id = insert_tx(
            &mut tx,
            &old.community_code,
            old.organization_id,
            &old.organization_name,
            terms,
            Some(old.id),
            by,
            now,
            key,
        )
        .await?;
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.agreement.renew",
            "agreement",
            &old.id.to_string(),
            json!({"from": "active", "to": "renewed", "renewed_by": id}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Ends an active agreement with a reason, audited; `Conflict` if it is not active.
    pub async fn end_agreement(
        &self,
        id: i64,
        reason: &str,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        leave_active_tx(&mut tx, id, AgreementState::Ended, Some(reason), now).await?;
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.agreement.end",
            "agreement",
            &id.to_string(),
            json!({"from": "active", "to": "ended", "reason": reason}),
        )
        .await?;
        tx.commit().await
    }

    /// Records what was done under a commitment of an active agreement, audited; the record's
    /// id. `Conflict` (nothing written) if the agreement is not active any more.
    pub async fn record_under_commitment(
        &self,
        commitment: &StoredCommitment,
        draft: &RecordDraft,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let active: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "SELECT COUNT(*) FROM cogov_agreements WHERE id = $1 AND state = 'active'")
            .bind(commitment.agreement_id).fetch_one(conn).await)?;
        if active == 0 {
            return Err(StoreError::Conflict {
                what: "agreement",
                id: commitment.agreement_id.to_string(),
            });
        }
        let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "INSERT INTO cogov_agreement_records (agreement_id, commitment_id, done_on, body, people, recorded_by, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(commitment.agreement_id).bind(commitment.id).bind(draft.done_on).bind(&draft.text)
            .bind(draft.people).bind(by).bind(now).fetch_one(conn).await)?;
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.agreement.record",
            "agreement",
            &commitment.agreement_id.to_string(),
            json!({"record": id, "commitment": commitment.id, "mechanism": commitment.mechanism,
                   "date": draft.done_on.to_string(), "text": draft.text, "people": draft.people}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn agreement(&self, id: i64) -> Result<Option<Agreement>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM cogov_agreements WHERE id = $1");
        let row: Option<AgreementRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
        row.map(Agreement::try_from).transpose()
    }

    /// Agreements, newest first, of one community or of all (the caller keeps those in reach).
    pub async fn agreements(&self, community: Option<&str>) -> Result<Vec<Agreement>, StoreError> {
        let rows: Vec<AgreementRow> = match community {
            Some(c) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM cogov_agreements WHERE community_code = $1 ORDER BY id DESC LIMIT 2000"
                );
                on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(c).fetch_all(p).await)?
            }
            None => {
                let sql = format!("SELECT {COLUMNS} FROM cogov_agreements ORDER BY id DESC LIMIT 2000");
                on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?
            }
        };
        rows.into_iter().map(Agreement::try_from).collect()
    }

    /// The agreement that renews `id`, if one does.
    pub async fn agreement_renewed_by(&self, id: i64) -> Result<Option<i64>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_scalar(
            "SELECT id FROM cogov_agreements WHERE renews = $1").bind(id).fetch_optional(p).await)?)
    }

    pub async fn commitments_of(&self, agreement_id: i64) -> Result<Vec<StoredCommitment>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, agreement_id, mechanism, body FROM cogov_agreement_commitments WHERE agreement_id = $1 ORDER BY id")
            .bind(agreement_id).fetch_all(p).await)?)
    }

    pub async fn appointments_of(&self, agreement_id: i64) -> Result<Vec<StoredAppointment>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, person, organization_post, community_post FROM cogov_agreement_appointments
             WHERE agreement_id = $1 ORDER BY id")
            .bind(agreement_id).fetch_all(p).await)?)
    }

    pub async fn pairings_of(&self, agreement_id: i64) -> Result<Vec<StoredPairing>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, first_person, second_person, subject FROM cogov_agreement_pairings
             WHERE agreement_id = $1 ORDER BY id")
            .bind(agreement_id).fetch_all(p).await)?)
    }

    pub async fn agreement_records(&self, agreement_id: i64) -> Result<Vec<AgreementRecord>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, agreement_id, commitment_id, done_on, body, people, recorded_by, recorded_at
             FROM cogov_agreement_records WHERE agreement_id = $1 ORDER BY done_on, id")
            .bind(agreement_id).fetch_all(p).await)?)
    }
}
