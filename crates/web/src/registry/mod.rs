//! The registry's pages and API (issue 7): browse by territory (street → community → grid →
//! buildings), search (by name, by exact ID number or phone through the keyed index, by
//! address), the building page (households, chiefs, cases), the household page (people masked,
//! care tags, cases at its building), edits, the full view (查看完整信息), and the organizations
//! and party organizations of an area (`organizations`).
//!
//! Who may do what, and the audit of every full view, are rules of [`gongzhi_app::registry`].

use gongzhi_app::AppError;
use gongzhi_app::registry::{
    Building, BuildingSummary, Chief, Household, NearbyCase, RegistryCounts, SetChief, may_correct, may_edit,
    may_reveal,
};

use crate::json::Form;
use crate::json::Query;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gongzhi_core::Lang;
use gongzhi_core::people::registry::{
    CareTag, MaskedResident, PersonName, Phone, Relation, Residence, ResidentInput, ResidentRecord,
};
use gongzhi_core::territory::TerritoryCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::pages::{Chrome, local_time};
use crate::people::Authenticated;
use crate::people::session::Staff;
use crate::{ApiError, AppState};

pub mod edit;
mod organizations;

pub use gongzhi_app::registry::READERS;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/registry", get(browse))
        .route("/registry/search", get(search_page))
        .route("/registry/organizations", get(organizations::organizations_page))
        .route("/registry/buildings/{id}", get(building_page))
        .route("/registry/households/{id}", get(household_page))
        .route("/registry/buildings/{id}/chiefs", post(set_chief))
        .route("/registry/households/{id}/residents", post(add_resident))
        .route("/registry/residents/{id}/edit", get(edit_form))
        .route("/registry/residents/{id}", post(save_resident))
        .route("/registry/residents/{id}/reveal", post(reveal_page))
        .route("/api/v1/registry/buildings", get(api_buildings))
        .route(
            "/api/v1/registry/buildings/{id}",
            get(api_building).merge(edit::api_patch_route(gongzhi_app::registry::edit::Kind::Building)),
        )
        .route(
            "/api/v1/registry/households/{id}",
            get(api_household).merge(edit::api_patch_route(gongzhi_app::registry::edit::Kind::Household)),
        )
        .route("/api/v1/registry/search", get(api_search))
        .route("/api/v1/registry/residents/{id}/reveal", post(api_reveal))
        .merge(edit::routes())
}

/// A node's code from its subtree prefix (`230903011` → `230903011000`).
fn code_of(prefix: &str) -> String {
    if prefix.len() >= 12 {
        prefix.to_string()
    } else {
        format!("{prefix:0<12}")
    }
}

fn page(t: impl Template, status: StatusCode) -> Result<Response, ApiError> {
    let html = t.render().map_err(|e| AppError::internal(&e))?;
    Ok((status, Html(html)).into_response())
}

/// A link in the browse trail or list.
pub struct Link {
    pub code: String,
    pub name: String,
    pub count: String,
}

/// The trail from the city down to `prefix`, from the index's names.
fn trail(state: &AppState, prefix: &str) -> Vec<Link> {
    let index = state.index();
    let Some(l) = index.by_code.values().find(|l| l.grid.code.starts_with(prefix)) else {
        return vec![];
    };
    let mut out = Vec::new();
    for n in [&l.district, &l.street, &l.community, &l.grid] {
        let p = TerritoryCode::parse(&n.code)
            .map(|c| c.subtree_prefix().to_string())
            .unwrap_or_default();
        if p.len() <= prefix.len() {
            out.push(Link {
                code: n.code.clone(),
                name: n.name.clone(),
                count: String::new(),
            });
        }
    }
    out
}

