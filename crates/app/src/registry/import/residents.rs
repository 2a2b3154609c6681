//! Residents with their places: a row names its grid, compound (registered already),
//! building, entrance and room; buildings and households not registered yet are created
//! (a building named the same in the same grid is the same building; a household is the
//! same room in the same entrance of it).

use std::collections::{BTreeMap, HashMap, HashSet};

use gongzhi_core::import::registry::RESIDENTS;
use gongzhi_core::people::id_number::IdNumber;
use gongzhi_core::people::registry::{NewResidentRecord, ResidentInput};
use gongzhi_core::territory::places::{NewBuilding, NewHousehold};
use gongzhi_store::people::registry::insert_resident_records_tx;
use gongzhi_store::territory::places::{insert_buildings_tx, insert_households_tx};

use super::places::{building_code, entrance_of, household_code, no_such_entrance};
use super::*;

/// A resident row as read: its place by name, its record checked field by field.
pub(super) struct ResidentRow {
    row: usize,
    grid: String,
    compound: Option<String>,
    building: String,
    entrance: Option<u16>,
    room: String,
    record: NewResidentRecord,
}

/// The floor a room number says (`302` → 3, `1502` → 15), if it is all digits.
fn floor_of(room: &str) -> Option<u16> {
    let digits: String = room.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() >= 3 && digits.len() == room.chars().count() {
        digits[..digits.len() - 2].parse().ok()
    } else {
        None
    }
}

fn column_for(field: &str) -> &str {
    if RESIDENTS.column(field).is_some() {
        field
    } else {
        "name"
    }
}

/// The residents template.
pub(super) struct Residents;

/// The buildings and households the rows name: registered ones found, the rest planned.
struct Planned {
    id: Option<i64>,
    code: String,
    entrances: u16,
    known_entrances: HashMap<i64, u16>,
    /// (entrance, room) → household id, for registered households.
    households: HashMap<(Option<u16>, String), i64>,
    /// The household codes the building has, so a new one never repeats one.
    household_codes: HashSet<String>,
    serial: usize,
}

/// A building the rows name: its grid and its name.
type BuildingKey = (String, String);

/// The rows with the compounds they name and the buildings they go in, found or planned.
pub(super) struct CheckedResidents {
    rows: Vec<ResidentRow>,
    /// (community, name) → the compound's id.
    compounds: HashMap<(String, String), Option<i64>>,
    buildings: BTreeMap<BuildingKey, Planned>,
    /// The floors of each building to create, from its rooms.
    floors: HashMap<BuildingKey, u16>,
}

/// The community of a grid of the index.
fn community_of(index: &TerritoryIndex, grid: &str) -> String {
    index
        .by_code
        .get(grid)
        .map(|l| l.community.code.clone())
        .unwrap_or_default()
}

impl Template for Residents {
    type Keys = Sealing;
    type Row = ResidentRow;
    type Checked = CheckedResidents;

