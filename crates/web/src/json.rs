//! Generic helpers for JSON request bodies, shared by every domain's handlers.

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use serde_json::Value;

use crate::ApiError;

/// Reads a JSON object body; a body that is not one is a 400 naming the problem.
pub fn json_object(body: &Bytes) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(AppError::new(
            ErrorCode::InvalidJson,
            None,
            "请求体必须是 JSON 对象",
            "the request body must be a JSON object",
        )
        .into()),
    }
}

/// A required string field of a JSON object.
pub fn string_field<'a>(map: &'a serde_json::Map<String, Value>, field: &'static str) -> Result<&'a str, ApiError> {
    map.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| AppError::missing(field))
}

/// A time as JSON answers write it: RFC 3339 in the city's time zone, to the second.
pub fn local(t: DateTime<Utc>) -> String {
    gongzhi_core::time::city_time(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}
