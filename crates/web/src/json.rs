//! Outside input, read in one place: JSON bodies straight into the use case's typed command,
//! forms into their typed fields. Here every text a client sends is checked (no control
//! character but line breaks and tabs, no bidirectional override: `gongzhi_core::text`), a JSON
//! route refuses a body of another content type (415 `not_json`), a body over the limit is the
//! catalogue's 413, and a field of the wrong kind is named with the kind expected, in the
//! request's language, never with the parser's own words.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, header};
use chrono::{DateTime, Utc};
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use gongzhi_core::text::{code_point, forbidden_char};
use serde::de::{self, DeserializeOwned, Visitor};
use serde_json::Value;

use crate::{ApiError, AppState};

/// A JSON object body as a value; a body that is not one is a 400 naming the problem, a text in
/// it that holds a forbidden character a 400 naming its field.
pub fn object(body: &Bytes) -> Result<Value, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => {
            if let Value::Object(fields) = &value {
                for (name, v) in fields {
                    check_json(field_name(name), name, v)?;
                }
            }
            Ok(value)
        }
        _ => Err(AppError::new(
            ErrorCode::InvalidJson,
            None,
            "请求体必须是 JSON 对象",
            "the request body must be a JSON object",
        )),
    }
}

/// A JSON object body read into the command `T`. Not an object: 400 `invalid_json`; a field of
/// the wrong kind: 422 `invalid_field` naming it and the kind expected. Commands take required
/// fields as `Option` and answer `missing_parameter` themselves, so a client learns every
/// problem by its field.
pub fn command<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(object(body)?).map_err(|e| {
        let path = e.path().to_string();
        field_error::<T>(&path, &e.inner().to_string())
    })
}

/// The error of a field a command could not read: its name (the top of `path`) and what kind
/// of value it must be, from what serde expected (`message` is never shown).
fn field_error<T: DeserializeOwned>(path: &str, message: &str) -> ApiError {
    let top = path.split(['.', '[']).next().unwrap_or_default();
    let known = fields_of::<T>().iter().copied().find(|f| *f == top);
    if let Some(missing) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next())
    {
        let field = fields_of::<T>()
            .iter()
            .copied()
            .find(|f| *f == missing)
            .unwrap_or_else(|| field_name(missing));
        return AppError::missing(field);
    }
    let field = known.unwrap_or_else(|| field_name(top));
    if message.starts_with("unknown field") {
        return AppError::new(
            ErrorCode::UnknownField,
            Some(field),
            format!("未知字段 {field}"),
            format!("unknown field {field}"),
        );
    }
    let (zh, en) = expected_kind(message);
    AppError::new(
        ErrorCode::InvalidField,
        Some(field),
        format!("字段 {field} 应为{zh}"),
        format!("field {field} must be {en}"),
    )
}

/// What kind of value serde's `message` says it expected, in both languages.
fn expected_kind(message: &str) -> (&'static str, &'static str) {
    let expected = message
        .split_once("expected ")
        .map_or("", |(_, e)| e.split(" at line").next().unwrap_or(e));
    let has = |words: &[&str]| words.iter().any(|w| expected.contains(w));
    if message.starts_with("unknown variant") || has(&["variant", "one of"]) {
        ("允许的取值之一", "one of the allowed values")
    } else if has(&["string", "char"]) {
        ("文本", "text")
    } else if has(&["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "usize", "integer"]) {
        ("整数", "a whole number")
    } else if has(&["f32", "f64", "number"]) {
        ("数字", "a number")
    } else if has(&["bool"]) {
        ("true 或 false", "true or false")
    } else if has(&["sequence", "array", "tuple"]) || message.starts_with("invalid length") {
        ("列表", "a list")
    } else if has(&["map", "struct", "object"]) {
        ("对象", "an object")
    } else {
        ("正确格式的值", "a value of the right form")
    }
}

/// Refuses a text holding a character outside text may not hold (a control character other than
/// a line break or tab, a bidirectional override): 400 `invalid_text` naming `field`.
pub fn check_text(field: &'static str, value: &str) -> Result<(), ApiError> {
    match forbidden_char(value) {
        None => Ok(()),
        Some(c) => {
            let c = code_point(c);
            Err(AppError::new(
                ErrorCode::InvalidText,
                Some(field),
                format!("字段 {field} 含有不允许的字符 {c}（控制字符或文字方向控制符）"),
                format!(
                    "field {field} holds a character that is not allowed: {c} (a control or text-direction character)"
                ),
            ))
        }
    }
}

/// [`check_text`] on every name and value of a form (or of query parameters).
pub fn check_fields<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<(), ApiError> {
    for (name, value) in fields {
        let field = field_name(name);
        check_text(field, name)?;
        check_text(field, value)?;
    }
    Ok(())
}

/// [`check_text`] on every text of a JSON value (its strings and its keys), named `field` (or by
/// the key of the nested object that holds it).
fn check_json(field: &'static str, name: &str, value: &Value) -> Result<(), ApiError> {
    check_text(field, name)?;
    match value {
        Value::String(s) => check_text(field, s),
        Value::Array(items) => items.iter().try_for_each(|v| check_json(field, "", v)),
        // A nested object's texts are named by their own key (`{"fields": {"name": …}}`: `name`).
        Value::Object(fields) => fields.iter().try_for_each(|(k, v)| check_json(field_name(k), k, v)),
        _ => Ok(()),
    }
}

/// A field name a client sent, as an error names it (errors carry `&'static str`): a plain name
/// is kept once for the life of the process, at most [`KEPT_NAMES`] of them; anything else is
/// `form`, so that no client can make the process keep what it sends.
pub fn field_name(name: &str) -> &'static str {
    const KEPT_NAMES: usize = 1024;
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let plain = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '[' | ']' | '.'));
    if !plain {
        return "form";
    }
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(kept) = names.get(name) {
        return kept;
    }
    if names.len() >= KEPT_NAMES {
        return "form";
    }
    let kept: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(kept);
    kept
}

