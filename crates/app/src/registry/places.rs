//! Reading the registry: browse by territory, search, a building, a household. People are
//! always masked here; the full view is [`super::reveal`].

use gongzhi_core::people::Actor;
use gongzhi_core::people::id_number::IdNumber;
use gongzhi_core::people::registry::{MaskedResident, Phone};

use super::{
    Assignment, Building, BuildingSummary, Entrance, Household, LIMIT, NearbyCase, READERS, RegistryCounts, cipher,
    may, no_role, reach,
};
use crate::{App, AppError};

/// The cases a building's and a household's page list.
const CASES_SHOWN: i64 = 20;

/// An area of the registry: its counts and, for a grid, its buildings.
pub struct Buildings {
    /// The subtree prefix of the area.
    pub prefix: String,
    pub counts: RegistryCounts,
    pub buildings: Vec<BuildingSummary>,
}

/// `GET /registry`: the counts of the area `within` names (or the reader's widest), and its
/// buildings when it is a grid.
pub async fn browse(app: &App, actor: &Actor, within: Option<&str>) -> Result<Buildings, AppError> {
    let prefix = super::within(actor, within)?;
    let counts = app.db().registry_counts(&prefix).await?;
    let is_grid = prefix.len() == 15;
    let buildings = if is_grid {
        app.db().buildings_within(&prefix, LIMIT).await?
    } else {
        vec![]
    };
    Ok(Buildings {
        prefix,
        counts,
        buildings,
    })
}

/// The buildings of an area, or those whose name or address holds `text`.
pub async fn buildings(
    app: &App,
    actor: &Actor,
    within: Option<&str>,
    text: Option<&str>,
) -> Result<Buildings, AppError> {
    let prefix = super::within(actor, within)?;
    let buildings = match text.filter(|t| !t.trim().is_empty()) {
        Some(text) => app.db().search_buildings(&prefix, text, LIMIT).await?,
        None => app.db().buildings_within(&prefix, LIMIT).await?,
    };
    let counts = app.db().registry_counts(&prefix).await?;
    Ok(Buildings {
        prefix,
        counts,
        buildings,
    })
}

/// What a search found, masked and narrowed to the reader's scope.
pub struct Found {
    /// The subtree prefix searched.
    pub prefix: String,
    pub counts: RegistryCounts,
    pub people: Vec<MaskedResident>,
    pub buildings: Vec<BuildingSummary>,
}

/// Searches the area `within` names: by exact ID number or phone (the keyed index), else by name
/// and by address. Empty text finds nothing.
pub async fn search(app: &App, actor: &Actor, within: Option<&str>, text: &str) -> Result<Found, AppError> {
    let prefix = super::within(actor, within)?;
    let cipher = cipher(app)?;
    let cipher = cipher.as_ref();
    let db = app.db();
    let q = text.trim();
    let (mut people, mut buildings) = (vec![], vec![]);
    if !q.is_empty() {
        let digits = q
            .chars()
            .all(|c| c.is_ascii_digit() || c == 'x' || c == 'X' || c == '-');
        if let Ok(id) = IdNumber::parse(q) {
            people.extend(db.find_resident_by_id_number(cipher, &id).await?);
        } else if let (true, Ok(phone)) = (digits, Phone::parse(q)) {
            people = db.find_residents_by_phone(cipher, &phone).await?;
        } else {
            people = db.search_residents_by_name(cipher, &prefix, q, LIMIT).await?;
            buildings = db.search_buildings(&prefix, q, LIMIT).await?;
        }
        people.retain(|p| p.grid_code.starts_with(&prefix) && may(actor, &READERS, &p.grid_code));
    }
    Ok(Found {
        counts: db.registry_counts(&prefix).await?,
        prefix,
        people: people.iter().map(|p| p.masked(app.id_mask)).collect(),
        buildings,
    })
}

/// The building if the reader may read it; 404 otherwise.
pub(super) async fn readable_building(app: &App, actor: &Actor, id: i64) -> Result<Building, AppError> {
    match app.db().building(id).await? {
        Some(b) if may(actor, &READERS, &b.grid_code) => Ok(b),
        Some(_) if reach(actor).is_empty() => Err(no_role()),
        _ => Err(AppError::not_found_path()),
    }
}

pub(super) async fn readable_household(app: &App, actor: &Actor, id: i64) -> Result<Household, AppError> {
    let cipher = cipher(app)?;
    match app.db().household(cipher.as_ref(), id).await? {
        Some(h) if may(actor, &READERS, &h.grid_code) => Ok(h),
        Some(_) if reach(actor).is_empty() => Err(no_role()),
        _ => Err(AppError::not_found_path()),
    }
}

/// A building as its page shows it.
pub struct BuildingView {
    pub building: Building,
    /// The compound's name, empty outside one.
    pub compound: String,
    pub entrances: Vec<Entrance>,
    /// Each household with its people, masked.
    pub households: Vec<(Household, Vec<MaskedResident>)>,
    /// The building chief and entrance chiefs, their phones masked.
    pub chiefs: Vec<Assignment>,
    pub cases: Vec<NearbyCase>,
}

/// A building the reader may read, with its households, chiefs and cases.
pub async fn building(app: &App, actor: &Actor, id: i64) -> Result<BuildingView, AppError> {
    let cipher = cipher(app)?;
    let b = readable_building(app, actor, id).await?;
    let db = app.db();
    let entrances = db.entrances_of(b.id).await?;
    let mut households = Vec::new();
    for h in db.households_of(cipher.as_ref(), b.id).await? {
        let people = db.residents_of_household(cipher.as_ref(), h.id).await?;
        households.push((h, people.iter().map(|p| p.masked(app.id_mask)).collect()));
    }
    let chiefs = db.assignments_at_building(cipher.as_ref(), b.id, &b.grid_code).await?;
    let compound = match b.compound_id {
        Some(c) => db.compound(c).await?.map(|c| c.name).unwrap_or_default(),
        None => String::new(),
    };
    let cases = db.cases_at_building(&b, CASES_SHOWN).await?;
    Ok(BuildingView {
        building: b,
        compound,
        entrances,
        households,
        chiefs,
        cases,
    })
}

/// A household as its page shows it.
pub struct HouseholdView {
    pub household: Household,
    pub building: Building,
    /// Its people, masked.
    pub residents: Vec<MaskedResident>,
    pub cases: Vec<NearbyCase>,
}

/// A household the reader may read, with its people masked and the cases at its building.
pub async fn household(app: &App, actor: &Actor, id: i64) -> Result<HouseholdView, AppError> {
    let cipher = cipher(app)?;
    let h = readable_household(app, actor, id).await?;
    let db = app.db();
    let b = db.building(h.building_id).await?.ok_or_else(AppError::not_found_path)?;
    let residents = db
        .residents_of_household(cipher.as_ref(), h.id)
        .await?
        .iter()
        .map(|p| p.masked(app.id_mask))
        .collect();
    let cases = db.cases_at_building(&b, CASES_SHOWN).await?;
    Ok(HouseholdView {
        household: h,
        building: b,
        residents,
        cases,
    })
}
