//! Order → publish → take (居民点单 → 社区发单 → 单位接单) on SQLite and PostgreSQL: a resident
//! posts a need; the community lists it and publishes it with a date to deliver by, which puts a
//! case of channel `order` into the loop; a member organization's liaison of the street sees it
//! offered and takes it (the case dispatched to the organization and acknowledged), delivers it
//! (reports back on the case with a photo) and rates back; the community certifies it (checks
//! and closes the case); the resident confirms and rates the taker (the case's follow-up). The
//! need follows its case at every step. A liaison of another street is not offered it (404), a
//! second taker is refused (409), staff are not takers (403), a bad date or rating is refused
//! naming the field: each changing nothing. Every step is audited and the chain holds.

use std::sync::Arc;

use axum::http::StatusCode;
use gongzhi_app::people::sms::MemoryGateway;
use gongzhi_core::audit::SYSTEM_ACTOR;
use gongzhi_core::orgs::CreditCode;
use gongzhi_core::orgs::registry::{NewMemberOrganization, OrgKind};
use gongzhi_core::people::{Grant, Role, Scope};
use gongzhi_store::testing::{TestDb, audit_key};
use serde_json::{Value, json};

use crate::common;
use crate::common::resident::{Phone, app_of, audit_ok, get_page, post_form, resident_in, texts};
use crate::common::{demo_apps, get_as, input_value, post_as, sign_in as staff_sign_in, submit, token};
use crate::meetings::{account, other_street};

const PHONE: &str = "13800138000";
/// 学府社区 of 桃东街道 (230903011000), where the demo account `community` works.
const XUEFU: &str = "230903011001";
const STREET: &str = "230903011000";

