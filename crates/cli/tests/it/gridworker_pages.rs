//! The grid worker's phone pages over HTTP on SQLite and PostgreSQL: `/g/` shows my grid and the
//! cases to verify in it (and none of another grid), other roles get 403, a report from the phone
//! enters the loop with channel `patrol`, and a report sent again with the same idempotency key
//! (as the offline queue does) makes one case.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_core::cases::attachment::AttachmentLimits;
use serde_json::{Value, json};

use crate::common;
use crate::common::{PageSession, Reply, demo_apps, page, post_as, send, sign_in, token};

const GRID: &str = "230903011001001"; // 学府社区第1网格
const OTHER_GRID: &str = "230903011001002";
const MATTER: &str = "06010"; // 暴露垃圾

fn app_of(state: gongzhi_web::AppState) -> axum::Router {
    let blobs = gongzhi_store::Blobs::in_data_dir(&gongzhi_store::testing::TestDb::temp_dir());
    gongzhi_web::router(state.with_attachments(blobs, AttachmentLimits::default()))
}

/// A multipart report as the page's form (or its script) sends it.
async fn post_report(
    app: &axum::Router,
    who: &PageSession,
    fields: &[(&str, &str)],
    photos: &[&str],
    key_header: Option<&str>,
    json_answer: bool,
) -> Reply {
    let mut body = Vec::new();
    let mut all: Vec<(&str, &str)> = vec![("csrf", &who.csrf)];
    all.extend_from_slice(fields);
    for (k, v) in all {
        body.extend(format!("--XyZ\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    for field in photos {
        let jpeg = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/plain.jpg")).unwrap();
        body.extend(
            format!("--XyZ\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
                .as_bytes(),
        );
        body.extend(jpeg);
        body.extend(b"\r\n");
    }
    body.extend(b"--XyZ--\r\n");
    let mut request = Request::post("/g/report")
        .header(header::COOKIE, &who.cookie)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
        .header(
            header::ACCEPT,
            if json_answer { "application/json" } else { "text/html" },
        );
    if let Some(k) = key_header {
        request = request.header("idempotency-key", k);
    }
    send(app, request.body(Body::from(body)).unwrap()).await
}

/// The open cases with this description, as the clerk finds them through the API.
async fn cases_described(app: &axum::Router, clerk: &str, description: &str) -> Vec<Value> {
    let r = common::get_as(app, "/api/v1/cases?limit=200", clerk).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["description"] == description)
        .cloned()
        .collect()
}

#[tokio::test]
async fn the_grid_page_shows_my_grid_and_my_tasks_only_and_other_roles_get_403() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let gridworker = sign_in(&app, &db, "gridworker").await;
        let clerk_page = sign_in(&app, &db, "clerk").await;
        let clerk = token(&app, &db, "clerk").await;
        let mut ids = vec![];
        for (grid, text) in [(GRID, "学府1网格待核实"), (OTHER_GRID, "学府2网格待核实")] {
            let body = json!({"channel": "hotline", "matter": MATTER, "description": text, "grid_code": grid});
            let r = post_as(&app, "/api/v1/cases", &clerk, &body).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            let id = r.json()["id"].clone();
            for action in ["accept", "send_to_verify"] {
                let r = post_as(
                    &app,
                    &format!("/api/v1/cases/{id}/actions"),
                    &clerk,
                    &json!({"action": action}),
                )
                .await;
                assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.body);
            }
            ids.push((id, text));
        }
        let home = page(&app, &gridworker, "/g/").await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.body);
        assert!(home.body.contains("学府社区第1网格"), "{}", home.body);
        assert!(home.body.contains(&format!("data-code=\"{GRID}\"")));
        assert!(home.body.contains("<svg"), "a map of the grid");
        assert!(home.body.contains("width=device-width"));
        let verify = home.body.split("id=\"to-verify\"").nth(1).unwrap();
        let verify = verify.split("</ul>").next().unwrap();
        assert!(verify.contains(&format!("href=\"/g/cases/{}\"", ids[0].0)), "{verify}");
        assert!(verify.contains(ids[0].1));
        assert!(!home.body.contains(ids[1].1), "another grid's case is not mine");
        let open = home.body.split("id=\"open-cases\"").nth(1).unwrap();
        assert!(open.contains(&format!("href=\"/g/cases/{}\"", ids[0].0)), "{open}");
        assert!(!open.contains(&format!("href=\"/g/cases/{}\"", ids[1].0)));
        assert!(!home.body.contains(&format!("href=\"/g/cases/{}\"", ids[1].0)));

        // The phone case page: the grid worker's actions the loop allows now, as forms.
        let mine = page(&app, &gridworker, &format!("/g/cases/{}", ids[0].0)).await;
        assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
        assert!(mine.body.contains("data-action=\"verified\""), "{}", mine.body);
        assert!(!mine.body.contains("data-action=\"check_pass\""));
        assert!(mine.body.contains("capture=\"environment\""));
        let other = page(&app, &gridworker, &format!("/g/cases/{}", ids[1].0)).await;
        assert_eq!(other.status, StatusCode::NOT_FOUND, "another grid's case");
        let r = common::submit(
            &app,
            &gridworker,
            &format!("/g/cases/{}/act", ids[0].0),
            &[("action", "verified"), ("note", "现场核实属实")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let after = page(&app, &gridworker, r.headers[header::LOCATION].to_str().unwrap()).await;
        assert!(after.body.contains("id=\"done\""), "{}", after.body);
        assert!(!after.body.contains("data-action=\"verified\""), "verified once");
        let r = common::submit(
            &app,
            &gridworker,
            &format!("/g/cases/{}/act", ids[0].0),
            &[("action", "close")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "not a grid worker's action");
        let home = page(&app, &gridworker, "/g/").await;
        assert!(!home.body.contains(ids[0].1), "verified: no longer to verify");

        // Staff without the grid-worker role: a clear 403, on every /g/ page.
        for uri in ["/g/", "/g/report"] {
            let r = page(&app, &clerk_page, uri).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}: {}", r.body);
            assert!(r.body.contains("网格员"), "{}", r.body);
            assert!(
                r.body.to_lowercase().contains("<!doctype html"),
                "a page, not JSON: {}",
                r.body
            );
        }
        let r = post_report(
            &app,
            &clerk_page,
            &[("matter", MATTER), ("description", "x")],
            &[],
            None,
            true,
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Not signed in: to the sign-in page.
        let r = common::browse(&app, "/g/").await;
        assert!(r.status.is_redirection(), "{}", r.status);
    }
}

#[tokio::test]
async fn a_report_from_the_phone_enters_the_loop_once_whatever_the_retries() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let gridworker = sign_in(&app, &db, "gridworker").await;
        let clerk = token(&app, &db, "clerk").await;
        let form = page(&app, &gridworker, "/g/report").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        for needle in [
            "capture=\"environment\"",
            "accept=\"image/*\"",
            "name=\"idempotency_key\"",
            "value=\"wgs84\"",
            // The matter search (it asks /api/v1/taxonomy/matters) is a script of its own.
            "/static/matters.js",
        ] {
            assert!(form.body.contains(needle), "{needle}");
        }
        // The point of the demo grid, WGS-84, from the browser.
        let (lon, lat) = {
            use geo::InteriorPoint;
            let grid = common::demo_nodes()
                .iter()
                .find(|n| n.code.to_string() == GRID)
                .unwrap();
            let p = grid.boundary.as_ref().unwrap().interior_point().unwrap();
            (p.x().to_string(), p.y().to_string())
        };
        let description = "巡查发现学府路垃圾桶满溢";
        let fields = [
            ("matter", MATTER),
            ("description", description),
            ("lon", lon.as_str()),
            ("lat", lat.as_str()),
            ("datum", "wgs84"),
        ];
        // The script's way: JSON answer, the key in the header; sent three times (a queue that
        // retried after a lost answer), one case.
        let first = post_report(&app, &gridworker, &fields, &["photos"], Some("queue-key-1"), true).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
        let number = first.json()["number"].as_str().unwrap().to_string();
        assert_eq!(first.json()["replayed"], json!(false));
        for _ in 0..2 {
            let again = post_report(&app, &gridworker, &fields, &["photos"], Some("queue-key-1"), true).await;
            assert_eq!(again.status, StatusCode::OK, "{}", again.body);
            assert_eq!(again.json()["number"], json!(number));
            assert_eq!(again.json()["replayed"], json!(true));
        }
        let found = cases_described(&app, &clerk, description).await;
        assert_eq!(found.len(), 1, "{found:?}");
        let case = &found[0];
        assert_eq!(case["channel"], json!("patrol"));
        assert_eq!(
            case["matter"]["code"]
                .as_str()
                .unwrap_or(case["matter"].as_str().unwrap_or("")),
            MATTER
        );
        assert!(case.to_string().contains(GRID), "placed in the grid: {case}");

        // The plain form (no script): the key as a field, back to /g/ naming the case.
        let plain = [
            ("matter", MATTER),
            ("description", "无脚本表单上报"),
            ("lon", lon.as_str()),
            ("lat", lat.as_str()),
            ("idempotency_key", "form-key-1"),
        ];
        let r = post_report(&app, &gridworker, &plain, &[], None, false).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let to = r.headers[header::LOCATION].to_str().unwrap().to_string();
        assert!(to.starts_with("/g/?done="), "{to}");
        let again = post_report(&app, &gridworker, &plain, &[], None, false).await;
        assert_eq!(again.headers[header::LOCATION].to_str().unwrap(), to);
        assert_eq!(cases_described(&app, &clerk, "无脚本表单上报").await.len(), 1);
        let home = page(&app, &gridworker, &to).await;
        assert!(home.body.contains("id=\"done\""));

        // Fixed on the spot: reported with a photo before and one after, self-handled in one flow
        // (the loop's self_handle: a request for the clerk's review, with the photos after).
        let fixed = [
            ("matter", MATTER),
            ("description", "巡查顺手清理的小广告"),
            ("lon", lon.as_str()),
            ("lat", lat.as_str()),
            ("self_handle", "1"),
            ("handle_note", "已清理"),
        ];
        let r = post_report(
            &app,
            &gridworker,
            &fixed,
            &["photos", "after_photos"],
            Some("fix-key-1"),
            true,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["self_handled"], json!(true), "{}", r.body);
        assert_eq!(r.json()["self_handle_error"], json!(null));
        let again = post_report(
            &app,
            &gridworker,
            &fixed,
            &["photos", "after_photos"],
            Some("fix-key-1"),
            true,
        )
        .await;
        assert_eq!(again.json()["number"], r.json()["number"]);
        let found = cases_described(&app, &clerk, "巡查顺手清理的小广告").await;
        assert_eq!(found.len(), 1);
        let case = common::get_as(&app, &format!("/api/v1/cases/{}", found[0]["id"]), &clerk)
            .await
            .json();
        let kinds: Vec<&str> = case["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["kind"].as_str())
            .collect();
        assert_eq!(kinds, ["report", "self_handle"], "{case}");
        assert_eq!(
            case["timeline"][1]["detail"]["photos"].as_array().map(Vec::len),
            Some(1),
            "{case}"
        );
        // Self-handling needs the photo after: refused before anything is stored.
        let r = post_report(&app, &gridworker, &fixed, &["photos"], Some("fix-key-2"), true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["error"]["field"], json!("after_photos"));

        // The recent matter comes first in the picker now.
        let form = page(&app, &gridworker, "/g/report").await;
        let first_option = form.body.split("<option value=\"").nth(2).unwrap();
        assert!(first_option.starts_with(MATTER), "{first_option}");

        // Refused: no matter. The page says why (plain form), or JSON 4xx (script).
        let r = post_report(&app, &gridworker, &[("description", "缺类型")], &[], None, false).await;
        assert!(r.status.is_client_error(), "{}", r.status);
        assert!(r.body.contains("id=\"error\""), "{}", r.body);
        let r = post_report(
            &app,
            &gridworker,
            &[("description", "缺类型")],
            &[],
            Some("k-bad"),
            true,
        )
        .await;
        assert!(r.status.is_client_error());
        assert!(r.json()["error"]["message"].is_string(), "{}", r.body);
    }
}

