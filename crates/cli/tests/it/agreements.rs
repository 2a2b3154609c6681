//! Co-building agreements (共建协议, issue 16 item 4) through the API and the pages on SQLite and
//! PostgreSQL: a community worker signs an agreement with a member organization of the demo
//! registry (over the API, and another on the page), records what was done under two
//! commitments, renews it (the old one shows renewed and links to the new), and ends the new one
//! with a reason. Wrong state 409, another community 403 (unknown 404), an unknown organization
//! or a bad field 422 naming it: each changing nothing (rows and audit counted before and after).
//! Every change is audited and the chain holds.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::Duration;
use gongzhi_core::audit::SYSTEM_ACTOR;
use gongzhi_core::orgs::CreditCode;
use gongzhi_core::orgs::registry::{NewMemberOrganization, OrgKind};
use gongzhi_core::people::cipher::{CipherProvider, SoftwareCipher};
use gongzhi_core::people::{Grant, Role, Scope};
use gongzhi_core::territory::{Level, TerritoryCode};
use gongzhi_demo::registry::DemoRegistryOptions;
use gongzhi_store::testing::{TestDb, audit_key};
use serde_json::{Value, json};

use crate::common;
use crate::common::resident::texts;
use crate::common::{Reply, get_as, post_as, token};

/// 学府社区 of 桃东街道: the demo community worker's.
const COMMUNITY: &str = "230903011001";
const STREET: &str = "230903011000";

fn today() -> chrono::NaiveDate {
    gongzhi_core::time::city_time(chrono::Utc::now()).date_naive()
}

fn day(offset: i64) -> String {
    (today() + Duration::days(offset)).to_string()
}

