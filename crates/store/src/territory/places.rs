//! Compounds, buildings, entrances and households (the registry's places under the grid).
//! A household's room is sealed (`households.room`); everything else here is a place's data.

use chrono::{DateTime, Utc};
use gongzhi_core::audit::AuditKey;
use gongzhi_core::people::cipher::CipherProvider;
use gongzhi_core::people::registry::sealed;
use gongzhi_core::territory::places::{NewBuilding, NewCompound, NewHousehold, street_of};
use serde::Serialize;
use serde_json::json;

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::registry::rows::{audit, insert_keyed, insert_plain, like_contains, like_prefix, open};
use crate::sql::Arg;

fn text(s: &str) -> Arg {
    Arg::Text(Some(s.to_string()))
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Compound {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub community_code: String,
    pub street_code: String,
    pub address: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub outline: Option<String>,
    pub property_company_id: Option<i64>,
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Building {
    pub id: i64,
    pub code: String,
    pub compound_id: Option<i64>,
    pub grid_code: String,
    pub community_code: String,
    pub street_code: String,
    pub name: String,
    pub address: String,
    pub floors: i64,
    /// 用途: a key of `gongzhi_core::import::registry::BUILDING_USES`.
    pub use_kind: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub outline: Option<String>,
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Entrance {
    pub id: i64,
    pub building_id: i64,
    pub number: i64,
}

/// A household with its room opened (for staff in scope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Household {
    pub id: i64,
    pub code: String,
    pub building_id: i64,
    pub entrance_id: Option<i64>,
    pub grid_code: String,
    pub community_code: String,
    pub street_code: String,
    pub room: String,
    pub area_m2: Option<i64>,
    pub revision: i64,
}

#[derive(sqlx::FromRow)]
struct HouseholdRow {
    id: i64,
    code: String,
    building_id: i64,
    entrance_id: Option<i64>,
    grid_code: String,
    community_code: String,
    street_code: String,
    room_sealed: String,
    area_m2: Option<i64>,
    revision: i64,
}

impl HouseholdRow {
    fn open(self, cipher: &dyn CipherProvider) -> Result<Household, StoreError> {
        Ok(Household {
            room: open(cipher, sealed::HOUSEHOLD_ROOM, &self.room_sealed)?,
            id: self.id,
            code: self.code,
            building_id: self.building_id,
            entrance_id: self.entrance_id,
            grid_code: self.grid_code,
            community_code: self.community_code,
            street_code: self.street_code,
            area_m2: self.area_m2,
            revision: self.revision,
        })
    }
}

/// A building with its number of households, for lists.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct BuildingSummary {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub address: String,
    pub grid_code: String,
    pub floors: i64,
    pub households: i64,
}

/// A building as an export writes it: the columns of the buildings template and its position.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct BuildingPlace {
    pub code: String,
    pub grid_code: String,
    pub compound: Option<String>,
    pub name: String,
    pub address: String,
    pub floors: i64,
    pub entrances: i64,
    pub use_kind: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub outline: Option<String>,
}

/// A case near a building (by its point or its address), for the building and household pages.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct NearbyCase {
    pub case_no: String,
    pub matter: String,
    pub state: String,
    pub address: Option<String>,
    pub reported_at: DateTime<Utc>,
}

const COMPOUND_COLUMNS: &str =
    "id, code, name, community_code, street_code, address, lon, lat, outline, property_company_id, revision";
const BUILDING_COLUMNS: &str = "id, code, compound_id, grid_code, community_code, street_code, name, address, floors, use_kind, lon, lat, outline, revision";
const HOUSEHOLD_COLUMNS: &str =
    "id, code, building_id, entrance_id, grid_code, community_code, street_code, room_sealed, area_m2, revision";

/// Writes compounds inside `tx`; returns their ids in order. Audited as one entry.
pub async fn insert_compounds_tx(
    tx: &mut Tx,
    key: &AuditKey,
    actor: &str,
    compounds: &[NewCompound],
) -> Result<Vec<i64>, StoreError> {
    if compounds.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let rows: Vec<(String, Vec<Arg>)> = compounds
        .iter()
        .map(|c| {
            (
                c.code.clone(),
                vec![
                    text(&c.code),
                    text(&c.name),
                    text(c.community.as_str()),
                    text(&street_of(&c.community)),
                    text(&c.address),
                    Arg::Real(c.lon),
                    Arg::Real(c.lat),
                    Arg::Text(c.outline.clone()),
                    Arg::MaybeInt(c.property_company_id),
                    Arg::Time(Some(now)),
                ],
            )
        })
        .collect();
    let ids = insert_keyed(
        tx,
        "compounds",
        &[
            "code",
            "name",
            "community_code",
            "street_code",
            "address",
            "lon",
            "lat",
            "outline",
            "property_company_id",
            "created_at",
        ],
        "code",
        &rows,
    )
    .await?;
    audit(
        tx,
        key,
        actor,
        "registry.compound.add",
        "compound",
        &ids[0].to_string(),
        json!({"count": ids.len()}),
    )
    .await?;
    Ok(ids)
}

