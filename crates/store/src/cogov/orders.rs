//! Residents' needs (居民点单): posted by a resident of a community (one form, one need: the
//! form's key), taken by community staff through the states of [`OrderState`]; once published, a
//! case of the loop, taken by a member organization and rated by the resident. Every change is
//! audited in its own transaction; a transition is written only from the state it was computed
//! from (else `StoreError::Conflict`).

use chrono::{DateTime, NaiveDate, Utc};
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
    case_id: Option<i64>,
    due: Option<NaiveDate>,
    taker_org_id: Option<i64>,
    taken_by: Option<String>,
    taken_at: Option<DateTime<Utc>>,
    rating: Option<String>,
    rating_comment: Option<String>,
    taker_rating: Option<String>,
    taker_comment: Option<String>,
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
    /// Once published: its case in the loop and the date to deliver by.
    pub case_id: Option<i64>,
    pub due: Option<NaiveDate>,
    /// Once taken: the member organization, its liaison and when.
    pub taker_org_id: Option<i64>,
    pub taken_by: Option<String>,
    pub taken_at: Option<DateTime<Utc>>,
    /// The resident's rating of the taker (satisfied, basically_satisfied, not_satisfied).
    pub rating: Option<String>,
    pub rating_comment: Option<String>,
    /// The taker's rating back (双向评议).
    pub taker_rating: Option<String>,
    pub taker_comment: Option<String>,
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
            case_id: r.case_id,
            due: r.due,
            taker_org_id: r.taker_org_id,
            taken_by: r.taken_by,
            taken_at: r.taken_at,
            rating: r.rating,
            rating_comment: r.rating_comment,
            taker_rating: r.taker_rating,
            taker_comment: r.taker_comment,
        })
    }
}

/// Who rates a need: the resident who ordered it, or the organization that took it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatingSide {
    Resident,
    Taker,
}

