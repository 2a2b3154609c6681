//! The Qitaihe demo city: the real division tree (NBS 2023) and real district boundaries, with a
//! synthetic grid layer, built deterministically from a seed. See docs/DEMO-CITY.md.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use geo::{Area, BooleanOps, Coord, MultiPolygon, Point, Polygon};
use gongzhi_core::territory::geojson::multipolygon_from;
use gongzhi_core::territory::partition::{area_km2, split};
use gongzhi_core::territory::{DivisionCode, GridCode, Kind, Node, TerritoryCode};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use thiserror::Error;

pub const DIVISIONS_JSON: &str = include_str!("../../../data/qitaihe/divisions.json");
pub const BOUNDARIES_GEOJSON: &str = include_str!("../../../data/qitaihe/boundaries.geojson");
pub const GRID_SYSTEM_TOML: &str = include_str!("../../../data/qitaihe/grid-system.toml");

#[derive(Debug, Error)]
pub enum DemoError {
    #[error("data/qitaihe/grid-system.toml: {0}")]
    Config(String),
    #[error("data/qitaihe/divisions.json: {0}")]
    Divisions(String),
    #[error("data/qitaihe/boundaries.geojson: {0}")]
    Boundaries(String),
    #[error("laying out {0}: {1}")]
    Layout(String, String),
}

/// The grid system of the demo city (data/qitaihe/grid-system.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSystem {
    pub seed: u64,
    pub valid_from: NaiveDate,
    pub grids: u32,
    pub households: i64,
    pub km2_per_grid: f64,
    pub grid_count_spread: f64,
    pub household_spread: f64,
    pub include_streets_of_kind: String,
    pub exclude_communities: Vec<String>,
    pub include_communities: Vec<String>,
}

impl GridSystem {
    pub fn builtin() -> Result<GridSystem, DemoError> {
        let gs: GridSystem = toml::from_str(GRID_SYSTEM_TOML).map_err(|e| DemoError::Config(e.to_string()))?;
        gs.check()?;
        Ok(gs)
    }

