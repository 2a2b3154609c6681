//! Cases: creation with a daily number and idempotency keys, actions recorded against the
//! revision they were computed from, the timeline, and filtered listing with cursors.

pub mod attachment;
pub mod bulk;
pub mod followers;
pub mod intake;
pub mod map;
pub mod patrols;
pub mod updates;

use chrono::{DateTime, NaiveDate, Utc};
use gongzhi_core::audit::{AuditKey, NewAuditEntry};
use gongzhi_core::cases::UnitRef;
use gongzhi_core::cases::attachment::AttachmentId;
use gongzhi_core::cases::flow::{Applied, Case, CaseNumber, Event, State, next_deadline};
use gongzhi_core::cases::inbox::{InboxQuery, UnitMatch};
use gongzhi_core::time::city_day;
use serde::Serialize;
use serde_json::{Value, json};

use crate::db::{Backend, Db, Tx};
use crate::error::StoreError;
use crate::sql::{Arg, bind_args, values_sql};

/// Where a case is, resolved at intake.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CaseLocation {
    pub grid: Option<String>,
    pub community: Option<String>,
    pub street: Option<String>,
    pub district: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub address: Option<String>,
}

/// A case as reported, before it has a number.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub channel: String,
    pub description: String,
    pub location: CaseLocation,
    pub reporter: String,
    /// Extra facts of the report kept on its first timeline entry (routing proposal, duplicates
    /// offered …).
    pub report_detail: Value,
    /// A hash of the request as its client sent it, kept beside its idempotency key: the same key
    /// with another request is refused by the application, not answered with this case.
    pub request_hash: Option<String>,
}

/// A stored case: the report's facts and the machine's view.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRecord {
    pub id: i64,
    pub channel: String,
    pub description: String,
    pub location: CaseLocation,
    pub reporter: String,
    pub flow: Case,
    pub reported_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct CaseRow {
    id: i64,
    channel: String,
    description: String,
    address: Option<String>,
    lon: Option<f64>,
    lat: Option<f64>,
    grid_code: Option<String>,
    community_code: Option<String>,
    street_code: Option<String>,
    district_code: Option<String>,
    reporter: String,
    flow: String,
    reported_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const CASE_COLUMNS: &str = "id, channel, description, address, lon, lat, grid_code, community_code, street_code, \
     district_code, reporter, flow, reported_at, updated_at";

// The queries that read one case (`GET /api/v1/cases/{id}` and its page), named so that a test can
// look at their plans on both databases ([`case_read_queries`]).
fn case_by_id_sql() -> String {
    format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1")
}

fn case_by_number_sql() -> String {
    format!("SELECT {CASE_COLUMNS} FROM cases WHERE case_no = $1")
}

/// Answered from the partial index `cases_merged_into` (migration 0020); without it every view of
/// a case read every case.
fn merged_into_sql() -> String {
    format!("SELECT {CASE_COLUMNS} FROM cases WHERE merged_into = $1 ORDER BY id")
}

const CASE_EVENTS_SQL: &str = "SELECT revision, at, account, kind, from_state, to_state, body FROM case_events
     WHERE case_id = $1 ORDER BY revision";

/// The queries that read one case, by name, with the values to run them with: the case by id and
/// by number, its timeline, its followers, the duplicates merged into it.
pub(crate) fn case_read_queries(case_id: i64, number: &str) -> Vec<(&'static str, String, Vec<Arg>)> {
    let text = |s: &str| Arg::Text(Some(s.to_string()));
    vec![
        ("case_by_id", case_by_id_sql(), vec![Arg::Int(case_id)]),
        ("case_by_number", case_by_number_sql(), vec![text(number)]),
        ("case_events", CASE_EVENTS_SQL.to_string(), vec![Arg::Int(case_id)]),
        (
            "follower_count",
            followers::FOLLOWER_COUNT_SQL.to_string(),
            vec![Arg::Int(case_id)],
        ),
        ("merged_into", merged_into_sql(), vec![text(number)]),
    ]
}

impl TryFrom<CaseRow> for CaseRecord {
    type Error = StoreError;
    fn try_from(r: CaseRow) -> Result<CaseRecord, StoreError> {
        let flow: Case = serde_json::from_str(&r.flow).map_err(|e| StoreError::Corrupt {
            what: "case flow",
            detail: e.to_string(),
        })?;
        Ok(CaseRecord {
            id: r.id,
            channel: r.channel,
            description: r.description,
            location: CaseLocation {
                grid: r.grid_code,
                community: r.community_code,
                street: r.street_code,
                district: r.district_code,
                lon: r.lon,
                lat: r.lat,
                address: r.address,
            },
            reporter: r.reporter,
            flow,
            reported_at: r.reported_at,
            updated_at: r.updated_at,
        })
    }
}

/// A case as Open311 lists it: the columns kept beside the flow for listing (`lead_unit` as
/// [`unit_key`] writes it).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseBrief {
    pub case_no: String,
    pub state: String,
    pub matter: String,
    pub description: String,
    pub lead_unit: Option<String>,
    pub address: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub next_deadline: Option<DateTime<Utc>>,
    pub reported_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// One entry of a case's timeline, as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StoredEvent {
    pub revision: i32,
    pub at: DateTime<Utc>,
    pub account: String,
    pub kind: String,
    pub from_state: Option<String>,
    pub to_state: String,
    #[serde(skip)]
    pub body: String,
}

impl StoredEvent {
    pub fn body(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// How a unit is written in the `lead_unit` column: `department:housing`, `territory:…`,
/// `grid_worker:…`.
pub fn unit_key(unit: &UnitRef) -> String {
    unit.key()
}

fn text_of<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// The outcome of a submission: a new case, or the case a retried key already created.
#[derive(Debug, Clone)]
pub enum Created {
    New(CaseRecord),
    Replayed(CaseRecord),
}

/// Filters of `GET /api/v1/cases`. Empty means "all".
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub states: Vec<String>,
    /// Code prefix of a territory subtree.
    pub within_prefix: Option<String>,
    pub matter: Option<String>,
    pub lead_unit: Option<String>,
    pub channel: Option<String>,
    pub overdue: Option<bool>,
    pub supervised: Option<bool>,
    pub reported_from: Option<DateTime<Utc>>,
    pub reported_to: Option<DateTime<Utc>>,
    /// Only cases with an id below this (the cursor of the previous page).
    pub before_id: Option<i64>,
    /// Only the cases of an inbox.
    pub inbox: Option<InboxQuery>,
    /// Any of these matters (Open311 `service_code=a,b`); with `matter`, both must hold.
    pub matters: Vec<String>,
    /// Any of these outcomes (`open`, `closed`, `fixed`).
    pub outcomes: Vec<String>,
    /// Changed at or after (`updated_at`).
    pub updated_from: Option<DateTime<Utc>>,
    /// Changed before (`updated_at`).
    pub updated_to: Option<DateTime<Utc>>,
}

/// The order of a listing page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaseSort {
    #[default]
    Newest,
    Oldest,
    /// The nearest next deadline first; cases without one last.
    Deadline,
    /// The latest reported first (Open311's list, whose window is of report times: the
    /// `(reported_at, id)` index gives the window in this order).
    Reported,
}

