//! The case list of the staff web: the reader's cases with filters, sort and numbered pages,
//! and the same list as an Excel file. The table is shared with the inboxes.

use crate::json::Query;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use gongzhi_app::AppError;
use gongzhi_app::cases::{self, CaseRecord, Sort};
use gongzhi_core::ErrorCode;
use gongzhi_core::Lang;
use gongzhi_core::cases::UnitRef;
use gongzhi_core::cases::flow::{State as CaseState, next_deadline, overdue, remaining_minutes};
use gongzhi_core::cases::intake::Channel;
use gongzhi_core::cases::taxonomy::TypeCode;
use serde::Deserialize;

use super::api::ListParams;
use crate::pages::{Chrome, local_time, render};
use crate::people::session::Staff;
use crate::{ApiError, AppState};

/// Rows on a page of a staff list.
pub const PAGE_SIZE: i64 = 50;

/// One case as a list row.
pub struct CaseRow {
    pub id: i64,
    pub number: String,
    pub matter: String,
    pub description: String,
    pub place: String,
    pub state: &'static str,
    pub lead: String,
    pub reported: String,
    pub deadline: String,
    /// Working time left to the next deadline, or how late it is.
    pub remaining: String,
    pub overdue: bool,
    pub supervised: bool,
}

/// The rows of a list with the words of its header.
pub struct CaseTable {
    pub rows: Vec<CaseRow>,
    pub lang: Lang,
}

impl CaseTable {
    pub fn tr<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(zh, en)
    }
}

/// Working minutes as people say them: `2天3小时`, `45分钟` (a working day is 8 hours).
pub fn work_time(minutes: i64, lang: Lang) -> String {
    let m = minutes.abs();
    let (days, hours, mins) = (m / 480, (m % 480) / 60, m % 60);
    match lang {
        Lang::Zh if days > 0 => format!("{days}个工作日{hours}小时"),
        Lang::Zh if hours > 0 => format!("{hours}小时{mins}分钟"),
        Lang::Zh => format!("{mins}分钟"),
        Lang::En if days > 0 => format!("{days} working days {hours} h"),
        Lang::En if hours > 0 => format!("{hours} h {mins} min"),
        Lang::En => format!("{mins} min"),
    }
}

/// The name of a lead unit as the rules know it.
pub fn unit_name(state: &AppState, unit: &UnitRef) -> String {
    let rules = state.rules();
    match unit {
        UnitRef::Department(d) => rules
            .departments
            .get(d)
            .map_or_else(|| d.to_string(), |d| d.name.clone()),
        UnitRef::Territory(t) => node_name(state, t.as_str()),
        UnitRef::GridWorker(g) => format!("{}（网格员）", node_name(state, g.as_str())),
        // Lists do not read the registry per row: the case page names the organization.
        UnitRef::Organization(o) => format!("辖区单位 {o}"),
    }
}

/// A grid's or community's name from the index, else the code.
fn node_name(state: &AppState, code: &str) -> String {
    let index = state.index();
    if let Some(l) = index.by_code.get(code) {
        return format!("{} {}", l.community.name, l.grid.name);
    }
    index
        .communities()
        .find(|l| l.community.code == code)
        .map(|l| l.community.name.clone())
        .or_else(|| {
            index
                .by_code
                .values()
                .find(|l| l.street.code == code)
                .map(|l| l.street.name.clone())
        })
        .unwrap_or_else(|| code.to_string())
}

pub fn case_table(state: &AppState, cases: &[CaseRecord], lang: Lang, now: DateTime<Utc>) -> CaseTable {
    let rules = state.rules();
    let index = state.index();
    let rows = cases
        .iter()
        .map(|r| {
            let c = &r.flow;
            let matter = TypeCode::parse(&c.matter)
                .ok()
                .and_then(|t| rules.taxonomy.matter(&t).map(|e| e.name.clone()))
                .unwrap_or_else(|| c.matter.clone());
            let place = match r.location.grid.as_deref().and_then(|g| index.by_code.get(g)) {
                Some(l) => format!("{} · {}", l.community.name, l.grid.name),
                None => r.location.address.clone().unwrap_or_else(|| c.node.to_string()),
            };
            let late = overdue(c, now);
            let remaining = match remaining_minutes(c, now, &rules.calendar) {
                Some(m) if late => format!("{}{}", lang.pick("超期 ", "late "), work_time(m, lang)),
                Some(m) => work_time(m, lang),
                None => String::new(),
            };
            let description: String = r.description.chars().take(40).collect();
            CaseRow {
                id: r.id,
                number: c.number.to_string(),
                matter,
                description,
                place,
                state: c.state.label(lang),
                lead: c.lead.as_ref().map(|u| unit_name(state, u)).unwrap_or_default(),
                reported: local_time(r.reported_at),
                deadline: next_deadline(c).map(local_time).unwrap_or_default(),
                remaining,
                overdue: late,
                supervised: c.supervision.is_some(),
            }
        })
        .collect();
    CaseTable { rows, lang }
}

