//! Open311 GeoReport v2 at /open311/v2 on SQLite and PostgreSQL: every endpoint in XML and JSON,
//! the spec's errors, the request shapes of the older clients, and API keys.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Reply, demo_apps, get, get_as, post_as, send, token};
use gongzhi_core::cases::attachment::AttachmentLimits;
use gongzhi_store::testing::TestDb;
use serde_json::{Value, json};

const GRID: &str = "230903011001001"; // 学府社区第1网格
const MATTER: &str = "06001"; // 私搭乱建

fn app_of(state: gongzhi_web::AppState) -> axum::Router {
    let blobs = gongzhi_store::Blobs::in_data_dir(&TestDb::temp_dir());
    gongzhi_web::router(state.with_attachments(blobs, AttachmentLimits::default()))
}

/// A point inside the demo grid, as WGS-84 `(lon, lat)` text.
fn point_in_grid() -> (String, String) {
    point_in(GRID)
}

fn point_in(code: &str) -> (String, String) {
    use geo::InteriorPoint;
    let grid = common::demo_nodes().iter().find(|n| n.code.as_str() == code).unwrap();
    let p = grid.boundary.as_ref().unwrap().interior_point().unwrap();
    (p.x().to_string(), p.y().to_string())
}

async fn post_form(app: &axum::Router, uri: &str, fields: &[(&str, &str)]) -> Reply {
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")
        .body(Body::from(serde_urlencoded::to_string(fields).unwrap()))
        .unwrap();
    send(app, request).await
}

