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

use std::collections::HashMap;

use gongzhi_core::ErrorCode;
use gongzhi_core::Lang;
use gongzhi_core::data::Problem;
use gongzhi_core::import::Reach;
use gongzhi_core::import::registry::{
    BUILDINGS, COMPOUNDS, HOUSEHOLDS, MEMBER_ORGS, PARTY_MEMBERS, PARTY_ORGS, POSTED_OFFICES, PROPERTY_COMPANIES,
};
use gongzhi_core::import::template::Column;
use gongzhi_core::orgs::DepartmentCode;
use gongzhi_core::orgs::registry::PartyOrgKind;
use gongzhi_core::people::Actor;
use gongzhi_core::people::id_number::IdNumber;
use gongzhi_core::people::registry::sealed;
use gongzhi_core::territory::places::street_of;
use gongzhi_core::territory::{DivisionCode, Level, TerritoryCode};
use gongzhi_store::StoreError;
use gongzhi_store::registry::edit::{ColumnChange, CommitteeChange, FieldValue, RegistryEdit, RegistryTable};
use serde_json::json;

use super::{cipher, importer_reach};
use crate::{App, AppError};

/// What may be corrected, by the path segment that names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Compound,
    Building,
    Household,
    MemberOrganization,
    /// A department's office posted to a street (派驻机构).
    PostedOffice,
    PropertyCompany,
    PartyOrganization,
    /// Party data is personal data: opening the form is a full view (audited), for community
    /// workers and street staff only.
    PartyMember,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Compound,
        Kind::Building,
        Kind::Household,
        Kind::MemberOrganization,
        Kind::PostedOffice,
        Kind::PropertyCompany,
        Kind::PartyOrganization,
        Kind::PartyMember,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Kind::Compound => "compounds",
            Kind::Building => "buildings",
            Kind::Household => "households",
            Kind::MemberOrganization => "member-orgs",
            Kind::PostedOffice => "posted-offices",
            Kind::PropertyCompany => "property-companies",
            Kind::PartyOrganization => "party-orgs",
            Kind::PartyMember => "party-members",
        }
    }

    pub fn template(self) -> gongzhi_core::import::Template {
        match self {
            Kind::Compound => COMPOUNDS,
            Kind::Building => BUILDINGS,
            Kind::Household => HOUSEHOLDS,
            Kind::MemberOrganization => MEMBER_ORGS,
            Kind::PostedOffice => POSTED_OFFICES,
            Kind::PropertyCompany => PROPERTY_COMPANIES,
            Kind::PartyOrganization => PARTY_ORGS,
            Kind::PartyMember => PARTY_MEMBERS,
        }
    }

    /// The template columns a form shows, in order. Codes that identify a row (credit codes,
    /// party organization codes) and the grid of a building are not edited: a building in
    /// another grid is another building.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Compound => &["name", "address", "property_company", "owners_committee", "lon", "lat"],
            Kind::Building => &["building", "compound", "address", "floors", "use", "lon", "lat"],
            Kind::Household => &["room", "area_m2"],
            Kind::MemberOrganization => &["name", "kind", "territory_code", "address"],
            Kind::PostedOffice => &["name", "department_code", "street_code", "address"],
            Kind::PropertyCompany => &["name", "address", "phone"],
            Kind::PartyOrganization => &["name", "parent"],
            Kind::PartyMember => &[
                "name",
                "phone",
                "party_org",
                "employer",
                "residence_community",
                "joined_on",
            ],
        }
    }

    fn table(self) -> RegistryTable {
        match self {
            Kind::Compound => RegistryTable::Compounds,
            Kind::Building => RegistryTable::Buildings,
            Kind::Household => RegistryTable::Households,
            Kind::MemberOrganization => RegistryTable::MemberOrganizations,
            Kind::PostedOffice => RegistryTable::PostedOffices,
            Kind::PropertyCompany => RegistryTable::PropertyCompanies,
            Kind::PartyOrganization => RegistryTable::PartyOrganizations,
            Kind::PartyMember => RegistryTable::PartyMembers,
        }
    }
}

