//! The case pages as people use them, over HTTP on SQLite and PostgreSQL: the new-case form, the
//! case page with its timeline, and one action form after another, each through the same code as
//! the JSON API.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_core::cases::attachment::AttachmentLimits;
use gongzhi_store::testing::{TestDb, audit_key};

use crate::common;
use crate::common::{PageSession, Reply, demo_apps, input_value, page, send, sign_in, submit};

const GRID: &str = "230903011001001"; // 学府社区第1网格: the demo grid worker's grid
const MATTER: &str = "06001"; // the responsibility list routes it to urban management

fn app_of(state: gongzhi_web::AppState) -> axum::Router {
    let blobs = gongzhi_store::Blobs::in_data_dir(&TestDb::temp_dir());
    gongzhi_web::router(
        state
            .with_audit_key(audit_key())
            .with_attachments(blobs, AttachmentLimits::default()),
    )
}

/// The case id a 303 after a form points at.
fn case_id(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let to = reply.headers[header::LOCATION].to_str().unwrap();
    let rest = to.strip_prefix("/cases/").unwrap_or_else(|| panic!("redirect to {to}"));
    rest.split('?').next().unwrap().to_string()
}

async fn new_case(app: &axum::Router, clerk: &PageSession, key: &str, fields: &[(&str, &str)]) -> Reply {
    let mut all = vec![("idempotency_key", key)];
    all.extend_from_slice(fields);
    submit(app, clerk, "/cases/new", &all).await
}

async fn count_cases(db: &TestDb) -> i64 {
    let page = db
        .db
        .list_cases(&gongzhi_store::cases::CaseFilter::default(), 1, chrono::Utc::now())
        .await
        .unwrap();
    page.total
}

/// A multipart form, as a browser sends one with a file input.
async fn submit_multipart(
    app: &axum::Router,
    session: &PageSession,
    uri: &str,
    fields: &[(&str, &str)],
    photo: Option<&[u8]>,
) -> Reply {
    let mut body = Vec::new();
    let mut all = vec![("csrf", session.csrf.as_str())];
    all.extend_from_slice(fields);
    for (k, v) in all {
        body.extend(format!("--XyZ\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    match photo {
        Some(bytes) => {
            body.extend(
                b"--XyZ\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"after.png\"\r\nContent-Type: image/png\r\n\r\n",
            );
            body.extend(bytes);
            body.extend(b"\r\n");
        }
        // An empty file input, as browsers send it.
        None => body.extend(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n",
        ),
    }
    body.extend(b"--XyZ--\r\n");
    let request = Request::post(uri)
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, &session.cookie)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
        .body(Body::from(body))
        .unwrap();
    send(app, request).await
}

fn png() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/small.png")).unwrap()
}

