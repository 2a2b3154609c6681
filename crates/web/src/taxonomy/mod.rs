//! The matter picker and the departments: `GET /api/v1/taxonomy/matters?q=`,
//! `GET /api/v1/taxonomy/matters/{code}` and `GET /api/v1/departments`.
//!
//! Public: the taxonomy is a national standard (plus the city's published extensions) and the
//! departments are public bodies.

use crate::json::Query;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use gongzhi_core::Localized;
use gongzhi_core::cases::taxonomy::{EntryKind, TypeCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{ApiError, AppState};

/// Matters a picker shows unless it asks for more.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 500;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/taxonomy/matters", get(search))
        .route("/api/v1/taxonomy/matters/{code}", get(matter))
        .route("/api/v1/departments", get(departments))
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v1/taxonomy/matters?q=&limit=`: matters whose name contains `q` (积雪), whose pinyin
/// initials match it (jx) or whose code starts with it (1000), best first; without `q`, the
/// matters in code order. At most `limit` (default 20).
async fn search(State(state): State<AppState>, Query(q): Query<SearchQuery>) -> Result<Json<Value>, ApiError> {
    let limit = match q.limit.as_deref() {
        None | Some("") => DEFAULT_LIMIT,
        Some(s) => s
            .parse::<usize>()
            .map_err(|_| AppError::not_a_number("limit", s))?
            .clamp(1, MAX_LIMIT),
    };
    let rules = state.rules();
    let query = q.q.as_deref().unwrap_or("").trim();
    let matters: Vec<_> = if query.is_empty() {
        rules.taxonomy.matters().take(limit).collect()
    } else {
        // Components share the search; the picker wants matters only.
        rules
            .taxonomy
            .search(query, usize::MAX)
            .into_iter()
            .filter(|e| e.kind == EntryKind::Matter)
            .take(limit)
            .collect()
    };
    Ok(Json(json!({ "q": query, "matters": matters })))
}

/// `GET /api/v1/taxonomy/matters/{code}`: one matter with the rules of the list in force that
/// cover it (who handles it, within which limits).
async fn matter(State(state): State<AppState>, Path(code): Path<String>) -> Result<Json<Value>, ApiError> {
    let code = TypeCode::parse(&code).map_err(|e| {
        AppError::new(
            e.code(),
            Some("code"),
            e.message(gongzhi_core::Lang::Zh),
            e.message(gongzhi_core::Lang::En),
        )
    })?;
    let rules = state.rules();
    let entry = rules.taxonomy.matter(&code).ok_or_else(|| {
        AppError::new(
            ErrorCode::UnknownMatter,
            Some("code"),
            format!("事项分类代码 {code} 不存在"),
            format!("no matter has code {code}"),
        )
    })?;
    let covering: Vec<_> = rules
        .responsibility
        .rules()
        .iter()
        .filter(|r| r.matter.covers_type(&code))
        .collect();
    let mut body = json!(entry);
    body["list_version"] = json!(rules.responsibility.version);
    body["rules"] = json!(covering);
    Ok(Json(body))
}

/// `GET /api/v1/departments`: the city's functional departments, `{code, name}`.
async fn departments(State(state): State<AppState>) -> Json<Value> {
    let rules = state.rules();
    let list: Vec<_> = rules.departments.iter().collect();
    Json(json!({ "departments": list }))
}
