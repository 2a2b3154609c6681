//! The registry's import (`registry::import`), the same for a page upload, the API and the command
//! line: read and check the
//! whole file on a blocking thread (rows streamed from the file, each good row converted to its
//! typed form, every bad row collected), then — only if no row was bad — write everything in one
//! transaction with its audit entry. A refused file writes nothing.

use std::ops::ControlFlow;
use std::sync::Arc;

use bytes::Bytes;
use gongzhi_core::Lang;
use gongzhi_core::audit::{AuditKey, NewAuditEntry};
use gongzhi_core::data::{DataError, Problem, RowError};
use gongzhi_core::import::registry::{outline_of, position_of};
use gongzhi_core::import::{ErrorList, Imported, Phase, Reach, Record};
use gongzhi_core::people::Actor;
use gongzhi_core::people::cipher::CipherProvider;
use gongzhi_core::territory::{GridCode, TerritoryCode};

mod jobs;

pub use jobs::{Job, Jobs, Outcome};

use crate::App;

/// Reads and checks the file of `job`, giving every good row to `convert` (which may refuse it
/// with its own problems: a repeat, a place outside the importer's reach …). All good rows, in
/// file order, or the refusal naming every bad row.
pub async fn read_all<T: Send + 'static>(
    job: &Job,
    bytes: Bytes,
    mut convert: impl FnMut(Record) -> Result<T, Vec<RowError>> + Send + 'static,
) -> Result<Vec<T>, Outcome> {
    let file = job.file.clone();
    let template = job.template;
    let progress = job.progress.clone();
    let read = tokio::task::spawn_blocking(move || {
        let mut errors = ErrorList::default();
        let mut good = Vec::new();
        let read = gongzhi_office::read_records(&file, &bytes, &template, &progress, &mut errors, |record| {
            good.push(convert(record)?);
            Ok(ControlFlow::Continue(()))
        });
        progress.set_phase(Phase::Validating);
        match read {
            Err(e) => Err(Outcome::Refused(e)),
            Ok(_) => match errors.into_result(&file) {
                Err(e) => Err(Outcome::Refused(e)),
                Ok(()) => Ok(good),
            },
        }
    })
    .await;
    match read {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "import reader failed");
            Err(Outcome::Failed)
        }
    }
}

/// Runs `job` to its outcome.
pub async fn execute(app: &App, job: &Job, bytes: Bytes, actor: &Actor, reach: &Reach) -> Outcome {
    let result = match job.template.key {
        "residents" => residents::import(app, job, bytes, actor, reach).await,
        "member-orgs" => orgs::member_orgs(app, job, bytes, actor, reach).await,
        "property-companies" => orgs::property_companies(app, job, bytes, actor).await,
        "compounds" => orgs::compounds(app, job, bytes, actor, reach).await,
        "buildings" => places::buildings(app, job, bytes, actor, reach).await,
        "households" => places::households(app, job, bytes, actor, reach).await,
        "party-orgs" => party::organizations(app, job, bytes, actor, reach).await,
        "party-members" => party::members(app, job, bytes, actor, reach).await,
        _ => Err(Outcome::Refused(DataError::one(
            job.file.clone(),
            RowError::file(Problem::other(
                format!("{}暂不支持从表格导入", job.template.name_zh),
                format!("{} cannot be imported from a spreadsheet yet", job.template.name_en),
            )),
        ))),
    };
    match result {
        Ok(done) => {
            tracing::info!(
                template = job.template.key,
                rows = done.rows,
                actor = %actor.account,
                "registry import committed"
            );
            Outcome::Imported(done)
        }
        Err(o) => o,
    }
}

/// A store failure during an import: logged (never with row values), nothing written.
pub fn failed(e: impl std::fmt::Display) -> Outcome {
    tracing::error!(error = %e, "registry import failed; rolled back");
    Outcome::Failed
}

/// The audit entry of a committed import: who, which file, how many rows and things created;
/// never a value of a row.
pub async fn audit_import(
    tx: &mut gongzhi_store::Tx,
    key: &gongzhi_core::audit::AuditKey,
    actor: &Actor,
    job: &Job,
    done: &Imported,
) -> Result<(), Outcome> {
    let created: serde_json::Map<String, serde_json::Value> = done
        .created
        .iter()
        .map(|(k, n)| (k.to_string(), serde_json::json!(n)))
        .collect();
    let entry = NewAuditEntry::new(
        chrono::Utc::now(),
        actor.account.clone(),
        "registry.import",
        "import",
        job.template.key,
        serde_json::json!({
            "template": job.template.key,
            "file": job.file,
            "rows": done.rows,
            "created": created,
        }),
    )
    .map_err(failed)?;
    gongzhi_store::audit::append(tx, key, entry).await.map_err(failed)?;
    Ok(())
}

/// Ends an import: its audit entry, then the commit of everything.
pub async fn commit(
    mut tx: gongzhi_store::Tx,
    key: &AuditKey,
    actor: &Actor,
    job: &Job,
    done: Imported,
) -> Result<Imported, Outcome> {
    audit_import(&mut tx, key, actor, job, &done).await?;
    tx.commit().await.map_err(failed)?;
    Ok(done)
}

/// The keys every write needs, or the refusal saying which is missing.
pub fn keys(app: &App, job: &Job) -> Result<(Arc<AuditKey>, Arc<dyn CipherProvider>), Outcome> {
    let refuse =
        |zh: &str, en: &str| Outcome::Refused(DataError::one(job.file.clone(), RowError::file(Problem::other(zh, en))));
    let key = app.audit_key().ok_or_else(|| {
        refuse(
            "服务器未配置审计密钥，无法记录导入",
            "the server has no audit key, so it cannot record an import",
        )
    })?;
    let cipher = app.cipher().ok_or_else(|| {
        refuse(
            "服务器未配置个人信息密钥，无法加密保存",
            "the server has no personal-data key, so it cannot store personal data",
        )
    })?;
    Ok((key, cipher))
}

