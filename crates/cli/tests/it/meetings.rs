//! Joint meetings that decide and follow through (issue 16) through the API on SQLite and
//! PostgreSQL: the street's 大工委 with seats of the registry's organizations; a case the street
//! cannot solve alone raised as an agenda item (the link both ways); vetted, convened, held with
//! attendance by seat; a decision assigning two departments puts two `meeting` cases into the
//! loop, which travel it to closed, and then the item is done, its journey complete; the minutes
//! close the meeting and the count of problems solved follows from the closed cases. Wrong state
//! 409, another street 403, an unknown unit 422 naming the field: each changing nothing. Every
//! step is audited and the chain holds.

use axum::http::StatusCode;
use chrono::Duration;
use gongzhi_core::audit::SYSTEM_ACTOR;
use gongzhi_core::cases::attachment::AttachmentLimits;
use gongzhi_core::orgs::DepartmentCode;
use gongzhi_core::orgs::registry::NewPostedOffice;
use gongzhi_core::people::credentials::hash_password;
use gongzhi_core::people::{Grant, Role, Scope};
use gongzhi_core::territory::{Level, TerritoryCode};
use gongzhi_store::testing::{TestDb, audit_key};
use serde_json::{Value, json};

use crate::common;
use crate::common::resident::texts;
use crate::common::{Reply, demo_apps, get_as, post_as, token};

const STREET: &str = "230903011000"; // 桃东街道, where the demo account `street` works
const GRID: &str = "230903011001001";
const MATTER: &str = "06001";

pub(crate) async fn account(db: &TestDb, username: &str, grant: Grant) {
    let hash = tokio::task::spawn_blocking(|| hash_password("demo"))
        .await
        .unwrap()
        .unwrap();
    db.create_account(username, username, Some(&hash), &[grant], SYSTEM_ACTOR, &audit_key())
        .await
        .unwrap();
}

/// Another street of the demo city.
pub(crate) fn other_street() -> String {
    common::demo_nodes()
        .iter()
        .map(|n| n.code.to_string())
        .find(|c| TerritoryCode::parse(c).is_ok_and(|t| t.level() == Level::Street) && c != STREET)
        .expect("a second street")
}

/// A posted office of the street (城管中队), for seats: the demo registry's, or one written now;
/// its id.
pub(crate) async fn posted_office(db: &TestDb) -> i64 {
    let find = "SELECT CAST(id AS TEXT) FROM posted_offices WHERE street_code = '230903011000' ORDER BY id";
    if let Some(id) = texts(db, find).await.first() {
        return id.parse().unwrap();
    }
    let mut tx = db.begin().await.unwrap();
    gongzhi_store::orgs::insert_posted_offices_tx(
        &mut tx,
        &audit_key(),
        SYSTEM_ACTOR,
        &[NewPostedOffice {
            department_code: "urban-management".into(),
            name: "桃东街道城管中队".into(),
            street_code: STREET.into(),
            address: "桃东街道办事处".into(),
        }],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    texts(db, find).await[0].parse().unwrap()
}

fn app_of(state: gongzhi_web::AppState) -> axum::Router {
    let blobs = gongzhi_store::Blobs::in_data_dir(&TestDb::temp_dir());
    gongzhi_web::router(
        state
            .with_audit_key(audit_key())
            .with_attachments(blobs, AttachmentLimits::default()),
    )
}

async fn head(db: &TestDb) -> i64 {
    gongzhi_store::audit::head(db).await.unwrap().seq
}

fn refused(r: &Reply, status: StatusCode, code: &str, field: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.body);
    let j = r.json();
    assert_eq!(j["error"]["code"], code, "{}", r.body);
    if let Some(f) = field {
        assert_eq!(j["error"]["field"], f, "{}", r.body);
    }
}

async fn act(app: &axum::Router, token: &str, id: i64, action: Value) -> Value {
    let r = post_as(app, &format!("/api/v1/cases/{id}/actions"), token, &action).await;
    assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.body);
    r.json()
}

async fn photo(app: &axum::Router, token: &str) -> String {
    let jpeg = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/plain.jpg")).unwrap();
    let r = common::upload_photo(app, token, &jpeg).await;
    assert!(r.status.is_success(), "upload: {}", r.body);
    r.json()["id"].to_string()
}

/// The due date ten days ahead, city time.
pub(crate) fn due() -> String {
    (gongzhi_core::time::city_time(chrono::Utc::now()).date_naive() + Duration::days(10)).to_string()
}

