//! GeoJSON in and out (RFC 7946: WGS-84 longitude/latitude). Grids are imported from
//! FeatureCollections; every problem is reported with the index of the feature it is in.

use crate::ErrorCode;
use std::collections::HashSet;

use geo::{Area, MultiPolygon, Polygon};
use geojson::{Feature, FeatureCollection, GeoJson, Geometry, GeometryValue as Value, PolygonType};
use serde_json::{Map, Value as Json};
use thiserror::Error;

use super::code::{CodeError, GridCode};
use crate::i18n::{Lang, Localized};

#[derive(Debug, Clone, PartialEq, Error)]
pub enum GeometryError {
    #[error("geometry is missing")]
    Missing,
    #[error("geometry must be a Polygon or MultiPolygon, not {0}")]
    NotAPolygon(String),
    #[error("ring {ring} has fewer than 4 positions or is not closed")]
    BadRing { ring: usize },
    #[error("position {lon},{lat} is not a longitude/latitude")]
    BadPosition { lon: f64, lat: f64 },
    #[error("the polygon has no area")]
    NoArea,
}

impl GeometryError {
    fn zh(&self) -> String {
        match self {
            GeometryError::Missing => "缺少几何图形（geometry）".into(),
            GeometryError::NotAPolygon(t) => format!("几何图形必须是 Polygon 或 MultiPolygon，实际为 {t}"),
            GeometryError::BadRing { ring } => format!("第{ring}个环少于4个点或未闭合"),
            GeometryError::BadPosition { lon, lat } => format!("坐标 {lon},{lat} 不是有效的经纬度"),
            GeometryError::NoArea => "多边形面积为零".into(),
        }
    }
}

/// Reads a Polygon or MultiPolygon geometry, checking rings and positions.
pub fn multipolygon_from(geometry: Option<&Geometry>) -> Result<MultiPolygon<f64>, GeometryError> {
    let geometry = geometry.ok_or(GeometryError::Missing)?;
    let polygons: Vec<&PolygonType> = match &geometry.value {
        Value::Polygon { coordinates } => vec![coordinates],
        Value::MultiPolygon { coordinates } => coordinates.iter().collect(),
        other => return Err(GeometryError::NotAPolygon(other.type_name().to_string())),
    };
    let mut ring_no = 0;
    for rings in &polygons {
        for ring in rings.iter() {
            ring_no += 1;
            if ring.len() < 4 || ring.first() != ring.last() {
                return Err(GeometryError::BadRing { ring: ring_no });
            }
            for p in ring {
                let p = p.as_slice();
                let (lon, lat) = (
                    p.first().copied().unwrap_or(f64::NAN),
                    p.get(1).copied().unwrap_or(f64::NAN),
                );
                if !(lon.is_finite()
                    && lat.is_finite()
                    && (-180.0..=180.0).contains(&lon)
                    && (-90.0..=90.0).contains(&lat))
                {
                    return Err(GeometryError::BadPosition { lon, lat });
                }
            }
        }
    }
    let mp: MultiPolygon<f64> = match &geometry.value {
        Value::Polygon { .. } => MultiPolygon(vec![
            Polygon::try_from(geometry.clone()).map_err(|_| GeometryError::BadRing { ring: 1 })?,
        ]),
        _ => MultiPolygon::try_from(geometry.clone()).map_err(|_| GeometryError::BadRing { ring: 1 })?,
    };
    if mp.unsigned_area() <= 0.0 {
        return Err(GeometryError::NoArea);
    }
    Ok(mp)
}

/// Writes a boundary as GeoJSON, rounded to 1e-7° (about 1 cm), which keeps files small.
pub fn geometry_of(boundary: &MultiPolygon<f64>) -> Geometry {
    use geo::MapCoords;
    let rounded = boundary.map_coords(|c| geo::Coord {
        x: (c.x * 1e7).round() / 1e7,
        y: (c.y * 1e7).round() / 1e7,
    });
    if rounded.0.len() == 1 {
        Geometry::from(&rounded.0[0])
    } else {
        Geometry::from(&rounded)
    }
}

