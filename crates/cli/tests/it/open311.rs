//! Open311 GeoReport v2 at /open311/v2 on SQLite and PostgreSQL: every endpoint in XML and JSON,
//! the spec's errors, the request shapes of the older clients, and API keys.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_core::cases::attachment::AttachmentLimits;
use gongzhi_store::testing::TestDb;
use serde_json::{Value, json};

use crate::common;
use crate::common::{Reply, demo_apps, get, get_as, post_as, send, token};

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
        // The photo is the case's (staff see it on the timeline); the public list names none.
        assert!(req["extended_attributes"].get("photos").is_none(), "{}", ext.body);
        assert_eq!(req["media_url"], Value::Null, "{}", ext.body);
        let clerk = token(&app, &db, "clerk").await;
        let case = get_as(&app, &format!("/api/v1/cases/{number}"), &clerk).await.json();
        assert_eq!(
            case["timeline"][0]["detail"]["photos"].as_array().unwrap().len(),
            1,
            "{case}"
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
        let r = post_as(
            &app,
            "/api/v1/api-keys",
            &admin,
            &json!({"name": "y", "scope": GRID, "rate_per_minute": "fast"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["error"]["field"], "rate_per_minute");
        let r = post_as(&app, "/api/v1/api-keys", &admin, &json!({"scope": GRID})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json()["error"]["field"], "name");
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

/// An API key allowed the given calls.
async fn new_key_with_calls(app: &axum::Router, admin: &str, name: &str, scope: &str, calls: &[&str]) -> String {
    let r = post_as(
        app,
        "/api/v1/api-keys",
        admin,
        &json!({"name": name, "scope": scope, "calls": calls, "rate_per_minute": 600}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["key"].as_str().unwrap().to_string()
}

/// A case reported through Open311 with `key`; its number.
async fn open311_case(app: &axum::Router, key: &str) -> String {
    let (lon, lat) = point_in_grid();
    let r = post_form(
        app,
        "/open311/v2/requests.json",
        &[
            ("api_key", key),
            ("service_code", MATTER),
            ("lat", &lat),
            ("long", &lon),
            ("description", "学府小区门口占道堆料"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()[0]["service_request_id"].as_str().unwrap().to_string()
}

fn updates_of(list: &Value, number: &str) -> Vec<Value> {
    list.as_array()
        .expect("a bare array of updates")
        .iter()
        .filter(|u| u["service_request_id"] == number)
        .cloned()
        .collect()
}

#[tokio::test]
async fn service_request_updates_list_the_timeline_and_take_notes_once() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let name = db.backend_name();
        let admin = token(&app, &db, "admin").await;
        let clerk = token(&app, &db, "clerk").await;
        let key = new_key_with_calls(
            &app,
            &admin,
            "fms-council",
            "230900000000",
            &["open311.post_request", "open311.post_update"],
        )
        .await;
        // The demo city's year of cases fills the default window (a day) past one answer's
        // 1,000 updates, oldest first: read from just before this test.
        let since = (chrono::Utc::now() - chrono::Duration::seconds(2)).format("%Y-%m-%dT%H:%M:%SZ");
        let number = open311_case(&app, &key).await;
        let default_window = get(&app, "/open311/v2/servicerequestupdates.json").await;
        assert_eq!(default_window.status, StatusCode::OK, "{name}: {}", default_window.body);
        assert!(default_window.json().as_array().unwrap().len() <= 1000);

        // The clerk accepts: the feed has one update for it (the report itself is not one).
        let accepted = post_as(
            &app,
            &format!("/api/v1/cases/{number}/actions"),
            &clerk,
            &json!({"action": "accept"}),
        )
        .await;
        assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
        let feed = get(
            &app,
            &format!("/open311/v2/servicerequestupdates.json?start_date={since}"),
        )
        .await;
        assert_eq!(feed.status, StatusCode::OK, "{name}: {}", feed.body);
        assert_json(&feed);
        let ours = updates_of(&feed.json(), &number);
        assert_eq!(ours.len(), 1, "{name}: {ours:?}");
        let u = &ours[0];
        assert_eq!(u["update_id"], format!("{number}-1"));
        assert_eq!(u["status"], "investigating");
        assert_eq!(u["media_url"], "");
        assert!(u["description"].as_str().unwrap().contains("受理"), "{u}");
        assert!(u["updated_datetime"].as_str().unwrap().ends_with("+08:00"), "{u}");
        let keys: Vec<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        for k in [
            "update_id",
            "service_request_id",
            "status",
            "updated_datetime",
            "description",
            "media_url",
        ] {
            assert!(keys.contains(&k), "{k} in {u}");
        }

        // POST an update in XML: a note on the timeline, the state unchanged.
        let fields = [
            ("api_key", key.as_str()),
            ("jurisdiction_id", "qth.gov.cn"),
            ("service_request_id", number.as_str()),
            ("update_id", "fms-update-7"),
            ("status", "IN_PROGRESS"),
            ("updated_datetime", "2026-11-27T09:00:00+00:00"),
            ("description", "Council contractor <booked> & on the way"),
            ("media_url", "https://fms.example/photo/7.jpeg"),
            ("account_id", "fms-acc-1"),
        ];
        let posted = post_form(&app, "/open311/v2/servicerequestupdates.xml", &fields).await;
        assert_eq!(posted.status, StatusCode::OK, "{name}: {}", posted.body);
        assert_xml(&posted);
        assert!(
            posted.body.contains(&format!(
                "<service_request_updates><request_update><update_id>{number}-2</update_id><account_id>fms-acc-1</account_id></request_update></service_request_updates>"
            )),
            "{}",
            posted.body
        );
        // The same update_id again (in JSON this time): the first answer, no second note.
        let again = post_form(&app, "/open311/v2/servicerequestupdates.json", &fields).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        assert_json(&again);
        assert_eq!(
            again.json(),
            json!([{"update_id": format!("{number}-2"), "account_id": "fms-acc-1"}])
        );
        let case = get_as(&app, &format!("/api/v1/cases/{number}"), &clerk).await.json();
        assert_eq!(case["state"], "accepted");
        assert_eq!(case["revision"], 2);
        let timeline = case["timeline"].as_array().unwrap();
        assert_eq!(timeline.len(), 3, "{timeline:?}");
        assert_eq!(timeline[2]["kind"], "note");
        assert_eq!(timeline[2]["account"], "api-key:fms-council");
        assert_eq!(timeline[2]["from"], "accepted");
        assert_eq!(timeline[2]["to"], "accepted");
        assert_eq!(
            timeline[2]["detail"]["note"],
            "Council contractor <booked> & on the way"
        );
        assert_eq!(timeline[2]["detail"]["open311"]["status"], "IN_PROGRESS");
        assert_eq!(timeline[2]["detail"]["open311"]["update_id"], "fms-update-7");

        // The loop goes on after a note: the revision moved, the next action still applies.
        let registered = post_as(
            &app,
            &format!("/api/v1/cases/{number}/actions"),
            &clerk,
            &json!({"action": "reject", "reason": "重复上报"}),
        )
        .await;
        assert_eq!(registered.status, StatusCode::OK, "{}", registered.body);

        // The feed in both formats, with the note and its media; date filters.
        let feed = get(
            &app,
            &format!("/open311/v2/servicerequestupdates.json?jurisdiction_id=qth.gov.cn&start_date={since}"),
        )
        .await;
        let ours = updates_of(&feed.json(), &number);
        assert_eq!(ours.len(), 3, "{ours:?}");
        assert_eq!(ours[1]["update_id"], format!("{number}-2"));
        assert_eq!(ours[1]["description"], "Council contractor <booked> & on the way");
        assert_eq!(ours[1]["status"], "investigating");
        assert_eq!(ours[1]["media_url"], "https://fms.example/photo/7.jpeg");
        assert_eq!(ours[2]["status"], "no_further_action");
        let xml = get(
            &app,
            &format!("/open311/v2/servicerequestupdates.xml?start_date={since}"),
        )
        .await;
        assert_eq!(xml.status, StatusCode::OK);
        assert_xml(&xml);
        assert!(
            xml.body
                .contains("<service_request_updates><request_update><update_id>"),
            "{}",
            xml.body
        );
        assert!(
            xml.body.contains(&format!(
                "<update_id>{number}-2</update_id><service_request_id>{number}</service_request_id><status>investigating</status>"
            )),
            "{}",
            xml.body
        );
        assert!(xml.body.contains("Council contractor &lt;booked&gt; &amp; on the way"));
        let past = get(
            &app,
            "/open311/v2/servicerequestupdates.json?start_date=2000-01-01T00:00:00Z&end_date=2000-01-02T00:00:00Z",
        )
        .await;
        assert_eq!(past.json(), json!([]));
        let now = chrono::Utc::now();
        let window = format!(
            "/open311/v2/servicerequestupdates.json?start_date={}&end_date={}",
            (now - chrono::Duration::seconds(30)).format("%Y-%m-%dT%H:%M:%SZ"),
            (now + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%S%%2B00:00"),
        );
        assert_eq!(updates_of(&get(&app, &window).await.json(), &number).len(), 3);
        let one_sided = get(
            &app,
            &format!(
                "/open311/v2/servicerequestupdates.json?start_date={}",
                (now - chrono::Duration::seconds(30)).format("%Y-%m-%dT%H:%M:%SZ")
            ),
        )
        .await;
        assert_eq!(updates_of(&one_sided.json(), &number).len(), 3);
    }
}

#[tokio::test]
async fn service_request_updates_refuse_what_the_spec_refuses_in_both_formats() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let admin = token(&app, &db, "admin").await;
        let both = new_key_with_calls(
            &app,
            &admin,
            "council",
            "230900000000",
            &["open311.post_request", "open311.post_update"],
        )
        .await;
        let requests_only =
            new_key_with_calls(&app, &admin, "reports-only", "230900000000", &["open311.post_request"]).await;
        // A key of another subtree: the case is outside it.
        let elsewhere = new_key_with_calls(&app, &admin, "elsewhere", "230902000000", &["open311.post_update"]).await;
        let number = open311_case(&app, &both).await;
        for f in ["xml", "json"] {
            let uri = format!("/open311/v2/servicerequestupdates.{f}");
            let update = |key: &str, extra: &[(&str, &str)], skip: &str| {
                let mut v: Vec<(String, String)> = vec![
                    ("api_key".into(), key.to_string()),
                    ("service_request_id".into(), number.clone()),
                    ("update_id".into(), format!("u-{f}-{}", extra.len())),
                    ("status".into(), "OPEN".into()),
                    ("updated_datetime".into(), "2026-11-27T09:00:00Z".into()),
                    ("description".into(), "note".into()),
                ];
                for (k, x) in extra {
                    v.retain(|(n, _)| n != k);
                    v.push((k.to_string(), x.to_string()));
                }
                v.retain(|(n, _)| n != skip);
                v
            };
            let send = |fields: Vec<(String, String)>| {
                let app = app.clone();
                let uri = uri.clone();
                async move {
                    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    post_form(&app, &uri, &refs).await
                }
            };
            // 403: no key, an unknown key, a key without the call, a case outside the key's scope.
            assert_error(
                &send(update(&both, &[], "api_key")).await,
                StatusCode::FORBIDDEN,
                403,
                f,
            );
            assert_error(
                &send(update("gz311_nope", &[], "")).await,
                StatusCode::FORBIDDEN,
                403,
                f,
            );
            assert_error(
                &send(update(&requests_only, &[], "")).await,
                StatusCode::FORBIDDEN,
                403,
                f,
            );
            assert_error(&send(update(&elsewhere, &[], "")).await, StatusCode::FORBIDDEN, 403, f);
            // 400: each required field missing; a bad status, datetime or description.
            for field in [
                "service_request_id",
                "update_id",
                "status",
                "updated_datetime",
                "description",
            ] {
                assert_error(&send(update(&both, &[], field)).await, StatusCode::BAD_REQUEST, 400, f);
            }
            assert_error(
                &send(update(&both, &[("status", "SOLVED")], "")).await,
                StatusCode::BAD_REQUEST,
                400,
                f,
            );
            assert_error(
                &send(update(&both, &[("updated_datetime", "2026-11-27 09:00")], "")).await,
                StatusCode::BAD_REQUEST,
                400,
                f,
            );
            let long = "长".repeat(2001);
            assert_error(
                &send(update(&both, &[("description", long.as_str())], "")).await,
                StatusCode::BAD_REQUEST,
                400,
                f,
            );
            // 404: a request that does not exist.
            assert_error(
                &send(update(&both, &[("service_request_id", "2026010100001")], "")).await,
                StatusCode::NOT_FOUND,
                404,
                f,
            );
            assert_error(
                &send(update(&both, &[("service_request_id", "nope")], "")).await,
                StatusCode::NOT_FOUND,
                404,
                f,
            );
            // GET: bad dates, a reversed or too long span.
            for q in [
                "start_date=yesterday",
                "start_date=2026-11-02T00:00:00Z&end_date=2026-11-01T00:00:00Z",
                "start_date=2026-01-01T00:00:00Z&end_date=2026-11-01T00:00:00Z",
            ] {
                let r = get(&app, &format!("/open311/v2/servicerequestupdates.{f}?{q}")).await;
                assert_error(&r, StatusCode::BAD_REQUEST, 400, f);
            }
        }
        // Nothing refused left a note.
        let clerk = token(&app, &db, "clerk").await;
        let case = get_as(&app, &format!("/api/v1/cases/{number}"), &clerk).await.json();
        assert_eq!(case["timeline"].as_array().unwrap().len(), 1, "{}", case["timeline"]);
        // A lower-case status is taken (FixMyStreet writes them upper case, GETs lower case).
        let ok = send_ok(&app, &both, &number).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    }
}

async fn send_ok(app: &axum::Router, key: &str, number: &str) -> Reply {
    post_form(
        app,
        "/open311/v2/servicerequestupdates.json",
        &[
            ("api_key", key),
            ("service_request_id", number),
            ("update_id", "lower"),
            ("status", "fixed"),
            ("updated_datetime", "2026-11-27T09:00:00+08:00"),
            ("description", "done"),
        ],
    )
    .await
}

/// The plain list reads only the listed columns; a request read with extensions reads the whole
/// case: both give the same fields (a dispatched case with its agency and deadline, a closed one).
#[tokio::test]
async fn the_plain_list_shows_what_the_full_case_shows() {
    for (db, state) in demo_apps().await {
        let app = app_of(state);
        let name = db.backend_name();
        let admin = token(&app, &db, "admin").await;
        let key = new_key_with_calls(&app, &admin, "lean", "230900000000", &["open311.post_request"]).await;
        let dispatched = open311_case(&app, &key).await;
        let rejected = open311_case(&app, &key).await;
        let fresh = open311_case(&app, &key).await;
        for (who, number, action) in [
            ("clerk", &dispatched, json!({"action": "accept"})),
            ("shiftlead", &dispatched, json!({"action": "register"})),
            (
                "dispatcher",
                &dispatched,
                json!({"action": "dispatch", "lead": {"kind": "department", "code": "urban-management"}}),
            ),
            (
                "clerk",
                &rejected,
                json!({"action": "reject", "reason": "不属于本市管辖"}),
            ),
        ] {
            let t = token(&app, &db, who).await;
            let r = post_as(&app, &format!("/api/v1/cases/{number}/actions"), &t, &action).await;
            assert_eq!(r.status, StatusCode::OK, "{name} {who}: {}", r.body);
        }
        let list = get(&app, "/open311/v2/requests.json").await.json();
        for number in [&dispatched, &rejected, &fresh] {
            let plain = list
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["service_request_id"] == number.as_str())
                .unwrap()
                .clone();
            let full = get(&app, &format!("/open311/v2/requests/{number}.json")).await.json()[0].clone();
            assert_eq!(plain, full, "{name} {number}");
            let ext = get(
                &app,
                &format!("/open311/v2/requests.json?extensions=true&service_request_id={number}"),
            )
            .await
            .json()[0]
                .clone();
            for (k, v) in plain.as_object().unwrap() {
                assert_eq!(&ext[k], v, "{name} {number} {k}");
            }
        }
        let d = list
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["service_request_id"] == dispatched.as_str())
            .unwrap();
        assert_eq!(d["agency_responsible"], "城市管理综合执法局", "{d}");
        assert!(d["expected_datetime"].as_str().is_some(), "{d}");
        let r = list
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["service_request_id"] == rejected.as_str())
            .unwrap();
        assert_eq!(r["status"], "closed");
        assert_eq!(r["expected_datetime"], Value::Null);
    }
}
