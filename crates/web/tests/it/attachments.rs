//! Uploading and fetching photos over HTTP, on both databases.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_core::cases::attachment::AttachmentLimits;
use gongzhi_store::Blobs;
use gongzhi_store::testing::TestDb;
use gongzhi_web::AppState;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const EXIF_JPG: &[u8] = include_bytes!("../../../core/tests/fixtures/exif.jpg");
const PNG: &[u8] = include_bytes!("../../../core/tests/fixtures/small.png");
const WEBP: &[u8] = include_bytes!("../../../core/tests/fixtures/small.webp");
const TEXT: &[u8] = include_bytes!("../../../core/tests/fixtures/not-a-photo.jpg");
/// 48 KB declaring 20000 × 20000 pixels.
const HUGE_PNG: &[u8] = include_bytes!("../../../core/tests/fixtures/huge.png");

const BOUNDARY: &str = "gongzhi-test-boundary";

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
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
    }
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply { status, headers, body }
}

/// A form as a browser or a phone app sends it: one file in `field`, named and typed by the client.
fn form(field: &str, filename: &str, content_type: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n路灯不亮\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n\
         Content-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(app: &Router, filename: &str, content_type: &str, bytes: &[u8]) -> Reply {
    upload_as(app, "file", filename, content_type, bytes, "zh-CN").await
}

async fn upload_as(app: &Router, field: &str, filename: &str, content_type: &str, bytes: &[u8], lang: &str) -> Reply {
    let request = Request::post("/api/v1/attachments")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::ACCEPT_LANGUAGE, lang)
        .body(Body::from(form(field, filename, content_type, bytes)))
        .unwrap();
    send(app, request).await
}