#[tokio::test]
async fn the_new_case_form_makes_one_case_per_form_and_shows_it() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let clerk = sign_in(&app, &db.db, "clerk").await;
        let form = page(&app, &clerk, "/cases/new").await;
        assert_eq!(form.status, StatusCode::OK, "{}", db.backend_name());
        for shown in [
            "新建案件",
            "渠道",
            "事项",
            "id=\"pick-map\"",
            "data-proj=",
            "name=\"lon\"",
            "name=\"grid_code\"",
        ] {
            assert!(form.body.contains(shown), "{shown}");
        }
        assert!(
            form.body.contains("<option value=\"hotline\" selected>"),
            "the hotline is the clerk's channel"
        );
        let key = input_value(&form.body, "idempotency_key").unwrap();
        assert!(key.len() >= 32, "a random key per form");
        let again = page(&app, &clerk, "/cases/new").await;
        assert_ne!(input_value(&again.body, "idempotency_key").unwrap(), key);

        let fields = [
            ("channel", "hotline"),
            ("matter", MATTER),
            ("description", "学府小区3号楼旁正在违法搭建彩钢房"),
            ("grid_code", GRID),
        ];
        let first = new_case(&app, &clerk, &key, &fields).await;
        let id = case_id(&first);
        let second = new_case(&app, &clerk, &key, &fields).await;
        assert_eq!(case_id(&second), id, "the same form twice is one case");
        assert_eq!(count_cases(&db).await, 1);

        // The case page: facts, the report on the timeline, the clerk's actions.
        let case = page(&app, &clerk, &format!("/cases/{id}?done=report")).await;
        assert_eq!(case.status, StatusCode::OK);
        for shown in [
            "id=\"notice\"",
            "私搭乱建",
            "学府小区3号楼旁正在违法搭建彩钢房",
            "学府社区第1网格",
            "桃东街道",
            "12345热线",
            "已上报",
            "class=\"step-label\">上报",
            "id=\"act-accept\"",
            "id=\"act-reject\"",
            "name=\"csrf\"",
        ] {
            assert!(case.body.contains(shown), "case page: {shown}");
        }
        assert!(case.body.contains("<svg class=\"map\""), "the grid on a small map");
        // By its number too.
        let number = case.body.split("id=\"number\">").nth(1).unwrap()[..13].to_string();
        let by_number = page(&app, &clerk, &format!("/cases/{number}")).await;
        assert_eq!(by_number.status, StatusCode::OK);

        // A new form (a new key) is a new case; a point in the map places it too.
        let other = page(&app, &clerk, "/cases/new").await;
        let key2 = input_value(&other.body, "idempotency_key").unwrap();
        let grid = common::demo_nodes().iter().find(|n| n.code.as_str() == GRID).unwrap();
        use geo::InteriorPoint;
        let p = grid.boundary.as_ref().unwrap().interior_point().unwrap();
        let (lon, lat) = (p.x().to_string(), p.y().to_string());
        let r = new_case(
            &app,
            &clerk,
            &key2,
            &[
                ("channel", "hotline"),
                ("matter", "06001 私搭乱建"),
                ("description", "又一处"),
                ("lon", &lon),
                ("lat", &lat),
            ],
        )
        .await;
        let id2 = case_id(&r);
        assert_ne!(id2, id);
        assert_eq!(count_cases(&db).await, 2);
        // Duplicate suggestions: the JSON the form's script asks for, and the list on the page.
        let dup = common::send(
            &app,
            Request::get(format!("/api/v1/cases/duplicates?matter={MATTER}&lon={lon}&lat={lat}"))
                .header(header::COOKIE, &clerk.cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(dup.status, StatusCode::OK, "{}", dup.body);
        assert_eq!(dup.json()["grid"], GRID);
        assert_eq!(dup.json()["duplicates"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_bad_field_is_named_on_the_form_and_nothing_is_made() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let clerk = sign_in(&app, &db.db, "clerk").await;
        let unknown = new_case(
            &app,
            &clerk,
            "k-unknown",
            &[
                ("channel", "hotline"),
                ("matter", "99999"),
                ("description", "x"),
                ("grid_code", GRID),
            ],
        )
        .await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", db.backend_name());
        assert!(unknown.body.contains("id=\"error\""));
        assert!(unknown.body.contains("「事项」"), "names the field");
        assert!(unknown.body.contains("99999"));
        assert!(
            unknown.body.contains("value=\"k-unknown\""),
            "the same form again, with its key"
        );
        let nowhere = new_case(
            &app,
            &clerk,
            "k-nowhere",
            &[("channel", "hotline"), ("matter", MATTER), ("description", "没有位置")],
        )
        .await;
        assert_eq!(nowhere.status, StatusCode::BAD_REQUEST);
        assert!(nowhere.body.contains("「位置」"), "{}", nowhere.body);
        assert!(nowhere.body.contains("没有位置"), "what was typed is kept");
        // In English too.
        let en = submit(
            &app,
            &clerk,
            "/cases/new?lang=en",
            &[("channel", "hotline"), ("matter", MATTER), ("description", "no place")],
        )
        .await;
        assert!(en.body.contains("[Location]"), "{}", en.body);
        assert_eq!(count_cases(&db).await, 0, "nothing was made");
    }
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let clerk = sign_in(&app, &db.db, "clerk").await;
        let forged = PageSession {
            cookie: clerk.cookie.clone(),
            csrf: "0".repeat(64),
        };
        let r = new_case(
            &app,
            &forged,
            "k1",
            &[
                ("channel", "hotline"),
                ("matter", MATTER),
                ("description", "x"),
                ("grid_code", GRID),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", db.backend_name());
        assert_eq!(count_cases(&db).await, 0);
        let made = new_case(
            &app,
            &clerk,
            "k2",
            &[
                ("channel", "hotline"),
                ("matter", MATTER),
                ("description", "x"),
                ("grid_code", GRID),
            ],
        )
        .await;
        let id = case_id(&made);
        let r = submit(&app, &forged, &format!("/cases/{id}/act"), &[("action", "accept")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let case = page(&app, &clerk, &format!("/cases/{id}")).await;
        assert!(case.body.contains("id=\"state\">已上报"), "still reported");
    }
}

#[tokio::test]
async fn a_case_outside_the_readers_scope_is_not_found() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let clerk = sign_in(&app, &db.db, "clerk").await;
        let elsewhere = common::demo_nodes()
            .iter()
            .find(|n| n.level() == gongzhi_core::territory::Level::Grid && n.code.as_str().starts_with("230903012"))
            .unwrap();
        let made = new_case(
            &app,
            &clerk,
            "k",
            &[
                ("channel", "hotline"),
                ("matter", MATTER),
                ("description", "别处的案件"),
                ("grid_code", elsewhere.code.as_str()),
            ],
        )
        .await;
        let id = case_id(&made);
        let community = sign_in(&app, &db.db, "community").await;
        let r = page(&app, &community, &format!("/cases/{id}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", db.backend_name());
        assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(!r.body.contains("别处的案件"));
        let handler = sign_in(&app, &db.db, "handler").await;
        assert_eq!(
            page(&app, &handler, &format!("/cases/{id}")).await.status,
            StatusCode::NOT_FOUND,
            "not dispatched to the department yet"
        );
        let r = submit(&app, &community, &format!("/cases/{id}/act"), &[("action", "close")]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(page(&app, &clerk, "/cases/9999999").await.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn the_loop_through_the_forms_shows_every_step_on_the_timeline() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let clerk = sign_in(&app, &db.db, "clerk").await;
        let made = new_case(
            &app,
            &clerk,
            "loop",
            &[
                ("channel", "hotline"),
                ("matter", MATTER),
                ("description", "学府小区3号楼旁违法搭建"),
                ("grid_code", GRID),
            ],
        )
        .await;
        let id = case_id(&made);
        let act = |who: PageSession, fields: Vec<(&'static str, &'static str)>| {
            let app = app.clone();
            let id = id.clone();
            async move { submit(&app, &who, &format!("/cases/{id}/act"), &fields).await }
        };
        let r = act(clerk.clone(), vec![("action", "accept")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}: {}", db.backend_name(), r.body);
        assert_eq!(
            r.headers[header::LOCATION].to_str().unwrap(),
            format!("/cases/{id}?done=accept")
        );
        let shiftlead = sign_in(&app, &db.db, "shiftlead").await;
        // Rejecting without a reason: the field is named, nothing changes.
        let r = act(shiftlead.clone(), vec![("action", "reject"), ("reason", "")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("「原因」"), "{}", r.body);
        assert!(r.body.contains("id=\"state\">已受理"));
        // Not the shift lead's to do: refused, named, nothing changes.
        let r = act(shiftlead.clone(), vec![("action", "accept")]).await;
        assert!(r.status.is_client_error());
        assert!(r.body.contains("id=\"error\""));
        let r = act(shiftlead.clone(), vec![("action", "register")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

        let dispatcher = sign_in(&app, &db.db, "dispatcher").await;
        let form = page(&app, &dispatcher, &format!("/cases/{id}")).await;
        assert!(form.body.contains("id=\"act-dispatch\""));
        assert!(
            form.body
                .contains("<option value=\"department:urban-management\" selected>城市管理综合执法局</option>"),
            "the responsibility list's proposal is chosen first"
        );
        let r = act(
            dispatcher.clone(),
            vec![("action", "dispatch"), ("lead", "department:urban-management")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

        let handler = sign_in(&app, &db.db, "handler").await;
        let r = act(handler.clone(), vec![("action", "acknowledge")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let form = page(&app, &handler, &format!("/cases/{id}")).await;
        assert!(form.body.contains("enctype=\"multipart/form-data\""));
        assert!(
            form.body.contains("id=\"countdown\""),
            "the handling deadline counts down"
        );
        // Report back without a result: named, and the photo is not kept.
        let r = submit_multipart(
            &app,
            &handler,
            &format!("/cases/{id}/act"),
            &[("action", "report_back"), ("result", "")],
            Some(&png()),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("「处置结果」"));
        let r = submit_multipart(
            &app,
            &handler,
            &format!("/cases/{id}/act"),
            &[("action", "report_back"), ("result", "违建已拆除，现场清理完毕")],
            Some(&png()),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

        let gridworker = sign_in(&app, &db.db, "gridworker").await;
        let r = submit_multipart(
            &app,
            &gridworker,
            &format!("/cases/{id}/act"),
            &[("action", "check_pass")],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = act(shiftlead.clone(), vec![("action", "close")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

        let done = page(&app, &shiftlead, &format!("/cases/{id}")).await;
        assert!(done.body.contains("id=\"state\">已结案"), "{}", done.body);
        let labels: Vec<&str> = done
            .body
            .split("class=\"step-label\">")
            .skip(1)
            .map(|s| &s[..s.find('<').unwrap()])
            .collect();
        assert_eq!(
            labels,
            ["上报", "受理", "立案", "派遣", "签收", "处置反馈", "核查通过", "结案"]
        );
        assert!(done.body.contains("违建已拆除，现场清理完毕"));
        assert!(done.body.contains("id=\"photos-after\""));
        assert!(done.body.contains("/public\""), "photos through the public copy");
        assert!(done.body.contains("城市管理综合执法局"));
        assert!(!done.body.contains("id=\"countdown\""), "no deadline once closed");
        // In English.
        let en = page(&app, &shiftlead, &format!("/cases/{id}?lang=en")).await;
        assert!(en.body.contains("Timeline") && en.body.contains("report back"));
    }
}

#[tokio::test]
async fn a_duplicate_nearby_is_offered_and_merged_from_the_page() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let clerk = sign_in(&app, &db.db, "clerk").await;
        let grid = common::demo_nodes().iter().find(|n| n.code.as_str() == GRID).unwrap();
        use geo::InteriorPoint;
        let p = grid.boundary.as_ref().unwrap().interior_point().unwrap();
        let (lon, lat) = (p.x().to_string(), p.y().to_string());
        let report = |key: &'static str, what: &'static str| {
            let (app, clerk, lon, lat) = (app.clone(), clerk.clone(), lon.clone(), lat.clone());
            async move {
                let fields = [
                    ("channel", "hotline"),
                    ("matter", MATTER),
                    ("description", what),
                    ("lon", lon.as_str()),
                    ("lat", lat.as_str()),
                ];
                case_id(&new_case(&app, &clerk, key, &fields).await)
            }
        };
        let first = report("a", "彩钢房违建").await;
        let second = report("b", "又有人报彩钢房违建").await;
        let page2 = page(&app, &clerk, &format!("/cases/{second}")).await;
        assert!(page2.body.contains("id=\"suggestions\""), "{}", db.backend_name());
        assert!(page2.body.contains(&format!("href=\"/cases/{first}\"")));
        let number = page(&app, &clerk, &format!("/cases/{first}")).await.body;
        let number = number.split("id=\"number\">").nth(1).unwrap()[..13].to_string();
        assert!(page2.body.contains(&format!("name=\"parent\" value=\"{number}\"")));
        let r = submit(
            &app,
            &clerk,
            &format!("/cases/{second}/act"),
            &[("action", "merge_into"), ("parent", &number)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let merged = page(&app, &clerk, &format!("/cases/{second}")).await;
        assert!(merged.body.contains("id=\"state\">已合并"));
        let parent = page(&app, &clerk, &format!("/cases/{first}")).await;
        assert!(parent.body.contains("id=\"merged\""));
        assert!(parent.body.contains(&format!("href=\"/cases/{second}\"")));
        // The grid worker, whose grid it is, reads it; nothing there is theirs to merge.
        let worker = sign_in(&app, &db.db, "gridworker").await;
        let seen = page(&app, &worker, &format!("/cases/{first}")).await;
        assert_eq!(seen.status, StatusCode::OK);
        assert!(!seen.body.contains("value=\"merge_into\""));
    }
}