impl CaseSort {
    /// The order of the numbered (offset) pages: the same as the keyset pages walk (see
    /// [`Db::list_cases_keyset`]); without a deadline, newest first.
    fn order_by(self) -> &'static str {
        match self {
            CaseSort::Newest => "id DESC",
            CaseSort::Oldest => "id ASC",
            CaseSort::Reported => "reported_at DESC, id DESC",
            CaseSort::Deadline => {
                "CASE WHEN next_deadline IS NULL THEN 1 ELSE 0 END, next_deadline, \
                 CASE WHEN next_deadline IS NULL THEN -id ELSE id END"
            }
        }
    }
}

impl CaseSort {
    /// The column a keyset key carries beside the id.
    fn key_column(self) -> &'static str {
        match self {
            CaseSort::Reported => "reported_at",
            _ => "next_deadline",
        }
    }

    fn key_column_is_time(self) -> bool {
        matches!(self, CaseSort::Deadline | CaseSort::Reported)
    }
}

/// Counts stop here: beyond it a list says "more than 10,000" (an exact count of a broad filter
/// reads every matching row on every request, and grows with the city).
pub const COUNT_CAP: i64 = 10_000;

/// Where a keyset page starts: just after this case in the list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseKey {
    pub id: i64,
    /// In the deadline order, the case's next deadline as stored; `None` for the cases without one,
    /// which come after every case with one, newest first.
    pub deadline: Option<DateTime<Utc>>,
}

impl CaseKey {
    /// The key as a link or the API carries it: the id alone in the id orders (the API's cursor
    /// before keys had other parts), `deadline-in-nanoseconds.id` or `-.id` in the deadline order.
    pub fn encode(&self, sort: CaseSort) -> String {
        match (sort, self.deadline) {
            (CaseSort::Newest | CaseSort::Oldest, _) => self.id.to_string(),
            (CaseSort::Deadline | CaseSort::Reported, Some(d)) => {
                format!("{}.{}", d.timestamp_nanos_opt().unwrap_or(i64::MAX), self.id)
            }
            (CaseSort::Deadline | CaseSort::Reported, None) => format!("-.{}", self.id),
        }
    }

    /// The key [`CaseKey::encode`] wrote for `sort`; `None` for anything else.
    pub fn parse(text: &str, sort: CaseSort) -> Option<CaseKey> {
        match sort {
            CaseSort::Newest | CaseSort::Oldest => text.parse().ok().map(|id| CaseKey { id, deadline: None }),
            CaseSort::Deadline | CaseSort::Reported => {
                let (deadline, id) = text.split_once('.')?;
                let id = id.parse().ok()?;
                let deadline = match deadline {
                    "-" => None,
                    nanos => Some(DateTime::from_timestamp_nanos(nanos.parse().ok()?)),
                };
                Some(CaseKey { id, deadline })
            }
        }
    }
}

#[derive(sqlx::FromRow)]
struct KeyedRow {
    #[sqlx(flatten)]
    row: CaseRow,
    key_deadline: Option<DateTime<Utc>>,
}

/// The smallest digit string above every code that starts with `prefix`: `2308` → `2309`,
/// `2309` → `231`; `None` for all nines (nothing is above).
fn next_prefix(prefix: &str) -> Option<String> {
    let mut digits: Vec<u8> = prefix.bytes().collect();
    while let Some(last) = digits.pop() {
        if last < b'9' {
            digits.push(last + 1);
            return String::from_utf8(digits).ok();
        }
    }
    None
}

/// A page of `columns`, `limit` rows from `offset` in `order`. When rows are skipped, the page is
/// chosen by id in a subquery (a "deferred join"): the skipped rows are read from an index that
/// covers the filter, such as `(id, node_code)` for the city-wide list, not from the table rows
/// with each case's flow (page 200 of the city: 13 ms → 1.6 ms on SQLite).
fn page_sql(columns: &str, condition: &str, order: &str, limit: i64, offset: i64) -> String {
    if offset > 0 {
        format!(
            "SELECT {columns} FROM cases WHERE id IN
             (SELECT id FROM cases WHERE {condition} ORDER BY {order} LIMIT {limit} OFFSET {offset})
             ORDER BY {order}"
        )
    } else {
        format!("SELECT {columns} FROM cases WHERE {condition} ORDER BY {order} LIMIT {limit}")
    }
}

/// The longest territory prefix read as a broad subtree: a street's (`230903011`).
const BROAD_PREFIX: usize = 9;

/// A WHERE clause under construction: conditions with `?` become `$n` as values are added.
#[derive(Default)]
struct Where {
    conditions: Vec<String>,
    binds: Vec<Arg>,
    /// For SQLite, which keeps no statistics (see [`Where::subtree`]).
    sqlite: bool,
}

impl Where {
    fn add(&mut self, condition: &str, value: Arg) {
        self.binds.push(value);
        self.conditions
            .push(condition.replace('?', &format!("${}", self.binds.len())));
    }

    fn raw(&mut self, condition: &str) {
        self.conditions.push(condition.to_string());
    }