/// A member organization of `community` in the registry: the demo registry's, or one written
/// now; its id.
pub(crate) async fn member_organization(db: &TestDb, community: &str) -> i64 {
    let find =
        format!("SELECT CAST(id AS TEXT) FROM member_organizations WHERE community_code = '{community}' ORDER BY id");
    if let Some(id) = texts(db, &find).await.first() {
        return id.parse().unwrap();
    }
    let mut tx = db.begin().await.unwrap();
    gongzhi_store::orgs::insert_member_organizations_tx(
        &mut tx,
        &audit_key(),
        SYSTEM_ACTOR,
        &[NewMemberOrganization {
            credit_code: CreditCode::from_parts("91", &community[..6], "MA000777").unwrap(),
            name: "七台河共建测试有限公司".into(),
            kind: OrgKind::Enterprise,
            community_code: Some(community.into()),
            street_code: format!("{}000", &community[..9]),
            address: "学府街1号".into(),
        }],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    texts(db, &find).await[0].parse().unwrap()
}

/// A community of the demo city outside 桃东街道.
pub(crate) fn other_community() -> String {
    common::demo_nodes()
        .iter()
        .map(|n| n.code.to_string())
        .find(|c| TerritoryCode::parse(c).is_ok_and(|t| t.level() == Level::Community) && !c.starts_with(&STREET[..9]))
        .expect("a community of another street")
}

/// The rows of agreements and their lists, and the audit record's head: what a refusal must
/// leave as it was.
async fn counts(db: &TestDb) -> Vec<String> {
    let mut out = Vec::new();
    for table in [
        "cogov_agreements",
        "cogov_agreement_commitments",
        "cogov_agreement_appointments",
        "cogov_agreement_pairings",
        "cogov_agreement_records",
    ] {
        out.extend(texts(db, &format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}")).await);
    }
    out.push(gongzhi_store::audit::head(db).await.unwrap().seq.to_string());
    out
}

fn refused(r: &Reply, status: StatusCode, code: &str, field: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.body);
    let j = r.json();
    assert_eq!(j["error"]["code"], code, "{}", r.body);
    if let Some(f) = field {
        assert_eq!(j["error"]["field"], f, "{}", r.body);
    }
}

fn cipher() -> Arc<dyn CipherProvider> {
    Arc::new(SoftwareCipher::new(&[9u8; 32]))
}

#[tokio::test]
async fn a_community_signs_records_renews_and_ends_a_co_building_agreement() {
    let opts = DemoRegistryOptions {
        seed: 7,
        scale: 0.01,
        within: Some(STREET[..9].into()),
    };
    for (db, app) in common::registry_apps(cipher(), opts).await {
        let name = db.backend_name();
        let community = token(&app, &db, "community").await;
        let street = token(&app, &db, "street").await;
        let leader = token(&app, &db, "leader").await;
        let dispatcher = token(&app, &db, "dispatcher").await;
        let other = other_community();
        crate::meetings::account(
            &db,
            "community2",
            Grant {
                role: Role::CommunityWorker,
                scope: Scope::Territory(TerritoryCode::parse(&other).unwrap()),
            },
        )
        .await;
        let community2 = token(&app, &db, "community2").await;
        let org = member_organization(&db, COMMUNITY).await;
        let org_name = texts(&db, &format!("SELECT name FROM member_organizations WHERE id = {org}")).await[0].clone();

        let sign_body = |organization: Value, term_from: String, term_to: String, commitments: Value| {
            json!({
                "community": COMMUNITY,
                "organization": organization,
                "term_from": term_from,
                "term_to": term_to,
                "commitments": commitments,
                "appointments": [{"person": "张建国", "organization_post": "党委副书记", "community_post": "社区大党委兼职委员"}],
                "pairings": [{"first": "李医生", "second": "社区卫生站王护士", "subject": "慢病随访"}],
            })
        };
        let commitments = json!([
            {"mechanism": "resources", "text": "每月开放单位会议室供社区活动使用"},
            {"mechanism": "activities", "text": "每季度联合开展一次志愿服务"},
            {"mechanism": "talent", "text": "选派技术骨干结对培养社区工作者"},
        ]);
        let good = || sign_body(json!(org), day(-30), day(335), commitments.clone());
        let uri = "/api/v1/cogov/agreements";

        // Refusals before anything is signed: each names its field or refuses the caller, and
        // changes nothing.
        let before = counts(&db).await;
        let r = post_as(
            &app,
            uri,
            &community,
            &sign_body(json!(999_999), day(-30), day(335), commitments.clone()),
        )
        .await;
        refused(
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("organization"),
        );
        let r = post_as(
            &app,
            uri,
            &community,
            &sign_body(json!(org), day(10), day(9), commitments.clone()),
        )
        .await;
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("term_to"));
        let r = post_as(
            &app,
            uri,
            &community,
            &sign_body(json!(org), day(-30), day(335), json!([])),
        )
        .await;
        refused(
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("commitments"),
        );
        let r = post_as(
            &app,
            uri,
            &community,
            &sign_body(
                json!(org),
                day(-30),
                day(335),
                json!([{"mechanism": "golf", "text": "x"}]),
            ),
        )
        .await;
        refused(
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("commitments"),
        );
        let mut bad = good();
        bad["community"] = json!(STREET);
        let r = post_as(&app, uri, &community, &bad).await;
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("community"));
        for who in [&community2, &leader, &dispatcher] {
            let r = post_as(&app, uri, who, &good()).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        }
        assert_eq!(counts(&db).await, before, "{name}: refused signings change nothing");

        // Signed over the API.
        let r = post_as(&app, uri, &community, &good()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        let a = r.json();
        let old = a["id"].as_i64().unwrap();
        assert_eq!(
            (a["state"].as_str(), a["standing"].as_str(), a["state_label"].as_str()),
            (Some("active"), Some("active"), Some("在约")),
            "{a}"
        );
        assert_eq!(a["organization_name"], org_name.as_str());
        assert_eq!(a["commitments"].as_array().unwrap().len(), 3, "{a}");
        assert_eq!(a["commitments"][0]["mechanism_label"], "资源共享");
        assert_eq!(a["appointments"][0]["community_post"], "社区大党委兼职委员");
        assert_eq!(a["pairings"][0]["subject"], "慢病随访");
        let c1 = a["commitments"][0]["id"].as_i64().unwrap();
        let c2 = a["commitments"][1]["id"].as_i64().unwrap();
        let old_uri = format!("{uri}/{old}");

        // Who reads it: the community, the street, the leader; not another community's worker,
        // nor the dispatcher; an unknown one is 404.
        for who in [&community, &street, &leader] {
            assert_eq!(get_as(&app, &old_uri, who).await.status, StatusCode::OK, "{name}");
        }
        for who in [&community2, &dispatcher] {
            assert_eq!(
                get_as(&app, &old_uri, who).await.status,
                StatusCode::FORBIDDEN,
                "{name}"
            );
        }
        assert_eq!(
            get_as(&app, &format!("{uri}/999999"), &community).await.status,
            StatusCode::NOT_FOUND
        );
        let list = get_as(&app, &format!("{uri}?community={COMMUNITY}"), &leader)
            .await
            .json();
        assert_eq!(list["agreements"][0]["id"], old, "{list}");
        assert_eq!(list["mechanisms"].as_array().unwrap().len(), 8);
        let list = get_as(&app, uri, &community2).await.json();
        assert_eq!(list["agreements"].as_array().unwrap().len(), 0, "{name}: {list}");
        let r = get_as(&app, &format!("{uri}?community={COMMUNITY}"), &community2).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

        // What was done under two commitments: one over the API, one on the page.
        let records = format!("{old_uri}/records");
        let before = counts(&db).await;
        let r = post_as(
            &app,
            &records,
            &community,
            &json!({"commitment": 999_999, "date": day(0), "text": "x"}),
        )
        .await;
        refused(
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("commitment"),
        );
        let r = post_as(
            &app,
            &records,
            &community,
            &json!({"commitment": c1, "date": day(1), "text": "x"}),
        )
        .await;
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("date"));
        let r = post_as(
            &app,
            &records,
            &community,
            &json!({"commitment": c1, "date": day(-31), "text": "x"}),
        )
        .await;
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("date"));
        let r = post_as(
            &app,
            &records,
            &community,
            &json!({"commitment": c1, "date": day(0), "text": "x", "people": -3}),
        )
        .await;
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("people"));
        for who in [&community2, &leader] {
            let r = post_as(
                &app,
                &records,
                who,
                &json!({"commitment": c1, "date": day(0), "text": "x"}),
            )
            .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        }
        assert_eq!(counts(&db).await, before, "{name}: refused records change nothing");
        let r = post_as(
            &app,
            &records,
            &community,
            &json!({"commitment": c1, "date": day(-2), "text": "单位会议室开放，举办老年人智能手机培训", "people": 36}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        assert_eq!(r.json()["commitments"][0]["records"][0]["people"], 36, "{}", r.body);

        let session = common::sign_in(&app, &db, "community").await;
        let page = common::page(&app, &session, &format!("/cogov/agreements/{old}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("共建承诺") && page.body.contains("在约"), "{name}");
        let r = common::submit(
            &app,
            &session,
            &format!("/cogov/agreements/{old}/records"),
            &[
                ("commitment", &c2.to_string()),
                ("date", &day(-1)),
                ("text", "联合开展社区环境清洁志愿服务"),
                ("people", ""),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let r = common::submit(
            &app,
            &session,
            &format!("/cogov/agreements/{old}/records"),
            &[("commitment", &c2.to_string()), ("date", &day(-1)), ("text", " ")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert!(
            r.body.contains("data-field=\"text\""),
            "{name}: the page names the field"
        );
        let v = get_as(&app, &old_uri, &leader).await.json();
        assert_eq!(
            v["commitments"][1]["records"][0]["text"], "联合开展社区环境清洁志愿服务",
            "{v}"
        );
        assert!(v["commitments"][1]["records"][0]["people"].is_null(), "{v}");

        // Renewed: a term reaching past the old one's end, 422 otherwise; the lists carry over.
        let renew = format!("{old_uri}/renew");
        let before = counts(&db).await;
        let r = post_as(
            &app,
            &renew,
            &community,
            &json!({"term_from": day(336), "term_to": day(300)}),
        )
        .await;
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("term_to"));
        let r = post_as(
            &app,
            &renew,
            &community,
            &json!({"term_from": day(300), "term_to": day(335)}),
        )
        .await;
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("term_to"));
        let r = post_as(
            &app,
            &renew,
            &community2,
            &json!({"term_from": day(336), "term_to": day(700)}),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(counts(&db).await, before, "{name}: refused renewals change nothing");
        let r = post_as(
            &app,
            &renew,
            &community,
            &json!({"term_from": day(336), "term_to": day(700)}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        let n = r.json();
        let new = n["id"].as_i64().unwrap();
        assert_eq!(
            (n["renews"].as_i64(), n["state"].as_str()),
            (Some(old), Some("active")),
            "{n}"
        );
        assert_eq!(n["organization"], org);
        assert_eq!(n["commitments"].as_array().unwrap().len(), 3, "{n}");
        assert_eq!(n["appointments"].as_array().unwrap().len(), 1, "{n}");
        let o = get_as(&app, &old_uri, &community).await.json();
        assert_eq!(
            (o["state"].as_str(), o["renewed_by"].as_i64()),
            (Some("renewed"), Some(new)),
            "{o}"
        );
        let page = common::page(&app, &session, &format!("/cogov/agreements/{old}")).await;
        assert!(
            page.body.contains("已续签") && page.body.contains(&format!("href=\"/cogov/agreements/{new}\"")),
            "{name}: the old agreement shows renewed and links to the new"
        );
        let en = common::page(&app, &session, &format!("/cogov/agreements/{old}?lang=en")).await;
        assert!(en.body.contains("renewed") && en.body.contains("Renewed by"), "{name}");

        // The old one is renewed now: renewing, ending or recording under it is 409.
        let before = counts(&db).await;
        let r = post_as(
            &app,
            &renew,
            &community,
            &json!({"term_from": day(336), "term_to": day(800)}),
        )
        .await;
        refused(&r, StatusCode::CONFLICT, "wrong_agreement_state", None);
        let r = post_as(&app, &format!("{old_uri}/end"), &community, &json!({"reason": "x"})).await;
        refused(&r, StatusCode::CONFLICT, "wrong_agreement_state", None);
        let r = post_as(
            &app,
            &records,
            &community,
            &json!({"commitment": c1, "date": day(0), "text": "x"}),
        )
        .await;
        refused(&r, StatusCode::CONFLICT, "wrong_agreement_state", None);
        assert_eq!(counts(&db).await, before, "{name}: a 409 changes nothing");

        // The new one ended with a reason (the reason required), then nothing more.
        let new_uri = format!("{uri}/{new}");
        let before = counts(&db).await;
        let r = post_as(&app, &format!("{new_uri}/end"), &community, &json!({"reason": " "})).await;
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("reason"));
        let r = post_as(&app, &format!("{new_uri}/end"), &leader, &json!({"reason": "单位迁出"})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(counts(&db).await, before, "{name}");
        let r = post_as(
            &app,
            &format!("{new_uri}/end"),
            &community,
            &json!({"reason": "单位整体迁出本辖区"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(
            (r.json()["state"].as_str(), r.json()["end_reason"].as_str()),
            (Some("ended"), Some("单位整体迁出本辖区"))
        );
        let before = counts(&db).await;
        let r = post_as(&app, &format!("{new_uri}/end"), &community, &json!({"reason": "again"})).await;
        refused(&r, StatusCode::CONFLICT, "wrong_agreement_state", None);
        let r = post_as(
            &app,
            &format!("{new_uri}/renew"),
            &community,
            &json!({"term_from": day(701), "term_to": day(900)}),
        )
        .await;
        refused(&r, StatusCode::CONFLICT, "wrong_agreement_state", None);
        assert_eq!(counts(&db).await, before, "{name}");

        // A second agreement signed on the page, with the form's lists; a refused field shown.
        let list = common::page(&app, &session, "/cogov/agreements").await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert!(
            list.body.contains("已终止") && list.body.contains("签订共建协议"),
            "{name}"
        );
        let org2 = org.to_string();
        let (from, to) = (day(0), day(365));
        let mut fields = vec![
            ("community", COMMUNITY),
            ("organization", org2.as_str()),
            ("term_from", from.as_str()),
            ("term_to", to.as_str()),
            ("commitment_venues", "开放职工活动中心"),
            ("commitment_problems", "协助解决老旧小区停车难"),
            ("appt_person_1", "赵书记"),
            ("appt_org_post_1", "支部书记"),
            ("appt_community_post_1", "兼职委员"),
        ];
        let before = counts(&db).await;
        let mut no_commitment = fields.clone();
        no_commitment.retain(|(k, _)| !k.starts_with("commitment_"));
        let r = common::submit(&app, &session, "/cogov/agreements", &no_commitment).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert!(r.body.contains("data-field=\"commitments\""), "{name}");
        fields.push(("pair_first_1", "钱工程师"));
        let r = common::submit(&app, &session, "/cogov/agreements", &fields).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: a half pairing: {}",
            r.body
        );
        assert!(r.body.contains("data-field=\"pairings\""), "{name}");
        assert_eq!(counts(&db).await, before, "{name}: refused forms change nothing");
        fields.pop();
        let r = common::submit(&app, &session, "/cogov/agreements", &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let location = r.headers["location"].to_str().unwrap().to_string();
        let second: i64 = location
            .trim_start_matches("/cogov/agreements/")
            .split('?')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let s = get_as(&app, &format!("{uri}/{second}"), &community).await.json();
        let mechanisms: Vec<&str> = s["commitments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["mechanism"].as_str().unwrap())
            .collect();
        assert_eq!(mechanisms, ["venues", "problems"], "{s}");
        assert_eq!(s["appointments"][0]["person"], "赵书记");
        // Renewed on the page with the term it proposes, and the renewal ended there.
        let page = common::page(&app, &session, &format!("/cogov/agreements/{second}")).await;
        let (from, to) = (
            common::input_value(&page.body, "term_from").unwrap(),
            common::input_value(&page.body, "term_to").unwrap(),
        );
        assert_eq!(from, day(366), "{name}: the renewal starts the day after");
        let r = common::submit(
            &app,
            &session,
            &format!("/cogov/agreements/{second}/renew"),
            &[("term_from", &from), ("term_to", &to)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let location = r.headers["location"].to_str().unwrap().to_string();
        let third: i64 = location
            .trim_start_matches("/cogov/agreements/")
            .split('?')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            get_as(&app, &format!("{uri}/{third}"), &community).await.json()["renews"],
            second
        );
        let before = counts(&db).await;
        let r = common::submit(
            &app,
            &session,
            &format!("/cogov/agreements/{third}/end"),
            &[("reason", "")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert!(r.body.contains("data-field=\"reason\""), "{name}");
        let r = common::submit(
            &app,
            &session,
            &format!("/cogov/agreements/{second}/end"),
            &[("reason", "x")],
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::CONFLICT,
            "{name}: a renewed one is not ended: {}",
            r.body
        );
        assert!(r.body.contains("已续签"), "{name}");
        assert_eq!(counts(&db).await, before, "{name}");
        let r = common::submit(
            &app,
            &session,
            &format!("/cogov/agreements/{third}/end"),
            &[("reason", "协议双方协商一致终止")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let page = common::page(&app, &session, &format!("/cogov/agreements/{third}")).await;
        assert!(
            page.body.contains("已终止") && page.body.contains("协议双方协商一致终止"),
            "{name}"
        );
        assert!(!page.body.contains("id=\"new-record\""), "{name}: no forms once ended");

        let other_session = common::sign_in(&app, &db, "community2").await;
        let r = common::page(&app, &other_session, &format!("/cogov/agreements/{second}")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: another community's agreement");

        // An active agreement whose term has passed reads as expired (computed, not stored), and
        // may still be renewed.
        let r = post_as(
            &app,
            uri,
            &community,
            &sign_body(json!(org), day(-400), day(-10), commitments.clone()),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        let e = r.json();
        assert_eq!(
            (
                e["state"].as_str(),
                e["standing"].as_str(),
                e["standing_label"].as_str()
            ),
            (Some("active"), Some("expired"), Some("已到期")),
            "{e}"
        );
        let expired = e["id"].as_i64().unwrap();
        let r = post_as(
            &app,
            &format!("{uri}/{expired}/renew"),
            &community,
            &json!({"term_from": day(-9), "term_to": day(356)}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        assert_eq!(r.json()["standing"], "active");

        // Every change audited, the chain intact.
        let actions = |id: i64| {
            let db = &db;
            async move {
                gongzhi_store::audit::entries_about(db, "agreement", &id.to_string())
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|e| e.action)
                    .collect::<Vec<_>>()
            }
        };
        let o = actions(old).await;
        assert_eq!(
            o,
            [
                "cogov.agreement.sign",
                "cogov.agreement.record",
                "cogov.agreement.record",
                "cogov.agreement.renew"
            ],
            "{name}"
        );
        assert_eq!(
            actions(new).await,
            ["cogov.agreement.sign", "cogov.agreement.end"],
            "{name}"
        );
        assert_eq!(
            actions(second).await,
            ["cogov.agreement.sign", "cogov.agreement.renew"],
            "{name}"
        );
        assert_eq!(
            actions(third).await,
            ["cogov.agreement.sign", "cogov.agreement.end"],
            "{name}"
        );
        assert!(common::resident::audit_ok(&db).await, "{name}: the audit chain holds");
    }
}
