//! Inboxes by role (待办): the inbox overview and one page per inbox
//! ([`gongzhi_app::cases::inbox`] counts, caches and lists them).

use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;

use crate::json::Query;
use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Html;
use chrono::Utc;
use gongzhi_app::cases;
use gongzhi_core::cases::inbox::Inbox;
use serde_json::{Value, json};

use super::lists::{CaseTable, PAGE_SIZE, Pager, case_table, max_page, page_number};
use crate::pages::{Chrome, render};
use crate::people::session::Staff;
use crate::{ApiError, AppState};

struct InboxCard {
    slug: &'static str,
    label: &'static str,
    count: i64,
    work: bool,
}

#[derive(Template)]
#[template(path = "cases/inbox.html")]
struct InboxPage {
    c: Chrome,
    title: String,
    cards: Vec<InboxCard>,
    work_total: i64,
    current: Option<&'static str>,
    table: CaseTable,
    pager: Pager,
}

#[derive(serde::Deserialize)]
pub struct PageParam {
    page: Option<String>,
}

async fn inbox_page(
    state: &AppState,
    staff: &Staff,
    inbox: Option<Inbox>,
    page: i64,
) -> Result<Html<String>, ApiError> {
    let lang = staff.lang;
    let counts = cases::inbox::cached_counts(state, &staff.actor).await?;
    let work_total = counts.iter().filter(|(i, _)| i.is_work()).map(|(_, n)| n).sum();
    let cards = counts
        .iter()
        .map(|(i, n)| InboxCard {
            slug: i.slug(),
            label: i.label(lang),
            count: *n,
            work: i.is_work(),
        })
        .collect();
    let title = match inbox {
        Some(i) => i.label(lang).to_string(),
        None => lang.pick("我的待办", "My inbox").to_string(),
    };
    let now = Utc::now();
    let listed = cases::inbox::cases(state, &staff.actor, inbox, (page - 1) * PAGE_SIZE, PAGE_SIZE, now).await?;
    let base = match inbox {
        Some(i) => format!("/inbox/{}?", i.slug()),
        None => "/inbox?".to_string(),
    };
    let page_view = InboxPage {
        c: Chrome::for_staff(staff, "/inbox"),
        title,
        cards,
        work_total,
        current: inbox.map(Inbox::slug),
        table: case_table(state, &listed.cases, lang, now),
        pager: Pager {
            exact: listed.total_exact,
            ..Pager::new(&base, page, listed.total, max_page(state))
        },
    };
    render(&page_view)
}

/// `GET /inbox`: every inbox with its count, and what waits in all of them, nearest deadline first.
pub async fn overview(
    State(state): State<AppState>,
    staff: Staff,
    Query(p): Query<PageParam>,
) -> Result<Html<String>, ApiError> {
    inbox_page(&state, &staff, None, page_number(&state, p.page.as_deref())?).await
}

/// `GET /inbox/{name}`: one inbox's cases, nearest deadline first.
pub async fn one(
    State(state): State<AppState>,
    staff: Staff,
    Path(name): Path<String>,
    Query(p): Query<PageParam>,
) -> Result<Html<String>, ApiError> {
    let inbox = Inbox::parse(&name)
        .filter(|i| i.query(&staff.actor).is_some())
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::UnknownInbox,
                Some("name"),
                format!("没有名为 {name} 的待办箱，或它不属于您的角色"),
                format!("there is no inbox {name:?} for your roles"),
            )
        })?;
    inbox_page(&state, &staff, Some(inbox), page_number(&state, p.page.as_deref())?).await
}

/// `GET /inbox/counts.json`: the counts the navigation shows, which its script reloads when a
/// case event arrives.
pub async fn counts_json(State(state): State<AppState>, staff: Staff) -> Result<Json<Value>, ApiError> {
    let counts = cases::inbox::cached_counts(&state, &staff.actor).await?;
    let total: i64 = counts.iter().filter(|(i, _)| i.is_work()).map(|(_, n)| n).sum();
    let inboxes: serde_json::Map<String, Value> =
        counts.iter().map(|(i, n)| (i.slug().to_string(), json!(n))).collect();
    Ok(Json(json!({"total": total, "inboxes": inboxes})))
}