/// A grid as imported: code, name, households and boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct GridFeature {
    pub code: GridCode,
    pub name: String,
    pub households: i64,
    pub boundary: MultiPolygon<f64>,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum ImportProblem {
    #[error("the file is not GeoJSON: {0}")]
    NotGeoJson(String),
    #[error("the file must be a FeatureCollection")]
    NotACollection,
    #[error("the collection has no features")]
    Empty,
    #[error("property `{field}` is missing")]
    MissingProperty { field: &'static str },
    #[error("property `code`: {0}")]
    BadCode(CodeError),
    #[error("property `households` must be a whole number of zero or more")]
    BadHouseholds,
    #[error("property `name` must be a non-empty string")]
    BadName,
    #[error("geometry: {0}")]
    BadGeometry(GeometryError),
    #[error("grid {0} appears twice in the file")]
    DuplicateCode(String),
    #[error("community {0} of this grid is not in the territory tree")]
    UnknownCommunity(String),
}

/// An import error: which feature (0-based, as in the file) and why.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{}{problem}", .feature.map(|i| format!("feature {i}: ")).unwrap_or_default())]
pub struct ImportError {
    pub feature: Option<usize>,
    pub problem: ImportProblem,
}

impl Localized for ImportError {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidGeojson
    }

    fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        let what = match &self.problem {
            ImportProblem::NotGeoJson(e) => format!("文件不是有效的 GeoJSON：{e}"),
            ImportProblem::NotACollection => "文件必须是 FeatureCollection".into(),
            ImportProblem::Empty => "FeatureCollection 中没有要素".into(),
            ImportProblem::MissingProperty { field } => format!("缺少属性 `{field}`"),
            ImportProblem::BadCode(e) => format!("属性 `code`：{}", e.message(Lang::Zh)),
            ImportProblem::BadHouseholds => "属性 `households` 必须是不小于0的整数".into(),
            ImportProblem::BadName => "属性 `name` 必须是非空字符串".into(),
            ImportProblem::BadGeometry(g) => format!("geometry：{}", g.zh()),
            ImportProblem::DuplicateCode(c) => format!("网格 {c} 在文件中重复出现"),
            ImportProblem::UnknownCommunity(c) => format!("该网格所属社区 {c} 不在区划树中"),
        };
        match self.feature {
            Some(i) => format!("第{i}个要素（从0起计）：{what}"),
            None => what,
        }
    }
}

fn at(feature: usize) -> impl Fn(ImportProblem) -> ImportError {
    move |problem| ImportError {
        feature: Some(feature),
        problem,
    }
}

fn grid_from_feature(f: &Feature) -> Result<GridFeature, ImportProblem> {
    let props = f.properties.as_ref();
    let get = |field: &'static str| {
        props
            .and_then(|p| p.get(field))
            .ok_or(ImportProblem::MissingProperty { field })
    };
    let code = get("code")?
        .as_str()
        .ok_or(ImportProblem::BadCode(CodeError::NotDigits))?;
    let code = GridCode::parse(code).map_err(ImportProblem::BadCode)?;
    let name = get("name")?
        .as_str()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or(ImportProblem::BadName)?;
    let households = get("households")?
        .as_i64()
        .filter(|h| *h >= 0)
        .ok_or(ImportProblem::BadHouseholds)?;
    let boundary = multipolygon_from(f.geometry.as_ref()).map_err(ImportProblem::BadGeometry)?;
    Ok(GridFeature {
        code,
        name: name.to_string(),
        households,
        boundary,
    })
}

/// Reads a FeatureCollection of grids. Either every feature is valid, or the first bad one is
/// reported and nothing is returned.
pub fn parse_grids(text: &str) -> Result<Vec<GridFeature>, ImportError> {
    let whole = |problem| ImportError { feature: None, problem };
    let collection = match text
        .parse::<GeoJson>()
        .map_err(|e| whole(ImportProblem::NotGeoJson(e.to_string())))?
    {
        GeoJson::FeatureCollection(fc) => fc,
        _ => return Err(whole(ImportProblem::NotACollection)),
    };
    if collection.features.is_empty() {
        return Err(whole(ImportProblem::Empty));
    }
    let mut seen = HashSet::new();
    collection
        .features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let grid = grid_from_feature(f).map_err(at(i))?;
            if !seen.insert(grid.code.clone()) {
                return Err(at(i)(ImportProblem::DuplicateCode(grid.code.to_string())));
            }
            Ok(grid)
        })
        .collect()
}

/// A feature for output, with the given properties.
pub fn feature(boundary: &MultiPolygon<f64>, properties: Map<String, Json>) -> Feature {
    Feature {
        bbox: None,
        geometry: Some(geometry_of(boundary)),
        id: None,
        properties: Some(properties),
        foreign_members: None,
    }
}