/// A member organization of a street (`org8`: the first 8 characters of its organization code),
/// written as the registry import would; its id.
pub(crate) async fn member_organization(db: &TestDb, org8: &str, name: &str, street: &str) -> i64 {
    let mut tx = db.begin().await.unwrap();
    let ids = gongzhi_store::orgs::insert_member_organizations_tx(
        &mut tx,
        &audit_key(),
        SYSTEM_ACTOR,
        &[NewMemberOrganization {
            credit_code: CreditCode::from_parts("91", "230903", org8).unwrap(),
            name: name.into(),
            kind: OrgKind::Enterprise,
            community_code: None,
            street_code: street.into(),
            address: format!("{name}办公楼"),
        }],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    ids[0]
}

/// A liaison account (password `demo`) for member organization `org`.
pub(crate) async fn liaison(db: &TestDb, username: &str, org: i64) {
    account(
        db,
        username,
        Grant {
            role: Role::Liaison,
            scope: Scope::Organization(org),
        },
    )
    .await;
}

/// A need of 学府社区 on the needs list, posted by a resident written straight into the store (for
/// tests that start from a listed need); its id.
pub(crate) async fn listed_need(db: &TestDb, phone_hash: &str) -> i64 {
    use gongzhi_core::cogov::orders::{OrderDraft, OrderState, OrderStep, PalmRules};
    let insert = "INSERT INTO residents (phone_hash, phone_masked, created_at, community_code) \
                  VALUES ($1, '138****0000', $2, $3)";
    let now = chrono::Utc::now();
    match &db.db {
        gongzhi_store::Db::Sqlite(p) => {
            sqlx::query(insert)
                .bind(phone_hash)
                .bind(now)
                .bind(XUEFU)
                .execute(p)
                .await
                .unwrap();
        }
        gongzhi_store::Db::Postgres(p) => {
            sqlx::query(insert)
                .bind(phone_hash)
                .bind(now)
                .bind(XUEFU)
                .execute(p)
                .await
                .unwrap();
        }
    }
    let resident: i64 = texts(
        db,
        &format!("SELECT CAST(id AS TEXT) FROM residents WHERE phone_hash = '{phone_hash}'"),
    )
    .await[0]
        .parse()
        .unwrap();
    let draft = OrderDraft::check(&PalmRules::qitaihe().unwrap(), "repair", "楼道灯坏了", "").unwrap();
    let id = db
        .post_order(resident, XUEFU, &draft, phone_hash, now, &audit_key())
        .await
        .unwrap();
    let order = db.order(id).await.unwrap().unwrap();
    db.transition_order(
        &order,
        &OrderStep::List,
        OrderState::Listed,
        "community",
        now,
        &audit_key(),
    )
    .await
    .unwrap();
    id
}

/// The resident posts a need through the form; its id.
async fn post_need(app: &axum::Router, me: &Phone, db: &TestDb, description: &str) -> String {
    let form = get_page(app, "/m/orders/new", &me.cookie).await;
    let key = input_value(&form.body, "idempotency_key").unwrap();
    let r = post_form(
        app,
        "/m/orders/new",
        &me.cookie,
        &[
            ("csrf", &me.csrf),
            ("idempotency_key", &key),
            ("kind", "repair"),
            ("description", description),
            ("preferred_time", "周末"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    texts(db, "SELECT CAST(id AS TEXT) FROM cogov_orders ORDER BY id DESC")
        .await
        .remove(0)
}

async fn order_state(db: &TestDb, id: &str) -> String {
    texts(db, &format!("SELECT state FROM cogov_orders WHERE id = {id}"))
        .await
        .remove(0)
}

async fn head(db: &TestDb) -> i64 {
    gongzhi_store::audit::head(db).await.unwrap().seq
}

async fn act(app: &axum::Router, token: &str, case: i64, action: Value) -> Value {
    let r = post_as(app, &format!("/api/v1/cases/{case}/actions"), token, &action).await;
    assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.body);
    r.json()
}

#[tokio::test]
async fn a_resident_orders_the_community_publishes_a_liaison_takes_delivers_and_the_resident_rates() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let sms = Arc::new(MemoryGateway::default());
        let app = app_of(state, sms.clone());
        let community = token(&app, &db, "community").await;
        let leader = token(&app, &db, "leader").await;
        let ours = member_organization(&db, "MA1B2C3E", "七台河市桃东助老服务中心", STREET).await;
        let also_ours = member_organization(&db, "MA1B2C3F", "七台河市桃东水电维修部", STREET).await;
        let theirs = member_organization(&db, "MA1B2C3G", "七台河市别街维修公司", &other_street()).await;
        liaison(&db, "taker1", ours).await;
        liaison(&db, "taker2", also_ours).await;
        liaison(&db, "taker3", theirs).await;
        let taker = token(&app, &db, "taker1").await;
        let second = token(&app, &db, "taker2").await;
        let elsewhere = token(&app, &db, "taker3").await;

        // The resident orders; the community lists it.
        let me = resident_in(&app, &sms, PHONE, XUEFU).await;
        let need = post_need(&app, &me, &db, "卫生间下水道堵塞，老人独居无法处理").await;
        let staff = staff_sign_in(&app, &db.db, "community").await;
        let at = format!("/cogov/orders/{need}/step");
        // Not published before it is listed.
        let r = submit(&app, &staff, &at, &[("step", "publish"), ("due", &common_due(7))]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{name}: {}", r.body);
        let r = submit(&app, &staff, &at, &[("step", "list")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let list = get_page(&app, "/cogov/orders", &staff.cookie).await;
        assert!(list.body.contains("class=\"step-publish\""), "{}", list.body);

        // A date in the past or not a date: 422 naming `due`, nothing written.
        let before = head(&db).await;
        for bad in ["2020-01-01", "下周", ""] {
            let r = submit(&app, &staff, &at, &[("step", "publish"), ("due", bad)]).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", r.body);
            assert!(r.body.contains("data-field=\"due\""), "{}", r.body);
        }
        assert_eq!(head(&db).await, before, "{name}: refusals change nothing");
        assert!(
            texts(&db, "SELECT CAST(id AS TEXT) FROM cases WHERE channel = 'order'")
                .await
                .is_empty()
        );

        // Published: a case of the loop, registered, waiting for a taker.
        let r = submit(&app, &staff, &at, &[("step", "publish"), ("due", &common_due(7))]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(order_state(&db, &need).await, "published");
        let case: i64 = texts(
            &db,
            &format!("SELECT CAST(case_id AS TEXT) FROM cogov_orders WHERE id = {need}"),
        )
        .await[0]
            .parse()
            .unwrap();
        let c = get_as(&app, &format!("/api/v1/cases/{case}"), &community).await.json();
        assert_eq!(
            (c["channel"].as_str(), c["state"].as_str()),
            (Some("order"), Some("registered")),
            "{c}"
        );
        assert!(
            c["matter"]["code"].as_str().unwrap().ends_with("26010"),
            "a repair need's matter: {c}"
        );
        // Publishing twice: the need is published already.
        let r = post_as(
            &app,
            &format!("/api/v1/cogov/orders/{need}/publish"),
            &community,
            &json!({"due": common_due(7)}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert_eq!(r.json()["error"]["code"], "wrong_order_state");

        // Offered to the organizations of the street, not to another street's.
        let offers = get_as(&app, "/api/v1/cogov/offers", &taker).await;
        assert_eq!(offers.status, StatusCode::OK, "{}", offers.body);
        let offered: Vec<i64> = offers.json()["offered"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_i64().unwrap())
            .collect();
        assert_eq!(offered, [need.parse::<i64>().unwrap()], "{}", offers.body);
        assert!(!offers.body.contains(PHONE), "no resident's phone for a taker");
        let theirs_offers = get_as(&app, "/api/v1/cogov/offers", &elsewhere).await.json();
        assert!(
            theirs_offers["offered"].as_array().unwrap().is_empty(),
            "{theirs_offers}"
        );
        let take = format!("/api/v1/cogov/orders/{need}/take");
        let before = head(&db).await;
        let r = post_as(&app, &take, &elsewhere, &json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        // Staff are not takers.
        let r = post_as(&app, &take, &community, &json!({})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(head(&db).await, before, "{name}: refusals change nothing");

        // Taken: the case is the organization's, acknowledged, with the due date as its limit.
        let r = post_as(&app, &take, &taker, &json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(r.json()["state"], "taken");
        assert_eq!(r.json()["taker"]["name"], "七台河市桃东助老服务中心");
        let c = get_as(&app, &format!("/api/v1/cases/{case}"), &taker).await;
        assert_eq!(c.status, StatusCode::OK, "the taker reads its case: {}", c.body);
        assert_eq!(c.json()["state"], "handling", "{}", c.body);
        assert_eq!(c.json()["lead"]["kind"], "organization", "{}", c.body);
        // It waits in the liaison's inbox of cases to handle, and in no other organization's.
        let number = c.json()["number"].as_str().unwrap().to_string();
        let inbox = get_page(
            &app,
            "/inbox/to_handle",
            &staff_sign_in(&app, &db.db, "taker1").await.cookie,
        )
        .await;
        assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);
        assert!(inbox.body.contains(&number), "{}", inbox.body);
        let theirs = get_page(
            &app,
            "/inbox/to_handle",
            &staff_sign_in(&app, &db.db, "taker2").await.cookie,
        )
        .await;
        assert!(!theirs.body.contains(&number), "{}", theirs.body);
        // Taking again is a retry; another organization is refused.
        let r = post_as(&app, &take, &taker, &json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = post_as(&app, &take, &second, &json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(
            get_as(&app, "/api/v1/cogov/offers", &second).await.json()["offered"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        // The taker's liaison may not touch another organization's case.
        let r = post_as(
            &app,
            &format!("/api/v1/cases/{case}/actions"),
            &second,
            &json!({"action": "report_back", "result": "x"}),
        )
        .await;
        assert!(r.status.is_client_error(), "{}", r.body);

        // Delivered: reported back on the case, with a photo.
        let jpeg = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/plain.jpg")).unwrap();
        let photo = common::upload_photo(&app, &taker, &jpeg).await;
        assert!(photo.status.is_success(), "{}", photo.body);
        let photo = photo.json()["id"].to_string();
        act(
            &app,
            &taker,
            case,
            json!({"action": "report_back", "result": "已上门疏通下水道", "photos": [photo]}),
        )
        .await;
        assert_eq!(order_state(&db, &need).await, "delivered");
        // The taker rates back once; a bad rating names the field.
        let back = format!("/api/v1/cogov/orders/{need}/rate_back");
        let r = post_as(&app, &back, &taker, &json!({"rating": "great"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["error"]["field"], "rating");
        let r = post_as(
            &app,
            &back,
            &taker,
            &json!({"rating": "satisfied", "comment": "居民配合"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = post_as(&app, &back, &taker, &json!({"rating": "satisfied"})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

        // The resident may not rate before the community certifies.
        let rate = format!("/m/orders/{need}/rate");
        let r = post_form(&app, &rate, &me.cookie, &[("csrf", &me.csrf), ("rating", "satisfied")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

        // Certified: the community checks and closes the case.
        act(&app, &community, case, json!({"action": "check_pass"})).await;
        act(&app, &community, case, json!({"action": "close"})).await;
        assert_eq!(order_state(&db, &need).await, "certified");

        // The resident sees every step, then confirms and rates the taker.
        let mine = get_page(&app, "/m/orders", &me.cookie).await;
        assert!(mine.body.contains("七台河市桃东助老服务中心"), "{}", mine.body);
        for step in ["ordered", "listed", "published", "taken", "delivered", "certified"] {
            assert!(
                mine.body
                    .contains(&format!("<li data-state=\"{step}\" class=\"reached\">")),
                "{step}: {}",
                mine.body
            );
        }
        assert!(mine.body.contains("<li data-state=\"rated\">"), "{}", mine.body);
        let r = post_form(&app, &rate, &me.cookie, &[("csrf", &me.csrf), ("rating", "")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("data-field=\"rating\""), "{}", r.body);
        let r = post_form(
            &app,
            &rate,
            &me.cookie,
            &[("csrf", &me.csrf), ("rating", "satisfied"), ("comment", "师傅很耐心")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(order_state(&db, &need).await, "rated");
        let c = get_as(&app, &format!("/api/v1/cases/{case}"), &community).await.json();
        assert_eq!(c["follow_up"]["satisfaction"], "satisfied", "the case's follow-up: {c}");
        let r = post_form(&app, &rate, &me.cookie, &[("csrf", &me.csrf), ("rating", "satisfied")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

        // The taker's page and the counts the leaders read.
        let liaison_page = staff_sign_in(&app, &db.db, "taker1").await;
        let page = get_page(&app, "/cogov/offers", &liaison_page.cookie).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.body.contains("居民已评价") && page.body.contains("href=\"/cogov/offers\""),
            "{}",
            page.body
        );
        let counts = get_as(&app, &format!("/api/v1/cogov/orders/counts?within={STREET}"), &leader).await;
        assert_eq!(counts.status, StatusCode::OK, "{}", counts.body);
        assert_eq!(counts.json()["fulfilled"], 1, "{}", counts.body);

        // Every step audited, the chain intact.
        let actions = texts(
            &db,
            &format!(
                "SELECT action FROM audit_entries WHERE subject_kind = 'order' AND subject_id = '{need}' ORDER BY seq"
            ),
        )
        .await;
        for a in [
            "cogov.order.publish",
            "cogov.order.take",
            "cogov.order.taken",
            "cogov.order.delivered",
            "cogov.order.rate_back",
            "cogov.order.certified",
            "cogov.order.rate",
        ] {
            assert!(actions.iter().any(|x| x == a), "{name}: {a} in {actions:?}");
        }
        assert!(audit_ok(&db.db).await, "{name}: the audit chain holds");
    }
}

/// A date `days` ahead, city time.
fn common_due(days: i64) -> String {
    (gongzhi_core::time::city_time(chrono::Utc::now()).date_naive() + chrono::Duration::days(days)).to_string()
}