const ORDER_COLUMNS: &str = "id, community_code, resident_id, kind, description, preferred_time, state, state_note, \
     ordered_at, changed_by, changed_at, case_id, due, taker_org_id, taken_by, taken_at, rating, rating_comment, \
     taker_rating, taker_comment";

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

    /// Publishes a listed need (社区发单): it is `case_id` in the loop from now on, to be delivered
    /// by `due`. Written only from `listed` (else `StoreError::Conflict`), audited.
    pub async fn publish_order(
        &self,
        order: &Order,
        case_id: i64,
        due: NaiveDate,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE cogov_orders SET state = 'published', case_id = $1, due = $2, changed_by = $3, changed_at = $4
             WHERE id = $5 AND state = 'listed'")
            .bind(case_id).bind(due).bind(by).bind(now).bind(order.id)
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
            "cogov.order.publish",
            "order",
            &order.id.to_string(),
            json!({"from": order.state.as_str(), "to": "published", "case": case_id, "due": due.to_string()}),
        )
        .await?;
        tx.commit().await
    }

    /// Records that member organization `org` took a published need, by its liaison `by`: only
    /// while nobody else has (the same organization again is a retry and changes nothing; another
    /// gives `StoreError::Conflict`). Audited.
    pub async fn take_order(
        &self,
        order_id: i64,
        org: i64,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE cogov_orders SET taker_org_id = $1, taken_by = $2, taken_at = $3
             WHERE id = $4 AND state = 'published' AND taker_org_id IS NULL")
            .bind(org).bind(by).bind(now).bind(order_id)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if changed == 0 {
            let taker: Option<Option<i64>> = on_tx!(&mut tx, conn => sqlx::query_scalar(
                "SELECT taker_org_id FROM cogov_orders WHERE id = $1").bind(order_id).fetch_optional(conn).await)?;
            return match taker {
                Some(Some(t)) if t == org => Ok(()),
                _ => Err(StoreError::Conflict {
                    what: "order",
                    id: order_id.to_string(),
                }),
            };
        }
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.order.take",
            "order",
            &order_id.to_string(),
            json!({"organization": org}),
        )
        .await?;
        tx.commit().await
    }

    /// Follows a published need's case: sets the state read from it, when it differs (audited
    /// under `by`, who moved the case). A taker whose case came back to the command centre is
    /// let go, so that another may take it.
    pub async fn follow_order_case(
        &self,
        order_id: i64,
        to: OrderState,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let from: Option<String> = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "SELECT state FROM cogov_orders WHERE id = $1").bind(order_id).fetch_optional(conn).await)?;
        let Some(from) = from else {
            return Ok(false);
        };
        if from == to.as_str() {
            return Ok(false);
        }
        let release = to == OrderState::Published;
        on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE cogov_orders SET state = $1, changed_by = $2, changed_at = $3,
                 taker_org_id = CASE WHEN $4 THEN NULL ELSE taker_org_id END
             WHERE id = $5 AND state = $6")
            .bind(to.as_str()).bind(by).bind(now).bind(release).bind(order_id).bind(&from)
            .execute(conn).await.map(|_| ()))?;
        audit(
            &mut tx,
            key,
            now,
            by,
            &format!("cogov.order.{}", to.as_str()),
            "order",
            &order_id.to_string(),
            json!({"from": from, "to": to.as_str(), "by_case": true}),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A rating of a need, once per side (else `StoreError::Conflict`), audited under `by`: the
    /// resident's of the taker (the need is then `rated`) or the taker's back (双向评议).
    #[allow(clippy::too_many_arguments)]
    pub async fn rate_order(
        &self,
        order: &Order,
        side: RatingSide,
        rating: &str,
        comment: Option<&str>,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let (changed, action) = match side {
            RatingSide::Resident => (
                on_tx!(&mut tx, conn => sqlx::query(
                    "UPDATE cogov_orders SET rating = $1, rating_comment = $2, state = 'rated', changed_by = $3, changed_at = $4
                     WHERE id = $5 AND rating IS NULL")
                    .bind(rating).bind(comment).bind(by).bind(now).bind(order.id)
                    .execute(conn).await.map(|r| r.rows_affected()))?,
                "cogov.order.rate",
            ),
            RatingSide::Taker => (
                on_tx!(&mut tx, conn => sqlx::query(
                    "UPDATE cogov_orders SET taker_rating = $1, taker_comment = $2 WHERE id = $3 AND taker_rating IS NULL")
                    .bind(rating).bind(comment).bind(order.id)
                    .execute(conn).await.map(|r| r.rows_affected()))?,
                "cogov.order.rate_back",
            ),
        };
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
            action,
            "order",
            &order.id.to_string(),
            json!({"rating": rating, "taker": order.taker_org_id}),
        )
        .await?;
        tx.commit().await
    }

    /// The need a case of the loop was published for, if any.
    pub async fn order_of_case(&self, case_id: i64) -> Result<Option<Order>, StoreError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM cogov_orders WHERE case_id = $1");
        let row: Option<OrderRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(case_id).fetch_optional(p).await)?;
        row.map(Order::try_from).transpose()
    }

    /// Needs published in the communities under `within` (a subtree prefix) that nobody took
    /// yet, oldest first: what a member organization there is offered.
    pub async fn orders_offered(&self, within: &str, limit: i64) -> Result<Vec<Order>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM cogov_orders
             WHERE state = 'published' AND taker_org_id IS NULL AND community_code LIKE $1 ORDER BY id LIMIT $2"
        );
        let rows: Vec<OrderRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(format!("{within}%")).bind(limit).fetch_all(p).await)?;
        rows.into_iter().map(Order::try_from).collect()
    }

    /// The needs member organization `org` took, newest first.
    pub async fn orders_taken_by(&self, org: i64, limit: i64) -> Result<Vec<Order>, StoreError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM cogov_orders WHERE taker_org_id = $1 ORDER BY id DESC LIMIT $2");
        let rows: Vec<OrderRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(org).bind(limit).fetch_all(p).await)?;
        rows.into_iter().map(Order::try_from).collect()
    }

    /// How many needs are in each state, in the communities under `within`: the counts the
    /// metrics read (fulfilled = fulfilled + certified + rated).
    pub async fn order_counts(&self, within: &str) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT state, COUNT(*) FROM cogov_orders WHERE community_code LIKE $1 GROUP BY state ORDER BY state")
            .bind(format!("{within}%")).fetch_all(p).await)?)
    }
}
