//! The territory API as an integrator uses it, on SQLite and PostgreSQL.

use axum::http::StatusCode;
use geo::InteriorPoint;
use gongzhi_core::territory::datum::{gcj02_to_bd09, wgs84_to_gcj02};
use gongzhi_core::territory::{Level, Node};

use crate::common;
use crate::common::{demo_apps, demo_nodes, get};

fn a_grid() -> &'static Node {
    demo_nodes()
        .iter()
        .find(|n| n.level() == Level::Grid && n.code.as_str().starts_with("230903"))
        .unwrap()
}

#[tokio::test]
async fn the_summary_reports_the_seed_figures() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let r = get(&app, "/api/v1/territory/summary").await;
        assert_eq!(r.status, StatusCode::OK);
        let s = r.json();
        assert_eq!(s["districts"], 4, "{}", db.backend_name());
        assert_eq!(s["streets"], 44);
        assert_eq!(s["communities"], 63);
        assert_eq!(s["grids"], 810);
        assert_eq!(s["households"], 228_200);
        assert_eq!(s["by_kind"]["county"], 1);
    }
}

#[tokio::test]
async fn a_point_resolves_to_its_grid_community_street_and_district_in_every_datum() {
    let grid = a_grid();
    let p = grid.boundary.as_ref().unwrap().interior_point().unwrap();
    let (glon, glat) = wgs84_to_gcj02(p.x(), p.y());
    let (blon, blat) = gcj02_to_bd09(glon, glat);
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        for uri in [
            format!("/api/v1/territory/locate?lon={}&lat={}", p.x(), p.y()),
            format!("/api/v1/territory/locate?lon={}&lat={}&datum=cgcs2000", p.x(), p.y()),
            format!("/api/v1/territory/locate?lon={glon}&lat={glat}&datum=gcj02"),
            format!("/api/v1/territory/locate?lon={blon}&lat={blat}&datum=bd09"),
        ] {
            let r = get(&app, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
            let j = r.json();
            assert_eq!(j["grid"]["code"], grid.code.as_str(), "{} {uri}", db.backend_name());
            assert_eq!(j["community"]["code"], &grid.code.as_str()[..12]);
            assert_eq!(j["street"]["code"], format!("{}000", &grid.code.as_str()[..9]));
            assert_eq!(j["district"]["code"], "230903000000");
            assert_eq!(j["district"]["name"], "桃山区");
        }
    }
}

#[tokio::test]
async fn bad_coordinates_are_refused_naming_the_field() {
    for (_db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let cases = [
            (
                "/api/v1/territory/locate?lon=131&lat=91",
                StatusCode::BAD_REQUEST,
                "lat",
                "coordinate_out_of_range",
            ),
            (
                "/api/v1/territory/locate?lon=181&lat=45",
                StatusCode::BAD_REQUEST,
                "lon",
                "coordinate_out_of_range",
            ),
            (
                "/api/v1/territory/locate?lon=abc&lat=45",
                StatusCode::BAD_REQUEST,
                "lon",
                "not_a_number",
            ),
            (
                "/api/v1/territory/locate?lat=45",
                StatusCode::BAD_REQUEST,
                "lon",
                "missing_parameter",
            ),
            (
                "/api/v1/territory/locate?lon=131&lat=45.7&datum=utm",
                StatusCode::BAD_REQUEST,
                "datum",
                "invalid_datum",
            ),
            (
                "/api/v1/territory/locate?lon=116.39&lat=39.9",
                StatusCode::NOT_FOUND,
                "lon",
                "outside_grids",
            ),
        ];
        for (uri, status, field, code) in cases {
            let r = get(&app, uri).await;
            assert_eq!(r.status, status, "{uri}");
            let e = &r.json()["error"];
            assert_eq!(e["field"], field, "{uri}");
            assert_eq!(e["code"], code, "{uri}");
            assert!(
                e["message"].as_str().unwrap().contains(field) || code == "outside_grids",
                "{uri}: {e}"
            );
        }
        // Chinese by default, English when the client asks for it.
        let zh = get(&app, "/api/v1/territory/locate?lon=131&lat=91").await.json();
        assert!(zh["error"]["message"].as_str().unwrap().contains("超出范围"));
        let en = get(&app, "/api/v1/territory/locate?lon=131&lat=91&lang=en")
            .await
            .json();
        assert!(en["error"]["message"].as_str().unwrap().contains("between"));
    }
}