/// Numbered pages: the current one, its neighbours, the first and the last.
pub struct Pager {
    pub total: i64,
    /// `false`: more than `total` match (the count stops there).
    pub exact: bool,
    pub page: i64,
    pub pages: i64,
    /// (page number, link); `None` links are gaps (…).
    pub links: Vec<(i64, Option<String>)>,
    /// The link to the next page that carries the key it starts after ("下一页").
    pub next: Option<String>,
}

impl Pager {
    /// `base` ends with `?` or `&`: the page parameter is appended. No link goes deeper than
    /// `max_page` (the list's reach, [`max_page`]).
    pub fn new(base: &str, page: i64, total: i64, max_page: i64) -> Pager {
        let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).clamp(1, max_page.max(1));
        let mut links = Vec::new();
        let mut last_shown = 0;
        for n in 1..=pages {
            if n == 1 || n == pages || (n - page).abs() <= 2 {
                if n > last_shown + 1 {
                    links.push((0, None));
                }
                links.push((n, Some(format!("{base}page={n}"))));
                last_shown = n;
            }
        }
        Pager {
            total,
            exact: true,
            page,
            pages,
            links,
            next: None,
        }
    }

    /// The pager of a listed page: its count (exact or "more than") and a link to the next page
    /// that carries the key that page starts after, so that the database seeks to it instead of
    /// skipping the rows before it (the numbered links skip, at most to the list's reach).
    pub fn of(base: &str, page: i64, listed: &cases::CasePage, sort: Sort, max_page: i64) -> Pager {
        let mut pager = Pager::new(base, page, listed.total, max_page);
        pager.exact = listed.total_exact;
        if let Some(key) = listed.next
            && page < pager.pages
        {
            let after = urlencode(&key.encode(sort.into()));
            pager.next = Some(format!("{base}page={}&after={after}", page + 1));
        }
        pager
    }

    /// The count as people read it: `10,000`.
    pub fn total_grouped(&self) -> String {
        let digits = self.total.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    }
}

/// The page asked for by `?page=` (1 when absent), at most as deep as the security policy's
/// `list_max_rows` reach: a deeper page is a 400 naming `page` (the reader narrows the filters;
/// the database never skips more than that many rows).
pub fn page_number(state: &AppState, page: Option<&str>) -> Result<i64, ApiError> {
    let page = match page.filter(|s| !s.is_empty()) {
        None => 1,
        Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidPage,
                Some("page"),
                format!("页码 page 应为正整数，实际为 {s:?}"),
                format!("page must be a positive whole number; got {s:?}"),
            )
        })?,
    };
    let last = max_page(state);
    if page > last {
        return Err(AppError::new(
            ErrorCode::InvalidPage,
            Some("page"),
            format!(
                "页码 page 最大为 {last}（前 {} 条）；请用筛选条件缩小列表",
                last * PAGE_SIZE
            ),
            format!(
                "page may be at most {last} (the first {} rows); narrow the list with its filters",
                last * PAGE_SIZE
            ),
        ));
    }
    Ok(page)
}

/// The deepest page a staff list shows.
pub fn max_page(state: &AppState) -> i64 {
    (state.security.list_max_rows / PAGE_SIZE).max(1)
}

/// The list's own parameters beside the API's filters.
#[derive(Deserialize, Default)]
pub struct ListView {
    sort: Option<String>,
    page: Option<String>,
    /// The key the page starts after, as the previous page's "next" link carries it.
    after: Option<String>,
}

fn sort_of(v: &ListView) -> Result<Sort, ApiError> {
    super::api::sort_param(v.sort.as_deref())
}