    /// Binds a value and returns its placeholder.
    fn bind(&mut self, value: Arg) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    /// The nodes under a territory code prefix, as a range both databases answer from the
    /// `node_code` index (`LIKE 'p%'` is a scan in SQLite). The range ends at the next prefix of
    /// digits (`2309` → `231`), which sorts the same under any collation, unlike punctuation.
    ///
    /// On SQLite, a city's, district's or street's subtree (a prefix of up to 9 digits), which
    /// holds a large share of the cases, is written so that no index serves it
    /// (`node_code || ''`): the database walks the list's order (an index on the other filters,
    /// or the ids) and skips the few cases outside, instead of reading every case of the subtree
    /// to sort them. SQLite keeps no statistics that would tell it so (issue 15: the city-wide
    /// list sorted all its cases); PostgreSQL does, and estimates such an expression at 0.5 % of
    /// the rows (then sorts every match of the other filters): it keeps the plain column.
    ///
    /// On PostgreSQL the bounds are written into the statement (they are digits only) rather
    /// than bound: a prepared statement's generic plan, which the server settles on after five
    /// runs, estimates a range of parameters at 0.5 % of the rows, and so read every case of a
    /// matter to sort them (city-wide `matter=`: 91 ms) or every case of the city to skip to a
    /// deep page (13 ms), where the literal range lets it walk the ids (1.4 ms, 1.9 ms). Each
    /// scope is then a statement of its own in the connection's cache.
    fn subtree(&mut self, prefix: &str) -> String {
        if prefix.is_empty() {
            return "TRUE".to_string();
        }
        let column = if self.sqlite && prefix.len() <= BROAD_PREFIX {
            "(node_code || '')"
        } else {
            "node_code"
        };
        let inline = !self.sqlite && prefix.bytes().all(|b| b.is_ascii_digit());
        let mut value = |v: String| {
            if inline {
                format!("'{v}'")
            } else {
                self.bind(Arg::Text(Some(v)))
            }
        };
        let from = value(prefix.to_string());
        match next_prefix(prefix) {
            Some(next) => {
                let to = value(next);
                format!("({column} >= {from} AND {column} < {to})")
            }
            None => format!("{column} >= {from}"),
        }
    }

    /// `(a OR b …)` of `column op value` for each value.
    fn any(&mut self, items: Vec<(&str, Arg)>) -> String {
        let parts: Vec<String> = items
            .into_iter()
            .map(|(condition, value)| {
                let placeholder = self.bind(value);
                condition.replace('?', &placeholder)
            })
            .collect();
        format!("({})", parts.join(" OR "))
    }

    /// The cases of an inbox: any of its clauses.
    fn inbox(&mut self, q: &InboxQuery, now: DateTime<Utc>) {
        let text = |s: String| Arg::Text(Some(s));
        let unit = |u: &UnitMatch| match u {
            UnitMatch::Exact(k) => ("lead_unit = ?", text(k.clone())),
            UnitMatch::Prefix(p) => ("lead_unit LIKE ?", text(format!("{p}%"))),
        };
        let mut alternatives = Vec::new();
        for c in &q.clauses {
            let mut parts = Vec::new();
            let all_open = State::ALL.iter().filter(|s| s.is_open()).all(|s| c.states.contains(s))
                && c.states.iter().all(|s| s.is_open());
            if all_open {
                parts.push("outcome = 'open'".to_string());
            } else if !c.states.is_empty() {
                let states = c.states.iter().map(|s| ("state = ?", text(s.as_str().to_string())));
                parts.push(self.any(states.collect()));
            }
            if !c.within.is_empty() {
                let subtrees: Vec<String> = c.within.iter().map(|p| self.subtree(p)).collect();
                parts.push(format!("({})", subtrees.join(" OR ")));
            }
            if !c.lead_units.is_empty() {
                parts.push(self.any(c.lead_units.iter().map(unit).collect()));
            }
            if !c.not_lead_units.is_empty() {
                let own = self.any(c.not_lead_units.iter().map(unit).collect());
                parts.push(format!("(lead_unit IS NULL OR NOT {own})"));
            }
            if !c.pending.is_empty() {
                let kinds = c
                    .pending
                    .iter()
                    .map(|k| ("pending_requests LIKE ?", text(format!("%,{},%", text_of(k)))));
                parts.push(self.any(kinds.collect()));
            }
            if !c.summoned.is_empty() {
                let units = c
                    .summoned
                    .iter()
                    .map(|u| ("summoned LIKE ?", text(format!("%,{},%", u.key()))));
                parts.push(self.any(units.collect()));
            }
            if c.overdue {
                let at = self.bind(Arg::Time(Some(now)));
                parts.push(format!("next_deadline < {at}"));
            }
            if c.supervised {
                parts.push("supervision IS NOT NULL".to_string());
            }
            alternatives.push(if parts.is_empty() {
                "TRUE".to_string()
            } else {
                parts.join(" AND ")
            });
        }
        if alternatives.is_empty() {
            self.raw("FALSE");
        } else {
            self.conditions.push(format!("(({}))", alternatives.join(") OR (")));
        }
    }

    fn any_of(&mut self, column: &str, values: &[String]) {
        let mut placeholders = Vec::new();
        for v in values {
            self.binds.push(Arg::Text(Some(v.clone())));
            placeholders.push(format!("${}", self.binds.len()));
        }
        self.conditions
            .push(format!("{column} IN ({})", placeholders.join(", ")));
    }

    fn finish(self) -> (String, Vec<Arg>) {
        let clause = if self.conditions.is_empty() {
            "TRUE".to_string()
        } else {
            self.conditions.join(" AND ")
        };
        (clause, self.binds)
    }
}

impl CaseFilter {
    /// The WHERE clause and its values for `backend` (the list's cursor is the caller's; see
    /// [`Where::subtree`] for what differs between the databases).
    fn clause(&self, now: DateTime<Utc>, backend: Backend) -> (String, Vec<Arg>) {
        let mut w = Where {
            sqlite: backend == Backend::Sqlite,
            ..Where::default()
        };
        if !self.states.is_empty() {
            w.any_of("state", &self.states);
        }
        if let Some(p) = &self.within_prefix {
            let subtree = w.subtree(p);
            w.raw(&subtree);
        }
        if let Some(m) = &self.matter {
            w.add("matter = ?", Arg::Text(Some(m.clone())));
        }
        if let Some(u) = &self.lead_unit {
            w.add("lead_unit = ?", Arg::Text(Some(u.clone())));
        }
        if let Some(c) = &self.channel {
            w.add("channel = ?", Arg::Text(Some(c.clone())));
        }
        match self.overdue {
            Some(true) => w.add("outcome = 'open' AND next_deadline < ?", Arg::Time(Some(now))),
            Some(false) => w.add(
                "NOT (outcome = 'open' AND COALESCE(next_deadline < ?, FALSE))",
                Arg::Time(Some(now)),
            ),
            None => {}
        }
        match self.supervised {
            Some(true) => w.raw("supervision IS NOT NULL"),
            Some(false) => w.raw("supervision IS NULL"),
            None => {}
        }
        if let Some(t) = self.reported_from {
            w.add("reported_at >= ?", Arg::Time(Some(t)));
        }
        if let Some(t) = self.reported_to {
            w.add("reported_at < ?", Arg::Time(Some(t)));
        }
        if let Some(q) = &self.inbox {
            w.inbox(q, now);
        }
        if !self.matters.is_empty() {
            w.any_of("matter", &self.matters);
        }
        if !self.outcomes.is_empty() {
            w.any_of("outcome", &self.outcomes);
        }
        if let Some(t) = self.updated_from {
            w.add("updated_at >= ?", Arg::Time(Some(t)));
        }
        if let Some(t) = self.updated_to {
            w.add("updated_at < ?", Arg::Time(Some(t)));
        }
        w.finish()
    }
}

