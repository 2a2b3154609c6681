//! The phone pages of residents. Forms work without JavaScript (the place falls back to choosing
//! the community); a few lines of script fill in the location from the browser. Reports enter the
//! loop through [`gongzhi_app::cases::report`] with channel `resident`, ratings through [`cases::perform`].

use crate::json::Form;
use crate::json::Query;
use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use gongzhi_app::AppError;
use gongzhi_app::cogov::nearby::CaseRecord;
use gongzhi_app::cogov::reports::{self, MyCase};
use gongzhi_app::people::residents::{self, SignIn};
use gongzhi_core::ErrorCode;
use gongzhi_core::Lang;
use gongzhi_core::Localized;
use gongzhi_core::cases::flow::{CaseNumber, State as CaseState};
use gongzhi_core::people::resident::Phone;
use serde::Deserialize;
use serde_json::json;

use super::{RESIDENT_COOKIE, ResidentUser};
use crate::cases::pages::{read_form, save_photo_ids};
use crate::cases::phone_form::phone_report;
use crate::error::say_retry_after;
use crate::pages::local_time;
use crate::people::session::{cookie, same_secret, session_cookie};
use crate::people::source::ClientAddr;
use crate::{ApiError, AppState, ReqLang};
use gongzhi_app::cases;
use gongzhi_app::people::random_token;

const FORM_COOKIE: &str = "gz_resident_form";

/// Matters residents report most, offered first (any other by search).
const COMMON_MATTERS: [&str; 10] = [
    "06010", "06042", "06013", "06028", "09009", "10001", "01037", "06036", "07001", "06027",
];

/// The frame of a phone page.
pub struct MChrome {
    pub lang: Lang,
    pub csrf: String,
    /// The signed-in resident's masked phone.
    pub phone: Option<String>,
    pub path: String,
}

impl MChrome {
    pub fn tr<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(zh, en)
    }
    pub fn lang_tag(&self) -> &'static str {
        self.lang.tag()
    }
    pub fn other_lang(&self) -> (&'static str, &'static str) {
        match self.lang {
            Lang::Zh => ("English", "en"),
            Lang::En => ("中文", "zh-CN"),
        }
    }
    pub fn of(r: &ResidentUser, path: &str) -> MChrome {
        MChrome {
            lang: r.lang,
            csrf: r.csrf.clone(),
            phone: Some(r.resident.phone_masked.clone()),
            path: path.to_string(),
        }
    }
}

pub(crate) fn render(page: impl Template, status: StatusCode) -> Result<Response, ApiError> {
    let html = page.render().map_err(|e| AppError::internal(&e))?;
    Ok((status, Html(html)).into_response())
}

fn lang_suffix(lang: Lang, first: bool) -> &'static str {
    match (lang, first) {
        (Lang::En, true) => "?lang=en",
        (Lang::En, false) => "&lang=en",
        _ => "",
    }
}

/// Only a path under `/m/` may follow sign-in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/m/") && !n.contains("//") && !n.contains('\\') => n.to_string(),
        _ => "/m/reports".to_string(),
    }
}

/// `GET /m`: the resident picks their community once, then sees my reports; the sign-in page when
/// not signed in.
pub async fn start(State(state): State<AppState>, r: ResidentUser) -> Result<Redirect, ApiError> {
    if gongzhi_app::cogov::community_of(&state, &r.resident).await?.is_none() {
        return Ok(Redirect::to("/m/community"));
    }
    Ok(Redirect::to("/m/reports"))
}

