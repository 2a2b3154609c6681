//! Correcting the registry's places and organizations (修改登记信息): compounds (with their
//! property company and owners' committee), buildings, households, member organizations,
//! departments' posted offices, property companies and party organizations, on a page
//! (`/registry/{kind}/{id}/edit`) and through the API (`PATCH /api/v1/registry/{kind}/{id}`).
//!
//! A field is checked by the column of the import template of the same key, so a value is taken
//! or refused alike on a form, through the API and in a spreadsheet. Who may import an area may
//! correct it (system administrators, street staff and community workers, within their scope);
//! a property company serves compounds anywhere, so it is corrected by those who reach one of
//! its compounds; a posted office belongs to its street, so it is corrected by those who reach
//! the street. An edit is written only if nobody changed the row since the form was opened
//! (409 otherwise), with its audit entry in the same transaction (docs/REGISTRY.md).

use gongzhi_app::AppError;
use gongzhi_app::registry::edit::{Correction, Kind, Loaded, field_refusal};
use gongzhi_core::ErrorCode;
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use gongzhi_core::Lang;
use gongzhi_core::data::Problem;
use gongzhi_core::import::registry::PARTY_MEMBERS;
use gongzhi_core::import::template::CellKind;
use serde_json::{Map, Value, json};

use super::page;
use crate::pages::Chrome;
use crate::people::Authenticated;
use crate::people::session::Staff;
use crate::{ApiError, AppState};

/// The title of a kind's form.
fn title(kind: Kind, lang: Lang) -> &'static str {
    let (zh, en) = match kind {
        Kind::Compound => ("修改小区信息", "Edit a compound"),
        Kind::Building => ("修改楼栋信息", "Edit a building"),
        Kind::Household => ("修改户信息", "Edit a household"),
        Kind::MemberOrganization => ("修改辖区单位信息", "Edit a member organization"),
        Kind::PostedOffice => ("修改派驻机构信息", "Edit a posted office"),
        Kind::PropertyCompany => ("修改物业企业信息", "Edit a property company"),
        Kind::PartyOrganization => ("修改党组织信息", "Edit a party organization"),
        Kind::PartyMember => ("修改党员信息", "Edit a party member"),
    };
    lang.pick(zh, en)
}

pub fn routes() -> Router<AppState> {
    let mut router = Router::new()
        .route("/api/v1/registry/compounds/{id}", api_routes(Kind::Compound))
        .route(
            "/api/v1/registry/member-orgs/{id}",
            api_routes(Kind::MemberOrganization),
        )
        .route("/api/v1/registry/posted-offices/{id}", api_routes(Kind::PostedOffice))
        .route(
            "/api/v1/registry/property-companies/{id}",
            api_routes(Kind::PropertyCompany),
        )
        .route("/api/v1/registry/party-orgs/{id}", api_routes(Kind::PartyOrganization))
        .route("/api/v1/registry/party-members/{id}", api_routes(Kind::PartyMember))
        .route("/registry/party-members", get(find_party_member));
    for kind in Kind::ALL {
        router = router.route(&format!("/registry/{}/{{id}}/edit", kind.path()), form_routes(kind));
    }
    router
}

fn api_routes(kind: Kind) -> MethodRouter<AppState> {
    get(move |s, a, p| api_get(kind, s, a, p)).merge(api_patch_route(kind))
}

/// `PATCH /api/v1/registry/{kind}/{id}`; for buildings and households it joins the GET of the
/// building and household pages' API.
pub fn api_patch_route(kind: Kind) -> MethodRouter<AppState> {
    axum::routing::patch(move |s, a, p, b| api_patch(kind, s, a, p, b))
}

#[derive(serde::Deserialize)]
struct FindQuery {
    #[serde(default)]
    id_number: String,
}

/// `GET /registry/party-members?id_number=…`: a party member is found only by the exact ID
/// number (through the keyed index; members are never listed) and opens in the correction form.
async fn find_party_member(
    State(state): State<AppState>,
    staff: Staff,
    crate::json::Query(q): crate::json::Query<FindQuery>,
) -> Result<Response, ApiError> {
    // Checked like the template's column: a bad number is named, masked, in the message.
    let col = PARTY_MEMBERS.column("id_number").copied().expect("a column");
    let typed = q.id_number.trim();
    let normalized = if typed.is_empty() {
        Err(Problem::Empty)
    } else {
        col.kind.normalize(typed)
    }
    .map_err(|p| field_refusal(&col, &p))?;
    let id_number =
        gongzhi_core::people::id_number::IdNumber::parse(&normalized).map_err(|e| AppError::internal(&e))?;
    let id = gongzhi_app::registry::edit::find_party_member(&state, &staff.actor, &id_number).await?;
    Ok(Redirect::to(&format!("/registry/party-members/{id}/edit")).into_response())
}

fn form_routes(kind: Kind) -> MethodRouter<AppState> {
    get(move |s, staff, p| edit_page(kind, s, staff, p)).post(move |s, staff, p, b| save_page(kind, s, staff, p, b))
}

struct FieldView {
    key: &'static str,
    label: &'static str,
    required: bool,
    note: &'static str,
    value: String,
    input: &'static str,
    options: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "registry/place_edit.html")]