impl CaseFilter {
    /// With a reported-time window (`from`/`to`), the ids it spans, as a condition: a list in id
    /// order then starts at the window's last id instead of sorting the window's rows (SQLite:
    /// a month of 50,000 cases a year, 34 ms → 0.6 ms) or walking every newer id (PostgreSQL:
    /// 52–108 ms → 1.3–5 ms). The ids come from `(reported_at, id)` alone; PostgreSQL is kept
    /// from computing MIN/MAX along the primary key (`OFFSET 0`). Both bounds are of the window
    /// itself, so the condition only narrows what the window already holds (NULL, none, when the
    /// window is empty).
    fn reported_ids(&self, backend: Backend, binds: &mut Vec<Arg>) -> Option<String> {
        let mut window = Vec::new();
        for (op, t) in [(">=", self.reported_from), ("<", self.reported_to)] {
            if let Some(t) = t {
                binds.push(Arg::Time(Some(t)));
                window.push(format!("reported_at {op} ${}", binds.len()));
            }
        }
        if window.is_empty() {
            return None;
        }
        let window = window.join(" AND ");
        let ids = match backend {
            Backend::Sqlite => format!("cases WHERE {window}"),
            Backend::Postgres => format!("(SELECT id FROM cases WHERE {window} OFFSET 0) AS w"),
        };
        Some(format!(
            "id BETWEEN (SELECT MIN(id) FROM {ids}) AND (SELECT MAX(id) FROM {ids})"
        ))
    }
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub struct CasePage {
    pub cases: Vec<CaseRecord>,
    /// How many cases match, at most [`COUNT_CAP`].
    pub total: i64,
    /// `false` when more than `total` cases match (the count stopped at [`COUNT_CAP`]).
    pub total_exact: bool,
    /// Where the next page starts (its first case follows this one); `None` on the last page.
    pub next: Option<CaseKey>,
    /// The id of `next`: the newest-first cursor (`CaseFilter::before_id`).
    pub next_cursor: Option<i64>,
}

impl CasePage {
    /// A page of `cases` whose next page starts after `next`, with `(total, total_exact)` as
    /// counted.
    pub fn new(cases: Vec<CaseRecord>, next: Option<CaseKey>, (total, total_exact): (i64, bool)) -> CasePage {
        CasePage {
            cases,
            total,
            total_exact,
            next_cursor: next.map(|k| k.id),
            next,
        }
    }
}

pub(crate) const CASE_INSERT_COLUMNS: &str = "case_no, channel, matter, description, address, lon, lat, node_code, \
     grid_code, community_code, street_code, district_code, reporter, state, outcome, lead_unit, supervision, \
     next_deadline, merged_into, revision, flow, reported_at, updated_at, closed_at, pending_requests, summoned";
pub(crate) const CASE_INSERT_WIDTH: usize = 26;

/// The values of a new `cases` row for `flow` as reported by `new`, in `CASE_INSERT_COLUMNS` order.
pub(crate) fn case_row_args(new: &NewCase, flow: &Case, updated_at: DateTime<Utc>) -> Result<Vec<Arg>, StoreError> {
    let loc = &new.location;
    let t = |s: &str| Arg::Text(Some(s.to_string()));
    Ok(vec![
        t(flow.number.as_str()),
        t(&new.channel),
        t(&flow.matter),
        t(&new.description),
        Arg::Text(loc.address.clone()),
        Arg::Real(loc.lon),
        Arg::Real(loc.lat),
        t(flow.node.as_str()),
        Arg::Text(loc.grid.clone()),
        Arg::Text(loc.community.clone()),
        Arg::Text(loc.street.clone()),
        Arg::Text(loc.district.clone()),
        t(&new.reporter),
        t(flow.state.as_str()),
        Arg::Text(Some(text_of(&flow.state.outcome()))),
        Arg::Text(flow.lead.as_ref().map(unit_key)),
        Arg::Text(flow.supervision.as_ref().map(text_of)),
        Arg::Time(next_deadline(flow)),
        Arg::Text(flow.merged_into.as_ref().map(|n| n.to_string())),
        Arg::Int(i64::from(flow.revision)),
        Arg::Text(Some(flow_json(flow)?)),
        Arg::Time(Some(flow.reported_at)),
        Arg::Time(Some(updated_at)),
        Arg::Time(flow.closed_at),
        Arg::Text(Some(pending_text(flow))),
        Arg::Text(Some(summoned_text(flow))),
    ])
}

/// The `pending_requests` column: the kinds of request waiting for a decision, as
/// `,return,extension,` (empty when none), so an inbox finds them with `LIKE '%,return,%'`.
pub(crate) fn pending_text(flow: &Case) -> String {
    listed(flow.pending.iter().map(|r| text_of(&r.kind)))
}

/// The `summoned` column: the units a whistle summoned that have not reported in yet, while
/// the case is open, as `,department:housing,`.
pub(crate) fn summoned_text(flow: &Case) -> String {
    if !flow.state.is_open() {
        return String::new();
    }
    listed(
        flow.awaited_departments()
            .map(|(_, s)| UnitRef::Department(s.department.clone()).key()),
    )
}

fn listed(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        String::new()
    } else {
        format!(",{},", items.join(","))
    }
}

pub(crate) fn flow_json(flow: &Case) -> Result<String, StoreError> {
    serde_json::to_string(flow).map_err(|e| StoreError::Corrupt {
        what: "case flow",
        detail: e.to_string(),
    })
}

