//! `POST /api/v1/attachments` (multipart upload, field `file`) and
//! `GET /api/v1/attachments/{id}` (the original) and `…/{id}/public` (without metadata), for
//! whoever uploaded the photo or may see a case it is on (404 for anyone else, 403 for an
//! administrator: see [`gongzhi_app::cases::attachment`]).
//!
//! Handlers stay thin: [`gongzhi_app::cases::attachment`] checks, keeps and reads the photos.

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gongzhi_app::AppError;
use gongzhi_app::cases::{self, Attachment};
use gongzhi_core::cases::attachment::{AttachmentError, AttachmentId};
use gongzhi_core::people::Actor;
use serde_json::json;

use crate::people::Authenticated;
use crate::{ApiError, AppState};

/// The form field that carries the file.
pub const FIELD: &str = "file";

/// Room for the multipart framing around the file itself.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

pub fn routes(max_bytes: u64) -> Router<AppState> {
    let body_limit = usize::try_from(max_bytes.saturating_add(MULTIPART_OVERHEAD)).unwrap_or(usize::MAX);
    Router::new()
        .route(
            "/api/v1/attachments",
            post(upload).layer(DefaultBodyLimit::max(body_limit)),
        )
        .route("/api/v1/attachments/{id}", get(original))
        .route("/api/v1/attachments/{id}/public", get(public))
}

fn multipart_failed(e: MultipartError, max_bytes: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::attachment(&AttachmentError::TooLarge {
            field: FIELD,
            max: max_bytes,
        })
    } else {
        crate::json::unreadable_form(FIELD, e.status())
    }
}

/// The bytes of field `file`, refused as soon as they pass the limit, so an oversize upload is
/// never held in memory whole.
pub async fn read_file_field(multipart: &mut Multipart, max_bytes: u64) -> Result<Vec<u8>, ApiError> {
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_failed(e, max_bytes))?
    {
        if field.name() != Some(FIELD) {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| multipart_failed(e, max_bytes))? {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(AppError::attachment(&AttachmentError::TooLarge {
                    field: FIELD,
                    max: max_bytes,
                }));
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(bytes);
    }
    Err(AppError::missing(FIELD))
}

fn described(a: &Attachment) -> serde_json::Value {
    json!({
        "id": a.id,
        "sha256": a.sha256,
        "media_type": a.media_type,
        "size": a.size,
        "width": a.width,
        "height": a.height,
    })
}

/// `POST /api/v1/attachments`: 201 with `{"id", "sha256", "media_type", "size", "width",
/// "height"}` for a new photo, 200 with the existing attachment when the same content was
/// uploaded before.
pub async fn upload(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    // An administrator is refused before anything is read.
    cases::check_case_worker(&actor)?;
    let store = state.attachments()?;
    let mut multipart = multipart.map_err(|e| crate::json::unreadable_form(FIELD, e.status()))?;
    let bytes = read_file_field(&mut multipart, store.limits.max_bytes).await?;
    let saved = cases::attachment::upload(&state, FIELD, bytes, &actor).await?;
    let status = if saved.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = format!("/api/v1/attachments/{}", saved.attachment.id);
    Ok((
        status,
        [(header::LOCATION, location)],
        Json(described(&saved.attachment)),
    )
        .into_response())
}

fn parse_id(value: &str) -> Result<AttachmentId, ApiError> {
    value.parse().map_err(|e| AppError::bad_attachment_id("id", &e))
}

/// The photo `id` for a door that has already decided the caller may see it.
async fn existing(state: &AppState, id: &str) -> Result<Attachment, ApiError> {
    // Without storage every photo request is a 503, whatever the id.
    state.attachments()?;
    cases::attachment::attachment(state, parse_id(id)?).await
}

/// The photo `id` if `actor` may read it (404 as if absent otherwise).
async fn readable(state: &AppState, actor: &Actor, id: &str) -> Result<Attachment, ApiError> {
    state.attachments()?;
    cases::attachment::readable(state, actor, parse_id(id)?).await
}

fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        })
}

/// Headers of every answer with a photo: its ETag (its bytes never change for its id), and
/// `no-store`: a photo is personal data (a face, a door, where someone lives), and a shared office
/// computer must not keep it after its user leaves (`crate::headers` says so for every answer).
fn cacheable(mut response: Response, etag: &str) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    response
}

fn image_response(attachment: &Attachment, etag: &str, bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(attachment.media_type.as_str()),
    );
    // Served as the image it was checked to be, never sniffed as something else, and inert
    // if opened directly.
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "inline; filename=\"{}.{}\"",
        attachment.id,
        attachment.media_type.extension()
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    cacheable(response, etag)
}

/// `GET /api/v1/attachments/{id}`: the photo as uploaded (with its EXIF: the evidence of where
/// and when it was taken).
pub async fn original(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let attachment = readable(&state, &actor, &id).await?;
    let etag = format!("\"{}\"", attachment.sha256);
    if not_modified(&headers, &etag) {
        return Ok(cacheable(StatusCode::NOT_MODIFIED.into_response(), &etag));
    }
    let bytes = cases::attachment::original(&state, &attachment).await?;
    Ok(image_response(&attachment, &etag, bytes))
}

/// `GET /api/v1/attachments/{id}/public`: the photo without the metadata that could tell
/// where, when and with what it was taken, for residents' eyes.
pub async fn public(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let attachment = readable(&state, &actor, &id).await?;
    public_copy_response(&state, &attachment, &headers).await
}

/// The photo `id` without its metadata, for a resident the caller found it is theirs (a photo of
/// their own report).
pub(crate) async fn public_response(state: &AppState, id: &str, headers: &HeaderMap) -> Result<Response, ApiError> {
    let attachment = existing(state, id).await?;
    public_copy_response(state, &attachment, headers).await
}

async fn public_copy_response(
    state: &AppState,
    attachment: &Attachment,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let etag = format!("\"{}-public\"", attachment.sha256);
    if not_modified(headers, &etag) {
        return Ok(cacheable(StatusCode::NOT_MODIFIED.into_response(), &etag));
    }
    let copy = cases::attachment::public(state, attachment).await?;
    Ok(image_response(attachment, &etag, copy))
}