/// The query string of the filters in force, to carry into page links and the export.
fn query_of(p: &ListParams, v: &ListView) -> String {
    let pairs = [
        ("state", &p.state),
        ("within", &p.within),
        ("matter", &p.matter),
        ("channel", &p.channel),
        ("overdue", &p.overdue),
        ("supervised", &p.supervised),
        ("from", &p.from),
        ("to", &p.to),
        ("sort", &v.sort),
    ];
    pairs
        .iter()
        .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (k, v)))
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The filter form's current values and choices.
struct FilterForm {
    state: String,
    within: String,
    matter: String,
    channel: String,
    overdue: bool,
    supervised: bool,
    from: String,
    to: String,
    sort: String,
    states: Vec<(&'static str, &'static str)>,
    channels: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "cases/list.html")]
struct ListPage {
    c: Chrome,
    f: FilterForm,
    table: CaseTable,
    pager: Pager,
    export: String,
}

/// `GET /cases`: the reader's cases, filtered, sorted and paged.
pub async fn list_page(
    State(state): State<AppState>,
    staff: Staff,
    Query(p): Query<ListParams>,
    Query(v): Query<ListView>,
) -> Result<Html<String>, ApiError> {
    let lang = staff.lang;
    let sort = sort_of(&v)?;
    let page = page_number(&state, v.page.as_deref())?;
    let now = Utc::now();
    let start = match v.after.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => cases::Start::After(cases::cursor("after", a, sort)?),
        None => cases::Start::Offset((page - 1) * PAGE_SIZE),
    };
    let listed = cases::page(
        &state,
        &staff.actor,
        &p.query()?,
        sort,
        start,
        PAGE_SIZE,
        state.security.list_max_rows,
        now,
    )
    .await?;
    let query = query_of(&p, &v);
    let base = if query.is_empty() {
        "/cases?".to_string()
    } else {
        format!("/cases?{query}&")
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let on = |v: &Option<String>| matches!(v.as_deref(), Some("true" | "1" | "yes" | "on"));
    let f = FilterForm {
        state: text(&p.state),
        within: text(&p.within),
        matter: text(&p.matter),
        channel: text(&p.channel),
        overdue: on(&p.overdue),
        supervised: on(&p.supervised),
        from: text(&p.from),
        to: text(&p.to),
        sort: text(&v.sort),
        states: CaseState::ALL.iter().map(|s| (s.as_str(), s.label(lang))).collect(),
        channels: Channel::ALL.iter().map(|c| (c.as_str(), c.label(lang))).collect(),
    };
    let page_view = ListPage {
        c: Chrome::for_staff(&staff, "/cases"),
        f,
        table: case_table(&state, &listed.cases, lang, now),
        pager: Pager::of(&base, page, &listed, sort, max_page(&state)),
        export: format!("/cases.xlsx?{query}"),
    };
    render(&page_view)
}

/// `GET /cases.xlsx`: the same list (every page, up to [`cases::EXPORT_CAP`] rows) as an Excel file;
/// every export is audited with its filters and its row count.
pub async fn export(
    State(state): State<AppState>,
    staff: Staff,
    Query(p): Query<ListParams>,
    Query(v): Query<ListView>,
) -> Result<Response, ApiError> {
    let lang = staff.lang;
    let sort = sort_of(&v)?;
    let now = Utc::now();
    let listed = cases::export(&state, &staff.actor, &p.query()?, sort, &query_of(&p, &v), now).await?;
    let table = case_table(&state, &listed.cases, lang, now);
    let header = [
        ("案件编号", "Case number"),
        ("事项", "Matter"),
        ("描述", "Description"),
        ("位置", "Place"),
        ("状态", "State"),
        ("主办单位", "Lead unit"),
        ("上报时间", "Reported"),
        ("下一时限", "Next deadline"),
        ("剩余工作时间", "Working time left"),
        ("督办", "Supervised"),
    ];
    let mut rows = vec![header.iter().map(|(zh, en)| lang.pick(zh, en).to_string()).collect()];
    for (row, record) in table.rows.iter().zip(&listed.cases) {
        rows.push(vec![
            row.number.clone(),
            row.matter.clone(),
            record.description.clone(),
            row.place.clone(),
            row.state.to_string(),
            row.lead.clone(),
            row.reported.clone(),
            row.deadline.clone(),
            row.remaining.clone(),
            if row.supervised { lang.pick("是", "yes") } else { "" }.to_string(),
        ]);
    }
    let bytes = gongzhi_office::write_xlsx(lang.pick("案件", "Cases"), &rows)
        .map_err(|e| AppError::new(ErrorCode::ExportFailed, None, e.to_string(), e.to_string()))?;
    let name = format!("cases-{}.xlsx", local_time(now).replace([' ', ':'], "-"));
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(gongzhi_office::Format::Xlsx.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
