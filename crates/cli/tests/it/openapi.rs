//! `GET /api/v1/openapi.json` stays true: every route of the router under /api/v1 is in the
//! document and nothing else is; every documented operation is called on the demo city (SQLite
//! and PostgreSQL) and answers with a documented status, and each JSON answer is validated
//! against the schema the document gives for its path, method and status.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use gongzhi_core::cases::attachment::AttachmentLimits;
use gongzhi_store::testing::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common;
use crate::common::{Reply, demo_apps, send, token};

const GRID: &str = "230903011001001";

/// Every route under /api/v1 in the router (crates/web/src/lib.rs and each module's
/// `routes()`), listed by hand: axum cannot list its routes.
const ROUTES: [(&str, &str); 74] = [
    ("post", "/api/v1/auth/token"),
    ("delete", "/api/v1/auth/token"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/api-keys"),
    ("post", "/api/v1/api-keys"),
    ("delete", "/api/v1/api-keys/{id}"),
    ("get", "/api/v1/territory/summary"),
    ("get", "/api/v1/territory/locate"),
    ("get", "/api/v1/territory/nodes/{code}"),
    ("get", "/api/v1/territory/grids.geojson"),
    ("post", "/api/v1/territory/grids"),
    ("get", "/api/v1/taxonomy/matters"),
    ("get", "/api/v1/taxonomy/matters/{code}"),
    ("get", "/api/v1/departments"),
    ("get", "/api/v1/rules/status"),
    ("get", "/api/v1/rules/responsibility"),
    ("post", "/api/v1/rules/responsibility"),
    ("get", "/api/v1/rules/responsibility.csv"),
    ("get", "/api/v1/rules/responsibility.xlsx"),
    ("post", "/api/v1/rules/calendar"),
    ("get", "/api/v1/audit/verify"),
    ("post", "/api/v1/attachments"),
    ("get", "/api/v1/attachments/{id}"),
    ("get", "/api/v1/attachments/{id}/public"),
    ("get", "/api/v1/cases"),
    ("post", "/api/v1/cases"),
    ("get", "/api/v1/cases/duplicates"),
    ("get", "/api/v1/cases/{id}"),
    ("post", "/api/v1/cases/{id}/actions"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/registry/buildings"),
    ("get", "/api/v1/registry/buildings/{id}"),
    ("get", "/api/v1/registry/households/{id}"),
    ("get", "/api/v1/registry/search"),
    ("post", "/api/v1/registry/residents/{id}/reveal"),
    ("post", "/api/v1/registry/export/residents-unmasked"),
    ("post", "/api/v1/registry/import/{key}"),
    ("get", "/api/v1/registry/import/jobs/{id}"),
    ("patch", "/api/v1/registry/buildings/{id}"),
    ("patch", "/api/v1/registry/households/{id}"),
    ("get", "/api/v1/registry/compounds/{id}"),
    ("patch", "/api/v1/registry/compounds/{id}"),
    ("get", "/api/v1/registry/member-orgs/{id}"),
    ("patch", "/api/v1/registry/member-orgs/{id}"),
    ("get", "/api/v1/registry/posted-offices/{id}"),
    ("patch", "/api/v1/registry/posted-offices/{id}"),
    ("get", "/api/v1/registry/property-companies/{id}"),
    ("patch", "/api/v1/registry/property-companies/{id}"),
    ("get", "/api/v1/registry/party-orgs/{id}"),
    ("patch", "/api/v1/registry/party-orgs/{id}"),
    ("get", "/api/v1/registry/party-members/{id}"),
    ("patch", "/api/v1/registry/party-members/{id}"),
    ("get", "/api/v1/cogov/bodies"),
    ("post", "/api/v1/cogov/bodies"),
    ("get", "/api/v1/cogov/bodies/{id}"),
    ("post", "/api/v1/cogov/bodies/{id}/seats"),
    ("post", "/api/v1/cogov/bodies/{id}/items"),
    ("post", "/api/v1/cogov/bodies/{id}/meetings"),
    ("get", "/api/v1/cogov/items/{id}"),
    ("post", "/api/v1/cogov/items/{id}/steps"),
    ("get", "/api/v1/cogov/meetings/{id}"),
    ("post", "/api/v1/cogov/meetings/{id}/steps"),
    ("get", "/api/v1/cogov/solved"),
    ("get", "/api/v1/cogov/offers"),
    ("get", "/api/v1/cogov/orders/counts"),
    ("post", "/api/v1/cogov/orders/{id}/publish"),
    ("post", "/api/v1/cogov/orders/{id}/take"),
    ("post", "/api/v1/cogov/orders/{id}/rate_back"),
    ("get", "/api/v1/cogov/agreements"),
    ("post", "/api/v1/cogov/agreements"),
    ("get", "/api/v1/cogov/agreements/{id}"),
    ("post", "/api/v1/cogov/agreements/{id}/renew"),
    ("post", "/api/v1/cogov/agreements/{id}/end"),
    ("post", "/api/v1/cogov/agreements/{id}/records"),
];

fn app_of(state: gongzhi_web::AppState) -> axum::Router {
    let blobs = gongzhi_store::Blobs::in_data_dir(&TestDb::temp_dir());
    gongzhi_web::router(state.with_attachments(blobs, AttachmentLimits::default()))
}

fn document() -> Value {
    serde_json::from_str(gongzhi_web::OPENAPI).expect("openapi.json is JSON")
}

/// `#/components/schemas/X` → the schema.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.strip_prefix("#/components/schemas/").expect("a local $ref");
            let target = &doc["components"]["schemas"][name];
            assert!(!target.is_null(), "unknown schema {r}");
            resolve(doc, target)
        }
        None => schema,
    }
}

