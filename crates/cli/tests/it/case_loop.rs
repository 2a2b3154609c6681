//! The whole case loop through the API, as the people of the command centre, a department and a
//! grid do it, on SQLite and PostgreSQL.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_core::cases::attachment::AttachmentLimits;
use gongzhi_store::testing::{TestDb, audit_key};
use serde_json::{Value, json};

use crate::common;
use crate::common::{Reply, demo_apps, get_as, post_as, send, token};

const GRID: &str = "230903011001001"; // 学府社区第1网格: the demo grid worker's grid
const MATTER: &str = "06001"; // 违法建设: the responsibility list routes it to urban management

async fn loop_app(db: &TestDb, state: gongzhi_web::AppState) -> axum::Router {
    let blobs = gongzhi_store::Blobs::in_data_dir(&TestDb::temp_dir());
    let state = state
        .with_audit_key(audit_key())
        .with_attachments(blobs, AttachmentLimits::default());
    let _ = db;
    gongzhi_web::router(state)
}

async fn upload_photo(app: &axum::Router, token: &str) -> String {
    let jpeg = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/plain.jpg")).unwrap();
    let r = common::upload_photo(app, token, &jpeg).await;
    assert!(r.status.is_success(), "upload: {}", r.body);
    r.json()["id"].to_string()
}

async fn act(app: &axum::Router, token: &str, id: &Value, action: Value) -> Reply {
    post_as(app, &format!("/api/v1/cases/{id}/actions"), token, &action).await
}

fn report_body() -> Value {
    json!({"channel": "hotline", "matter": MATTER, "description": "学府小区3号楼旁正在违法搭建彩钢房", "grid_code": GRID})
}