struct EditPage {
    c: Chrome,
    title: &'static str,
    name: String,
    action: String,
    back: String,
    revision: i64,
    fields: Vec<FieldView>,
    error: Option<String>,
    error_field: String,
}

fn render(
    staff: &Staff,
    kind: Kind,
    id: i64,
    loaded: &Loaded,
    values: &(dyn Fn(&str) -> String + Sync),
    error: Option<ApiError>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let lang = staff.lang;
    let template = kind.template();
    let fields = kind
        .fields()
        .iter()
        .map(|k| {
            let col = template.column(k).expect("a field of the kind's template");
            let (input, options) = match col.kind {
                CellKind::Choice(choices) => ("select", choices.iter().map(|c| (c.key, c.zh)).collect()),
                CellKind::Integer { .. } => ("number", Vec::new()),
                CellKind::Date => ("date", Vec::new()),
                _ => ("text", Vec::new()),
            };
            FieldView {
                key: col.key,
                label: lang.pick(col.header, col.key),
                required: col.required,
                note: lang.pick(col.note_zh, col.note_en),
                value: values(k),
                input,
                options,
            }
        })
        .collect();
    page(
        EditPage {
            c: Chrome::for_staff(staff, "/registry"),
            title: title(kind, lang),
            name: loaded.name.clone(),
            action: format!("/registry/{}/{id}/edit", kind.path()),
            back: loaded.back.clone(),
            revision: loaded.revision,
            fields,
            error: error.as_ref().map(|e| e.message(lang).to_string()),
            error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
        },
        status,
    )
}

/// `GET /registry/{kind}/{id}/edit`: the form with the current values.
async fn edit_page(
    kind: Kind,
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let loaded = gongzhi_app::registry::edit::open(&state, &staff.actor, kind, id).await?;
    render(
        &staff,
        kind,
        id,
        &loaded,
        &|k| loaded.values.get(k).cloned().unwrap_or_default(),
        None,
        StatusCode::OK,
    )
}

/// `POST /registry/{kind}/{id}/edit`: saves, or shows the form again with what was typed and the
/// refused field named (nothing changed).
async fn save_page(
    kind: Kind,
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    crate::json::Form(pairs): crate::json::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let form: HashMap<String, String> = pairs.into_iter().collect();
    staff.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let correction = Correction {
        revision: form.get("revision").and_then(|r| r.parse().ok()),
        fields: form.clone(),
    };
    match gongzhi_app::registry::edit::correct(&state, &staff.actor, kind, id, &correction).await {
        Ok(loaded) => {
            let sep = if loaded.back.contains('?') { '&' } else { '?' };
            Ok(Redirect::to(&format!("{}{sep}done=saved", loaded.back)).into_response())
        }
        Err(e) if e.field.is_some() => {
            let loaded = gongzhi_app::registry::edit::reopen(&state, &staff.actor, kind, id).await?;
            let status = e.http_status();
            render(
                &staff,
                kind,
                id,
                &loaded,
                &|k| form.get(k).cloned().unwrap_or_default(),
                Some(e),
                status,
            )
        }
        Err(e) => Err(e),
    }
}

fn fields_json(kind: Kind, id: i64, loaded: &Loaded) -> Value {
    let mut fields = Map::new();
    for k in kind.fields() {
        fields.insert((*k).to_string(), json!(loaded.values.get(k).filter(|v| !v.is_empty())));
    }
    json!({"kind": kind.path(), "id": id, "name": loaded.name, "revision": loaded.revision, "fields": fields})
}

/// `GET /api/v1/registry/{kind}/{id}`: the fields an edit may change, with the revision.
async fn api_get(
    kind: Kind,
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let loaded = gongzhi_app::registry::edit::open(&state, &actor, kind, id).await?;
    Ok(Json(fields_json(kind, id, &loaded)))
}

/// `PATCH /api/v1/registry/{kind}/{id}` with `{"revision": n, "fields": {"key": "value", …}}`:
/// the fields given change, the others keep their values; `revision` (optional) refuses a stale
/// edit with 409.
async fn api_patch(
    kind: Kind,
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    crate::json::JsonCommand(body): crate::json::JsonCommand<Value>,
) -> Result<Json<Value>, ApiError> {
    let fields = body
        .get("fields")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for k in fields.keys() {
        if !kind.fields().contains(&k.as_str()) {
            return Err(AppError::new(
                ErrorCode::UnknownField,
                Some("fields"),
                format!("字段 {k} 不能修改；可改：{}", kind.fields().join("、")),
                format!("field {k} cannot be edited; editable: {}", kind.fields().join(", ")),
            ));
        }
    }
    let correction = Correction {
        revision: body.get("revision").and_then(Value::as_i64),
        fields: fields
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect(),
    };
    gongzhi_app::registry::edit::correct(&state, &actor, kind, id, &correction).await?;
    // The answer shows a party member's data in full: recorded like the GET.
    let loaded = gongzhi_app::registry::edit::open(&state, &actor, kind, id).await?;
    Ok(Json(fields_json(kind, id, &loaded)))
}
