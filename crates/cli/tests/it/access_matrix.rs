//! The role × endpoint × scope matrix (issue 14): every route of the router, called by every kind
//! of caller on an object inside and outside the caller's reach, against the answer the table
//! `access_matrix.txt` (next to this file) expects, on SQLite and PostgreSQL.
//!
//! The table is the single source: one row per route × object, one column per caller. A route
//! of the router without a row fails the test (the routes are read from `crates/web/src` and each
//! path's methods found by asking the router), and so does a row of a route that no longer exists.
//! `GONGZHI_MATRIX_WRITE=1` writes what the callers got as a draft table next to the target
//! directory (`target/access_matrix.observed.txt`); the committed table is reviewed by hand.
//! docs/SECURITY.md, "The role × endpoint matrix", says how to read and extend it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use gongzhi_app::people::sms::MemoryGateway;
use gongzhi_core::audit::SYSTEM_ACTOR;
use gongzhi_core::cases::attachment::AttachmentLimits;
use gongzhi_core::people::credentials::hash_password;
use gongzhi_core::people::{Grant, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_demo::registry::DemoRegistryOptions;
use gongzhi_store::testing::{TestDb, audit_key};
use serde_json::json;

use crate::common::resident::{get_page, resident_in, texts};
use crate::common::{PageSession, Reply, demo_apps, demo_nodes, send, sign_in};

const TABLE: &str = include_str!("access_matrix.txt");
const TABLE_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/access_matrix.txt");
const WEB_SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/src");

/// The columns of the table, in order: who calls.
const CALLERS: [&str; 13] = [
    "anon",
    "resident",
    "apikey",
    "grid",
    "community",
    "street",
    "dispatch",
    "handler",
    "leader",
    "sysadmin",
    "secadmin",
    "auditor",
    "exporter",
];
/// The demo account behind each staff column.
const STAFF: [(&str, &str); 10] = [
    ("grid", "gridworker"),
    ("community", "community"),
    ("street", "street"),
    ("dispatch", "dispatcher"),
    ("handler", "handler"),
    ("leader", "leader"),
    ("sysadmin", "admin"),
    ("secadmin", "secadmin"),
    ("auditor", "auditor"),
    ("exporter", "exporter"),
];
const METHODS: [Method; 5] = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];

/// 学府社区第1网格: the demo grid worker's grid, in 学府社区 (the community worker's) of 桃东街道
/// (the street staff's and the exporter's).
const GRID: &str = "230903011001001";
const COMMUNITY: &str = "230903011001";
const STREET: &str = "230903011";
const PHONE: &str = "13800138000";
const OTHER_PHONE: &str = "13911112222";

/// One row: a route (method and path as the router has it), the object it is called on, the
/// request sent and the answer each caller should get.
#[derive(Clone, Debug)]
struct Row {
    method: Method,
    route: String,
    object: String,
    uri: String,
    body: String,
    expect: Vec<String>,
    line: usize,
}

fn parse_table(text: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split(" | ").map(str::trim).collect();
        assert_eq!(
            parts.len(),
            4,
            "access_matrix.txt:{line_no}: four parts split by \" | \": {line}"
        );
        let head: Vec<&str> = parts[0].split_whitespace().collect();
        assert_eq!(
            head.len(),
            3,
            "access_matrix.txt:{line_no}: METHOD ROUTE OBJECT: {line}"
        );
        let expect: Vec<String> = parts[3].split_whitespace().map(str::to_string).collect();
        assert_eq!(
            expect.len(),
            CALLERS.len(),
            "access_matrix.txt:{line_no}: one answer per caller ({}): {line}",
            CALLERS.join(" ")
        );
        rows.push(Row {
            method: head[0]
                .parse()
                .unwrap_or_else(|_| panic!("access_matrix.txt:{line_no}: method")),
            route: head[1].to_string(),
            object: head[2].to_string(),
            uri: parts[1].to_string(),
            body: parts[2].to_string(),
            expect,
            line: line_no,
        });
    }
    rows
}

