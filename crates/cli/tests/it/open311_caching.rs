//! Open311 answers as a caching client gets them, on SQLite and PostgreSQL: validators on every
//! read, 304 with no body for the version held, a new tag once a listed case changes, and the
//! body compressed when the client accepts it.

use std::io::Read;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::common;
use crate::common::{Reply, demo_apps, get, post_as, send, token};

const GRID: &str = "230903011001001";

async fn get_with(app: &axum::Router, uri: &str, headers: &[(header::HeaderName, &str)]) -> Reply {
    let mut request = Request::get(uri);
    for (k, v) in headers {
        request = request.header(k, *v);
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

fn etag(r: &Reply) -> String {
    r.headers
        .get(header::ETAG)
        .unwrap_or_else(|| panic!("no ETag: {:?}", r.headers))
        .to_str()
        .unwrap()
        .to_string()
}

/// A case reported by a clerk inside the demo grid; its number.
async fn report(app: &axum::Router, clerk: &str, what: &str) -> String {
    let (lon, lat) = common::point_in(GRID);
    let body = json!({"channel": "hotline", "matter": "06001", "description": what, "lon": lon, "lat": lat});
    let r = post_as(app, "/api/v1/cases", clerk, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["number"].as_str().unwrap().to_string()
}

fn assert_not_modified(r: &Reply, tag: &str, what: &str) {
    assert_eq!(r.status, StatusCode::NOT_MODIFIED, "{what}: {}", r.body);
    assert!(r.bytes.is_empty(), "{what}: a 304 has no body");
    assert_eq!(etag(r), tag, "{what}: the 304 names the version");
}

#[tokio::test]
async fn reads_carry_validators_and_a_held_version_is_not_sent_again() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state);

        // Services: the same version in a language is the same tag; another language another.
        for uri in [
            "/open311/v2/services.json",
            "/open311/v2/services.xml",
            "/open311/v2/discovery.json",
            "/open311/v2/services/06001.json",
        ] {
            let r = get(&app, uri).await;
            assert_eq!(r.status, StatusCode::OK, "{name} {uri}: {}", r.body);
            let tag = etag(&r);
            assert!(
                tag.starts_with("W/\""),
                "{name} {uri}: weak, the body may be compressed"
            );
            assert!(r.headers.contains_key(header::LAST_MODIFIED), "{name} {uri}");
            assert_eq!(
                r.headers[header::CACHE_CONTROL],
                "public, no-cache",
                "{name} {uri}: the taxonomy may be kept and revalidated"
            );
            let again = get_with(&app, uri, &[(header::IF_NONE_MATCH, &tag)]).await;
            assert_not_modified(&again, &tag, &format!("{name} {uri}"));
            let other = get_with(&app, uri, &[(header::IF_NONE_MATCH, "W/\"0\"")]).await;
            assert_eq!(other.status, StatusCode::OK, "{name} {uri}");
        }
        let zh = etag(&get(&app, "/open311/v2/services.json").await);
        let en = etag(&get(&app, "/open311/v2/services.json?lang=en").await);
        assert_ne!(zh, en, "{name}: the language is part of the version");

        // The list: a new tag when a case enters it, and again when a listed case changes.
        let clerk = token(&app, &db, "clerk").await;
        let first = report(&app, &clerk, "学府小区门口占道堆料").await;
        let list = get(&app, "/open311/v2/requests.json").await;
        assert_eq!(list.status, StatusCode::OK, "{name}: {}", list.body);
        let listed = etag(&list);
        let modified = list.headers[header::LAST_MODIFIED].to_str().unwrap().to_string();
        assert!(modified.ends_with(" GMT"), "{name}: {modified}");
        assert_eq!(
            list.headers[header::CACHE_CONTROL],
            "no-store",
            "{name}: what residents wrote is kept by no cache, only its tag by the client"
        );
        assert_not_modified(
            &get_with(&app, "/open311/v2/requests.json", &[(header::IF_NONE_MATCH, &listed)]).await,
            &listed,
            name,
        );
        let second = report(&app, &clerk, "路灯不亮").await;
        let with_second = get_with(&app, "/open311/v2/requests.json", &[(header::IF_NONE_MATCH, &listed)]).await;
        assert_eq!(with_second.status, StatusCode::OK, "{name}: a new case is listed");
        assert!(with_second.body.contains(&second), "{name}");
        let both = etag(&with_second);
        assert_ne!(both, listed, "{name}");

        let one_uri = format!("/open311/v2/requests/{first}.json");
        let one = get(&app, &one_uri).await;
        let one_tag = etag(&one);
        let one_modified = one.headers[header::LAST_MODIFIED].to_str().unwrap().to_string();
        assert_not_modified(
            &get_with(&app, &one_uri, &[(header::IF_MODIFIED_SINCE, &one_modified)]).await,
            &one_tag,
            &format!("{name}: If-Modified-Since on one request"),
        );
        let r = post_as(
            &app,
            &format!("/api/v1/cases/{first}/actions"),
            &clerk,
            &json!({"action": "accept"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        let changed = get_with(&app, "/open311/v2/requests.json", &[(header::IF_NONE_MATCH, &both)]).await;
        assert_eq!(changed.status, StatusCode::OK, "{name}: a listed case changed");
        assert_ne!(etag(&changed), both, "{name}");
        let one_again = get_with(&app, &one_uri, &[(header::IF_NONE_MATCH, &one_tag)]).await;
        assert_eq!(one_again.status, StatusCode::OK, "{name}: the request changed");
        assert_ne!(etag(&one_again), one_tag, "{name}");
        // Another page, format or the extensions are other versions.
        for uri in [
            "/open311/v2/requests.xml",
            "/open311/v2/requests.json?extensions=true",
            "/open311/v2/requests.json?page_size=1",
        ] {
            assert_ne!(etag(&get(&app, uri).await), etag(&changed), "{name} {uri}");
        }
    }
}

#[tokio::test]
async fn answers_are_compressed_when_the_client_accepts_it_and_events_are_not_buffered() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state);
        let plain = get(&app, "/open311/v2/services.json").await;
        assert!(
            !plain.headers.contains_key(header::CONTENT_ENCODING),
            "{name}: not asked"
        );
        let gz = get_with(&app, "/open311/v2/services.json", &[(header::ACCEPT_ENCODING, "gzip")]).await;
        assert_eq!(gz.status, StatusCode::OK, "{name}");
        assert_eq!(gz.headers[header::CONTENT_ENCODING], "gzip", "{name}");
        assert_eq!(etag(&gz), etag(&plain), "{name}: one version, two encodings");
        let mut text = String::new();
        flate2::read::GzDecoder::new(gz.bytes.as_slice())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, plain.body, "{name}");
        assert!(
            gz.bytes.len() * 3 < plain.bytes.len(),
            "{name}: {} of {}",
            gz.bytes.len(),
            plain.bytes.len()
        );
        // Brotli where the client prefers it, as browsers do.
        let br = get_with(
            &app,
            "/open311/v2/services.json",
            &[(header::ACCEPT_ENCODING, "gzip;q=0.5, br")],
        )
        .await;
        assert_eq!(br.headers[header::CONTENT_ENCODING], "br", "{name}");
        let mut text = String::new();
        brotli::Decompressor::new(br.bytes.as_slice(), 4096)
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, plain.body, "{name}");
        // (At the layer's quality 4, chosen for speed, brotli is about gzip's size here.)
        assert!(br.bytes.len() * 3 < plain.bytes.len(), "{name}: br {}", br.bytes.len());

        // Server-sent events are never compressed: a compressor would hold them back.
        let t = token(&app, &db, "leader").await;
        let request = Request::get("/api/v1/events")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap();
        let response = tower::ServiceExt::oneshot(app.clone(), request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        assert!(
            response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        assert!(!response.headers().contains_key(header::CONTENT_ENCODING), "{name}");
    }
}