/// The OpenAPI 3.0 schema subset the document uses (type with nullable, required, properties,
/// additionalProperties, items, enum, pattern, allOf, $ref): every mismatch, with its path.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if value.is_null() {
        // OpenAPI 3.0: `nullable` beside `type` (or beside an `allOf` of one `$ref`).
        if (schema.get("type").is_some() || schema.get("allOf").is_some())
            && schema.get("nullable") != Some(&json!(true))
        {
            errors.push(format!("{at}: null where {schema} is not nullable"));
        }
        return;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            validate(doc, s, value, at, errors);
        }
    }
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            other => panic!("unknown type {other} at {at}"),
        };
        if !ok {
            errors.push(format!("{at}: {value} is not {t}"));
            return;
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(value)
    {
        errors.push(format!("{at}: {value} not in {e:?}"));
    }
    if let (Some(p), Some(s)) = (schema.get("pattern").and_then(Value::as_str), value.as_str()) {
        // The only pattern used: a 13-digit case number.
        assert_eq!(p, "^[0-9]{13}$", "a pattern the test does not know");
        if !(s.len() == 13 && s.bytes().all(|b| b.is_ascii_digit())) {
            errors.push(format!("{at}: {s:?} does not match {p}"));
        }
    }
    if let Some(o) = value.as_object() {
        for r in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let r = r.as_str().unwrap();
            if !o.contains_key(r) {
                errors.push(format!("{at}: missing {r}"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, v) in o {
            if let Some(s) = props.and_then(|p| p.get(k)) {
                validate(doc, s, v, &format!("{at}.{k}"), errors);
            } else if let Some(s) = schema.get("additionalProperties").filter(|s| s.is_object()) {
                validate(doc, s, v, &format!("{at}.{k}"), errors);
            }
        }
    }
    if let (Some(items), Some(a)) = (schema.get("items"), value.as_array()) {
        for (i, v) in a.iter().enumerate() {
            validate(doc, items, v, &format!("{at}[{i}]"), errors);
        }
    }
}

/// Checks one real answer against the document: the status is documented for the operation,
/// and a JSON body matches its schema. Records the operation as called.
fn check(doc: &Value, called: &mut Vec<(String, String)>, method: &str, path: &str, r: &Reply) {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not in the document");
    let status = r.status.as_u16().to_string();
    let response = &op["responses"][status.as_str()];
    assert!(
        response.is_object(),
        "{method} {path} answered {status}, which the document does not list: {}",
        r.body.chars().take(300).collect::<String>()
    );
    let content_type = r
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let content = response["content"].as_object().expect("a documented body");
    let documented = content.keys().any(|k| {
        let k = k.trim_end_matches('*');
        content_type.starts_with(k)
    });
    assert!(
        documented,
        "{method} {path} {status} answered {content_type}, documented {:?}",
        content.keys().collect::<Vec<_>>()
    );
    if content_type.starts_with("application/json") || content_type.starts_with("application/geo+json") {
        let key = content
            .keys()
            .find(|k| content_type.starts_with(k.as_str()))
            .expect("a JSON content type");
        let body: Value = serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e})"));
        let mut errors = Vec::new();
        validate(doc, &content[key]["schema"], &body, "$", &mut errors);
        assert!(
            errors.is_empty(),
            "{method} {path} {status} does not match its schema:\n{}\n{}",
            errors.join("\n"),
            r.body.chars().take(1500).collect::<String>()
        );
    }
    called.push((method.to_string(), path.to_string()));
}

async fn call(
    app: &axum::Router,
    method: Method,
    uri: &str,
    bearer: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(t) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(c) = content_type {
        request = request.header(header::CONTENT_TYPE, c);
    }
    send(app, request.body(Body::from(body)).unwrap()).await
}