    fn check(&self) -> Result<(), DemoError> {
        let bad = |m: String| Err(DemoError::Config(m));
        if self.grids == 0 || self.grids > 99_999 {
            return bad(format!("grids: {} is not between 1 and 99999", self.grids));
        }
        if self.households < 0 {
            return bad("households: cannot be negative".into());
        }
        if self.km2_per_grid.is_nan() || self.km2_per_grid <= 0.0 {
            return bad("km2_per_grid: must be above 0".into());
        }
        for (key, v) in [
            ("grid_count_spread", self.grid_count_spread),
            ("household_spread", self.household_spread),
        ] {
            if !(0.0..1.0).contains(&v) {
                return bad(format!("{key}: {v} is not in [0, 1)"));
            }
        }
        self.include_streets_of_kind
            .parse::<Kind>()
            .map_err(|e| DemoError::Config(format!("include_streets_of_kind: {e}")))?;
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
struct Division {
    code: String,
    name: String,
    level: String,
    short_name: Option<String>,
    #[serde(default)]
    children: Vec<Division>,
}

#[derive(Debug, Deserialize)]
struct DivisionsFile {
    tree: Division,
}

fn kind_of(level: &str) -> Option<Kind> {
    Some(match level {
        "city" => Kind::City,
        "district" => Kind::District,
        "county" => Kind::County,
        "street" => Kind::Subdistrict,
        "town" => Kind::Town,
        "township" => Kind::Township,
        "development_zone" => Kind::DevelopmentZone,
        "community" => Kind::Community,
        "village" => Kind::Village,
        _ => return None,
    })
}

/// What boundaries.geojson tells: real polygons for the city and districts, seat points, and
/// envelope centres for some streets.
#[derive(Default)]
struct Boundaries {
    polygons: BTreeMap<String, MultiPolygon<f64>>,
    seats: BTreeMap<String, Coord<f64>>,
    street_points: BTreeMap<String, Coord<f64>>,
}

fn read_boundaries(text: &str) -> Result<Boundaries, DemoError> {
    let err = |m: String| DemoError::Boundaries(m);
    let fc: geojson::FeatureCollection = text.parse().map_err(|e: geojson::Error| err(e.to_string()))?;
    let mut b = Boundaries::default();
    for (i, f) in fc.features.iter().enumerate() {
        let prop = |k: &str| f.properties.as_ref().and_then(|p| p.get(k));
        let code = prop("code")
            .and_then(|v| v.as_str())
            .ok_or_else(|| err(format!("feature {i}: no code")))?
            .to_string();
        match prop("geometry_kind").and_then(|v| v.as_str()) {
            Some("boundary_polygon") => {
                let mp = multipolygon_from(f.geometry.as_ref()).map_err(|e| err(format!("feature {i}: {e}")))?;
                b.polygons.insert(code.clone(), mp);
                if let Some([lon, lat]) =
                    prop("amap_center_wgs84").and_then(|v| serde_json::from_value::<[f64; 2]>(v.clone()).ok())
                {
                    b.seats.insert(code, Coord { x: lon, y: lat });
                }
            }
            Some("bbox_center") => {
                if let Some(geojson::GeometryValue::Point { coordinates }) = f.geometry.as_ref().map(|g| &g.value) {
                    let p = coordinates.as_slice();
                    b.street_points.insert(code, Coord { x: p[0], y: p[1] });
                }
            }
            _ => {}
        }
    }
    Ok(b)
}

/// Splits `total` into whole shares proportional to `weights` (largest remainder), so the shares
/// add up exactly.
pub fn apportion(total: i64, weights: &[f64]) -> Vec<i64> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut shares: Vec<i64> = exact.iter().map(|e| e.floor() as i64).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let missing = total - shares.iter().sum::<i64>();
    for &i in order.iter().cycle().take(missing.max(0) as usize) {
        shares[i] += 1;
    }
    shares
}

/// An irregular blob around `centre`: a circle whose radius wanders with a few low harmonics,
/// the way a town grows along roads and valleys.
fn blob(centre: Coord<f64>, radius_km: f64, phases: &[f64; 3]) -> Polygon<f64> {
    let (dlat, dlon) = (radius_km / 111.32, radius_km / (111.32 * centre.y.to_radians().cos()));
    let ring: Vec<Coord<f64>> = (0..=72)
        .map(|i| {
            let a = std::f64::consts::TAU * (i % 72) as f64 / 72.0;
            let r = 1.0
                + 0.22 * (2.0 * a + phases[0]).sin()
                + 0.12 * (3.0 * a + phases[1]).sin()
                + 0.07 * (5.0 * a + phases[2]).sin();
            Coord {
                x: centre.x + dlon * r * a.cos(),
                y: centre.y + dlat * r * a.sin(),
            }
        })
        .collect();
    Polygon::new(ring.into(), vec![])
}

/// The built-up area of a district: a blob around its seat, inside its boundary and outside the
/// areas already given to other districts, grown until it has the wanted area.
fn urban_area(
    centre: Coord<f64>,
    district: &MultiPolygon<f64>,
    taken: &MultiPolygon<f64>,
    km2: f64,
    rng: &mut impl Rng,
) -> MultiPolygon<f64> {
    let tau = std::f64::consts::TAU;
    let phases = [
        rng.random_range(0.0..tau),
        rng.random_range(0.0..tau),
        rng.random_range(0.0..tau),
    ];
    let mut radius = (km2 / std::f64::consts::PI).sqrt();
    loop {
        let area = district.intersection(&blob(centre, radius, &phases)).difference(taken);
        if area_km2(&area) >= km2 || radius > 30.0 {
            return area;
        }
        radius *= 1.08;
    }
}

struct Community<'a> {
    division: &'a Division,
    grids: i64,
}