pub fn collection(features: Vec<Feature>) -> FeatureCollection {
    FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: &str =
        r#"{"type":"Polygon","coordinates":[[[131.0,45.7],[131.01,45.7],[131.01,45.71],[131.0,45.71],[131.0,45.7]]]}"#;

    fn collection_of(features: &[String]) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))
    }

    fn grid(code: &str, name: &str, households: &str, geometry: &str) -> String {
        format!(
            r#"{{"type":"Feature","properties":{{"code":"{code}","name":"{name}","households":{households}}},"geometry":{geometry}}}"#
        )
    }

    #[test]
    fn a_good_collection_reads_every_grid() {
        let text = collection_of(&[
            grid("230903011001001", "学府社区第1网格", "280", SQUARE),
            grid("230903011001002", "学府社区第2网格", "300", SQUARE),
        ]);
        let grids = parse_grids(&text).unwrap();
        assert_eq!(grids.len(), 2);
        assert_eq!(grids[1].households, 300);
        assert!(grids[0].boundary.unsigned_area() > 0.0);
    }

    #[test]
    fn the_first_bad_feature_is_named_with_its_index_and_reason() {
        let bad_code = collection_of(&[
            grid("230903011001001", "a", "1", SQUARE),
            grid("230903011000001", "b", "1", SQUARE),
        ]);
        let e = parse_grids(&bad_code).unwrap_err();
        assert_eq!(e.feature, Some(1));
        assert_eq!(e.problem, ImportProblem::BadCode(CodeError::GridOutsideCommunity));
        assert!(e.message(Lang::Zh).starts_with("第1个要素"));

        let point = collection_of(&[grid(
            "230903011001001",
            "a",
            "1",
            r#"{"type":"Point","coordinates":[131.0,45.7]}"#,
        )]);
        let e = parse_grids(&point).unwrap_err();
        assert_eq!(
            e.problem,
            ImportProblem::BadGeometry(GeometryError::NotAPolygon("Point".into()))
        );

        let open_ring = collection_of(&[grid(
            "230903011001001",
            "a",
            "1",
            r#"{"type":"Polygon","coordinates":[[[131.0,45.7],[131.01,45.7],[131.01,45.71],[131.0,45.72]]]}"#,
        )]);
        assert_eq!(
            parse_grids(&open_ring).unwrap_err().problem,
            ImportProblem::BadGeometry(GeometryError::BadRing { ring: 1 })
        );

        let neg = collection_of(&[grid("230903011001001", "a", "-3", SQUARE)]);
        assert_eq!(parse_grids(&neg).unwrap_err().problem, ImportProblem::BadHouseholds);

        let twice = collection_of(&[
            grid("230903011001001", "a", "1", SQUARE),
            grid("230903011001001", "a", "1", SQUARE),
        ]);
        assert_eq!(parse_grids(&twice).unwrap_err().feature, Some(1));

        assert!(matches!(
            parse_grids("not json").unwrap_err().problem,
            ImportProblem::NotGeoJson(_)
        ));
        assert_eq!(
            parse_grids(r#"{"type":"FeatureCollection","features":[]}"#)
                .unwrap_err()
                .problem,
            ImportProblem::Empty
        );
    }

    #[test]
    fn boundaries_round_trip_through_geojson() {
        let text = collection_of(&[grid("230903011001001", "a", "1", SQUARE)]);
        let g = &parse_grids(&text).unwrap()[0];
        let back = multipolygon_from(Some(&geometry_of(&g.boundary))).unwrap();
        assert_eq!(back, g.boundary);
    }
}