    fn reader(index: Arc<TerritoryIndex>, reach: Reach) -> impl Reader<ResidentRow> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        move |r: Record| {
            let mut errors = Vec::new();
            let grid = r.text("grid_code").to_string();
            if let Err(e) = grid_in(&index, &reach, &r) {
                errors.push(e);
            }
            let entrance = entrance_of(&r).unwrap_or_else(|e| {
                errors.push(e);
                None
            });
            let input = ResidentInput {
                name: r.text("name").to_string(),
                id_number: r.text("id_number").to_string(),
                phone: r.get("phone").unwrap_or("").to_string(),
                relation: r.text("relation").to_string(),
                residence: r.get("residence").unwrap_or("registered_here").to_string(),
                registered_address: r.get("registered_address").unwrap_or("").to_string(),
                care_tags: r.get("care_tags").unwrap_or("").to_string(),
                party_member: r.get("party_member").unwrap_or("no").to_string(),
            };
            let record = match input.validate_all(0) {
                Ok(record) => Some(record),
                Err(problems) => {
                    for p in problems {
                        errors.push(r.error(
                            column_for(p.field()),
                            Problem::other(
                                gongzhi_core::Localized::message(&p, Lang::Zh),
                                gongzhi_core::Localized::message(&p, Lang::En),
                            ),
                        ));
                    }
                    None
                }
            };
            if let Some(rec) = &record
                && let Some(first) = seen.insert(rec.id_number.as_str().to_string(), r.row)
            {
                errors.push(r.error(
                    "id_number",
                    Problem::Duplicate {
                        value: rec.id_number.masked(),
                        first_row: first,
                    },
                ));
            }
            match record {
                Some(record) if errors.is_empty() => Ok(ResidentRow {
                    row: r.row,
                    grid,
                    compound: r.get("compound").map(str::to_string),
                    building: r.text("building").to_string(),
                    entrance,
                    room: r.text("room").to_string(),
                    record,
                }),
                _ => Err(errors),
            }
        }
    }

    /// Against what is stored (read only): compounds named, ID numbers registered; then the
    /// places the rows name (entrances of registered buildings).
    async fn check(
        cx: &Importing<'_, Sealing>,
        rows: Vec<ResidentRow>,
        errors: &mut ErrorList,
    ) -> Result<CheckedResidents, Outcome> {
        let (db, index, cipher) = (&cx.app.db(), &cx.index, cx.keys.cipher());
        let mut compounds: HashMap<(String, String), Option<i64>> = HashMap::new();
        for row in &rows {
            if let Some(name) = &row.compound {
                compounds
                    .entry((community_of(index, &row.grid), name.clone()))
                    .or_insert(None);
            }
        }
        let communities: std::collections::BTreeSet<String> = compounds.keys().map(|(c, _)| c.clone()).collect();
        for community in communities {
            let prefix = TerritoryCode::parse(&community)
                .map(|c| c.subtree_prefix().to_string())
                .unwrap_or(community.clone());
            for c in db.compounds_within(&prefix).await.map_err(failed)? {
                if let Some(slot) = compounds.get_mut(&(c.community_code.clone(), c.name.clone())) {
                    *slot = Some(c.id);
                }
            }
        }
        let ids: Vec<IdNumber> = rows.iter().map(|r| r.record.id_number.clone()).collect();
        let registered = db.resident_ids_by_id_numbers(cipher, &ids).await.map_err(failed)?;
        drop(ids);
        for row in &rows {
            if let Some(name) = &row.compound
                && compounds
                    .get(&(community_of(index, &row.grid), name.clone()))
                    .copied()
                    .flatten()
                    .is_none()
            {
                errors.push(import_first(row.row, "小区", name.clone(), &COMPOUNDS));
            }
            if registered.contains_key(row.record.id_number.as_str()) {
                errors.push(id_number_registered(
                    row.row,
                    &row.record.id_number,
                    "登记",
                    "registered already",
                ));
            }
        }
        // A file naming unknown compounds or registered people is refused for those alone, before
        // its places are looked at.
        refuse(std::mem::take(errors), cx.job)?;

        let mut buildings: BTreeMap<BuildingKey, Planned> = BTreeMap::new();
        let grids: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.grid.as_str()).collect();
        for grid in grids {
            let existing = db.buildings_within(grid, 1_000_000).await.map_err(failed)?;
            let mut taken: std::collections::HashSet<String> = existing.iter().map(|b| b.code.clone()).collect();
            let mut serial = existing.len();
            let names: std::collections::BTreeSet<&str> = rows
                .iter()
                .filter(|r| r.grid == grid)
                .map(|r| r.building.as_str())
                .collect();
            for name in names {
                let planned = match existing.iter().find(|b| b.name == name && b.grid_code == grid) {
                    Some(b) => {
                        let entrances = db.entrances_of(b.id).await.map_err(failed)?;
                        let known: HashMap<i64, u16> = entrances.iter().map(|e| (e.id, e.number as u16)).collect();
                        let stored = db.households_of(cipher, b.id).await.map_err(failed)?;
                        let household_codes = stored.iter().map(|h| h.code.clone()).collect();
                        let households = stored
                            .into_iter()
                            .map(|h| ((h.entrance_id.and_then(|e| known.get(&e).copied()), h.room), h.id))
                            .collect::<HashMap<_, _>>();
                        Planned {
                            id: Some(b.id),
                            code: b.code.clone(),
                            entrances: known.len() as u16,
                            serial: households.len(),
                            known_entrances: known,
                            households,
                            household_codes,
                        }
                    }
                    None => {
                        let code = next_code(&mut serial, &mut taken, |s| building_code(grid, s));
                        Planned {
                            id: None,
                            code,
                            entrances: 0,
                            known_entrances: HashMap::new(),
                            households: HashMap::new(),
                            household_codes: HashSet::new(),
                            serial: 0,
                        }
                    }
                };
                buildings.insert((grid.to_string(), name.to_string()), planned);
            }
        }
        // An entrance a registered building lacks is an error of the row.
        let mut floors: HashMap<BuildingKey, u16> = HashMap::new();
        for row in &rows {
            let k = (row.grid.clone(), row.building.clone());
            let b = buildings.get_mut(&k).expect("planned above");
            if let Some(e) = row.entrance {
                if b.id.is_some() && !b.known_entrances.values().any(|n| *n == e) {
                    errors.push(no_such_entrance(row.row, e));
                } else if b.id.is_none() {
                    b.entrances = b.entrances.max(e);
                }
            }
            let f = floors.entry(k).or_insert(1);
            *f = (*f).max(floor_of(&row.room).unwrap_or(1).min(200));
        }
        Ok(CheckedResidents {
            rows,
            compounds,
            buildings,
            floors,
        })
    }

    /// The buildings not registered yet, then the households, then the residents (in chunks, so
    /// that progress moves on a large file).
    async fn write(cx: &Importing<'_, Sealing>, tx: &mut Tx, checked: CheckedResidents) -> Result<Created, StoreError> {
        let CheckedResidents {
            rows,
            compounds,
            mut buildings,
            floors,
        } = checked;
        let (key, account, cipher) = (cx.audit_key(), cx.account(), cx.keys.cipher());
        let new_buildings: Vec<(BuildingKey, NewBuilding)> = buildings
            .iter()
            .filter(|(_, b)| b.id.is_none())
            .map(|((grid, name), b)| {
                let first = rows
                    .iter()
                    .find(|r| &r.grid == grid && &r.building == name)
                    .expect("named by a row");
                let compound = first.compound.as_ref().and_then(|c| {
                    compounds
                        .get(&(community_of(&cx.index, grid), c.clone()))
                        .copied()
                        .flatten()
                });
                (
                    (grid.clone(), name.clone()),
                    NewBuilding {
                        code: b.code.clone(),
                        compound_id: compound,
                        grid: GridCode::parse(grid).expect("checked"),
                        name: name.clone(),
                        address: format!("{}{}", first.compound.clone().unwrap_or_default(), name),
                        floors: floors.get(&(grid.clone(), name.clone())).copied().unwrap_or(1),
                        entrances: b.entrances,
                        use_kind: "residential".into(),
                        lon: None,
                        lat: None,
                        outline: None,
                    },
                )
            })
            .collect();
        let built: Vec<NewBuilding> = new_buildings.iter().map(|(_, b)| b.clone()).collect();
        let ids = insert_buildings_tx(tx, key, account, &built).await?;
        for ((k, _), id) in new_buildings.iter().zip(ids) {
            buildings.get_mut(k).expect("planned").id = Some(id);
        }
        drop(built);

        // Households: the rows' (building, entrance, room) not registered yet, in file order.
        let mut new_households: Vec<NewHousehold> = Vec::new();
        let mut pending: HashMap<(BuildingKey, Option<u16>, String), usize> = HashMap::new();
        let mut household_of_row: Vec<Result<i64, usize>> = Vec::with_capacity(rows.len());
        for row in &rows {
            let bk = (row.grid.clone(), row.building.clone());
            let b = buildings.get_mut(&bk).expect("planned");
            if let Some(id) = b.households.get(&(row.entrance, row.room.clone())) {
                household_of_row.push(Ok(*id));
                continue;
            }
            let hk = (bk, row.entrance, row.room.clone());
            let at = match pending.get(&hk) {
                Some(i) => *i,
                None => {
                    let code = next_code(&mut b.serial, &mut b.household_codes, |s| household_code(&b.code, s));
                    new_households.push(NewHousehold {
                        code,
                        building_id: b.id.expect("written"),
                        entrance: row.entrance,
                        room: row.room.clone(),
                        area_m2: None,
                    });
                    pending.insert(hk, new_households.len() - 1);
                    new_households.len() - 1
                }
            };
            household_of_row.push(Err(at));
        }
        drop(pending);
        let household_ids = insert_households_tx(tx, cipher, key, account, &new_households).await?;
        let households_created = new_households.len() as u64;
        drop(new_households);

        let mut records: Vec<NewResidentRecord> = Vec::with_capacity(rows.len());
        for (row, h) in rows.into_iter().zip(household_of_row) {
            let mut record = row.record;
            record.household_id = match h {
                Ok(id) => id,
                Err(i) => household_ids[i],
            };
            records.push(record);
        }
        for chunk in records.chunks(10_000) {
            insert_resident_records_tx(tx, cipher, key, account, "import", chunk).await?;
            cx.rows_written(chunk.len() as u64);
        }
        Ok(vec![
            ("residents", records.len() as u64),
            ("households", households_created),
            ("buildings", new_buildings.len() as u64),
        ])
    }
}