/// An API key made by the demo system administrator.
async fn new_key(app: &axum::Router, admin: &str, name: &str, scope: &str, rate: i64) -> (i64, String) {
    let r = post_as(
        app,
        "/api/v1/api-keys",
        admin,
        &json!({"name": name, "scope": scope, "rate_per_minute": rate}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let j = r.json();
    (j["id"].as_i64().unwrap(), j["key"].as_str().unwrap().to_string())
}

fn assert_xml(r: &Reply) {
    assert_eq!(r.headers[header::CONTENT_TYPE], "text/xml; charset=utf-8", "{}", r.body);
    assert!(
        r.body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{}",
        r.body
    );
}

fn assert_json(r: &Reply) {
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "application/json; charset=utf-8",
        "{}",
        r.body
    );
}

/// The spec's error document in both formats: the HTTP status, and the body's code.
fn assert_error(r: &Reply, status: StatusCode, code: u16, format: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    if format == "json" {
        assert_json(r);
        let j = r.json();
        let errors = j.as_array().expect("a JSON array of errors");
        assert_eq!(errors[0]["code"], code, "{}", r.body);
        assert!(errors[0]["description"].as_str().is_some_and(|d| !d.is_empty()));
    } else {
        assert_xml(r);
        assert!(
            r.body
                .contains(&format!("<errors><error><code>{code}</code><description>")),
            "{}",
            r.body
        );
    }
}

#[tokio::test]
async fn discovery_services_and_definitions_answer_in_xml_and_json() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let name = db.backend_name();
        for f in ["xml", "json"] {
            let r = get(&app, &format!("/open311/v2/discovery.{f}")).await;
            assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
            let d = get(&app, &format!("/open311/v2/services.{f}")).await;
            assert_eq!(d.status, StatusCode::OK);
            let def = get(&app, &format!("/open311/v2/services/{MATTER}.{f}")).await;
            assert_eq!(def.status, StatusCode::OK, "{}", def.body);
            if f == "json" {
                assert_json(&r);
                let disc = r.json();
                assert_eq!(
                    disc["endpoints"][0]["specification"],
                    "http://wiki.open311.org/GeoReport_v2"
                );
                assert_eq!(disc["endpoints"][0]["formats"], json!(["text/xml", "application/json"]));
                let services = d.json();
                let list = services.as_array().expect("the service list is a bare array");
                let s = list.iter().find(|s| s["service_code"] == MATTER).unwrap();
                assert_eq!(s["service_name"], "私搭乱建");
                assert_eq!(s["metadata"], false);
                assert_eq!(s["type"], "realtime");
                assert!(s["group"].as_str().is_some_and(|g| !g.is_empty()));
                assert!(s["keywords"].as_str().is_some_and(|k| k.contains(',')));
                assert_eq!(def.json(), json!({"service_code": MATTER, "attributes": []}));
            } else {
                assert_xml(&r);
                assert!(r.body.contains("<discovery><changeset>"), "{}", r.body);
                assert!(
                    r.body
                        .contains("<formats><format>text/xml</format><format>application/json</format></formats>")
                );
                assert!(d.body.contains(&format!(
                    "<service><service_code>{MATTER}</service_code><service_name>私搭乱建</service_name>"
                )));
                assert!(d.body.contains("<metadata>false</metadata><type>realtime</type>"));
                assert_eq!(
                    def.body,
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<service_definition><service_code>{MATTER}</service_code><attributes/></service_definition>\n"
                    )
                );
            }
        }
        // open311 1.1 asks for the singular `service/{code}`.
        let legacy = get(&app, &format!("/open311/v2/service/{MATTER}.xml")).await;
        assert_eq!(legacy.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn a_posted_request_is_a_case_of_the_loop_and_is_listed_with_its_status() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let name = db.backend_name();
        let admin = token(&app, &db, "admin").await;
        let (_, key) = new_key(&app, &admin, "fixmystreet", "230900000000", 60).await;
        let (lon, lat) = point_in_grid();
        let r = post_form(
            &app,
            "/open311/v2/requests.xml",
            &[
                ("api_key", key.as_str()),
                ("jurisdiction_id", "qth.gov.cn"),
                ("service_code", MATTER),
                ("lat", &lat),
                ("long", &lon),
                ("description", "学府小区3号楼旁 <正在> 违法搭建彩钢房 & 堆料"),
                ("email", "zhang@example.cn"),
                ("first_name", "三"),
                ("last_name", "张"),
                ("phone", "13800000000"),
                ("account_id", "fms-42"),
                ("attribute[fixmystreet_id]", "1234"),
                ("attribute[kinds][]", "steel"),
                ("attribute[kinds][]", "brick"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_xml(&r);
        let number = r
            .body
            .split("<service_request_id>")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap()
            .to_string();
        assert_eq!(number.len(), 13, "{}", r.body);
        assert!(r.body.contains("<service_notice>") && r.body.contains("<account_id>fms-42</account_id>"));

        // The same case on the JSON API, channel open311, reported by the key.
        let clerk = token(&app, &db, "clerk").await;
        let case = get_as(&app, &format!("/api/v1/cases/{number}"), &clerk).await;
        assert_eq!(case.status, StatusCode::OK, "{}", case.body);
        let case = case.json();
        assert_eq!(case["channel"], "open311");
        assert_eq!(case["reporter"], "api-key:fixmystreet");
        assert_eq!(case["matter"]["code"], MATTER);
        assert_eq!(case["location"]["grid"], GRID);
        let report = &case["timeline"][0]["detail"];
        assert_eq!(
            report["reporter_contact"],
            json!({"email": "z***@example.cn", "first_name": "三", "last_name": "张", "phone": "138****0000"}),
            "phone and e-mail are kept masked"
        );
        assert_eq!(
            report["open311"]["attributes"],
            json!({"fixmystreet_id": "1234", "kinds": ["steel", "brick"]})
        );

        // Read back: open, with the deadline as expected_datetime, no contact anywhere.
        let one = get(&app, &format!("/open311/v2/requests/{number}.json")).await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.body);
        let list = one.json();
        let req = &list.as_array().expect("a list of one")[0];
        assert_eq!(req["service_request_id"], number.as_str());
        assert_eq!(req["status"], "open");
        assert_eq!(req["service_code"], MATTER);
        assert_eq!(req["service_name"], "私搭乱建");
        assert!(req["requested_datetime"].as_str().unwrap().ends_with("+08:00"));
        assert!(req["updated_datetime"].as_str().unwrap().ends_with("+08:00"));
        assert_eq!(req["expected_datetime"], case["next_deadline"]);
        assert!((req["lat"].as_f64().unwrap() - lat.parse::<f64>().unwrap()).abs() < 1e-9);
        assert!(!one.body.contains("zhang@example.cn") && !one.body.contains("13800000000"));
        let xml = get(&app, &format!("/open311/v2/requests/{number}.xml")).await;
        assert_xml(&xml);
        assert!(
            xml.body.contains(&format!(
                "<service_requests><request><service_request_id>{number}</service_request_id><status>open</status>"
            )),
            "{}",
            xml.body
        );
        assert!(
            xml.body.contains("&lt;正在&gt; 违法搭建彩钢房 &amp; 堆料"),
            "{}",
            xml.body
        );

        let open = get(&app, &format!("/open311/v2/requests.json?service_request_id={number}")).await;
        assert_eq!(open.json()[0]["status"], "open");
        let listed = get(
            &app,
            &format!("/open311/v2/requests.json?service_code={MATTER}&status=open"),
        )
        .await;
        assert!(
            listed
                .json()
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["service_request_id"] == number.as_str())
        );

        // Closed (refused by the clerk): closed in the list, FixMyStreet's no_further_action.
        let rejected = post_as(
            &app,
            &format!("/api/v1/cases/{number}/actions"),
            &clerk,
            &json!({"action": "reject", "reason": "不属于本市管辖"}),
        )
        .await;
        assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.body);
        for f in ["json", "xml"] {
            let closed = get(
                &app,
                &format!("/open311/v2/requests.{f}?status=closed&service_code={MATTER}"),
            )
            .await;
            assert_eq!(closed.status, StatusCode::OK);
            if f == "json" {
                let found = closed.json();
                let r = found
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["service_request_id"] == number.as_str())
                    .unwrap()
                    .clone();
                assert_eq!(r["status"], "closed");
                assert_eq!(r["expected_datetime"], Value::Null);
            } else {
                assert!(closed.body.contains(&format!(
                    "<service_request_id>{number}</service_request_id><status>closed</status>"
                )));
            }
        }
        let still_open = get(&app, "/open311/v2/requests.json?status=open").await;
        assert!(
            !still_open
                .json()
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["service_request_id"] == number.as_str())
        );

        // Extensions: the attributes, the channel and extended status, the timeline as notes.
        let ext = get(&app, &format!("/open311/v2/requests/{number}.json?extensions=true")).await;
        let ext = &ext.json()[0];
        assert_eq!(ext["extended_attributes"]["channel"], "open311");
        assert_eq!(ext["extended_attributes"]["fms_status"], "no_further_action");
        assert_eq!(
            ext["attributes"],
            json!([{"code": "fixmystreet_id", "value": "1234"}, {"code": "kinds", "value": ["steel", "brick"]}])
        );
        let notes = ext["notes"].as_array().unwrap();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert_eq!(notes[1]["type"], "reject");

        // Paging and the updated window.
        let p = get(&app, "/open311/v2/requests.json?page_size=1&page=1").await;
        assert_eq!(p.json().as_array().unwrap().len(), 1);
        let far = get(&app, "/open311/v2/requests.json?page_size=1&page=500").await;
        assert_eq!(far.json(), json!([]));
        let later = get(&app, "/open311/v2/requests.json?updated_after=2099-01-01T00:00:00Z").await;
        assert_eq!(later.json(), json!([]));
        let earlier = get(
            &app,
            "/open311/v2/requests.json?updated_before=2000-01-01T00:00:00%2B08:00",
        )
        .await;
        assert_eq!(earlier.json(), json!([]));

        // A token that is a case number resolves to it.
        let t = get(&app, &format!("/open311/v2/tokens/{number}.json")).await;
        assert_eq!(t.json(), json!([{"service_request_id": number, "token": number}]));
    }
}

