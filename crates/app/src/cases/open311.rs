//! Open311 GeoReport v2's use cases (docs/OPEN311.md): the services (the matters of the
//! taxonomy), reading requests (cases projected onto the spec's fields) with the spec's filters,
//! reporting one as an integration's API key, and FixMyStreet's service request updates (the
//! timeline as a feed; notes an integration posts, idempotent by its update id). The protocol
//! (parameters, the XML and JSON documents, discovery) is the web's.
//!
//! The API key is authorized by the door (it identifies the caller, as a session does); the use
//! cases check what the key's territory scope reaches.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use gongzhi_core::ErrorCode;
use gongzhi_core::cases::UnitRef;
use gongzhi_core::cases::flow::{CaseNumber, State as CaseState, next_deadline};
use gongzhi_core::cases::rules::CaseRules;
use gongzhi_core::cases::taxonomy::{Entry, TypeCode};
use gongzhi_core::orgs::DepartmentCode;
use gongzhi_core::people::masking::{mask_email, mask_phone};
use gongzhi_core::time::city_time;
use gongzhi_store::StoreError;
use gongzhi_store::cases::{CaseFilter, CaseSort};
use serde_json::{Map, Value, json};

pub use gongzhi_store::cases::updates::{FeedEvent, NOTE_KIND, NoteRef};
pub use gongzhi_store::cases::{CaseBrief, StoredEvent};

use super::{CaseRecord, RawReport, Report, place, publish, unit_json};
use crate::people::api_keys::{ApiKey, key_actor, key_reaches};
use crate::{App, AppError};

/// The most requests one page may hold (the spec's "first 1000"); the default is the policy's
/// `open311_page_size`.
pub const MAX_PAGE_SIZE: i64 = 1000;
/// Takes one of `source`'s Open311 reads a minute (the policy's `open311_reads_per_minute`):
/// beyond them, 429 with `Retry-After`. A request with no known source (made in-process, never
/// by `gongzhi serve`, which always knows the peer) is not counted.
pub fn take_read(app: &App, source: &str) -> Result<(), AppError> {
    if source == "unknown" {
        return Ok(());
    }
    let minute = std::time::Duration::from_secs(60);
    let per_minute = app.security.open311_reads_per_minute;
    app.open311_read_limits
        .take(source.to_string(), per_minute, minute, std::time::Instant::now())
        .map_err(|wait| {
            tracing::warn!(source, wait, "Open311 reads throttled");
            AppError::new(
                ErrorCode::RateLimited,
                None,
                format!("此网络地址的请求过于频繁，请 {wait} 秒后再试"),
                format!("too many requests from this network address; try again in {wait} s"),
            )
            .with_retry_after(wait)
        })
}

/// The longest `start_date`–`end_date` span, and the requests' default window (the spec's 90
/// days).
pub const MAX_SPAN_DAYS: i64 = 90;
/// The updates' window when no dates are given.
const DEFAULT_UPDATES_WINDOW_HOURS: i64 = 24;
/// The most updates one answer holds (oldest first: a client continues from the last one's time).
const MAX_UPDATES: i64 = 1000;
/// FixMyStreet's extended statuses, as POSTed (upper case).
pub const POST_STATUSES: [&str; 15] = [
    "UNCHANGED",
    "OPEN",
    "CLOSED",
    "FIXED",
    "IN_PROGRESS",
    "PLANNED",
    "ACTION_SCHEDULED",
    "INVESTIGATING",
    "DUPLICATE",
    "NOT_COUNCILS_RESPONSIBILITY",
    "NO_FURTHER_ACTION",
    "INTERNAL_REFERRAL",
    "CANCELLED",
    "REOPEN",
    "FOR_TRIAGE",
];
/// The longest note (the case loop's limit on texts).
const MAX_NOTE_CHARS: usize = 2000;

fn bad(field: &'static str, code: ErrorCode, zh: String, en: String) -> AppError {
    AppError::new(code, Some(field), zh, en)
}

