//! Reporting a case: the one intake path of every channel (the JSON API, the staff and resident
//! pages, the grid worker's phone, Open311, and later cameras and feeds).

use std::str::FromStr;

use chrono::Utc;
use gongzhi_core::ErrorCode;
use gongzhi_core::cases::attachment::AttachmentId;
use gongzhi_core::cases::flow::{Case, CaseLimits, CaseNumber};
use gongzhi_core::cases::intake::Channel;
use gongzhi_core::cases::taxonomy::TypeCode;
use gongzhi_core::people::Actor;
use gongzhi_core::territory::{Datum, GridCode};
use gongzhi_store::cases::{CaseRecord, Created, NewCase};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Duplicate, Place, Placed, duplicates_near, matter_code, place, publish, unit_json};
use crate::{App, AppError};

/// The longest description a case takes, in characters.
const MAX_DESCRIPTION_CHARS: usize = 2000;

/// A case as a channel reports it. The JSON API's body deserializes into it (through
/// [`RawReport`], so that a refusal names its field in both languages); the other doors build it.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawReport")]
pub struct Report {
    pub channel: Channel,
    pub matter: TypeCode,
    pub description: String,
    pub place: Place,
    /// The address in the reporter's words, kept on the case beside a point or a grid.
    pub address: Option<String>,
    /// Photos taken when reporting (stored attachments), kept on the report's timeline entry.
    pub photos: Vec<AttachmentId>,
    /// Reporting again with the same key gives the first report back instead of a second case.
    pub idempotency_key: Option<String>,
    /// Facts a channel adds (Open311: the reporter's contact, the attributes; a resident: whether
    /// anonymous), kept on the report's timeline entry beside the routing, never overriding it.
    pub detail: Map<String, Value>,
}

/// A report as a client writes it, every field as sent: [`Report::try_from`] checks them in the
/// order the API always has, with the messages it always gave. Numbers may come as text (forms).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawReport {
    pub channel: Option<Value>,
    pub matter: Option<Value>,
    pub description: Option<Value>,
    pub lon: Option<Value>,
    pub lat: Option<Value>,
    pub datum: Option<Value>,
    pub grid_code: Option<Value>,
    pub address: Option<Value>,
    pub photos: Option<Value>,
    pub report_detail: Option<Value>,
}

impl RawReport {
    /// A form field as the JSON text a client would send (the doors that read forms).
    pub fn text(field: Option<&str>) -> Option<Value> {
        field.map(|v| Value::String(v.to_string()))
    }

    /// Where the report says it is, checked for form only (see [`place`] for finding it), with
    /// the address text it gives.
    pub fn place(&self) -> Result<(Place, Option<String>), AppError> {
        let address = optional_str(&self.address, "address")?.map(str::to_string);
        match (optional_number(&self.lon, "lon")?, optional_number(&self.lat, "lat")?) {
            (Some(lon), Some(lat)) => {
                let datum = match optional_str(&self.datum, "datum")? {
                    None => Datum::Wgs84,
                    Some(d) => d.parse().map_err(AppError::bad_coordinate)?,
                };
                Ok((Place::Point { lon, lat, datum }, address))
            }
            (Some(_), None) => Err(AppError::missing("lat")),
            (None, Some(_)) => Err(AppError::missing("lon")),
            (None, None) => {
                if let Some(code) = optional_str(&self.grid_code, "grid_code")? {
                    let grid = GridCode::parse(code).map_err(|e| AppError::bad_code("grid_code", e))?;
                    return Ok((Place::Grid(grid), address));
                }
                match address {
                    Some(text) => Ok((Place::Address(text.clone()), Some(text))),
                    None => Err(AppError::new(
                        ErrorCode::MissingLocation,
                        Some("location"),
                        "请提供位置：经纬度（lon、lat 和 datum）、网格代码（grid_code）或地址（address）",
                        "give a location: lon and lat (with datum), a grid_code, or an address",
                    )),
                }
            }
        }
    }
}

impl TryFrom<RawReport> for Report {
    type Error = AppError;