#[tokio::test]
async fn a_node_comes_with_its_totals_and_children() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let r = get(&app, "/api/v1/territory/nodes/230903000000").await;
        assert_eq!(r.status, StatusCode::OK);
        let j = r.json();
        assert_eq!(j["name"], "桃山区");
        assert_eq!(j["kind"], "district");
        assert!(j["boundary"]["type"].as_str().unwrap().ends_with("Polygon"));
        let children = j["children"].as_array().unwrap();
        assert_eq!(children.len(), 7, "{}", db.backend_name());
        let sum: i64 = children.iter().map(|c| c["grids"].as_i64().unwrap()).sum();
        assert_eq!(sum, j["grids"].as_i64().unwrap());
        let households: i64 = children.iter().map(|c| c["households"].as_i64().unwrap()).sum();
        assert_eq!(households, j["households"].as_i64().unwrap());

        let grid = a_grid();
        let g = get(&app, &format!("/api/v1/territory/nodes/{}", grid.code))
            .await
            .json();
        assert_eq!(g["level"], "grid");
        assert_eq!(g["households"], grid.households.unwrap());
        assert_eq!(g["parent_code"], &grid.code.as_str()[..12]);

        let city = get(&app, "/api/v1/territory/nodes/230900000000").await.json();
        assert_eq!(city["households"], 228_200);
    }
}

#[tokio::test]
async fn unknown_and_malformed_codes_get_404_and_400() {
    for (_db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let r = get(&app, "/api/v1/territory/nodes/230903099000").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.json()["error"]["code"], "unknown_node");
        let r = get(&app, "/api/v1/territory/nodes/23090300").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json()["error"]["field"], "code");
        let r = get(&app, "/api/v1/territory/grids.geojson?within=12x").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json()["error"]["field"], "within");
        let r = get(&app, "/api/v1/territory/grids.geojson?within=230999000000").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = get(&app, "/api/v1/no-such-thing").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.json()["error"]["code"], "not_found");
    }
}

#[tokio::test]
async fn grids_come_out_as_geojson_for_any_subtree() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let all = get(&app, "/api/v1/territory/grids.geojson").await;
        assert_eq!(all.headers["content-type"], "application/geo+json");
        let fc: geojson::FeatureCollection = all.body.parse().unwrap();
        assert_eq!(fc.features.len(), 810, "{}", db.backend_name());
        let within: geojson::FeatureCollection = get(&app, "/api/v1/territory/grids.geojson?within=230921000000")
            .await
            .body
            .parse()
            .unwrap();
        let expected = demo_nodes()
            .iter()
            .filter(|n| n.level() == Level::Grid && n.code.as_str().starts_with("230921"))
            .count();
        assert_eq!(within.features.len(), expected);
        let f = &within.features[0];
        assert!(f.property("code").unwrap().as_str().unwrap().starts_with("230921"));
        assert!(f.property("households").unwrap().as_i64().unwrap() > 0);
        // What we give out, we take back: the export is a valid grid import.
        assert_eq!(
            gongzhi_core::territory::geojson::parse_grids(&within.to_string())
                .unwrap()
                .len(),
            expected
        );
    }
}

