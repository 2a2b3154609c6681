//! The registry's pages and API (issue 7): browse by territory (street → community → grid →
//! buildings), search (by name, by exact ID number or phone through the keyed index, by
//! address), the building page (households, chiefs, cases), the household page (people masked,
//! care tags, cases at its building), edits, the full view (查看完整信息), and the organizations
//! and party organizations of an area (`organizations`).
//!
//! Who may do what (docs/REGISTRY.md):
//! - read, masked: grid workers, community workers, street staff and leaders, within their scope;
//! - add people to a household: grid workers, community workers and street staff in scope;
//! - full view, and editing a person (whose form shows the values in full): community workers and
//!   street staff within their scope; a full view needs a stated reason; both are audited (who,
//!   when, why, which fields) before anything is shown.
//!
//! Outside the reader's scope a building, household or person is 404, as if it did not exist;
//! a `within` outside it is 403. Without a personal-data key the registry answers 503.

use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use gongzhi_core::data::FieldError;
use gongzhi_core::people::cipher::CipherProvider;
use gongzhi_core::people::id_number::IdNumber;
use gongzhi_core::people::registry::{
    CareTag, MaskedResident, Phone, Relation, Residence, ResidentInput, ResidentRecord, reveal_reason,
};
use gongzhi_core::people::{Actor, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_core::{Lang, Localized};
use gongzhi_store::territory::places::{Building, BuildingSummary, Household, NearbyCase};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::pages::{Chrome, local_time};
use crate::people::Authenticated;
use crate::people::session::Staff;
use crate::{ApiError, AppState};

pub mod edit;
mod organizations;

pub const READERS: [Role; 4] = [Role::GridWorker, Role::CommunityWorker, Role::StreetStaff, Role::Leader];
pub const EDITORS: [Role; 3] = [Role::GridWorker, Role::CommunityWorker, Role::StreetStaff];
pub const REVEALERS: [Role; 2] = [Role::CommunityWorker, Role::StreetStaff];

/// Rows a list or search shows at most.
const LIMIT: i64 = 200;

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
            get(api_building).merge(edit::api_patch_route(edit::Kind::Building)),
        )
        .route(
            "/api/v1/registry/households/{id}",
            get(api_household).merge(edit::api_patch_route(edit::Kind::Household)),
        )
        .route("/api/v1/registry/search", get(api_search))
        .route("/api/v1/registry/residents/{id}/reveal", post(api_reveal))
        .merge(edit::routes())
}

/// Whether `actor` holds one of `roles` over the grid (or node) `code`.
pub fn may(actor: &Actor, roles: &[Role], code: &str) -> bool {
    TerritoryCode::parse(code).is_ok_and(|c| roles.iter().any(|r| actor.has_role_over(*r, &c)))
}

/// The subtree prefixes the reader reaches with a reading role, widest first.
fn reach(actor: &Actor) -> Vec<String> {
    let mut out: Vec<String> = actor
        .grants
        .iter()
        .filter(|g| READERS.contains(&g.role))
        .filter_map(|g| match &g.scope {
            Scope::Territory(t) => Some(t.subtree_prefix().to_string()),
            Scope::Department(_) => None,
        })
        .collect();
    out.sort_by_key(|p| p.len());
    out.dedup();
    out
}

fn no_role() -> ApiError {
    AppError::forbidden(
        "仅网格员、社区工作者、街道工作人员和领导可以查看实有人口登记",
        "only grid workers, community workers, street staff and leaders read the registry",
    )
}

fn cipher(state: &AppState) -> Result<Arc<dyn CipherProvider>, ApiError> {
    state.cipher().ok_or_else(|| {
        AppError::new(
            ErrorCode::PersonalDataKeyMissing,
            None,
            "未配置个人信息密钥，登记库暂不可用",
            "no personal-data key is configured: the registry is unavailable",
        )
    })
}

fn field_error(e: &FieldError) -> ApiError {
    AppError::new(e.code(), Some(e.field), e.message(Lang::Zh), e.message(Lang::En))
}

