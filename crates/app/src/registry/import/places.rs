//! Buildings (with their entrances) and households on their own: one row each, in a grid
//! inside the importer's area; a building's compound and a household's building are
//! registered already.

use std::collections::{BTreeSet, HashMap, HashSet};

use gongzhi_core::territory::places::{NewBuilding, NewHousehold};
use gongzhi_store::territory::places::{insert_buildings_tx, insert_households_tx};

use super::*;

/// `2单元`, `2`, `二单元` is not read: digits first.
fn entrance_number(text: &str) -> Option<u16> {
    let digits: String = text.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok().filter(|n| *n >= 1)
}

/// The entrance a row names, if any, or the row's problem.
pub(super) fn entrance_of(r: &Record) -> Result<Option<u16>, RowError> {
    let Some(t) = r.get("entrance") else { return Ok(None) };
    match entrance_number(t) {
        Some(n) => Ok(Some(n)),
        None => Err(r.error(
            "entrance",
            Problem::invalid(t, "单元号，如“2单元”或“2”", "an entrance number such as 2单元 or 2"),
        )),
    }
}

/// A row naming an entrance its registered building has not.
pub(super) fn no_such_entrance(row: usize, entrance: u16) -> RowError {
    RowError::cell(
        row,
        "单元",
        Problem::unknown(
            format!("{entrance}"),
            "单元（楼栋没有此单元）",
            "entrance (the building has none of this number)",
        ),
    )
}

/// A building's code: its grid's, then its serial in the grid.
pub(super) fn building_code(grid: &str, serial: usize) -> String {
    format!("{grid}-B{serial:03}")
}

/// A household's code: its building's, then its serial in the building (never the room).
pub(super) fn household_code(building: &str, serial: usize) -> String {
    format!("{building}-{serial:04}")
}

fn number(r: &Record, key: &str, default: u16) -> u16 {
    r.get(key).and_then(|t| t.trim().parse().ok()).unwrap_or(default)
}

/// The buildings template.
pub(super) struct Buildings;

/// A building row as read.
pub(super) struct BuildingRow {
    row: usize,
    grid: GridCode,
    compound: Option<String>,
    name: String,
    address: String,
    floors: u16,
    entrances: u16,
    use_kind: String,
    position: Option<(f64, f64)>,
    outline: Option<String>,
}

/// The buildings' rows with what the store holds of their grids and communities.
pub(super) struct CheckedBuildings {
    rows: Vec<BuildingRow>,
    /// Grid → its registered buildings' (name, code).
    existing: HashMap<String, Vec<(String, String)>>,
    /// Community → its compounds' ids by name.
    compounds: HashMap<String, HashMap<String, i64>>,
}

impl Template for Buildings {
    type Keys = Auditing;
    type Row = BuildingRow;
    type Checked = CheckedBuildings;

    fn reader(index: Arc<TerritoryIndex>, reach: Reach) -> impl Reader<BuildingRow> {
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        move |r: Record| {
            let grid = grid_in(&index, &reach, &r).map_err(|e| vec![e])?;
            let position = position_of(&r).map_err(|e| vec![e])?;
            let outline = outline_of(&r).map_err(|e| vec![e])?;
            let name = r.text("building").to_string();
            if let Some(first) = seen.insert((grid.as_str().to_string(), name.clone()), r.row) {
                return Err(vec![r.error(
                    "building",
                    Problem::Duplicate {
                        value: name,
                        first_row: first,
                    },
                )]);
            }
            Ok(BuildingRow {
                row: r.row,
                grid,
                compound: r.get("compound").map(str::to_string),
                name,
                address: r.text("address").to_string(),
                floors: number(&r, "floors", 1),
                entrances: number(&r, "entrances", 0),
                use_kind: r.get("use").unwrap_or("residential").to_string(),
                position,
                outline,
            })
        }
    }

