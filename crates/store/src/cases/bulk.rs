//! Many finished case histories in one transaction: the demo city's year of cases, imports.
//!
//! Each history is written exactly as `create_case` and `record_action` would have written it
//! step by step (the same columns, timeline bodies and audit entries, from the same helpers), but
//! with multi-row INSERTs and one move of the audit head per batch, which is what makes tens of
//! thousands of cases take seconds instead of minutes.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use gongzhi_core::cases::flow::{Case, Event};
use gongzhi_core::time::city_day;

use super::{
    CASE_INSERT_COLUMNS, CASE_INSERT_WIDTH, EVENT_INSERT_COLUMNS, EVENT_INSERT_WIDTH, NewCase, case_row_args,
    event_audit, event_body, event_row_args, report_audit, report_body,
};
use crate::db::{Backend, Db, Tx};
use crate::error::StoreError;
use crate::sql::{Arg, bind_args, values_sql};

/// A case from its report to where it stands: the report, the case as reported (revision 0),
/// the events the machine gave for each applied action in order, and the case after the last.
#[derive(Debug, Clone)]
pub struct CaseHistory {
    pub report: NewCase,
    pub reported: Case,
    pub events: Vec<Event>,
    pub current: Case,
}

impl CaseHistory {
    /// When the last thing happened to the case.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.events.last().map_or(self.reported.reported_at, |e| e.at)
    }
}

/// What a batch wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkReport {
    pub cases: usize,
    pub events: usize,
}

/// Cases per multi-row INSERT (24 values each: 9,600 parameters, under SQLite's 32,766).
const CASE_ROWS: usize = 400;
/// Timeline rows per multi-row INSERT (8 values each).
const EVENT_ROWS: usize = 1_000;

fn serial_of(case: &Case) -> u32 {
    case.number.as_str()[8..]
        .parse()
        .expect("a case number ends in 5 digits")
}