/// Writes buildings and their entrances (numbered 1..=`entrances`) inside `tx`; returns the
/// buildings' ids in order. Audited as one entry.
pub async fn insert_buildings_tx(
    tx: &mut Tx,
    key: &AuditKey,
    actor: &str,
    buildings: &[NewBuilding],
) -> Result<Vec<i64>, StoreError> {
    if buildings.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let rows: Vec<(String, Vec<Arg>)> = buildings
        .iter()
        .map(|b| {
            let community = b.grid.community();
            (
                b.code.clone(),
                vec![
                    text(&b.code),
                    Arg::MaybeInt(b.compound_id),
                    text(b.grid.as_str()),
                    text(community.as_str()),
                    text(&street_of(&community)),
                    text(&b.name),
                    text(&b.address),
                    Arg::Int(i64::from(b.floors)),
                    text(&b.use_kind),
                    Arg::Real(b.lon),
                    Arg::Real(b.lat),
                    Arg::Text(b.outline.clone()),
                    Arg::Time(Some(now)),
                ],
            )
        })
        .collect();
    let ids = insert_keyed(
        tx,
        "buildings",
        &[
            "code",
            "compound_id",
            "grid_code",
            "community_code",
            "street_code",
            "name",
            "address",
            "floors",
            "use_kind",
            "lon",
            "lat",
            "outline",
            "created_at",
        ],
        "code",
        &rows,
    )
    .await?;
    let entrances: Vec<Vec<Arg>> = buildings
        .iter()
        .zip(&ids)
        .flat_map(|(b, id)| (1..=b.entrances).map(move |n| vec![Arg::Int(*id), Arg::Int(i64::from(n))]))
        .collect();
    insert_plain(tx, "entrances", &["building_id", "number"], &entrances).await?;
    audit(
        tx,
        key,
        actor,
        "registry.building.add",
        "building",
        &ids[0].to_string(),
        json!({"count": ids.len(), "entrances": entrances.len()}),
    )
    .await?;
    Ok(ids)
}

