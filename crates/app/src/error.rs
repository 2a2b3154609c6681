//! The errors the use cases answer: a code of the catalogue ([`ErrorCode`], with its HTTP
//! status), the field it is about, and the message in both languages. The web maps them to HTTP
//! in one place; the command line prints the message.

use gongzhi_core::cases::attachment::{AttachmentError, AttachmentId, BadAttachmentId};
use gongzhi_core::cogov::DraftProblem;
use gongzhi_core::cogov::orders::OrderProblem;
use gongzhi_core::data::{DataError, RowError};
use gongzhi_core::territory::geojson::ImportError;
use gongzhi_core::territory::{CodeError, DatumError};
use gongzhi_core::{ErrorCode, Lang, Localized};
use gongzhi_store::StoreError;

#[derive(Debug, Clone)]
pub struct AppError {
    pub code: ErrorCode,
    pub field: Option<&'static str>,
    zh: String,
    en: String,
    /// Every bad row of a refused file, listed as `"rows"` beside the message.
    pub rows: Option<Vec<RowError>>,
    /// Seconds before a refused request may be tried again (a rate limit): `Retry-After`.
    pub retry_after: Option<u64>,
}

impl AppError {
    pub fn new(code: ErrorCode, field: Option<&'static str>, zh: impl Into<String>, en: impl Into<String>) -> Self {
        AppError {
            code,
            field,
            zh: zh.into(),
            en: en.into(),
            rows: None,
            retry_after: None,
        }
    }

    /// The same error, saying when to try again (answered as `Retry-After`).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// Bad input of a co-governance form (a notice, a need …): 422 naming the field.
    pub fn draft(p: DraftProblem) -> Self {
        AppError::new(ErrorCode::InvalidField, Some(p.field), p.zh, p.en)
    }

    /// A refused step on a resident's need: 409 from the wrong state, else 422 naming the field.
    pub fn order(e: &OrderProblem) -> Self {
        let code = if e.is_conflict() {
            ErrorCode::WrongOrderState
        } else {
            ErrorCode::InvalidField
        };
        AppError::new(code, Some(e.field()), e.message(Lang::Zh), e.message(Lang::En))
    }

    /// A refused data file (a responsibility list, a calendar year): 422 with every bad row.
    pub fn invalid_data(e: &DataError) -> Self {
        AppError {
            rows: Some(e.errors.clone()),
            ..AppError::localized(None, e)
        }
    }

    /// Signed in, but without the role this needs.
    pub fn forbidden(zh: impl Into<String>, en: impl Into<String>) -> Self {
        AppError::new(ErrorCode::Forbidden, None, zh, en)
    }

    /// An error of the core that speaks both languages, with the catalogue's code it names.
    pub fn localized(field: Option<&'static str>, e: &impl Localized) -> Self {
        AppError::new(e.code(), field, e.message(Lang::Zh), e.message(Lang::En))
    }

    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// A code given in parameter `field` is malformed.
    pub fn bad_code(field: &'static str, e: CodeError) -> Self {
        AppError::new(
            e.code(),
            Some(field),
            format!("参数 {field} 无效：{}", e.message(Lang::Zh)),
            format!("parameter {field} is invalid: {e}"),
        )
    }

    pub fn bad_coordinate(e: DatumError) -> Self {
        AppError::localized(Some(e.field()), &e)
    }

