//! Errors, mapped to HTTP in this one place. Handlers return [`ApiError`]; the
//! [`render_errors`] middleware turns it into `{"error": {"code", "message", "field"}}` for the
//! API, or a page for browsers, in the language of the request.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use gongzhi_core::cases::attachment::{AttachmentError, AttachmentId, BadAttachmentId};
use gongzhi_core::cases::data::{DataError, RowError};
use gongzhi_core::cogov::DraftProblem;
use gongzhi_core::cogov::orders::OrderProblem;
use gongzhi_core::territory::geojson::ImportError;
use gongzhi_core::territory::{CodeError, DatumError};
use gongzhi_core::{Lang, Localized};
use gongzhi_store::StoreError;
use serde_json::json;

use crate::lang::{lang_of, query_lang};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub field: Option<&'static str>,
    zh: String,
    en: String,
    /// Every bad row of a refused file, listed as `"rows"` beside the message.
    rows: Option<Vec<RowError>>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        field: Option<&'static str>,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code,
            field,
            zh: zh.into(),
            en: en.into(),
            rows: None,
        }
    }

    /// Bad input of a co-governance form (a notice, a need …): 422 naming the field.
    pub fn draft(p: DraftProblem) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some(p.field),
            p.zh,
            p.en,
        )
    }

    /// A refused step on a resident's need: 409 from the wrong state, else 422 naming the field.
    pub fn order(e: &OrderProblem) -> Self {
        let (status, code) = if e.is_conflict() {
            (StatusCode::CONFLICT, "wrong_order_state")
        } else {
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field")
        };
        ApiError::new(status, code, Some(e.field()), e.message(Lang::Zh), e.message(Lang::En))
    }

    /// A refused data file (a responsibility list, a calendar year): 422 with every bad row.
    pub fn invalid_data(e: &DataError) -> Self {
        ApiError {
            rows: Some(e.errors.clone()),
            ..ApiError::localized(StatusCode::UNPROCESSABLE_ENTITY, None, e)
        }
    }

    /// Signed in, but without the role this needs.
    pub fn forbidden(zh: impl Into<String>, en: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", None, zh, en)
    }

    fn localized(status: StatusCode, field: Option<&'static str>, e: &impl Localized) -> Self {
        ApiError::new(status, e.code(), field, e.message(Lang::Zh), e.message(Lang::En))
    }

    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// A code given in parameter `field` is malformed.
    pub fn bad_code(field: &'static str, e: CodeError) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            e.code(),
            Some(field),
            format!("参数 {field} 无效：{}", e.message(Lang::Zh)),
            format!("parameter {field} is invalid: {e}"),
        )
    }

    pub fn bad_coordinate(e: DatumError) -> Self {
        ApiError::localized(StatusCode::BAD_REQUEST, Some(e.field()), &e)
    }

    pub fn missing(field: &'static str) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_parameter",
            Some(field),
            format!("缺少参数 {field}"),
            format!("parameter {field} is missing"),
        )
    }

    pub fn not_a_number(field: &'static str, value: &str) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "not_a_number",
            Some(field),
            format!("参数 {field} 应为数字，实际为 {value:?}"),
            format!("parameter {field} must be a number; got {value:?}"),
        )
    }

    pub fn unknown_node(field: &'static str, code: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_node",
            Some(field),
            format!("区划或网格 {code} 不存在（参数 {field}）"),
            format!("no territory node has code {code} (parameter {field})"),
        )
    }

    pub fn audit_key_missing() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "audit_key_missing",
            None,
            "服务器未配置审计密钥，无法记录或校验变更",
            "the server has no audit key configured, so it cannot record or verify changes",
        )
    }

    /// The caller is signed in but lacks the role.
    pub fn forbidden_role(role_zh: &str, role_en: &str) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
            format!("此操作需要{role_zh}权限"),
            format!("this needs the {role_en} role"),
        )
    }

    pub fn not_found_path() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", None, "页面不存在", "no such page")
    }

    pub fn import(e: &ImportError) -> Self {
        ApiError::localized(StatusCode::UNPROCESSABLE_ENTITY, None, e)
    }

    /// A refused upload: 413 when too large, 415 when not a JPEG, PNG or WebP, else 400.
    pub fn attachment(e: &AttachmentError) -> Self {
        let status = match e {
            AttachmentError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AttachmentError::Unsupported { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AttachmentError::Empty { .. } | AttachmentError::Damaged { .. } => StatusCode::BAD_REQUEST,
        };
        ApiError::localized(status, Some(e.field()), e)
    }

    /// The request body is not the multipart form an upload must be.
    pub fn bad_multipart(field: &'static str, detail: &str) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_multipart",
            Some(field),
            format!("上传须为 multipart/form-data 表单，文件放在字段 {field} 中（{detail}）"),
            format!("an upload must be a multipart/form-data form with the file in field {field} ({detail})"),
        )
    }

    pub fn bad_attachment_id(field: &'static str, e: &BadAttachmentId) -> Self {
        ApiError::localized(StatusCode::BAD_REQUEST, Some(field), e)
    }

    pub fn unknown_attachment(field: &'static str, id: AttachmentId) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_attachment",
            Some(field),
            format!("附件 {id} 不存在"),
            format!("no attachment has id {id}"),
        )
    }

    /// This server was started without a data folder for attachments.
    pub fn attachments_unavailable() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "attachments_unavailable",
            None,
            "本服务器未配置附件存储",
            "this server has no attachment storage configured",
        )
    }

    /// A failure that is ours, not the client's: logged in detail, shown as "internal error".
    pub fn internal(e: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            None,
            "服务器内部错误，请稍后重试",
            "internal error; please try again",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Import(e) => ApiError::import(&e),
            StoreError::UnknownAttachment(id) => ApiError {
                status: StatusCode::BAD_REQUEST,
                ..ApiError::unknown_attachment("attachments", id)
            },
            // The details go to the log, never to the client.
            other => ApiError::internal(&other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

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
    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        if let Some(path) = open311 {
            let mut r = crate::cases::open311::error_response(&path, &error, lang);
            if error.status == StatusCode::TOO_MANY_REQUESTS {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            }
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
            (error.status, Json(body)).into_response()
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
            (error.status, Html(page)).into_response()
        };
    }
    if let Some(lang) = chosen {
        if let Ok(v) = HeaderValue::from_str(&format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.tag())) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