/// Writes households inside `tx`, sealing each room; returns their ids in order. The grid,
/// community and street come from the building; an entrance number the building lacks is an
/// error. Audited as one entry.
pub async fn insert_households_tx(
    tx: &mut Tx,
    cipher: &dyn CipherProvider,
    key: &AuditKey,
    actor: &str,
    households: &[NewHousehold],
) -> Result<Vec<i64>, StoreError> {
    if households.is_empty() {
        return Ok(Vec::new());
    }
    let mut building_ids: Vec<i64> = households.iter().map(|h| h.building_id).collect();
    building_ids.sort_unstable();
    building_ids.dedup();
    let mut places = std::collections::HashMap::new();
    for chunk in building_ids.chunks(500) {
        let sql = format!(
            "SELECT b.id, b.grid_code, b.community_code, b.street_code, e.number, e.id FROM buildings b \
             LEFT JOIN entrances e ON e.building_id = b.id WHERE b.id IN ({})",
            (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows: Vec<BuildingEntranceRow> = on_tx!(tx, conn => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(conn).await
        })?;
        for (id, grid, community, street, number, entrance_id) in rows {
            let e = places
                .entry(id)
                .or_insert_with(|| (grid, community, street, std::collections::HashMap::new()));
            if let (Some(n), Some(eid)) = (number, entrance_id) {
                e.3.insert(n, eid);
            }
        }
    }
    let now = Utc::now();
    let mut rows = Vec::with_capacity(households.len());
    for h in households {
        let (grid, community, street, entrances) = places.get(&h.building_id).ok_or_else(|| StoreError::Unknown {
            what: "building",
            id: h.building_id.to_string(),
        })?;
        let entrance_id = match h.entrance {
            None => None,
            Some(n) => Some(*entrances.get(&i64::from(n)).ok_or_else(|| StoreError::Unknown {
                what: "entrance",
                id: format!("{}/{n}", h.building_id),
            })?),
        };
        rows.push((
            h.code.clone(),
            vec![
                text(&h.code),
                Arg::Int(h.building_id),
                Arg::MaybeInt(entrance_id),
                text(grid),
                text(community),
                text(street),
                text(&cipher.seal_text(sealed::HOUSEHOLD_ROOM, &h.room)),
                Arg::MaybeInt(h.area_m2),
                Arg::Time(Some(now)),
            ],
        ));
    }
    let ids = insert_keyed(
        tx,
        "households",
        &[
            "code",
            "building_id",
            "entrance_id",
            "grid_code",
            "community_code",
            "street_code",
            "room_sealed",
            "area_m2",
            "created_at",
        ],
        "code",
        &rows,
    )
    .await?;
    audit(
        tx,
        key,
        actor,
        "registry.household.add",
        "household",
        &ids[0].to_string(),
        json!({"count": ids.len()}),
    )
    .await?;
    Ok(ids)
}

/// The entrances of a building inside `tx`: (number, id).
pub async fn entrance_numbers_tx(tx: &mut Tx, building_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
    Ok(
        on_tx!(tx, conn => sqlx::query_as("SELECT number, id FROM entrances WHERE building_id = $1")
        .bind(building_id).fetch_all(conn).await)?,
    )
}

impl Db {
    /// Writes compounds in one transaction (see [`insert_compounds_tx`]).
    pub async fn insert_compounds(
        &self,
        key: &AuditKey,
        actor: &str,
        c: &[NewCompound],
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin().await?;
        let ids = insert_compounds_tx(&mut tx, key, actor, c).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Writes buildings with their entrances in one transaction (see [`insert_buildings_tx`]).
    pub async fn insert_buildings(
        &self,
        key: &AuditKey,
        actor: &str,
        b: &[NewBuilding],
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin().await?;
        let ids = insert_buildings_tx(&mut tx, key, actor, b).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Writes households in one transaction, rooms sealed (see [`insert_households_tx`]).
    pub async fn insert_households(
        &self,
        cipher: &dyn CipherProvider,
        key: &AuditKey,
        actor: &str,
        h: &[NewHousehold],
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin().await?;
        let ids = insert_households_tx(&mut tx, cipher, key, actor, h).await?;
        tx.commit().await?;
        Ok(ids)
    }

    pub async fn compound(&self, id: i64) -> Result<Option<Compound>, StoreError> {
        let sql = format!("SELECT {COMPOUND_COLUMNS} FROM compounds WHERE id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?)
    }

    pub async fn compound_by_code(&self, code: &str) -> Result<Option<Compound>, StoreError> {
        let sql = format!("SELECT {COMPOUND_COLUMNS} FROM compounds WHERE code = $1");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(code).fetch_optional(p).await)?)
    }

    /// The compounds of a subtree (`within` a territory code's subtree prefix), by name.
    pub async fn compounds_within(&self, within: &str) -> Result<Vec<Compound>, StoreError> {
        let sql = format!(
            "SELECT {COMPOUND_COLUMNS} FROM compounds WHERE community_code LIKE $1 ORDER BY community_code, name"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(like_prefix(within)).fetch_all(p).await)?)
    }

    pub async fn building(&self, id: i64) -> Result<Option<Building>, StoreError> {
        let sql = format!("SELECT {BUILDING_COLUMNS} FROM buildings WHERE id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?)
    }

    pub async fn building_by_code(&self, code: &str) -> Result<Option<Building>, StoreError> {
        let sql = format!("SELECT {BUILDING_COLUMNS} FROM buildings WHERE code = $1");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(code).fetch_optional(p).await)?)
    }

    pub async fn entrances_of(&self, building_id: i64) -> Result<Vec<Entrance>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, building_id, number FROM entrances WHERE building_id = $1 ORDER BY number")
            .bind(building_id).fetch_all(p).await)?)
    }

    /// The buildings of a subtree (a grid, community, street… by its subtree prefix) with their
    /// household counts, by code; at most `limit`.
    pub async fn buildings_within(&self, within: &str, limit: i64) -> Result<Vec<BuildingSummary>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT b.id, b.code, b.name, b.address, b.grid_code, b.floors, \
             (SELECT COUNT(*) FROM households h WHERE h.building_id = b.id) AS households \
             FROM buildings b WHERE b.grid_code LIKE $1 ORDER BY b.code LIMIT $2")
            .bind(like_prefix(within)).bind(limit).fetch_all(p).await)?)
    }

    /// The buildings of a subtree as an export writes them (compound by name, entrances
    /// counted), by code.
    pub async fn building_places_within(&self, within: &str) -> Result<Vec<BuildingPlace>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT b.code, b.grid_code, c.name AS compound, b.name, b.address, b.floors, \
             (SELECT COUNT(*) FROM entrances e WHERE e.building_id = b.id) AS entrances, b.use_kind, b.lon, b.lat, b.outline \
             FROM buildings b LEFT JOIN compounds c ON c.id = b.compound_id \
             WHERE b.grid_code LIKE $1 ORDER BY b.code")
            .bind(like_prefix(within)).fetch_all(p).await)?)
    }

    /// Buildings of a subtree whose address or name contains `text`.
    pub async fn search_buildings(
        &self,
        within: &str,
        text: &str,
        limit: i64,
    ) -> Result<Vec<BuildingSummary>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT b.id, b.code, b.name, b.address, b.grid_code, b.floors, \
             (SELECT COUNT(*) FROM households h WHERE h.building_id = b.id) AS households \
             FROM buildings b WHERE b.grid_code LIKE $1 AND (b.address LIKE $2 OR b.name LIKE $2) ORDER BY b.code LIMIT $3")
            .bind(like_prefix(within)).bind(like_contains(text)).bind(limit).fetch_all(p).await)?)
    }

    pub async fn household(&self, cipher: &dyn CipherProvider, id: i64) -> Result<Option<Household>, StoreError> {
        let sql = format!("SELECT {HOUSEHOLD_COLUMNS} FROM households WHERE id = $1");
        let row: Option<HouseholdRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
        row.map(|r| r.open(cipher)).transpose()
    }

    pub async fn household_by_code(
        &self,
        cipher: &dyn CipherProvider,
        code: &str,
    ) -> Result<Option<Household>, StoreError> {
        let sql = format!("SELECT {HOUSEHOLD_COLUMNS} FROM households WHERE code = $1");
        let row: Option<HouseholdRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(code).fetch_optional(p).await)?;
        row.map(|r| r.open(cipher)).transpose()
    }

    /// The households of a building, rooms opened, in the order they were written.
    pub async fn households_of(
        &self,
        cipher: &dyn CipherProvider,
        building_id: i64,
    ) -> Result<Vec<Household>, StoreError> {
        let sql = format!("SELECT {HOUSEHOLD_COLUMNS} FROM households WHERE building_id = $1 ORDER BY id");
        let rows: Vec<HouseholdRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(building_id).fetch_all(p).await)?;
        rows.into_iter().map(|r| r.open(cipher)).collect()
    }

    /// Cases reported at a building: within about 60 m of its point, or whose address starts
    /// with the building's address; newest first.
    pub async fn cases_at_building(&self, building: &Building, limit: i64) -> Result<Vec<NearbyCase>, StoreError> {
        let (lon, lat) = (building.lon.unwrap_or(999.0), building.lat.unwrap_or(999.0));
        let (dlon, dlat) = (0.0008, 0.0005);
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT case_no, matter, state, address, reported_at FROM cases \
             WHERE grid_code = $1 AND ((lon BETWEEN $2 AND $3 AND lat BETWEEN $4 AND $5) OR address LIKE $6) \
             ORDER BY reported_at DESC LIMIT $7")
            .bind(&building.grid_code).bind(lon - dlon).bind(lon + dlon).bind(lat - dlat).bind(lat + dlat)
            .bind(format!("{}%", building.address.replace(['%', '_'], ""))).bind(limit).fetch_all(p).await)?)
    }

    /// How many compounds, buildings, households and resident records a subtree holds.
    pub async fn registry_counts(&self, within: &str) -> Result<RegistryCounts, StoreError> {
        let like = like_prefix(within);
        let count = |sql: &'static str| {
            let like = like.clone();
            async move {
                let n: i64 = on_pool!(self, p => sqlx::query_scalar(sql).bind(like).fetch_one(p).await)?;
                Ok::<i64, StoreError>(n)
            }
        };
        Ok(RegistryCounts {
            compounds: count("SELECT COUNT(*) FROM compounds WHERE community_code LIKE $1").await?,
            buildings: count("SELECT COUNT(*) FROM buildings WHERE grid_code LIKE $1").await?,
            households: count("SELECT COUNT(*) FROM households WHERE grid_code LIKE $1").await?,
            residents: count("SELECT COUNT(*) FROM resident_records WHERE grid_code LIKE $1").await?,
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RegistryCounts {
    pub compounds: i64,
    pub buildings: i64,
    pub households: i64,
    pub residents: i64,
}

/// A building (id, grid, community, street) with one of its entrances (number, id), if any.
type BuildingEntranceRow = (i64, String, String, String, Option<i64>, Option<i64>);
