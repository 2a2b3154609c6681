//! The staff case page's reads: the case with its history (a [`CaseView`]) and what the page
//! names beside it (people, places, the open duplicates nearby), and the grids a person reports
//! in. The grids of the case's community, for its map, come from the territory index in memory
//! ([`crate::TerritoryIndex::community_grids`]).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use gongzhi_core::cases::UnitRef;
use gongzhi_core::people::{Actor, Scope};
use gongzhi_core::territory::{Level, Node, TerritoryCode};

use super::{CaseView, Duplicate, duplicates_near, get};
use crate::{App, AppError};

/// A case as the staff case page shows it (卷宗).
#[derive(Debug, Clone)]
pub struct Dossier {
    pub view: CaseView,
    /// The display names of the accounts in its timeline and of its reporter, by username.
    pub people: HashMap<String, String>,
    /// The names of the territory nodes it names (handling units, its street and community), by
    /// code; a node no longer in the territory is left out.
    pub places: HashMap<String, String>,
    /// Open cases of the same matter nearby, while it is open itself (to merge it into one).
    pub duplicates: Vec<Duplicate>,
}

/// The territorial handling unit a timeline entry names, if any.
fn territory_unit(unit: &serde_json::Value) -> Option<TerritoryCode> {
    match serde_json::from_value::<UnitRef>(unit.clone()).ok()? {
        UnitRef::Territory(t) => Some(t),
        _ => None,
    }
}

/// The case `id` (its id or 13-digit number) as its page shows it, if `actor` may see it.
pub async fn dossier(app: &App, actor: &Actor, id: &str, now: DateTime<Utc>) -> Result<Dossier, AppError> {
    let view = get(app, actor, id).await?;
    let rules = app.rules();
    let record = &view.record;
    let flow = &record.flow;

    let mut accounts: BTreeSet<&str> = view.events.iter().map(|e| e.account.as_str()).collect();
    accounts.insert(record.reporter.as_str());
    let accounts: Vec<&str> = accounts.into_iter().collect();

    let l = &record.location;
    let mut codes: BTreeSet<TerritoryCode> = view
        .events
        .iter()
        .filter_map(|e| e.body().get("unit").and_then(territory_unit))
        .collect();
    for unit in flow.lead.iter().chain(&flow.co_handlers) {
        if let UnitRef::Territory(t) = unit {
            codes.insert(t.clone());
        }
    }
    codes.extend(
        [&l.grid, &l.community, &l.street]
            .into_iter()
            .flatten()
            .filter_map(|c| TerritoryCode::parse(c).ok()),
    );
    let codes: Vec<&str> = codes.iter().map(TerritoryCode::as_str).collect();
    // One query for everyone named and one for every place, side by side, not one per person and
    // per place; names only (reading a node whole parsed a street's boundary for its name).
    let (people, mut places) = tokio::try_join!(app.db().display_names(&accounts), app.db().node_names(&codes))?;
    // A member organization that took a need is named from the registry (`organization:ID`).
    for unit in flow.lead.iter().chain(&flow.co_handlers) {
        if let UnitRef::Organization(o) = unit
            && let Some(org) = app.db().member_organization(*o).await?
        {
            places.insert(unit.key(), org.name);
        }
    }

    let duplicates = match (l.lon, l.lat) {
        (Some(lon), Some(lat)) if flow.state.is_open() => {
            duplicates_near(app, &rules, &flow.matter, (lon, lat), now, Some(actor))
                .await?
                .into_iter()
                .filter(|d| d.id != record.id)
                .collect()
        }
        _ => vec![],
    };
    Ok(Dossier {
        view,
        people,
        places,
        duplicates,
    })
}

/// The grids a person reports in: those of their widest territorial scope (a grid worker's are
/// the grids of the community), the city's otherwise; `None` before the territory is imported.
pub async fn reporting_grids(app: &App, actor: &Actor) -> Result<Option<Vec<Node>>, AppError> {
    let scope = actor
        .grants
        .iter()
        .filter_map(|g| match &g.scope {
            Scope::Territory(t) => Some(t.clone()),
            Scope::Department(_) | Scope::Organization(_) => None,
        })
        .min_by_key(|t| t.level());
    let node = match scope {
        Some(t) if t.level() == Level::Grid => t.parent(),
        Some(t) => Some(t),
        None => None,
    };
    let node = match node {
        Some(n) => n,
        None => match app.db().nodes_at_level(Level::City).await?.into_iter().next() {
            Some(city) => city.code,
            None => return Ok(None),
        },
    };
    Ok(Some(app.db().grids_within(&node).await?))
}
