//! Joint meetings (党建联席会议): bodies and their seats, agenda items with their journey,
//! meetings with attendance and minutes, decisions and their assignments (each a case of the
//! loop). Every change is audited in the transaction that makes it; a step is written only from
//! the state it was computed from (else `StoreError::Conflict`, nothing written).

use chrono::{DateTime, NaiveDate, Utc};
use gongzhi_core::audit::AuditKey;
use gongzhi_core::cogov::meetings::{
    AgendaSource, AgendaState, AgendaStep, BodyDraft, DecisionDraft, ItemDraft, MeetingDraft, MeetingState, SeatDraft,
    SeatOrgKind,
};
use serde_json::json;

use super::audit;
use crate::db::{Db, Tx};
use crate::error::StoreError;

/// A body (大工委, 大党委, 联席会议 …) of a territory node.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Body {
    pub id: i64,
    pub kind: String,
    pub node_code: String,
    pub name: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A seat of a body: a person for an organization of the registry, in a role, for a term.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Seat {
    pub id: i64,
    pub body_id: i64,
    pub person: String,
    pub org_kind: String,
    pub org_id: i64,
    pub org_name: String,
    pub role: String,
    pub term_from: NaiveDate,
    pub term_to: Option<NaiveDate>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct ItemRow {
    id: i64,
    body_id: i64,
    title: String,
    description: String,
    source: String,
    source_ref: Option<String>,
    source_case_id: Option<i64>,
    state: String,
    reason: Option<String>,
    meeting_id: Option<i64>,
    raised_by: String,
    raised_at: DateTime<Utc>,
    changed_at: DateTime<Utc>,
}

/// An agenda item (议题) as stored.
#[derive(Debug, Clone)]
pub struct AgendaItem {
    pub id: i64,
    pub body_id: i64,
    pub title: String,
    pub description: String,
    pub source: AgendaSource,
    pub source_ref: Option<String>,
    /// The case it was raised from, when its source is a case.
    pub source_case_id: Option<i64>,
    pub state: AgendaState,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The meeting whose agenda it is on.
    pub meeting_id: Option<i64>,
    pub raised_by: String,
    pub raised_at: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
}

fn corrupt(what: &'static str, detail: String) -> StoreError {
    StoreError::Corrupt { what, detail }
}

impl TryFrom<ItemRow> for AgendaItem {
    type Error = StoreError;
    fn try_from(r: ItemRow) -> Result<AgendaItem, StoreError> {
        Ok(AgendaItem {
            state: AgendaState::parse(&r.state)
                .ok_or_else(|| corrupt("agenda item", format!("item {} state {}", r.id, r.state)))?,
            source: AgendaSource::parse(&r.source)
                .ok_or_else(|| corrupt("agenda item", format!("item {} source {}", r.id, r.source)))?,
            id: r.id,
            body_id: r.body_id,
            title: r.title,
            description: r.description,
            source_ref: r.source_ref,
            source_case_id: r.source_case_id,
            reason: r.reason,
            meeting_id: r.meeting_id,
            raised_by: r.raised_by,
            raised_at: r.raised_at,
            changed_at: r.changed_at,
        })
    }
}

/// One step of an item's journey: the state it reached, who and when, and a note (a reason).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JourneyStep {
    pub state: String,
    pub by_who: String,
    pub stepped_at: DateTime<Utc>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct MeetingRow {
    id: i64,
    body_id: i64,
    title: String,
    place: String,
    starts_at: DateTime<Utc>,
    state: String,
    minutes: Option<String>,
    convened_by: String,
    convened_at: DateTime<Utc>,
    changed_at: DateTime<Utc>,
}

/// A joint meeting as stored.
#[derive(Debug, Clone)]
pub struct Meeting {
    pub id: i64,
    pub body_id: i64,
    pub title: String,
    pub place: String,
    pub starts_at: DateTime<Utc>,
    pub state: MeetingState,
    pub minutes: Option<String>,
    pub convened_by: String,
    pub convened_at: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
}

impl TryFrom<MeetingRow> for Meeting {
    type Error = StoreError;
    fn try_from(r: MeetingRow) -> Result<Meeting, StoreError> {
        Ok(Meeting {
            state: MeetingState::parse(&r.state)
                .ok_or_else(|| corrupt("meeting", format!("meeting {} state {}", r.id, r.state)))?,
            id: r.id,
            body_id: r.body_id,
            title: r.title,
            place: r.place,
            starts_at: r.starts_at,
            minutes: r.minutes,
            convened_by: r.convened_by,
            convened_at: r.convened_at,
            changed_at: r.changed_at,
        })
    }
}

/// A seat's attendance at a meeting.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Attendance {
    pub seat_id: i64,
    pub present: bool,
}