#[tokio::test]
async fn every_error_of_the_spec_in_both_formats() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let admin = token(&app, &db, "admin").await;
        let (_, key) = new_key(&app, &admin, "client", "230900000000", 600).await;
        let (lon, lat) = point_in_grid();
        for f in ["xml", "json"] {
            let uri = format!("/open311/v2/requests.{f}");
            let post = |fields: Vec<(&'static str, String)>| {
                let app = app.clone();
                let uri = uri.clone();
                async move {
                    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    post_form(&app, &uri, &refs).await
                }
            };
            let base = |extra: &[(&'static str, &str)]| {
                let mut v: Vec<(&'static str, String)> =
                    vec![("api_key", key.clone()), ("lat", lat.clone()), ("long", lon.clone())];
                v.extend(extra.iter().map(|(k, x)| (*k, x.to_string())));
                v
            };
            // Unknown service: 404; malformed too.
            assert_error(
                &post(base(&[("service_code", "99999")])).await,
                StatusCode::NOT_FOUND,
                404,
                f,
            );
            assert_error(
                &post(base(&[("service_code", "abc")])).await,
                StatusCode::NOT_FOUND,
                404,
                f,
            );
            // Missing service_code: 400 (an empty value is absent).
            assert_error(
                &post(base(&[("service_code", "")])).await,
                StatusCode::BAD_REQUEST,
                400,
                f,
            );
            // Missing location.
            let r = post(vec![("api_key", key.clone()), ("service_code", MATTER.into())]).await;
            assert_error(&r, StatusCode::BAD_REQUEST, 400, f);
            let r = post(vec![
                ("api_key", key.clone()),
                ("service_code", MATTER.into()),
                ("lat", lat.clone()),
            ])
            .await;
            assert_error(&r, StatusCode::BAD_REQUEST, 400, f);
            // A point in no grid: 400 with the more specific code 422.
            let r = post(vec![
                ("api_key", key.clone()),
                ("service_code", MATTER.into()),
                ("lat", "39.9".into()),
                ("long", "116.4".into()),
            ])
            .await;
            assert_error(&r, StatusCode::BAD_REQUEST, 422, f);
            // Bad and missing api_key: 403.
            let mut bad_key = base(&[("service_code", MATTER)]);
            bad_key[0].1 = "gz311_wrong".into();
            assert_error(&post(bad_key).await, StatusCode::FORBIDDEN, 403, f);
            let no_key: Vec<_> = base(&[("service_code", MATTER)]).into_iter().skip(1).collect();
            assert_error(&post(no_key).await, StatusCode::FORBIDDEN, 403, f);
            // Unknown request id, unknown token.
            assert_error(
                &get(&app, &format!("/open311/v2/requests/2026010100001.{f}")).await,
                StatusCode::NOT_FOUND,
                404,
                f,
            );
            assert_error(
                &get(&app, &format!("/open311/v2/requests/nope.{f}")).await,
                StatusCode::NOT_FOUND,
                404,
                f,
            );
            assert_error(
                &get(&app, &format!("/open311/v2/tokens/abc.{f}")).await,
                StatusCode::NOT_FOUND,
                404,
                f,
            );
            assert_error(
                &get(&app, &format!("/open311/v2/services/99999.{f}")).await,
                StatusCode::NOT_FOUND,
                404,
                f,
            );
            // Bad dates, a span over 90 days, a bad status, a bad page size.
            for q in [
                "start_date=yesterday",
                "end_date=2026-11-01",
                "start_date=2026-11-01T00:00:00",
                "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
                "start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
                "updated_after=soon",
                "status=pending",
                "page_size=0",
                "service_request_id=12",
            ] {
                let r = get(&app, &format!("/open311/v2/requests.{f}?{q}")).await;
                assert_error(&r, StatusCode::BAD_REQUEST, 400, f);
            }
        }
        // An unsupported format: 400, in XML (the required format).
        for uri in [
            "/open311/v2/services.html",
            "/open311/v2/services",
            "/open311/v2/requests/1.csv",
        ] {
            assert_error(&get(&app, uri).await, StatusCode::BAD_REQUEST, 400, "xml");
        }
        // English on request.
        let en = get(&app, "/open311/v2/services/99999.json?lang=en").await;
        assert!(
            en.json()[0]["description"].as_str().unwrap().contains("not found"),
            "{}",
            en.body
        );
    }
}