/// The body of a case's first timeline entry (and of its `case.report` audit entry).
pub(crate) fn report_body(new: &NewCase, flow: &Case) -> Value {
    let mut body = json!({"kind": "report", "channel": new.channel, "matter": flow.matter, "node": flow.node});
    if let (Value::Object(b), Value::Object(extra)) = (&mut body, &new.report_detail) {
        b.extend(extra.clone());
    }
    body
}

pub(crate) fn report_audit(
    at: DateTime<Utc>,
    new: &NewCase,
    flow: &Case,
    body: Value,
) -> Result<NewAuditEntry, StoreError> {
    Ok(NewAuditEntry::new(
        at,
        &new.reporter,
        "case.report",
        "case",
        flow.number.as_str(),
        body,
    )?)
}

/// The timeline body of an applied action: the event as the machine gave it.
pub(crate) fn event_body(e: &Event) -> Result<Value, StoreError> {
    serde_json::to_value(e).map_err(|e| StoreError::Corrupt {
        what: "event",
        detail: e.to_string(),
    })
}

pub(crate) fn event_audit(e: &Event, body: Value) -> Result<NewAuditEntry, StoreError> {
    let action = format!("case.{}", e.kind.as_str());
    Ok(NewAuditEntry::new(
        e.at,
        &e.account,
        &action,
        "case",
        e.case.as_str(),
        body,
    )?)
}

pub(crate) const EVENT_INSERT_COLUMNS: &str = "case_id, revision, at, account, kind, from_state, to_state, body";
pub(crate) const EVENT_INSERT_WIDTH: usize = 8;

/// The values of a `case_events` row, in `EVENT_INSERT_COLUMNS` order.
#[allow(clippy::too_many_arguments)]
pub(crate) fn event_row_args(
    case_id: i64,
    revision: u32,
    at: DateTime<Utc>,
    account: &str,
    kind: &str,
    from_state: Option<&str>,
    to_state: &str,
    body: &Value,
) -> [Arg; EVENT_INSERT_WIDTH] {
    [
        Arg::Int(case_id),
        Arg::Int(i64::from(revision)),
        Arg::Time(Some(at)),
        Arg::Text(Some(account.to_string())),
        Arg::Text(Some(kind.to_string())),
        Arg::Text(from_state.map(str::to_string)),
        Arg::Text(Some(to_state.to_string())),
        Arg::Text(Some(body.to_string())),
    ]
}

#[allow(clippy::too_many_arguments)]
async fn insert_event(
    tx: &mut Tx,
    case_id: i64,
    revision: u32,
    at: DateTime<Utc>,
    account: &str,
    kind: &str,
    from_state: Option<&str>,
    to_state: &str,
    body: &Value,
) -> Result<(), StoreError> {
    let args = event_row_args(case_id, revision, at, account, kind, from_state, to_state, body);
    let sql = format!(
        "INSERT INTO case_events ({EVENT_INSERT_COLUMNS}) VALUES {}",
        values_sql(1, EVENT_INSERT_WIDTH)
    );
    on_tx!(tx, conn => bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql)), &args)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    tx.link_photos(case_id, body).await
}

fn is_unique_violation(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(sqlx::Error::Database(d)) if d.is_unique_violation())
}

/// Reserves `count` consecutive numbers of `day` inside `tx`; returns the first serial.
async fn reserve_serials(tx: &mut Tx, day: NaiveDate, count: u32) -> Result<u32, StoreError> {
    let last: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO case_numbers (day, last_serial) VALUES ($1, $2)
         ON CONFLICT (day) DO UPDATE SET last_serial = case_numbers.last_serial + $2
         RETURNING last_serial")
        .bind(day).bind(count as i64).fetch_one(conn).await)?;
    Ok((last as u32 + 1).saturating_sub(count))
}

/// Writes one case inside `tx`: its number of the day, the case, its first timeline entry, its
/// idempotency key and its audit entry. Returns its id and its flow as stored.
async fn insert_case_in(
    tx: &mut Tx,
    new: &NewCase,
    idempotency_key: Option<&str>,
    make_flow: impl FnOnce(CaseNumber) -> Case,
    now: DateTime<Utc>,
    audit_key: &AuditKey,
) -> Result<(i64, Case), StoreError> {
    let day = city_day(now);
    let serial = reserve_serials(tx, day, 1).await?;
    let (id, flow, entry) = write_case(tx, new, idempotency_key, day, serial, make_flow, now).await?;
    // The chain's head is locked last, so that concurrent writers wait on it only briefly.
    crate::audit::append(tx, audit_key, entry).await?;
    Ok((id, flow))
}

/// Writes a case with a reserved number, its first timeline entry and its idempotency key;
/// returns its id, its flow and the audit entry still to append.
async fn write_case(
    tx: &mut Tx,
    new: &NewCase,
    idempotency_key: Option<&str>,
    day: NaiveDate,
    serial: u32,
    make_flow: impl FnOnce(CaseNumber) -> Case,
    now: DateTime<Utc>,
) -> Result<(i64, Case, NewAuditEntry), StoreError> {
    let number = CaseNumber::new(day, serial).map_err(|e| StoreError::Corrupt {
        what: "case number",
        detail: e.to_string(),
    })?;
    let flow = make_flow(number.clone());
    let flow_json = serde_json::to_string(&flow).map_err(|e| StoreError::Corrupt {
        what: "case flow",
        detail: e.to_string(),
    })?;
    let loc = &new.location;
    let id: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO cases (case_no, channel, matter, description, address, lon, lat, node_code, grid_code,
             community_code, street_code, district_code, reporter, state, outcome, lead_unit, supervision,
             next_deadline, merged_into, revision, flow, reported_at, updated_at, closed_at, pending_requests, summoned)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
             $22, $23, $24, $25, $26)
         RETURNING id")
        .bind(number.as_str()).bind(&new.channel).bind(&flow.matter).bind(&new.description)
        .bind(&loc.address).bind(loc.lon).bind(loc.lat).bind(flow.node.as_str()).bind(&loc.grid)
        .bind(&loc.community).bind(&loc.street).bind(&loc.district).bind(&new.reporter)
        .bind(flow.state.as_str()).bind(text_of(&flow.state.outcome())).bind(flow.lead.as_ref().map(unit_key))
        .bind(flow.supervision.as_ref().map(text_of)).bind(next_deadline(&flow)).bind(None::<String>)
        .bind(flow.revision as i32).bind(flow_json).bind(flow.reported_at).bind(now).bind(None::<DateTime<Utc>>)
        .bind(pending_text(&flow)).bind(summoned_text(&flow))
        .fetch_one(conn).await)?;
    let mut body = json!({"kind": "report", "channel": new.channel, "matter": flow.matter, "node": flow.node});
    if let (Value::Object(b), Value::Object(extra)) = (&mut body, &new.report_detail) {
        b.extend(extra.clone());
    }
    insert_event(
        tx,
        id,
        0,
        now,
        &new.reporter,
        "report",
        None,
        flow.state.as_str(),
        &body,
    )
    .await?;
    let entry = NewAuditEntry::new(now, &new.reporter, "case.report", "case", number.as_str(), body)?;
    if let Some(key) = idempotency_key {
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO idempotency_keys (account, key, case_id, created_at, request_hash) VALUES ($1, $2, $3, $4, $5)")
            .bind(&new.reporter).bind(key).bind(id).bind(now).bind(&new.request_hash)
            .execute(conn).await.map(|r| r.rows_affected()))?;
    }
    Ok((id, flow, entry))
}

