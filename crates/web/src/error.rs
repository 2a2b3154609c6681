//! Errors, mapped to HTTP in this one place. Handlers return [`ApiError`]; the
//! [`render_errors`] middleware turns it into `{"error": {"code", "message", "field"}}` for the
//! API, or a page for browsers, in the language of the request.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use serde_json::json;

use crate::lang::{lang_of, query_lang};

/// What handlers return: the application's error (it answers with its code's status; the body is
/// written by [`render_errors`]).
pub type ApiError = AppError;

fn wants_json(path: &str, headers: &axum::http::HeaderMap) -> bool {
    path.starts_with("/api/")
        || !headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// Renders [`ApiError`]s in the request's language, and remembers a `?lang=` choice in a cookie.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let lang = lang_of(request.uri().path(), request.uri().query(), request.headers());
    let chosen = query_lang(request.uri().query());
    let json = wants_json(request.uri().path(), request.headers());
    // Open311 clients parse the spec's own error document, in the format of the path.
    let open311 = request
        .uri()
        .path()
        .starts_with("/open311/")
        .then(|| request.uri().path().to_string());
    let mut response = next.run(request).await;
    let error = response
        .extensions_mut()
        .remove::<ApiError>()
        .or_else(|| framework_rejection(&response));
    if let Some(error) = error {
        // A rate limit says when to try again (Open311 clients get a minute when it does not).
        let retry_after = error.retry_after.or(match (&open311, error.http_status()) {
            (Some(_), StatusCode::TOO_MANY_REQUESTS) => Some(60),
            _ => None,
        });
        if let Some(path) = open311 {
            let mut r = crate::cases::open311::error_response(&path, &error, lang);
            say_retry_after(&mut r, retry_after);
            return r;
        }
        let message = error.message(lang).to_string();
        response = if json {
            let mut body = json!({"error": {"code": error.code, "message": message}});
            if let Some(field) = error.field {
                body["error"]["field"] = json!(field);
            }
            if let Some(rows) = &error.rows {
                body["error"]["rows"] = rows
                    .iter()
                    .map(|r| json!({"row": r.row, "column": r.column, "message": r.problem.message(lang)}))
                    .collect();
            }
            (error.http_status(), Json(body)).into_response()
        } else {
            let title = lang.pick("出错了", "Something went wrong");
            let field = error.field.map_or(String::new(), |f| {
                format!(
                    "<p id=\"error-field\">{}{}</p>",
                    lang.pick("出错的字段：", "Field: "),
                    html_escape(f)
                )
            });
            let page = format!(
                "<!doctype html><html lang=\"{}\"><meta charset=\"utf-8\"><title>{title}</title><body style=\"font-family:sans-serif;padding:2rem\"><h1>{title}</h1><p id=\"error-message\">{}</p>{field}<p><a href=\"/\">{}</a></p></body></html>",
                lang.tag(),
                html_escape(&message),
                lang.pick("返回首页", "Home")
            );
            (error.http_status(), Html(page)).into_response()
        };
        say_retry_after(&mut response, retry_after);
    }
    if let Some(lang) = chosen
        && let Ok(v) = HeaderValue::from_str(&format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.tag()))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// A refusal the framework wrote itself (a body over a route's limit, a path segment of the
/// wrong kind: plain text, in English, quoting its parser) as the catalogue's error, so that every
/// client error answers in the same form and language.
fn framework_rejection(response: &Response) -> Option<ApiError> {
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    if !status.is_client_error() || !plain {
        return None;
    }
    Some(match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::too_large_body(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::new(
            ErrorCode::UnsupportedMediaType,
            Some("Content-Type"),
            "请求体的类型（Content-Type）不被接受",
            "the body's type (Content-Type) is not accepted",
        ),
        StatusCode::NOT_FOUND => AppError::not_found_path(),
        _ => AppError::new(
            ErrorCode::InvalidField,
            None,
            "请求的地址或参数无法读取",
            "the request's address or parameters could not be read",
        ),
    })
}

/// Tells the application what became of each write (a POST, PUT, PATCH or DELETE): one refused
/// with `storage_unavailable` marks the storage failing (`/readyz` then answers 503), one that
/// went through marks it working again. Reads tell nothing (and `/readyz` must not renew its own
/// refusal).
pub async fn watch_writes(
    axum::extract::State(app): axum::extract::State<gongzhi_app::App>,
    request: Request,
    next: Next,
) -> Response {
    if request.method().is_safe() {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    match response.extensions().get::<ApiError>() {
        Some(e) if e.code == gongzhi_core::ErrorCode::StorageUnavailable => app.write_health().failed(),
        None if (response.status().is_success() || response.status().is_redirection()) => app.write_health().worked(),
        _ => {}
    }
    response
}

/// `Retry-After: seconds` on an answer refused by a rate limit (a page that shows the refusal
/// on its form, or an error body).
pub fn say_retry_after(response: &mut Response, seconds: Option<u64>) {
    if let Some(seconds) = seconds {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use gongzhi_core::ErrorCode;

    /// The OpenAPI document lists exactly the catalogue's codes, so integrators can rely on it.
    #[test]
    fn openapi_lists_every_error_code_of_the_catalogue() {
        let doc: serde_json::Value = serde_json::from_str(crate::OPENAPI).expect("openapi.json is JSON");
        let listed: Vec<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .expect("an ErrorCode schema with an enum")
            .iter()
            .map(|c| c.as_str().expect("codes are strings"))
            .collect();
        let catalogue: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            listed, catalogue,
            "regenerate the ErrorCode schema of openapi.json from gongzhi_core::ErrorCode"
        );
        assert_eq!(
            doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["$ref"],
            "#/components/schemas/ErrorCode"
        );
    }

    /// Every code maps to a real HTTP status, a client's (4xx) or ours (5xx).
    #[test]
    fn every_code_has_an_error_status() {
        for code in ErrorCode::ALL {
            let status = AppError::new(*code, None, "", "").http_status();
            assert!(status.is_client_error() || status.is_server_error(), "{code}: {status}");
            assert_eq!(status.as_u16(), code.status(), "{code}");
        }
    }

    /// No handler writes an error body by hand: every error goes through [`ApiError`] and so
    /// carries a code of the catalogue.
    #[test]
    fn no_handler_builds_an_error_body_by_hand() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![src];
        let mut offenders = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("readable source folder") {
                let path = entry.expect("a folder entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("error.rs") {
                    let text = std::fs::read_to_string(&path).expect("readable source");
                    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                    if compact.contains("{\"error\":{") || compact.contains("\"code\":\"") {
                        offenders.push(path.display().to_string());
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "error bodies built by hand: {offenders:?}");
    }
}
