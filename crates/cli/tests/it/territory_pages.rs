//! The territory pages as a person in a browser gets them.

use axum::http::StatusCode;
use gongzhi_core::territory::Level;

use crate::common;
use crate::common::{browse, demo_apps, demo_nodes, page, sign_in};

#[tokio::test]
async fn the_city_page_shows_the_tree_and_every_grid_in_chinese() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let me = sign_in(&app, &db.db, "leader").await;
        let home = page(&app, &me, "/").await;
        assert_eq!(home.status, StatusCode::SEE_OTHER);
        let r = browse(&app, "/territory").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "signed out: to the sign-in form");
        let r = page(&app, &me, "/territory").await;
        assert_eq!(r.status, StatusCode::OK, "{}", db.backend_name());
        assert!(
            r.body.contains("<html lang=\"zh-CN\">"),
            "Chinese even for an English browser"
        );
        assert!(r.body.contains("<h1>七台河市</h1>"));
        for name in ["新兴区", "桃山区", "茄子河区", "勃利县", "网格化社区", "228,200"] {
            assert!(r.body.contains(name), "{name}");
        }
        assert_eq!(r.body.matches("class=\"grid\"").count(), 810);
        assert!(r.body.contains("href=\"/territory/230903000000\""));
    }
}

#[tokio::test]
async fn a_grid_page_is_reached_from_its_community_and_shows_its_households() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let me = sign_in(&app, &db.db, "leader").await;
        let grid = demo_nodes().iter().find(|n| n.level() == Level::Grid).unwrap();
        let community = grid.parent_code().unwrap();
        let community_page = page(&app, &me, &format!("/territory/{community}")).await;
        assert!(
            community_page
                .body
                .contains(&format!("href=\"/territory/{}\"", grid.code))
        );
        let r = page(&app, &me, &format!("/territory/{}", grid.code)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains(&format!("<h1>{}</h1>", grid.name)));
        assert!(
            r.body
                .contains(&format!("id=\"household-count\">{}</b>", grid.households.unwrap()))
        );
        // The breadcrumb walks up to the city.
        assert!(r.body.contains("href=\"/territory/230900000000\""));
    }
}

#[tokio::test]
async fn english_is_one_click_away_and_remembered() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let me = sign_in(&app, &db.db, "leader").await;
        let r = page(&app, &me, "/territory?lang=en").await;
        assert!(r.body.contains("<html lang=\"en\">"));
        assert!(r.body.contains("Gridded communities"));
        let cookie = r.headers["set-cookie"].to_str().unwrap();
        assert!(cookie.starts_with("lang=en"), "{cookie}");
        let request = axum::http::Request::get("/territory/230903000000")
            .header("accept", "text/html")
            .header("cookie", format!("lang=en; {}", me.cookie))
            .body(axum::body::Body::empty())
            .unwrap();
        let again = common::send(&app, request).await;
        assert!(again.body.contains("Households"));
    }
}

#[tokio::test]
async fn a_missing_page_is_a_page_not_json() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let me = sign_in(&app, &db.db, "leader").await;
        let r = page(&app, &me, "/territory/230903099000").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(r.body.contains("不存在"));
        let r = page(&app, &me, "/territory/1").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("12位"));
    }
}

/// A point inside a grid, for reports placed by coordinates.
fn inside(grid: &gongzhi_core::territory::Node) -> (f64, f64) {
    use geo::InteriorPoint;
    let p = grid.boundary.as_ref().unwrap().interior_point().unwrap();
    (p.x(), p.y())
}