/// The paths the router routes, read from the web crate's source: every `.route("…"` (and the
/// registry's edit forms, routed in a loop over the kinds of row).
fn source_paths() -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let mut files = vec![std::path::PathBuf::from(WEB_SRC)];
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if p.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for (at, _) in text.match_indices(".route(") {
            let rest = text[at + 7..].trim_start();
            let (literal, formatted) = match rest.strip_prefix("&format!(") {
                Some(r) => (r.trim_start(), true),
                None => (rest, false),
            };
            let literal = literal.strip_prefix('"').unwrap_or_else(|| {
                panic!(
                    "{}: a route whose path is no string literal: {}",
                    p.display(),
                    &rest[..40]
                )
            });
            let path = &literal[..literal.find('"').unwrap()];
            if formatted {
                assert!(
                    path.starts_with("/registry/{}/"),
                    "{}: a formatted route path the matrix does not know: {path}",
                    p.display()
                );
                for kind in gongzhi_app::registry::edit::Kind::ALL {
                    paths.insert(
                        path.replacen("{}", kind.path(), 1)
                            .replace("{{", "{")
                            .replace("}}", "}"),
                    );
                }
            } else {
                paths.insert(path.to_string());
            }
        }
    }
    paths
}

/// Every method × path the router answers, found by asking it (405 = no such method).
async fn routes_of(app: &Router) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for path in source_paths() {
        let probe: String = path
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in METHODS {
            let r = send(
                app,
                Request::builder()
                    .method(method.clone())
                    .uri(&probe)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            if r.status != StatusCode::METHOD_NOT_ALLOWED {
                routes.insert((method.to_string(), path.clone()));
            }
        }
    }
    routes
}

/// How a caller authenticates.
#[derive(Clone)]
enum Credential {
    Anonymous,
    Resident { cookie: String, csrf: String },
    ApiKey(String),
    Staff(PageSession),
}

/// The objects the rows name as `<name>`: ids, numbers and codes inside and outside the reach of
/// the callers, made the way people make them.
type Objects = BTreeMap<String, String>;

/// A photo no one uploaded before (a comment segment of its own after the start of image): the
/// same bytes twice are one attachment, with both uploaders.
fn jpeg() -> Vec<u8> {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let plain = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/plain.jpg")).unwrap();
    let comment = format!("matrix {n}");
    let mut out = plain[..2].to_vec();
    out.extend([0xFF, 0xFE]);
    out.extend(u16::try_from(comment.len() + 2).unwrap().to_be_bytes());
    out.extend(comment.as_bytes());
    out.extend(&plain[2..]);
    out
}

fn fill(template: &str, objects: &Objects) -> String {
    let mut out = template.to_string();
    for (k, v) in objects {
        out = out.replace(&format!("<{k}>"), v);
    }
    assert!(
        !out.replace("<csrf>", "").contains('<'),
        "access_matrix.txt: an unknown object in {template}"
    );
    out
}

/// The request of a row as `who` sends it.
fn request(row: &Row, who: &Credential, objects: &Objects) -> Request<Body> {
    let mut uri = fill(&row.uri, objects);
    if let Credential::ApiKey(key) = who {
        uri.push(if uri.contains('?') { '&' } else { '?' });
        uri.push_str(&format!("api_key={key}"));
    }
    let mut b = Request::builder().method(row.method.clone()).uri(&uri);
    if !uri.starts_with("/api/") && !uri.starts_with("/open311/") {
        b = b.header(header::ACCEPT, "text/html");
    }
    let csrf = match who {
        Credential::Resident { cookie, csrf } => {
            b = b.header(header::COOKIE, cookie);
            csrf.clone()
        }
        Credential::Staff(s) => {
            b = b.header(header::COOKIE, &s.cookie).header("x-csrf-token", &s.csrf);
            s.csrf.clone()
        }
        _ => String::new(),
    };
    let body = fill(&row.body, objects).replace("<csrf>", &csrf);
    if body == "-" {
        return b.body(Body::empty()).unwrap();
    }
    if let Some(json) = body.strip_prefix("json:") {
        return b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json.to_string()))
            .unwrap();
    }
    let (multipart, fields) = match (body.strip_prefix("form:"), body.strip_prefix("multipart:")) {
        (Some(f), _) => (false, f),
        (_, Some(f)) => (true, f),
        _ => panic!(
            "access_matrix.txt:{}: a body is -, json:…, form:… or multipart:…",
            row.line
        ),
    };
    let mut pairs: Vec<(String, String)> = vec![("csrf".into(), csrf)];
    let mut files = Vec::new();
    for pair in fields.split('&').filter(|p| !p.is_empty()) {
        if let Some(file) = pair.strip_prefix('@') {
            files.push(file.to_string());
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        pairs.push((k.to_string(), v.replace('+', " ")));
    }
    if !multipart {
        return b
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(serde_urlencoded::to_string(&pairs).unwrap()))
            .unwrap();
    }
    let mut bytes = Vec::new();
    for (k, v) in pairs {
        bytes.extend(format!("--XyZ\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    for name in files {
        bytes.extend(
            format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
                .as_bytes(),
        );
        bytes.extend(jpeg());
        bytes.extend(b"\r\n");
    }
    bytes.extend(b"--XyZ--\r\n");
    b.header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
        .body(Body::from(bytes))
        .unwrap()
}

/// Sends a request; the body of an event stream (which never ends) is not read.
async fn call(app: &Router, request: Request<Body>) -> Reply {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let streaming = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let bytes = if streaming {
        Default::default()
    } else {
        response.into_body().collect().await.unwrap().to_bytes()
    };
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
    }
}