/// A W3C datetime (the timezone required); a `+` the client did not encode arrives as a space.
pub fn datetime(field: &'static str, text: &str) -> Result<DateTime<Utc>, AppError> {
    let fixed = text.replace(' ', "+");
    DateTime::parse_from_rfc3339(&fixed)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            bad(
                field,
                ErrorCode::InvalidDate,
                format!("{field} 应为带时区的 W3C 时间，如 2026-11-27T08:00:00+08:00，实际为 {text:?}"),
                format!("{field} must be a W3C datetime with a timezone, e.g. 2026-11-27T08:00:00+08:00; got {text:?}"),
            )
        })
}

/// Keeps the fields that were sent (the client's facts beside the report or note).
fn insert_sent(map: &mut Map<String, Value>, fields: impl IntoIterator<Item = (&'static str, Option<String>)>) {
    for (f, v) in fields {
        if let Some(v) = v {
            map.insert(f.into(), json!(v));
        }
    }
}

// --- Services -------------------------------------------------------------------------------

/// The changeset of what clients cache (services, definitions): the rules revision in force.
pub fn changeset(app: &App) -> String {
    let rules = app.rules();
    format!(
        "{}-{}",
        rules.responsibility.valid_from.format("%Y%m%d"),
        rules.responsibility.version
    )
}

/// The services: every matter of the taxonomy, by code.
pub fn services(app: &App) -> Vec<Entry> {
    app.rules().taxonomy.matters().cloned().collect()
}

/// The matter a service code names; 404 when the taxonomy has none (also for a malformed code:
/// it names no service either).
pub fn service(app: &App, code: &str) -> Result<Entry, AppError> {
    let rules = app.rules();
    TypeCode::parse(code)
        .ok()
        .and_then(|t| rules.taxonomy.matter(&t).cloned())
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::UnknownService,
                Some("service_code"),
                format!("服务代码 {code} 不存在（服务代码即事项代码，见 services.xml）"),
                format!("service_code {code} not found (service codes are matter codes: see services.xml)"),
            )
        })
}

// --- Reading requests -----------------------------------------------------------------------

/// A span of time the spec filters by, `start` to `end`, at most [`MAX_SPAN_DAYS`] long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    /// The requests' window: the 90 days after `start`, before `end` or before now when only
    /// one or neither is given.
    pub fn of_requests(
        start: Option<DateTime<Utc>>,
        end: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Window, AppError> {
        let span = Duration::days(MAX_SPAN_DAYS);
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            (Some(s), None) => (s, s + span),
            (None, Some(e)) => (e - span, e),
            (None, None) => (now - span, now),
        };
        Window::checked(start, end)
    }

    /// The updates' window: from `start` until now, or the last day before `end` or now.
    pub fn of_updates(
        start: Option<DateTime<Utc>>,
        end: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Window, AppError> {
        let window = Duration::hours(DEFAULT_UPDATES_WINDOW_HOURS);
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            (Some(s), None) => (s, now),
            (None, Some(e)) => (e - window, e),
            (None, None) => (now - window, now),
        };
        Window::checked(start, end)
    }

    fn checked(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Window, AppError> {
        if start > end {
            return Err(bad(
                "start_date",
                ErrorCode::InvalidDateRange,
                "start_date 晚于 end_date".into(),
                "start_date is after end_date".into(),
            ));
        }
        if end - start > Duration::days(MAX_SPAN_DAYS) {
            return Err(bad(
                "end_date",
                ErrorCode::DateRangeTooLong,
                format!("start_date 至 end_date 不能超过{MAX_SPAN_DAYS}天"),
                format!("start_date to end_date may span at most {MAX_SPAN_DAYS} days"),
            ));
        }
        Ok(Window { start, end })
    }
}

/// The spec's `status` of a request: open while the loop runs, closed when it ended (fixed or
/// not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Open,
    Closed,
}

impl Status {
    pub fn of(state: CaseState) -> Status {
        if state.is_open() { Status::Open } else { Status::Closed }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Closed => "closed",
        }
    }
}