/// A row as the form opens it: its current values by column key, where it sits, its revision.
pub struct Loaded {
    /// What the form's title names (a party member's name masked).
    pub name: String,
    /// The territory code whose subtree the editor must reach (none for a property company).
    scope: Option<String>,
    /// Where the editor goes back to.
    pub back: String,
    pub revision: i64,
    /// The current values by column key.
    pub values: HashMap<&'static str, String>,
    /// For a household: the building (rooms are unique per entrance of it); for a building: its
    /// grid; for a compound: its community.
    parent: String,
    entrance_id: Option<i64>,
}

fn num(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

async fn load(app: &App, kind: Kind, id: i64) -> Result<Option<Loaded>, AppError> {
    let db = &app.db();
    let values = |pairs: Vec<(&'static str, String)>| pairs.into_iter().collect::<HashMap<_, _>>();
    Ok(match kind {
        Kind::Compound => match db.compound(id).await? {
            None => None,
            Some(c) => {
                let company = match c.property_company_id {
                    Some(pid) => db.property_company(pid).await?.map(|p| p.credit_code),
                    None => None,
                };
                let committee = db.owners_committee_of(c.id).await?.map(|o| o.name);
                Some(Loaded {
                    name: c.name.clone(),
                    scope: Some(c.community_code.clone()),
                    back: format!("/registry/organizations?within={}", c.community_code),
                    revision: c.revision,
                    parent: c.community_code.clone(),
                    entrance_id: None,
                    values: values(vec![
                        ("name", c.name),
                        ("address", c.address),
                        ("property_company", company.unwrap_or_default()),
                        ("owners_committee", committee.unwrap_or_default()),
                        ("lon", num(c.lon)),
                        ("lat", num(c.lat)),
                    ]),
                })
            }
        },
        Kind::Building => match db.building(id).await? {
            None => None,
            Some(b) => {
                let compound = match b.compound_id {
                    Some(cid) => db.compound(cid).await?.map(|c| c.name),
                    None => None,
                };
                Some(Loaded {
                    name: b.name.clone(),
                    scope: Some(b.grid_code.clone()),
                    back: format!("/registry/buildings/{}", b.id),
                    revision: b.revision,
                    parent: b.grid_code.clone(),
                    entrance_id: None,
                    values: values(vec![
                        ("building", b.name),
                        ("compound", compound.unwrap_or_default()),
                        ("address", b.address),
                        ("floors", b.floors.to_string()),
                        ("use", b.use_kind),
                        ("lon", num(b.lon)),
                        ("lat", num(b.lat)),
                    ]),
                })
            }
        },
        Kind::Household => {
            let cipher = cipher(app)?;
            match db.household(cipher.as_ref(), id).await? {
                None => None,
                Some(h) => Some(Loaded {
                    name: h.room.clone(),
                    scope: Some(h.grid_code.clone()),
                    back: format!("/registry/households/{}", h.id),
                    revision: h.revision,
                    parent: h.building_id.to_string(),
                    entrance_id: h.entrance_id,
                    values: values(vec![
                        ("room", h.room),
                        ("area_m2", h.area_m2.map(|a| a.to_string()).unwrap_or_default()),
                    ]),
                }),
            }
        }
        Kind::MemberOrganization => db.member_organization(id).await?.map(|m| {
            let place = m.community_code.clone().unwrap_or_else(|| m.street_code.clone());
            Loaded {
                name: m.name.clone(),
                scope: Some(place.clone()),
                back: format!("/registry/organizations?within={place}"),
                revision: m.revision,
                parent: String::new(),
                entrance_id: None,
                values: values(vec![
                    ("name", m.name),
                    ("kind", m.kind.as_str().to_string()),
                    ("territory_code", place),
                    ("address", m.address),
                ]),
            }
        }),
        Kind::PostedOffice => db.posted_office(id).await?.map(|o| Loaded {
            name: o.name.clone(),
            scope: Some(o.street_code.clone()),
            back: format!("/registry/organizations?within={}", o.street_code),
            revision: o.revision,
            parent: String::new(),
            entrance_id: None,
            values: values(vec![
                ("name", o.name),
                ("department_code", o.department_code),
                ("street_code", o.street_code),
                ("address", o.address),
            ]),
        }),
        Kind::PropertyCompany => db.property_company(id).await?.map(|p| Loaded {
            name: p.name.clone(),
            scope: None,
            back: "/registry/organizations".into(),
            revision: p.revision,
            parent: String::new(),
            entrance_id: None,
            values: values(vec![
                ("name", p.name),
                ("address", p.address),
                ("phone", p.phone.unwrap_or_default()),
            ]),
        }),
        Kind::PartyOrganization => match db.party_organization(id).await? {
            None => None,
            Some(o) => {
                let parent = match o.parent_id {
                    Some(pid) => db.party_organization(pid).await?.map(|p| p.code),
                    None => None,
                };
                Some(Loaded {
                    name: o.name.clone(),
                    scope: Some(o.territory_code.clone()),
                    back: format!("/registry/organizations?within={}", o.territory_code),
                    revision: o.revision,
                    parent: o.kind.clone(),
                    entrance_id: None,
                    values: values(vec![("name", o.name), ("parent", parent.unwrap_or_default())]),
                })
            }
        },
        Kind::PartyMember => {
            let cipher = cipher(app)?;
            match db.party_member(cipher.as_ref(), id).await? {
                None => None,
                Some(m) => {
                    let org = db.party_organization(m.party_organization_id).await?;
                    let employer = match m.employer_id {
                        Some(e) => db.member_organization(e).await?.map(|o| o.name),
                        None => None,
                    };
                    Some(Loaded {
                        name: gongzhi_core::people::registry::mask_name(&m.name),
                        scope: Some(m.residence_community_code.clone()),
                        back: format!("/registry/organizations?within={}", m.residence_community_code),
                        revision: m.revision,
                        parent: String::new(),
                        entrance_id: None,
                        values: values(vec![
                            ("name", m.name),
                            ("phone", m.phone.unwrap_or_default()),
                            ("party_org", org.map(|o| o.code).unwrap_or_default()),
                            ("employer", employer.unwrap_or_default()),
                            ("residence_community", m.residence_community_code),
                            ("joined_on", m.joined_on.map(|d| d.to_string()).unwrap_or_default()),
                        ]),
                    })
                }
            }
        }
    })
}

/// The row, if the editor may correct it: outside their reach it is 404, as if it did not exist.
async fn editable(app: &App, actor: &Actor, kind: Kind, id: i64) -> Result<(Reach, Loaded), AppError> {
    let reach = importer_reach(actor)?;
    let loaded = load(app, kind, id).await?.ok_or_else(AppError::not_found_path)?;
    let reached = match &loaded.scope {
        Some(code) => TerritoryCode::parse(code).is_ok_and(|c| reach.reaches(&c)),
        None => serves_within(app, id, &reach).await?,
    };
    if !reached {
        return Err(AppError::not_found_path());
    }
    if kind == Kind::PartyMember
        && !loaded
            .scope
            .as_deref()
            .is_some_and(|c| super::may(actor, &super::REVEALERS, c))
    {
        return Err(super::not_a_revealer());
    }
    Ok((reach, loaded))
}

/// Opening a party member's form shows party data in full: recorded like a full view, before
/// anything is shown.
async fn record_view(app: &App, actor: &Actor, kind: Kind, id: i64) -> Result<(), AppError> {
    if kind != Kind::PartyMember {
        return Ok(());
    }
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let entry = gongzhi_core::audit::NewAuditEntry::new(
        chrono::Utc::now(),
        actor.account.clone(),
        "registry.party_member.reveal",
        "party_member",
        id.to_string(),
        json!({"reason": "修改党员信息 (edit)", "fields": ["name", "phone", "joined_on"]}),
    )
    .map_err(|e| AppError::internal(&e))?;
    gongzhi_store::audit::record(app.db(), &key, entry).await?;
    Ok(())
}

/// Whether property company `id` serves a compound within `reach` (or the reach is the city).
async fn serves_within(app: &App, id: i64, reach: &Reach) -> Result<bool, AppError> {
    for prefix in reach.prefixes() {
        if prefix.len() <= 4 {
            return Ok(true);
        }
        if app
            .db()
            .compounds_within(prefix)
            .await?
            .iter()
            .any(|c| c.property_company_id == Some(id))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A refusal naming the field: `字段 floors（层数）：…`.
pub fn field_refusal(col: &Column, problem: &Problem) -> AppError {
    AppError::new(
        ErrorCode::InvalidField,
        Some(col.key),
        format!("字段 {}（{}）：{}", col.key, col.header, problem.message(Lang::Zh)),
        format!("field {}: {}", col.key, problem.message(Lang::En)),
    )
}

fn refusal(kind: Kind, key: &'static str, problem: Problem) -> AppError {
    let col = kind
        .template()
        .column(key)
        .copied()
        .expect("a field of the kind's template");
    field_refusal(&col, &problem)
}

/// A change of a place's or an organization's column, shown in the audit entry.
fn shown(column: &'static str, old: &str, new: FieldValue) -> ColumnChange {
    let to = match &new {
        FieldValue::Text(t) => json!(t),
        FieldValue::Int(i) => json!(i),
        FieldValue::Real(r) => json!(r),
    };
    ColumnChange {
        column,
        value: new,
        shown: Some((json!(old), to)),
    }
}

fn text_or_none(v: &str) -> Option<String> {
    Some(v.to_string()).filter(|v| !v.is_empty())
}

/// Checks the fields and turns what differs from `old` into an edit (and, for a compound, a
/// change of its owners' committee). Nothing is written here.
async fn plan(
    app: &App,
    actor: &Actor,
    kind: Kind,
    id: i64,
    reach: &Reach,
    old: &Loaded,
    value_of: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<(RegistryEdit, Option<CommitteeChange>), AppError> {
    let template = kind.template();
    // A field the request leaves out keeps its value (the API may send only what changes).
    let given: HashMap<&'static str, String> = kind
        .fields()
        .iter()
        .map(|k| {
            (
                *k,
                value_of(k).unwrap_or_else(|| old.values.get(k).cloned().unwrap_or_default()),
            )
        })
        .collect();
    let checked = template
        .check_fields(kind.fields(), |k| given.get(k).map(String::as_str))
        .map_err(|problems| {
            let (col, p) = &problems[0];
            field_refusal(col, p)
        })?;
    let new: HashMap<&'static str, String> = checked.into_iter().collect();
    let changed = |k: &str| old.values.get(k).map(String::as_str).unwrap_or("") != new[k].as_str();
    let mut changes = Vec::new();
    let text_change = |key: &'static str, column: &'static str, changes: &mut Vec<ColumnChange>| {
        if changed(key) {
            changes.push(shown(
                column,
                &old.values[key],
                FieldValue::Text(Some(new[key].clone())),
            ));
        }
    };
    let position = |changes: &mut Vec<ColumnChange>| -> Result<(), AppError> {
        if !changed("lon") && !changed("lat") {
            return Ok(());
        }
        let read = |k: &'static str, max: f64| -> Result<Option<f64>, AppError> {
            match new[k].as_str() {
                "" => Ok(None),
                t => t
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && v.abs() <= max)
                    .map(Some)
                    .ok_or_else(|| refusal(kind, k, Problem::invalid(t, "WGS-84 经纬度", "a WGS-84 position"))),
            }
        };
        let (lon, lat) = (read("lon", 180.0)?, read("lat", 90.0)?);
        if lon.is_some() != lat.is_some() {
            let missing = if lon.is_none() { "lon" } else { "lat" };
            return Err(refusal(kind, missing, Problem::Empty));
        }
        changes.push(shown("lon", &old.values["lon"], FieldValue::Real(lon)));
        changes.push(shown("lat", &old.values["lat"], FieldValue::Real(lat)));
        Ok(())
    };
    let db = &app.db();
    let mut committee = None;
    match kind {
        Kind::Compound => {
            if changed("name") {
                let community = &old.parent;
                let prefix = DivisionCode::parse(community)
                    .map(|c| c.significant_prefix().to_string())
                    .unwrap_or_default();
                if db
                    .compounds_within(&prefix)
                    .await?
                    .iter()
                    .any(|c| c.id != id && &c.community_code == community && c.name == new["name"])
                {
                    return Err(refusal(kind, "name", taken(&new["name"])));
                }
            }
            text_change("name", "name", &mut changes);
            text_change("address", "address", &mut changes);
            if changed("property_company") {
                let company = match new["property_company"].as_str() {
                    "" => None,
                    code => Some(
                        db.property_companies()
                            .await?
                            .into_iter()
                            .find(|p| p.credit_code == code)
                            .ok_or_else(|| {
                                refusal(
                                    kind,
                                    "property_company",
                                    Problem::unknown(code, "已登记的物业企业", "registered property company"),
                                )
                            })?
                            .id,
                    ),
                };
                changes.push(shown(
                    "property_company_id",
                    &old.values["property_company"],
                    FieldValue::Int(company),
                ));
            }
            if changed("owners_committee") {
                committee = Some(match text_or_none(&new["owners_committee"]) {
                    Some(name) => CommitteeChange::Set { name },
                    None => CommitteeChange::Remove,
                });
            }
            position(&mut changes)?;
        }
        Kind::Building => {
            if changed("building") {
                let grid = &old.parent;
                if db
                    .buildings_within(grid, 1_000_000)
                    .await?
                    .iter()
                    .any(|b| b.id != id && b.name == new["building"])
                {
                    return Err(refusal(kind, "building", taken(&new["building"])));
                }
            }
            text_change("building", "name", &mut changes);
            text_change("address", "address", &mut changes);
            if changed("floors") {
                let floors = new["floors"].parse::<i64>().ok();
                let Some(floors) = floors else {
                    return Err(refusal(kind, "floors", Problem::Empty));
                };
                changes.push(shown("floors", &old.values["floors"], FieldValue::Int(Some(floors))));
            }
            if changed("use") {
                let use_kind = Some(new["use"].clone())
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(|| "residential".into());
                changes.push(shown("use_kind", &old.values["use"], FieldValue::Text(Some(use_kind))));
            }
            if changed("compound") {
                let compound = match new["compound"].as_str() {
                    "" => None,
                    name => {
                        let grid = TerritoryCode::parse(&old.parent).map_err(|e| AppError::internal(&e))?;
                        let community = match &grid {
                            TerritoryCode::Grid(g) => g.community(),
                            TerritoryCode::Division(d) => d.clone(),
                        };
                        Some(
                            db.compounds_within(community.significant_prefix())
                                .await?
                                .into_iter()
                                .find(|c| c.community_code == community.as_str() && c.name == name)
                                .ok_or_else(|| {
                                    refusal(
                                        kind,
                                        "compound",
                                        Problem::unknown(
                                            name,
                                            "本社区已登记的小区",
                                            "compound registered in this community",
                                        ),
                                    )
                                })?
                                .id,
                        )
                    }
                };
                changes.push(shown("compound_id", &old.values["compound"], FieldValue::Int(compound)));
            }
            position(&mut changes)?;
        }
        Kind::Household => {
            if changed("room") {
                let cipher = cipher(app)?;
                let building: i64 = old.parent.parse().unwrap_or_default();
                if db
                    .households_of(cipher.as_ref(), building)
                    .await?
                    .iter()
                    .any(|h| h.id != id && h.entrance_id == old.entrance_id && h.room == new["room"])
                {
                    return Err(refusal(kind, "room", taken(&new["room"])));
                }
                // The room is an exact address of people: sealed, and named without its value in
                // the audit record.
                changes.push(ColumnChange {
                    column: "room_sealed",
                    value: FieldValue::Text(Some(cipher.seal_text(sealed::HOUSEHOLD_ROOM, &new["room"]))),
                    shown: None,
                });
            }
            if changed("area_m2") {
                changes.push(shown(
                    "area_m2",
                    &old.values["area_m2"],
                    FieldValue::Int(new["area_m2"].parse().ok()),
                ));
            }
        }
        Kind::MemberOrganization => {
            text_change("name", "name", &mut changes);
            text_change("kind", "kind", &mut changes);
            text_change("address", "address", &mut changes);
            if changed("territory_code") {
                let text = new["territory_code"].as_str();
                let place = match DivisionCode::parse(text) {
                    Ok(d) if matches!(d.level(), Level::Street | Level::Community) => d,
                    _ => {
                        return Err(refusal(
                            kind,
                            "territory_code",
                            Problem::unknown(text, "街道或社区代码", "street or community code"),
                        ));
                    }
                };
                let known = app
                    .index()
                    .by_code
                    .values()
                    .any(|l| l.community.code == text || l.street.code == text);
                if !known {
                    return Err(refusal(
                        kind,
                        "territory_code",
                        Problem::unknown(text, "网格化管理的街道或社区", "street or community of the grid system"),
                    ));
                }
                if !reach.reaches(&TerritoryCode::Division(place.clone())) {
                    return Err(refusal(
                        kind,
                        "territory_code",
                        Problem::other(format!("{text} 不在您的辖区内"), format!("{text} is outside your area")),
                    ));
                }
                let (community, street) = if place.level() == Level::Community {
                    (Some(text.to_string()), street_of(&place))
                } else {
                    (None, text.to_string())
                };
                changes.push(shown(
                    "community_code",
                    &old.values["territory_code"],
                    FieldValue::Text(community),
                ));
                changes.push(shown(
                    "street_code",
                    &old.values["territory_code"],
                    FieldValue::Text(Some(street)),
                ));
            }
        }
        Kind::PostedOffice => {
            text_change("name", "name", &mut changes);
            text_change("address", "address", &mut changes);
            if changed("department_code") {
                let text = new["department_code"].as_str();
                let known = DepartmentCode::parse(text)
                    .ok()
                    .is_some_and(|code| app.rules().departments.get(&code).is_some());
                if !known {
                    return Err(refusal(
                        kind,
                        "department_code",
                        Problem::unknown(text, "职能部门名录中的部门", "a department of the list"),
                    ));
                }
            }
            if changed("street_code") {
                let text = new["street_code"].as_str();
                let street = match DivisionCode::parse(text) {
                    Ok(d) if d.level() == Level::Street => d,
                    _ => {
                        return Err(refusal(
                            kind,
                            "street_code",
                            Problem::unknown(text, "街道代码", "street code"),
                        ));
                    }
                };
                if !app.index().by_code.values().any(|l| l.street.code == text) {
                    return Err(refusal(
                        kind,
                        "street_code",
                        Problem::unknown(text, "网格化管理的街道", "street of the grid system"),
                    ));
                }
                if !reach.reaches(&TerritoryCode::Division(street)) {
                    return Err(refusal(
                        kind,
                        "street_code",
                        Problem::other(format!("{text} 不在您的辖区内"), format!("{text} is outside your area")),
                    ));
                }
            }
            if changed("department_code") || changed("street_code") {
                // One office per department and street, as the import keeps it.
                let (department, street) = (new["department_code"].as_str(), new["street_code"].as_str());
                if db
                    .posted_offices_within(street)
                    .await?
                    .iter()
                    .any(|o| o.id != id && o.department_code == department && o.street_code == street)
                {
                    return Err(refusal(
                        kind,
                        "department_code",
                        Problem::other(
                            format!("{department} 在街道 {street} 已有派驻机构"),
                            format!("{department} already has an office at street {street}"),
                        ),
                    ));
                }
            }
            text_change("department_code", "department_code", &mut changes);
            text_change("street_code", "street_code", &mut changes);
        }
        Kind::PropertyCompany => {
            text_change("name", "name", &mut changes);
            text_change("address", "address", &mut changes);
            if changed("phone") {
                changes.push(shown(
                    "phone",
                    &old.values["phone"],
                    FieldValue::Text(text_or_none(&new["phone"])),
                ));
            }
        }
        Kind::PartyOrganization => {
            text_change("name", "name", &mut changes);
            if changed("parent") {
                let own_kind = old.parent.parse::<PartyOrgKind>().map_err(|e| AppError::internal(&e))?;
                let parent = match new["parent"].as_str() {
                    "" if own_kind.parent_kind().is_none() => None,
                    "" => return Err(refusal(kind, "parent", Problem::Empty)),
                    code => {
                        let p = db
                            .party_organization_by_code(code)
                            .await?
                            .filter(|p| p.id != id)
                            .ok_or_else(|| {
                                refusal(
                                    kind,
                                    "parent",
                                    Problem::unknown(code, "已登记的党组织编号", "registered party organization code"),
                                )
                            })?;
                        let fits = p
                            .kind
                            .parse::<PartyOrgKind>()
                            .is_ok_and(|k| own_kind.parent_kind().is_some_and(|allowed| allowed.contains(&k)));
                        if !fits {
                            return Err(refusal(
                                kind,
                                "parent",
                                Problem::other(
                                    format!("{code} 不能作为{}的上级组织", own_kind.label(Lang::Zh)),
                                    format!("{code} cannot be the parent of a {}", own_kind.label(Lang::En)),
                                ),
                            ));
                        }
                        Some(p.id)
                    }
                };
                changes.push(shown("parent_id", &old.values["parent"], FieldValue::Int(parent)));
            }
        }
        Kind::PartyMember => {
            let cipher = cipher(app)?;
            if changed("name") {
                gongzhi_core::people::registry::PersonName::parse(&new["name"])
                    .map_err(|_| refusal(kind, "name", Problem::Empty))?;
                changes.push(ColumnChange {
                    column: "name_sealed",
                    value: FieldValue::Text(Some(cipher.seal_text(sealed::PARTY_MEMBER_NAME, &new["name"]))),
                    shown: None,
                });
            }
            if changed("phone") {
                let phone = text_or_none(&new["phone"]);
                changes.push(ColumnChange {
                    column: "phone_sealed",
                    value: FieldValue::Text(phone.as_ref().map(|p| cipher.seal_text(sealed::PARTY_MEMBER_PHONE, p))),
                    shown: None,
                });
                changes.push(ColumnChange {
                    column: "phone_index",
                    value: FieldValue::Text(phone.as_ref().map(|p| cipher.index(sealed::PARTY_MEMBER_PHONE, p))),
                    shown: None,
                });
            }
            if changed("joined_on") {
                changes.push(ColumnChange {
                    column: "joined_on_sealed",
                    value: FieldValue::Text(
                        text_or_none(&new["joined_on"]).map(|d| cipher.seal_text(sealed::PARTY_MEMBER_JOINED_ON, &d)),
                    ),
                    shown: None,
                });
            }
            if changed("party_org") {
                let code = new["party_org"].as_str();
                let org = db.party_organization_by_code(code).await?.ok_or_else(|| {
                    refusal(
                        kind,
                        "party_org",
                        Problem::unknown(code, "已登记的党组织编号", "registered party organization code"),
                    )
                })?;
                if !TerritoryCode::parse(&org.territory_code).is_ok_and(|c| reach.reaches(&c)) {
                    return Err(refusal(
                        kind,
                        "party_org",
                        Problem::other(format!("{code} 不在您的辖区内"), format!("{code} is outside your area")),
                    ));
                }
                changes.push(shown(
                    "party_organization_id",
                    &old.values["party_org"],
                    FieldValue::Int(Some(org.id)),
                ));
            }
            if changed("employer") {
                let employer = match new["employer"].as_str() {
                    "" => None,
                    name => Some(
                        db.member_organizations_within("")
                            .await?
                            .into_iter()
                            .find(|o| o.name == name)
                            .ok_or_else(|| {
                                refusal(
                                    kind,
                                    "employer",
                                    Problem::unknown(name, "已登记的辖区单位", "registered member organization"),
                                )
                            })?
                            .id,
                    ),
                };
                let member_kind = if employer.is_some() { "employed" } else { "community" };
                changes.push(shown("employer_id", &old.values["employer"], FieldValue::Int(employer)));
                changes.push(shown("kind", "", FieldValue::Text(Some(member_kind.into()))));
            }
            if changed("residence_community") {
                let text = new["residence_community"].as_str();
                let known = app.index().by_code.values().any(|l| l.community.code == text);
                let code = TerritoryCode::parse(text)
                    .ok()
                    .filter(|_| known && text.len() == 12)
                    .ok_or_else(|| {
                        refusal(
                            kind,
                            "residence_community",
                            Problem::unknown(text, "网格化管理的社区代码", "community code of the grid system"),
                        )
                    })?;
                if !super::may(actor, &super::REVEALERS, code.as_str()) || !reach.reaches(&code) {
                    return Err(refusal(
                        kind,
                        "residence_community",
                        Problem::other(format!("{text} 不在您的辖区内"), format!("{text} is outside your area")),
                    ));
                }
                changes.push(shown(
                    "residence_community_code",
                    &old.values["residence_community"],
                    FieldValue::Text(Some(text.into())),
                ));
            }
        }
    }
    Ok((
        RegistryEdit {
            table: kind.table(),
            id,
            revision: old.revision,
            changes,
        },
        committee,
    ))
}

fn taken(value: &str) -> Problem {
    Problem::other(format!("“{value}”已被登记"), format!("{value} is registered already"))
}

fn conflict() -> AppError {
    AppError::new(
        ErrorCode::Conflict,
        Some("revision"),
        "该信息已被他人修改，请重新打开后再改",
        "someone else changed this meanwhile; open it again",
    )
}

/// A correction: the fields that change by column key (the others keep their values), and the
/// revision the editor saw (a stale one is refused with 409).
pub struct Correction {
    pub revision: Option<i64>,
    pub fields: HashMap<String, String>,
}

/// The row as its form shows it, if the actor may correct it (404 outside their reach). Opening a
/// party member's is a full view, recorded before it is returned.
pub async fn open(app: &App, actor: &Actor, kind: Kind, id: i64) -> Result<Loaded, AppError> {
    let (_, loaded) = editable(app, actor, kind, id).await?;
    record_view(app, actor, kind, id).await?;
    Ok(loaded)
}

/// The row as its form shows it again around what the editor typed: checked like [`open`], but
/// no stored value is shown, so nothing is recorded.
pub async fn reopen(app: &App, actor: &Actor, kind: Kind, id: i64) -> Result<Loaded, AppError> {
    Ok(editable(app, actor, kind, id).await?.1)
}

/// Checks and writes a correction with its audit entry: 422 naming a refused field, 409 when
/// someone changed the row meanwhile (nothing written). The row with its new revision.
pub async fn correct(
    app: &App,
    actor: &Actor,
    kind: Kind,
    id: i64,
    correction: &Correction,
) -> Result<Loaded, AppError> {
    let (reach, mut old) = editable(app, actor, kind, id).await?;
    if correction.revision.is_some_and(|r| r != old.revision) {
        return Err(conflict());
    }
    let value_of = |k: &str| correction.fields.get(k).cloned();
    let (edit, committee) = plan(app, actor, kind, id, &reach, &old, &value_of).await?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    match app
        .db()
        .edit_registry(&key, &actor.account, &edit, committee.as_ref())
        .await
    {
        Ok(revision) => {
            old.revision = revision;
            Ok(old)
        }
        Err(StoreError::Conflict { .. }) => Err(conflict()),
        Err(e) => Err(e.into()),
    }
}

/// The party member with this ID number, found through the keyed index (members are never
/// listed), if the actor may correct them; else 404 naming the number masked.
pub async fn find_party_member(app: &App, actor: &Actor, id_number: &IdNumber) -> Result<i64, AppError> {
    let cipher = cipher(app)?;
    let found = app
        .db()
        .party_member_ids_by_id_numbers(cipher.as_ref(), std::slice::from_ref(id_number))
        .await?;
    let not_found = || {
        AppError::new(
            ErrorCode::NotFound,
            Some("id_number"),
            format!("您的辖区内没有身份证号为 {} 的党员", id_number.masked()),
            format!("no party member with ID number {} in your area", id_number.masked()),
        )
    };
    let id = *found.get(id_number.as_str()).ok_or_else(not_found)?;
    match editable(app, actor, Kind::PartyMember, id).await {
        Ok(_) => Ok(id),
        Err(e) if e.status() == 404 => Err(not_found()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_a_column_of_its_template() {
        for kind in Kind::ALL {
            for k in kind.fields() {
                assert!(kind.template().column(k).is_some(), "{:?} {k}", kind);
            }
        }
    }
}
