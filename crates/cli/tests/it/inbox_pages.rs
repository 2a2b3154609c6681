//! Inboxes and case lists as staff see them in the browser: each role finds what waits for its
//! step, counts follow the case, lists filter, sort, page and export, and nobody sees a case
//! outside their scope. On SQLite and PostgreSQL.

use axum::http::StatusCode;
use gongzhi_core::cases::attachment::AttachmentLimits;
use serde_json::{Value, json};

use crate::common;
use crate::common::{PageSession, Reply, demo_apps, page, post_as, sign_in, token};

const GRID: &str = "230903011001001"; // 学府社区第1网格
const MATTER: &str = "06001"; // 违法建设: routed to urban management

struct Loop {
    app: axum::Router,
    tokens: std::collections::HashMap<&'static str, String>,
}

impl Loop {
    async fn act(&self, who: &str, id: &Value, action: Value) {
        let r = post_as(
            &self.app,
            &format!("/api/v1/cases/{id}/actions"),
            &self.tokens[who],
            &action,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{who} {action}: {}", r.body);
    }

    async fn report(&self, description: &str) -> Value {
        let body = json!({"channel": "hotline", "matter": MATTER, "description": description, "grid_code": GRID});
        let r = post_as(&self.app, "/api/v1/cases", &self.tokens["clerk"], &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.json()
    }
}

async fn upload_photo(app: &axum::Router, token: &str) -> String {
    let jpeg = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/plain.jpg")).unwrap();
    let r = common::upload_photo(app, token, &jpeg).await;
    assert!(r.status.is_success(), "upload: {}", r.body);
    r.json()["id"].to_string()
}

/// The numbers of the cases listed on a page.
fn listed(r: &Reply) -> Vec<String> {
    r.body
        .split("<a href=\"/cases/")
        .skip(1)
        .filter_map(|rest| rest.split_once("\">").map(|(_, after)| after))
        .filter_map(|after| after.split_once('<').map(|(n, _)| n.to_string()))
        .filter(|n| n.len() == 13)
        .collect()
}

async fn inbox(app: &axum::Router, who: &PageSession, name: &str) -> Reply {
    let r = page(app, who, &format!("/inbox/{name}")).await;
    assert_eq!(r.status, StatusCode::OK, "/inbox/{name}: {}", r.body);
    r
}

async fn counts(app: &axum::Router, who: &PageSession) -> Value {
    let r = page(app, who, "/inbox/counts.json").await;
    assert_eq!(r.status, StatusCode::OK);
    r.json()
}

#[tokio::test]
async fn each_role_finds_the_case_in_the_inbox_of_its_step_and_the_count_follows() {
    for (db, state) in demo_apps().await {
        let blobs = gongzhi_store::Blobs::in_data_dir(&gongzhi_store::testing::TestDb::temp_dir());
        let state = state.with_attachments(blobs, AttachmentLimits::default());
        let app = gongzhi_web::router(state);
        let mut tokens = std::collections::HashMap::new();
        for who in ["clerk", "shiftlead", "dispatcher", "handler", "gridworker", "community"] {
            tokens.insert(who, token(&app, &db, who).await);
        }
        let l = Loop {
            app: app.clone(),
            tokens,
        };
        let clerk = sign_in(&app, &db, "clerk").await;
        let shiftlead = sign_in(&app, &db, "shiftlead").await;
        let dispatcher = sign_in(&app, &db, "dispatcher").await;
        let handler = sign_in(&app, &db, "handler").await;
        let gridworker = sign_in(&app, &db, "gridworker").await;

        let before = counts(&app, &clerk).await;
        assert_eq!(before["inboxes"]["to_accept"], 0, "{}", db.backend_name());
        let case = l.report("学府小区3号楼旁正在违法搭建彩钢房").await;
        let number = case["number"].as_str().unwrap().to_string();
        let id = case["id"].clone();

        // The clerk: the case waits to be accepted; the count beside 待办 says so.
        let r = inbox(&app, &clerk, "to_accept").await;
        assert_eq!(listed(&r), [number.clone()]);
        assert!(r.body.contains("待受理"));
        assert_eq!(counts(&app, &clerk).await["inboxes"]["to_accept"], 1);
        let home = page(&app, &clerk, "/inbox").await;
        assert!(home.body.contains("id=\"nav-inbox-count\">1<"), "nav count");
        assert!(listed(&home).contains(&number), "all work lists it too");
        // Not yet anyone else's step.
        assert!(listed(&inbox(&app, &dispatcher, "to_dispatch").await).is_empty());

        l.act("clerk", &id, json!({"action": "accept"})).await;
        assert_eq!(
            counts(&app, &clerk).await["inboxes"]["to_accept"],
            0,
            "the count follows"
        );
        assert_eq!(listed(&inbox(&app, &shiftlead, "to_register").await), [number.clone()]);

        l.act("shiftlead", &id, json!({"action": "register"})).await;
        assert_eq!(listed(&inbox(&app, &dispatcher, "to_dispatch").await), [number.clone()]);

        l.act(
            "dispatcher",
            &id,
            json!({"action": "dispatch", "lead": {"kind": "department", "code": "urban-management"}}),
        )
        .await;
        let r = inbox(&app, &handler, "to_acknowledge").await;
        assert_eq!(listed(&r), [number.clone()]);
        assert!(r.body.contains("城市管理综合执法局"), "the lead unit by name");
        // The grid worker is not the lead: nothing to acknowledge.
        assert!(listed(&inbox(&app, &gridworker, "to_acknowledge").await).is_empty());

        l.act("handler", &id, json!({"action": "acknowledge"})).await;
        assert_eq!(listed(&inbox(&app, &handler, "to_handle").await), [number.clone()]);

        // A request for more time waits for the dispatcher.
        l.act(
            "handler",
            &id,
            json!({"action": "request_extension", "reason": "需协调拆除队伍",
                   "extend_by": {"kind": "limit", "limit": {"amount": 2, "unit": "work_days"}}}),
        )
        .await;
        assert_eq!(listed(&inbox(&app, &dispatcher, "requests").await), [number.clone()]);
        assert!(listed(&inbox(&app, &clerk, "requests").await).is_empty());
        l.act("dispatcher", &id, json!({"action": "approve_extension"})).await;
        assert!(listed(&inbox(&app, &dispatcher, "requests").await).is_empty());

        // A whistle summons the department: it waits to report in.
        l.act(
            "community",
            &id,
            json!({"action": "whistle", "departments": ["urban-management"]}),
        )
        .await;
        assert_eq!(listed(&inbox(&app, &handler, "whistles").await), [number.clone()]);
        l.act(
            "handler",
            &id,
            json!({"action": "report_in", "department": "urban-management"}),
        )
        .await;
        assert!(listed(&inbox(&app, &handler, "whistles").await).is_empty());

        let photo = upload_photo(&app, &l.tokens["handler"]).await;
        l.act(
            "handler",
            &id,
            json!({"action": "report_back", "result": "违建已拆除", "photos": [photo]}),
        )
        .await;
        assert_eq!(listed(&inbox(&app, &gridworker, "to_check").await), [number.clone()]);
        l.act("gridworker", &id, json!({"action": "check_pass"})).await;
        assert_eq!(listed(&inbox(&app, &shiftlead, "to_close").await), [number.clone()]);
        l.act("shiftlead", &id, json!({"action": "close"})).await;
        for (who, name) in [
            (&shiftlead, "to_close"),
            (&gridworker, "to_check"),
            (&handler, "to_handle"),
        ] {
            assert!(listed(&inbox(&app, who, name).await).is_empty(), "{name} empties");
        }
    }
}

#[tokio::test]
async fn inboxes_belong_to_roles_and_bad_addresses_say_why() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let clerk = sign_in(&app, &db, "clerk").await;
        let r = page(&app, &clerk, "/inbox").await;
        assert_eq!(r.status, StatusCode::OK);
        for shown in ["待受理", "待审批申请", "已超期", "督办中"] {
            assert!(r.body.contains(shown), "{shown}");
        }
        assert!(!r.body.contains("待派遣"), "the dispatcher's inbox is not the clerk's");
        let r = page(&app, &clerk, "/inbox/to_dispatch").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.body.contains("to_dispatch"));
        let r = page(&app, &clerk, "/inbox/to_accept?page=0").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("page"));
        let r = page(&app, &clerk, "/inbox?lang=en").await;
        assert!(r.body.contains("To accept") && r.body.contains("Overdue"));
        // The system administrator works on accounts, not cases.
        let admin = sign_in(&app, &db, "admin").await;
        let r = page(&app, &admin, "/inbox").await;
        assert!(r.body.contains("没有待办箱"));
        let signed_out = common::browse(&app, "/inbox").await;
        assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn the_case_list_filters_sorts_pages_and_stays_in_scope() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let clerk_token = token(&app, &db, "clerk").await;
        let mut numbers = Vec::new();
        // 55 cases in the grid worker's grid and one in another district.
        // The hotline's through the clerk, the patrol's through the grid worker.
        let gridworker_token = token(&app, &db, "gridworker").await;
        for i in 0..55 {
            let (channel, reporter) = if i % 2 == 0 {
                ("hotline", &clerk_token)
            } else {
                ("patrol", &gridworker_token)
            };
            let body = json!({"channel": channel, "matter": MATTER,
                              "description": format!("第{i}处违建"), "grid_code": GRID});
            let r = post_as(&app, "/api/v1/cases", reporter, &body).await;
            assert_eq!(r.status, StatusCode::CREATED);
            numbers.push(r.json()["number"].as_str().unwrap().to_string());
        }
        let elsewhere = json!({"channel": "hotline", "matter": MATTER, "description": "别处", "address": "万宝河镇"});
        let other = post_as(&app, "/api/v1/cases", &clerk_token, &elsewhere).await;
        let other_number = other.json()["number"].as_str().map(str::to_string);

        let leader = sign_in(&app, &db, "leader").await;
        let r = page(&app, &leader, "/cases").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let first = listed(&r);
        assert_eq!(first.len(), 50, "fifty a page");
        assert!(r.body.contains("href=\"/cases?page=2\""), "numbered pages");
        let total = 55 + usize::from(other_number.is_some());
        assert!(r.body.contains(&format!("<b>{total}</b>")));
        let r = page(&app, &leader, "/cases?page=2").await;
        assert_eq!(listed(&r).len(), total - 50);
        let r = page(&app, &leader, "/cases?sort=oldest").await;
        assert_eq!(listed(&r)[0], numbers[0], "oldest first");
        let r = page(&app, &leader, "/cases?channel=patrol").await;
        assert!(r.body.contains("<b>27</b>"), "filtered by channel");
        assert!(r.body.contains("channel=patrol&amp;page=2") || listed(&r).len() == 27);
        let r = page(&app, &leader, &format!("/cases?within={GRID}&state=reported")).await;
        assert!(r.body.contains("<b>55</b>"));

        // The grid worker sees the grid, never the other district.
        let gridworker = sign_in(&app, &db, "gridworker").await;
        let r = page(&app, &gridworker, "/cases?sort=oldest&page=2").await;
        assert!(r.body.contains("<b>55</b>"));
        if let Some(n) = &other_number {
            assert!(!listed(&r).contains(n));
        }
        let r = page(&app, &gridworker, "/cases?within=230904000000").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("不在您的权限范围内"));
        // The department sees nothing it does not lead.
        let handler = sign_in(&app, &db, "handler").await;
        let r = page(&app, &handler, "/cases").await;
        assert!(listed(&r).is_empty());

        // Bad filters name the field and list nothing.
        for (query, field) in [
            ("state=finished", "state"),
            ("matter=x", "matter"),
            ("sort=up", "sort"),
            ("from=27.11", "from"),
        ] {
            let r = page(&app, &leader, &format!("/cases?{query}")).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}");
            assert!(r.body.contains(field), "{query}: {}", r.body);
        }
    }
}