/// Which requests to list.
#[derive(Debug, Clone)]
pub enum RequestQuery {
    /// These requests, whatever else is asked (the spec: the ids override every other argument).
    Numbers(Vec<CaseNumber>),
    /// A page of the requests reported within a window, newest first.
    Filter(RequestFilter),
}

/// The spec's filters of a request list (an empty list means any).
#[derive(Debug, Clone)]
pub struct RequestFilter {
    pub services: Vec<TypeCode>,
    pub statuses: Vec<Status>,
    pub reported: Window,
    pub updated_after: Option<DateTime<Utc>>,
    pub updated_before: Option<DateTime<Utc>>,
    /// From 1.
    pub page: i64,
    /// 1 to [`MAX_PAGE_SIZE`].
    pub page_size: i64,
}

/// What a request shows without extensions, from a full case or from its listed columns.
#[derive(Debug, Clone)]
pub struct Brief {
    pub number: String,
    pub state: CaseState,
    pub matter: String,
    pub description: String,
    /// The name of the lead unit (a department's name from the rules).
    pub agency: Option<String>,
    pub address: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub expected: Option<DateTime<Utc>>,
    pub reported_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

fn lead_name(unit: &UnitRef, rules: &CaseRules) -> String {
    unit_json(unit, rules)
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| unit.key())
}

impl Brief {
    fn of_record(r: &CaseRecord, rules: &CaseRules) -> Brief {
        let c = &r.flow;
        Brief {
            number: c.number.to_string(),
            state: c.state,
            matter: c.matter.clone(),
            description: r.description.clone(),
            agency: c.lead.as_ref().map(|u| lead_name(u, rules)),
            address: r.location.address.clone(),
            lon: r.location.lon,
            lat: r.location.lat,
            expected: next_deadline(c),
            reported_at: r.reported_at,
            updated_at: r.updated_at,
            closed_at: c.closed_at,
        }
    }

    /// From the columns kept beside the flow (`next_deadline` is written from the flow by every
    /// change; `lead_unit` as `UnitRef::key`).
    fn of_row(b: CaseBrief, rules: &CaseRules) -> Result<Brief, AppError> {
        let state = CaseState::parse(&b.state).ok_or_else(|| {
            AppError::new(
                ErrorCode::CorruptCase,
                None,
                format!("案件 {} 的状态无法识别", b.case_no),
                format!("case {} has an unknown state", b.case_no),
            )
        })?;
        let agency = b.lead_unit.as_ref().map(|key| {
            key.strip_prefix("department:")
                .and_then(|d| DepartmentCode::parse(d).ok())
                .and_then(|d| rules.departments.get(&d).map(|d| d.name.clone()))
                .unwrap_or_else(|| key.clone())
        });
        Ok(Brief {
            number: b.case_no,
            state,
            matter: b.matter,
            description: b.description,
            agency,
            address: b.address,
            lon: b.lon,
            lat: b.lat,
            expected: b.next_deadline,
            reported_at: b.reported_at,
            updated_at: b.updated_at,
            closed_at: b.closed_at,
        })
    }
}

/// One request: its brief and, with extensions, the whole case and its timeline.
#[derive(Debug, Clone)]
pub struct Request {
    pub brief: Brief,
    pub extended: Option<Extended>,
}

/// What extensions add: the case (never the reporter's contact goes out: the door picks the
/// fields) and its timeline.
#[derive(Debug, Clone)]
pub struct Extended {
    pub record: CaseRecord,
    pub events: Vec<StoredEvent>,
}

async fn request_of(app: &App, rules: &CaseRules, record: CaseRecord, extensions: bool) -> Result<Request, AppError> {
    let brief = Brief::of_record(&record, rules);
    let extended = if extensions {
        let events = app.db().case_events(record.id).await?;
        Some(Extended { record, events })
    } else {
        None
    };
    Ok(Request { brief, extended })
}