/// A decision on an agenda item.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Decision {
    pub id: i64,
    pub meeting_id: i64,
    pub item_id: i64,
    pub body: String,
    pub due: NaiveDate,
    pub decided_by: String,
    pub decided_at: DateTime<Utc>,
}

/// A unit a decision assigned, and the case it has in the loop.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Assignment {
    pub id: i64,
    pub decision_id: i64,
    pub item_id: i64,
    pub unit: String,
    pub case_id: i64,
}

const BODY_COLUMNS: &str = "id, kind, node_code, name, created_by, created_at";
const SEAT_COLUMNS: &str =
    "id, body_id, person, org_kind, org_id, org_name, role, term_from, term_to, created_by, created_at";
const ITEM_COLUMNS: &str = "id, body_id, title, description, source, source_ref, source_case_id, state, reason, \
     meeting_id, raised_by, raised_at, changed_at";
const MEETING_COLUMNS: &str =
    "id, body_id, title, place, starts_at, state, minutes, convened_by, convened_at, changed_at";

/// Writes one step of an item's journey and moves it from `from` to `to` (in `tx`); nothing if
/// it is not in `from` any more (`Conflict`).
#[allow(clippy::too_many_arguments)]
async fn step_item_tx(
    tx: &mut Tx,
    item_id: i64,
    from: AgendaState,
    step: &AgendaStep,
    to: AgendaState,
    meeting_id: Option<i64>,
    by: &str,
    now: DateTime<Utc>,
    key: &AuditKey,
) -> Result<(), StoreError> {
    let changed = on_tx!(tx, conn => sqlx::query(
        "UPDATE cogov_agenda_items SET state = $1, reason = COALESCE($2, reason), meeting_id = COALESCE($3, meeting_id),
         changed_at = $4 WHERE id = $5 AND state = $6")
        .bind(to.as_str()).bind(step.reason()).bind(meeting_id).bind(now).bind(item_id).bind(from.as_str())
        .execute(conn).await.map(|r| r.rows_affected()))?;
    if changed == 0 {
        return Err(StoreError::Conflict {
            what: "agenda_item",
            id: item_id.to_string(),
        });
    }
    journey_tx(tx, item_id, to, by, now, step.reason()).await?;
    audit(
        tx,
        key,
        now,
        by,
        &format!("cogov.item.{}", step.name()),
        "agenda_item",
        &item_id.to_string(),
        json!({"from": from.as_str(), "to": to.as_str(), "reason": step.reason(), "meeting": meeting_id}),
    )
    .await
}

async fn journey_tx(
    tx: &mut Tx,
    item_id: i64,
    state: AgendaState,
    by: &str,
    now: DateTime<Utc>,
    note: Option<&str>,
) -> Result<(), StoreError> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO cogov_agenda_steps (item_id, state, by_who, stepped_at, note) VALUES ($1, $2, $3, $4, $5)")
        .bind(item_id).bind(state.as_str()).bind(by).bind(now).bind(note).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

impl Db {
    /// Creates a body of a node, audited; a body of the same name at the node is a `Conflict`.
    pub async fn create_body(
        &self,
        draft: &BodyDraft,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<i64, StoreError> {
        let node = draft.node.to_string();
        let mut tx = self.begin().await?;
        let taken: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "SELECT COUNT(*) FROM cogov_bodies WHERE node_code = $1 AND name = $2")
            .bind(&node).bind(&draft.name).fetch_one(conn).await)?;
        if taken > 0 {
            return Err(StoreError::Conflict {
                what: "body",
                id: draft.name.clone(),
            });
        }
        let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "INSERT INTO cogov_bodies (kind, node_code, name, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(&draft.kind).bind(&node).bind(&draft.name).bind(by).bind(now).fetch_one(conn).await)?;
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.body.create",
            "body",
            &id.to_string(),
            json!({"kind": draft.kind, "node": node, "name": draft.name}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn body(&self, id: i64) -> Result<Option<Body>, StoreError> {
        let sql = format!("SELECT {BODY_COLUMNS} FROM cogov_bodies WHERE id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?)
    }

    /// Every body, by node and id (the caller keeps those in reach; bodies are few).
    pub async fn bodies(&self) -> Result<Vec<Body>, StoreError> {
        let sql = format!("SELECT {BODY_COLUMNS} FROM cogov_bodies ORDER BY node_code, id LIMIT 2000");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?)
    }

    /// The name of an organization of the registry by its kind and id, if it exists.
    pub async fn seat_org_name(&self, kind: SeatOrgKind, id: i64) -> Result<Option<String>, StoreError> {
        let table = match kind {
            SeatOrgKind::PostedOffice => "posted_offices",
            SeatOrgKind::MemberOrganization => "member_organizations",
            SeatOrgKind::PropertyCompany => "property_companies",
            SeatOrgKind::OwnersCommittee => "owners_committees",
            SeatOrgKind::PartyOrganization => "party_organizations",
        };
        let sql = format!("SELECT name FROM {table} WHERE id = $1");
        Ok(on_pool!(self, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?)
    }

    /// Adds a seat to a body, audited.
    pub async fn add_seat(
        &self,
        body_id: i64,
        draft: &SeatDraft,
        org_name: &str,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "INSERT INTO cogov_seats (body_id, person, org_kind, org_id, org_name, role, term_from, term_to, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
            .bind(body_id).bind(&draft.person).bind(draft.org_kind.as_str()).bind(draft.org_id).bind(org_name)
            .bind(&draft.role).bind(draft.term_from).bind(draft.term_to).bind(by).bind(now).fetch_one(conn).await)?;
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.seat.add",
            "body",
            &body_id.to_string(),
            json!({"seat": id, "person": draft.person, "org_kind": draft.org_kind.as_str(), "org_id": draft.org_id,
                   "role": draft.role, "term_from": draft.term_from.to_string(),
                   "term_to": draft.term_to.map(|d| d.to_string())}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn seats_of(&self, body_id: i64) -> Result<Vec<Seat>, StoreError> {
        let sql = format!("SELECT {SEAT_COLUMNS} FROM cogov_seats WHERE body_id = $1 ORDER BY id");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(body_id).fetch_all(p).await)?)
    }

    /// Raises an agenda item to a body (state raised, the first step of its journey), audited.
    pub async fn raise_item(
        &self,
        body_id: i64,
        draft: &ItemDraft,
        source_case_id: Option<i64>,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "INSERT INTO cogov_agenda_items (body_id, title, description, source, source_ref, source_case_id, state, raised_by, raised_at, changed_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'raised', $7, $8, $8) RETURNING id")
            .bind(body_id).bind(&draft.title).bind(&draft.description).bind(draft.source.as_str())
            .bind(&draft.source_ref).bind(source_case_id).bind(by).bind(now).fetch_one(conn).await)?;
        journey_tx(&mut tx, id, AgendaState::Raised, by, now, None).await?;
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.item.raise",
            "agenda_item",
            &id.to_string(),
            json!({"body": body_id, "title": draft.title, "source": draft.source.as_str(),
                   "source_ref": draft.source_ref, "case": source_case_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Vets or rejects an item (from `item.state`, as read), audited.
    pub async fn step_item(
        &self,
        item: &AgendaItem,
        step: &AgendaStep,
        to: AgendaState,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        step_item_tx(&mut tx, item.id, item.state, step, to, None, by, now, key).await?;
        tx.commit().await
    }

    pub async fn agenda_item(&self, id: i64) -> Result<Option<AgendaItem>, StoreError> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM cogov_agenda_items WHERE id = $1");
        let row: Option<ItemRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
        row.map(AgendaItem::try_from).transpose()
    }

    async fn items_where(&self, column: &str, value: i64) -> Result<Vec<AgendaItem>, StoreError> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM cogov_agenda_items WHERE {column} = $1 ORDER BY id LIMIT 1000");
        let rows: Vec<ItemRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(value).fetch_all(p).await)?;
        rows.into_iter().map(AgendaItem::try_from).collect()
    }

    pub async fn items_of_body(&self, body_id: i64) -> Result<Vec<AgendaItem>, StoreError> {
        self.items_where("body_id", body_id).await
    }

    pub async fn items_of_meeting(&self, meeting_id: i64) -> Result<Vec<AgendaItem>, StoreError> {
        self.items_where("meeting_id", meeting_id).await
    }

    /// The items raised from a case.
    pub async fn items_of_case(&self, case_id: i64) -> Result<Vec<AgendaItem>, StoreError> {
        self.items_where("source_case_id", case_id).await
    }

    /// The journey of an item, in order.
    pub async fn journey(&self, item_id: i64) -> Result<Vec<JourneyStep>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT state, by_who, stepped_at, note FROM cogov_agenda_steps WHERE item_id = $1 ORDER BY stepped_at, state")
            .bind(item_id).fetch_all(p).await)?)
    }

    /// Convenes a meeting of a body with vetted items of that body on its agenda (each is
    /// scheduled), audited. An item not vetted (any more) or of another body: `Conflict` naming
    /// it, nothing written.
    pub async fn convene_meeting(
        &self,
        body_id: i64,
        draft: &MeetingDraft,
        items: &[i64],
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "INSERT INTO cogov_meetings (body_id, title, place, starts_at, state, convened_by, convened_at, changed_at)
             VALUES ($1, $2, $3, $4, 'convened', $5, $6, $6) RETURNING id")
            .bind(body_id).bind(&draft.title).bind(&draft.place).bind(draft.starts_at).bind(by).bind(now)
            .fetch_one(conn).await)?;
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.meeting.convene",
            "meeting",
            &id.to_string(),
            json!({"body": body_id, "title": draft.title, "place": draft.place,
                   "starts_at": draft.starts_at.to_rfc3339(), "items": items}),
        )
        .await?;
        for item in items {
            let of_body: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
                "SELECT COUNT(*) FROM cogov_agenda_items WHERE id = $1 AND body_id = $2")
                .bind(item).bind(body_id).fetch_one(conn).await)?;
            if of_body == 0 {
                return Err(StoreError::Unknown {
                    what: "agenda item",
                    id: item.to_string(),
                });
            }
            step_item_tx(
                &mut tx,
                *item,
                AgendaState::Vetted,
                &AgendaStep::Schedule,
                AgendaState::Scheduled,
                Some(id),
                by,
                now,
                key,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    pub async fn meeting(&self, id: i64) -> Result<Option<Meeting>, StoreError> {
        let sql = format!("SELECT {MEETING_COLUMNS} FROM cogov_meetings WHERE id = $1");
        let row: Option<MeetingRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
        row.map(Meeting::try_from).transpose()
    }

    pub async fn meetings_of(&self, body_id: i64) -> Result<Vec<Meeting>, StoreError> {
        let sql = format!("SELECT {MEETING_COLUMNS} FROM cogov_meetings WHERE body_id = $1 ORDER BY id DESC LIMIT 500");
        let rows: Vec<MeetingRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(body_id).fetch_all(p).await)?;
        rows.into_iter().map(Meeting::try_from).collect()
    }

    async fn meeting_to_tx(
        tx: &mut Tx,
        meeting: &Meeting,
        to: MeetingState,
        minutes: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let changed = on_tx!(tx, conn => sqlx::query(
            "UPDATE cogov_meetings SET state = $1, minutes = COALESCE($2, minutes), changed_at = $3 WHERE id = $4 AND state = $5")
            .bind(to.as_str()).bind(minutes).bind(now).bind(meeting.id).bind(meeting.state.as_str())
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StoreError::Conflict {
                what: "meeting",
                id: meeting.id.to_string(),
            });
        }
        Ok(())
    }

    /// Holds a convened meeting: its attendance by seat, and every item on its agenda discussed;
    /// audited.
    pub async fn hold_meeting(
        &self,
        meeting: &Meeting,
        attendance: &[(i64, bool)],
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        Self::meeting_to_tx(&mut tx, meeting, MeetingState::Held, None, now).await?;
        for (seat, present) in attendance {
            on_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO cogov_attendance (meeting_id, seat_id, present) VALUES ($1, $2, $3)")
                .bind(meeting.id).bind(seat).bind(present).execute(conn).await.map(|r| r.rows_affected()))?;
        }
        let present: Vec<i64> = attendance.iter().filter(|(_, p)| *p).map(|(s, _)| *s).collect();
        let absent: Vec<i64> = attendance.iter().filter(|(_, p)| !*p).map(|(s, _)| *s).collect();
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.meeting.hold",
            "meeting",
            &meeting.id.to_string(),
            json!({"present": present, "absent": absent}),
        )
        .await?;
        let items: Vec<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "SELECT id FROM cogov_agenda_items WHERE meeting_id = $1 AND state = 'scheduled' ORDER BY id")
            .bind(meeting.id).fetch_all(conn).await)?;
        for item in items {
            step_item_tx(
                &mut tx,
                item,
                AgendaState::Scheduled,
                &AgendaStep::Discuss,
                AgendaState::Discussed,
                None,
                by,
                now,
                key,
            )
            .await?;
        }
        tx.commit().await
    }

    pub async fn attendance(&self, meeting_id: i64) -> Result<Vec<Attendance>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT seat_id, present FROM cogov_attendance WHERE meeting_id = $1 ORDER BY seat_id")
            .bind(meeting_id).fetch_all(p).await)?)
    }

    /// Records a held meeting's decision on a discussed item of its agenda (the item decided),
    /// audited; gives the decision's id.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_decision(
        &self,
        meeting: &Meeting,
        item: &AgendaItem,
        draft: &DecisionDraft,
        units: &[String],
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        // The meeting must still be held when the decision is written.
        let held: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "SELECT COUNT(*) FROM cogov_meetings WHERE id = $1 AND state = 'held'")
            .bind(meeting.id).fetch_one(conn).await)?;
        if held == 0 {
            return Err(StoreError::Conflict {
                what: "meeting",
                id: meeting.id.to_string(),
            });
        }
        step_item_tx(
            &mut tx,
            item.id,
            item.state,
            &AgendaStep::Decide,
            AgendaState::Decided,
            None,
            by,
            now,
            key,
        )
        .await?;
        let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "INSERT INTO cogov_decisions (meeting_id, item_id, body, due, decided_by, decided_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(meeting.id).bind(item.id).bind(&draft.text).bind(draft.due).bind(by).bind(now)
            .fetch_one(conn).await)?;
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.decision.record",
            "meeting",
            &meeting.id.to_string(),
            json!({"decision": id, "item": item.id, "text": draft.text, "due": draft.due.to_string(), "units": units}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Keeps the cases a decision's units got and moves its item to assigned, audited.
    pub async fn assign_item(
        &self,
        decision: &Decision,
        cases: &[(String, i64)],
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for (unit, case_id) in cases {
            on_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO cogov_assignments (decision_id, item_id, unit, case_id) VALUES ($1, $2, $3, $4)")
                .bind(decision.id).bind(decision.item_id).bind(unit).bind(case_id).execute(conn).await.map(|r| r.rows_affected()))?;
        }
        step_item_tx(
            &mut tx,
            decision.item_id,
            AgendaState::Decided,
            &AgendaStep::Assign,
            AgendaState::Assigned,
            None,
            by,
            now,
            key,
        )
        .await?;
        tx.commit().await
    }

    pub async fn decisions_of(&self, meeting_id: i64) -> Result<Vec<Decision>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, meeting_id, item_id, body, due, decided_by, decided_at FROM cogov_decisions WHERE meeting_id = $1 ORDER BY id")
            .bind(meeting_id).fetch_all(p).await)?)
    }

    pub async fn decision_of_item(&self, item_id: i64) -> Result<Option<Decision>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, meeting_id, item_id, body, due, decided_by, decided_at FROM cogov_decisions WHERE item_id = $1")
            .bind(item_id).fetch_optional(p).await)?)
    }

    pub async fn assignments_of_item(&self, item_id: i64) -> Result<Vec<Assignment>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, decision_id, item_id, unit, case_id FROM cogov_assignments WHERE item_id = $1 ORDER BY id")
            .bind(item_id).fetch_all(p).await)?)
    }

    /// The assignment a case is, if it is one.
    pub async fn assignment_of_case(&self, case_id: i64) -> Result<Option<Assignment>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, decision_id, item_id, unit, case_id FROM cogov_assignments WHERE case_id = $1")
            .bind(case_id).fetch_optional(p).await)?)
    }

    /// Closes a held meeting with its minutes, audited.
    pub async fn close_meeting(
        &self,
        meeting: &Meeting,
        minutes: &str,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        Self::meeting_to_tx(&mut tx, meeting, MeetingState::Closed, Some(minutes), now).await?;
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.meeting.close",
            "meeting",
            &meeting.id.to_string(),
            json!({"minutes_chars": minutes.chars().count()}),
        )
        .await?;
        tx.commit().await
    }

    /// When every case of an assigned item is closed, the item is done (audited, `by` closed the
    /// last); true when this call completed it.
    pub async fn complete_item_if_closed(
        &self,
        item_id: i64,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let open: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "SELECT COUNT(*) FROM cogov_assignments a JOIN cases c ON c.id = a.case_id
             WHERE a.item_id = $1 AND c.state <> 'closed'")
            .bind(item_id).fetch_one(conn).await)?;
        if open > 0 {
            return Ok(false);
        }
        match step_item_tx(
            &mut tx,
            item_id,
            AgendaState::Assigned,
            &AgendaStep::Complete,
            AgendaState::Done,
            None,
            by,
            now,
            key,
        )
        .await
        {
            Ok(()) => {
                tx.commit().await?;
                Ok(true)
            }
            // Done already, or not assigned yet: nothing to do.
            Err(StoreError::Conflict { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Problems solved by joint meetings, per body: the `meeting` cases of its decisions, and
    /// how many of them are closed (`(body_id, cases, closed)`).
    pub async fn meeting_cases_by_body(&self) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        let sql = "SELECT i.body_id, COUNT(*), SUM(CASE WHEN c.state = 'closed' THEN 1 ELSE 0 END)
             FROM cogov_assignments a JOIN cases c ON c.id = a.case_id
             JOIN cogov_agenda_items i ON i.id = a.item_id
             WHERE c.channel = 'meeting' GROUP BY i.body_id ORDER BY i.body_id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }
}