/// The node `within` names (or the reader's widest), checked against their reach.
fn within_of(actor: &Actor, within: Option<&str>) -> Result<String, ApiError> {
    let reach = reach(actor);
    let Some(widest) = reach.first() else {
        return Err(no_role());
    };
    let Some(w) = within.map(str::trim).filter(|w| !w.is_empty()) else {
        return Ok(widest.clone());
    };
    let code = TerritoryCode::parse(w).map_err(|e| AppError::bad_code("within", e))?;
    let prefix = code.subtree_prefix().to_string();
    if reach.iter().any(|r| prefix.starts_with(r.as_str())) {
        Ok(prefix)
    } else {
        Err(AppError::new(
            ErrorCode::OutsideScope,
            Some("within"),
            format!("{w} 不在您的权限范围内"),
            format!("{w} is outside your scope"),
        )
        .into())
    }
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
    counts: gongzhi_store::territory::places::RegistryCounts,
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
    let prefix = within_of(&staff.actor, q.within.as_deref())?;
    let db = &state.db();
    let counts = db.registry_counts(&prefix).await?;
    let is_grid = prefix.len() == 15;
    let buildings = if is_grid {
        db.buildings_within(&prefix, LIMIT).await?
    } else {
        vec![]
    };
    page(
        BrowsePage {
            c: Chrome::for_staff(&staff, "/registry"),
            within: code_of(&prefix),
            trail: trail(&state, &prefix),
            children: if is_grid { vec![] } else { children(&state, &prefix) },
            buildings,
            counts,
            q: String::new(),
            searched: false,
            people: vec![],
        },
        StatusCode::OK,
    )
}

/// What a search found, masked and narrowed to the reader's scope.
struct Found {
    people: Vec<ResidentRecord>,
    buildings: Vec<BuildingSummary>,
}

/// By exact ID number or phone (the keyed index), else by name and by address.
async fn find(
    state: &AppState,
    cipher: &dyn CipherProvider,
    actor: &Actor,
    prefix: &str,
    q: &str,
) -> Result<Found, ApiError> {
    let q = q.trim();
    let db = &state.db();
    let mut found = Found {
        people: vec![],
        buildings: vec![],
    };
    if q.is_empty() {
        return Ok(found);
    }
    let digits = q
        .chars()
        .all(|c| c.is_ascii_digit() || c == 'x' || c == 'X' || c == '-');
    if let Ok(id) = IdNumber::parse(q) {
        found.people.extend(db.find_resident_by_id_number(cipher, &id).await?);
    } else if let (true, Ok(phone)) = (digits, Phone::parse(q)) {
        found.people = db.find_residents_by_phone(cipher, &phone).await?;
    } else {
        found.people = db.search_residents_by_name(cipher, prefix, q, LIMIT).await?;
        found.buildings = db.search_buildings(prefix, q, LIMIT).await?;
    }
    found
        .people
        .retain(|p| p.grid_code.starts_with(prefix) && may(actor, &READERS, &p.grid_code));
    Ok(found)
}

/// `GET /registry/search?q=…&within=…`
async fn search_page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<BrowseQuery>,
) -> Result<Response, ApiError> {
    let prefix = within_of(&staff.actor, q.within.as_deref())?;
    let cipher = cipher(&state)?;
    let text = q.q.clone().unwrap_or_default();
    let found = find(&state, cipher.as_ref(), &staff.actor, &prefix, &text).await?;
    let people = found
        .people
        .iter()
        .map(|p| person_row(&state, &p.masked(state.id_mask), staff.lang))
        .collect();
    page(
        BrowsePage {
            c: Chrome::for_staff(&staff, "/registry"),
            within: code_of(&prefix),
            trail: trail(&state, &prefix),
            children: vec![],
            buildings: found.buildings,
            counts: state.db().registry_counts(&prefix).await?,
            q: text,
            searched: true,
            people,
        },
        StatusCode::OK,
    )
}

/// The building if the reader may read it; 404 otherwise.
async fn readable_building(state: &AppState, actor: &Actor, id: i64) -> Result<Building, ApiError> {
    match state.db().building(id).await? {
        Some(b) if may(actor, &READERS, &b.grid_code) => Ok(b),
        Some(_) if reach(actor).is_empty() => Err(no_role()),
        _ => Err(AppError::not_found_path().into()),
    }
}