/// The requests asked for: public, as the spec has them. One query for a page (no total, the
/// spec has none; without extensions only the listed columns, not the flow).
pub async fn requests(app: &App, query: &RequestQuery, extensions: bool) -> Result<Vec<Request>, AppError> {
    let rules = app.rules();
    let records = match query {
        RequestQuery::Numbers(numbers) => {
            let mut found = Vec::new();
            for number in numbers {
                if let Some(r) = app.db().case_by_number(number).await? {
                    found.push(r);
                }
            }
            found
        }
        RequestQuery::Filter(f) => {
            let now = Utc::now();
            let mut filter = CaseFilter {
                matters: f.services.iter().map(|t| t.as_str().to_string()).collect(),
                ..CaseFilter::default()
            };
            for s in &f.statuses {
                match s {
                    Status::Open => filter.outcomes.push("open".into()),
                    Status::Closed => filter.outcomes.extend(["closed".to_string(), "fixed".to_string()]),
                }
            }
            filter.reported_from = Some(f.reported.start);
            filter.reported_to = Some(f.reported.end);
            filter.updated_from = f.updated_after;
            filter.updated_to = f.updated_before;
            let offset = (f.page - 1) * f.page_size;
            if !extensions {
                let briefs = app
                    .db()
                    .case_briefs(&filter, CaseSort::Reported, offset, f.page_size, now)
                    .await?;
                return briefs
                    .into_iter()
                    .map(|b| {
                        Ok(Request {
                            brief: Brief::of_row(b, &rules)?,
                            extended: None,
                        })
                    })
                    .collect();
            }
            app.db()
                .case_page(&filter, CaseSort::Reported, offset, f.page_size, now)
                .await?
        }
    };
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        out.push(request_of(app, &rules, r, extensions).await?);
    }
    Ok(out)
}

/// 404 for a service request id that names no case.
pub fn unknown_request(id: &str) -> AppError {
    AppError::new(
        ErrorCode::UnknownServiceRequest,
        Some("service_request_id"),
        format!("请求 {id} 不存在"),
        format!("service request {id} not found"),
    )
}

/// The case a request id names, or 404.
async fn case_of(app: &App, id: &str) -> Result<CaseRecord, AppError> {
    let number = CaseNumber::parse(id).map_err(|_| unknown_request(id))?;
    app.db()
        .case_by_number(&number)
        .await?
        .ok_or_else(|| unknown_request(id))
}

/// One request by its id (the case number), or 404.
pub async fn request(app: &App, id: &str, extensions: bool) -> Result<Request, AppError> {
    let record = case_of(app, id).await?;
    request_of(app, &app.rules(), record, extensions).await
}

/// The request a token names: every service is realtime, so no token is ever handed out; a case
/// number given as a token resolves to itself, anything else is 404.
pub async fn token(app: &App, token: &str) -> Result<CaseNumber, AppError> {
    let not_found = || {
        AppError::new(
            ErrorCode::UnknownToken,
            Some("token"),
            format!("令牌 {token} 不存在（所有服务均为实时，不发放令牌）"),
            format!("token {token} not found (every service is realtime: no tokens are issued)"),
        )
    };
    let number = CaseNumber::parse(token).map_err(|_| not_found())?;
    let record = app.db().case_by_number(&number).await?.ok_or_else(not_found)?;
    Ok(record.flow.number)
}

// --- Posting a request ----------------------------------------------------------------------

/// A service request as an integration posts it, every field as sent (empty ones absent).
#[derive(Debug, Clone, Default)]
pub struct NewRequest {
    pub service_code: String,
    pub lat: Option<String>,
    pub long: Option<String>,
    pub address_string: Option<String>,
    pub description: Option<String>,
    /// `attribute[CODE]`: a text or a list of texts.
    pub attributes: Map<String, Value>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub account_id: Option<String>,
    pub device_id: Option<String>,
    pub jurisdiction_id: Option<String>,
    pub address_id: Option<String>,
    pub media_urls: Vec<String>,
}