#[tokio::test]
async fn the_shapes_of_older_clients_are_taken() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let admin = token(&app, &db, "admin").await;
        let (_, key) = new_key(&app, &admin, "three", "230900000000", 60).await;
        let (lon, lat) = point_in_grid();

        // open311 1.1: api_key and jurisdiction_id in the query string, the form in the body.
        let r = post_form(
            &app,
            &format!("/open311/v2/requests.xml?jurisdiction_id=qth.gov.cn&api_key={key}"),
            &[
                ("service_code", MATTER),
                ("address_string", "桃山区桃东街道学府社区学府小区3号楼"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        // three: multipart with the photo in `media`, and no description (the service name is).
        let jpeg = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/plain.jpg")).unwrap();
        let mut body = Vec::new();
        for (k, v) in [
            ("api_key", key.as_str()),
            ("service_code", MATTER),
            ("lat", &lat),
            ("long", &lon),
        ] {
            body.extend(format!("--XyZ\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
        }
        body.extend(b"--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n");
        body.extend(jpeg);
        body.extend(b"\r\n--XyZ--\r\n");
        let r = send(
            &app,
            Request::post("/open311/v2/requests.json")
                .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let number = r.json()[0]["service_request_id"].as_str().unwrap().to_string();
        let ext = get(&app, &format!("/open311/v2/requests/{number}.json?extensions=true")).await;
        let req = &ext.json()[0];
        assert_eq!(req["description"], "私搭乱建");
        assert_eq!(
            req["extended_attributes"]["photos"].as_array().unwrap().len(),
            1,
            "{}",
            ext.body
        );

        // Dates with an unencoded `+` (it arrives as a space), and `Z`.
        let r = get(
            &app,
            "/open311/v2/requests.json?start_date=2026-01-01T00:00:00+08:00&end_date=2026-02-01T00:00:00Z",
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // civicbot sends Accept: application/json and a comma list of ids.
        let r = send(
            &app,
            Request::get(format!(
                "/open311/v2/requests.json?service_request_id={number},{number}"
            ))
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .unwrap(),
        )
        .await;
        assert_eq!(r.json().as_array().unwrap().len(), 2);
    }
}

#[tokio::test]
async fn api_keys_are_shown_once_scoped_rate_limited_and_revocable() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let admin = token(&app, &db, "admin").await;
        let clerk = token(&app, &db, "clerk").await;
        let (lon, lat) = point_in_grid();

        // Only a system administrator, within their scope, with a unique name and a real node.
        let r = post_as(
            &app,
            "/api/v1/api-keys",
            &clerk,
            &json!({"name": "x", "scope": "230900000000"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let (id, key) = new_key(&app, &admin, "grid-app", GRID, 2).await;
        assert!(key.starts_with("gz311_"));
        let r = post_as(
            &app,
            "/api/v1/api-keys",
            &admin,
            &json!({"name": "grid-app", "scope": GRID}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        let r = post_as(
            &app,
            "/api/v1/api-keys",
            &admin,
            &json!({"name": "y", "scope": "230903999999"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        let r = post_as(
            &app,
            "/api/v1/api-keys",
            &admin,
            &json!({"name": "y", "scope": GRID, "calls": ["everything"]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let listed = get_as(&app, "/api/v1/api-keys", &admin).await;
        assert_eq!(listed.status, StatusCode::OK);
        assert!(!listed.body.contains(&key), "the secret is shown only once");
        assert_eq!(listed.json()["api_keys"][0]["name"], "grid-app");
        assert_eq!(listed.json()["api_keys"][0]["calls"], json!(["open311.post_request"]));

        // Outside its grid: 403.
        let elsewhere = common::demo_nodes()
            .iter()
            .find(|n| n.code.as_str().len() == 15 && !n.code.as_str().starts_with("230903011001"))
            .unwrap();
        let (olon, olat) = point_in(elsewhere.code.as_str());
        let r = post_form(
            &app,
            "/open311/v2/requests.json",
            &[
                ("api_key", &key),
                ("service_code", MATTER),
                ("lat", &olat),
                ("long", &olon),
            ],
        )
        .await;
        assert_error(&r, StatusCode::FORBIDDEN, 403, "json");

        // Two a minute: the refused request took one; one more passes and the next waits.
        let fields = [
            ("api_key", key.as_str()),
            ("service_code", MATTER),
            ("lat", &lat),
            ("long", &lon),
        ];
        let second = post_form(&app, "/open311/v2/requests.json", &fields).await;
        assert_eq!(second.status, StatusCode::OK, "{}", second.body);
        let third = post_form(&app, "/open311/v2/requests.json", &fields).await;
        assert_error(&third, StatusCode::TOO_MANY_REQUESTS, 429, "json");
        assert!(third.headers.contains_key(header::RETRY_AFTER));

        // Revoked: refused at once, still listed.
        let r = send(
            &app,
            Request::delete(format!("/api/v1/api-keys/{id}"))
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.json()["revoked_at"].is_string());
        let (_, other) = new_key(&app, &admin, "other", "230900000000", 60).await;
        let mut revoked = fields;
        revoked[0].1 = key.as_str();
        let r = post_form(&app, "/open311/v2/requests.xml", &revoked).await;
        assert_error(&r, StatusCode::FORBIDDEN, 403, "xml");
        let ok = post_form(
            &app,
            "/open311/v2/requests.xml",
            &[
                ("api_key", &other),
                ("service_code", MATTER),
                ("lat", &lat),
                ("long", &lon),
            ],
        )
        .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        let r = send(
            &app,
            Request::delete("/api/v1/api-keys/99999")
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
}