/// The answer as the table writes it: the status, or where a redirect sends the caller
/// (`login` the staff sign-in, `mlogin` the residents', `password` the password page).
fn answer(r: &Reply) -> String {
    if r.status.is_redirection() {
        let to = r
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if to.starts_with("/login") {
            return "login".into();
        }
        if to.starts_with("/m/login") {
            return "mlogin".into();
        }
    }
    r.status.as_u16().to_string()
}

/// Whether an answer is what the table expects: the same, or in the expected class (`2xx`, `4xx`).
/// A `!` after a success (`200!`) says the reply does not name the case out of everyone's
/// reach but the city's (`<number_out>`): a list or a search shows it to no one else.
fn matches(expected: &str, got: &str) -> bool {
    let (expected, got) = match (expected.strip_suffix('!'), got.strip_suffix('!')) {
        (Some(e), Some(g)) => (e, g),
        (Some(_), None) => return false,
        _ => (expected, got.trim_end_matches('!')),
    };
    expected == got
        || (expected.len() == 3
            && expected.ends_with("xx")
            && got.len() == 3
            && got.starts_with(&expected[..1])
            && got.bytes().all(|b| b.is_ascii_digit()))
}

/// A grid of another district (茄子河区), and a community and grid of another street.
fn elsewhere() -> (String, String) {
    let grid = demo_nodes()
        .iter()
        .map(|n| n.code.to_string())
        .find(|c| c.starts_with("230904") && c.len() == 15)
        .expect("a grid in 茄子河区");
    (grid[..12].to_string(), grid)
}

async fn one(db: &gongzhi_store::Db, sql: &str) -> String {
    texts(db, sql)
        .await
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("nothing for {sql}"))
}

/// Sends a row's request with `who`'s credential and checks the answer is a success.
async fn make(app: &Router, who: &Credential, method: Method, uri: &str, body: &str) -> Reply {
    let row = Row {
        method,
        route: String::new(),
        object: String::new(),
        uri: uri.into(),
        body: body.into(),
        expect: vec![],
        line: 0,
    };
    let r = send(app, request(&row, who, &Objects::new())).await;
    assert!(
        r.status.is_success() || r.status == StatusCode::SEE_OTHER,
        "{uri}: {} {}",
        r.status,
        r.body
    );
    r
}

async fn account(db: &TestDb, username: &str, role: Role, code: &str) {
    let hash = tokio::task::spawn_blocking(|| hash_password("demo"))
        .await
        .unwrap()
        .unwrap();
    let grants = [Grant {
        role,
        scope: Scope::Territory(TerritoryCode::parse(code).unwrap()),
    }];
    db.create_account(username, username, Some(&hash), &grants, SYSTEM_ACTOR, &audit_key())
        .await
        .unwrap();
}

/// Takes case `id` through acceptance and registration and dispatches it to urban management
/// (the demo handler's department), as the command centre does.
async fn dispatch(app: &Router, staff: &BTreeMap<&str, Credential>, id: &str) {
    for (who, action) in [
        ("clerk", json!({"action": "accept"})),
        ("shiftlead", json!({"action": "register"})),
        (
            "dispatch",
            json!({"action": "dispatch", "lead": {"kind": "department", "code": "urban-management"}}),
        ),
    ] {
        make(
            app,
            &staff[who],
            Method::POST,
            &format!("/api/v1/cases/{id}/actions"),
            &format!("json:{action}"),
        )
        .await;
    }
}

