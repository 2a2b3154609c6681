//! "Me too" and residents' needs over HTTP on SQLite and PostgreSQL: a resident sees the open
//! cases near their location (WGS-84, within 500 m) or of their community, never a reporter's name
//! or phone; follows one (twice is once), finds it in my reports, unfollows it; staff see the
//! count. A resident posts a need (居民点单); bad input names the field and stores nothing; the
//! community's staff list it, decline another only with a reason, fulfil it with a note; staff of
//! another community may not touch it; the resident reads the state and the reason or note.
//! Every change is audited and the chain holds.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use gongzhi_app::people::sms::MemoryGateway;
use serde_json::json;

use crate::common;
use crate::common::resident::{Phone, app_of, audit_ok, get_page, post_form, resident_in, texts};
use crate::common::{demo_apps, get_as, input_value, page, post_as, sign_in as staff_sign_in, submit, token};

const PHONE: &str = "13800138000";
const OTHER_PHONE: &str = "13911112222";
/// 学府社区 of 桃东街道, where the demo account `community` works, and its first grid.
const XUEFU: &str = "230903011001";
const GRID: &str = "230903011001001";
const MATTER: &str = "06010"; // 暴露垃圾
/// The reporter's contact on a hotline case: never on a resident's page.
const CALLER: &str = "张三丰";
const CALLER_PHONE: &str = "13612345678";

/// Another community's grid (the first grid of the demo outside 学府社区).
fn other_grid() -> (String, String) {
    let node = common::demo_nodes()
        .iter()
        .find(|n| {
            let code = n.code.to_string();
            code.len() == 15 && !code.starts_with(XUEFU) && n.boundary.is_some()
        })
        .expect("a grid of another community");
    let code = node.code.to_string();
    (code[..12].to_string(), code)
}