impl Db {
    /// Raises each day's last case serial to at least the given one, so that cases reported
    /// live continue after seeded ones. Never lowers a serial.
    pub async fn reserve_case_numbers(&self, days: &[(NaiveDate, u32)]) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        raise_serials(&mut tx, self.backend(), days).await?;
        tx.commit().await
    }

    /// Writes finished case histories in one transaction: the case rows, every timeline event,
    /// and one audit entry per event in the chain (the report first, then each action, case by
    /// case in the order given). The cases' numbers must be free; each day's serial is raised to
    /// the highest number written. All or nothing.
    pub async fn insert_case_histories(
        &self,
        histories: &[CaseHistory],
        audit_key: &gongzhi_core::audit::AuditKey,
    ) -> Result<BulkReport, StoreError> {
        if histories.is_empty() {
            return Ok(BulkReport::default());
        }
        let mut tx = self.begin().await?;

        // Case numbers: the highest serial of each day in the batch.
        let mut days: BTreeMap<NaiveDate, u32> = BTreeMap::new();
        for h in histories {
            let day = city_day(h.reported.reported_at);
            let serial = serial_of(&h.current);
            let e = days.entry(day).or_default();
            *e = (*e).max(serial);
        }
        let days: Vec<(NaiveDate, u32)> = days.into_iter().collect();
        raise_serials(&mut tx, self.backend(), &days).await?;

        // Case rows; ids come back with their numbers (a multi-row RETURNING promises no order).
        let mut ids: HashMap<String, i64> = HashMap::with_capacity(histories.len());
        for chunk in histories.chunks(CASE_ROWS) {
            let mut args = Vec::with_capacity(chunk.len() * CASE_INSERT_WIDTH);
            for h in chunk {
                args.extend(case_row_args(&h.report, &h.current, h.updated_at())?);
            }
            let sql = format!(
                "INSERT INTO cases ({CASE_INSERT_COLUMNS}) VALUES {} RETURNING id, case_no",
                values_sql(chunk.len(), CASE_INSERT_WIDTH)
            );
            let rows: Vec<(i64, String)> = on_tx!(&mut tx, conn =>
                bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &args).fetch_all(conn).await)?;
            ids.extend(rows.into_iter().map(|(id, no)| (no, id)));
        }

        // Timelines and their audit entries, in the same order.
        let mut rows: Vec<[Arg; EVENT_INSERT_WIDTH]> = Vec::new();
        let mut audit = Vec::new();
        for h in histories {
            let id = *ids.get(h.current.number.as_str()).ok_or_else(|| StoreError::Corrupt {
                what: "case",
                detail: format!("no id came back for {}", h.current.number),
            })?;
            let body = report_body(&h.report, &h.reported);
            let at = h.reported.reported_at;
            rows.push(event_row_args(
                id,
                0,
                at,
                &h.report.reporter,
                "report",
                None,
                h.reported.state.as_str(),
                &body,
            ));
            audit.push(report_audit(at, &h.report, &h.reported, body)?);
            for e in &h.events {
                let body = event_body(e)?;
                rows.push(event_row_args(
                    id,
                    e.revision,
                    e.at,
                    &e.account,
                    e.kind.as_str(),
                    Some(e.from.as_str()),
                    e.to.as_str(),
                    &body,
                ));
                audit.push(event_audit(e, body)?);
            }
        }
        for chunk in rows.chunks(EVENT_ROWS) {
            let sql = format!(
                "INSERT INTO case_events ({EVENT_INSERT_COLUMNS}) VALUES {}",
                values_sql(chunk.len(), EVENT_INSERT_WIDTH)
            );
            on_tx!(&mut tx, conn => bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql)), chunk.iter().flatten())
                .execute(conn).await.map(|r| r.rows_affected()))?;
        }
        let events = rows.len();
        drop(rows);
        // The chain's head is locked last, as in create_case, so live writers wait on it briefly.
        crate::audit::append_many(&mut tx, audit_key, audit).await?;
        tx.commit().await?;
        Ok(BulkReport {
            cases: histories.len(),
            events,
        })
    }

    /// How many cases there are (any state).
    pub async fn case_count(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_scalar("SELECT COUNT(*) FROM cases").fetch_one(p).await)?)
    }

    /// Grows the city for a benchmark (`gongzhi bench reads --grow-to`): `copies` more of every
    /// case and its timeline under new ids and numbers (same day, serial moved up by a stride
    /// above the busiest day's), one transaction per copy. The copies keep their originals' flows
    /// and have no audit entries, attachments or followers: they are there to be read, so that a
    /// list or an index lookup meets a city of that size. Loading a million cases through the
    /// demo's loader takes over an hour on a 2-core machine; this takes minutes.
    pub async fn grow_by_copies(&self, copies: i64) -> Result<BulkReport, StoreError> {
        let (originals, busiest): (i64, i64) = on_pool!(self, p => sqlx::query_as(
            "SELECT COALESCE(MAX(id), 0), COALESCE(MAX(CAST(SUBSTR(case_no, 9) AS BIGINT)), 0) FROM cases")
            .fetch_one(p).await)?;
        let stride = busiest + 1;
        if busiest + copies * stride > 99_999 {
            return Err(StoreError::CannotDo(format!(
                "{copies} copies of days with up to {busiest} cases do not fit five-digit serials"
            )));
        }
        let columns = super::CASE_INSERT_COLUMNS;
        // The copy's number, as text in both databases.
        let number = "CAST(CAST(case_no AS BIGINT) + $2 AS TEXT)";
        let copied = columns
            .replace("case_no,", &format!("{number},"))
            .replace(" flow,", &format!(" REPLACE(flow, case_no, {number}),"));
        let mut report = BulkReport::default();
        for k in 1..=copies {
            let mut tx = self.begin().await?;
            let cases_sql =
                format!("INSERT INTO cases (id, {columns}) SELECT id + $1, {copied} FROM cases WHERE id <= $3");
            let events_sql = format!(
                "INSERT INTO case_events ({cols}) SELECT case_id + $1, {rest} FROM case_events WHERE case_id <= $2",
                cols = super::EVENT_INSERT_COLUMNS,
                rest = super::EVENT_INSERT_COLUMNS.trim_start_matches("case_id, "),
            );
            let cases = on_tx!(&mut tx, conn => sqlx::query(sqlx::AssertSqlSafe(cases_sql))
                .bind(k * originals).bind(k * stride).bind(originals)
                .execute(conn).await.map(|r| r.rows_affected()))?;
            let events = on_tx!(&mut tx, conn => sqlx::query(sqlx::AssertSqlSafe(events_sql))
                .bind(k * originals).bind(originals)
                .execute(conn).await.map(|r| r.rows_affected()))?;
            tx.commit().await?;
            report.cases += cases as usize;
            report.events += events as usize;
        }
        on_pool!(self, p => sqlx::query("UPDATE case_numbers SET last_serial = last_serial + $1")
            .bind(copies * stride).execute(p).await.map(|_| ()))?;
        if self.backend() == Backend::Postgres {
            on_pool!(self, p => sqlx::query(
                "SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT MAX(id) FROM cases))")
                .execute(p).await.map(|_| ()))?;
        }
        Ok(report)
    }

    /// Refreshes the planner's statistics and, on PostgreSQL, the visibility map that index-only
    /// scans need: what autovacuum does after a bulk load, for servers that run without it.
    pub async fn vacuum_analyze(&self) -> Result<(), StoreError> {
        if self.backend() == Backend::Postgres {
            on_pool!(self, p => sqlx::query("VACUUM ANALYZE").execute(p).await.map(|_| ()))?;
        }
        Ok(())
    }
}

async fn raise_serials(tx: &mut Tx, backend: Backend, days: &[(NaiveDate, u32)]) -> Result<(), StoreError> {
    // The same statement in each database's spelling of "the larger of two".
    let sql = match backend {
        Backend::Sqlite => {
            "INSERT INTO case_numbers (day, last_serial) VALUES ($1, $2)
             ON CONFLICT (day) DO UPDATE SET last_serial = MAX(case_numbers.last_serial, excluded.last_serial)"
        }
        Backend::Postgres => {
            "INSERT INTO case_numbers (day, last_serial) VALUES ($1, $2)
             ON CONFLICT (day) DO UPDATE SET last_serial = GREATEST(case_numbers.last_serial, excluded.last_serial)"
        }
    };
    for (day, serial) in days {
        on_tx!(&mut *tx, conn => sqlx::query(sql).bind(*day).bind(i64::from(*serial))
            .execute(conn).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}
