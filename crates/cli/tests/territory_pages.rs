//! The territory pages as a person in a browser gets them.

mod common;

use axum::http::StatusCode;
use common::{browse, demo_apps, demo_nodes, page, sign_in};
use gongzhi_core::territory::Level;

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