#[tokio::test]
async fn maps_show_open_cases_in_scope_as_dots_and_grids_by_density() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let clerk = common::token(&app, &db, "clerk").await;
        let mine = demo_nodes()
            .iter()
            .find(|n| n.code.as_str() == "230903011001001")
            .unwrap();
        let elsewhere = demo_nodes()
            .iter()
            .find(|n| n.level() == Level::Grid && n.code.as_str().starts_with("230903012"))
            .unwrap();
        for (grid, what) in [
            (mine, "学府小区门前路灯不亮"),
            (mine, "井盖缺失"),
            (elsewhere, "别处的案件"),
        ] {
            let (lon, lat) = inside(grid);
            let body = serde_json::json!({"channel": "hotline", "matter": "06001", "description": what, "lon": lon, "lat": lat});
            let r = common::post_as(&app, "/api/v1/cases", &clerk, &body).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
        let leader = sign_in(&app, &db.db, "leader").await;
        let city = page(&app, &leader, "/territory").await;
        assert_eq!(
            city.body.matches("class=\"case\"").count(),
            3,
            "every open case is a dot"
        );
        assert!(city.body.contains("id=\"open-count\">3</b>"));
        assert!(city.body.contains("id=\"tree\""), "the city page has the division tree");
        assert!(
            city.body
                .contains("<summary><a href=\"/territory/230903011000\">桃东街道</a>")
        );
        let dense = page(&app, &leader, "/territory/230903000000?colour=density").await;
        assert!(dense.body.contains("id=\"legend\""));
        // On a scale of five classes up to 5 (the least top), one case is class 1, two are class 2.
        assert!(dense.body.contains("fill=\"#f8b88b\""), "the grid with two cases");
        assert!(dense.body.contains("fill=\"#fde0c5\""), "the grid with one case");

        // The community worker sees the two cases of 学府社区, not the third.
        let worker = sign_in(&app, &db.db, "community").await;
        let city = page(&app, &worker, "/territory").await;
        assert_eq!(city.body.matches("class=\"case\"").count(), 2);
        assert!(!city.body.contains("别处的案件"));

        // The grid's page names its people and lists its open cases.
        let grid = page(&app, &worker, "/territory/230903011001001").await;
        assert!(grid.body.contains("id=\"grid-staff\""));
        assert!(grid.body.contains("学府社区第1网格网格员"), "{}", grid.body);
        assert!(grid.body.contains("学府社区工作者"));
        assert!(
            !grid.body.contains("市领导"),
            "city-wide roles are not the grid's staff"
        );
        assert_eq!(grid.body.matches("href=\"/cases/").count(), 2 + 2, "two rows, two dots");
        let other = page(&app, &worker, &format!("/territory/{}", elsewhere.code)).await;
        assert_eq!(other.status, StatusCode::OK, "the structure is open to staff");
        assert!(
            !other.body.contains("href=\"/cases/"),
            "but not the cases outside one's scope"
        );
    }
}

#[tokio::test]
async fn a_system_administrator_uploads_grids_on_a_page() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state);
        let admin = sign_in(&app, &db, "admin").await;
        let city = page(&app, &admin, "/territory").await;
        assert!(
            city.body.contains("/territory/import"),
            "{name}: no link for the administrator"
        );
        let form = page(&app, &admin, "/territory/import").await;
        assert_eq!(form.status, StatusCode::OK, "{name}: {}", form.body);
        let clerk = sign_in(&app, &db, "clerk").await;
        assert_eq!(
            page(&app, &clerk, "/territory/import").await.status,
            StatusCode::FORBIDDEN
        );
        assert!(
            !page(&app, &clerk, "/territory")
                .await
                .body
                .contains("/territory/import")
        );

        // The current grids of one community, downloaded and uploaded again: nothing changes.
        let grid = demo_nodes().iter().find(|n| n.level() == Level::Grid).unwrap();
        let community = &grid.code.as_str()[..12];
        let file = common::get(&app, &format!("/api/v1/territory/grids.geojson?within={community}")).await;
        let r = common::upload_form(
            &app,
            &admin,
            "/territory/import",
            &[("valid_from", "")],
            "grids.geojson",
            &file.bytes,
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let done = page(&app, &admin, r.headers["location"].to_str().unwrap()).await;
        assert!(
            done.body.contains("已导入") && done.body.contains("未变"),
            "{name}: {}",
            done.body
        );

        // A bad feature: the page says which, and nothing is imported.
        let bad = br#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"230903011001001","name":"x","households":1},"geometry":{"type":"Point","coordinates":[131,45]}}]}"#;
        let r = common::upload_form(
            &app,
            &admin,
            "/territory/import",
            &[("valid_from", "2026-11-27")],
            "bad.geojson",
            bad,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert!(r.body.contains("id=\"error\""), "{name}: {}", r.body);
        let r = common::upload_form(
            &app,
            &admin,
            "/territory/import",
            &[("valid_from", "昨天")],
            "grids.geojson",
            &file.bytes,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(r.body.contains("data-field=\"valid_from\""), "{name}: {}", r.body);
    }
}

/// The pages keep what they read of the territory until it changes: a grid renamed by an import
/// shows under its new name on its community's page at once, on the same server.
#[tokio::test]
async fn a_grid_renamed_by_an_import_shows_at_once_on_its_communitys_page() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state);
        let admin = sign_in(&app, &db, "admin").await;
        let grid = demo_nodes().iter().find(|n| n.level() == Level::Grid).unwrap();
        let community = &grid.code.as_str()[..12];
        let before = page(&app, &admin, &format!("/territory/{community}")).await;
        assert!(before.body.contains(&grid.name), "{name}: {}", grid.name);
        // Read twice: the second answer comes from what the first read kept.
        assert_eq!(
            page(&app, &admin, &format!("/territory/{community}")).await.body,
            before.body
        );

        let file = common::get(&app, &format!("/api/v1/territory/grids.geojson?within={community}")).await;
        let mut grids: serde_json::Value = serde_json::from_slice(&file.bytes).unwrap();
        let feature = grids["features"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|f| f["properties"]["code"] == grid.code.as_str())
            .unwrap();
        feature["properties"]["name"] = "改名后的网格".into();
        let r = common::upload_form(
            &app,
            &admin,
            "/territory/import",
            &[("valid_from", "")],
            "grids.geojson",
            &serde_json::to_vec(&grids).unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let after = page(&app, &admin, &format!("/territory/{community}")).await;
        assert!(
            after.body.contains("改名后的网格"),
            "{name}: the page kept the old territory"
        );
        let grid_page = page(&app, &admin, &format!("/territory/{}", grid.code)).await;
        assert!(grid_page.body.contains("改名后的网格"), "{name}");
    }
}

