//! Generic helpers for JSON request bodies, shared by every domain's handlers: a body is read
//! straight into the use case's typed command.

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use serde::de::{self, DeserializeOwned, Visitor};
use serde_json::Value;

use crate::ApiError;

/// A JSON object body as a value; a body that is not one is a 400 naming the problem.
pub fn object(body: &Bytes) -> Result<Value, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(AppError::new(
            ErrorCode::InvalidJson,
            None,
            "请求体必须是 JSON 对象",
            "the request body must be a JSON object",
        )),
    }
}

/// A JSON object body read into the command `T`. Not an object: 400 `invalid_json`; a field of
/// the wrong type: 422 `invalid_field` naming it. Commands take required fields as `Option` and
/// answer `missing_parameter` themselves, so a client learns every problem by its field.
pub fn command<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(object(body)?).map_err(|e| {
        let path = e.path().to_string();
        let top = path.split(['.', '[']).next().unwrap_or_default().to_string();
        let field = fields_of::<T>().iter().copied().find(|f| *f == top);
        AppError::new(
            ErrorCode::InvalidField,
            field,
            format!("字段 {top} 无效（{}）", e.inner()),
            format!("field {top} is invalid ({})", e.inner()),
        )
    })
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