    fn try_from(raw: RawReport) -> Result<Report, AppError> {
        let channel_text = required_str(&raw.channel, "channel")?;
        let channel = Channel::from_str(channel_text).map_err(|_| {
            let all = Channel::ALL.map(|c| c.as_str()).join(", ");
            AppError::new(
                ErrorCode::InvalidChannel,
                Some("channel"),
                format!("渠道 channel 无效：{channel_text}；应为 {all} 之一"),
                format!("channel {channel_text:?} is not one of {all}"),
            )
        })?;
        let matter = matter_code(required_str(&raw.matter, "matter")?)?;
        let description = required_str(&raw.description, "description")?;
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(AppError::new(
                ErrorCode::DescriptionTooLong,
                Some("description"),
                "描述不能超过2000字",
                "the description has more than 2000 characters",
            ));
        }
        let (place, address) = raw.place()?;
        // Photos that are not a list were always ignored.
        let photos = match &raw.photos {
            Some(Value::Array(list)) => list.iter().map(photo_id).collect::<Result<_, _>>()?,
            _ => vec![],
        };
        let detail = match raw.report_detail {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        Ok(Report {
            channel,
            matter,
            description: description.to_string(),
            place,
            address,
            photos,
            idempotency_key: None,
            detail,
        })
    }
}

/// A report's facts checked against the rules and the territory.
#[derive(Debug, Clone)]
pub struct Checked {
    pub matter_name: String,
    pub placed: Placed,
}

/// Checks a report against the rules in force and the grids without storing anything (the
/// pages do before storing its photos).
pub fn check(app: &App, report: &Report) -> Result<Checked, AppError> {
    let rules = app.rules();
    let entry = rules.taxonomy.matter(&report.matter).ok_or_else(|| {
        let code = report.matter.as_str();
        AppError::new(
            ErrorCode::InvalidMatter,
            Some("matter"),
            format!("事项代码 {code} 不在事项目录中"),
            format!("matter {code} is not in the taxonomy"),
        )
    })?;
    let placed = place(app, &report.place, report.address.as_deref())?;
    Ok(Checked {
        matter_name: entry.name.clone(),
        placed,
    })
}

/// What reporting a case gave: the case, the routing proposal of the responsibility list (as
/// kept on the timeline), the open duplicates nearby, and whether it replays an earlier report
/// with the same key.
pub struct Reported {
    pub record: CaseRecord,
    pub routing: Value,
    pub duplicates: Vec<Duplicate>,
    pub replayed: bool,
}

/// Reports a case: checks it, places it, proposes its routing by the responsibility list, finds
/// open duplicates nearby, stores it through the intake writer and tells the live views.
pub async fn report(app: &App, actor: &Actor, cmd: Report) -> Result<Reported, AppError> {
    let audit_key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let rules = app.rules();
    let Checked {
        matter_name,
        placed: Placed { node, location },
    } = check(app, &cmd)?;
    for id in &cmd.photos {
        if app.db().attachment(*id).await?.is_none() {
            return Err(unknown_photo(&id.to_string()));
        }
    }
    let now = Utc::now();

    let rule = rules.responsibility.route(&cmd.matter, &node, None, None);
    let limits = rule
        .map(|r| CaseLimits {
            response: Some(r.response_limit),
            handling: Some(r.handling_limit),
            verification: Some(r.verification_limit),
        })
        .unwrap_or_default();
    let proposed = rule.and_then(|r| r.unit_for(&node));
    let duplicates = match (location.lon, location.lat) {
        (Some(lon), Some(lat)) => duplicates_near(app, &rules, cmd.matter.as_str(), (lon, lat), now).await?,
        _ => vec![],
    };
    let routing = json!({
        "rule": rule.map(|r| r.item),
        "proposed_lead": proposed.as_ref().map(|u| unit_json(u, &rules)),
        "limits": limits,
        "delegated": rule.map(|r| r.delegated),
    });
    let mut detail = json!({"routing": routing, "duplicates_offered": duplicates.len(), "matter_name": matter_name});
    if !cmd.photos.is_empty() {
        detail["photos"] = cmd.photos.iter().map(|p| json!(p.to_string())).collect();
    }
    if let Some(d) = detail.as_object_mut() {
        for (k, v) in cmd.detail {
            d.entry(k).or_insert(v);
        }
    }
    let new = NewCase {
        channel: cmd.channel.as_str().to_string(),
        description: cmd.description,
        location,
        reporter: actor.account.clone(),
        report_detail: detail,
    };
    let matter_code = cmd.matter.as_str().to_string();
    // A resident's own report: the case remembers them, so they may rate it (the loop's rule).
    let resident = (cmd.channel == Channel::Resident
        && gongzhi_core::people::resident::resident_id(&actor.account).is_some())
    .then(|| actor.account.clone());
    let make = Box::new(move |number: CaseNumber| {
        let mut case = Case::new(number, node.clone(), matter_code.clone(), now, limits);
        case.resident = resident.clone();
        case
    });
    let (record, replayed) = match app
        .intake(audit_key)
        .create_case(new, cmd.idempotency_key.as_deref(), make, now)
        .await?
    {
        Created::New(r) => (r, false),
        Created::Replayed(r) => (r, true),
    };
    if !replayed {
        publish(app, &record, "report");
    }
    Ok(Reported {
        record,
        routing,
        duplicates,
        replayed,
    })
}