/// The corners of each grid a page draws, in pixels (its `d`: `M x y l dx dy …z` per ring).
fn grid_rings(html: &str) -> Vec<Vec<Vec<(f64, f64)>>> {
    html.split("<path class=\"grid\" d=\"")
        .skip(1)
        .map(|rest| {
            let d = &rest[..rest.find('"').unwrap()];
            let mut rings = vec![];
            for ring in d.split('z').filter(|r| !r.is_empty()) {
                let (start, moves) = ring.trim_start_matches('M').split_once('l').unwrap();
                let numbers = |t: &str| -> Vec<f64> {
                    let spaced = t.replace('-', " -");
                    spaced.split_whitespace().map(|n| n.parse::<f64>().unwrap()).collect()
                };
                let s = numbers(start);
                let mut at = (s[0], s[1]);
                let mut corners = vec![at];
                for step in numbers(moves).chunks(2) {
                    at = (at.0 + step[0], at.1 + step[1]);
                    corners.push(at);
                }
                rings.push(corners);
            }
            rings
        })
        .collect()
}

fn area(ring: &[(f64, f64)]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|i| ring[i].0 * ring[(i + 1) % n].1 - ring[(i + 1) % n].0 * ring[i].1)
        .sum::<f64>()
        .abs()
        / 2.0
}