#[derive(Template)]
#[template(path = "resident/login.html")]
struct LoginPage {
    c: MChrome,
    form_token: String,
    next: String,
    phone: String,
    /// The second step: a code was sent.
    code_sent: bool,
    error: Option<String>,
    error_field: String,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn login_page(
    status: StatusCode,
    lang: Lang,
    next: String,
    phone: String,
    code_sent: bool,
    error: Option<(&'static str, String)>,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let form_token = random_token();
    let (error_field, error) = match error {
        Some((f, m)) => (f.to_string(), Some(m)),
        None => (String::new(), None),
    };
    let page = LoginPage {
        c: MChrome {
            lang,
            csrf: String::new(),
            phone: None,
            path: "/m/login".into(),
        },
        form_token: form_token.clone(),
        next,
        phone,
        code_sent,
        error,
        error_field,
        notice,
    };
    let mut response = render(page, status)?;
    response
        .headers_mut()
        .append(header::SET_COOKIE, session_cookie(FORM_COOKIE, &form_token, 3600));
    Ok(response)
}

/// `GET /m/login`
pub async fn login_form(ReqLang(lang): ReqLang, Query(q): Query<LoginQuery>) -> Result<Response, ApiError> {
    login_page(
        StatusCode::OK,
        lang,
        safe_next(q.next.as_deref()),
        String::new(),
        false,
        None,
        None,
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    next: String,
}

fn form_ok(headers: &HeaderMap, token: &str) -> bool {
    let planted = cookie(headers, FORM_COOKIE).unwrap_or("");
    !token.is_empty() && same_secret(planted, token)
}

fn expired_form(lang: Lang) -> (&'static str, String) {
    (
        "form",
        lang.pick("页面已过期，请重新操作", "the page expired; please try again")
            .into(),
    )
}

/// `POST /m/login/code`: sends a one-time code to the phone, then asks for it.
pub async fn send_code(
    State(state): State<AppState>,
    ReqLang(lang): ReqLang,
    ClientAddr(source): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let next = safe_next(Some(&form.next));
    let again = |status, sent, e| login_page(status, lang, next.clone(), form.phone.clone(), sent, Some(e), None);
    if !form_ok(&headers, &form.form_token) {
        return again(StatusCode::FORBIDDEN, false, expired_form(lang));
    }
    let phone = match Phone::parse(&form.phone) {
        Ok(p) => p,
        Err(e) => return again(StatusCode::UNPROCESSABLE_ENTITY, false, ("phone", e.message(lang))),
    };
    if let Err(e) = residents::send_code(&state, &phone, &source).await {
        // Sent too recently (that code stands: the page asks for it), too many codes from this
        // address, or the gateway failed.
        let Some(field) = e.field else { return Err(e) };
        let sent = e.code == ErrorCode::CodeTooSoon;
        let mut page = again(e.http_status(), sent, (field, e.message(lang).to_string()))?;
        say_retry_after(&mut page, e.retry_after);
        return Ok(page);
    }
    let policy = &state.security;
    let notice = match lang {
        Lang::Zh => format!(
            "验证码已发送至 {}，{}分钟内有效",
            phone.masked(),
            policy.resident_code_minutes
        ),
        Lang::En => format!(
            "a code was sent to {}; it is good for {} minutes",
            phone.masked(),
            policy.resident_code_minutes
        ),
    };
    login_page(StatusCode::OK, lang, next, form.phone.clone(), true, None, Some(notice))
}

/// `POST /m/login`: checks the code and starts a resident session.
pub async fn login(
    State(state): State<AppState>,
    ReqLang(lang): ReqLang,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let next = safe_next(Some(&form.next));
    let again = |status, e| login_page(status, lang, next.clone(), form.phone.clone(), true, Some(e), None);
    if !form_ok(&headers, &form.form_token) {
        return again(StatusCode::FORBIDDEN, expired_form(lang));
    }
    let phone = match Phone::parse(&form.phone) {
        Ok(p) => p,
        Err(e) => return again(StatusCode::UNPROCESSABLE_ENTITY, ("phone", e.message(lang))),
    };
    let session = match residents::sign_in(
        &state,
        SignIn {
            phone,
            code: form.code.clone(),
        },
    )
    .await
    {
        Ok(session) => session,
        // A refused code: every such page answers 422, whatever the code's own status.
        Err(e) => match e.field {
            Some(field) => return again(StatusCode::UNPROCESSABLE_ENTITY, (field, e.message(lang).to_string())),
            None => return Err(e),
        },
    };
    let mut response = Redirect::to(&next).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session_cookie(RESIDENT_COOKIE, &session.secret, session.max_age.num_seconds()),
    );
    Ok(response)
}

/// `POST /m/logout`
pub async fn logout(
    State(state): State<AppState>,
    r: ResidentUser,
    Form(form): Form<crate::people::pages::CsrfOnly>,
) -> Result<Response, ApiError> {
    r.check_csrf(&form.csrf)?;
    residents::sign_out(&state, &r.resident, &r.session_hash).await?;
    let mut response = Redirect::to("/m/login").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, session_cookie(RESIDENT_COOKIE, "", 0));
    Ok(response)
}

#[derive(Template)]
#[template(path = "resident/report.html")]
struct ReportPage {
    c: MChrome,
    matters: Vec<(String, String)>,
    communities: Vec<String>,
    key: String,
    matter: String,
    matter_other: String,
    description: String,
    community: String,
    anonymous: bool,
    error: Option<String>,
    error_field: String,
}

fn report_page(
    state: &AppState,
    r: &ResidentUser,
    posted: Option<&crate::cases::pages::Posted>,
    error: Option<&ApiError>,
) -> ReportPage {
    let rules = state.rules();
    let matters = COMMON_MATTERS
        .iter()
        .filter_map(|code| {
            let t = gongzhi_core::cases::taxonomy::TypeCode::parse(code).ok()?;
            rules.taxonomy.matter(&t).map(|e| (code.to_string(), e.name.clone()))
        })
        .collect();
    let index = state.index();
    let mut communities: Vec<String> = index
        .communities()
        .map(|l| format!("{} {} {}", l.district.name, l.street.name, l.community.name))
        .collect();
    communities.sort();
    communities.dedup();
    let get = |n: &str| posted.and_then(|p| p.get(n)).unwrap_or("").to_string();
    ReportPage {
        c: MChrome::of(r, "/m/report"),
        matters,
        communities,
        // A retried form keeps its key: one form makes one case however often it is sent.
        key: posted
            .and_then(|p| p.get("idempotency_key"))
            .map_or_else(random_token, str::to_string),
        matter: get("matter"),
        matter_other: get("matter_other"),
        description: get("description"),
        community: get("community"),
        anonymous: posted.is_some_and(|p| p.get("anonymous").is_some()),
        error: error.map(|e| e.message(r.lang).to_string()),
        error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
    }
}

/// `GET /m/report`
pub async fn report_form(State(state): State<AppState>, r: ResidentUser) -> Result<Response, ApiError> {
    render(report_page(&state, &r, None, None), StatusCode::OK)
}

/// `POST /m/report`: one case through the intake path of every channel.
pub async fn report(State(state): State<AppState>, r: ResidentUser, request: Request) -> Result<Response, ApiError> {
    let posted = read_form(&state, request).await?;
    r.check_csrf(posted.get("csrf").unwrap_or(""))?;
    let actor = r.actor();
    let outcome = async {
        let key = gongzhi_app::cases::idempotency_key("idempotency_key", posted.get("idempotency_key"))?;
        // Without the browser's location, the community the resident chose places the report.
        let community = if posted.get("lon").is_none() {
            posted.get("community")
        } else {
            None
        };
        let mut report = phone_report(&state, &posted, "resident", key, community)?;
        report
            .detail
            .insert("anonymous".into(), json!(posted.get("anonymous").is_some()));
        cases::check(&state, &actor, &report)?;
        report.photos = save_photo_ids(&state, &actor, &posted, "photos").await?;
        cases::report(&state, &actor, report).await
    }
    .await;
    match outcome {
        Ok(reported) => Ok(Redirect::to(&format!(
            "/m/reports/{}?done=report{}",
            reported.record.flow.number,
            lang_suffix(r.lang, false)
        ))
        .into_response()),
        Err(e) if e.http_status().is_client_error() => {
            let status = e.http_status();
            render(report_page(&state, &r, Some(&posted), Some(&e)), status)
        }
        Err(e) => Err(e),
    }
}

/// One of my reports as a list row.
pub(crate) struct Row {
    pub number: String,
    pub matter: String,
    pub state: &'static str,
    pub reported_at: String,
}

pub(crate) fn row(rec: &CaseRecord, state: &AppState, lang: Lang) -> Row {
    let rules = state.rules();
    let matter = gongzhi_core::cases::taxonomy::TypeCode::parse(&rec.flow.matter)
        .ok()
        .and_then(|t| rules.taxonomy.matter(&t).map(|e| e.name.clone()))
        .unwrap_or_else(|| rec.flow.matter.clone());
    Row {
        number: rec.flow.number.to_string(),
        matter,
        state: rec.flow.state.label(lang),
        reported_at: local_time(rec.reported_at),
    }
}

#[derive(Template)]
#[template(path = "resident/reports.html")]
struct ReportsPage {
    c: MChrome,
    rows: Vec<Row>,
    /// The cases I follow ("me too"), with their followers.
    followed: Vec<(Row, i64)>,
}

/// `GET /m/reports`: my reports, newest first, then the cases I follow.
pub async fn my_reports(State(state): State<AppState>, r: ResidentUser) -> Result<Response, ApiError> {
    let mine = reports::my_reports(&state, &r.resident).await?;
    let rows = mine.reported.iter().map(|rec| row(rec, &state, r.lang)).collect();
    let followed = mine
        .followed
        .iter()
        .map(|c| (row(&c.record, &state, r.lang), c.followers))
        .collect();
    render(
        ReportsPage {
            c: MChrome::of(&r, "/m/reports"),
            rows,
            followed,
        },
        StatusCode::OK,
    )
}

/// One step of the public timeline: what happened and when, never who.
struct PublicStep {
    at: String,
    label: String,
    state: String,
}

#[derive(Template)]
#[template(path = "resident/case.html")]
struct CasePage {
    c: MChrome,
    row: Row,
    description: String,
    place: String,
    anonymous: bool,
    photos: Vec<String>,
    steps: Vec<PublicStep>,
    /// The rating given, if any.
    rating: Option<String>,
    may_rate: bool,
    /// The resident reported it (else they follow it: no photos, no anonymity, no rating).
    own: bool,
    following: bool,
    followers: i64,
    done: String,
    error: Option<String>,
    error_field: String,
}

/// The case number of the path, or the 404 of a case I did not report.
fn case_number(number: &str) -> Result<CaseNumber, ApiError> {
    CaseNumber::parse(number).map_err(|_| reports::unknown_case(number))
}

fn case_page(state: &AppState, r: &ResidentUser, case: MyCase, done: String, error: Option<&ApiError>) -> CasePage {
    let rules = state.rules();
    let lang = r.lang;
    let steps = gongzhi_app::cases::steps(&case.events, &rules.calendar, lang)
        .into_iter()
        .map(|s| PublicStep {
            at: local_time(s.at),
            label: s.label,
            state: s.to_label.unwrap_or("").to_string(),
        })
        .collect();
    let (rec, own) = (&case.record, case.own);
    let index = state.index();
    let place = rec
        .location
        .community
        .as_deref()
        .and_then(|c| index.communities().find(|l| l.community.code == c))
        .map(|l| format!("{} {} {}", l.district.name, l.street.name, l.community.name))
        .unwrap_or_default();
    let rating = rec.flow.follow_up.as_ref().filter(|f| f.contacted).map(|f| {
        let solved = match f.solved {
            Some(true) => lang.pick("已解决", "solved"),
            _ => lang.pick("未解决", "not solved"),
        };
        format!("{} · {}", f.satisfaction.map_or("", |s| s.label(lang)), solved)
    });
    let rating = rating.filter(|_| own);
    let may_rate = own && rec.flow.state == CaseState::Closed && rating.is_none();
    CasePage {
        c: MChrome::of(r, "/m/reports"),
        row: row(rec, state, lang),
        description: rec.description.clone(),
        place,
        anonymous: case.anonymous,
        photos: case.photos,
        steps,
        rating,
        may_rate,
        own,
        following: case.following,
        followers: case.followers,
        done,
        error: error.map(|e| e.message(lang).to_string()),
        error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
    }
}

/// `GET /m/reports/{number}/photos/{id}`: a photo of my report, without its metadata.
pub async fn photo(
    State(state): State<AppState>,
    r: ResidentUser,
    Path((number, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reports::own_photo(&state, &r.resident, &case_number(&number)?, &id).await?;
    crate::cases::attachment::public_response(&state, &id, &headers).await
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `GET /m/reports/{number}`: my report as I see it: state, steps and times, and the rating.
pub async fn my_report(
    State(state): State<AppState>,
    r: ResidentUser,
    Path(number): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, ApiError> {
    let case = reports::my_case(&state, &r.resident, &case_number(&number)?).await?;
    render(
        case_page(&state, &r, case, q.done.unwrap_or_default(), None),
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct RateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    satisfaction: String,
    #[serde(default)]
    solved: String,
}

/// `POST /m/reports/{number}/rate`: the reporter's own follow-up (回访), through the loop.
pub async fn rate(
    State(state): State<AppState>,
    r: ResidentUser,
    Path(number): Path<String>,
    Form(form): Form<RateForm>,
) -> Result<Response, ApiError> {
    r.check_csrf(&form.csrf)?;
    let n = case_number(&number)?;
    let rec = reports::own_case(&state, &r.resident, &n).await?;
    let solved = match form.solved.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let satisfaction = match form.satisfaction.as_str() {
        "" => None,
        s => Some(s),
    };
    let action = json!({"action": "follow_up", "contacted": true, "solved": solved, "satisfaction": satisfaction});
    let rated = async { cases::perform(&state, &r.actor(), rec, cases::parse_action(action)?).await }.await;
    match rated {
        Ok(_) => {
            Ok(Redirect::to(&format!("/m/reports/{number}?done=rate{}", lang_suffix(r.lang, false))).into_response())
        }
        Err(e) if e.http_status().is_client_error() => {
            let status = e.http_status();
            let case = reports::my_case(&state, &r.resident, &n).await?;
            render(case_page(&state, &r, case, String::new(), Some(&e)), status)
        }
        Err(e) => Err(e),
    }
}
