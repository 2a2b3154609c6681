//! Rules as data over HTTP, on both databases: an administrator imports a new responsibility list
//! (XLSX or CSV) or a calendar year and the server's rules change at once; bad files are refused
//! with every bad row; staff read and download; the matter picker finds matters.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, TimeZone, Utc};
use gongzhi_core::audit::SYSTEM_ACTOR;
use gongzhi_core::cases::responsibility::ResponsibilityList;
use gongzhi_core::cases::rules::CaseRules;
use gongzhi_core::cases::taxonomy::TypeCode;
use gongzhi_core::cases::{Limit, LimitUnit, UnitRef, WorkClock};
use gongzhi_core::orgs::DepartmentCode;
use gongzhi_core::people::credentials::IssuedToken;
use gongzhi_core::people::{Grant, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_core::time::CITY_OFFSET;
use gongzhi_office::{Format, read_rows, write_rows};
use gongzhi_store::testing::{TestDb, audit_key};
use gongzhi_web::AppState;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply { status, headers, body }
}

async fn get(app: &Router, uri: &str, token: Option<&str>) -> Reply {
    let mut r = Request::get(uri).header(header::ACCEPT_LANGUAGE, "zh-CN");
    if let Some(t) = token {
        r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    send(app, r.body(Body::empty()).unwrap()).await
}

async fn post(app: &Router, uri: &str, token: &str, content_type: &str, body: Vec<u8>) -> Reply {
    let r = Request::post(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ACCEPT_LANGUAGE, "zh-CN")
        .body(Body::from(body))
        .unwrap();
    send(app, r).await
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const BOUNDARY: &str = "rules-test-boundary";

fn form(filename: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A signed-in account holding `role` at the city; returns its bearer token.
async fn sign_in(db: &gongzhi_store::Db, username: &str, role: Role, n: u8) -> String {
    let scope = Scope::Territory(TerritoryCode::parse("230900000000").unwrap());
    let key = audit_key();
    db.create_account(username, username, None, &[Grant { role, scope }], SYSTEM_ACTOR, &key)
        .await
        .unwrap();
    let account = db.account_by_username(username).await.unwrap().unwrap();
    let token = IssuedToken::from_random([n; 32]);
    db.insert_token(
        &token.hash,
        &account,
        "test",
        Utc::now() + chrono::Duration::hours(1),
        &key,
    )
    .await
    .unwrap();
    token.secret
}

struct App {
    db: TestDb,
    state: AppState,
    router: Router,
    admin: String,
    staff: String,
}

async fn apps() -> Vec<App> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let state = AppState::new(db.db.clone()).await.unwrap().with_audit_key(audit_key());
        let router = gongzhi_web::router(state.clone());
        let admin = sign_in(&db, "admin", Role::SystemAdmin, 1).await;
        let staff = sign_in(&db, "dispatcher", Role::Dispatcher, 2).await;
        out.push(App {
            db,
            state,
            router,
            admin,
            staff,
        });
    }
    out
}

/// The shipped list relabelled, with road snow at street level (item 39) handed to urban management.
fn revised_rows(label: &str, valid_from: &str) -> Vec<Vec<String>> {
    let mut rows = CaseRules::qitaihe().unwrap().responsibility.to_rows();
    for r in rows.iter_mut().skip(1) {
        r[0] = label.to_string();
        r[1] = valid_from.to_string();
        if r[2] == "39" {
            r[7] = "department".into();
            r[8] = "urban-management".into();
        }
    }
    rows
}

fn snow_handler(rules: &CaseRules) -> UnitRef {
    let grid = TerritoryCode::parse("230903011001001").unwrap();
    let rule = rules
        .responsibility
        .route(&TypeCode::parse("10001").unwrap(), &grid, None, None)
        .unwrap();
    rule.unit_for(&grid).unwrap()
}

#[tokio::test]
async fn an_administrator_imports_a_new_list_and_routing_follows_at_once() {
    for app in apps().await {
        let name = app.db.backend_name();
        let street = UnitRef::Territory(TerritoryCode::parse("230903011000").unwrap());
        assert_eq!(snow_handler(&app.state.rules()), street, "{name}");
        // Another server on the same database.
        let other = AppState::new(app.db.db.clone()).await.unwrap();

        let xlsx = write_rows(Format::Xlsx, "职责清单", &revised_rows("2026年11月修订", "2026-11-15")).unwrap();
        let r = post(&app.router, "/api/v1/rules/responsibility", &app.admin, XLSX, xlsx).await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{name}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let v = r.json();
        assert_eq!(v["version"], "2026年11月修订");
        assert_eq!(v["rule_count"], 84);
        assert_eq!(v["in_force"], true);
        assert_eq!(v["imported_by"], "admin");
        let urban = UnitRef::Department(DepartmentCode::parse("urban-management").unwrap());
        assert_eq!(snow_handler(&app.state.rules()), urban, "{name}: this server at once");
        assert!(other.refresh_rules().await.unwrap(), "{name}: the other server notices");
        assert_eq!(snow_handler(&other.rules()), urban, "{name}");

        // A CSV version as a multipart form, back to the street.
        let csv = write_rows(
            Format::Csv,
            "",
            &revised_rows("2026年11月第二版", "2026-11-20")
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    if r[2] == "39" {
                        r[7] = "street".into();
                        r[8] = String::new();
                    }
                    r
                })
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let r = post(
            &app.router,
            "/api/v1/rules/responsibility",
            &app.admin,
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            form("第二版.csv", &csv),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{name}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(snow_handler(&app.state.rules()), street, "{name}");

        let r = get(&app.router, "/api/v1/rules/responsibility", Some(&app.staff)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["version"], "2026年11月第二版");
        assert_eq!(r.json()["rules"].as_array().unwrap().len(), 84);
        let r = get(
            &app.router,
            "/api/v1/rules/responsibility?version=2026年11月修订",
            Some(&app.staff),
        )
        .await;
        assert_eq!(
            (r.json()["version"].as_str(), r.json()["in_force"].as_bool()),
            (Some("2026年11月修订"), Some(false))
        );
        let r = get(
            &app.router,
            "/api/v1/rules/responsibility?version=没有这版",
            Some(&app.staff),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        let status = get(&app.router, "/api/v1/rules/status", Some(&app.staff)).await.json();
        assert_eq!(
            status["versions"].as_array().unwrap().len(),
            3,
            "{name}: the shipped one and two imports"
        );
        assert_eq!(status["in_force"], "2026年11月第二版");
    }
}

#[tokio::test]
async fn a_file_with_two_bad_rows_is_refused_whole_with_both_rows() {
    for app in apps().await {
        let name = app.db.backend_name();
        let _ = get(&app.router, "/api/v1/rules/status", Some(&app.staff)).await;
        let head = gongzhi_store::audit::head(&app.db).await.unwrap().seq;
        let mut rows = revised_rows("坏版本", "2026-11-20");
        rows[5][3] = "99998".into();
        rows[11][8] = "no-such-office".into();
        let xlsx = write_rows(Format::Xlsx, "职责清单", &rows).unwrap();
        let r = post(
            &app.router,
            "/api/v1/rules/responsibility",
            &app.admin,
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            form("坏清单.xlsx", &xlsx),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let e = r.json();
        let listed: Vec<(u64, &str)> = e["error"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["row"].as_u64().unwrap(), r["column"].as_str().unwrap()))
            .collect();
        assert_eq!(listed, vec![(6, "matter"), (12, "department")], "{name}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().contains("坏清单.xlsx"), "{e}");
        assert!(
            e["error"]["rows"][0]["message"].as_str().unwrap().contains("99998"),
            "{e}"
        );
        assert_eq!(
            gongzhi_store::audit::head(&app.db).await.unwrap().seq,
            head,
            "{name}: no audit entry"
        );
        assert_eq!(app.state.rules().responsibility.version, "七台河市职责清单（2026版）");
        let status = get(&app.router, "/api/v1/rules/status", Some(&app.staff)).await.json();
        assert_eq!(status["versions"].as_array().unwrap().len(), 1, "{name}");
    }
}

#[tokio::test]
async fn the_list_downloads_as_xlsx_and_csv_and_reads_back_the_same() {
    for app in apps().await {
        let name = app.db.backend_name();
        let current = app.state.rules();
        for (uri, file, ctype) in [
            ("/api/v1/rules/responsibility.xlsx", "x.xlsx", XLSX),
            ("/api/v1/rules/responsibility.csv", "x.csv", "text/csv; charset=utf-8"),
        ] {
            let r = get(&app.router, uri, Some(&app.staff)).await;
            assert_eq!(r.status, StatusCode::OK, "{name} {uri}");
            assert_eq!(r.headers[header::CONTENT_TYPE], ctype);
            assert!(
                r.headers[header::CONTENT_DISPOSITION]
                    .to_str()
                    .unwrap()
                    .contains("filename*=UTF-8''")
            );
            let rows = read_rows(file, &r.body).unwrap();
            let back = ResponsibilityList::from_rows(&rows, &current.taxonomy, &current.departments).unwrap();
            assert_eq!(back, current.responsibility, "{name} {uri}");
        }
    }
}

fn china(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    CITY_OFFSET
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn importing_next_years_holidays_clears_the_warning_and_moves_deadlines() {
    for app in apps().await {
        let name = app.db.backend_name();
        let status = get(&app.router, "/api/v1/rules/status", Some(&app.staff)).await.json();
        let this_year = app.state.today().format("%Y").to_string().parse::<i64>().unwrap();
        assert!(
            status["missing_years"]
                .as_array()
                .unwrap()
                .contains(&Value::from(this_year + 1)),
            "{name}: {status}"
        );
        assert!(status["warnings"][0].as_str().unwrap().contains("尚未导入"), "{status}");

        let one_day = Limit {
            amount: 1,
            unit: LimitUnit::WorkDays,
        };
        let start = china(2027, 9, 30, 10);
        assert_eq!(
            app.state.rules().calendar.deadline(start, one_day),
            china(2027, 10, 1, 10)
        );
        let csv = "date,kind,name\n2027-01-01,holiday,元旦\n2027-10-01,holiday,国庆节\n2027-10-02,holiday,国庆节\n\
                   2027-10-03,holiday,国庆节\n2027-10-04,holiday,国庆节\n2027-10-05,holiday,国庆节\n\
                   2027-10-06,holiday,国庆节\n2027-10-07,holiday,国庆节\n2027-10-09,workday,国庆节调休上班\n";
        let r = post(
            &app.router,
            "/api/v1/rules/calendar",
            &app.admin,
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{name}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.json()["imported_years"], serde_json::json!([2027]));
        assert!(
            !r.json()["missing_years"]
                .as_array()
                .unwrap()
                .contains(&Value::from(2027))
        );
        assert_eq!(
            app.state.rules().calendar.deadline(start, one_day),
            china(2027, 10, 8, 10),
            "{name}"
        );

        let bad = "date,kind,name\n2028-13-01,holiday,元旦\n2028-02-02,workday,春节调休\n";
        let r = post(
            &app.router,
            "/api/v1/rules/calendar",
            &app.admin,
            "text/csv",
            bad.as_bytes().to_vec(),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert_eq!(r.json()["error"]["rows"].as_array().unwrap().len(), 2);
    }
}

#[tokio::test]
async fn only_a_system_administrator_may_import_and_only_staff_may_read() {
    for app in apps().await {
        let csv = write_rows(Format::Csv, "", &revised_rows("越权版", "2026-11-20")).unwrap();
        let r = post(&app.router, "/api/v1/rules/responsibility", &app.staff, "text/csv", csv).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = post(
            &app.router,
            "/api/v1/rules/calendar",
            &app.staff,
            "text/csv",
            b"date,kind,name\n".to_vec(),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        for uri in [
            "/api/v1/rules/status",
            "/api/v1/rules/responsibility",
            "/api/v1/rules/responsibility.csv",
        ] {
            assert_eq!(
                get(&app.router, uri, None).await.status,
                StatusCode::UNAUTHORIZED,
                "{uri}"
            );
        }
        assert_eq!(app.state.rules().responsibility.version, "七台河市职责清单（2026版）");
    }
}

#[tokio::test]
async fn the_matter_picker_finds_snow_by_name_initials_and_code() {
    let app = apps().await.remove(0);
    let codes = |v: Value| -> Vec<String> {
        v["matters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["code"].as_str().unwrap().to_string())
            .collect()
    };
    for q in ["积雪", "jx", "10001", "1000"] {
        let uri = format!("/api/v1/taxonomy/matters?q={}", urlencode(q));
        let r = get(&app.router, &uri, None).await;
        assert_eq!(r.status, StatusCode::OK, "{q}");
        let found = codes(r.json());
        assert!(found.contains(&"10001".to_string()), "{q}: {found:?}");
        assert!(found.len() <= 20);
    }
    assert_eq!(
        codes(get(&app.router, "/api/v1/taxonomy/matters?q=10001", None).await.json())[0],
        "10001"
    );
    let r = get(&app.router, "/api/v1/taxonomy/matters/10001", None).await.json();
    assert_eq!(r["name"], "道路积雪、结冰");
    assert_eq!(r["rules"].as_array().unwrap().len(), 3, "{r}");
    assert_eq!(
        get(&app.router, "/api/v1/taxonomy/matters/99998", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app.router, "/api/v1/taxonomy/matters/abc", None).await.status,
        StatusCode::BAD_REQUEST
    );
    let d = get(&app.router, "/api/v1/departments", None).await.json();
    assert!(
        d["departments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["code"] == "urban-management" && x["name"] == "城市管理综合执法局")
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