async fn get(app: &Router, uri: &str) -> Reply {
    send(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// Sends every request as an intake clerk of the city, signed in with a bearer token.
async fn signed_in_as_clerk(db: &TestDb, router: Router) -> Router {
    use gongzhi_core::people::{Grant, Role, Scope};
    let city = Scope::Territory(gongzhi_core::territory::TerritoryCode::parse("230900000000").unwrap());
    let token = gongzhi_store::testing::signed_in(
        db,
        "clerk",
        &[Grant {
            role: Role::IntakeClerk,
            scope: city,
        }],
    )
    .await;
    let bearer = axum::http::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    router.layer(axum::middleware::map_request(
        move |mut request: axum::extract::Request| {
            let bearer = bearer.clone();
            async move {
                request.headers_mut().insert(axum::http::header::AUTHORIZATION, bearer);
                request
            }
        },
    ))
}

#[tokio::test]
async fn uploading_or_reading_a_photo_needs_a_signed_in_user() {
    let db = TestDb::sqlite().await;
    let state = AppState::new(db.db.clone())
        .await
        .unwrap()
        .with_attachments(Blobs::in_data_dir(&TestDb::temp_dir()), AttachmentLimits::default());
    let app = gongzhi_web::router(state);
    assert_eq!(
        upload(&app, "a.png", "image/png", PNG).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&app, "/api/v1/attachments/1").await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// An application on each database, storing attachments in a fresh data folder.
async fn apps(limits: AttachmentLimits) -> Vec<(TestDb, Router, Blobs)> {
    let mut apps = Vec::new();
    for db in TestDb::all().await {
        let blobs = Blobs::in_data_dir(&TestDb::temp_dir());
        let state = AppState::new(db.db.clone())
            .await
            .unwrap()
            .with_attachments(blobs.clone(), limits);
        let router = signed_in_as_clerk(&db, gongzhi_web::router(state)).await;
        apps.push((db, router, blobs));
    }
    apps
}

fn stored_files(blobs: &Blobs) -> usize {
    walk(blobs.root())
}

fn walk(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { walk(&p) } else { 1 })
        .sum()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_grid_worker_uploads_photos_and_gets_them_back() {
    for (db, app, blobs) in apps(AttachmentLimits::default()).await {
        let name = db.backend_name();
        for (bytes, filename, media_type) in [
            (EXIF_JPG, "IMG_0001.JPG", "image/jpeg"),
            (PNG, "screen.png", "image/png"),
            (WEBP, "photo.webp", "image/webp"),
        ] {
            // Phones often send a generic type; the content decides.
            let reply = upload(&app, filename, "application/octet-stream", bytes).await;
            assert_eq!(
                reply.status,
                StatusCode::CREATED,
                "{name} {filename}: {:?}",
                reply.json()
            );
            let json = reply.json();
            assert_eq!(json["media_type"], media_type);
            assert_eq!(json["size"], bytes.len());
            assert_eq!(json["sha256"].as_str().unwrap().len(), 64);
            let id = json["id"].as_i64().unwrap();
            assert_eq!(reply.header(header::LOCATION), format!("/api/v1/attachments/{id}"));

            let got = get(&app, &format!("/api/v1/attachments/{id}")).await;
            assert_eq!(got.status, StatusCode::OK);
            assert_eq!(got.body, bytes, "{name} {filename}");
            assert_eq!(got.header(header::CONTENT_TYPE), media_type);
            assert_eq!(got.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
            // Personal data: no browser or proxy keeps it.
            assert_eq!(got.header(header::CACHE_CONTROL), "no-store");
            let etag = got.header(header::ETAG).to_string();
            assert_eq!(etag, format!("\"{}\"", json["sha256"].as_str().unwrap()));

            let again = send(
                &app,
                Request::get(format!("/api/v1/attachments/{id}"))
                    .header(header::IF_NONE_MATCH, &etag)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert_eq!(again.status, StatusCode::NOT_MODIFIED);
            assert!(again.body.is_empty());
        }
        assert_eq!(stored_files(&blobs), 3, "{name}");
        std::fs::remove_dir_all(blobs.root().parent().unwrap()).unwrap();
    }
}

#[tokio::test]
async fn the_same_photo_sent_twice_is_stored_once() {
    for (_db, app, blobs) in apps(AttachmentLimits::default()).await {
        let first = upload(&app, "a.jpg", "image/jpeg", EXIF_JPG).await;
        assert_eq!(first.status, StatusCode::CREATED);
        let second = upload(&app, "copy of a.jpg", "image/jpeg", EXIF_JPG).await;
        assert_eq!(second.status, StatusCode::OK, "an existing attachment, not a new one");
        assert_eq!(second.json(), first.json());
        assert_eq!(stored_files(&blobs), 1);
        std::fs::remove_dir_all(blobs.root().parent().unwrap()).unwrap();
    }
}

#[tokio::test]
async fn the_public_copy_has_no_position_or_camera() {
    for (_db, app, blobs) in apps(AttachmentLimits::default()).await {
        let id = upload(&app, "a.jpg", "image/jpeg", EXIF_JPG).await.json()["id"]
            .as_i64()
            .unwrap();
        let original = get(&app, &format!("/api/v1/attachments/{id}")).await;
        assert!(
            contains(&original.body, b"GongzhiTestCam"),
            "the original keeps its evidence"
        );
        let public = get(&app, &format!("/api/v1/attachments/{id}/public")).await;
        assert_eq!(public.status, StatusCode::OK);
        assert_eq!(public.header(header::CONTENT_TYPE), "image/jpeg");
        assert!(public.body.starts_with(&[0xFF, 0xD8]));
        assert!(!contains(&public.body, b"GongzhiTestCam"));
        assert!(!contains(&public.body, b"Exif\0\0"));
        assert_ne!(public.header(header::ETAG), original.header(header::ETAG));
        std::fs::remove_dir_all(blobs.root().parent().unwrap()).unwrap();
    }
}

#[tokio::test]
async fn a_text_file_renamed_jpg_is_refused_and_nothing_is_written() {
    for (db, app, blobs) in apps(AttachmentLimits::default()).await {
        let reply = upload(&app, "photo.jpg", "image/jpeg", TEXT).await;
        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{}",
            db.backend_name()
        );
        let json = reply.json();
        assert_eq!(json["error"]["code"], "unsupported_media_type");
        assert_eq!(json["error"]["field"], "file");
        assert!(
            json["error"]["message"]
                .as_str()
                .unwrap()
                .contains("只接受 JPEG、PNG、WebP")
        );

        let en = upload_as(&app, "file", "photo.jpg", "image/jpeg", TEXT, "en").await;
        assert!(
            en.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("only JPEG, PNG and WebP")
        );
        assert_eq!(stored_files(&blobs), 0);
        // Nothing was recorded: the first real upload gets the first id.
        assert_eq!(upload(&app, "a.png", "image/png", PNG).await.json()["id"], 1);
        std::fs::remove_dir_all(blobs.root().parent().unwrap()).unwrap();
    }
}

#[tokio::test]
async fn an_oversize_photo_is_refused_and_nothing_is_written() {
    // The limit comes from configuration; 1,000 bytes lets small fixtures show both sides.
    for (db, app, blobs) in apps(AttachmentLimits::with_max_bytes(1000)).await {
        assert!(EXIF_JPG.len() > 1000 && PNG.len() < 1000);
        let reply = upload(&app, "big.jpg", "image/jpeg", EXIF_JPG).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", db.backend_name());
        let json = reply.json();
        assert_eq!(json["error"]["code"], "file_too_large");
        assert_eq!(json["error"]["field"], "file");
        // Far beyond the limit: stopped by the body limit before it is read.
        let huge = vec![0xFFu8; 300 * 1024];
        let reply = upload(&app, "huge.jpg", "image/jpeg", &huge).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(reply.json()["error"]["field"], "file");
        assert_eq!(stored_files(&blobs), 0);

        assert_eq!(
            upload(&app, "small.png", "image/png", PNG).await.status,
            StatusCode::CREATED
        );
        let _ = std::fs::remove_dir_all(blobs.root().parent().unwrap());
    }
}

#[tokio::test]
async fn a_small_file_declaring_20000_by_20000_pixels_is_refused_and_nothing_is_written() {
    for (db, app, blobs) in apps(AttachmentLimits::default()).await {
        let name = db.backend_name();
        assert!(HUGE_PNG.len() < 64 * 1024);
        let reply = upload(&app, "huge.png", "image/png", HUGE_PNG).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{name}");
        let json = reply.json();
        assert_eq!(json["error"]["code"], "image_too_large", "{name}: {json}");
        assert_eq!(json["error"]["field"], "file", "{name}");
        let message = json["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("20000 × 20000") && message.contains("12000"),
            "{name}: {message}"
        );
        let en = upload_as(&app, "file", "huge.png", "image/png", HUGE_PNG, "en").await;
        assert!(
            en.json()["error"]["message"].as_str().unwrap().contains("pixels"),
            "{name}: {}",
            en.json()
        );
        assert_eq!(stored_files(&blobs), 0, "{name}");
        // Nothing was recorded: the first real upload gets the first id.
        assert_eq!(upload(&app, "a.png", "image/png", PNG).await.json()["id"], 1, "{name}");
        let _ = std::fs::remove_dir_all(blobs.root().parent().unwrap());
    }
}

#[tokio::test]
async fn malformed_uploads_and_unknown_ids_are_named() {
    for (_db, app, blobs) in apps(AttachmentLimits::default()).await {
        let wrong_field = upload_as(&app, "photo", "a.jpg", "image/jpeg", EXIF_JPG, "zh").await;
        assert_eq!(wrong_field.status, StatusCode::BAD_REQUEST);
        assert_eq!(wrong_field.json()["error"]["code"], "missing_parameter");
        assert_eq!(wrong_field.json()["error"]["field"], "file");

        let empty = upload(&app, "a.jpg", "image/jpeg", b"").await;
        assert_eq!(
            (empty.status, empty.json()["error"]["code"].clone()),
            (StatusCode::BAD_REQUEST, "empty_file".into())
        );

        let json_body = send(
            &app,
            Request::post("/api/v1/attachments")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
        assert_eq!(json_body.status, StatusCode::BAD_REQUEST);
        assert_eq!(json_body.json()["error"]["code"], "bad_multipart");
        assert_eq!(json_body.json()["error"]["field"], "file");

        let unknown = get(&app, "/api/v1/attachments/999").await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert_eq!(unknown.json()["error"]["code"], "unknown_attachment");
        let bad = get(&app, "/api/v1/attachments/abc").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(bad.json()["error"]["field"], "id");
        assert_eq!(stored_files(&blobs), 0);
    }
}

#[tokio::test]
async fn without_a_data_folder_uploads_are_unavailable() {
    let db = TestDb::sqlite().await;
    let app = signed_in_as_clerk(&db, gongzhi_web::router(AppState::new(db.db.clone()).await.unwrap())).await;
    let reply = upload(&app, "a.png", "image/png", PNG).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.json()["error"]["code"], "attachments_unavailable");
}