#[tokio::test]
async fn the_city_page_of_a_busy_city_stays_under_100_kb_draws_every_grid_and_revalidates() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state);
        // More open cases than a map draws, each in another grid.
        let clerk = common::token(&app, &db, "clerk").await;
        let grids: Vec<&gongzhi_core::territory::Node> =
            demo_nodes().iter().filter(|n| n.level() == Level::Grid).collect();
        for i in 0..260 {
            let (lon, lat) = inside(grids[i * 3 % grids.len()]);
            let body = serde_json::json!({"channel": "hotline", "matter": "06001", "description": format!("占道经营第{i}处"), "lon": lon, "lat": lat});
            let r = common::post_as(&app, "/api/v1/cases", &clerk, &body).await;
            assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        }
        let leader = sign_in(&app, &db.db, "leader").await;
        let r = page(&app, &leader, "/territory").await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        assert!(
            r.bytes.len() < 100_000,
            "{name}: the city page is {} bytes",
            r.bytes.len()
        );
        assert!(
            r.body.contains("id=\"open-count\">260</b>"),
            "{name}: every open case counted"
        );
        assert_eq!(
            r.body.matches("class=\"case\"").count(),
            150,
            "{name}: the newest 150 drawn"
        );

        // Every grid is drawn, simplified but with its area: none vanished.
        let drawn = grid_rings(&r.body);
        assert_eq!(drawn.len(), 810, "{name}");
        for (i, rings) in drawn.iter().enumerate() {
            assert!(rings[0].len() >= 3, "{name}: grid {i} has {} corners", rings[0].len());
            assert!(area(&rings[0]) > 1.0, "{name}: grid {i} covers {} px²", area(&rings[0]));
        }
        // At the city's zoom a grid links to its district, whose page draws each grid linked.
        assert!(
            r.body.contains("<a href=\"/territory/230903000000\"><title>桃山区"),
            "{name}"
        );
        let district = page(&app, &leader, "/territory/230903000000").await;
        assert!(district.body.contains("href=\"/territory/230903011001001\""), "{name}");

        // Compressed when asked; the same page again is a 304 with no body.
        let gz = axum::http::Request::get("/territory")
            .header("cookie", &leader.cookie)
            .header("accept-encoding", "gzip")
            .body(axum::body::Body::empty())
            .unwrap();
        let gz = common::send(&app, gz).await;
        assert_eq!(gz.headers["content-encoding"], "gzip", "{name}");
        assert!(
            gz.bytes.len() * 3 < r.bytes.len(),
            "{name}: gzip {} bytes",
            gz.bytes.len()
        );
        let tag = r.headers["etag"].to_str().unwrap().to_string();
        let again = axum::http::Request::get("/territory")
            .header("cookie", &leader.cookie)
            .header("if-none-match", &tag)
            .body(axum::body::Body::empty())
            .unwrap();
        let again = common::send(&app, again).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{name}");
        assert!(again.bytes.is_empty(), "{name}");
        assert_eq!(
            again.headers["cache-control"], "no-store",
            "{name}: still kept by no browser"
        );
        // A new case is a new page.
        let (lon, lat) = inside(grids[1]);
        let body = serde_json::json!({"channel": "hotline", "matter": "06001", "description": "又一处", "lon": lon, "lat": lat});
        common::post_as(&app, "/api/v1/cases", &clerk, &body).await;
        let changed = axum::http::Request::get("/territory")
            .header("cookie", &leader.cookie)
            .header("if-none-match", &tag)
            .body(axum::body::Body::empty())
            .unwrap();
        let changed = common::send(&app, changed).await;
        assert_eq!(changed.status, StatusCode::OK, "{name}");
        assert_ne!(changed.headers["etag"], tag.as_str(), "{name}");
    }
}

#[tokio::test]
async fn the_grids_geojson_is_named_by_the_territory_revision() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state);
        let uri = "/api/v1/territory/grids.geojson?within=230903011001";
        let r = common::get(&app, uri).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        assert_eq!(
            r.headers["cache-control"], "public, no-cache",
            "{name}: no personal data"
        );
        let tag = r.headers["etag"].to_str().unwrap().to_string();
        let held = |tag: String| {
            axum::http::Request::get(uri)
                .header("if-none-match", tag)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let again = common::send(&app, held(tag.clone())).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{name}");
        assert!(again.bytes.is_empty());
        let other = common::get(&app, "/api/v1/territory/grids.geojson?within=230903011002").await;
        assert_ne!(other.headers["etag"], tag.as_str(), "{name}: another part, another tag");

        // A grid of that part changed (its households): a new revision, a new tag.
        let mut file = r.json();
        file["features"][0]["properties"]["households"] = serde_json::json!(999);
        let admin = common::token(&app, &db, "admin").await;
        let imported = common::post_as(&app, "/api/v1/territory/grids", &admin, &file).await;
        assert!(imported.status.is_success(), "{name}: {}", imported.body);
        let after = common::send(&app, held(tag.clone())).await;
        assert_eq!(after.status, StatusCode::OK, "{name}");
        assert_ne!(after.headers["etag"], tag.as_str(), "{name}");
        assert!(after.body.contains("999"), "{name}");
    }
}