/// The features of a FeatureCollection as the rows of an import sheet: first a header of the
/// property names (in order of first use) with `lon` and `lat`, then one row per feature, in
/// order, with its properties and the position of its geometry (a Point's own, a Polygon's or
/// MultiPolygon's centroid). A geometry of another kind, or none, leaves its type name (or an
/// empty cell) for the sheet's checks to refuse with the row. `Err` when the text is not a
/// FeatureCollection: (zh, en).
pub fn sheet_of_features(text: &str) -> Result<Vec<Vec<String>>, (String, String)> {
    use geo::Centroid;
    let collection = match text.parse::<GeoJson>() {
        Ok(GeoJson::FeatureCollection(c)) => c,
        Ok(_) => {
            return Err((
                "GeoJSON 须为 FeatureCollection".into(),
                "the GeoJSON must be a FeatureCollection".into(),
            ));
        }
        Err(e) => return Err((format!("不是有效的 GeoJSON：{e}"), format!("not valid GeoJSON: {e}"))),
    };
    let mut header: Vec<String> = Vec::new();
    for f in &collection.features {
        for k in f.properties.iter().flat_map(|p| p.keys()) {
            if !header.contains(k) && k != "lon" && k != "lat" && k != "outline" {
                header.push(k.clone());
            }
        }
    }
    let mut rows = Vec::with_capacity(collection.features.len() + 1);
    let mut first = header.clone();
    first.extend(["lon".to_string(), "lat".to_string(), "outline".to_string()]);
    rows.push(first);
    for f in &collection.features {
        let mut row: Vec<String> = header
            .iter()
            .map(|k| match f.properties.as_ref().and_then(|p| p.get(k)) {
                None | Some(Json::Null) => String::new(),
                Some(Json::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            })
            .collect();
        let position = match f.geometry.as_ref().map(|g| &g.value) {
            None => None,
            Some(Value::Point { coordinates }) if coordinates.as_slice().len() >= 2 => {
                Some((coordinates.as_slice()[0], coordinates.as_slice()[1]))
            }
            Some(Value::Polygon { .. } | Value::MultiPolygon { .. }) => {
                let outline = multipolygon_from(f.geometry.as_ref()).ok();
                match outline.as_ref().and_then(|m| m.centroid()) {
                    Some(c) => {
                        // The outline is kept beside its centroid, as checked GeoJSON text.
                        let text = geometry_of(outline.as_ref().expect("read above")).to_string();
                        row.extend([format!("{:.7}", c.x()), format!("{:.7}", c.y()), text]);
                        rows.push(row);
                        continue;
                    }
                    None => {
                        row.extend(["Polygon".to_string(), String::new(), String::new()]);
                        rows.push(row);
                        continue;
                    }
                }
            }
            Some(other) => {
                row.extend([other.type_name().to_string(), String::new(), String::new()]);
                rows.push(row);
                continue;
            }
        };
        match position {
            Some((lon, lat)) => row.extend([format!("{lon:.7}"), format!("{lat:.7}"), String::new()]),
            None => row.extend([String::new(), String::new(), String::new()]),
        }
        rows.push(row);
    }
    Ok(rows)
}

/// A feature for an export with its outline (GeoJSON geometry text as stored), or `None` when
/// the text does not read as a Polygon or MultiPolygon.
pub fn outline_feature(outline: &str, properties: Map<String, Json>) -> Option<Feature> {
    let geometry: Geometry = outline.parse::<Geometry>().ok()?;
    multipolygon_from(Some(&geometry)).ok()?;
    Some(Feature {
        bbox: None,
        geometry: Some(geometry),
        id: None,
        properties: Some(properties),
        foreign_members: None,
    })
}

/// A Point feature for an export: the position and the properties.
pub fn point_feature(lon: f64, lat: f64, properties: Map<String, Json>) -> Feature {
    Feature {
        bbox: None,
        geometry: Some(Geometry::new(Value::Point {
            coordinates: (lon, lat).into(),
        })),
        id: None,
        properties: Some(properties),
        foreign_members: None,
    }
}

#[cfg(test)]
mod sheet_tests {
    use super::*;

    #[test]
    fn features_read_as_a_sheet_with_their_positions() {
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"building":"1号楼","floors":6},"geometry":{"type":"Point","coordinates":[131.5,45.25]}},
            {"type":"Feature","properties":{"building":"2号楼","grid_code":"230903011001001"},"geometry":{"type":"Polygon","coordinates":[[[131,45],[131.2,45],[131.2,45.2],[131,45.2],[131,45]]]}},
            {"type":"Feature","properties":{"building":"线"},"geometry":{"type":"LineString","coordinates":[[131,45],[132,46]]}},
            {"type":"Feature","properties":{"building":"无"},"geometry":null}]}"#;
        let rows = sheet_of_features(text).unwrap();
        assert_eq!(rows[0], ["building", "floors", "grid_code", "lon", "lat", "outline"]);
        assert_eq!(rows[1], ["1号楼", "6", "", "131.5000000", "45.2500000", ""]);
        assert_eq!(
            rows[2][..5],
            ["2号楼", "", "230903011001001", "131.1000000", "45.1000000"]
        );
        // A polygon keeps its outline beside its centroid, and it reads back as the same shape.
        let outline: Geometry = rows[2][5].parse().unwrap();
        let square = multipolygon_from(Some(&outline)).unwrap();
        assert!((square.unsigned_area() - 0.04).abs() < 1e-9, "{}", rows[2][5]);
        assert_eq!(rows[3][3], "LineString");
        assert_eq!(rows[4][3..], ["", "", ""]);
        assert!(sheet_of_features(r#"{"type":"Point","coordinates":[1,2]}"#).is_err());
    }
}