/// Builds every node of the demo city, parents before children.
pub fn build(gs: &GridSystem) -> Result<Vec<Node>, DemoError> {
    let divisions: DivisionsFile =
        serde_json::from_str(DIVISIONS_JSON).map_err(|e| DemoError::Divisions(e.to_string()))?;
    let boundaries = read_boundaries(BOUNDARIES_GEOJSON)?;
    let mut rng = ChaCha8Rng::seed_from_u64(gs.seed);
    let street_kind: Kind = gs
        .include_streets_of_kind
        .parse()
        .map_err(|e| DemoError::Config(format!("{e}")))?;

    // Which communities are in the grid system.
    let mut all_codes = BTreeSet::new();
    let mut selected = BTreeSet::new();
    for district in &divisions.tree.children {
        for street in &district.children {
            for community in &street.children {
                all_codes.insert(community.code.clone());
                if kind_of(&street.level) == Some(street_kind) && kind_of(&community.level) == Some(Kind::Community) {
                    selected.insert(community.code.clone());
                }
            }
        }
    }
    for (key, codes) in [
        ("exclude_communities", &gs.exclude_communities),
        ("include_communities", &gs.include_communities),
    ] {
        if let Some(c) = codes.iter().find(|c| !all_codes.contains(*c)) {
            return Err(DemoError::Config(format!(
                "{key}: {c} is not a community or village in divisions.json"
            )));
        }
    }
    selected.retain(|c| !gs.exclude_communities.contains(c));
    selected.extend(gs.include_communities.iter().cloned());

    // How many grids each community gets, and how many households each grid.
    let weights: Vec<f64> = selected
        .iter()
        .map(|_| 1.0 + rng.random_range(-gs.grid_count_spread..=gs.grid_count_spread))
        .collect();
    let grid_counts: BTreeMap<&String, i64> = selected.iter().zip(apportion(gs.grids as i64, &weights)).collect();
    let household_weights: Vec<f64> = (0..gs.grids)
        .map(|_| 1.0 + rng.random_range(-gs.household_spread..=gs.household_spread))
        .collect();
    let mut households = apportion(gs.households, &household_weights).into_iter();

    let mut nodes = Vec::new();
    let node = |d: &Division, boundary: Option<MultiPolygon<f64>>| -> Result<Node, DemoError> {
        let kind =
            kind_of(&d.level).ok_or_else(|| DemoError::Divisions(format!("{}: unknown level {}", d.code, d.level)))?;
        let code = DivisionCode::parse(&d.code).map_err(|e| DemoError::Divisions(format!("{}: {e}", d.code)))?;
        Ok(Node {
            code: TerritoryCode::Division(code),
            name: d.short_name.clone().unwrap_or_else(|| d.name.clone()),
            kind,
            households: None,
            boundary,
            valid_from: gs.valid_from,
            valid_to: None,
        })
    };
    nodes.push(node(
        &divisions.tree,
        boundaries.polygons.get(&divisions.tree.code).cloned(),
    )?);

    let mut taken = MultiPolygon::<f64>(vec![]);
    for district in &divisions.tree.children {
        let polygon = boundaries.polygons.get(&district.code).cloned();
        nodes.push(node(district, polygon.clone())?);
        // The streets of this district with communities in the grid system, and those communities.
        let gridded: Vec<(&Division, Vec<Community>)> = district
            .children
            .iter()
            .map(|s| {
                let cs = s
                    .children
                    .iter()
                    .filter(|c| selected.contains(&c.code))
                    .map(|c| Community {
                        division: c,
                        grids: grid_counts[&c.code],
                    })
                    .collect::<Vec<_>>();
                (s, cs)
            })
            .filter(|(_, cs)| !cs.is_empty())
            .collect();
        let mut street_cells = BTreeMap::new();
        let mut community_cells = BTreeMap::new();
        let mut grid_nodes = Vec::new();
        if !gridded.is_empty() {
            let layout = |m: &str| DemoError::Layout(district.name.clone(), m.to_string());
            let polygon = polygon.ok_or_else(|| layout("no boundary polygon"))?;
            let centre = *boundaries
                .seats
                .get(&district.code)
                .ok_or_else(|| layout("no seat point"))?;
            let district_grids: i64 = gridded.iter().flat_map(|(_, cs)| cs.iter().map(|c| c.grids)).sum();
            let area = urban_area(
                centre,
                &polygon,
                &taken,
                district_grids as f64 * gs.km2_per_grid,
                &mut rng,
            );
            if area.unsigned_area() <= 0.0 {
                return Err(layout("the seat is outside the district"));
            }
            taken = taken.union(&area);
            let hints: Vec<Option<Coord<f64>>> = gridded
                .iter()
                .map(|(s, _)| boundaries.street_points.get(&s.code).copied())
                .collect();
            for ((street, communities), street_cell) in gridded.iter().zip(split(&area, &hints, &mut rng)) {
                let cells = split(&street_cell, &vec![None; communities.len()], &mut rng);
                for (community, community_cell) in communities.iter().zip(cells) {
                    let community_code =
                        DivisionCode::parse(&community.division.code).map_err(|e| layout(&e.to_string()))?;
                    let short = community
                        .division
                        .short_name
                        .clone()
                        .unwrap_or_else(|| community.division.name.clone());
                    let grid_cells = split(&community_cell, &vec![None; community.grids as usize], &mut rng);
                    for (serial, cell) in grid_cells.into_iter().enumerate() {
                        let code =
                            GridCode::new(&community_code, serial as u16 + 1).map_err(|e| layout(&e.to_string()))?;
                        if cell.unsigned_area() <= 0.0 {
                            return Err(layout(&format!("grid {code} came out empty")));
                        }
                        grid_nodes.push(Node {
                            code: TerritoryCode::Grid(code),
                            name: format!("{short}第{}网格", serial + 1),
                            kind: Kind::Grid,
                            households: households.next(),
                            boundary: Some(cell),
                            valid_from: gs.valid_from,
                            valid_to: None,
                        });
                    }
                    community_cells.insert(community.division.code.clone(), community_cell);
                }
                street_cells.insert(street.code.clone(), street_cell);
            }
        }
        for street in &district.children {
            nodes.push(node(street, street_cells.remove(&street.code))?);
            for community in &street.children {
                nodes.push(node(community, community_cells.remove(&community.code))?);
            }
        }
        nodes.extend(grid_nodes);
    }
    Ok(nodes)
}