impl Db {
    /// Reports a case: gives it the next number of its day, stores it and its first timeline
    /// entry in one transaction. With an idempotency key, a key this account already used returns
    /// the case it created, and no second case.
    pub async fn create_case(
        &self,
        new: &NewCase,
        idempotency_key: Option<&str>,
        make_flow: impl Fn(CaseNumber) -> Case,
        now: DateTime<Utc>,
        audit_key: &AuditKey,
    ) -> Result<Created, StoreError> {
        if let Some(key) = idempotency_key
            && let Some(existing) = self.case_for_key(&new.reporter, key).await?
        {
            return Ok(Created::Replayed(existing));
        }
        match self.insert_case(new, idempotency_key, &make_flow, now, audit_key).await {
            Ok(id) => Ok(Created::New(self.case_by_id(id).await?.ok_or(StoreError::Corrupt {
                what: "case",
                detail: format!("case {id} vanished after insert"),
            })?)),
            // Two submissions with the same key raced: the other one won; return its case.
            Err(e) if idempotency_key.is_some() && is_unique_violation(&e) => {
                let key = idempotency_key.unwrap_or_default();
                self.case_for_key(&new.reporter, key)
                    .await?
                    .map(Created::Replayed)
                    .ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    /// The hash of the request that first used `account`'s idempotency `key` (`None` for a key
    /// unknown, or stored before requests were hashed).
    pub async fn idempotency_request_hash(&self, account: &str, key: &str) -> Result<Option<String>, StoreError> {
        let hash: Option<Option<String>> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT request_hash FROM idempotency_keys WHERE account = $1 AND key = $2")
            .bind(account).bind(key).fetch_optional(p).await)?;
        Ok(hash.flatten())
    }

    async fn case_for_key(&self, account: &str, key: &str) -> Result<Option<CaseRecord>, StoreError> {
        let id: Option<i64> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT case_id FROM idempotency_keys WHERE account = $1 AND key = $2")
            .bind(account).bind(key).fetch_optional(p).await)?;
        match id {
            Some(id) => self.case_by_id(id).await,
            None => Ok(None),
        }
    }

    async fn insert_case(
        &self,
        new: &NewCase,
        idempotency_key: Option<&str>,
        make_flow: &impl Fn(CaseNumber) -> Case,
        now: DateTime<Utc>,
        audit_key: &AuditKey,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let (id, _) = insert_case_in(&mut tx, new, idempotency_key, make_flow, now, audit_key).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn case_by_id(&self, id: i64) -> Result<Option<CaseRecord>, StoreError> {
        let sql = case_by_id_sql();
        let row: Option<CaseRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
        row.map(CaseRecord::try_from).transpose()
    }

    /// The cases one reporter reported (a resident's "my reports"), newest first, at most `limit`.
    pub async fn cases_reported_by(&self, reporter: &str, limit: i64) -> Result<Vec<CaseRecord>, StoreError> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE reporter = $1 ORDER BY id DESC LIMIT $2");
        let rows: Vec<CaseRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(reporter).bind(limit).fetch_all(p).await)?;
        rows.into_iter().map(CaseRecord::try_from).collect()
    }