fn json_body(v: Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// A 1×1 PNG.
fn png() -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend(kind);
        out.extend(data);
        let crc = crc32(&out[start..]);
        out.extend(crc.to_be_bytes());
    }
    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
    // zlib, stored block: one scanline (filter 0, one RGB pixel).
    let raw = [0u8, 255, 0, 0];
    let mut z = vec![0x78, 0x01, 1, 4, 0, 0xfb, 0xff];
    z.extend(raw);
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    z.extend(((b << 16) | a).to_be_bytes());
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn the_document_lists_exactly_the_routes_of_the_router() {
    let doc = document();
    assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.0")), Some(true));
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    let mut routes: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .chain([("get".to_string(), "/api/v1/openapi.json".to_string())])
        .collect();
    documented.sort();
    routes.sort();
    assert_eq!(documented, routes);
    // Every $ref names a schema.
    let text = gongzhi_web::OPENAPI;
    for (at, _) in text.match_indices("#/components/schemas/") {
        let name: String = text[at + 21..].chars().take_while(|c| c.is_alphanumeric()).collect();
        assert!(doc["components"]["schemas"][name.as_str()].is_object(), "{name}");
    }
}

/// The router's own list: every /api/v1 route string in crates/web/src is in [`ROUTES`], so a
/// new route without a line here (and in the document) fails.
#[test]
fn every_route_in_the_source_is_listed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/src");
    let mut stack = vec![root];
    let mut found = Vec::new();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for (at, _) in flat.match_indices(".route(\"/api/v1") {
            let rest = &flat[at + 8..];
            let route: String = rest.chars().take_while(|c| *c != '"').collect();
            found.push(route);
        }
    }
    found.sort();
    found.dedup();
    assert!(found.len() >= 20, "{found:?}");
    for r in found {
        assert!(
            r == "/api/v1/openapi.json" || ROUTES.iter().any(|(_, p)| *p == r),
            "{r} is routed but not in ROUTES (nor in openapi.json)"
        );
    }
}