/// The audit key (for imports that seal nothing), or the refusal saying it is missing.
pub fn audit_key(app: &App, job: &Job) -> Result<Arc<AuditKey>, Outcome> {
    app.audit_key()
        .ok_or_else(|| keys(app, job).err().unwrap_or(Outcome::Failed))
}

/// A row naming something the registry holds already.
fn registered(row: usize, column: &str, value: &str) -> RowError {
    RowError::cell(
        row,
        column,
        Problem::other(format!("“{value}”已登记"), format!("{value:?} is registered already")),
    )
}

/// A row naming something not registered that an earlier import must bring: `what` in Chinese,
/// in English and the English plural of the import to run first.
fn import_first(row: usize, column: &str, value: impl Into<String>, zh: &str, en: &str, en_plural: &str) -> RowError {
    RowError::cell(
        row,
        column,
        Problem::unknown(
            value,
            format!("{zh}（请先导入{zh}）"),
            format!("{en} (import {en_plural} first)"),
        ),
    )
}

/// The refusal of a file with problems, or nothing.
fn refuse(errors: ErrorList, job: &Job) -> Result<(), Outcome> {
    errors.into_result(&job.file).map_err(Outcome::Refused)
}

/// The row's grid, known and inside `reach`, or the row's problem.
fn grid_in(index: &crate::territory::TerritoryIndex, reach: &Reach, r: &Record) -> Result<GridCode, RowError> {
    let text = r.text("grid_code");
    match TerritoryCode::parse(text) {
        Ok(code @ TerritoryCode::Grid(_)) if index.by_code.contains_key(text) => {
            if !reach.reaches(&code) {
                return Err(r.error(
                    "grid_code",
                    Problem::other(
                        format!("网格 {text} 不在您的辖区内"),
                        format!("grid {text} is outside your area"),
                    ),
                ));
            }
            GridCode::parse(text).map_err(|_| r.error("grid_code", Problem::unknown(text, "网格", "grid")))
        }
        _ => Err(r.error("grid_code", Problem::unknown(text, "网格", "grid"))),
    }
}

mod residents {
    //! Residents with their places: a row names its grid, compound (registered already),
    //! building, entrance and room; buildings and households not registered yet are created
    //! (a building named the same in the same grid is the same building; a household is the
    //! same room in the same entrance of it).

    use std::collections::{BTreeMap, HashMap};

    use gongzhi_core::import::registry::RESIDENTS;
    use gongzhi_core::people::id_number::IdNumber;
    use gongzhi_core::people::registry::{NewResidentRecord, ResidentInput};
    use gongzhi_core::territory::places::{NewBuilding, NewHousehold};
    use gongzhi_store::people::registry::insert_resident_records_tx;
    use gongzhi_store::territory::places::{insert_buildings_tx, insert_households_tx};

    use super::*;

    struct Row {
        row: usize,
        grid: String,
        compound: Option<String>,
        building: String,
        entrance: Option<u16>,
        room: String,
        record: NewResidentRecord,
    }

