//! The organizations of an area, read-only (`/registry/organizations`): member organizations
//! (辖区单位), compounds with their property company and owners' committee (小区与物业), and the
//! party organizations from the street working committee down (党组织). Organizations hold no
//! personal data, so nothing here is masked; party members are counted, never listed, because
//! membership is personal data (docs/REGISTRY.md).

use std::collections::HashMap;

use crate::json::Query;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use gongzhi_app::registry::{OrgCounts, may_correct};
use gongzhi_core::orgs::registry::PartyOrgKind;

use super::{BrowseQuery, Link, code_of, page, trail};
use crate::pages::Chrome;
use crate::people::session::Staff;
use crate::{ApiError, AppState};

#[derive(Template)]
#[template(path = "registry/organizations.html")]
struct OrganizationsPage {
    c: Chrome,
    within: String,
    trail: Vec<Link>,
    counts: OrgCounts,
    party_kinds: Vec<(String, i64)>,
    members: Vec<MemberRow>,
    compounds: Vec<CompoundRow>,
    party: Vec<PartyRow>,
    posted: Vec<PostedRow>,
}

/// A posted office: its id is what a seat of a joint-meeting body names.
struct PostedRow {
    id: i64,
    editable: bool,
    name: String,
    department: String,
    place: String,
    address: String,
}

struct MemberRow {
    id: i64,
    editable: bool,
    name: String,
    kind: String,
    credit_code: String,
    place: String,
    address: String,
}

struct CompoundRow {
    id: i64,
    editable: bool,
    property_company_id: Option<i64>,
    name: String,
    place: String,
    property_company: String,
    owners_committee: String,
}

struct PartyRow {
    id: i64,
    editable: bool,
    code: String,
    name: String,
    kind: String,
    place: String,
    parent: String,
}

pub(super) async fn organizations_page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<BrowseQuery>,
) -> Result<Response, ApiError> {
    let orgs = gongzhi_app::registry::organizations(&state, &staff.actor, q.within.as_deref()).await?;
    let lang = staff.lang;
    let names = node_names(&state);
    let place = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    // Those who may import an area may correct it (edit links only for them).
    let editable = |code: &str| may_correct(&staff.actor, code);

    let members = orgs
        .members
        .into_iter()
        .map(|m| MemberRow {
            id: m.id,
            editable: editable(m.community_code.as_deref().unwrap_or(&m.street_code)),
            place: place(m.community_code.as_deref().unwrap_or(&m.street_code)),
            kind: m.kind.label(lang).to_string(),
            name: m.name,
            credit_code: m.credit_code,
            address: m.address,
        })
        .collect();

    let companies = orgs.property_companies;
    let mut committees = orgs.owners_committees;
    let compounds = orgs
        .compounds
        .into_iter()
        .map(|c| CompoundRow {
            id: c.id,
            editable: editable(&c.community_code),
            property_company_id: c.property_company_id,
            place: place(&c.community_code),
            property_company: c
                .property_company_id
                .and_then(|id| companies.get(&id).cloned())
                .unwrap_or_default(),
            owners_committee: committees.remove(&c.id).unwrap_or_default(),
            name: c.name,
        })
        .collect();

    let party_orgs = orgs.party_organizations;
    let party_names: HashMap<i64, String> = party_orgs.iter().map(|p| (p.id, p.name.clone())).collect();
    let party = party_orgs
        .into_iter()
        .map(|p| PartyRow {
            id: p.id,
            editable: editable(&p.territory_code),
            kind: party_kind(&p.kind, lang),
            place: place(&p.territory_code),
            parent: p
                .parent_id
                .and_then(|id| party_names.get(&id).cloned())
                .unwrap_or_default(),
            code: p.code,
            name: p.name,
        })
        .collect();

    let rules = state.rules();
    let posted = orgs
        .posted_offices
        .into_iter()
        .map(|o| PostedRow {
            id: o.id,
            editable: editable(&o.street_code),
            department: gongzhi_core::orgs::DepartmentCode::parse(&o.department_code)
                .ok()
                .and_then(|code| rules.departments.get(&code).map(|d| d.name.clone()))
                .unwrap_or_else(|| o.department_code.clone()),
            place: place(&o.street_code),
            name: o.name,
            address: o.address,
        })
        .collect();
    let counts = orgs.counts;
    let prefix = orgs.prefix;
    let party_kinds = counts
        .party_organizations
        .iter()
        .map(|(k, n)| (party_kind(k, lang), *n))
        .collect();
    page(
        OrganizationsPage {
            c: Chrome::for_staff(&staff, "/registry"),
            within: code_of(&prefix),
            trail: trail(&state, &prefix),
            counts,
            party_kinds,
            members,
            compounds,
            party,
            posted,
        },
        StatusCode::OK,
    )
}

/// A stored party-organization kind in the reader's language (the stored text if unknown).
fn party_kind(stored: &str, lang: gongzhi_core::Lang) -> String {
    stored
        .parse::<PartyOrgKind>()
        .map_or_else(|_| stored.to_string(), |k| k.label(lang).to_string())
}

/// Every node's name by its code (district, street, community, grid), from the grid index.
fn node_names(state: &AppState) -> HashMap<String, String> {
    let index = state.index();
    let mut out = HashMap::new();
    for l in index.by_code.values() {
        for n in [&l.district, &l.street, &l.community, &l.grid] {
            out.entry(n.code.clone()).or_insert_with(|| n.name.clone());
        }
    }
    out
}