async fn post_points(app: &axum::Router, who: &PageSession, id: &str, body: &Value) -> Reply {
    send(
        app,
        Request::post(format!("/g/patrols/{id}/points"))
            .header(header::COOKIE, &who.cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_patrol_starts_takes_points_computes_its_length_and_stops() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let gridworker = sign_in(&app, &db, "gridworker").await;
        let clerk_page = sign_in(&app, &db, "clerk").await;
        let list = page(&app, &gridworker, "/g/patrols").await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert!(list.body.contains("id=\"start\""));
        let started = common::submit(&app, &gridworker, "/g/patrols", &[]).await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let to = started.headers[header::LOCATION].to_str().unwrap().to_string();
        let id = to.trim_start_matches("/g/patrols/").to_string();
        // Starting again goes back to the patrol under way.
        let again = common::submit(&app, &gridworker, "/g/patrols", &[]).await;
        assert_eq!(again.headers[header::LOCATION].to_str().unwrap(), to);
        let shown = page(&app, &gridworker, &to).await;
        assert_eq!(shown.status, StatusCode::OK);
        assert!(shown.body.contains(&format!("/g/patrols/{id}/points")));
        assert!(shown.body.contains("WGS-84"));

        // Three points 0.001° of latitude apart (≈111.2 m each): one alone, then two at once.
        let one = json!({"csrf": gridworker.csrf, "datum": "wgs84", "lon": 126.65, "lat": 45.70, "accuracy": 8});
        let r = post_points(&app, &gridworker, &id, &one).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["points"], json!(1));
        assert_eq!(r.json()["length_m"], json!(0.0));
        let two = json!({"csrf": gridworker.csrf, "datum": "wgs84", "points": [
            {"lon": 126.65, "lat": 45.701}, {"lon": 126.65, "lat": 45.702, "at": "2020-01-01T00:00:00Z"}]});
        let r = post_points(&app, &gridworker, &id, &two).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["points"], json!(3));
        let length = r.json()["length_m"].as_f64().unwrap();
        assert!((length - 222.4).abs() < 1.0, "{length}");

        // Refused: no CSRF token, another datum, out of range, another's patrol.
        let r = post_points(&app, &gridworker, &id, &json!({"lon": 126.65, "lat": 45.7})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = post_points(
            &app,
            &gridworker,
            &id,
            &json!({"csrf": gridworker.csrf, "datum": "gcj02", "lon": 126.65, "lat": 45.7}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let r = post_points(
            &app,
            &gridworker,
            &id,
            &json!({"csrf": gridworker.csrf, "lon": 200.0, "lat": 45.7}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let r = post_points(
            &app,
            &clerk_page,
            &id,
            &json!({"csrf": clerk_page.csrf, "lon": 1.0, "lat": 1.0}),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "a clerk is no grid worker");
        assert_eq!(
            page(&app, &clerk_page, "/g/patrols").await.status,
            StatusCode::FORBIDDEN
        );

        let stopped = common::submit(&app, &gridworker, &format!("/g/patrols/{id}/stop"), &[]).await;
        assert_eq!(stopped.status, StatusCode::SEE_OTHER, "{}", stopped.body);
        let r = post_points(&app, &gridworker, &id, &one).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "an ended patrol takes no points");
        let list = page(&app, &gridworker, "/g/patrols").await;
        assert!(list.body.contains(&format!("data-id=\"{id}\"")));
        assert!(list.body.contains("<span class=\"length\">222</span>"), "{}", list.body);
        assert!(list.body.contains("已结束"));
        assert!(list.body.contains("id=\"start\""), "a new one may start");
        assert_eq!(db.db.patrol_points(id.parse().unwrap()).await.unwrap().len(), 3);
    }
}