    pub async fn case_by_number(&self, number: &CaseNumber) -> Result<Option<CaseRecord>, StoreError> {
        let sql = case_by_number_sql();
        let row: Option<CaseRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(number.as_str()).fetch_optional(p).await)?;
        row.map(CaseRecord::try_from).transpose()
    }

    /// Records an applied action: the new case replaces the one at `applied.case.revision - 1`
    /// and the event joins the timeline, in one transaction. If someone else changed the case
    /// since it was read, nothing is written and `StoreError::Conflict` says so.
    pub async fn record_action(
        &self,
        id: i64,
        applied: &Applied,
        now: DateTime<Utc>,
        audit_key: &AuditKey,
    ) -> Result<(), StoreError> {
        let flow = &applied.case;
        let previous = flow.revision.saturating_sub(1);
        let flow_json = flow_json(flow)?;
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE cases SET state = $1, outcome = $2, lead_unit = $3, supervision = $4, next_deadline = $5,
                 merged_into = $6, revision = $7, flow = $8, updated_at = $9, closed_at = $10,
                 pending_requests = $13, summoned = $14
             WHERE id = $11 AND revision = $12")
            .bind(flow.state.as_str()).bind(text_of(&flow.state.outcome())).bind(flow.lead.as_ref().map(unit_key))
            .bind(flow.supervision.as_ref().map(text_of)).bind(next_deadline(flow))
            .bind(flow.merged_into.as_ref().map(|n| n.to_string())).bind(flow.revision as i32).bind(flow_json)
            .bind(now).bind(flow.closed_at).bind(id).bind(previous as i32)
            .bind(pending_text(flow)).bind(summoned_text(flow))
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StoreError::Conflict {
                what: "case",
                id: flow.number.to_string(),
            });
        }
        let e = &applied.event;
        let body = event_body(e)?;
        insert_event(
            &mut tx,
            id,
            e.revision,
            e.at,
            &e.account,
            e.kind.as_str(),
            Some(e.from.as_str()),
            e.to.as_str(),
            &body,
        )
        .await?;
        let entry = event_audit(e, body)?;
        crate::audit::append(&mut tx, audit_key, entry).await?;
        tx.commit().await
    }

    /// The cases a photo is on (whoever may see one of them may read it), by id.
    pub async fn cases_with_attachment(&self, attachment: AttachmentId) -> Result<Vec<CaseRecord>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE id IN
             (SELECT case_id FROM case_attachments WHERE attachment_id = $1) ORDER BY id"
        );
        let rows: Vec<CaseRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(attachment.0).fetch_all(p).await)?;
        rows.into_iter().map(CaseRecord::try_from).collect()
    }

    /// The cases merged into `parent` (duplicates whose reporters now follow it), oldest first.
    pub async fn merged_into(&self, parent: &CaseNumber) -> Result<Vec<CaseRecord>, StoreError> {
        let sql = merged_into_sql();
        let rows: Vec<CaseRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(parent.as_str()).fetch_all(p).await)?;
        rows.into_iter().map(CaseRecord::try_from).collect()
    }

    /// A case's timeline, oldest first.
    pub async fn case_events(&self, id: i64) -> Result<Vec<StoredEvent>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(CASE_EVENTS_SQL).bind(id).fetch_all(p).await)?)
    }

    /// A page of cases matching `filter`, newest first below `filter.before_id`, with the count of
    /// matches (at most [`COUNT_CAP`]).
    pub async fn list_cases(
        &self,
        filter: &CaseFilter,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<CasePage, StoreError> {
        let after = filter.before_id.map(|id| CaseKey { id, deadline: None });
        self.list_cases_keyset(filter, CaseSort::Newest, after, limit, now)
            .await
    }

    /// A page of cases matching `filter` in `sort` order that starts after `after` (keyset: the
    /// database seeks to the key in an index and reads `limit` rows, however deep the page), with
    /// the count of matches (at most [`COUNT_CAP`]). `filter.before_id` is not used.
    pub async fn list_cases_keyset(
        &self,
        filter: &CaseFilter,
        sort: CaseSort,
        after: Option<CaseKey>,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<CasePage, StoreError> {
        let (cases, next) = self.keyset_page(filter, sort, after, limit, now).await?;
        Ok(CasePage::new(
            cases,
            next,
            self.count_cases_upto(filter, COUNT_CAP, now).await?,
        ))
    }

    /// The rows of [`Db::list_cases_keyset`] without the count, and where the next page starts.
    pub async fn keyset_page(
        &self,
        filter: &CaseFilter,
        sort: CaseSort,
        after: Option<CaseKey>,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<(Vec<CaseRecord>, Option<CaseKey>), StoreError> {
        self.read_page(filter, sort, after, 0, limit.clamp(1, 500), now).await
    }

    /// `limit` cases matching `filter` in `sort` order after `after` and `offset` more, and the
    /// key of the last one when more follow. Each order is one or two index reads in order (see
    /// [`CaseSort`]): the deadline order reads the cases with a deadline, nearest first, then
    /// those without, newest first, instead of sorting every match.
    async fn read_page(
        &self,
        filter: &CaseFilter,
        sort: CaseSort,
        after: Option<CaseKey>,
        offset: i64,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<(Vec<CaseRecord>, Option<CaseKey>), StoreError> {
        // A phase: (condition, condition on the key, order).
        type Phase = (&'static str, Option<&'static str>, &'static str);
        let phases: Vec<Phase> = match (sort, after) {
            (CaseSort::Newest, _) => vec![("TRUE", after.map(|_| "id <"), "id DESC")],
            (CaseSort::Oldest, _) => vec![("TRUE", after.map(|_| "id >"), "id ASC")],
            (CaseSort::Reported, _) => vec![("TRUE", after.map(|_| "reported"), "reported_at DESC, id DESC")],
            (CaseSort::Deadline, Some(CaseKey { deadline: None, .. })) => {
                vec![("next_deadline IS NULL", Some("id <"), "id DESC")]
            }
            (CaseSort::Deadline, _) => vec![
                (
                    "next_deadline IS NOT NULL",
                    after.map(|_| "deadline"),
                    "next_deadline, id",
                ),
                ("next_deadline IS NULL", None, "id DESC"),
            ],
        };
        // One more than asked: whether a next page exists.
        let mut rows: Vec<KeyedRow> = Vec::new();
        let mut skip = offset.max(0);
        for (phase, key, order) in phases {
            let wanted = limit + 1 - rows.len() as i64;
            if wanted <= 0 {
                break;
            }
            let (mut clause, mut binds) = filter.clause(now, self.backend());
            if matches!(sort, CaseSort::Newest | CaseSort::Oldest)
                && let Some(ids) = filter.reported_ids(self.backend(), &mut binds)
            {
                clause = format!("{clause} AND {ids}");
            }
            let pair = |column: &str, op: &str, t: Option<DateTime<Utc>>, binds: &mut Vec<Arg>| {
                binds.push(Arg::Time(t));
                let t = binds.len();
                binds.push(Arg::Int(after.map_or(0, |k| k.id)));
                format!("({column}, id) {op} (${t}, ${})", binds.len())
            };
            let deadline = after.and_then(|k| k.deadline);
            let key = match key {
                None => "TRUE".to_string(),
                Some("deadline") => pair("next_deadline", ">", deadline, &mut binds),
                Some("reported") => pair("reported_at", "<", deadline, &mut binds),
                Some(op) => format!("{op} {}", after.map_or(0, |k| k.id)),
            };
            let sql = page_sql(
                &format!("{CASE_COLUMNS}, {} AS key_deadline", sort.key_column()),
                &format!("{clause} AND {phase} AND {key}"),
                order,
                wanted,
                skip,
            );
            let found: Vec<KeyedRow> =
                on_pool!(self, p => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &binds).fetch_all(p).await)?;
            if skip > 0 && found.is_empty() {
                // The offset reaches past this phase: skip what it holds (the count stops at
                // the offset, which the door bounds) in the next one.
                let count_sql = format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM cases WHERE {clause} AND {phase} AND {key} LIMIT {skip}) AS capped"
                );
                let held: i64 = on_pool!(self, p => bind_args!(sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)), &binds)
                    .fetch_one(p).await)?;
                skip -= held;
            } else {
                skip = 0;
            }
            rows.extend(found);
        }
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next = more.then(|| rows.last()).flatten().map(|r| CaseKey {
            id: r.row.id,
            deadline: sort.key_column_is_time().then_some(r.key_deadline).flatten(),
        });
        let cases = rows
            .into_iter()
            .map(|r| CaseRecord::try_from(r.row))
            .collect::<Result<_, _>>()?;
        Ok((cases, next))
    }

    /// How many cases match `filter` (every one: for the inboxes' counts and the export's check;
    /// a list's total is [`Db::count_cases_upto`]).
    pub async fn count_cases(&self, filter: &CaseFilter, now: DateTime<Utc>) -> Result<i64, StoreError> {
        let (clause, binds) = filter.clause(now, self.backend());
        let sql = format!("SELECT COUNT(*) FROM cases WHERE {clause}");
        Ok(
            on_pool!(self, p => bind_args!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), &binds)
            .fetch_one(p).await)?,
        )
    }

    /// How many cases match `filter`, counting no further than `cap`: `(n, true)` when `n` match,
    /// `(cap, false)` when more than `cap` do. The database stops reading at the `cap + 1`st match.
    pub async fn count_cases_upto(
        &self,
        filter: &CaseFilter,
        cap: i64,
        now: DateTime<Utc>,
    ) -> Result<(i64, bool), StoreError> {
        let (clause, binds) = filter.clause(now, self.backend());
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM cases WHERE {clause} LIMIT {}) AS capped",
            cap.max(0) + 1
        );
        let n: i64 = on_pool!(self, p => bind_args!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), &binds)
            .fetch_one(p).await)?;
        Ok(if n > cap { (cap, false) } else { (n, true) })
    }

    /// Page `offset / limit` of the cases matching `filter` in `sort` order, with the count (at
    /// most `count_cap`) and the key the next page starts after: the numbered pages of the staff
    /// lists, whose links to the next page carry that key.
    pub async fn list_cases_sorted(
        &self,
        filter: &CaseFilter,
        sort: CaseSort,
        offset: i64,
        limit: i64,
        count_cap: i64,
        now: DateTime<Utc>,
    ) -> Result<CasePage, StoreError> {
        let (cases, next) = self.offset_page(filter, sort, offset, limit, now).await?;
        Ok(CasePage::new(
            cases,
            next,
            self.count_cases_upto(filter, count_cap, now).await?,
        ))
    }

    /// The rows of [`Db::list_cases_sorted`] without the count, and where the next page starts.
    pub async fn offset_page(
        &self,
        filter: &CaseFilter,
        sort: CaseSort,
        offset: i64,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<(Vec<CaseRecord>, Option<CaseKey>), StoreError> {
        self.read_page(filter, sort, None, offset, limit.clamp(1, 50_000), now)
            .await
    }

    /// One page of cases as Open311 lists them: the columns it shows, without the case's flow
    /// (no JSON to parse per case), in one query.
    pub async fn case_briefs(
        &self,
        filter: &CaseFilter,
        sort: CaseSort,
        offset: i64,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<CaseBrief>, StoreError> {
        let limit = limit.clamp(1, 50_000);
        let (clause, binds) = filter.clause(now, self.backend());
        let sql = page_sql(
            "case_no, state, matter, description, lead_unit, address, lon, lat, next_deadline,
             reported_at, updated_at, closed_at",
            &clause,
            sort.order_by(),
            limit,
            offset.max(0),
        );
        Ok(on_pool!(self, p => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &binds).fetch_all(p).await)?)
    }

    /// One page of [`Db::list_cases_sorted`] without the total: one query (Open311's lists,
    /// which never show a total).
    pub async fn case_page(
        &self,
        filter: &CaseFilter,
        sort: CaseSort,
        offset: i64,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<CaseRecord>, StoreError> {
        let limit = limit.clamp(1, 50_000);
        let (clause, binds) = filter.clause(now, self.backend());
        let sql = page_sql(CASE_COLUMNS, &clause, sort.order_by(), limit, offset.max(0));
        let rows: Vec<CaseRow> =
            on_pool!(self, p => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &binds).fetch_all(p).await)?;
        rows.into_iter().map(CaseRecord::try_from).collect()
    }

    /// Open cases of a matter with a point inside a box, reported since `since`: the candidates
    /// for duplicates (the caller measures the distance).
    pub async fn open_cases_in_box(
        &self,
        matter: &str,
        (min_lon, min_lat, max_lon, max_lat): (f64, f64, f64, f64),
        since: DateTime<Utc>,
    ) -> Result<Vec<CaseRecord>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE matter = $1 AND outcome = 'open' AND lat BETWEEN $2 AND $3
             AND lon BETWEEN $4 AND $5 AND reported_at >= $6 ORDER BY id DESC LIMIT 50"
        );
        let rows: Vec<CaseRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(matter).bind(min_lat).bind(max_lat).bind(min_lon).bind(max_lon).bind(since).fetch_all(p).await)?;
        rows.into_iter().map(CaseRecord::try_from).collect()
    }
}