#[tokio::test]
async fn the_list_exports_to_excel_and_the_export_is_audited() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let clerk_token = token(&app, &db, "clerk").await;
        let mut numbers = Vec::new();
        for i in 0..3 {
            let body = json!({"channel": "hotline", "matter": MATTER, "description": format!("第{i}处违建"), "grid_code": GRID});
            let r = post_as(&app, "/api/v1/cases", &clerk_token, &body).await;
            numbers.push(r.json()["number"].as_str().unwrap().to_string());
        }
        let leader = sign_in(&app, &db, "leader").await;
        let r = page(&app, &leader, "/cases?channel=hotline").await;
        assert!(r.body.contains("href=\"/cases.xlsx?channel=hotline\""));
        let r = page(&app, &leader, "/cases.xlsx?channel=hotline&sort=oldest").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.headers["content-type"].to_str().unwrap().contains("spreadsheetml"));
        assert!(r.headers["content-disposition"].to_str().unwrap().contains(".xlsx"));
        let rows = gongzhi_office::read_xlsx("cases.xlsx", &r.bytes).unwrap();
        assert_eq!(rows[0][0], "案件编号");
        let exported: Vec<&str> = rows[1..].iter().map(|row| row[0].as_str()).collect();
        assert_eq!(exported, numbers.iter().map(String::as_str).collect::<Vec<_>>());
        let audit = gongzhi_store::audit::entries_about(&db, "cases", "list").await.unwrap();
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].action, "cases.export");
        assert_eq!(audit[0].actor, "leader");
        assert_eq!(audit[0].detail["rows"], 3);
    }
}
