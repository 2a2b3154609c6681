//! Residents' needs (居民点单): posted by a resident of a community (one form, one need: the
//! form's key), taken by community staff through the states of [`OrderState`]. Every change is
//! audited in its own transaction; a transition is written only from the state it was computed
//! from (else `StoreError::Conflict`).

use chrono::{DateTime, Utc};
use gongzhi_core::audit::AuditKey;
use gongzhi_core::cogov::orders::{OrderDraft, OrderState, OrderStep};
use gongzhi_core::people::resident::resident_actor;
use serde_json::json;

use super::audit;
use crate::db::Db;
use crate::error::StoreError;

#[derive(Debug, Clone, sqlx::FromRow)]
struct OrderRow {
    id: i64,
    community_code: String,
    resident_id: i64,
    kind: String,
    description: String,
    preferred_time: Option<String>,
    state: String,
    state_note: Option<String>,
    ordered_at: DateTime<Utc>,
    changed_by: Option<String>,
    changed_at: Option<DateTime<Utc>>,
}

/// A need as stored.
#[derive(Debug, Clone)]
pub struct Order {
    pub id: i64,
    pub community_code: String,
    pub resident_id: i64,
    pub kind: String,
    pub description: String,
    pub preferred_time: Option<String>,
    pub state: OrderState,
    /// The reason of a decline or the note of a fulfilment.
    pub state_note: Option<String>,
    pub ordered_at: DateTime<Utc>,
    pub changed_by: Option<String>,
    pub changed_at: Option<DateTime<Utc>>,
}

impl TryFrom<OrderRow> for Order {
    type Error = StoreError;
    fn try_from(r: OrderRow) -> Result<Order, StoreError> {
        Ok(Order {
            state: OrderState::parse(&r.state).ok_or_else(|| StoreError::Corrupt {
                what: "order",
                detail: format!("order {} state {}", r.id, r.state),
            })?,
            id: r.id,
            community_code: r.community_code,
            resident_id: r.resident_id,
            kind: r.kind,
            description: r.description,
            preferred_time: r.preferred_time,
            state_note: r.state_note,
            ordered_at: r.ordered_at,
            changed_by: r.changed_by,
            changed_at: r.changed_at,
        })
    }
}

const ORDER_COLUMNS: &str = "id, community_code, resident_id, kind, description, preferred_time, state, state_note, \
     ordered_at, changed_by, changed_at";

impl Db {
    /// Posts a resident's need to their community, audited. The same form sent again (same
    /// `key`) gives the need it made the first time; returns its id.
    pub async fn post_order(
        &self,
        resident_id: i64,
        community_code: &str,
        draft: &OrderDraft,
        key: &str,
        now: DateTime<Utc>,
        audit_key: &AuditKey,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let existing: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "SELECT id FROM cogov_orders WHERE resident_id = $1 AND idempotency_key = $2")
            .bind(resident_id).bind(key).fetch_optional(conn).await)?;
        if let Some(id) = existing {
            return Ok(id);
        }
        let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "INSERT INTO cogov_orders (community_code, resident_id, idempotency_key, kind, description, preferred_time, state, ordered_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'ordered', $7) RETURNING id")
            .bind(community_code).bind(resident_id).bind(key).bind(&draft.kind).bind(&draft.description)
            .bind(&draft.preferred_time).bind(now).fetch_one(conn).await)?;
        let actor = resident_actor(resident_id);
        audit(
            &mut tx,
            audit_key,
            now,
            &actor,
            "cogov.order.post",
            "order",
            &id.to_string(),
            json!({"community": community_code, "kind": draft.kind}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Takes a need one step (from `order.state`, as read), audited. If it changed since it was
    /// read, nothing is written and `StoreError::Conflict` says so.
    pub async fn transition_order(
        &self,
        order: &Order,
        step: &OrderStep,
        to: OrderState,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE cogov_orders SET state = $1, state_note = COALESCE($2, state_note), changed_by = $3, changed_at = $4
             WHERE id = $5 AND state = $6")
            .bind(to.as_str()).bind(step.text()).bind(by).bind(now).bind(order.id).bind(order.state.as_str())
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StoreError::Conflict {
                what: "order",
                id: order.id.to_string(),
            });
        }
        audit(
            &mut tx,
            key,
            now,
            by,
            &format!("cogov.order.{}", step.name()),
            "order",
            &order.id.to_string(),
            json!({"from": order.state.as_str(), "to": to.as_str(), "text": step.text()}),
        )
        .await?;
        tx.commit().await
    }

    pub async fn order(&self, id: i64) -> Result<Option<Order>, StoreError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM cogov_orders WHERE id = $1");
        let row: Option<OrderRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
        row.map(Order::try_from).transpose()
    }

    /// A resident's needs, newest first.
    pub async fn orders_of_resident(&self, resident_id: i64) -> Result<Vec<Order>, StoreError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM cogov_orders WHERE resident_id = $1 ORDER BY id DESC LIMIT 200");
        let rows: Vec<OrderRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(resident_id).fetch_all(p).await)?;
        rows.into_iter().map(Order::try_from).collect()
    }

    /// The latest needs of every community, newest first; the caller keeps those in reach.
    pub async fn latest_orders(&self, limit: i64) -> Result<Vec<Order>, StoreError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM cogov_orders ORDER BY id DESC LIMIT $1");
        let rows: Vec<OrderRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(p).await)?;
        rows.into_iter().map(Order::try_from).collect()
    }
}