/// A posted request as a case report of channel `open311` by the key's actor, checked (the
/// service, the place within the key's scope, the report's rules) but for its photos: the door
/// stores the uploaded media into `photos` and reports it with [`super::report`].
pub fn prepare_request(app: &App, key: &ApiKey, request: NewRequest) -> Result<Report, AppError> {
    let entry = service(app, &request.service_code)?;
    if request.lat.is_none() && request.long.is_none() && request.address_string.is_none() {
        return Err(bad(
            "lat",
            ErrorCode::MissingLocation,
            "缺少位置：请提供 lat 和 long（WGS-84）或 address_string（address_id 不受支持）".into(),
            "a location is required: lat and long (WGS-84) or address_string (address_id is not supported)".into(),
        ));
    }
    let mut report = Report::try_from(RawReport {
        channel: RawReport::text(Some("open311")),
        matter: RawReport::text(Some(entry.code.as_str())),
        // The spec makes the description optional; a case always has one.
        description: RawReport::text(Some(request.description.as_deref().unwrap_or(&entry.name))),
        lat: RawReport::text(request.lat.as_deref()),
        lon: RawReport::text(request.long.as_deref()),
        address: RawReport::text(request.address_string.as_deref()),
        ..RawReport::default()
    })?;
    let node = place(app, &report.place, report.address.as_deref())?.node;
    if !key_reaches(key, &node) {
        return Err(AppError::new(
            ErrorCode::OutsideKeyScope,
            Some("api_key"),
            format!("此 api_key 只能上报 {} 范围内的请求", key.scope_code),
            format!("this api_key reports only within {}", key.scope_code),
        ));
    }

    // The contact goes into the timeline and the audit record, which are not encrypted: the
    // phone and e-mail are kept masked (enough to recognise a caller, not to reach them).
    let mut contact = Map::new();
    insert_sent(
        &mut contact,
        [
            ("email", request.email.as_deref().map(mask_email)),
            ("first_name", request.first_name),
            ("last_name", request.last_name),
            ("phone", request.phone.as_deref().map(mask_phone)),
        ],
    );
    let mut open311 = Map::new();
    open311.insert("api_key".into(), json!(key.name));
    open311.insert("attributes".into(), Value::Object(request.attributes));
    insert_sent(
        &mut open311,
        [
            ("account_id", request.account_id),
            ("device_id", request.device_id),
            ("jurisdiction_id", request.jurisdiction_id),
            ("address_id", request.address_id),
        ],
    );
    if !request.media_urls.is_empty() {
        open311.insert("media_url".into(), json!(request.media_urls));
    }
    if !contact.is_empty() {
        report.detail.insert("reporter_contact".into(), Value::Object(contact));
    }
    report.detail.insert("open311".into(), Value::Object(open311));
    super::check(app, &key_actor(key), &report)?;
    Ok(report)
}

// --- Service request updates ----------------------------------------------------------------

/// The timeline events of every case within a window, oldest first (at most 1000): public, as
/// the requests are.
pub async fn updates(app: &App, window: Window) -> Result<Vec<FeedEvent>, AppError> {
    Ok(app.db().feed_events(window.start, window.end, MAX_UPDATES).await?)
}

/// An update as an integration posts it, every field as sent. Only `update_id` is checked before
/// a repeat is recognised: a repeated update answers with the first note, whatever else it says.
#[derive(Debug, Clone, Default)]
pub struct NewUpdate {
    pub service_request_id: String,
    /// The integration's id of the update (checked as an idempotency key).
    pub update_id: String,
    /// One of [`POST_STATUSES`], in any case.
    pub status: String,
    /// When the integration made the update, a W3C datetime ([`datetime`]).
    pub updated_datetime: String,
    pub description: String,
    pub account_id: Option<String>,
    pub service_request_id_ext: Option<String>,
    pub title: Option<String>,
    pub media_urls: Vec<String>,
}

/// A note on a case, as posted (or as first posted under the same update id).
#[derive(Debug, Clone)]
pub struct PostedUpdate {
    pub case_number: CaseNumber,
    pub note: NoteRef,
}