    /// A required text field of a command: present and not blank, or `missing_parameter`.
    pub fn required(value: Option<String>, field: &'static str) -> Result<String, AppError> {
        value
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| AppError::missing(field))
    }

    pub fn missing(field: &'static str) -> Self {
        AppError::new(
            ErrorCode::MissingParameter,
            Some(field),
            format!("缺少参数 {field}"),
            format!("parameter {field} is missing"),
        )
    }

    pub fn not_a_number(field: &'static str, value: &str) -> Self {
        AppError::new(
            ErrorCode::NotANumber,
            Some(field),
            format!("参数 {field} 应为数字，实际为 {value:?}"),
            format!("parameter {field} must be a number; got {value:?}"),
        )
    }

    pub fn unknown_node(field: &'static str, code: &str) -> Self {
        AppError::new(
            ErrorCode::UnknownNode,
            Some(field),
            format!("区划或网格 {code} 不存在（参数 {field}）"),
            format!("no territory node has code {code} (parameter {field})"),
        )
    }

    pub fn audit_key_missing() -> Self {
        AppError::new(
            ErrorCode::AuditKeyMissing,
            None,
            "服务器未配置审计密钥，无法记录或校验变更",
            "the server has no audit key configured, so it cannot record or verify changes",
        )
    }

    /// The caller is signed in but lacks the role.
    pub fn forbidden_role(role_zh: &str, role_en: &str) -> Self {
        AppError::new(
            ErrorCode::Forbidden,
            None,
            format!("此操作需要{role_zh}权限"),
            format!("this needs the {role_en} role"),
        )
    }

    pub fn not_found_path() -> Self {
        AppError::new(ErrorCode::NotFound, None, "页面不存在", "no such page")
    }

    pub fn import(e: &ImportError) -> Self {
        AppError::localized(None, e)
    }

    /// A refused upload: 413 when too large, 415 when not a JPEG, PNG or WebP, else 400.
    pub fn attachment(e: &AttachmentError) -> Self {
        AppError::localized(Some(e.field()), e)
    }

    /// The request body is not the multipart form an upload must be.
    /// A form or upload that could not be read as one (the parser's own words go to no one).
    pub fn bad_multipart(field: &'static str) -> Self {
        AppError::new(
            ErrorCode::BadMultipart,
            Some(field),
            format!("表单无法读取：上传须为 multipart/form-data 表单，文件放在字段 {field} 中"),
            format!(
                "the form could not be read: an upload must be a multipart/form-data form with the file in field {field}"
            ),
        )
    }

    /// A request body over the route's limit (413 in the catalogue's words, not the server's).
    pub fn too_large_body() -> Self {
        AppError::new(
            ErrorCode::TooLarge,
            Some("body"),
            "请求内容超过服务器允许的大小",
            "the request is larger than the server accepts",
        )
    }

    pub fn bad_attachment_id(field: &'static str, e: &BadAttachmentId) -> Self {
        AppError::localized(Some(field), e)
    }

    pub fn unknown_attachment(field: &'static str, id: AttachmentId) -> Self {
        AppError::new(
            ErrorCode::UnknownAttachment,
            Some(field),
            format!("附件 {id} 不存在"),
            format!("no attachment has id {id}"),
        )
    }

    /// This server was started without a data folder for attachments.
    pub fn attachments_unavailable() -> Self {
        AppError::new(
            ErrorCode::AttachmentsUnavailable,
            None,
            "本服务器未配置附件存储",
            "this server has no attachment storage configured",
        )
    }

    /// The database takes no writes now (a full disk, a database server down): 503, try again
    /// later; nothing was changed. The cause goes to the log.
    pub fn storage_unavailable(e: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %e, "storage unavailable");
        AppError::new(
            ErrorCode::StorageUnavailable,
            None,
            "数据存储暂时无法写入（磁盘已满或数据库不可用），本次操作未保存，请稍后重试",
            "the data store cannot take writes now (disk full or database unavailable); nothing was saved, please try again later",
        )
    }

    /// A failure that is ours, not the client's: logged in detail, shown as "internal error".
    pub fn internal(e: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        AppError::new(
            ErrorCode::Internal,
            None,
            "服务器内部错误，请稍后重试",
            "internal error; please try again",
        )
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Import(e) => AppError::import(&e),
            StoreError::UnknownAttachment(id) => AppError {
                code: ErrorCode::UnknownPhoto,
                ..AppError::unknown_attachment("attachments", id)
            },
            // The details go to the log, never to the client.
            other if other.is_unavailable() => AppError::storage_unavailable(&other),
            other => AppError::internal(&other),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.en)
    }
}

impl std::error::Error for AppError {}

impl AppError {
    /// The HTTP status of the error's code (from the catalogue).
    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// Whether the client is at fault (a 4xx status).
    pub fn is_client_error(&self) -> bool {
        (400..500).contains(&self.status())
    }
}

#[cfg(feature = "http")]
mod http_answer {
    use axum_core::response::{IntoResponse, Response};

    use super::AppError;

    impl AppError {
        /// The HTTP status of the error's code.
        pub fn http_status(&self) -> http::StatusCode {
            http::StatusCode::from_u16(self.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
        }
    }

    /// A handler's error answers with the status of its code and carries itself to the web's error
    /// renderer (a middleware), which writes the body in the request's language and format.
    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let mut response = self.http_status().into_response();
            response.extensions_mut().insert(self);
            response
        }
    }
}