/// The demo city with a registry of 桃山区, the callers signed in and the objects they act on.
async fn setup(db: &TestDb, app: &Router, sms: &MemoryGateway) -> (Vec<Credential>, Objects) {
    let (other_community, other_grid) = elsewhere();
    gongzhi_demo::ensure_demo_accounts(db, "demo", &audit_key())
        .await
        .unwrap();
    account(db, "community2", Role::CommunityWorker, &other_community).await;
    account(db, "gridworker2", Role::GridWorker, &other_grid).await;
    account(db, "target", Role::GridWorker, GRID).await;
    let mut staff = BTreeMap::new();
    for (column, username) in STAFF {
        staff.insert(column, Credential::Staff(sign_in(app, db, username).await));
    }
    for username in ["clerk", "shiftlead", "community2", "gridworker2"] {
        staff.insert(username, Credential::Staff(sign_in(app, db, username).await));
    }
    let mut o = Objects::new();
    o.insert("grid_in".into(), GRID.into());
    o.insert("grid_out".into(), other_grid.clone());
    o.insert("community_in".into(), COMMUNITY.into());
    o.insert("community_out".into(), other_community.clone());

    // Cases: one in the grid, dispatched to urban management (the demo handler's), one elsewhere.
    // Reported at a point (not only a grid), so that duplicates near a point find them.
    let report = |grid: &str| {
        let (lon, lat) = crate::common::point_in(grid);
        format!(
            r#"json:{{"channel":"hotline","matter":"06001","description":"学府小区3号楼旁正在违法搭建彩钢房","lon":{lon},"lat":{lat},"datum":"wgs84"}}"#
        )
    };
    for name in ["case_in", "case_in_page", "case_in_phone"] {
        let r = make(app, &staff["clerk"], Method::POST, "/api/v1/cases", &report(GRID)).await;
        let case = r.json()["id"].to_string();
        dispatch(app, &staff, &case).await;
        o.insert(name.into(), case);
    }
    let r = make(
        app,
        &staff["clerk"],
        Method::POST,
        "/api/v1/cases",
        &report(&other_grid),
    )
    .await;
    let case_out = r.json()["id"].to_string();
    o.insert("case_out".into(), case_out.clone());
    o.insert(
        "number_out".into(),
        one(db, &format!("SELECT case_no FROM cases WHERE id = {case_out}")).await,
    );

    // Photos: one the grid worker took, one a grid worker of another district took.
    let photo = |who: &Credential| {
        let who = who.clone();
        async move {
            let r = make(app, &who, Method::POST, "/api/v1/attachments", "multipart:@file").await;
            r.json()["id"].to_string()
        }
    };
    o.insert("photo_in".into(), photo(&staff["grid"]).await);
    o.insert("photo_out".into(), photo(&staff["gridworker2"]).await);

    // Residents: one of 学府社区 who reported with a photo, one of the other community.
    let me = resident_in(app, sms, PHONE, COMMUNITY).await;
    let resident = Credential::Resident {
        cookie: me.cookie.clone(),
        csrf: me.csrf.clone(),
    };
    let form = get_page(app, "/m/report", &me.cookie).await;
    let place = form
        .body
        .split("<option>")
        .filter_map(|o| o.split("</option>").next())
        .find(|o| o.contains("桃东街道") && o.contains("学府社区"))
        .expect("学府社区 is offered")
        .to_string();
    let r = make(
        app,
        &resident,
        Method::POST,
        "/m/report",
        &format!("multipart:idempotency_key=m1&datum=wgs84&matter=06010&description=学府小区南门垃圾堆了三天没人清&community={place}&@photos"),
    )
    .await;
    let to = r.headers[header::LOCATION].to_str().unwrap();
    let number_in = to
        .trim_start_matches("/m/reports/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    o.insert(
        "mphoto_in".into(),
        one(
            db,
            &format!("SELECT CAST(a.attachment_id AS TEXT) FROM case_attachments a JOIN cases c ON c.id = a.case_id WHERE c.case_no = '{number_in}'"),
        )
        .await,
    );
    o.insert("number_in".into(), number_in);
    o.insert("place_in".into(), place);
    let theirs = resident_in(app, sms, OTHER_PHONE, &other_community).await;
    let theirs = Credential::Resident {
        cookie: theirs.cookie,
        csrf: theirs.csrf,
    };

    // Co-governance: a notice, a survey, a group with a post and a need of each community.
    for (suffix, staff_who, res, community) in [
        ("in", &staff["community"], &resident, COMMUNITY.to_string()),
        ("out", &staff["community2"], &theirs, other_community.clone()),
    ] {
        make(
            app,
            staff_who,
            Method::POST,
            "/cogov/notices",
            &format!("form:place={community}&kind=notice&title=停水通知&body=明日停水，请提前储水。&expires="),
        )
        .await;
        o.insert(
            format!("notice_{suffix}"),
            one(db, "SELECT CAST(MAX(id) AS TEXT) FROM cogov_notices").await,
        );
        make(
            app,
            staff_who,
            Method::POST,
            "/cogov/surveys",
            &format!("form:community={community}&title=停车调查&questions=小区停车是否方便？| 方便 | 不方便"),
        )
        .await;
        let survey = one(db, "SELECT CAST(MAX(id) AS TEXT) FROM cogov_surveys").await;
        make(
            app,
            staff_who,
            Method::POST,
            &format!("/cogov/surveys/{survey}/state"),
            "form:to=open",
        )
        .await;
        o.insert(format!("survey_{suffix}"), survey);
        make(
            app,
            staff_who,
            Method::POST,
            "/cogov/groups",
            &format!("form:place={community}&name=居民群"),
        )
        .await;
        let group = one(db, "SELECT CAST(MAX(id) AS TEXT) FROM cogov_groups").await;
        make(app, res, Method::POST, &format!("/m/groups/{group}/join"), "form:").await;
        make(
            app,
            res,
            Method::POST,
            &format!("/m/groups/{group}/posts"),
            "form:body=大家好",
        )
        .await;
        o.insert(
            format!("post_{suffix}"),
            one(db, "SELECT CAST(MAX(id) AS TEXT) FROM cogov_posts").await,
        );
        o.insert(format!("group_{suffix}"), group);
        make(
            app,
            res,
            Method::POST,
            "/m/orders/new",
            &format!("form:idempotency_key=o-{suffix}&kind=repair&description=楼道灯坏了&preferred_time="),
        )
        .await;
        o.insert(
            format!("order_{suffix}"),
            one(db, "SELECT CAST(MAX(id) AS TEXT) FROM cogov_orders").await,
        );
    }

    // Joint meetings: a community party committee of each community, with an item raised and a
    // meeting convened with another (vetted) item.
    for (suffix, staff_who, community) in [
        ("in", &staff["community"], COMMUNITY.to_string()),
        ("out", &staff["community2"], other_community.clone()),
    ] {
        let r = make(
            app,
            staff_who,
            Method::POST,
            "/api/v1/cogov/bodies",
            &format!(r#"json:{{"kind":"community_party_committee","node":"{community}","name":"社区大党委"}}"#),
        )
        .await;
        let body = r.json()["id"].to_string();
        let mut items = vec![];
        for title in ["停车难", "路灯坏"] {
            let r = make(
                app,
                staff_who,
                Method::POST,
                &format!("/api/v1/cogov/bodies/{body}/items"),
                &format!(r#"json:{{"title":"{title}","description":"居民反映","source":"resident_need"}}"#),
            )
            .await;
            items.push(r.json()["id"].to_string());
        }
        make(
            app,
            staff_who,
            Method::POST,
            &format!("/api/v1/cogov/items/{}/steps", items[1]),
            r#"json:{"step":"vet"}"#,
        )
        .await;
        let r = make(
            app,
            staff_who,
            Method::POST,
            &format!("/api/v1/cogov/bodies/{body}/meetings"),
            &format!(
                r#"json:{{"title":"联席会议","starts_at":"2026-12-10 09:00","place":"社区会议室","items":[{}]}}"#,
                items[1]
            ),
        )
        .await;
        o.insert(format!("meeting_{suffix}"), r.json()["id"].to_string());
        o.insert(format!("body_{suffix}"), body);
        o.insert(format!("item_{suffix}"), items[0].clone());
    }

    // Co-building agreements: one of each community, with a member organization of it.
    for (suffix, staff_who, community) in [
        ("in", &staff["community"], COMMUNITY.to_string()),
        ("out", &staff["community2"], other_community.clone()),
    ] {
        let org = crate::agreements::member_organization(db, &community).await;
        let r = make(
            app,
            staff_who,
            Method::POST,
            "/api/v1/cogov/agreements",
            &format!(
                r#"json:{{"community":"{community}","organization":{org},"term_from":"2026-01-01","term_to":"2030-12-31","commitments":[{{"mechanism":"resources","text":"开放会议室"}}]}}"#
            ),
        )
        .await;
        o.insert(format!("agreement_{suffix}"), r.json()["id"].to_string());
    }

    // Patrols of the grid worker and of a grid worker of another district.
    for (suffix, who) in [("in", &staff["grid"]), ("out", &staff["gridworker2"])] {
        make(app, who, Method::POST, "/g/patrols", "form:").await;
        o.insert(
            format!("patrol_{suffix}"),
            one(db, "SELECT CAST(MAX(id) AS TEXT) FROM patrols").await,
        );
    }

    // The registry: rows of the grid (or the street) and of another street.
    for (table, column, name) in [
        ("buildings", "grid_code", "building"),
        ("households", "grid_code", "household"),
        ("resident_records", "grid_code", "person"),
        ("compounds", "community_code", "compound"),
        ("member_organizations", "street_code", "member_org"),
        ("posted_offices", "street_code", "posted_office"),
        ("party_organizations", "territory_code", "party_org"),
        ("party_members", "residence_community_code", "party_member"),
    ] {
        let inside = if column == "street_code" { STREET } else { COMMUNITY };
        let inside = if column == "grid_code" { GRID } else { inside };
        for (suffix, cond) in [
            ("in", format!("LIKE '{inside}%'")),
            ("out", format!("NOT LIKE '{STREET}%'")),
        ] {
            let sql = format!("SELECT COALESCE(CAST(MIN(id) AS TEXT), '999999') FROM {table} WHERE {column} {cond}");
            o.insert(format!("{name}_{suffix}"), one(db, &sql).await);
        }
    }
    o.insert(
        "property_company".into(),
        one(db, "SELECT CAST(MIN(id) AS TEXT) FROM property_companies").await,
    );
    // An API key to revoke and one the key column calls with.
    let mut creds = Vec::new();
    let r = make(
        app,
        &staff["sysadmin"],
        Method::POST,
        "/api/v1/api-keys",
        r#"json:{"name":"revoked","scope":"230903011000","rate_per_minute":600}"#,
    )
    .await;
    o.insert("api_key_id".into(), r.json()["id"].to_string());
    let r = make(
        app,
        &staff["sysadmin"],
        Method::POST,
        "/api/v1/api-keys",
        r#"json:{"name":"matrix","scope":"230903011000","rate_per_minute":6000}"#,
    )
    .await;
    let key = r.json()["key"].as_str().unwrap().to_string();
    o.insert("lat_in".into(), crate::common::point_in(GRID).1.to_string());
    o.insert("long_in".into(), crate::common::point_in(GRID).0.to_string());
    o.insert("lat_out".into(), crate::common::point_in(&other_grid).1.to_string());
    o.insert("long_out".into(), crate::common::point_in(&other_grid).0.to_string());
    for column in CALLERS {
        creds.push(match column {
            "anon" => Credential::Anonymous,
            "resident" => resident.clone(),
            "apikey" => Credential::ApiKey(key.clone()),
            staff_column => staff[staff_column].clone(),
        });
    }
    (creds, o)
}

/// The demo apps with a registry of 桃山区, attachments, a test SMS gateway and the personal-data key.
async fn apps() -> Vec<(TestDb, Router, Arc<MemoryGateway>)> {
    let mut out = Vec::new();
    let cipher = crate::registry_export::cipher();
    for (db, state) in demo_apps().await {
        gongzhi_demo::registry::load(
            &db,
            cipher.as_ref(),
            &audit_key(),
            demo_nodes(),
            DemoRegistryOptions {
                seed: 14,
                scale: 0.002,
                within: Some("230903".into()),
            },
            std::time::Duration::ZERO,
        )
        .await
        .unwrap();
        let sms = Arc::new(MemoryGateway::default());
        let blobs = gongzhi_store::Blobs::in_data_dir(&TestDb::temp_dir());
        let app = gongzhi_web::router(
            state
                .with_audit_key(audit_key())
                .with_attachments(blobs, AttachmentLimits::default())
                .with_sms(sms.clone())
                .with_cipher(cipher.clone()),
        );
        out.push((db, app, sms));
    }
    out
}

/// Lays the observed answers out as a table (the rows' requests kept, routes without a row
/// added with a guessed request).
fn draft(rows: &[Row], observed: &[Vec<String>], missing: &BTreeSet<(String, String)>) -> String {
    let mut out: String = TABLE
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut lines: Vec<(String, String, String, Vec<String>)> = rows
        .iter()
        .zip(observed)
        .map(|(r, o)| {
            (
                format!("{} {} {}", r.method, r.route, r.object),
                r.uri.clone(),
                r.body.clone(),
                o.clone(),
            )
        })
        .collect();
    for (m, p) in missing {
        lines.push((
            format!("{m} {p} -"),
            p.clone(),
            "-".into(),
            vec!["?".into(); CALLERS.len()],
        ));
    }
    let w0 = lines.iter().map(|l| l.0.chars().count()).max().unwrap_or(0);
    let w1 = lines.iter().map(|l| l.1.chars().count()).max().unwrap_or(0);
    for (head, uri, body, cells) in lines {
        let cells: Vec<String> = cells.iter().map(|c| format!("{c:<7}")).collect();
        out.push_str(&format!(
            "{head:<w0$} | {uri:<w1$} | {body} | {}\n",
            cells.join(" ").trim_end(),
            w0 = w0,
            w1 = w1
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_answers_every_caller_as_the_matrix_says() {
    let rows = parse_table(TABLE);
    let header = TABLE
        .lines()
        .find(|l| l.starts_with("# callers:"))
        .expect("a `# callers:` line");
    assert_eq!(
        header
            .trim_start_matches("# callers:")
            .split_whitespace()
            .collect::<Vec<_>>(),
        CALLERS,
        "the table's columns"
    );
    let write = std::env::var("GONGZHI_MATRIX_WRITE").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    for (db, app, sms) in apps().await {
        let name = db.backend_name();
        let started = std::time::Instant::now();
        // Every route has its rows, and every row its route.
        let routes = routes_of(&app).await;
        let covered: BTreeSet<(String, String)> =
            rows.iter().map(|r| (r.method.to_string(), r.route.clone())).collect();
        let missing: BTreeSet<_> = routes.difference(&covered).cloned().collect();
        let stale: BTreeSet<_> = covered.difference(&routes).cloned().collect();
        let mut seen = BTreeSet::new();
        for r in &rows {
            assert!(
                seen.insert((r.method.to_string(), r.route.clone(), r.object.clone())),
                "access_matrix.txt:{}: {} {} {} twice",
                r.line,
                r.method,
                r.route,
                r.object
            );
        }
        let (callers, objects) = setup(&db, &app, &sms).await;
        let mut observed = Vec::new();
        for row in &rows {
            // The callers of a row at once; the rows in the table's order (a row may change
            // what a later one finds, the same way on each database).
            let mut replies = Vec::new();
            if row.method == Method::GET {
                let calls: Vec<_> = callers
                    .iter()
                    .map(|who| {
                        let (app, request) = (app.clone(), request(row, who, &objects));
                        tokio::spawn(async move { call(&app, request).await })
                    })
                    .collect();
                for c in calls {
                    replies.push(c.await.unwrap());
                }
            } else {
                // A write may change what the next caller finds: one caller after the other.
                for who in &callers {
                    replies.push(call(&app, request(row, who, &objects)).await);
                }
            }
            let secret = &objects["number_out"];
            let got: Vec<String> = replies
                .iter()
                .map(|r| {
                    let a = answer(r);
                    if r.status.is_success() && !r.body.contains(secret.as_str()) {
                        a + "!"
                    } else {
                        a
                    }
                })
                .collect();
            for ((expected, got), (caller, reply)) in row.expect.iter().zip(&got).zip(CALLERS.iter().zip(&replies)) {
                if !matches(expected, got) {
                    failures.push(format!(
                        "{name}: access_matrix.txt:{} {} {} ({}) as {caller}: expected {expected}, got {got}: {}",
                        row.line,
                        row.method,
                        row.route,
                        row.object,
                        reply.body.chars().take(200).collect::<String>()
                    ));
                }
            }
            observed.push(got);
        }
        if write {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/access_matrix.observed");
            std::fs::write(format!("{path}.{name}.txt"), draft(&rows, &observed, &missing)).unwrap();
        }
        eprintln!(
            "{name}: {} rows × {} callers in {:?}",
            rows.len(),
            CALLERS.len(),
            started.elapsed()
        );
        for (m, p) in &missing {
            failures.push(format!("{name}: the route {m} {p} has no row in {TABLE_PATH}"));
        }
        for (m, p) in &stale {
            failures.push(format!(
                "{name}: {TABLE_PATH} has rows of {m} {p}, which the router does not route"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} answers differ from the matrix:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