#[tokio::test]
async fn the_index_follows_grid_changes_made_by_an_import() {
    for (db, state) in demo_apps().await {
        let grid = a_grid();
        let mut moved = gongzhi_core::territory::geojson::parse_grids(
            &get(
                &gongzhi_web::router(state.clone()),
                &format!("/api/v1/territory/grids.geojson?within={}", grid.code),
            )
            .await
            .body,
        )
        .unwrap();
        // Redraw the grid as a small square far from the city.
        moved[0].boundary = geo::MultiPolygon(vec![
            geo::Rect::new(geo::coord! {x: 131.5, y: 46.1}, geo::coord! {x: 131.51, y: 46.11}).to_polygon(),
        ]);
        db.import_grids(
            &moved,
            "2026-11-27".parse().unwrap(),
            &gongzhi_store::testing::audit_key(),
            "admin",
        )
        .await
        .unwrap();
        let app = gongzhi_web::router(state.clone());
        let before = get(&app, "/api/v1/territory/locate?lon=131.505&lat=46.105").await;
        assert_eq!(
            before.status,
            StatusCode::NOT_FOUND,
            "the old index is still in use until refreshed"
        );
        assert!(state.refresh_index().await.unwrap(), "{}", db.backend_name());
        let after = get(&app, "/api/v1/territory/locate?lon=131.505&lat=46.105").await;
        assert_eq!(after.json()["grid"]["code"], grid.code.as_str());
        assert!(!state.refresh_index().await.unwrap(), "nothing changed since");
    }
}

#[tokio::test]
async fn an_administrator_imports_grids_through_the_api_and_locating_follows_at_once() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state.clone());
        let grid = a_grid();
        let mut moved = gongzhi_core::territory::geojson::parse_grids(
            &get(&app, &format!("/api/v1/territory/grids.geojson?within={}", grid.code))
                .await
                .body,
        )
        .unwrap();
        moved[0].boundary = geo::MultiPolygon(vec![
            geo::Rect::new(geo::coord! {x: 131.5, y: 46.1}, geo::coord! {x: 131.51, y: 46.11}).to_polygon(),
        ]);
        let features: Vec<geojson::Feature> = moved
            .iter()
            .map(|g| {
                let mut props = serde_json::Map::new();
                props.insert("code".into(), serde_json::json!(g.code.as_str()));
                props.insert("name".into(), serde_json::json!(g.name));
                props.insert("households".into(), serde_json::json!(g.households));
                geojson::Feature {
                    geometry: Some(gongzhi_core::territory::geojson::geometry_of(&g.boundary)),
                    properties: Some(props),
                    ..Default::default()
                }
            })
            .collect();
        let file = geojson::GeoJson::from(gongzhi_core::territory::geojson::collection(features)).to_string();
        let post = |token: String, body: String, query: &'static str| {
            let app = app.clone();
            async move {
                let request = axum::http::Request::post(format!("/api/v1/territory/grids{query}"))
                    .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(axum::http::header::CONTENT_TYPE, "application/geo+json")
                    .body(axum::body::Body::from(body))
                    .unwrap();
                common::send(&app, request).await
            }
        };
        let clerk = common::token(&app, &db, "clerk").await;
        let admin = common::token(&app, &db, "admin").await;
        let r = post(clerk, file.clone(), "").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        let r = post(
            admin.clone(),
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"x"},"geometry":null}]}"#
                .into(),
            "",
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        let r = post(admin.clone(), file.clone(), "?valid_from=someday").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert_eq!(r.json()["error"]["field"], "valid_from");
        let before = get(&app, "/api/v1/territory/locate?lon=131.505&lat=46.105").await;
        assert_eq!(before.status, StatusCode::NOT_FOUND, "{name}");

        let r = post(admin, file, "?valid_from=2026-11-27").await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        assert_eq!(r.json()["changed"], 1, "{name}: {}", r.body);
        // No restart, no wait: the index was rebuilt by the import.
        let after = get(&app, "/api/v1/territory/locate?lon=131.505&lat=46.105").await;
        assert_eq!(after.json()["grid"]["code"], grid.code.as_str(), "{name}");
    }
}