/// A required text field: present, a string, not blank (kept as sent).
fn required_str<'a>(value: &'a Option<Value>, field: &'static str) -> Result<&'a str, AppError> {
    value
        .as_ref()
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| AppError::missing(field))
}

/// An optional text field, trimmed; blank is absent.
fn optional_str<'a>(value: &'a Option<Value>, field: &'static str) -> Result<Option<&'a str>, AppError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(AppError::new(
            ErrorCode::NotAString,
            Some(field),
            format!("字段 {field} 应为字符串"),
            format!("field {field} must be a string"),
        )),
    }
}

/// An optional number, as a JSON number or as text.
fn optional_number(value: &Option<Value>, field: &'static str) -> Result<Option<f64>, AppError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| AppError::not_a_number(field, s)),
        Some(other) => Err(AppError::not_a_number(field, &other.to_string())),
    }
}

/// A photo's attachment id, as text or a number.
fn photo_id(value: &Value) -> Result<AttachmentId, AppError> {
    let text = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
    text.parse::<i64>().map(AttachmentId).map_err(|_| unknown_photo(&text))
}

fn unknown_photo(text: &str) -> AppError {
    AppError::new(
        ErrorCode::UnknownPhoto,
        Some("photos"),
        format!("照片 {text} 不存在：请先上传到 /api/v1/attachments"),
        format!("photo {text} does not exist: upload it to /api/v1/attachments first"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_body_deserializes_into_a_typed_report() {
        let report: Report = serde_json::from_value(json!({
            "channel": "hotline", "matter": "06001", "description": "占道经营",
            "lon": "126.99", "lat": 45.77, "datum": "gcj02", "address": " 学府社区 ", "photos": ["12", 13],
        }))
        .unwrap();
        assert_eq!(report.channel, Channel::Hotline);
        assert_eq!(report.matter.as_str(), "06001");
        assert_eq!(
            report.place,
            Place::Point {
                lon: 126.99,
                lat: 45.77,
                datum: Datum::Gcj02
            }
        );
        assert_eq!(report.address.as_deref(), Some("学府社区"));
        assert_eq!(report.photos, vec![AttachmentId(12), AttachmentId(13)]);
    }

    #[test]
    fn a_refused_report_names_its_field_in_both_languages() {
        let refused = |body: Value| Report::try_from(serde_json::from_value::<RawReport>(body).unwrap()).unwrap_err();
        let e = refused(json!({"channel": "hotline", "matter": "06001", "description": "x"}));
        assert_eq!((e.code, e.field), (ErrorCode::MissingLocation, Some("location")));
        let e = refused(json!({"channel": "pigeon", "matter": "06001", "description": "x", "address": "a"}));
        assert_eq!((e.code, e.field), (ErrorCode::InvalidChannel, Some("channel")));
        assert!(e.message(gongzhi_core::Lang::Zh).contains("渠道"));
        let e = refused(json!({"channel": "hotline", "matter": "06001", "description": "x", "lon": 1}));
        assert_eq!((e.code, e.field), (ErrorCode::MissingParameter, Some("lat")));
        let e = refused(json!({"channel": "hotline", "matter": "06001", "description": "x", "grid_code": "12"}));
        assert_eq!(e.field, Some("grid_code"));
    }
}