    /// `2单元`, `2`, `二单元` is not read: digits first.
    pub(super) fn entrance_number(text: &str) -> Option<u16> {
        let digits: String = text.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse().ok().filter(|n| *n >= 1)
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

    /// A resident import as one transaction; the counts made.
    pub async fn import(app: &App, job: &Job, bytes: Bytes, actor: &Actor, reach: &Reach) -> Result<Imported, Outcome> {
        let (key, cipher) = keys(app, job)?;
        let index = app.index();
        let reach_ = reach.clone();
        let index_ = index.clone();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let rows = read_all(job, bytes, move |r: Record| {
            let mut errors = Vec::new();
            let grid = r.text("grid_code").to_string();
            if let Err(e) = grid_in(&index_, &reach_, &r) {
                errors.push(e);
            }
            let entrance = match r.get("entrance") {
                None => None,
                Some(t) => match entrance_number(t) {
                    Some(n) => Some(n),
                    None => {
                        errors.push(r.error(
                            "entrance",
                            Problem::invalid(t, "单元号，如“2单元”或“2”", "an entrance number such as 2单元 or 2"),
                        ));
                        None
                    }
                },
            };
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
                Some(record) if errors.is_empty() => Ok(Row {
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
        })
        .await?;

        // Checks against what is stored (read only): compounds named, ID numbers registered.
        let mut errors = ErrorList::default();
        let db = &app.db();
        let mut compounds: HashMap<(String, String), Option<i64>> = HashMap::new();
        for row in &rows {
            if let Some(name) = &row.compound {
                let community = index
                    .by_code
                    .get(&row.grid)
                    .map(|l| l.community.code.clone())
                    .unwrap_or_default();
                compounds.entry((community, name.clone())).or_insert(None);
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
        let registered = db
            .resident_ids_by_id_numbers(cipher.as_ref(), &ids)
            .await
            .map_err(failed)?;
        drop(ids);
        let community_of = |grid: &str| {
            index
                .by_code
                .get(grid)
                .map(|l| l.community.code.clone())
                .unwrap_or_default()
        };
        for row in &rows {
            if let Some(name) = &row.compound
                && compounds
                    .get(&(community_of(&row.grid), name.clone()))
                    .copied()
                    .flatten()
                    .is_none()
            {
                errors.push(import_first(
                    row.row,
                    "小区",
                    name.clone(),
                    "小区",
                    "compound",
                    "compounds",
                ));
            }
            if registered.contains_key(row.record.id_number.as_str()) {
                errors.push(RowError::cell(
                    row.row,
                    "身份证号",
                    Problem::other(
                        format!("{} 已在登记中", row.record.id_number.masked()),
                        format!("{} is registered already", row.record.id_number.masked()),
                    ),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Outcome::Refused(errors.into_result(&job.file).unwrap_err()));
        }

        // The buildings and households the rows name: registered ones found, the rest planned.
        struct Planned {
            id: Option<i64>,
            code: String,
            entrances: u16,
            known_entrances: HashMap<i64, u16>,
            /// (entrance, room) → household id, for registered households.
            households: HashMap<(Option<u16>, String), i64>,
            serial: usize,
        }
        let mut buildings: BTreeMap<(String, String), Planned> = BTreeMap::new();
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
                        let households = db
                            .households_of(cipher.as_ref(), b.id)
                            .await
                            .map_err(failed)?
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
                        }
                    }
                    None => {
                        let code = loop {
                            serial += 1;
                            let c = format!("{grid}-B{serial:03}");
                            if taken.insert(c.clone()) {
                                break c;
                            }
                        };
                        Planned {
                            id: None,
                            code,
                            entrances: 0,
                            known_entrances: HashMap::new(),
                            households: HashMap::new(),
                            serial: 0,
                        }
                    }
                };
                buildings.insert((grid.to_string(), name.to_string()), planned);
            }
        }
        // An entrance a registered building lacks is an error of the row.
        let mut floors: HashMap<(String, String), u16> = HashMap::new();
        for row in &rows {
            let k = (row.grid.clone(), row.building.clone());
            let b = buildings.get_mut(&k).expect("planned above");
            if let Some(e) = row.entrance {
                if b.id.is_some() && !b.known_entrances.values().any(|n| *n == e) {
                    errors.push(RowError::cell(
                        row.row,
                        "单元",
                        Problem::unknown(
                            format!("{e}"),
                            "单元（楼栋没有此单元）",
                            "entrance (the building has none of this number)",
                        ),
                    ));
                } else if b.id.is_none() {
                    b.entrances = b.entrances.max(e);
                }
            }
            let f = floors.entry(k).or_insert(1);
            *f = (*f).max(floor_of(&row.room).unwrap_or(1).min(200));
        }
        if !errors.is_empty() {
            return Err(Outcome::Refused(errors.into_result(&job.file).unwrap_err()));
        }

        // Writing: one transaction for everything.
        job.progress.set_phase(Phase::Writing);
        let mut tx = db.begin().await.map_err(failed)?;
        let new_buildings: Vec<((String, String), NewBuilding)> = buildings
            .iter()
            .filter(|(_, b)| b.id.is_none())
            .map(|((grid, name), b)| {
                let first = rows
                    .iter()
                    .find(|r| &r.grid == grid && &r.building == name)
                    .expect("named by a row");
                let compound = first
                    .compound
                    .as_ref()
                    .and_then(|c| compounds.get(&(community_of(grid), c.clone())).copied().flatten());
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
        let ids = insert_buildings_tx(&mut tx, &key, &actor.account, &built)
            .await
            .map_err(failed)?;
        for ((k, _), id) in new_buildings.iter().zip(ids) {
            buildings.get_mut(k).expect("planned").id = Some(id);
        }
        drop(built);

        // Households: the rows' (building, entrance, room) not registered yet, in file order.
        let mut new_households: Vec<NewHousehold> = Vec::new();
        let mut pending: HashMap<((String, String), Option<u16>, String), usize> = HashMap::new();
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
                    b.serial += 1;
                    new_households.push(NewHousehold {
                        code: format!("{}-{:04}", b.code, b.serial),
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
        let household_ids = insert_households_tx(&mut tx, cipher.as_ref(), &key, &actor.account, &new_households)
            .await
            .map_err(failed)?;
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
            insert_resident_records_tx(&mut tx, cipher.as_ref(), &key, &actor.account, "import", chunk)
                .await
                .map_err(failed)?;
            job.progress.rows_written(chunk.len() as u64);
        }
        let done = Imported::new(job.template.key, records.len() as u64)
            .created("residents", records.len() as u64)
            .created("households", households_created)
            .created("buildings", new_buildings.len() as u64);
        commit(tx, &key, actor, job, done).await
    }
}

mod orgs {
    //! Member organizations, property companies and compounds (with their owners' committees):
    //! one row each, unique by credit code (or by name within the community), placed by a
    //! division code inside the importer's area.

    use std::collections::HashMap;

    use gongzhi_core::orgs::credit_code::CreditCode;
    use gongzhi_core::orgs::registry::{NewMemberOrganization, NewOwnersCommittee, NewPropertyCompany, OrgKind};
    use gongzhi_core::territory::places::{NewCompound, street_of};
    use gongzhi_core::territory::{DivisionCode, Level};
    use gongzhi_store::orgs::{
        insert_member_organizations_tx, insert_owners_committees_tx, insert_property_companies_tx,
    };
    use gongzhi_store::territory::places::insert_compounds_tx;

    use super::*;
    use crate::territory::TerritoryIndex;

    /// A street or community code of the grid system inside `reach`, or the row's problem.
    fn division_in(
        index: &TerritoryIndex,
        reach: &Reach,
        r: &Record,
        key: &str,
        levels: &[Level],
    ) -> Result<DivisionCode, RowError> {
        let text = r.text(key);
        let code = match TerritoryCode::parse(text) {
            Ok(TerritoryCode::Division(d)) if levels.contains(&d.level()) => d,
            _ => {
                let (zh, en) = if levels == [Level::Community] {
                    ("社区代码", "community code")
                } else {
                    ("街道或社区代码", "street or community code")
                };
                return Err(r.error(key, Problem::unknown(text, zh, en)));
            }
        };
        let known = index
            .by_code
            .values()
            .any(|l| l.community.code == code.as_str() || l.street.code == code.as_str());
        if !known {
            return Err(r.error(
                key,
                Problem::unknown(text, "网格化管理的街道或社区", "street or community of the grid system"),
            ));
        }
        if !reach.reaches(&TerritoryCode::Division(code.clone())) {
            return Err(r.error(
                key,
                Problem::other(format!("{text} 不在您的辖区内"), format!("{text} is outside your area")),
            ));
        }
        Ok(code)
    }

    fn credit_code(r: &Record, seen: &mut HashMap<String, usize>) -> Result<CreditCode, Vec<RowError>> {
        let code = CreditCode::parse(r.text("credit_code")).map_err(|_| {
            vec![r.error(
                "credit_code",
                Problem::invalid(r.text("credit_code"), "统一社会信用代码", "a credit code"),
            )]
        })?;
        if let Some(first) = seen.insert(code.as_str().to_string(), r.row) {
            return Err(vec![r.error(
                "credit_code",
                Problem::Duplicate {
                    value: code.as_str().to_string(),
                    first_row: first,
                },
            )]);
        }
        Ok(code)
    }

    pub async fn member_orgs(
        app: &App,
        job: &Job,
        bytes: Bytes,
        actor: &Actor,
        reach: &Reach,
    ) -> Result<Imported, Outcome> {
        let key = audit_key(app, job)?;
        let (index, reach) = (app.index(), reach.clone());
        let mut seen = HashMap::new();
        let rows = read_all(job, bytes, move |r: Record| {
            let code = credit_code(&r, &mut seen)?;
            let place = division_in(&index, &reach, &r, "territory_code", &[Level::Street, Level::Community])
                .map_err(|e| vec![e])?;
            let kind = OrgKind::parse_field("kind", r.text("kind")).map_err(|_| {
                vec![r.error(
                    "kind",
                    Problem::invalid(
                        r.text("kind"),
                        "机关、事业单位、企业或社会组织",
                        "agency, public institution, enterprise or social organization",
                    ),
                )]
            })?;
            let community = (place.level() == Level::Community).then(|| place.as_str().to_string());
            let street = match &community {
                Some(_) => street_of(&place),
                None => place.as_str().to_string(),
            };
            Ok((
                r.row,
                NewMemberOrganization {
                    credit_code: code,
                    name: r.text("name").to_string(),
                    kind,
                    community_code: community,
                    street_code: street,
                    address: r.get("address").unwrap_or("").to_string(),
                },
            ))
        })
        .await?;
        let mut errors = ErrorList::default();
        for (row, o) in &rows {
            if app
                .db()
                .member_organization_by_credit_code(o.credit_code.as_str())
                .await
                .map_err(failed)?
                .is_some()
            {
                errors.push(registered(*row, "统一社会信用代码", o.credit_code.as_str()));
            }
        }
        refuse(errors, job)?;
        job.progress.set_phase(Phase::Writing);
        let orgs: Vec<NewMemberOrganization> = rows.into_iter().map(|(_, o)| o).collect();
        let mut tx = app.db().begin().await.map_err(failed)?;
        insert_member_organizations_tx(&mut tx, &key, &actor.account, &orgs)
            .await
            .map_err(failed)?;
        job.progress.rows_written(orgs.len() as u64);
        let done = Imported::new(job.template.key, orgs.len() as u64).created("member_orgs", orgs.len() as u64);
        commit(tx, &key, actor, job, done).await
    }

    pub async fn property_companies(app: &App, job: &Job, bytes: Bytes, actor: &Actor) -> Result<Imported, Outcome> {
        let key = audit_key(app, job)?;
        let mut seen = HashMap::new();
        let rows = read_all(job, bytes, move |r: Record| {
            let code = credit_code(&r, &mut seen)?;
            Ok((
                r.row,
                NewPropertyCompany {
                    credit_code: code,
                    name: r.text("name").to_string(),
                    address: r.get("address").unwrap_or("").to_string(),
                    phone: r.get("phone").map(str::to_string),
                },
            ))
        })
        .await?;
        let known: std::collections::HashSet<String> = app
            .db()
            .property_companies()
            .await
            .map_err(failed)?
            .into_iter()
            .map(|c| c.credit_code)
            .collect();
        let mut errors = ErrorList::default();
        for (row, c) in &rows {
            if known.contains(c.credit_code.as_str()) {
                errors.push(registered(*row, "统一社会信用代码", c.credit_code.as_str()));
            }
        }
        refuse(errors, job)?;
        job.progress.set_phase(Phase::Writing);
        let companies: Vec<NewPropertyCompany> = rows.into_iter().map(|(_, c)| c).collect();
        let mut tx = app.db().begin().await.map_err(failed)?;
        insert_property_companies_tx(&mut tx, &key, &actor.account, &companies)
            .await
            .map_err(failed)?;
        job.progress.rows_written(companies.len() as u64);
        let done = Imported::new(job.template.key, companies.len() as u64)
            .created("property_companies", companies.len() as u64);
        commit(tx, &key, actor, job, done).await
    }

    pub async fn compounds(
        app: &App,
        job: &Job,
        bytes: Bytes,
        actor: &Actor,
        reach: &Reach,
    ) -> Result<Imported, Outcome> {
        let key = audit_key(app, job)?;
        let (index, reach) = (app.index(), reach.clone());
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        struct Row {
            row: usize,
            community: DivisionCode,
            name: String,
            address: String,
            company: Option<String>,
            committee: Option<String>,
            position: Option<(f64, f64)>,
            outline: Option<String>,
        }
        let rows = read_all(job, bytes, move |r: Record| {
            let community =
                division_in(&index, &reach, &r, "community_code", &[Level::Community]).map_err(|e| vec![e])?;
            let position = position_of(&r).map_err(|e| vec![e])?;
            let outline = outline_of(&r).map_err(|e| vec![e])?;
            let name = r.text("name").to_string();
            if let Some(first) = seen.insert((community.as_str().to_string(), name.clone()), r.row) {
                return Err(vec![r.error(
                    "name",
                    Problem::Duplicate {
                        value: name,
                        first_row: first,
                    },
                )]);
            }
            Ok(Row {
                row: r.row,
                community,
                name,
                address: r.get("address").unwrap_or("").to_string(),
                company: r.get("property_company").map(str::to_string),
                committee: r.get("owners_committee").map(str::to_string),
                position,
                outline,
            })
        })
        .await?;
        let companies: HashMap<String, i64> = app
            .db()
            .property_companies()
            .await
            .map_err(failed)?
            .into_iter()
            .map(|c| (c.credit_code, c.id))
            .collect();
        let mut errors = ErrorList::default();
        let mut existing: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for row in &rows {
            let community = row.community.as_str().to_string();
            if !existing.contains_key(&community) {
                let prefix = row.community.significant_prefix().to_string();
                let list = app.db().compounds_within(&prefix).await.map_err(failed)?;
                existing.insert(community.clone(), list.into_iter().map(|c| (c.name, c.code)).collect());
            }
            if existing[&community].iter().any(|(n, _)| *n == row.name) {
                errors.push(registered(row.row, "小区名称", &row.name));
            }
            if let Some(c) = &row.company
                && !companies.contains_key(c)
            {
                errors.push(import_first(
                    row.row,
                    "物业企业信用代码",
                    c.clone(),
                    "物业企业",
                    "property company",
                    "property companies",
                ));
            }
        }
        refuse(errors, job)?;
        job.progress.set_phase(Phase::Writing);
        let mut serials: HashMap<String, usize> = HashMap::new();
        let mut new = Vec::with_capacity(rows.len());
        for row in &rows {
            let community = row.community.as_str().to_string();
            let taken = &existing[&community];
            let serial = serials.entry(community.clone()).or_insert(taken.len());
            let code = loop {
                *serial += 1;
                let c = format!("{community}-C{:02}", serial);
                if !taken.iter().any(|(_, t)| *t == c) {
                    break c;
                }
            };
            new.push(NewCompound {
                code,
                name: row.name.clone(),
                community: row.community.clone(),
                address: row.address.clone(),
                lon: row.position.map(|p| p.0),
                lat: row.position.map(|p| p.1),
                outline: row.outline.clone(),
                property_company_id: row.company.as_ref().and_then(|c| companies.get(c).copied()),
            });
        }
        let mut tx = app.db().begin().await.map_err(failed)?;
        let ids = insert_compounds_tx(&mut tx, &key, &actor.account, &new)
            .await
            .map_err(failed)?;
        let committees: Vec<NewOwnersCommittee> = rows
            .iter()
            .zip(&ids)
            .filter_map(|(row, id)| {
                row.committee.as_ref().map(|name| NewOwnersCommittee {
                    compound_id: *id,
                    name: name.clone(),
                    members: 0,
                    elected_on: None,
                })
            })
            .collect();
        insert_owners_committees_tx(&mut tx, &key, &actor.account, &committees)
            .await
            .map_err(failed)?;
        job.progress.rows_written(new.len() as u64);
        let done = Imported::new(job.template.key, new.len() as u64)
            .created("compounds", new.len() as u64)
            .created("owners_committees", committees.len() as u64);
        commit(tx, &key, actor, job, done).await
    }
}

mod places {
    //! Buildings (with their entrances) and households on their own: one row each, in a grid
    //! inside the importer's area; a building's compound and a household's building are
    //! registered already.

    use std::collections::{BTreeSet, HashMap, HashSet};

    use gongzhi_core::territory::places::{NewBuilding, NewHousehold};
    use gongzhi_store::territory::places::{insert_buildings_tx, insert_households_tx};

    use super::residents::entrance_number;
    use super::*;

    fn number(r: &Record, key: &str, default: u16) -> u16 {
        r.get(key).and_then(|t| t.trim().parse().ok()).unwrap_or(default)
    }

    pub async fn buildings(
        app: &App,
        job: &Job,
        bytes: Bytes,
        actor: &Actor,
        reach: &Reach,
    ) -> Result<Imported, Outcome> {
        let key = audit_key(app, job)?;
        let (index, reach) = (app.index(), reach.clone());
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        struct Row {
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
        let rows = read_all(job, bytes, move |r: Record| {
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
            Ok(Row {
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
        })
        .await?;

        // Against what is stored: the grid's buildings, the community's compounds.
        let mut errors = ErrorList::default();
        let mut existing: HashMap<String, Vec<(String, String)>> = HashMap::new();
        let mut compounds: HashMap<String, HashMap<String, i64>> = HashMap::new();
        for row in &rows {
            let grid = row.grid.as_str().to_string();
            if !existing.contains_key(&grid) {
                let list = app.db().buildings_within(&grid, 1_000_000).await.map_err(failed)?;
                existing.insert(grid.clone(), list.into_iter().map(|b| (b.name, b.code)).collect());
            }
            if existing[&grid].iter().any(|(n, _)| *n == row.name) {
                errors.push(registered(row.row, "楼栋", &row.name));
            }
            let community = row.grid.community();
            if !compounds.contains_key(community.as_str()) {
                let list = app
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
                errors.push(import_first(
                    row.row,
                    "小区",
                    c.clone(),
                    "小区",
                    "compound",
                    "compounds",
                ));
            }
        }
        refuse(errors, job)?;

        job.progress.set_phase(Phase::Writing);
        let mut taken: HashSet<String> = existing.values().flatten().map(|(_, c)| c.clone()).collect();
        let mut serials: HashMap<String, usize> = existing.iter().map(|(g, l)| (g.clone(), l.len())).collect();
        let new: Vec<NewBuilding> = rows
            .iter()
            .map(|row| {
                let grid = row.grid.as_str();
                let serial = serials.entry(grid.to_string()).or_insert(0);
                let code = loop {
                    *serial += 1;
                    let c = format!("{grid}-B{serial:03}");
                    if taken.insert(c.clone()) {
                        break c;
                    }
                };
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
        let mut tx = app.db().begin().await.map_err(failed)?;
        insert_buildings_tx(&mut tx, &key, &actor.account, &new)
            .await
            .map_err(failed)?;
        job.progress.rows_written(new.len() as u64);
        let entrances: u64 = new.iter().map(|b| u64::from(b.entrances)).sum();
        let done = Imported::new(job.template.key, new.len() as u64)
            .created("buildings", new.len() as u64)
            .created("entrances", entrances);
        commit(tx, &key, actor, job, done).await
    }

    pub async fn households(
        app: &App,
        job: &Job,
        bytes: Bytes,
        actor: &Actor,
        reach: &Reach,
    ) -> Result<Imported, Outcome> {
        let (key, cipher) = keys(app, job)?;
        let (index, reach) = (app.index(), reach.clone());
        let mut seen: HashMap<(String, String, Option<u16>, String), usize> = HashMap::new();
        struct Row {
            row: usize,
            grid: String,
            building: String,
            entrance: Option<u16>,
            room: String,
            area_m2: Option<i64>,
        }
        let rows = read_all(job, bytes, move |r: Record| {
            let grid = grid_in(&index, &reach, &r).map_err(|e| vec![e])?;
            let entrance = match r.get("entrance") {
                None => None,
                Some(t) => Some(entrance_number(t).ok_or_else(|| {
                    vec![r.error(
                        "entrance",
                        Problem::invalid(t, "单元号，如“2单元”或“2”", "an entrance number such as 2单元 or 2"),
                    )]
                })?),
            };
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
            Ok(Row {
                row: r.row,
                grid: grid.as_str().to_string(),
                building,
                entrance,
                room,
                area_m2: r.get("area_m2").and_then(|a| a.parse().ok()),
            })
        })
        .await?;

        // Against what is stored: each named building with its entrances and households.
        struct Known {
            id: i64,
            code: String,
            entrances: HashMap<i64, u16>,
            rooms: HashSet<(Option<u16>, String)>,
            codes: HashSet<String>,
            serial: usize,
        }
        let mut errors = ErrorList::default();
        let mut buildings: HashMap<(String, String), Option<Known>> = HashMap::new();
        let grids: BTreeSet<&str> = rows.iter().map(|r| r.grid.as_str()).collect();
        for grid in grids {
            let existing = app.db().buildings_within(grid, 1_000_000).await.map_err(failed)?;
            for row in rows.iter().filter(|r| r.grid == grid) {
                let k = (row.grid.clone(), row.building.clone());
                if buildings.contains_key(&k) {
                    continue;
                }
                let known = match existing.iter().find(|b| b.name == row.building && b.grid_code == grid) {
                    None => None,
                    Some(b) => {
                        let entrances: HashMap<i64, u16> = app
                            .db()
                            .entrances_of(b.id)
                            .await
                            .map_err(failed)?
                            .into_iter()
                            .map(|e| (e.id, e.number as u16))
                            .collect();
                        let households = app.db().households_of(cipher.as_ref(), b.id).await.map_err(failed)?;
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
                None => errors.push(import_first(
                    row.row,
                    "楼栋",
                    row.building.clone(),
                    "楼栋",
                    "building",
                    "buildings",
                )),
                Some(b) => {
                    if let Some(e) = row.entrance
                        && !b.entrances.values().any(|n| *n == e)
                    {
                        errors.push(RowError::cell(
                            row.row,
                            "单元",
                            Problem::unknown(
                                format!("{e}"),
                                "单元（楼栋没有此单元）",
                                "entrance (the building has none of this number)",
                            ),
                        ));
                    }
                    if b.rooms.contains(&(row.entrance, row.room.clone())) {
                        errors.push(registered(row.row, "户号", &row.room));
                    }
                }
            }
        }
        refuse(errors, job)?;

        job.progress.set_phase(Phase::Writing);
        let mut new = Vec::with_capacity(rows.len());
        for row in &rows {
            let b = buildings
                .get_mut(&(row.grid.clone(), row.building.clone()))
                .and_then(Option::as_mut)
                .expect("checked above");
            let code = loop {
                b.serial += 1;
                let c = format!("{}-{:04}", b.code, b.serial);
                if b.codes.insert(c.clone()) {
                    break c;
                }
            };
            new.push(NewHousehold {
                code,
                building_id: b.id,
                entrance: row.entrance,
                room: row.room.clone(),
                area_m2: row.area_m2,
            });
        }
        let mut tx = app.db().begin().await.map_err(failed)?;
        insert_households_tx(&mut tx, cipher.as_ref(), &key, &actor.account, &new)
            .await
            .map_err(failed)?;
        job.progress.rows_written(new.len() as u64);
        let done = Imported::new(job.template.key, new.len() as u64).created("households", new.len() as u64);
        commit(tx, &key, actor, job, done).await
    }
}

mod party {
    //! Party organizations (a parent registered already or earlier in the same file) and party
    //! members (in a registered organization inside the importer's area; sealed by the store).

    use std::collections::HashMap;

    use gongzhi_core::orgs::registry::{NewPartyOrganization, PartyOrgKind};
    use gongzhi_core::people::id_number::IdNumber;
    use gongzhi_core::people::registry::{NewPartyMember, PartyMemberKind, PersonName, Phone};
    use gongzhi_store::orgs::insert_party_organizations_tx;
    use gongzhi_store::people::registry::insert_party_members_tx;

    use super::*;
    use crate::territory::TerritoryIndex;

    /// A grid, community or street of the grid system inside `reach`, or the row's problem.
    fn territory_in(index: &TerritoryIndex, reach: &Reach, r: &Record, key: &str) -> Result<String, RowError> {
        let text = r.text(key);
        let known = match TerritoryCode::parse(text) {
            Ok(TerritoryCode::Grid(_)) => index.by_code.contains_key(text),
            Ok(TerritoryCode::Division(_)) => index
                .by_code
                .values()
                .any(|l| l.community.code == text || l.street.code == text),
            _ => false,
        };
        let code = match TerritoryCode::parse(text) {
            Ok(code) if known => code,
            _ => {
                return Err(r.error(
                    key,
                    Problem::unknown(
                        text,
                        "网格化管理的街道、社区或网格",
                        "street, community or grid of the grid system",
                    ),
                ));
            }
        };
        if !reach.reaches(&code) {
            return Err(r.error(
                key,
                Problem::other(format!("{text} 不在您的辖区内"), format!("{text} is outside your area")),
            ));
        }
        Ok(text.to_string())
    }

    fn field_problem(r: &Record, key: &str, e: &impl gongzhi_core::Localized) -> RowError {
        r.error(key, Problem::other(e.message(Lang::Zh), e.message(Lang::En)))
    }

    pub async fn organizations(
        app: &App,
        job: &Job,
        bytes: Bytes,
        actor: &Actor,
        reach: &Reach,
    ) -> Result<Imported, Outcome> {
        let key = audit_key(app, job)?;
        let (index, reach) = (app.index(), reach.clone());
        // Codes of the file so far, with their kinds: a parent must come before its children.
        let mut earlier: HashMap<String, (usize, PartyOrgKind)> = HashMap::new();
        let rows = read_all(job, bytes, move |r: Record| {
            let code = r.text("code").to_string();
            let kind =
                PartyOrgKind::parse_field("kind", r.text("kind")).map_err(|e| vec![field_problem(&r, "kind", &e)])?;
            let territory = territory_in(&index, &reach, &r, "territory_code").map_err(|e| vec![e])?;
            let parent = r.get("parent").map(str::to_string);
            // A parent in this file: its kind is checked here; a stored one after reading.
            if let Some(p) = &parent
                && let Some((_, parent_kind)) = earlier.get(p)
                && !kind.parent_kind().is_some_and(|k| k.contains(parent_kind))
            {
                return Err(vec![r.error(
                    "parent",
                    Problem::other(
                        format!("{}不能隶属于{}", kind.label(Lang::Zh), parent_kind.label(Lang::Zh)),
                        format!(
                            "a {} cannot belong to a {}",
                            kind.label(Lang::En),
                            parent_kind.label(Lang::En)
                        ),
                    ),
                )]);
            }
            if let Some((first, _)) = earlier.get(&code) {
                return Err(vec![r.error(
                    "code",
                    Problem::Duplicate {
                        value: code,
                        first_row: *first,
                    },
                )]);
            }
            earlier.insert(code.clone(), (r.row, kind));
            let in_file = parent.as_ref().is_some_and(|p| earlier.contains_key(p));
            Ok((
                r.row,
                in_file,
                NewPartyOrganization {
                    code,
                    name: r.text("name").to_string(),
                    kind,
                    parent_code: parent,
                    territory_code: territory,
                    organization_id: None,
                },
            ))
        })
        .await?;

        let mut errors = ErrorList::default();
        for (row, in_file, o) in &rows {
            if app
                .db()
                .party_organization_by_code(&o.code)
                .await
                .map_err(failed)?
                .is_some()
            {
                errors.push(registered(*row, "组织编号", &o.code));
            }
            let Some(parent) = &o.parent_code else { continue };
            if *in_file {
                continue;
            }
            match app.db().party_organization_by_code(parent).await.map_err(failed)? {
                None => errors.push(RowError::cell(
                    *row,
                    "上级组织编号",
                    Problem::unknown(
                        parent.clone(),
                        "上级党组织（须已登记或在本文件前面的行中）",
                        "parent organization (registered, or in an earlier row of this file)",
                    ),
                )),
                Some(p) => {
                    let fits = p
                        .kind
                        .parse::<PartyOrgKind>()
                        .ok()
                        .is_some_and(|pk| o.kind.parent_kind().is_some_and(|k| k.contains(&pk)));
                    if !fits {
                        errors.push(RowError::cell(
                            *row,
                            "上级组织编号",
                            Problem::other(
                                format!("{}不能隶属于{}", o.kind.label(Lang::Zh), parent),
                                format!("a {} cannot belong to {parent}", o.kind.label(Lang::En)),
                            ),
                        ));
                    }
                }
            }
        }
        refuse(errors, job)?;

        job.progress.set_phase(Phase::Writing);
        let orgs: Vec<NewPartyOrganization> = rows.into_iter().map(|(_, _, o)| o).collect();
        let mut tx = app.db().begin().await.map_err(failed)?;
        insert_party_organizations_tx(&mut tx, &key, &actor.account, &orgs)
            .await
            .map_err(failed)?;
        job.progress.rows_written(orgs.len() as u64);
        let done = Imported::new(job.template.key, orgs.len() as u64).created("party_orgs", orgs.len() as u64);
        commit(tx, &key, actor, job, done).await
    }

    pub async fn members(
        app: &App,
        job: &Job,
        bytes: Bytes,
        actor: &Actor,
        reach: &Reach,
    ) -> Result<Imported, Outcome> {
        let (key, cipher) = keys(app, job)?;
        let (index, reach_) = (app.index(), reach.clone());
        let mut seen: HashMap<String, usize> = HashMap::new();
        struct Row {
            row: usize,
            org: String,
            employer: Option<String>,
            community: Option<String>,
            member: NewPartyMember,
        }
        let rows = read_all(job, bytes, move |r: Record| {
            let mut errors = Vec::new();
            let name = PersonName::parse(r.text("name")).map_err(|e| errors.push(field_problem(&r, "name", &e)));
            let id = IdNumber::parse(r.text("id_number")).map_err(|_| {
                errors.push(r.error(
                    "id_number",
                    Problem::invalid(
                        r.text("id_number"),
                        "18位公民身份号码",
                        "an 18-character citizen ID number",
                    ),
                ))
            });
            let phone = match r.get("phone") {
                None => Ok(None),
                Some(t) => Phone::parse(t)
                    .map(Some)
                    .map_err(|e| errors.push(field_problem(&r, "phone", &e))),
            };
            let community = match r.get("residence_community") {
                None => None,
                Some(_) => match territory_in(&index, &reach_, &r, "residence_community") {
                    Ok(c) if c.len() == 12 => Some(c),
                    Ok(c) => {
                        errors.push(r.error("residence_community", Problem::unknown(c, "社区代码", "community code")));
                        None
                    }
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                },
            };
            if let Ok(id) = &id
                && let Some(first) = seen.insert(id.as_str().to_string(), r.row)
            {
                errors.push(r.error(
                    "id_number",
                    Problem::Duplicate {
                        value: id.masked(),
                        first_row: first,
                    },
                ));
            }
            match (name, id, phone) {
                (Ok(name), Ok(id_number), Ok(phone)) if errors.is_empty() => {
                    let employer = r.get("employer").map(str::to_string);
                    Ok(Row {
                        row: r.row,
                        org: r.text("party_org").to_string(),
                        community,
                        member: NewPartyMember {
                            party_organization_id: 0,
                            residence_community_code: String::new(),
                            kind: if employer.is_some() {
                                PartyMemberKind::Employed
                            } else {
                                PartyMemberKind::Community
                            },
                            employer_id: None,
                            name,
                            id_number,
                            phone,
                            checked_in_on: None,
                            joined_on: r
                                .get("joined_on")
                                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
                        },
                        employer,
                    })
                }
                _ => Err(errors),
            }
        })
        .await?;

        // Against what is stored: the organizations, employers and ID numbers.
        let mut errors = ErrorList::default();
        let mut orgs: HashMap<String, Option<gongzhi_store::orgs::PartyOrganization>> = HashMap::new();
        for row in &rows {
            if !orgs.contains_key(&row.org) {
                let o = app.db().party_organization_by_code(&row.org).await.map_err(failed)?;
                orgs.insert(row.org.clone(), o);
            }
        }
        let employers: HashMap<String, i64> = app
            .db()
            .member_organizations_within("")
            .await
            .map_err(failed)?
            .into_iter()
            .map(|o| (o.name, o.id))
            .collect();
        let ids: Vec<IdNumber> = rows.iter().map(|r| r.member.id_number.clone()).collect();
        let known = app
            .db()
            .party_member_ids_by_id_numbers(cipher.as_ref(), &ids)
            .await
            .map_err(failed)?;
        drop(ids);
        let mut members = Vec::with_capacity(rows.len());
        for mut row in rows {
            let org = orgs[&row.org].as_ref();
            match org {
                None => errors.push(import_first(
                    row.row,
                    "所在党组织编号",
                    row.org.clone(),
                    "党组织",
                    "party organization",
                    "party organizations",
                )),
                Some(o) => {
                    let inside = TerritoryCode::parse(&o.territory_code).is_ok_and(|c| reach.reaches(&c));
                    if !inside {
                        errors.push(RowError::cell(
                            row.row,
                            "所在党组织编号",
                            Problem::other(
                                format!("{} 不在您的辖区内", row.org),
                                format!("{} is outside your area", row.org),
                            ),
                        ));
                    }
                    row.member.party_organization_id = o.id;
                    let community = row
                        .community
                        .clone()
                        .or_else(|| (o.territory_code.len() >= 12).then(|| o.territory_code[..12].to_string()));
                    match community {
                        Some(c) => row.member.residence_community_code = c,
                        None => errors.push(RowError::cell(
                            row.row,
                            "居住社区代码",
                            Problem::other(
                                "党组织在街道一级，须填写居住社区代码",
                                "the organization is a street's, so the residence community is needed",
                            ),
                        )),
                    }
                }
            }
            if let Some(e) = &row.employer {
                match employers.get(e) {
                    Some(id) => row.member.employer_id = Some(*id),
                    None => errors.push(import_first(
                        row.row,
                        "工作单位",
                        e.clone(),
                        "辖区单位",
                        "member organization",
                        "member organizations",
                    )),
                }
            }
            if known.contains_key(row.member.id_number.as_str()) {
                errors.push(RowError::cell(
                    row.row,
                    "身份证号",
                    Problem::other(
                        format!("{} 已在党员登记中", row.member.id_number.masked()),
                        format!("{} is a registered party member already", row.member.id_number.masked()),
                    ),
                ));
            }
            members.push(row.member);
        }
        refuse(errors, job)?;

        job.progress.set_phase(Phase::Writing);
        let mut tx = app.db().begin().await.map_err(failed)?;
        insert_party_members_tx(&mut tx, cipher.as_ref(), &key, &actor.account, &members)
            .await
            .map_err(failed)?;
        job.progress.rows_written(members.len() as u64);
        let done = Imported::new(job.template.key, members.len() as u64).created("party_members", members.len() as u64);
        commit(tx, &key, actor, job, done).await
    }
}