/// A case reported by the hotline clerk; its number and id.
async fn hotline_case(app: &axum::Router, clerk: &str, body: serde_json::Value) -> (String, i64) {
    let r = post_as(app, "/api/v1/cases", clerk, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let j = r.json();
    (j["number"].as_str().unwrap().to_string(), j["id"].as_i64().unwrap())
}

fn no_reporter(html: &str) {
    for secret in [CALLER, CALLER_PHONE, PHONE, OTHER_PHONE] {
        assert!(!html.contains(secret), "{secret} on a resident's page: {html}");
    }
}

async fn follow(app: &axum::Router, me: &Phone, number: &str, how: &str, back: &str) -> StatusCode {
    post_form(
        app,
        &format!("/m/nearby/{number}/{how}"),
        &me.cookie,
        &[("csrf", &me.csrf), ("back", back)],
    )
    .await
    .status
}

#[tokio::test]
async fn residents_follow_open_cases_near_them_once_and_never_see_the_reporter() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let sms = Arc::new(MemoryGateway::default());
        let app = app_of(state, sms.clone());
        let clerk = token(&app, &db.db, "clerk").await;
        let (lon, lat) = common::point_in(GRID);
        let (other_community, other) = other_grid();

        // Near: a hotline case at the point, with the caller's contact; another in 学府社区 that
        // is rejected (not public any more); one in another community.
        let (near, near_id) = hotline_case(
            &app,
            &clerk,
            json!({"channel": "hotline", "matter": MATTER, "description": "学府小区南门垃圾堆了三天没人清",
                   "lon": lon, "lat": lat, "datum": "wgs84",
                   "report_detail": {"reporter_contact": {"name": CALLER, "phone": CALLER_PHONE}}}),
        )
        .await;
        let (rejected, rejected_id) = hotline_case(
            &app,
            &clerk,
            json!({"channel": "hotline", "matter": MATTER, "description": "重复来电", "lon": lon, "lat": lat, "datum": "wgs84"}),
        )
        .await;
        let r = post_as(
            &app,
            &format!("/api/v1/cases/{rejected_id}/actions"),
            &clerk,
            &json!({"action": "reject", "reason": "不属于受理范围"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let (far, _) = hotline_case(
            &app,
            &clerk,
            json!({"channel": "hotline", "matter": MATTER, "description": "别处的垃圾", "grid_code": other}),
        )
        .await;

        let me = resident_in(&app, &sms, PHONE, XUEFU).await;
        let them = resident_in(&app, &sms, OTHER_PHONE, &other_community).await;

        // By location: the open case within 500 m, not the rejected one nor the far one.
        let at = format!("/m/nearby?lon={lon}&lat={lat}");
        let list = get_page(&app, &at, &me.cookie).await;
        assert_eq!(list.status, StatusCode::OK, "{name}: {}", list.body);
        assert!(
            list.body.contains(&near) && list.body.contains("暴露垃圾"),
            "{}",
            list.body
        );
        assert!(
            !list.body.contains(&rejected) && !list.body.contains(&far),
            "{}",
            list.body
        );
        assert!(
            list.body.contains("WGS-84") && list.body.contains("500 m"),
            "the datum and radius"
        );
        no_reporter(&list.body);
        // By community, without a location: mine for me, theirs for them.
        let mine = get_page(&app, "/m/nearby", &me.cookie).await;
        assert!(mine.body.contains(&near) && !mine.body.contains(&far), "{}", mine.body);
        assert!(mine.body.contains("学府社区"));
        no_reporter(&mine.body);
        let theirs = get_page(&app, "/m/nearby", &them.cookie).await;
        assert!(
            theirs.body.contains(&far) && !theirs.body.contains(&near),
            "{}",
            theirs.body
        );
        let en = get_page(&app, &format!("{at}&lang=en"), &me.cookie).await;
        assert!(
            en.body.contains("Problems nearby") && en.body.contains("Me too"),
            "{}",
            en.body
        );
        // A bad coordinate names the field.
        let bad = get_page(&app, "/m/nearby?lon=abc&lat=45", &me.cookie).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("data-field=\"lon\""), "{}", bad.body);

        // Me too, twice: one follow, one audit entry; without the CSRF token nothing.
        let r = post_form(&app, &format!("/m/nearby/{near}/follow"), &me.cookie, &[("back", &at)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(follow(&app, &me, &near, "follow", &at).await, StatusCode::SEE_OTHER);
        assert_eq!(follow(&app, &me, &near, "follow", &at).await, StatusCode::SEE_OTHER);
        let rows = texts(&db.db, "SELECT CAST(resident_id AS TEXT) FROM case_followers").await;
        assert_eq!(rows.len(), 1, "{name}: following twice is one follow");
        // A case no longer open may not be followed.
        assert_eq!(follow(&app, &me, &rejected, "follow", &at).await, StatusCode::NOT_FOUND);
        let list = get_page(&app, &at, &me.cookie).await;
        assert!(list.body.contains("class=\"followers\">1<"), "{}", list.body);
        assert!(list.body.contains("class=\"secondary unfollow\""), "{}", list.body);

        // My reports show it under the cases I follow; its page shows state and steps, no reporter.
        let reports = get_page(&app, "/m/reports", &me.cookie).await;
        let followed = reports.body.split("id=\"followed\"").nth(1).unwrap_or("");
        assert!(followed.contains(&near), "{}", reports.body);
        let case = get_page(&app, &format!("/m/reports/{near}"), &me.cookie).await;
        assert_eq!(case.status, StatusCode::OK, "{}", case.body);
        assert!(case.body.contains("id=\"timeline\"") && case.body.contains("id=\"unfollow\""));
        assert!(!case.body.contains("id=\"rate\""));
        no_reporter(&case.body);
        // Whoever does not follow it does not open it there.
        let r = get_page(&app, &format!("/m/reports/{near}"), &them.cookie).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        // Staff see how many follow it, on the page and in the JSON.
        let found = get_as(&app, &format!("/api/v1/cases/{near}"), &clerk).await;
        assert_eq!(found.json()["followers"], 1, "{}", found.body);
        let staff = staff_sign_in(&app, &db.db, "clerk").await;
        let p = page(&app, &staff, &format!("/cases/{near_id}")).await;
        assert!(p.body.contains("id=\"followers\">1<"), "{}", p.body);

        // Unfollow, twice: gone from my reports, one audit entry.
        assert_eq!(
            follow(&app, &me, &near, "unfollow", &format!("/m/reports/{near}")).await,
            StatusCode::SEE_OTHER
        );
        assert_eq!(follow(&app, &me, &near, "unfollow", &at).await, StatusCode::SEE_OTHER);
        let reports = get_page(&app, "/m/reports", &me.cookie).await;
        assert!(reports.body.contains("id=\"followed-empty\""), "{}", reports.body);
        let actions = texts(
            &db.db,
            "SELECT action || ' ' || actor || ' ' || subject_id FROM audit_entries WHERE action LIKE 'case.%follow' ORDER BY seq",
        )
        .await;
        assert_eq!(actions.len(), 2, "{actions:?}");
        assert!(actions[0].starts_with("case.follow resident:") && actions[0].ends_with(&near));
        assert!(actions[1].starts_with("case.unfollow resident:") && actions[1].ends_with(&near));
        assert!(audit_ok(&db.db).await, "{name}: the audit chain holds");
    }
}

/// The form of a new need: its CSRF token and key.
async fn order_form(app: &axum::Router, me: &Phone) -> String {
    let form = get_page(app, "/m/orders/new", &me.cookie).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    for kind in ["助老", "助残", "维修", "家政", "法律咨询", "其他"] {
        assert!(form.body.contains(kind), "{kind}");
    }
    input_value(&form.body, "idempotency_key").unwrap()
}

async fn post_order(
    app: &axum::Router,
    me: &Phone,
    key: &str,
    kind: &str,
    description: &str,
) -> axum::http::StatusCode {
    post_form(
        app,
        "/m/orders/new",
        &me.cookie,
        &[
            ("csrf", &me.csrf),
            ("idempotency_key", key),
            ("kind", kind),
            ("description", description),
            ("preferred_time", "周三上午"),
        ],
    )
    .await
    .status
}

#[tokio::test]
async fn a_resident_posts_a_need_and_community_staff_list_decline_or_fulfil_it() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let sms = Arc::new(MemoryGateway::default());
        let app = app_of(state, sms.clone());
        let (other_community, _) = other_grid();
        let me = resident_in(&app, &sms, PHONE, XUEFU).await;
        let them = resident_in(&app, &sms, OTHER_PHONE, &other_community).await;

        // An empty description is refused naming the field; nothing is stored.
        let key = order_form(&app, &me).await;
        let r = post_form(
            &app,
            "/m/orders/new",
            &me.cookie,
            &[
                ("csrf", &me.csrf),
                ("idempotency_key", &key),
                ("kind", "repair"),
                ("description", " "),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.body.contains("data-field=\"description\"") && r.body.contains("需求描述 description"),
            "{}",
            r.body
        );
        assert_eq!(
            post_order(&app, &me, &key, "party", "x").await,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert!(
            texts(&db.db, "SELECT kind FROM cogov_orders").await.is_empty(),
            "{name}"
        );
        // Without the CSRF token: refused.
        let r = post_form(
            &app,
            "/m/orders/new",
            &me.cookie,
            &[("idempotency_key", &key), ("kind", "repair"), ("description", "x")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // One form sent twice makes one need; a second form another.
        assert_eq!(
            post_order(&app, &me, &key, "repair", "厨房水龙头漏水").await,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            post_order(&app, &me, &key, "repair", "厨房水龙头漏水").await,
            StatusCode::SEE_OTHER
        );
        let second = order_form(&app, &me).await;
        assert_eq!(
            post_order(&app, &me, &second, "other", "想学跳广场舞").await,
            StatusCode::SEE_OTHER
        );
        let theirs_key = order_form(&app, &them).await;
        assert_eq!(
            post_order(&app, &them, &theirs_key, "elderly", "陪同老人就医").await,
            StatusCode::SEE_OTHER
        );
        let ids = texts(&db.db, "SELECT CAST(id AS TEXT) FROM cogov_orders ORDER BY id").await;
        assert_eq!(ids.len(), 3, "{name}: {ids:?}");
        let (repair, dance, elsewhere) = (&ids[0], &ids[1], &ids[2]);
        let mine = get_page(&app, "/m/orders", &me.cookie).await;
        assert!(
            mine.body.contains("厨房水龙头漏水") && mine.body.contains("已点单"),
            "{}",
            mine.body
        );
        assert!(!mine.body.contains("陪同老人就医"));

        // The community's staff see the needs of their community only.
        let staff = staff_sign_in(&app, &db.db, "community").await;
        let list = page(&app, &staff, "/cogov/orders").await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert!(
            list.body.contains("href=\"/cogov/orders\""),
            "the navigation links the page"
        );
        assert!(list.body.contains("厨房水龙头漏水") && list.body.contains("想学跳广场舞"));
        assert!(!list.body.contains("陪同老人就医"), "another community's need");
        no_reporter(&list.body);
        // … and may not touch another community's.
        let r = submit(
            &app,
            &staff,
            &format!("/cogov/orders/{elsewhere}/step"),
            &[("step", "list")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        // Staff of another role neither.
        let clerk = staff_sign_in(&app, &db.db, "clerk").await;
        assert_eq!(page(&app, &clerk, "/cogov/orders").await.status, StatusCode::FORBIDDEN);

        // A decline wants its reason; without one nothing changes.
        let at = |id: &str| format!("/cogov/orders/{id}/step");
        let r = submit(&app, &staff, &at(dance), &[("step", "decline"), ("text", " ")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.body.contains("data-field=\"reason\"") && r.body.contains("未采纳原因 reason"),
            "{}",
            r.body
        );
        let r = submit(
            &app,
            &staff,
            &at(dance),
            &[("step", "decline"), ("text", "不属于社区服务范围")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        // Declined is final.
        let r = submit(&app, &staff, &at(dance), &[("step", "list")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        // Listed, then fulfilled with a note (not before, not without it).
        let r = submit(&app, &staff, &at(repair), &[("step", "fulfil"), ("text", "已修好")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        let r = submit(&app, &staff, &at(repair), &[("step", "list")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = submit(&app, &staff, &at(repair), &[("step", "fulfil"), ("text", "")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("data-field=\"note\""), "{}", r.body);
        let r = submit(
            &app,
            &staff,
            &at(repair),
            &[("step", "fulfil"), ("text", "物业师傅已上门更换水龙头")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(
            r.headers[header::LOCATION],
            format!("/cogov/orders?done=fulfilled-{repair}")
        );

        // The resident reads the states with the reason and the note, in both languages.
        let mine = get_page(&app, "/m/orders", &me.cookie).await;
        assert!(
            mine.body.contains("已办结") && mine.body.contains("物业师傅已上门更换水龙头"),
            "{}",
            mine.body
        );
        assert!(
            mine.body.contains("未采纳") && mine.body.contains("不属于社区服务范围"),
            "{}",
            mine.body
        );
        let en = get_page(&app, "/m/orders?lang=en", &me.cookie).await;
        assert!(
            en.body.contains("fulfilled") && en.body.contains("declined"),
            "{}",
            en.body
        );
        no_reporter(&mine.body);

        let actions = texts(
            &db.db,
            "SELECT action || ' ' || actor FROM audit_entries WHERE action LIKE 'cogov.order.%' ORDER BY seq",
        )
        .await;
        let names: Vec<&str> = actions.iter().map(|a| a.split(' ').next().unwrap()).collect();
        assert_eq!(
            names,
            [
                "cogov.order.post",
                "cogov.order.post",
                "cogov.order.post",
                "cogov.order.decline",
                "cogov.order.list",
                "cogov.order.fulfil"
            ],
            "{actions:?}"
        );
        assert!(
            actions[0].ends_with(" resident:1") || actions[0].contains(" resident:"),
            "{actions:?}"
        );
        assert!(actions[3].ends_with(" community"), "{actions:?}");
        assert!(audit_ok(&db.db).await, "{name}: the audit chain holds");
    }
}