    /// Against what is stored: the grid's buildings, the community's compounds.
    async fn check(
        cx: &Importing<'_, Auditing>,
        rows: Vec<BuildingRow>,
        errors: &mut ErrorList,
    ) -> Result<CheckedBuildings, Outcome> {
        let mut existing: HashMap<String, Vec<(String, String)>> = HashMap::new();
        let mut compounds: HashMap<String, HashMap<String, i64>> = HashMap::new();
        for row in &rows {
            let grid = row.grid.as_str().to_string();
            if !existing.contains_key(&grid) {
                let list = cx.app.db().buildings_within(&grid, 1_000_000).await.map_err(failed)?;
                existing.insert(grid.clone(), list.into_iter().map(|b| (b.name, b.code)).collect());
            }
            if existing[&grid].iter().any(|(n, _)| *n == row.name) {
                errors.push(registered(row.row, "楼栋", &row.name));
            }
            let community = row.grid.community();
            if !compounds.contains_key(community.as_str()) {
                let list = cx
                    .app
                    .db()
                    .compounds_within(community.significant_prefix())
                    .await
                    .map_err(failed)?;
                compounds.insert(
                    community.as_str().to_string(),
                    list.into_iter()
                        .filter(|c| c.community_code == community.as_str())
                        .map(|c| (c.name, c.id))
                        .collect(),
                );
            }
            if let Some(c) = &row.compound
                && !compounds[community.as_str()].contains_key(c)
            {
                errors.push(import_first(row.row, "小区", c.clone(), &COMPOUNDS));
            }
        }
        Ok(CheckedBuildings {
            rows,
            existing,
            compounds,
        })
    }

    /// The buildings, coded on from their grid's last (their entrances come with them).
    async fn write(
        cx: &Importing<'_, Auditing>,
        tx: &mut Tx,
        checked: CheckedBuildings,
    ) -> Result<Created, StoreError> {
        let CheckedBuildings {
            rows,
            existing,
            compounds,
        } = checked;
        let mut taken: HashSet<String> = existing.values().flatten().map(|(_, c)| c.clone()).collect();
        let mut serials: HashMap<String, usize> = existing.iter().map(|(g, l)| (g.clone(), l.len())).collect();
        let new: Vec<NewBuilding> = rows
            .iter()
            .map(|row| {
                let grid = row.grid.as_str();
                let serial = serials.entry(grid.to_string()).or_insert(0);
                let code = next_code(serial, &mut taken, |s| building_code(grid, s));
                NewBuilding {
                    code,
                    compound_id: row
                        .compound
                        .as_ref()
                        .and_then(|c| compounds[row.grid.community().as_str()].get(c).copied()),
                    grid: row.grid.clone(),
                    name: row.name.clone(),
                    address: row.address.clone(),
                    floors: row.floors,
                    entrances: row.entrances,
                    use_kind: row.use_kind.clone(),
                    lon: row.position.map(|p| p.0),
                    lat: row.position.map(|p| p.1),
                    outline: row.outline.clone(),
                }
            })
            .collect();
        insert_buildings_tx(tx, cx.audit_key(), cx.account(), &new).await?;
        let entrances: u64 = new.iter().map(|b| u64::from(b.entrances)).sum();
        Ok(vec![("buildings", new.len() as u64), ("entrances", entrances)])
    }
}

/// The households template.
pub(super) struct Households;

/// A household row as read: its building by name.
pub(super) struct HouseholdRow {
    row: usize,
    grid: String,
    building: String,
    entrance: Option<u16>,
    room: String,
    area_m2: Option<i64>,
}

/// A registered building as a households import sees it.
struct Known {
    id: i64,
    code: String,
    entrances: HashMap<i64, u16>,
    rooms: HashSet<(Option<u16>, String)>,
    codes: HashSet<String>,
    serial: usize,
}

/// The households' rows with their buildings: (grid, name) → the registered building, if any.
pub(super) struct CheckedHouseholds {
    rows: Vec<HouseholdRow>,
    buildings: HashMap<(String, String), Option<Known>>,
}

impl Template for Households {
    type Keys = Sealing;
    type Row = HouseholdRow;
    type Checked = CheckedHouseholds;

