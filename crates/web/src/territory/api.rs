//! JSON endpoints of the territory.

use crate::json::Query;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use gongzhi_core::territory::geojson::{collection, feature};
use gongzhi_core::territory::{Datum, Level, LonLat, Node};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::parse_code;
use crate::{ApiError, AppState, ReqLang};

/// `GET /api/v1/territory/summary`: counts of the tree, by level and by kind.
pub async fn summary(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let s = gongzhi_app::territory::summary(&state).await?;
    let communities_total = s.count_level(Level::Community);
    Ok(Json(json!({
        "districts": s.count_level(Level::District),
        "streets": s.count_level(Level::Street),
        "communities": s.gridded_communities,
        "grids": s.count_level(Level::Grid),
        "households": s.households,
        "communities_outside_grid_system": communities_total - s.gridded_communities,
        "by_kind": s.by_kind,
    })))
}

#[derive(Deserialize)]
pub struct LocateParams {
    lon: Option<String>,
    lat: Option<String>,
    datum: Option<String>,
}

fn number(field: &'static str, value: Option<&String>) -> Result<f64, ApiError> {
    let value = value.ok_or_else(|| AppError::missing(field))?;
    value
        .trim()
        .parse::<f64>()
        .map_err(|_| AppError::not_a_number(field, value))
}

/// `GET /api/v1/territory/locate?lon=&lat=&datum=`: the grid, community, street and district
/// of a point. `datum` is wgs84 (default), cgcs2000, gcj02 or bd09.
pub async fn locate(State(state): State<AppState>, Query(p): Query<LocateParams>) -> Result<Json<Value>, ApiError> {
    let lon = number("lon", p.lon.as_ref())?;
    let lat = number("lat", p.lat.as_ref())?;
    let datum: Datum = match p.datum.as_deref() {
        None | Some("") => Datum::Wgs84,
        Some(d) => d.parse().map_err(AppError::bad_coordinate)?,
    };
    let point = LonLat::from_datum(lon, lat, datum).map_err(AppError::bad_coordinate)?;
    let index = state.index();
    let found = index.grids.locate(point).ok_or_else(|| {
        AppError::new(
            ErrorCode::OutsideGrids,
            Some("lon"),
            format!("坐标 ({lon}, {lat}) 不在任何网格内"),
            format!("the point ({lon}, {lat}) is in no grid"),
        )
    })?;
    Ok(Json(json!({
        "datum": datum,
        "wgs84": {"lon": point.lon, "lat": point.lat},
        "grid": {"code": found.grid.code, "name": found.grid.name, "households": found.households},
        "community": found.community,
        "street": found.street,
        "district": found.district,
    })))
}

fn node_json(n: &Node, lang: gongzhi_core::Lang) -> Value {
    json!({
        "code": n.code,
        "name": n.name,
        "level": n.level(),
        "kind": n.kind,
        "kind_label": n.kind.label(lang),
        "parent_code": n.parent_code(),
        "valid_from": n.valid_from,
        "valid_to": n.valid_to,
    })
}

/// `GET /api/v1/territory/nodes/{code}`: a node, its totals and its children.
pub async fn node(
    State(state): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let code = parse_code("code", &code)?;
    let gongzhi_app::territory::NodeDetail { node, children, totals } =
        gongzhi_app::territory::node_detail(&state, &code).await?;
    let mut body = node_json(&node, lang);
    body["grids"] = json!(totals.grids);
    body["households"] = json!(totals.households);
    if let Some(b) = &node.boundary {
        body["boundary"] = json!(gongzhi_core::territory::geojson::geometry_of(b));
    }
    body["children"] = children
        .iter()
        .map(|c| {
            let (grids, households) = totals.of_child(&c.code);
            let mut j = node_json(c, lang);
            j["grids"] = json!(grids);
            j["households"] = json!(households);
            j
        })
        .collect();
    Ok(Json(body))
}

#[derive(Deserialize)]
pub struct WithinParams {
    within: Option<String>,
}

/// `GET /api/v1/territory/grids.geojson?within={code}`: the current grids of a subtree (all
/// grids without `within`) as a GeoJSON FeatureCollection.
pub async fn grids_geojson(
    State(state): State<AppState>,
    Query(p): Query<WithinParams>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    let within = match p.within.as_deref().filter(|w| !w.is_empty()) {
        Some(w) => Some(parse_code("within", w)?),
        None => None,
    };
    // Named by the territory's revision and the day (a version may start today): a client that
    // holds them gets 304 without the grids being read. Boundaries hold no personal data: any
    // cache may keep them.
    let revision = gongzhi_app::territory::revision(&state).await?;
    let v = crate::conditional::Validators {
        etag: crate::conditional::Tag::new("grids.geojson")
            .part(revision.to_le_bytes())
            .part(state.today().to_string())
            .part(within.as_ref().map(|w| w.to_string()).unwrap_or_default())
            .finish(),
        last_modified: None,
        dated: false,
        audience: crate::conditional::Audience::Stored,
    };
    if crate::conditional::is_current(&headers, &v) {
        return Ok(crate::conditional::not_modified(&v));
    }
    let grids = gongzhi_app::territory::grids(&state, within.as_ref()).await?;
    let features = grids
        .iter()
        .filter_map(|g| {
            let mut props = Map::new();
            props.insert("code".into(), json!(g.code));
            props.insert("name".into(), json!(g.name));
            props.insert("households".into(), json!(g.households));
            props.insert("community_code".into(), json!(g.parent_code()));
            props.insert("valid_from".into(), json!(g.valid_from));
            Some(feature(g.boundary.as_ref()?, props))
        })
        .collect();
    let body = collection(features).to_string();
    Ok(crate::conditional::answer(&headers, &v, || {
        geojson_response(body).into_response()
    }))
}

fn geojson_response(body: String) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/geo+json")], body)
}

#[derive(Deserialize)]
pub struct GridImportParams {
    valid_from: Option<String>,
}

/// `POST /api/v1/territory/grids[?valid_from=YYYY-MM-DD]` with a GeoJSON FeatureCollection of grids
/// (see [`gongzhi_app::territory::import_grids`]).
pub async fn import_grids(
    State(state): State<AppState>,
    crate::people::Authenticated(actor): crate::people::Authenticated,
    Query(p): Query<GridImportParams>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // A system administrator's: checked before the request's values.
    gongzhi_app::territory::grid_importer_scopes(&actor)?;
    let valid_from = super::import::valid_from(p.valid_from.as_deref())?;
    let done = gongzhi_app::territory::import_grids(&state, &actor, &body, valid_from).await?;
    Ok((StatusCode::CREATED, Json(json!(done))))
}