#[tokio::test]
async fn a_case_the_street_cannot_solve_is_decided_by_a_joint_meeting_and_closed_in_the_loop() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = app_of(state);
        let clerk = token(&app, &db, "clerk").await;
        let street = token(&app, &db, "street").await;
        let community = token(&app, &db, "community").await;
        let handler = token(&app, &db, "handler").await;
        let leader = token(&app, &db, "leader").await;
        let other = other_street();
        account(
            &db,
            "street2",
            Grant {
                role: Role::StreetStaff,
                scope: Scope::Territory(TerritoryCode::parse(&other).unwrap()),
            },
        )
        .await;
        account(
            &db,
            "housing",
            Grant {
                role: Role::DepartmentHandler,
                scope: Scope::Department(DepartmentCode::parse("housing").unwrap()),
            },
        )
        .await;
        let street2 = token(&app, &db, "street2").await;
        let housing = token(&app, &db, "housing").await;
        let office = posted_office(&db).await;

        // A hotline case in the street.
        let r = post_as(
            &app,
            "/api/v1/cases",
            &clerk,
            &json!({"channel": "hotline", "matter": MATTER, "description": "学府小区旁违建涉及多个部门", "grid_code": GRID}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        let case = r.json();
        let case_id = case["id"].as_i64().unwrap();
        let number = case["number"].as_str().unwrap().to_string();

        // The street's 大工委: bad kind 422, a community worker may not make the street's (403).
        let body = json!({"kind": "street_working_committee", "node": STREET, "name": "桃东街道大工委"});
        let before = head(&db).await;
        let r = post_as(
            &app,
            "/api/v1/cogov/bodies",
            &street,
            &json!({"kind": "club", "node": STREET, "name": "x"}),
        )
        .await;
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("kind"));
        let r = post_as(&app, "/api/v1/cogov/bodies", &community, &body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(head(&db).await, before, "{name}: refusals change nothing");
        let r = post_as(&app, "/api/v1/cogov/bodies", &street, &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        let body_id = r.json()["id"].as_i64().unwrap();
        assert_eq!(r.json()["kind_label"], "街道大工委");
        let r = post_as(&app, "/api/v1/cogov/bodies", &street, &body).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

        // Seats: a person for a posted office, as a part-time member, with a term.
        let seat = |person: &str, org: i64| {
            json!({"person": person, "org_kind": "posted_office", "org_id": org, "role": "part_time_member",
                   "term_from": "2026-01-01", "term_to": "2028-12-31"})
        };
        let seats_uri = format!("/api/v1/cogov/bodies/{body_id}/seats");
        let r = post_as(&app, &seats_uri, &street, &seat("王城管", 999)).await;
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("org_id"));
        let r = post_as(&app, &seats_uri, &street2, &seat("王城管", office)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let mut seats = vec![];
        for person in ["王城管", "李所长"] {
            let r = post_as(&app, &seats_uri, &street, &seat(person, office)).await;
            assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
            assert!(
                r.json()["org_name"].as_str().is_some_and(|n| !n.is_empty()),
                "{}",
                r.body
            );
            assert_eq!(r.json()["role_label"], "兼职委员");
            seats.push(r.json()["id"].as_i64().unwrap());
        }

        // The case raised as an agenda item; the case shows it back.
        let items_uri = format!("/api/v1/cogov/bodies/{body_id}/items");
        let item_body = json!({"title": "学府小区违建需多部门联合处置", "description": "街道无法单独解决",
                               "source": "case", "source_ref": number});
        let r = post_as(&app, &items_uri, &street2, &item_body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = post_as(
            &app,
            &items_uri,
            &street,
            &json!({"title": "t", "description": "d", "source": "case"}),
        )
        .await;
        refused(
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("source_ref"),
        );
        let r = post_as(&app, &items_uri, &street, &item_body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        let item = r.json();
        let item_id = item["id"].as_i64().unwrap();
        assert_eq!(
            (item["state"].as_str(), item["source_case"].as_i64()),
            (Some("raised"), Some(case_id))
        );
        let c = get_as(&app, &format!("/api/v1/cases/{case_id}"), &clerk).await.json();
        assert_eq!(c["joint_meeting"]["raised_as"][0]["item"], item_id, "{c}");

        // Convening with an item not vetted: 409, nothing written.
        let convene = json!({"title": "桃东街道党建联席会议", "starts_at": "2026-12-10 09:00", "place": "街道会议室", "items": [item_id]});
        let meetings_uri = format!("/api/v1/cogov/bodies/{body_id}/meetings");
        let before = head(&db).await;
        let r = post_as(&app, &meetings_uri, &street, &convene).await;
        refused(&r, StatusCode::CONFLICT, "wrong_agenda_state", None);
        assert_eq!(head(&db).await, before, "{name}: a 409 changes nothing");

        // Vetted (once), then convened.
        let step_uri = format!("/api/v1/cogov/items/{item_id}/steps");
        let r = post_as(&app, &step_uri, &street, &json!({"step": "vet"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = post_as(&app, &step_uri, &street, &json!({"step": "vet"})).await;
        refused(&r, StatusCode::CONFLICT, "wrong_agenda_state", None);
        let r = post_as(&app, &meetings_uri, &street, &convene).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        let meeting_id = r.json()["id"].as_i64().unwrap();
        assert_eq!(r.json()["items"][0]["state"], "scheduled");
        let meeting_uri = format!("/api/v1/cogov/meetings/{meeting_id}");
        let msteps = format!("{meeting_uri}/steps");

        // Another street's staff neither read nor hold it.
        assert_eq!(get_as(&app, &meeting_uri, &street2).await.status, StatusCode::FORBIDDEN);
        let r = post_as(&app, &msteps, &street2, &json!({"step": "hold", "present": [seats[0]]})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        // The city's dispatcher and leader read it.
        assert_eq!(get_as(&app, &meeting_uri, &leader).await.status, StatusCode::OK);

        // Deciding before it is held: 409.
        let decide = |units: Vec<&str>| {
            json!({"step": "decide", "item": item_id, "text": "城管牵头拆除违建，住建部门核查房屋安全",
                   "units": units, "due": due()})
        };
        let r = post_as(&app, &msteps, &street, &decide(vec!["department:urban-management"])).await;
        refused(&r, StatusCode::CONFLICT, "wrong_meeting_state", None);

        // Held with attendance by seat.
        let r = post_as(&app, &msteps, &street, &json!({"step": "hold", "present": [seats[0]]})).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        let m = r.json();
        assert_eq!(m["state"], "held");
        assert_eq!(m["attendance"][0]["present"], true);
        assert_eq!(m["attendance"][1]["present"], false);
        assert_eq!(m["items"][0]["state"], "discussed");
        let r = post_as(&app, &msteps, &street, &json!({"step": "hold", "present": []})).await;
        refused(&r, StatusCode::CONFLICT, "wrong_meeting_state", None);

        // An unknown unit: 422 naming `units`, nothing written.
        let before = head(&db).await;
        let r = post_as(
            &app,
            &msteps,
            &street,
            &decide(vec!["department:urban-management", "department:nowhere"]),
        )
        .await;
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("units"));
        assert_eq!(head(&db).await, before, "{name}: a 422 changes nothing");
        let i = get_as(&app, &format!("/api/v1/cogov/items/{item_id}"), &street)
            .await
            .json();
        assert_eq!(i["state"], "discussed");

        // The server stopped after recording the decision and before making its cases: the item
        // stays decided, and deciding again carries on with the decision recorded.
        {
            let meeting = db.meeting(meeting_id).await.unwrap().unwrap();
            let item = db.agenda_item(item_id).await.unwrap().unwrap();
            let today = gongzhi_core::time::city_time(chrono::Utc::now()).date_naive();
            let draft = gongzhi_core::cogov::meetings::DecisionDraft::check(
                "城管牵头拆除违建，住建部门核查房屋安全",
                &due(),
                today,
            )
            .unwrap();
            let units = [
                "department:urban-management".to_string(),
                "department:housing".to_string(),
            ];
            db.record_decision(
                &meeting,
                &item,
                &draft,
                &units,
                "street",
                chrono::Utc::now(),
                &audit_key(),
            )
            .await
            .unwrap();
        }
        let i = get_as(&app, &format!("/api/v1/cogov/items/{item_id}"), &street)
            .await
            .json();
        assert_eq!(i["state"], "decided", "{name}");

        // The decision assigns two departments: two cases of the loop, channel meeting, dispatched.
        let r = post_as(
            &app,
            &msteps,
            &street,
            &decide(vec!["department:urban-management", "department:housing"]),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        let cases = r.json()["decisions"][0]["cases"].as_array().unwrap().clone();
        assert_eq!(cases.len(), 2, "{}", r.body);
        for c in &cases {
            assert_eq!(
                (c["channel"].as_str(), c["state"].as_str()),
                (Some("meeting"), Some("dispatched")),
                "{c}"
            );
        }
        let i = get_as(&app, &format!("/api/v1/cogov/items/{item_id}"), &street)
            .await
            .json();
        assert_eq!(i["state"], "assigned");
        let first = cases[0]["case"].as_i64().unwrap();
        let c = get_as(&app, &format!("/api/v1/cases/{first}"), &handler).await.json();
        assert_eq!(c["joint_meeting"]["assignment_of"]["item"], item_id, "{c}");
        assert_eq!(c["lead"]["code"], "urban-management");
        let who: Vec<&str> = c["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["account"].as_str().unwrap())
            .collect();
        assert_eq!(
            who,
            [
                "street",
                "system:joint-meeting",
                "system:joint-meeting",
                "system:joint-meeting"
            ]
        );

        // Each department takes its case through the loop to closed.
        for (c, who) in cases.iter().zip([&handler, &housing]) {
            let id = c["case"].as_i64().unwrap();
            act(&app, who, id, json!({"action": "acknowledge"})).await;
            let p = photo(&app, who).await;
            act(
                &app,
                who,
                id,
                json!({"action": "report_back", "result": "已处置", "photos": [p]}),
            )
            .await;
            act(&app, &street, id, json!({"action": "check_pass"})).await;
            let closed = act(&app, &street, id, json!({"action": "close"})).await;
            assert_eq!(closed["state"], "closed");
            let i = get_as(&app, &format!("/api/v1/cogov/items/{item_id}"), &street)
                .await
                .json();
            let expected = if id == first { "assigned" } else { "done" };
            assert_eq!(i["state"], expected, "{name}: {i}");
        }
        let i = get_as(&app, &format!("/api/v1/cogov/items/{item_id}"), &leader)
            .await
            .json();
        let journey: Vec<&str> = i["journey"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["state"].as_str().unwrap())
            .collect();
        assert_eq!(
            journey,
            [
                "raised",
                "vetted",
                "scheduled",
                "discussed",
                "decided",
                "assigned",
                "done"
            ],
            "{name}"
        );

        // Minutes close the meeting, once.
        let r = post_as(&app, &msteps, &street, &json!({"step": "close", "minutes": ""})).await;
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("minutes"));
        let r = post_as(
            &app,
            &msteps,
            &street,
            &json!({"step": "close", "minutes": "会议议定违建由城管牵头拆除。"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["state"], "closed");
        let r = post_as(&app, &msteps, &street, &json!({"step": "close", "minutes": "again"})).await;
        refused(&r, StatusCode::CONFLICT, "wrong_meeting_state", None);

        // Problems solved by joint meetings: counted from the closed cases.
        let s = get_as(&app, "/api/v1/cogov/solved", &leader).await.json();
        assert_eq!((s["cases"].as_i64(), s["closed"].as_i64()), (Some(2), Some(2)), "{s}");
        let s = get_as(&app, "/api/v1/cogov/solved", &street2).await.json();
        assert_eq!(s["cases"], 0, "{s}");

        // The pages: the item's journey in Chinese and English, the case page links the item.
        let session = common::sign_in(&app, &db, "street").await;
        let zh = common::page(&app, &session, &format!("/cogov/items/{item_id}")).await;
        assert_eq!(zh.status, StatusCode::OK, "{}", zh.body);
        assert!(
            zh.body.contains("议题进程") && zh.body.contains("已办结"),
            "{name}: {}",
            zh.body
        );
        let en = common::page(&app, &session, &format!("/cogov/items/{item_id}?lang=en")).await;
        assert!(
            en.body.contains("Journey") && en.body.contains("done"),
            "{name}: {}",
            en.body
        );
        for uri in [
            "/cogov/bodies".to_string(),
            format!("/cogov/bodies/{body_id}"),
            format!("/cogov/meetings/{meeting_id}"),
            format!("/cogov/meetings/{meeting_id}?lang=en"),
        ] {
            let r = common::page(&app, &session, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
        }
        let case_page = common::page(&app, &session, &format!("/cases/{case_id}")).await;
        assert!(
            case_page.body.contains(&format!("/cogov/items/{item_id}")),
            "{name}: the case page links its agenda item"
        );
        let other = common::sign_in(&app, &db, "street2").await;
        let r = common::page(&app, &other, &format!("/cogov/meetings/{meeting_id}")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: another street's meeting");

        // Every step audited, the chain intact.
        let about = gongzhi_store::audit::entries_about(&db, "agenda_item", &item_id.to_string())
            .await
            .unwrap();
        let actions: Vec<&str> = about.iter().map(|e| e.action.as_str()).collect();
        for a in [
            "cogov.item.raise",
            "cogov.item.vet",
            "cogov.item.schedule",
            "cogov.item.discuss",
            "cogov.item.decide",
            "cogov.item.assign",
            "cogov.item.complete",
        ] {
            assert!(actions.contains(&a), "{name}: {a} not in {actions:?}");
        }
        let about = gongzhi_store::audit::entries_about(&db, "meeting", &meeting_id.to_string())
            .await
            .unwrap();
        let actions: Vec<&str> = about.iter().map(|e| e.action.as_str()).collect();
        for a in [
            "cogov.meeting.convene",
            "cogov.meeting.hold",
            "cogov.decision.record",
            "cogov.meeting.close",
        ] {
            assert!(actions.contains(&a), "{name}: {a} not in {actions:?}");
        }
        assert!(common::resident::audit_ok(&db).await, "{name}: the audit chain holds");
    }
}