#[tokio::test]
async fn a_hotline_case_travels_the_whole_loop_and_the_page_of_it_shows_every_step() {
    for (db, state) in demo_apps().await {
        let app = loop_app(&db, state).await;
        let clerk = token(&app, &db, "clerk").await;
        let r = post_as(&app, "/api/v1/cases", &clerk, &report_body()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", db.backend_name(), r.body);
        let case = r.json();
        let id = case["id"].clone();
        assert_eq!(case["state"], "reported");
        assert_eq!(case["location"]["street"], "230903011000");
        assert_eq!(case["routing"]["proposed_lead"]["code"], "urban-management");
        assert!(case["number"].as_str().unwrap().len() == 13);

        let steps: Vec<(&str, Value, &str)> = vec![
            ("clerk", json!({"action": "accept"}), "accepted"),
            ("shiftlead", json!({"action": "register"}), "registered"),
            (
                "dispatcher",
                json!({"action": "dispatch", "lead": {"kind": "department", "code": "urban-management"}}),
                "dispatched",
            ),
            ("handler", json!({"action": "acknowledge"}), "handling"),
        ];
        for (who, action, to) in steps {
            let t = token(&app, &db, who).await;
            let r = act(&app, &t, &id, action.clone()).await;
            assert_eq!(r.status, StatusCode::OK, "{who} {action}: {}", r.body);
            assert_eq!(r.json()["state"], to, "{who}");
        }
        let handler = token(&app, &db, "handler").await;
        // A report back without a photo is refused and changes nothing.
        let r = act(
            &app,
            &handler,
            &id,
            json!({"action": "report_back", "result": "已拆除"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["error"]["code"], "case_missing_photos");
        let r = act(
            &app,
            &handler,
            &id,
            json!({"action": "report_back", "result": "已拆除", "photos": ["999999"]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json()["error"]["field"], "photos");
        let photo = upload_photo(&app, &handler).await;
        let r = act(
            &app,
            &handler,
            &id,
            json!({"action": "report_back", "result": "违建已拆除，现场已清理", "photos": [photo]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // The handler may not close its own work.
        let r = act(&app, &handler, &id, json!({"action": "close"})).await;
        assert!(
            r.status == StatusCode::CONFLICT || r.status == StatusCode::FORBIDDEN,
            "{}",
            r.body
        );

        let gridworker = token(&app, &db, "gridworker").await;
        assert_eq!(
            act(&app, &gridworker, &id, json!({"action": "check_pass"}))
                .await
                .status,
            StatusCode::OK
        );
        let shiftlead = token(&app, &db, "shiftlead").await;
        let closed = act(&app, &shiftlead, &id, json!({"action": "close"})).await;
        assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
        assert_eq!(closed.json()["outcome"], "fixed");

        let page = get_as(&app, &format!("/api/v1/cases/{id}"), &clerk).await.json();
        let who: Vec<&str> = page["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["account"].as_str().unwrap())
            .collect();
        assert_eq!(
            who,
            [
                "clerk",
                "clerk",
                "shiftlead",
                "dispatcher",
                "handler",
                "handler",
                "gridworker",
                "shiftlead"
            ]
        );
        let kinds: Vec<&str> = page["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "report",
                "accept",
                "register",
                "dispatch",
                "acknowledge",
                "report_back",
                "check_pass",
                "close"
            ]
        );
        let dispatch = &page["timeline"][3];
        assert_eq!(dispatch["role"], "dispatcher");
        assert_eq!(page["timeline"][4]["unit"]["code"], "urban-management");
        assert!(page["timeline"][5]["work_minutes"].is_number());
        assert_eq!(page["state_label"], "已结案");

        // One audit entry per change, and the chain verifies.
        let admin = token(&app, &db, "auditor").await;
        let verdict = get_as(&app, "/api/v1/audit/verify", &admin).await.json();
        assert_eq!(verdict["intact"], true, "{verdict}");
        let changes = gongzhi_store::audit::entries_about(&db, "case", page["number"].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!(changes.len(), 8, "{}", db.backend_name());
    }
}

#[tokio::test]
async fn reports_are_checked_field_by_field_and_retries_are_idempotent() {
    for (db, state) in demo_apps().await {
        let app = loop_app(&db, state).await;
        let clerk = token(&app, &db, "clerk").await;
        let bad = [
            (
                json!({"matter": MATTER, "description": "x", "grid_code": GRID}),
                "channel",
            ),
            (
                json!({"channel": "fax", "matter": MATTER, "description": "x", "grid_code": GRID}),
                "channel",
            ),
            (
                json!({"channel": "hotline", "matter": "99999", "description": "x", "grid_code": GRID}),
                "matter",
            ),
            (
                json!({"channel": "hotline", "matter": "6001", "description": "x", "grid_code": GRID}),
                "matter",
            ),
            (
                json!({"channel": "hotline", "matter": MATTER, "description": " ", "grid_code": GRID}),
                "description",
            ),
            (
                json!({"channel": "hotline", "matter": MATTER, "description": "x"}),
                "location",
            ),
            (
                json!({"channel": "hotline", "matter": MATTER, "description": "x", "lon": 131.0, "lat": 95.0}),
                "lat",
            ),
            (
                json!({"channel": "hotline", "matter": MATTER, "description": "x", "lon": 131.0, "lat": 45.7, "datum": "utm"}),
                "datum",
            ),
            (
                json!({"channel": "hotline", "matter": MATTER, "description": "x", "grid_code": "230903011001"}),
                "grid_code",
            ),
            (
                json!({"channel": "hotline", "matter": MATTER, "description": "x", "address": "北京市东城区"}),
                "address",
            ),
        ];
        for (body, field) in bad {
            let r = post_as(&app, "/api/v1/cases", &clerk, &body).await;
            assert!(r.status.is_client_error(), "{body}: {}", r.body);
            assert_eq!(r.json()["error"]["field"], field, "{body}: {}", r.body);
        }
        let none = get_as(&app, "/api/v1/cases", &clerk).await.json();
        assert_eq!(none["total"], 0, "{}: a bad report left a case", db.backend_name());

        // A point in GCJ-02 and an address naming a community are placed too.
        let by_address =
            json!({"channel": "hotline", "matter": MATTER, "description": "x", "address": "桃山区学府社区5号楼"});
        let r = post_as(&app, "/api/v1/cases", &clerk, &by_address).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["location"]["community"], "230903011001");
        let namesake = json!({"channel": "hotline", "matter": MATTER, "description": "x", "address": "学府社区5号楼"});
        let r = post_as(&app, "/api/v1/cases", &clerk, &namesake).await;
        assert_eq!(r.json()["error"]["code"], "address_ambiguous", "{}", r.body);

        let request = |key: &str| {
            Request::post("/api/v1/cases")
                .header(header::AUTHORIZATION, format!("Bearer {clerk}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header("Idempotency-Key", key)
                .body(Body::from(report_body().to_string()))
                .unwrap()
        };
        let first = send(&app, request("call-0001")).await;
        let again = send(&app, request("call-0001")).await;
        assert_eq!(first.status, StatusCode::CREATED);
        assert_eq!(again.status, StatusCode::CREATED);
        assert_eq!(again.headers["idempotency-replayed"], "true");
        assert_eq!(first.json()["id"], again.json()["id"]);
        assert_eq!(
            get_as(&app, "/api/v1/cases", &clerk).await.json()["total"],
            2,
            "the address case and one from the key"
        );
    }
}

#[tokio::test]
async fn everyone_sees_only_their_own_cases_and_actions_are_checked() {
    for (db, state) in demo_apps().await {
        let app = loop_app(&db, state).await;
        let clerk = token(&app, &db, "clerk").await;
        let here = post_as(&app, "/api/v1/cases", &clerk, &report_body()).await.json();
        let elsewhere_body = json!({"channel": "hotline", "matter": MATTER, "description": "茄子河区违建", "address": "茄子河区龙湖社区"});
        let elsewhere = post_as(&app, "/api/v1/cases", &clerk, &elsewhere_body).await;
        assert_eq!(elsewhere.status, StatusCode::CREATED, "{}", elsewhere.body);
        let elsewhere = elsewhere.json();

        let street = token(&app, &db, "street").await;
        let mine = get_as(&app, "/api/v1/cases", &street).await.json();
        assert_eq!(mine["total"], 1, "{}: {mine}", db.backend_name());
        assert_eq!(mine["cases"][0]["id"], here["id"]);
        let r = get_as(&app, &format!("/api/v1/cases/{}", elsewhere["id"]), &street).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = get_as(&app, "/api/v1/cases?within=230904000000", &street).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // The department sees a case only once it is dispatched to it.
        let handler = token(&app, &db, "handler").await;
        assert_eq!(get_as(&app, "/api/v1/cases", &handler).await.json()["total"], 0);
        // A clerk cannot dispatch, and an action in the wrong state is a conflict.
        let r = act(
            &app,
            &clerk,
            &here["id"],
            json!({"action": "dispatch", "lead": {"kind": "department", "code": "urban-management"}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        let r = act(&app, &clerk, &here["id"], json!({"action": "fly"})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json()["error"]["field"], "action");
        for (who, action) in [
            ("clerk", json!({"action": "accept"})),
            ("shiftlead", json!({"action": "register"})),
        ] {
            let t = token(&app, &db, who).await;
            assert_eq!(act(&app, &t, &here["id"], action).await.status, StatusCode::OK);
        }
        let r = act(
            &app,
            &clerk,
            &here["id"],
            json!({"action": "dispatch", "lead": {"kind": "department", "code": "urban-management"}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let dispatcher = token(&app, &db, "dispatcher").await;
        let r = act(
            &app,
            &dispatcher,
            &here["id"],
            json!({"action": "dispatch", "lead": {"kind": "department", "code": "urban-management"}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        let theirs = get_as(&app, "/api/v1/cases", &handler).await.json();
        assert_eq!(theirs["total"], 1);

        // Filters: state, overdue, channel, matter, dates; a bad one names its parameter.
        let leader = token(&app, &db, "leader").await;
        assert_eq!(
            get_as(&app, "/api/v1/cases?state=dispatched", &leader).await.json()["total"],
            1
        );
        assert_eq!(
            get_as(&app, "/api/v1/cases?channel=hotline", &leader).await.json()["total"],
            2
        );
        assert_eq!(
            get_as(&app, "/api/v1/cases?channel=patrol", &leader).await.json()["total"],
            0
        );
        assert_eq!(
            get_as(&app, &format!("/api/v1/cases?matter={MATTER}&overdue=false"), &leader)
                .await
                .json()["total"],
            2
        );
        assert_eq!(
            get_as(&app, "/api/v1/cases?from=2000-01-01&to=2000-01-02", &leader)
                .await
                .json()["total"],
            0
        );
        let r = get_as(&app, "/api/v1/cases?overdue=maybe", &leader).await;
        assert_eq!(r.json()["error"]["field"], "overdue");
        let page = get_as(&app, "/api/v1/cases?limit=1", &leader).await.json();
        assert_eq!(page["cases"].as_array().unwrap().len(), 1);
        let next = get_as(
            &app,
            &format!("/api/v1/cases?limit=1&cursor={}", page["next_cursor"].as_str().unwrap()),
            &leader,
        )
        .await
        .json();
        assert_eq!(next["cases"].as_array().unwrap().len(), 1);
        assert_ne!(next["cases"][0]["id"], page["cases"][0]["id"]);
    }
}

#[tokio::test]
async fn a_case_left_unacknowledged_is_supervised_yellow_then_red_automatically() {
    for (db, state) in demo_apps().await {
        let app = loop_app(&db, state.clone()).await;
        let clerk = token(&app, &db, "clerk").await;
        let case = post_as(&app, "/api/v1/cases", &clerk, &report_body()).await.json();
        let id = case["id"].clone();
        for (who, action) in [
            ("clerk", json!({"action": "accept"})),
            ("shiftlead", json!({"action": "register"})),
            (
                "dispatcher",
                json!({"action": "dispatch", "lead": {"kind": "department", "code": "urban-management"}}),
            ),
        ] {
            let t = token(&app, &db, who).await;
            assert_eq!(act(&app, &t, &id, action).await.status, StatusCode::OK);
        }
        let now = chrono::Utc::now();
        use gongzhi_app::cases::supervision::run_once;
        let state = state.with_audit_key(audit_key());
        assert_eq!(run_once(&state, now).await.unwrap(), 0, "nothing is late yet");
        // Departments: yellow after 1 working day unacknowledged, red after 2 (case-policy.toml).
        // Two weeks later holds at least two working days whatever the holidays.
        let later = now + chrono::Duration::days(14);
        assert_eq!(run_once(&state, later).await.unwrap(), 1, "{}", db.backend_name());
        assert_eq!(run_once(&state, later).await.unwrap(), 0, "an order is raised once");
        let leader = token(&app, &db, "leader").await;
        let page = get_as(&app, &format!("/api/v1/cases/{id}"), &leader).await.json();
        assert_eq!(page["supervision"], "red", "{page}");
        let last = page["timeline"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["account"], "system:supervision");
        assert!(
            last["detail"]["reason"].as_str().unwrap().contains("自动督办"),
            "{last}"
        );
        assert_eq!(
            get_as(&app, "/api/v1/cases?supervised=true", &leader).await.json()["total"],
            1
        );
    }
}

#[tokio::test]
async fn a_duplicate_is_offered_at_intake_and_merged_so_both_reporters_follow_one_case() {
    for (db, state) in demo_apps().await {
        let app = loop_app(&db, state).await;
        let clerk = token(&app, &db, "clerk").await;
        let at = |lon: f64| json!({"channel": "hotline", "matter": MATTER, "description": "彩钢房违建", "lon": lon, "lat": 45.7675});
        let first = post_as(&app, "/api/v1/cases", &clerk, &at(130.9923)).await.json();
        let second = post_as(&app, "/api/v1/cases", &clerk, &at(130.9925)).await.json();
        let offered = second["duplicates"].as_array().unwrap();
        assert_eq!(offered.len(), 1, "{}: {second}", db.backend_name());
        assert_eq!(offered[0]["id"], first["id"]);
        assert!(offered[0]["distance_m"].as_f64().unwrap() < 30.0);
        let far = post_as(&app, "/api/v1/cases", &clerk, &at(131.02)).await.json();
        assert_eq!(
            far["duplicates"].as_array().unwrap().len(),
            0,
            "2 km away is another matter"
        );

        let r = act(
            &app,
            &clerk,
            &second["id"],
            json!({"action": "merge_into", "parent": first["number"]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["state"], "merged");
        assert_eq!(r.json()["merged_into"], first["number"]);
        let parent = get_as(&app, &format!("/api/v1/cases/{}", first["id"]), &clerk)
            .await
            .json();
        assert_eq!(parent["merged_cases"][0]["number"], second["number"]);
        // Merging into a case of another matter, or into itself, is refused.
        let r = act(
            &app,
            &clerk,
            &far["id"],
            json!({"action": "merge_into", "parent": "2000010100001"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["error"]["field"], "parent");
    }
}