/// The point of a grid that a test or benchmark can aim at: inside it, away from its edges.
pub fn inner_point(boundary: &MultiPolygon<f64>) -> Option<Point<f64>> {
    use geo::InteriorPoint;
    boundary.interior_point()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gongzhi_core::territory::Level;

    #[test]
    fn apportion_keeps_the_total() {
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(apportion(228_200, &[0.9, 1.1, 1.0, 1.05]).iter().sum::<i64>(), 228_200);
        assert_eq!(apportion(5, &[]), Vec::<i64>::new());
    }

    #[test]
    fn the_demo_city_has_the_seed_report_figures() {
        let nodes = build(&GridSystem::builtin().unwrap()).unwrap();
        let count = |l: Level| nodes.iter().filter(|n| n.level() == l).count();
        assert_eq!(count(Level::District), 4);
        assert_eq!(count(Level::Street), 44);
        assert_eq!(count(Level::Community), 319);
        assert_eq!(count(Level::Grid), 810);
        let gridded: BTreeSet<_> = nodes
            .iter()
            .filter(|n| n.level() == Level::Grid)
            .map(|n| n.parent_code().unwrap())
            .collect();
        assert_eq!(gridded.len(), 63);
        assert_eq!(nodes.iter().filter_map(|n| n.households).sum::<i64>(), 228_200);
        for n in &nodes {
            n.validate().unwrap();
        }
    }

    #[test]
    fn grids_lie_inside_their_district_and_do_not_overlap() {
        let nodes = build(&GridSystem::builtin().unwrap()).unwrap();
        let districts: BTreeMap<String, &MultiPolygon<f64>> = nodes
            .iter()
            .filter(|n| n.level() == Level::District)
            .map(|n| (n.code.to_string()[..6].to_string(), n.boundary.as_ref().unwrap()))
            .collect();
        let grids: Vec<&Node> = nodes.iter().filter(|n| n.level() == Level::Grid).collect();
        for g in &grids {
            let b = g.boundary.as_ref().unwrap();
            let outside = b.difference(districts[&g.code.to_string()[..6]]).unsigned_area();
            assert!(
                outside < 1e-6 * b.unsigned_area(),
                "{} sticks out of its district",
                g.code
            );
        }
        let total: f64 = grids.iter().map(|g| area_km2(g.boundary.as_ref().unwrap())).sum();
        assert!((70.0..95.0).contains(&total), "urban area {total} km²");
    }

    #[test]
    fn the_same_seed_builds_the_same_city() {
        let gs = GridSystem::builtin().unwrap();
        assert_eq!(build(&gs).unwrap(), build(&gs).unwrap());
    }
}