    fn reader(index: Arc<TerritoryIndex>, reach: Reach) -> impl Reader<HouseholdRow> {
        let mut seen: HashMap<(String, String, Option<u16>, String), usize> = HashMap::new();
        move |r: Record| {
            let grid = grid_in(&index, &reach, &r).map_err(|e| vec![e])?;
            let entrance = entrance_of(&r).map_err(|e| vec![e])?;
            let building = r.text("building").to_string();
            let room = r.text("room").to_string();
            let k = (grid.as_str().to_string(), building.clone(), entrance, room.clone());
            if let Some(first) = seen.insert(k, r.row) {
                return Err(vec![r.error(
                    "room",
                    Problem::Duplicate {
                        value: room,
                        first_row: first,
                    },
                )]);
            }
            Ok(HouseholdRow {
                row: r.row,
                grid: grid.as_str().to_string(),
                building,
                entrance,
                room,
                area_m2: r.get("area_m2").and_then(|a| a.parse().ok()),
            })
        }
    }

    /// Against what is stored: each named building with its entrances and households.
    async fn check(
        cx: &Importing<'_, Sealing>,
        rows: Vec<HouseholdRow>,
        errors: &mut ErrorList,
    ) -> Result<CheckedHouseholds, Outcome> {
        let db = &cx.app.db();
        let mut buildings: HashMap<(String, String), Option<Known>> = HashMap::new();
        let grids: BTreeSet<&str> = rows.iter().map(|r| r.grid.as_str()).collect();
        for grid in grids {
            let existing = db.buildings_within(grid, 1_000_000).await.map_err(failed)?;
            for row in rows.iter().filter(|r| r.grid == grid) {
                let k = (row.grid.clone(), row.building.clone());
                if buildings.contains_key(&k) {
                    continue;
                }
                let known = match existing.iter().find(|b| b.name == row.building && b.grid_code == grid) {
                    None => None,
                    Some(b) => {
                        let entrances: HashMap<i64, u16> = db
                            .entrances_of(b.id)
                            .await
                            .map_err(failed)?
                            .into_iter()
                            .map(|e| (e.id, e.number as u16))
                            .collect();
                        let households = db.households_of(cx.keys.cipher(), b.id).await.map_err(failed)?;
                        Some(Known {
                            id: b.id,
                            code: b.code.clone(),
                            serial: households.len(),
                            codes: households.iter().map(|h| h.code.clone()).collect(),
                            rooms: households
                                .into_iter()
                                .map(|h| (h.entrance_id.and_then(|e| entrances.get(&e).copied()), h.room))
                                .collect(),
                            entrances,
                        })
                    }
                };
                buildings.insert(k, known);
            }
        }
        for row in &rows {
            match &buildings[&(row.grid.clone(), row.building.clone())] {
                None => errors.push(import_first(row.row, "楼栋", row.building.clone(), &BUILDINGS)),
                Some(b) => {
                    if let Some(e) = row.entrance
                        && !b.entrances.values().any(|n| *n == e)
                    {
                        errors.push(no_such_entrance(row.row, e));
                    }
                    if b.rooms.contains(&(row.entrance, row.room.clone())) {
                        errors.push(registered(row.row, "户号", &row.room));
                    }
                }
            }
        }
        Ok(CheckedHouseholds { rows, buildings })
    }

    /// The households, coded on from their building's last.
    async fn write(
        cx: &Importing<'_, Sealing>,
        tx: &mut Tx,
        checked: CheckedHouseholds,
    ) -> Result<Created, StoreError> {
        let CheckedHouseholds { rows, mut buildings } = checked;
        let mut new = Vec::with_capacity(rows.len());
        for row in &rows {
            let b = buildings
                .get_mut(&(row.grid.clone(), row.building.clone()))
                .and_then(Option::as_mut)
                .expect("checked above");
            let code = next_code(&mut b.serial, &mut b.codes, |s| household_code(&b.code, s));
            new.push(NewHousehold {
                code,
                building_id: b.id,
                entrance: row.entrance,
                room: row.room.clone(),
                area_m2: row.area_m2,
            });
        }
        insert_households_tx(tx, cx.keys.cipher(), cx.audit_key(), cx.account(), &new).await?;
        Ok(vec![("households", new.len() as u64)])
    }
}