async fn readable_household(
    state: &AppState,
    cipher: &dyn CipherProvider,
    actor: &Actor,
    id: i64,
) -> Result<Household, ApiError> {
    match state.db().household(cipher, id).await? {
        Some(h) if may(actor, &READERS, &h.grid_code) => Ok(h),
        Some(_) if reach(actor).is_empty() => Err(no_role()),
        _ => Err(AppError::not_found_path().into()),
    }
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

/// Whether `actor` may correct places at `code` (who may import an area may correct it).
fn may_correct(actor: &Actor, code: &str) -> bool {
    let reach = gongzhi_core::import::Reach::of(actor);
    TerritoryCode::parse(code).is_ok_and(|c| reach.reaches(&c))
}

/// `GET /registry/buildings/{id}`: households, chiefs and cases of a building.
async fn building_page(State(state): State<AppState>, staff: Staff, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let cipher = cipher(&state)?;
    let b = readable_building(&state, &staff.actor, id).await?;
    let lang = staff.lang;
    let db = &state.db();
    let entrances: std::collections::HashMap<i64, i64> = db
        .entrances_of(b.id)
        .await?
        .into_iter()
        .map(|e| (e.id, e.number))
        .collect();
    let mut households = Vec::new();
    for h in db.households_of(cipher.as_ref(), b.id).await? {
        let people = db.residents_of_household(cipher.as_ref(), h.id).await?;
        let mut care: Vec<CareTag> = people.iter().flat_map(|p| p.care_tags.clone()).collect();
        care.sort();
        care.dedup();
        households.push(HouseholdRow {
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
        });
    }
    let chiefs = db
        .assignments_at_building(cipher.as_ref(), b.id, &b.grid_code)
        .await?
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
    let compound = match b.compound_id {
        Some(c) => db.compound(c).await?.map(|c| c.name).unwrap_or_default(),
        None => String::new(),
    };
    let cases = case_rows(&db.cases_at_building(&b, 20).await?);
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
            compound,
            households,
            chiefs,
            cases,
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
fn read_form(body: &str) -> ResidentForm {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(body).unwrap_or_default();
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
    let cipher = cipher(state)?;
    let h = readable_household(state, cipher.as_ref(), &staff.actor, id).await?;
    let b = state
        .db()
        .building(h.building_id)
        .await?
        .ok_or_else(AppError::not_found_path)?;
    let lang = staff.lang;
    let people = state
        .db()
        .residents_of_household(cipher.as_ref(), h.id)
        .await?
        .iter()
        .map(|p| PersonView {
            row: person_row(state, &p.masked(state.id_mask), lang),
            revealed: revealed.as_ref().filter(|r| r.id == p.id).map(|r| Revealed {
                id_number: r.id_number.clone(),
                phone: r.phone.clone().unwrap_or_default(),
                registered_address: r.registered_address.clone().unwrap_or_default(),
                party_member: r.party_member,
            }),
        })
        .collect();
    let cases = case_rows(&state.db().cases_at_building(&b, 20).await?);
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
            can_edit: may(&staff.actor, &EDITORS, &h.grid_code),
            can_correct: may_correct(&staff.actor, &h.grid_code),
            can_reveal: may(&staff.actor, &REVEALERS, &h.grid_code),
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

fn not_an_editor() -> ApiError {
    AppError::forbidden(
        "仅网格员、社区工作者、街道工作人员可以登记和修改本辖区的实有人口",
        "only grid workers, community workers and street staff add and edit people in their scope",
    )
}

/// `POST /registry/households/{id}/residents`: adds a person to a household.
async fn add_resident(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    body: String,
) -> Result<Response, ApiError> {
    let form = read_form(&body);
    staff.check_csrf(&form.csrf)?;
    let cipher = cipher(&state)?;
    let h = readable_household(&state, cipher.as_ref(), &staff.actor, id).await?;
    if !may(&staff.actor, &EDITORS, &h.grid_code) {
        return Err(not_an_editor());
    }
    let record = match form.input().validate(h.id) {
        Ok(r) => r,
        Err(e) => {
            let err = field_error(&e);
            return household_view(
                &state,
                &staff,
                id,
                None,
                Some(err),
                form,
                0,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    if !state
        .db()
        .resident_ids_by_id_numbers(cipher.as_ref(), std::slice::from_ref(&record.id_number))
        .await?
        .is_empty()
    {
        let err = AppError::new(
            ErrorCode::DuplicateIdNumber,
            Some("id_number"),
            "字段 id_number（身份证号码）：该身份证号码已登记",
            "field id_number: this ID number is already registered",
        );
        return household_view(&state, &staff, id, None, Some(err), form, 0, StatusCode::CONFLICT).await;
    }
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    state
        .db()
        .insert_resident_records(cipher.as_ref(), &key, &staff.actor.account, "form", &[record])
        .await?;
    Ok(Redirect::to(&format!("/registry/households/{id}?done=added")).into_response())
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
    let cipher = cipher(&state)?;
    let b = readable_building(&state, &staff.actor, id).await?;
    if !may_correct(&staff.actor, &b.grid_code) {
        return Err(AppError::forbidden(
            "仅本辖区的系统管理员、街道工作人员和社区工作者可以设置楼长、单元长",
            "only system administrators, street staff and community workers of the area set chiefs",
        )
        .into());
    }
    let entrance_id = match form.entrance.trim() {
        "" => None,
        n => {
            let number: i64 = n.parse().unwrap_or(-1);
            let found = state
                .db()
                .entrances_of(b.id)
                .await?
                .into_iter()
                .find(|e| e.number == number);
            Some(
                found
                    .ok_or_else(|| {
                        AppError::new(
                            ErrorCode::UnknownEntrance,
                            Some("entrance"),
                            format!("字段 entrance（单元）：楼栋没有{n}单元"),
                            format!("field entrance: the building has no entrance {n}"),
                        )
                    })?
                    .id,
            )
        }
    };
    let chief = match form.name.trim() {
        "" => None,
        name => {
            let name = gongzhi_core::people::registry::PersonName::parse(name).map_err(|e| field_error(&e))?;
            let phone = match form.phone.trim() {
                "" => None,
                p => Some(Phone::parse(p).map_err(|e| field_error(&e))?),
            };
            Some((name, phone))
        }
    };
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    state
        .db()
        .set_chief(
            cipher.as_ref(),
            &key,
            &staff.actor.account,
            b.id,
            entrance_id,
            &b.community_code,
            &b.grid_code,
            chief.as_ref().map(|(n, p)| (n, p.as_ref())),
        )
        .await?;
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

async fn editable(
    state: &AppState,
    staff: &Staff,
    id: i64,
) -> Result<(Arc<dyn CipherProvider>, ResidentRecord), ApiError> {
    let cipher = cipher(state)?;
    let r = match state.db().resident_record(cipher.as_ref(), id).await? {
        Some(r) if may(&staff.actor, &READERS, &r.grid_code) => r,
        _ => return Err(AppError::not_found_path().into()),
    };
    // The form shows the values in full: editing a person is for those who may see them.
    if !may(&staff.actor, &REVEALERS, &r.grid_code) {
        return Err(not_a_revealer());
    }
    Ok((cipher, r))
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
    let (cipher, _) = editable(&state, &staff, id).await?;
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let r = state
        .db()
        .reveal_resident(cipher.as_ref(), &key, &staff.actor.account, id, "修改登记信息 (edit)")
        .await?
        .ok_or_else(AppError::not_found_path)?;
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
    body: String,
) -> Result<Response, ApiError> {
    let form = read_form(&body);
    staff.check_csrf(&form.csrf)?;
    let (cipher, r) = editable(&state, &staff, id).await?;
    let new = match form.input().validate(r.household_id) {
        Ok(n) => n,
        Err(e) => {
            return edit_page(
                &staff,
                id,
                r.household_id,
                form,
                Some(field_error(&e)),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    match state
        .db()
        .update_resident_record(cipher.as_ref(), &key, &staff.actor.account, id, form.revision, &new)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/registry/households/{}?done=saved", r.household_id)).into_response()),
        Err(gongzhi_store::StoreError::Conflict { .. }) => {
            let e = AppError::new(
                ErrorCode::Conflict,
                Some("revision"),
                "该人员信息已被他人修改，请重新打开后再改",
                "someone else changed this person meanwhile; open it again",
            );
            edit_page(&staff, id, r.household_id, form, Some(e), StatusCode::CONFLICT)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct RevealForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

fn not_a_revealer() -> ApiError {
    AppError::forbidden(
        "仅本辖区的社区工作者、街道工作人员可以查看完整信息",
        "only community workers and street staff of the area see full personal data",
    )
}

/// Checks role, scope and reason, then records and opens the person.
async fn reveal(state: &AppState, actor: &Actor, id: i64, reason: &str) -> Result<ResidentRecord, ApiError> {
    let cipher = cipher(state)?;
    let grid = match state.db().resident_record(cipher.as_ref(), id).await? {
        Some(r) if may(actor, &READERS, &r.grid_code) => r.grid_code,
        _ => return Err(AppError::not_found_path().into()),
    };
    if !may(actor, &REVEALERS, &grid) {
        return Err(not_a_revealer());
    }
    let reason = reveal_reason(reason).map_err(|e| field_error(&e))?;
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    state
        .db()
        .reveal_resident(cipher.as_ref(), &key, &actor.account, id, &reason)
        .await?
        .ok_or_else(AppError::not_found_path)
}

/// `POST /registry/residents/{id}/reveal`: the household page with this person in full.
async fn reveal_page(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<RevealForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    let cipher = cipher(&state)?;
    let household = match state.db().resident_record(cipher.as_ref(), id).await? {
        Some(r) if may(&staff.actor, &READERS, &r.grid_code) => r.household_id,
        _ => return Err(AppError::not_found_path().into()),
    };
    match reveal(&state, &staff.actor, id, &form.reason).await {
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
    let prefix = within_of(&actor, q.within.as_deref())?;
    let buildings = match q.q.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(text) => state.db().search_buildings(&prefix, text, LIMIT).await?,
        None => state.db().buildings_within(&prefix, LIMIT).await?,
    };
    let counts = state.db().registry_counts(&prefix).await?;
    Ok(Json(
        json!({"within": code_of(&prefix), "counts": counts, "buildings": buildings}),
    ))
}

/// `GET /api/v1/registry/buildings/{id}`
async fn api_building(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let cipher = cipher(&state)?;
    let b = readable_building(&state, &actor, id).await?;
    let households: Vec<Value> = state
        .db()
        .households_of(cipher.as_ref(), b.id)
        .await?
        .into_iter()
        .map(|h| json!({"id": h.id, "code": h.code, "room": h.room, "entrance_id": h.entrance_id}))
        .collect();
    let chiefs = state
        .db()
        .assignments_at_building(cipher.as_ref(), b.id, &b.grid_code)
        .await?;
    let cases = state.db().cases_at_building(&b, 20).await?;
    Ok(Json(
        json!({"building": b, "households": households, "chiefs": chiefs, "cases": cases}),
    ))
}

/// `GET /api/v1/registry/households/{id}`: its people masked.
async fn api_household(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let cipher = cipher(&state)?;
    let h = readable_household(&state, cipher.as_ref(), &actor, id).await?;
    let people: Vec<ApiPerson> = state
        .db()
        .residents_of_household(cipher.as_ref(), h.id)
        .await?
        .iter()
        .map(|p| ApiPerson {
            person: p.masked(state.id_mask),
        })
        .collect();
    Ok(Json(json!({"household": h, "residents": people})))
}

/// `GET /api/v1/registry/search?q=…&within=…`: people masked, buildings.
async fn api_search(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<BrowseQuery>,
) -> Result<Json<Value>, ApiError> {
    let prefix = within_of(&actor, q.within.as_deref())?;
    let cipher = cipher(&state)?;
    let text = q.q.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(AppError::missing("q").into());
    }
    let found = find(&state, cipher.as_ref(), &actor, &prefix, &text).await?;
    let people: Vec<MaskedResident> = found.people.iter().map(|p| p.masked(state.id_mask)).collect();
    Ok(Json(json!({"residents": people, "buildings": found.buildings})))
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
    Json(body): Json<RevealBody>,
) -> Result<Json<Value>, ApiError> {
    let r = reveal(&state, &actor, id, &body.reason).await?;
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