/// Whether a request says its body is JSON (`application/json`, or `application/….+json`).
fn says_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase())
        .is_some_and(|t| t == "application/json" || (t.starts_with("application/") && t.ends_with("+json")))
}

/// The body of a request, within the route's limit: a larger one is the catalogue's 413.
pub(crate) async fn body_of<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            AppError::too_large_body()
        } else {
            AppError::new(
                ErrorCode::UnreadableBody,
                Some("body"),
                "请求体无法读取",
                "the request body could not be read",
            )
        }
    })
}

/// A form or upload the server could not read (`status` is the rejection's): over the limit, the
/// catalogue's 413; otherwise 400 `bad_multipart` naming `field`.
pub fn unreadable_form(field: &'static str, status: axum::http::StatusCode) -> ApiError {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::too_large_body()
    } else {
        AppError::bad_multipart(field)
    }
}

/// The body of a JSON route: 415 `not_json` unless the request says it is JSON.
pub struct JsonBody(pub Bytes);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;
    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        if !says_json(request.headers()) {
            return Err(AppError::new(
                ErrorCode::NotJson,
                Some("Content-Type"),
                "请求体应为 JSON，并带有 Content-Type: application/json",
                "the body must be JSON, sent with Content-Type: application/json",
            ));
        }
        Ok(JsonBody(body_of(request, state).await?))
    }
}

/// A JSON body read into the command `T` ([`JsonBody`], then [`command`]).
pub struct JsonCommand<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonCommand<T> {
    type Rejection = ApiError;
    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let JsonBody(body) = JsonBody::from_request(request, state).await?;
        command(&body).map(JsonCommand)
    }
}

/// A form (`application/x-www-form-urlencoded`; the query string of a `GET`) read into `T`,
/// its texts checked ([`check_fields`]), a field of the wrong kind named with the kind expected.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = ApiError;
    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = if matches!(*request.method(), Method::GET | Method::HEAD) {
            Bytes::copy_from_slice(request.uri().query().unwrap_or("").as_bytes())
        } else {
            let form = request
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
            if !form {
                return Err(AppError::new(
                    ErrorCode::UnsupportedMediaType,
                    Some("Content-Type"),
                    "表单应以 application/x-www-form-urlencoded 提交",
                    "a form must be sent as application/x-www-form-urlencoded",
                ));
            }
            body_of(request, state).await?
        };
        fields_of_form(&bytes).map(Form)
    }
}

/// Query parameters read into `T`, their texts checked ([`check_fields`]), a parameter of the
/// wrong kind named with the kind expected.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, ApiError> {
        fields_of_form(parts.uri.query().unwrap_or("").as_bytes()).map(Query)
    }
}

/// A urlencoded form (or query string) read into `T`: its texts checked, a field of the wrong
/// kind named.
fn fields_of_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    check_fields(
        form_urlencoded::parse(bytes)
            .into_owned()
            .collect::<Vec<_>>()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )?;
    let fields = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(fields)
        .map_err(|e| field_error::<T>(&e.path().to_string(), &e.inner().to_string()))
}

/// The field names of a struct command, as serde knows them (for naming a bad field with a
/// `&'static str`); empty for anything that is not a struct.
fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

/// A deserializer that only learns which fields a struct has, then stops.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("fields read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// A time as JSON answers write it: RFC 3339 in the city's time zone, to the second.
pub fn local(t: DateTime<Utc>) -> String {
    gongzhi_core::time::city_time(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}