#[cfg(test)]
mod prefix_tests {
    use super::{Backend, CaseFilter};

    /// PostgreSQL plans a prepared list once for any values after five runs; a bound range
    /// would look like 0.5 % of the cases to it, so the subtree is written out (digits only).
    #[test]
    fn postgres_sees_the_subtree_and_sqlite_binds_it() {
        let filter = CaseFilter {
            within_prefix: Some("2309".into()),
            matter: Some("06010".into()),
            ..CaseFilter::default()
        };
        let now = chrono::Utc::now();
        let (pg, pg_binds) = filter.clause(now, Backend::Postgres);
        assert!(pg.contains("node_code >= '2309' AND node_code < '231'"), "{pg}");
        assert_eq!(pg_binds.len(), 1, "only the matter is bound: {pg}");
        let (lite, lite_binds) = filter.clause(now, Backend::Sqlite);
        assert!(!lite.contains("'2309'"), "{lite}");
        assert_eq!(lite_binds.len(), 3, "{lite}");
    }

    #[test]
    fn the_next_prefix_bounds_a_subtree() {
        assert_eq!(super::next_prefix("2308").as_deref(), Some("2309"));
        assert_eq!(super::next_prefix("2309").as_deref(), Some("231"));
        assert_eq!(
            super::next_prefix("230903011001001").as_deref(),
            Some("230903011001002")
        );
        assert_eq!(super::next_prefix("2399").as_deref(), Some("24"));
        assert_eq!(super::next_prefix("99"), None);
    }
}