/// Adds an integration's update as a `note` on a case within the key's scope. It changes the
/// case's revision and nothing else (an API key holds no role in the loop, so it cannot move a
/// case); the status it brings is kept on the note.
pub async fn post_update(app: &App, key: &ApiKey, update: NewUpdate) -> Result<PostedUpdate, AppError> {
    let id = update.service_request_id.as_str();
    let update_id = super::idempotency_key("update_id", Some(&update.update_id))?.unwrap_or_default();
    if let Some(found) = app.db().note_by_update_id(key.id, &update_id).await? {
        let record = app
            .db()
            .case_by_id(found.case_id)
            .await?
            .ok_or_else(|| unknown_request(id))?;
        return Ok(PostedUpdate {
            case_number: record.flow.number,
            note: found,
        });
    }
    let record = case_of(app, id).await?;
    if !key_reaches(key, &record.flow.node) {
        return Err(AppError::new(
            ErrorCode::OutsideKeyScope,
            Some("api_key"),
            format!("此 api_key 只能更新 {} 范围内的请求", key.scope_code),
            format!("this api_key updates only requests within {}", key.scope_code),
        ));
    }
    let status = update.status.to_ascii_uppercase();
    if !POST_STATUSES.contains(&status.as_str()) {
        return Err(bad(
            "status",
            ErrorCode::InvalidStatus,
            format!("status 应为 {} 之一，实际为 {status:?}", POST_STATUSES.join(", ")),
            format!("status must be one of {}; got {status:?}", POST_STATUSES.join(", ")),
        ));
    }
    let updated = datetime("updated_datetime", &update.updated_datetime)?;
    if update.description.chars().count() > MAX_NOTE_CHARS {
        return Err(bad(
            "description",
            ErrorCode::DescriptionTooLong,
            format!("描述不能超过{MAX_NOTE_CHARS}字"),
            format!("the description has more than {MAX_NOTE_CHARS} characters"),
        ));
    }
    let mut open311 = Map::new();
    open311.insert("api_key".into(), json!(key.name));
    open311.insert("update_id".into(), json!(update_id));
    open311.insert("status".into(), json!(status));
    let shown = city_time(updated).to_rfc3339_opts(SecondsFormat::Secs, false);
    open311.insert("updated_datetime".into(), json!(shown));
    insert_sent(
        &mut open311,
        [
            ("account_id", update.account_id),
            ("service_request_id_ext", update.service_request_id_ext),
            ("title", update.title),
        ],
    );
    if !update.media_urls.is_empty() {
        open311.insert("media_url".into(), json!(update.media_urls));
    }
    let body = json!({"note": update.description, "open311": open311});
    let audit_key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let actor = key_actor(key);
    let note = app
        .db()
        .add_note(
            &record,
            key.id,
            &update_id,
            &actor.account,
            &body,
            Utc::now(),
            &audit_key,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => AppError::new(
                ErrorCode::CaseChanged,
                None,
                "案件刚被他人处理，请重试",
                "the case was just changed by someone else; try again",
            ),
            other => other.into(),
        })?;
    if !note.replayed
        && let Some(updated) = app.db().case_by_id(record.id).await?
    {
        publish(app, &updated, NOTE_KIND);
    }
    Ok(PostedUpdate {
        case_number: record.flow.number,
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_project_onto_open_and_closed() {
        for s in CaseState::ALL {
            assert_eq!(Status::of(s) == Status::Closed, !s.is_open(), "{s:?}");
        }
    }

    #[test]
    fn windows_default_and_refuse_what_the_spec_refuses() {
        let now = Utc::now();
        let w = Window::of_requests(None, None, now).unwrap();
        assert_eq!((w.end, w.end - w.start), (now, Duration::days(MAX_SPAN_DAYS)));
        let w = Window::of_updates(None, None, now).unwrap();
        assert_eq!(w.end - w.start, Duration::hours(DEFAULT_UPDATES_WINDOW_HOURS));
        assert!(Window::of_requests(Some(now), Some(now - Duration::hours(1)), now).is_err());
        assert!(Window::of_updates(Some(now - Duration::days(MAX_SPAN_DAYS + 1)), None, now).is_err());
    }
}