#[tokio::test]
async fn every_documented_operation_answers_as_documented() {
    let doc = document();
    for (db, state) in demo_apps().await {
        // A little of the demo registry (one grid), sealed with a test key.
        let cipher: std::sync::Arc<dyn gongzhi_core::people::cipher::CipherProvider> =
            std::sync::Arc::new(gongzhi_core::people::cipher::SoftwareCipher::new(&[3u8; 32]));
        let opts = gongzhi_demo::registry::DemoRegistryOptions {
            seed: 1,
            scale: 0.05,
            within: Some(GRID.into()),
        };
        gongzhi_demo::registry::load(
            &db,
            cipher.as_ref(),
            &gongzhi_store::testing::audit_key(),
            common::demo_nodes(),
            opts,
            std::time::Duration::ZERO,
        )
        .await
        .unwrap();
        let app = app_of(state.with_cipher(cipher.clone()));
        let name = db.backend_name();
        let admin = token(&app, &db, "admin").await;
        let clerk = token(&app, &db, "clerk").await;
        let auditor = token(&app, &db, "auditor").await;
        let mut called = Vec::new();
        macro_rules! c {
            ($m:expr, $p:expr, $r:expr) => {
                check(&doc, &mut called, $m, $p, $r)
            };
        }

        let r = call(
            &app,
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some("application/json"),
            json_body(json!({"username": "clerk", "password": "demo"})),
        )
        .await;
        c!("post", "/api/v1/auth/token", &r);
        let r = call(
            &app,
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some("application/json"),
            json_body(json!({"username": "clerk", "password": "wrong"})),
        )
        .await;
        c!("post", "/api/v1/auth/token", &r);
        let r = call(&app, Method::GET, "/api/v1/me", Some(&clerk), None, vec![]).await;
        c!("get", "/api/v1/me", &r);
        let r = call(&app, Method::GET, "/api/v1/me", None, None, vec![]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}");
        c!("get", "/api/v1/me", &r);
        let leaving = token(&app, &db, "leader").await;
        for status in [StatusCode::OK, StatusCode::UNAUTHORIZED] {
            let r = call(&app, Method::DELETE, "/api/v1/auth/token", Some(&leaving), None, vec![]).await;
            assert_eq!(r.status, status, "{name}: {}", r.body);
            c!("delete", "/api/v1/auth/token", &r);
        }

        let r = call(
            &app,
            Method::POST,
            "/api/v1/api-keys",
            Some(&admin),
            Some("application/json"),
            json_body(json!({"name": "openapi", "scope": "230900000000", "calls": ["open311.post_request", "open311.post_update"]})),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        c!("post", "/api/v1/api-keys", &r);
        let key_id = r.json()["id"].as_i64().unwrap();
        let r = call(&app, Method::GET, "/api/v1/api-keys", Some(&admin), None, vec![]).await;
        c!("get", "/api/v1/api-keys", &r);
        let r = call(&app, Method::GET, "/api/v1/api-keys", Some(&clerk), None, vec![]).await;
        c!("get", "/api/v1/api-keys", &r);
        let r = call(
            &app,
            Method::DELETE,
            &format!("/api/v1/api-keys/{key_id}"),
            Some(&admin),
            None,
            vec![],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        c!("delete", "/api/v1/api-keys/{id}", &r);

        let (lon, lat) = {
            use geo::InteriorPoint;
            let grid = common::demo_nodes().iter().find(|n| n.code.as_str() == GRID).unwrap();
            let p = grid.boundary.as_ref().unwrap().interior_point().unwrap();
            (p.x(), p.y())
        };
        for (path, uri) in [
            ("/api/v1/territory/summary", "/api/v1/territory/summary".to_string()),
            (
                "/api/v1/territory/locate",
                format!("/api/v1/territory/locate?lon={lon}&lat={lat}"),
            ),
            (
                "/api/v1/territory/locate",
                "/api/v1/territory/locate?lon=x&lat=1".to_string(),
            ),
            (
                "/api/v1/territory/nodes/{code}",
                format!("/api/v1/territory/nodes/{GRID}"),
            ),
            (
                "/api/v1/territory/nodes/{code}",
                "/api/v1/territory/nodes/230900000000".to_string(),
            ),
            (
                "/api/v1/territory/nodes/{code}",
                "/api/v1/territory/nodes/230903999999".to_string(),
            ),
            (
                "/api/v1/territory/grids.geojson",
                "/api/v1/territory/grids.geojson".to_string(),
            ),
            (
                "/api/v1/taxonomy/matters",
                "/api/v1/taxonomy/matters?q=sdlj".to_string(),
            ),
            (
                "/api/v1/taxonomy/matters/{code}",
                "/api/v1/taxonomy/matters/06001".to_string(),
            ),
            (
                "/api/v1/taxonomy/matters/{code}",
                "/api/v1/taxonomy/matters/99999".to_string(),
            ),
            ("/api/v1/departments", "/api/v1/departments".to_string()),
            ("/api/v1/rules/status", "/api/v1/rules/status".to_string()),
            (
                "/api/v1/rules/responsibility",
                "/api/v1/rules/responsibility".to_string(),
            ),
            (
                "/api/v1/rules/responsibility.csv",
                "/api/v1/rules/responsibility.csv".to_string(),
            ),
            (
                "/api/v1/rules/responsibility.xlsx",
                "/api/v1/rules/responsibility.xlsx".to_string(),
            ),
            ("/api/v1/cases", "/api/v1/cases".to_string()),
        ] {
            let r = call(&app, Method::GET, &uri, Some(&clerk), None, vec![]).await;
            c!("get", path, &r);
        }
        let r = call(&app, Method::GET, "/api/v1/audit/verify", Some(&auditor), None, vec![]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        c!("get", "/api/v1/audit/verify", &r);
        let r = call(&app, Method::GET, "/api/v1/audit/verify", Some(&clerk), None, vec![]).await;
        c!("get", "/api/v1/audit/verify", &r);

        // Imports refused (a bad file; a clerk): the success answers are covered by the rules
        // tests, not here, so that the demo's list stays as it is.
        for (path, body) in [
            ("/api/v1/rules/responsibility", b"not,a,list\n1,2,3\n".to_vec()),
            (
                "/api/v1/rules/calendar",
                b"date,kind,name\nnot-a-date,holiday,x\n".to_vec(),
            ),
        ] {
            let r = call(&app, Method::POST, path, Some(&admin), Some("text/csv"), body.clone()).await;
            assert!(r.status.is_client_error(), "{path}: {} {}", r.status, r.body);
            c!("post", path, &r);
            let r = call(&app, Method::POST, path, Some(&clerk), Some("text/csv"), body).await;
            c!("post", path, &r);
        }

        // A registry import refused (a file without the template's columns; a clerk), and a job
        // that is not there: imports that succeed are covered by it/registry_import.rs.
        let path = "/api/v1/registry/import/{key}";
        let r = call(
            &app,
            Method::POST,
            "/api/v1/registry/import/residents",
            Some(&admin),
            Some("text/csv"),
            b"a,b\n1,2\n".to_vec(),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        c!("post", path, &r);
        let r = call(
            &app,
            Method::POST,
            "/api/v1/registry/import/residents",
            Some(&clerk),
            Some("text/csv"),
            b"a,b\n".to_vec(),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        c!("post", path, &r);
        let r = call(
            &app,
            Method::GET,
            "/api/v1/registry/import/jobs/nothing",
            Some(&admin),
            None,
            vec![],
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        c!("get", "/api/v1/registry/import/jobs/{id}", &r);

        // Corrections of the registry: each kind read and corrected by the administrator, a bad
        // field refused, a clerk refused; a stale revision refused.
        let building = db.buildings_within("", 1).await.unwrap()[0].id;
        let household = db.households_of(cipher.as_ref(), building).await.unwrap()[0].id;
        let compound = db.compounds_within("").await.unwrap()[0].id;
        let member = db.member_organizations_within("").await.unwrap()[0].id;
        let posted = db.posted_offices_within("").await.unwrap()[0].id;
        let company = db.property_companies().await.unwrap()[0].id;
        let party = db.party_organizations_within("").await.unwrap()[0].id;
        for (kind, id, good, bad) in [
            ("buildings", building, json!({"floors": "7"}), json!({"floors": "0"})),
            ("households", household, json!({"area_m2": 90}), json!({"room": ""})),
            (
                "compounds",
                compound,
                json!({"address": "桃山区1号"}),
                json!({"property_company": "x"}),
            ),
            ("member-orgs", member, json!({"kind": "企业"}), json!({"kind": "x"})),
            (
                "posted-offices",
                posted,
                json!({"address": "街道办事处院内"}),
                json!({"department_code": "x"}),
            ),
            (
                "property-companies",
                company,
                json!({"phone": "0464-8888888"}),
                json!({"name": ""}),
            ),
            (
                "party-orgs",
                party,
                json!({"name": "党组织"}),
                json!({"parent": "nothing"}),
            ),
        ] {
            let path = format!("/api/v1/registry/{kind}/{{id}}");
            let uri = format!("/api/v1/registry/{kind}/{id}");
            if !matches!(kind, "buildings" | "households") {
                let r = call(&app, Method::GET, &uri, Some(&admin), None, vec![]).await;
                assert_eq!(r.status, StatusCode::OK, "{name} {kind}: {}", r.body);
                c!("get", &path, &r);
                let r = call(&app, Method::GET, &uri, Some(&clerk), None, vec![]).await;
                c!("get", &path, &r);
            }
            let r = call(
                &app,
                Method::PATCH,
                &uri,
                Some(&admin),
                Some("application/json"),
                json_body(json!({"fields": good})),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{name} {kind}: {}", r.body);
            c!("patch", &path, &r);
            let r = call(
                &app,
                Method::PATCH,
                &uri,
                Some(&admin),
                Some("application/json"),
                json_body(json!({"fields": bad})),
            )
            .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name} {kind}: {}", r.body);
            c!("patch", &path, &r);
            let r = call(
                &app,
                Method::PATCH,
                &uri,
                Some(&admin),
                Some("application/json"),
                json_body(json!({"revision": -1, "fields": good})),
            )
            .await;
            assert_eq!(r.status, StatusCode::CONFLICT, "{name} {kind}: {}", r.body);
            c!("patch", &path, &r);
            let r = call(
                &app,
                Method::PATCH,
                &uri,
                Some(&clerk),
                Some("application/json"),
                json_body(json!({"fields": good})),
            )
            .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{name} {kind}: {}", r.body);
            c!("patch", &path, &r);
        }
        // Grids: a clerk refused, a bad file refused (imports that succeed: it/territory_api.rs).
        for (who, body) in [
            (&clerk, "{}"),
            (
                &admin,
                r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":null}]}"#,
            ),
        ] {
            let r = call(
                &app,
                Method::POST,
                "/api/v1/territory/grids",
                Some(who),
                Some("application/geo+json"),
                body.as_bytes().to_vec(),
            )
            .await;
            assert!(r.status.is_client_error(), "{name}: {}", r.body);
            c!("post", "/api/v1/territory/grids", &r);
        }
        // Party members: party data, so not for the system administrator; 200 answers are covered
        // by it/registry_edits.rs.
        let path = "/api/v1/registry/party-members/{id}";
        let community = token(&app, &db, "community").await;
        let r = call(
            &app,
            Method::GET,
            "/api/v1/registry/party-members/999999",
            Some(&community),
            None,
            vec![],
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}: {}", r.body);
        c!("get", path, &r);
        let r = call(
            &app,
            Method::PATCH,
            "/api/v1/registry/party-members/999999",
            Some(&community),
            Some("application/json"),
            json_body(json!({"fields": {"phone": "13900000000"}})),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}: {}", r.body);
        c!("patch", path, &r);

        // A photo, a case with it, the case's pages of the API.
        let boundary = "openapi-boundary";
        let mut form = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .into_bytes();
        form.extend(png());
        form.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
        let r = call(
            &app,
            Method::POST,
            "/api/v1/attachments",
            Some(&clerk),
            Some(&format!("multipart/form-data; boundary={boundary}")),
            form,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        c!("post", "/api/v1/attachments", &r);
        let photo = r.json()["id"].as_i64().unwrap();
        let r = call(
            &app,
            Method::GET,
            &format!("/api/v1/attachments/{photo}"),
            Some(&clerk),
            None,
            vec![],
        )
        .await;
        c!("get", "/api/v1/attachments/{id}", &r);
        let r = call(
            &app,
            Method::GET,
            &format!("/api/v1/attachments/{photo}/public"),
            Some(&clerk),
            None,
            vec![],
        )
        .await;
        c!("get", "/api/v1/attachments/{id}/public", &r);
        let r = call(
            &app,
            Method::GET,
            "/api/v1/attachments/999999",
            Some(&clerk),
            None,
            vec![],
        )
        .await;
        c!("get", "/api/v1/attachments/{id}", &r);

        let report = json!({"channel": "hotline", "matter": "06001", "description": "小区门口私搭乱建", "lon": lon, "lat": lat, "photos": [photo.to_string()]});
        let r = call(
            &app,
            Method::POST,
            "/api/v1/cases",
            Some(&clerk),
            Some("application/json"),
            json_body(report),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        c!("post", "/api/v1/cases", &r);
        let number = r.json()["number"].as_str().unwrap().to_string();
        let r = call(
            &app,
            Method::POST,
            "/api/v1/cases",
            Some(&clerk),
            Some("application/json"),
            json_body(json!({"channel": "hotline"})),
        )
        .await;
        c!("post", "/api/v1/cases", &r);
        let r = call(
            &app,
            Method::POST,
            &format!("/api/v1/cases/{number}/actions"),
            Some(&clerk),
            Some("application/json"),
            json_body(json!({"action": "accept"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        c!("post", "/api/v1/cases/{id}/actions", &r);
        let r = call(
            &app,
            Method::POST,
            &format!("/api/v1/cases/{number}/actions"),
            Some(&clerk),
            Some("application/json"),
            json_body(json!({"action": "accept"})),
        )
        .await;
        c!("post", "/api/v1/cases/{id}/actions", &r);
        for (path, uri) in [
            ("/api/v1/cases/{id}", format!("/api/v1/cases/{number}")),
            ("/api/v1/cases/{id}", "/api/v1/cases/2000010100001".to_string()),
            ("/api/v1/cases", "/api/v1/cases".to_string()),
            (
                "/api/v1/cases/duplicates",
                format!("/api/v1/cases/duplicates?matter=06001&lon={lon}&lat={lat}"),
            ),
        ] {
            let r = call(&app, Method::GET, &uri, Some(&clerk), None, vec![]).await;
            c!("get", path, &r);
        }

        // The event stream: its head only (the body never ends).
        let response = app
            .clone()
            .oneshot(
                Request::get("/api/v1/events")
                    .header(header::AUTHORIZATION, format!("Bearer {clerk}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let ct = response.headers()[header::CONTENT_TYPE].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        assert!(doc["paths"]["/api/v1/events"]["get"]["responses"]["200"]["content"]["text/event-stream"].is_object());
        drop(response);
        called.push(("get".into(), "/api/v1/events".into()));

        let r = call(&app, Method::GET, "/api/v1/openapi.json", None, None, vec![]).await;
        c!("get", "/api/v1/openapi.json", &r);
        assert_eq!(r.json(), doc);

        // The registry, masked, and a full view with and without a reason.
        let community = token(&app, &db, "community").await;
        let building = db.buildings_within(GRID, 1).await.unwrap().remove(0);
        let household = db.households_of(cipher.as_ref(), building.id).await.unwrap().remove(0);
        let person = db
            .residents_of_household(cipher.as_ref(), household.id)
            .await
            .unwrap()
            .remove(0);
        for (uri, path) in [
            (
                format!("/api/v1/registry/buildings?within={GRID}"),
                "/api/v1/registry/buildings",
            ),
            (
                "/api/v1/registry/buildings?within=230904000000".to_string(),
                "/api/v1/registry/buildings",
            ),
            (
                format!("/api/v1/registry/buildings/{}", building.id),
                "/api/v1/registry/buildings/{id}",
            ),
            (
                "/api/v1/registry/buildings/999999".to_string(),
                "/api/v1/registry/buildings/{id}",
            ),
            (
                format!("/api/v1/registry/households/{}", household.id),
                "/api/v1/registry/households/{id}",
            ),
            (
                format!("/api/v1/registry/search?q={}", person.id_number),
                "/api/v1/registry/search",
            ),
            ("/api/v1/registry/search".to_string(), "/api/v1/registry/search"),
        ] {
            let r = call(&app, Method::GET, &uri, Some(&community), None, vec![]).await;
            c!("get", path, &r);
        }
        let reveal = format!("/api/v1/registry/residents/{}/reveal", person.id);
        for body in [json!({"reason": "入户走访核实"}), json!({"reason": ""})] {
            let r = call(
                &app,
                Method::POST,
                &reveal,
                Some(&community),
                Some("application/json"),
                json_body(body),
            )
            .await;
            c!("post", "/api/v1/registry/residents/{id}/reveal", &r);
        }
        let r = call(
            &app,
            Method::POST,
            &reveal,
            Some(&clerk),
            Some("application/json"),
            json_body(json!({"reason": "x y"})),
        )
        .await;
        c!("post", "/api/v1/registry/residents/{id}/reveal", &r);

        // The unmasked export: the exporter with a reason (XLSX, CSV), without one, a clerk.
        let exporter = token(&app, &db, "exporter").await;
        let path = "/api/v1/registry/export/residents-unmasked";
        for (who, body, status) in [
            (
                &exporter,
                json!({"reason": "入户走访核实", "within": GRID}),
                StatusCode::OK,
            ),
            (
                &exporter,
                json!({"reason": "入户走访核实", "format": "csv"}),
                StatusCode::OK,
            ),
            (&exporter, json!({"within": GRID}), StatusCode::UNPROCESSABLE_ENTITY),
            (&clerk, json!({"reason": "入户走访核实"}), StatusCode::FORBIDDEN),
        ] {
            let r = call(
                &app,
                Method::POST,
                path,
                Some(who),
                Some("application/json"),
                json_body(body),
            )
            .await;
            assert_eq!(r.status, status, "{}", r.body);
            c!("post", path, &r);
        }

        // Joint meetings: a body, a seat, an item vetted, a meeting held, a decision, minutes.
        let street = token(&app, &db, "street").await;
        let office = crate::meetings::posted_office(&db).await;
        let post = |uri: String, who: String, body: Value| {
            let app = app.clone();
            async move {
                call(
                    &app,
                    Method::POST,
                    &uri,
                    Some(&who),
                    Some("application/json"),
                    json_body(body),
                )
                .await
            }
        };
        let get = |uri: String, who: String| {
            let app = app.clone();
            async move { call(&app, Method::GET, &uri, Some(&who), None, vec![]).await }
        };
        let bodies = "/api/v1/cogov/bodies";
        let r = post(
            bodies.into(),
            street.clone(),
            json!({"kind": "street_working_committee", "node": "230903011000", "name": "桃东街道大工委"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        c!("post", bodies, &r);
        let body = r.json()["id"].clone();
        let r = post(
            bodies.into(),
            street.clone(),
            json!({"kind": "club", "node": "230903011000", "name": "x"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        c!("post", bodies, &r);
        let r = get(bodies.into(), street.clone()).await;
        c!("get", bodies, &r);
        let r = post(format!("{bodies}/{body}/seats"), street.clone(), json!({"person": "王城管", "org_kind": "posted_office", "org_id": office, "role": "part_time_member", "term_from": "2026-01-01"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        c!("post", "/api/v1/cogov/bodies/{id}/seats", &r);
        let seat = r.json()["id"].clone();
        let r = post(
            format!("{bodies}/{body}/items"),
            street.clone(),
            json!({"title": "停车难", "description": "小区周边停车难", "source": "resident_need"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        c!("post", "/api/v1/cogov/bodies/{id}/items", &r);
        let item = r.json()["id"].clone();
        let r = post(
            format!("/api/v1/cogov/items/{item}/steps"),
            street.clone(),
            json!({"step": "vet"}),
        )
        .await;
        c!("post", "/api/v1/cogov/items/{id}/steps", &r);
        let r = post(
            format!("/api/v1/cogov/items/{item}/steps"),
            street.clone(),
            json!({"step": "vet"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        c!("post", "/api/v1/cogov/items/{id}/steps", &r);
        let r = get(format!("/api/v1/cogov/items/{item}"), street.clone()).await;
        c!("get", "/api/v1/cogov/items/{id}", &r);
        let r = post(
            format!("{bodies}/{body}/meetings"),
            street.clone(),
            json!({"title": "联席会议", "starts_at": "2026-12-10 09:00", "place": "街道会议室", "items": [item]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        c!("post", "/api/v1/cogov/bodies/{id}/meetings", &r);
        let meeting = r.json()["id"].clone();
        let steps = format!("/api/v1/cogov/meetings/{meeting}/steps");
        for body in [
            json!({"step": "hold", "present": [seat]}),
            json!({"step": "decide", "item": item, "text": "城管牵头整治", "units": ["department:nowhere"], "due": crate::meetings::due(), "matter": "06001", "grid_code": GRID}),
            json!({"step": "decide", "item": item, "text": "城管牵头整治", "units": ["department:urban-management"], "due": crate::meetings::due(), "matter": "06001", "grid_code": GRID}),
            json!({"step": "close", "minutes": "议定由城管牵头整治。"}),
        ] {
            let r = post(steps.clone(), street.clone(), body).await;
            c!("post", "/api/v1/cogov/meetings/{id}/steps", &r);
        }
        let r = get(format!("/api/v1/cogov/meetings/{meeting}"), street.clone()).await;
        assert_eq!(r.json()["decisions"][0]["cases"][0]["channel"], "meeting", "{}", r.body);
        c!("get", "/api/v1/cogov/meetings/{id}", &r);
        let r = get(format!("{bodies}/{body}"), street.clone()).await;
        c!("get", "/api/v1/cogov/bodies/{id}", &r);
        let r = get(format!("{bodies}/{body}"), clerk.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        c!("get", "/api/v1/cogov/bodies/{id}", &r);
        let r = get("/api/v1/cogov/solved".into(), street.clone()).await;
        c!("get", "/api/v1/cogov/solved", &r);

        // Order → publish → take: a listed need published, offered to a liaison, taken.
        let need = crate::orders_taken::listed_need(&db, "openapi-need").await;
        gongzhi_demo::ensure_demo_liaison(&db, "demo", &gongzhi_store::testing::audit_key())
            .await
            .unwrap();
        let liaison = token(&app, &db, "liaison").await;
        let community = token(&app, &db, "community").await;
        let publish = format!("/api/v1/cogov/orders/{need}/publish");
        for (body, status) in [
            (json!({"due": "2020-01-01"}), StatusCode::UNPROCESSABLE_ENTITY),
            (json!({"due": crate::meetings::due()}), StatusCode::OK),
            (json!({"due": crate::meetings::due()}), StatusCode::CONFLICT),
        ] {
            let r = post(publish.clone(), community.clone(), body).await;
            assert_eq!(r.status, status, "{}", r.body);
            c!("post", "/api/v1/cogov/orders/{id}/publish", &r);
        }
        let r = get("/api/v1/cogov/offers".into(), liaison.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        c!("get", "/api/v1/cogov/offers", &r);
        let r = get("/api/v1/cogov/offers".into(), community.clone()).await;
        c!("get", "/api/v1/cogov/offers", &r);
        for (who, status) in [
            (community.clone(), StatusCode::FORBIDDEN),
            (liaison.clone(), StatusCode::OK),
        ] {
            let r = post(format!("/api/v1/cogov/orders/{need}/take"), who, json!({})).await;
            assert_eq!(r.status, status, "{}", r.body);
            c!("post", "/api/v1/cogov/orders/{id}/take", &r);
        }
        let r = post(
            format!("/api/v1/cogov/orders/{need}/rate_back"),
            liaison.clone(),
            json!({"rating": "satisfied"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "not delivered yet: {}", r.body);
        c!("post", "/api/v1/cogov/orders/{id}/rate_back", &r);
        let r = get("/api/v1/cogov/orders/counts?within=230903011000".into(), street.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        c!("get", "/api/v1/cogov/orders/counts", &r);
        // Co-building agreements: signed with a member organization, a record, renewed, ended.
        let community = token(&app, &db, "community").await;
        let org = crate::agreements::member_organization(&db, "230903011001").await;
        let agreements = "/api/v1/cogov/agreements";
        let today = gongzhi_core::time::city_time(chrono::Utc::now()).date_naive();
        let day = |n: i64| (today + chrono::Duration::days(n)).to_string();
        let signing = |organization: Value| {
            json!({"community": "230903011001", "organization": organization, "term_from": day(-10), "term_to": day(355),
                   "commitments": [{"mechanism": "resources", "text": "开放单位会议室"}],
                   "appointments": [{"person": "张建国", "organization_post": "党委副书记", "community_post": "兼职委员"}],
                   "pairings": [{"first": "李医生", "second": "王护士", "subject": "慢病随访"}]})
        };
        let r = post(agreements.into(), community.clone(), signing(json!(org))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        c!("post", agreements, &r);
        let agreement = r.json()["id"].clone();
        let commitment = r.json()["commitments"][0]["id"].clone();
        let r = post(agreements.into(), community.clone(), signing(json!(999_999))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        c!("post", agreements, &r);
        let r = get(agreements.into(), community.clone()).await;
        c!("get", agreements, &r);
        let r = get(format!("{agreements}/{agreement}"), community.clone()).await;
        c!("get", "/api/v1/cogov/agreements/{id}", &r);
        let r = get(format!("{agreements}/{agreement}"), clerk.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        c!("get", "/api/v1/cogov/agreements/{id}", &r);
        let r = post(
            format!("{agreements}/{agreement}/records"),
            community.clone(),
            json!({"commitment": commitment, "date": day(0), "text": "开放会议室举办培训", "people": 12}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        c!("post", "/api/v1/cogov/agreements/{id}/records", &r);
        let renew = format!("{agreements}/{agreement}/renew");
        let r = post(
            renew.clone(),
            community.clone(),
            json!({"term_from": day(356), "term_to": day(720)}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        c!("post", "/api/v1/cogov/agreements/{id}/renew", &r);
        let renewal = r.json()["id"].clone();
        let r = post(
            renew,
            community.clone(),
            json!({"term_from": day(356), "term_to": day(720)}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        c!("post", "/api/v1/cogov/agreements/{id}/renew", &r);
        let r = post(
            format!("{agreements}/{renewal}/end"),
            community.clone(),
            json!({"reason": "单位迁出辖区"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        c!("post", "/api/v1/cogov/agreements/{id}/end", &r);
        let r = post(
            format!("{agreements}/{agreement}/records"),
            community.clone(),
            json!({"commitment": commitment, "date": day(0), "text": "again"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        c!("post", "/api/v1/cogov/agreements/{id}/records", &r);

        // Every documented operation was called and answered.
        for (m, p) in ROUTES {
            assert!(
                called.iter().any(|(cm, cp)| cm == m && cp == p),
                "{name}: {m} {p} documented but not called"
            );
        }
    }
}