/// The nodes one level below `prefix` that have grids, with their names.
fn children(state: &AppState, prefix: &str) -> Vec<Link> {
    let index = state.index();
    let mut out: std::collections::BTreeMap<String, (String, i64)> = Default::default();
    for l in index.by_code.values().filter(|l| l.grid.code.starts_with(prefix)) {
        let next = match prefix.len() {
            0..=4 => &l.district,
            5..=6 => &l.street,
            7..=9 => &l.community,
            _ => &l.grid,
        };
        let e = out.entry(next.code.clone()).or_insert((next.name.clone(), 0));
        e.1 += l.households.unwrap_or(0);
    }
    out.into_iter()
        .map(|(code, (name, households))| Link {
            code,
            name,
            count: households.to_string(),
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct BrowseQuery {
    #[serde(default)]
    within: Option<String>,
    #[serde(default)]
    q: Option<String>,
}

#[derive(Template)]
#[template(path = "registry/browse.html")]
struct BrowsePage {
    c: Chrome,
    within: String,
    trail: Vec<Link>,
    children: Vec<Link>,
    buildings: Vec<BuildingSummary>,
    counts: RegistryCounts,
    q: String,
    searched: bool,
    people: Vec<PersonRow>,
}

/// A person as lists show it (masked).
pub struct PersonRow {
    pub id: i64,
    pub household_id: i64,
    pub name: String,
    pub gender: &'static str,
    pub relation: &'static str,
    pub residence: &'static str,
    pub id_number: String,
    pub phone: String,
    pub care_tags: Vec<&'static str>,
    pub place: String,
}

fn person_row(state: &AppState, m: &MaskedResident, lang: Lang) -> PersonRow {
    let index = state.index();
    PersonRow {
        id: m.id,
        household_id: m.household_id,
        name: m.name.clone(),
        gender: m.gender.label(lang),
        relation: m.relation.label(lang),
        residence: m.residence.label(lang),
        id_number: m.id_number.clone(),
        phone: m.phone.clone().unwrap_or_default(),
        care_tags: m.care_tags.iter().map(|t| t.label(lang)).collect(),
        place: index.by_code.get(&m.grid_code).map_or_else(
            || m.grid_code.clone(),
            |l| format!("{} · {}", l.community.name, l.grid.name),
        ),
    }
}

/// `GET /registry`: browse by territory.
async fn browse(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<BrowseQuery>,
) -> Result<Response, ApiError> {
    let area = gongzhi_app::registry::browse(&state, &staff.actor, q.within.as_deref()).await?;
    let prefix = area.prefix;
    let is_grid = prefix.len() == 15;
    page(
        BrowsePage {
            c: Chrome::for_staff(&staff, "/registry"),
            within: code_of(&prefix),
            trail: trail(&state, &prefix),
            children: if is_grid { vec![] } else { children(&state, &prefix) },
            buildings: area.buildings,
            counts: area.counts,
            q: String::new(),
            searched: false,
            people: vec![],
        },
        StatusCode::OK,
    )
}

/// `GET /registry/search?q=…&within=…`
async fn search_page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<BrowseQuery>,
) -> Result<Response, ApiError> {
    let text = q.q.clone().unwrap_or_default();
    let found = gongzhi_app::registry::search(&state, &staff.actor, q.within.as_deref(), &text).await?;
    let people = found.people.iter().map(|p| person_row(&state, p, staff.lang)).collect();
    page(
        BrowsePage {
            c: Chrome::for_staff(&staff, "/registry"),
            within: code_of(&found.prefix),
            trail: trail(&state, &found.prefix),
            children: vec![],
            buildings: found.buildings,
            counts: found.counts,
            q: text,
            searched: true,
            people,
        },
        StatusCode::OK,
    )
}

pub struct CaseRow {
    pub case_no: String,
    pub matter: String,
    pub state: String,
    pub reported_at: String,
}

fn case_rows(cases: &[NearbyCase]) -> Vec<CaseRow> {
    cases
        .iter()
        .map(|c| CaseRow {
            case_no: c.case_no.clone(),
            matter: c.matter.clone(),
            state: c.state.clone(),
            reported_at: local_time(c.reported_at),
        })
        .collect()
}

pub struct HouseholdRow {
    pub id: i64,
    pub room: String,
    pub entrance: String,
    pub head: String,
    pub people: usize,
    pub care: Vec<&'static str>,
}

pub struct ChiefRow {
    pub kind: &'static str,
    pub name: String,
    pub phone: String,
    pub entrance: String,
}

#[derive(Template)]
#[template(path = "registry/building.html")]
struct BuildingPage {
    c: Chrome,
    b: Building,
    trail: Vec<Link>,
    compound: String,
    use_label: String,
    can_correct: bool,
    /// The entrance numbers, for the chief form.
    entrance_numbers: Vec<i64>,
    households: Vec<HouseholdRow>,
    chiefs: Vec<ChiefRow>,
    cases: Vec<CaseRow>,
}

/// `GET /registry/buildings/{id}`: households, chiefs and cases of a building.
async fn building_page(State(state): State<AppState>, staff: Staff, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let view = gongzhi_app::registry::building(&state, &staff.actor, id).await?;
    let lang = staff.lang;
    let entrances: std::collections::HashMap<i64, i64> = view.entrances.iter().map(|e| (e.id, e.number)).collect();
    let households = view
        .households
        .iter()
        .map(|(h, people)| {
            let mut care: Vec<CareTag> = people.iter().flat_map(|p| p.care_tags.clone()).collect();
            care.sort();
            care.dedup();
            HouseholdRow {
                id: h.id,
                room: h.room.clone(),
                entrance: h
                    .entrance_id
                    .and_then(|e| entrances.get(&e))
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                head: people.first().map(|p| p.name.clone()).unwrap_or_default(),
                people: people.len(),
                care: care.iter().map(|t| t.label(lang)).collect(),
            }
        })
        .collect();
    let chiefs = view
        .chiefs
        .into_iter()
        .map(|a| ChiefRow {
            kind: a
                .kind
                .parse::<gongzhi_core::people::registry::AssignmentKind>()
                .map(|k| k.label(lang))
                .unwrap_or(""),
            name: a.person_name,
            phone: a.phone_masked.unwrap_or_default(),
            entrance: a
                .entrance_id
                .and_then(|e| entrances.get(&e))
                .map(|n| n.to_string())
                .unwrap_or_default(),
        })
        .collect();
    let b = view.building;
    page(
        BuildingPage {
            c: Chrome::for_staff(&staff, "/registry"),
            trail: trail(&state, &b.grid_code),
            use_label: gongzhi_core::import::registry::BUILDING_USES
                .iter()
                .find(|u| u.key == b.use_kind)
                .map(|u| lang.pick(u.zh, u.key).to_string())
                .unwrap_or_else(|| b.use_kind.clone()),
            can_correct: may_correct(&staff.actor, &b.grid_code),
            entrance_numbers: {
                let mut n: Vec<i64> = entrances.values().copied().collect();
                n.sort_unstable();
                n
            },
            b,
            compound: view.compound,
            households,
            chiefs,
            cases: case_rows(&view.cases),
        },
        StatusCode::OK,
    )
}

/// A person on the household page: masked, or in full after a stated reason.
pub struct PersonView {
    pub row: PersonRow,
    pub revealed: Option<Revealed>,
}

pub struct Revealed {
    pub id_number: String,
    pub phone: String,
    pub registered_address: String,
    pub party_member: bool,
}

#[derive(Template)]
#[template(path = "registry/household.html")]
struct HouseholdPage {
    c: Chrome,
    h: Household,
    b: Building,
    trail: Vec<Link>,
    people: Vec<PersonView>,
    cases: Vec<CaseRow>,
    can_edit: bool,
    can_correct: bool,
    can_reveal: bool,
    error: Option<String>,
    error_field: String,
    reveal_for: i64,
    form: ResidentForm,
    relations: Vec<(&'static str, &'static str)>,
    residences: Vec<(&'static str, &'static str)>,
    care_tags: Vec<(&'static str, &'static str)>,
}

/// The form of a person (add and edit).
#[derive(Deserialize, Default, Clone)]
pub struct ResidentForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub revision: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub relation: String,
    #[serde(default)]
    pub residence: String,
    #[serde(default)]
    pub registered_address: String,
    /// Checkboxes: one `care_tags` value each, joined with commas by the form's reader.
    #[serde(default)]
    pub care_tags: String,
    #[serde(default)]
    pub party_member: String,
}

impl ResidentForm {
    fn input(&self) -> ResidentInput {
        ResidentInput {
            name: self.name.clone(),
            id_number: self.id_number.clone(),
            phone: self.phone.clone(),
            relation: self.relation.clone(),
            residence: self.residence.clone(),
            registered_address: self.registered_address.clone(),
            care_tags: self.care_tags.clone(),
            party_member: self.party_member.clone(),
        }
    }

    fn has_tag(&self, tag: &str) -> bool {
        self.care_tags.split(',').any(|t| t.trim() == tag)
    }
}

/// Reads a urlencoded form whose `care_tags` may repeat (checkboxes).
fn read_form(pairs: Vec<(String, String)>) -> ResidentForm {
    let mut tags = Vec::new();
    let mut rest = Vec::new();
    for (k, v) in pairs {
        if k == "care_tags" {
            tags.push(v);
        } else {
            rest.push((k, v));
        }
    }
    rest.push(("care_tags".into(), tags.join(",")));
    serde_urlencoded::from_str(&serde_urlencoded::to_string(&rest).unwrap_or_default()).unwrap_or_default()
}

fn options<T: Copy>(
    all: &[T],
    text: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
) -> Vec<(&'static str, &'static str)> {
    all.iter().map(|v| (text(*v), label(*v))).collect()
}

#[allow(clippy::too_many_arguments)]
async fn household_view(
    state: &AppState,
    staff: &Staff,
    id: i64,
    revealed: Option<ResidentRecord>,
    error: Option<ApiError>,
    form: ResidentForm,
    reveal_for: i64,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let view = gongzhi_app::registry::household(state, &staff.actor, id).await?;
    let lang = staff.lang;
    let people = view
        .residents
        .iter()
        .map(|p| PersonView {
            row: person_row(state, p, lang),
            revealed: revealed.as_ref().filter(|r| r.id == p.id).map(|r| Revealed {
                id_number: r.id_number.clone(),
                phone: r.phone.clone().unwrap_or_default(),
                registered_address: r.registered_address.clone().unwrap_or_default(),
                party_member: r.party_member,
            }),
        })
        .collect();
    let cases = case_rows(&view.cases);
    let (h, b) = (view.household, view.building);
    let form = if form.relation.is_empty() {
        ResidentForm {
            relation: "other".into(),
            residence: "registered_here".into(),
            ..form
        }
    } else {
        form
    };
    page(
        HouseholdPage {
            c: Chrome::for_staff(staff, "/registry"),
            trail: trail(state, &h.grid_code),
            can_edit: may_edit(&staff.actor, &h.grid_code),
            can_correct: may_correct(&staff.actor, &h.grid_code),
            can_reveal: may_reveal(&staff.actor, &h.grid_code),
            h,
            b,
            people,
            cases,
            error: error.as_ref().map(|e| e.message(lang).to_string()),
            error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
            reveal_for,
            form,
            relations: options(Relation::ALL, Relation::as_str, |r| r.label(lang)),
            residences: options(Residence::ALL, Residence::as_str, |r| r.label(lang)),
            care_tags: options(CareTag::ALL, CareTag::as_str, |t| t.label(lang)),
        },
        status,
    )
}

/// `GET /registry/households/{id}`
async fn household_page(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    household_view(
        &state,
        &staff,
        id,
        None,
        None,
        ResidentForm::default(),
        0,
        StatusCode::OK,
    )
    .await
}

/// Whether a refused person's form is shown again (a field named) rather than an error page;
/// 409 when the ID number or the revision clashes, else 422.
fn form_status(e: &ApiError) -> Option<StatusCode> {
    e.field?;
    Some(if e.http_status() == StatusCode::CONFLICT {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    })
}

/// `POST /registry/households/{id}/residents`: adds a person to a household.
async fn add_resident(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let form = read_form(pairs);
    staff.check_csrf(&form.csrf)?;
    match gongzhi_app::registry::add_resident(&state, &staff.actor, id, form.input()).await {
        Ok(()) => Ok(Redirect::to(&format!("/registry/households/{id}?done=added")).into_response()),
        Err(e) => match form_status(&e) {
            Some(status) => household_view(&state, &staff, id, None, Some(e), form, 0, status).await,
            None => Err(e),
        },
    }
}

#[derive(Deserialize, Default)]
struct ChiefForm {
    #[serde(default)]
    csrf: String,
    /// Empty for the building chief (楼长), else the entrance's number (单元长).
    #[serde(default)]
    entrance: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
}

/// `POST /registry/buildings/{id}/chiefs`: sets the building chief or an entrance chief (an empty
/// name clears it), for those who may correct the building; the phone is sealed.
async fn set_chief(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<ChiefForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    let entrance = Some(form.entrance.trim().to_string()).filter(|n| !n.is_empty());
    let chief = match form.name.trim() {
        "" => None,
        name => Some(Chief {
            name: PersonName::parse(name).map_err(|e| gongzhi_app::registry::field_error(&e))?,
            phone: match form.phone.trim() {
                "" => None,
                p => Some(Phone::parse(p).map_err(|e| gongzhi_app::registry::field_error(&e))?),
            },
        }),
    };
    gongzhi_app::registry::set_chief(&state, &staff.actor, id, SetChief { entrance, chief }).await?;
    Ok(Redirect::to(&format!("/registry/buildings/{id}?done=chief")).into_response())
}

#[derive(Template)]
#[template(path = "registry/edit.html")]
struct EditPage {
    c: Chrome,
    id: i64,
    household_id: i64,
    form: ResidentForm,
    error: Option<String>,
    error_field: String,
    relations: Vec<(&'static str, &'static str)>,
    residences: Vec<(&'static str, &'static str)>,
    care_tags: Vec<(&'static str, &'static str)>,
}

fn edit_page(
    staff: &Staff,
    id: i64,
    household_id: i64,
    form: ResidentForm,
    error: Option<ApiError>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let lang = staff.lang;
    page(
        EditPage {
            c: Chrome::for_staff(staff, "/registry"),
            id,
            household_id,
            form,
            error: error.as_ref().map(|e| e.message(lang).to_string()),
            error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
            relations: options(Relation::ALL, Relation::as_str, |r| r.label(lang)),
            residences: options(Residence::ALL, Residence::as_str, |r| r.label(lang)),
            care_tags: options(CareTag::ALL, CareTag::as_str, |t| t.label(lang)),
        },
        status,
    )
}

/// `GET /registry/residents/{id}/edit`: the form holds the values in full, so opening it is a
/// full view: it is audited like one (reason: editing).
async fn edit_form(State(state): State<AppState>, staff: Staff, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let r = gongzhi_app::registry::open_for_edit(&state, &staff.actor, id).await?;
    let form = ResidentForm {
        csrf: String::new(),
        revision: r.revision,
        name: r.name.clone(),
        id_number: r.id_number.clone(),
        phone: r.phone.clone().unwrap_or_default(),
        relation: r.relation.as_str().into(),
        residence: r.residence.as_str().into(),
        registered_address: r.registered_address.clone().unwrap_or_default(),
        care_tags: r.care_tags.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(","),
        party_member: if r.party_member { "true".into() } else { String::new() },
    };
    edit_page(&staff, id, r.household_id, form, None, StatusCode::OK)
}

/// `POST /registry/residents/{id}`: saves an edit; a bad field is 422 naming it, nothing changed.
async fn save_resident(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let form = read_form(pairs);
    staff.check_csrf(&form.csrf)?;
    match gongzhi_app::registry::update_resident(&state, &staff.actor, id, form.revision, form.input()).await {
        Ok(household) => Ok(Redirect::to(&format!("/registry/households/{household}?done=saved")).into_response()),
        Err(e) => match form_status(&e) {
            Some(status) => {
                let household = gongzhi_app::registry::resident_household(&state, &staff.actor, id).await?;
                edit_page(&staff, id, household, form, Some(e), status)
            }
            None => Err(e),
        },
    }
}

#[derive(Deserialize, Default)]
pub struct RevealForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /registry/residents/{id}/reveal`: the household page with this person in full.
async fn reveal_page(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<RevealForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    let household = gongzhi_app::registry::resident_household(&state, &staff.actor, id).await?;
    match gongzhi_app::registry::reveal(&state, &staff.actor, id, &form.reason).await {
        Ok(r) => {
            household_view(
                &state,
                &staff,
                household,
                Some(r),
                None,
                ResidentForm::default(),
                0,
                StatusCode::OK,
            )
            .await
        }
        Err(e) if e.http_status() == StatusCode::UNPROCESSABLE_ENTITY => {
            household_view(
                &state,
                &staff,
                household,
                None,
                Some(e),
                ResidentForm::default(),
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

// --- JSON API (masked) ---------------------------------------------------------------------

#[derive(Serialize)]
struct ApiPerson {
    #[serde(flatten)]
    person: MaskedResident,
}

/// `GET /api/v1/registry/buildings?within=CODE&q=TEXT`
async fn api_buildings(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<BrowseQuery>,
) -> Result<Json<Value>, ApiError> {
    let area = gongzhi_app::registry::buildings(&state, &actor, q.within.as_deref(), q.q.as_deref()).await?;
    Ok(Json(
        json!({"within": code_of(&area.prefix), "counts": area.counts, "buildings": area.buildings}),
    ))
}

/// `GET /api/v1/registry/buildings/{id}`
async fn api_building(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let view = gongzhi_app::registry::building(&state, &actor, id).await?;
    let households: Vec<Value> = view
        .households
        .iter()
        .map(|(h, _)| json!({"id": h.id, "code": h.code, "room": h.room, "entrance_id": h.entrance_id}))
        .collect();
    Ok(Json(
        json!({"building": view.building, "households": households, "chiefs": view.chiefs, "cases": view.cases}),
    ))
}

/// `GET /api/v1/registry/households/{id}`: its people masked.
async fn api_household(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let view = gongzhi_app::registry::household(&state, &actor, id).await?;
    let people: Vec<ApiPerson> = view.residents.into_iter().map(|person| ApiPerson { person }).collect();
    Ok(Json(json!({"household": view.household, "residents": people})))
}

/// `GET /api/v1/registry/search?q=…&within=…`: people masked, buildings.
async fn api_search(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<BrowseQuery>,
) -> Result<Json<Value>, ApiError> {
    let text = q.q.unwrap_or_default();
    if text.trim().is_empty() {
        // The area is checked first: outside it is 403 even without a text.
        gongzhi_app::registry::within(&actor, q.within.as_deref())?;
        return Err(AppError::missing("q"));
    }
    let found = gongzhi_app::registry::search(&state, &actor, q.within.as_deref(), &text).await?;
    Ok(Json(json!({"residents": found.people, "buildings": found.buildings})))
}

#[derive(Deserialize)]
struct RevealBody {
    #[serde(default)]
    reason: String,
}

/// `POST /api/v1/registry/residents/{id}/reveal` `{"reason": "…"}`: the person in full, audited.
async fn api_reveal(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    crate::json::JsonCommand(body): crate::json::JsonCommand<RevealBody>,
) -> Result<Json<Value>, ApiError> {
    let r = gongzhi_app::registry::reveal(&state, &actor, id, &body.reason).await?;
    Ok(Json(json!({
        "id": r.id,
        "household_id": r.household_id,
        "grid_code": r.grid_code,
        "name": r.name,
        "gender": r.gender,
        "relation": r.relation,
        "residence": r.residence,
        "id_number": r.id_number,
        "phone": r.phone,
        "registered_address": r.registered_address,
        "care_tags": r.care_tags,
        "party_member": r.party_member,
    })))
}
