//! Reporting a case: the one intake path of every channel (the JSON API, the staff and resident
//! pages, the grid worker's phone, Open311, and later cameras and feeds).

use std::str::FromStr;

use chrono::Utc;
use gongzhi_core::ErrorCode;
use gongzhi_core::Lang;
use gongzhi_core::cases::attachment::AttachmentId;
use gongzhi_core::cases::flow::{Case, CaseLimits, CaseNumber};
use gongzhi_core::cases::intake::Channel;
use gongzhi_core::cases::rules::CaseRules;
use gongzhi_core::cases::taxonomy::TypeCode;
use gongzhi_core::people::masking::{mask_email, mask_numbers, mask_phone};
use gongzhi_core::people::resident::resident_id;
use gongzhi_core::people::{Actor, Grant, Role, Scope};
use gongzhi_core::territory::{Datum, GridCode};
use gongzhi_store::cases::{CaseRecord, Created, NewCase};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Duplicate, Place, Placed, duplicates_near, matter_code, place, publish, unit_json};
use crate::people::api_keys::is_key_actor;
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
    /// The resident the case is for when staff report it on their behalf (a need they ordered,
    /// `resident:ID`): they may rate it as if they had reported it.
    pub resident: Option<String>,
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
        let detail = report_detail(raw.report_detail)?;
        Ok(Report {
            channel,
            matter,
            description: description.to_string(),
            place,
            address,
            photos,
            idempotency_key: None,
            detail,
            resident: None,
        })
    }
}

/// The longest name of a caller, and the longest phone number and e-mail address as typed.
const MAX_CONTACT_NAME_CHARS: usize = 50;
const MAX_CONTACT_PHONE_CHARS: usize = 20;
const MAX_CONTACT_EMAIL_CHARS: usize = 100;

/// The facts a client adds to its report (`report_detail`), checked: an object with only
/// `reporter_contact` (the caller of a hotline case: `name`, `phone`, `email`, each text within
/// its length). The timeline and the audit record are not encrypted, so they keep the phone and
/// e-mail masked as Open311's contact is (`138****0000`, `z***@example.cn`) and any phone or ID
/// number typed into the name masked too: enough to recognise a caller, not to reach them.
fn report_detail(value: Option<Value>) -> Result<Map<String, Value>, AppError> {
    let detail = match value {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::Object(map)) => map,
        Some(_) => {
            return Err(detail_error(
                ErrorCode::InvalidField,
                "report_detail 应为对象",
                "report_detail must be an object",
            ));
        }
    };
    let mut out = Map::new();
    for (key, value) in detail {
        if key != "reporter_contact" {
            return Err(detail_error(
                ErrorCode::UnknownField,
                format!("report_detail 只能包含 reporter_contact，不能包含 {key}"),
                format!("report_detail may hold only reporter_contact, not {key}"),
            ));
        }
        let Value::Object(contact) = value else {
            return Err(detail_error(
                ErrorCode::InvalidField,
                "report_detail.reporter_contact 应为对象（name、phone、email）",
                "report_detail.reporter_contact must be an object (name, phone, email)",
            ));
        };
        let mut kept = Map::new();
        for (field, value) in contact {
            let max = match field.as_str() {
                "name" => MAX_CONTACT_NAME_CHARS,
                "phone" => MAX_CONTACT_PHONE_CHARS,
                "email" => MAX_CONTACT_EMAIL_CHARS,
                other => {
                    return Err(detail_error(
                        ErrorCode::UnknownField,
                        format!("reporter_contact 只能包含 name、phone、email，不能包含 {other}"),
                        format!("reporter_contact may hold only name, phone and email, not {other}"),
                    ));
                }
            };
            let Value::String(text) = value else {
                return Err(detail_error(
                    ErrorCode::NotAString,
                    format!("reporter_contact.{field} 应为字符串"),
                    format!("reporter_contact.{field} must be a string"),
                ));
            };
            let text = text.trim();
            if text.chars().count() > max {
                return Err(detail_error(
                    ErrorCode::TooLong,
                    format!("reporter_contact.{field} 不能超过 {max} 个字符"),
                    format!("reporter_contact.{field} has more than {max} characters"),
                ));
            }
            let phone_like = |c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')');
            if field == "phone" && !text.chars().all(phone_like) {
                return Err(detail_error(
                    ErrorCode::InvalidField,
                    "reporter_contact.phone 只能包含数字、空格和 + - ( )",
                    "reporter_contact.phone may hold only digits, spaces and + - ( )",
                ));
            }
            let masked = match field.as_str() {
                "phone" => mask_phone(text),
                "email" => mask_email(text),
                _ => mask_numbers(text),
            };
            if !text.is_empty() {
                kept.insert(field, Value::String(masked));
            }
        }
        out.insert(key, Value::Object(kept));
    }
    Ok(out)
}

/// A refused `report_detail`.
fn detail_error(code: ErrorCode, zh: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::new(code, Some("report_detail"), zh, en)
}

/// The channels a member of staff reports under (the case policy's `[intake]` for their working
/// roles), in the order of [`Channel::ALL`].
pub fn reporting_channels(app: &App, actor: &Actor) -> Vec<Channel> {
    let roles: Vec<Role> = actor.grants.iter().map(|g| g.role).collect();
    app.rules().policy.intake.channels_for(&roles)
}

/// Who may report under `channel`: a resident under `resident` and an integration's key under
/// `open311` (their doors check the rest); a member of staff under a channel the case policy's
/// `[intake]` gives one of their working roles (403 otherwise; an administrator: `not_a_case_worker`).
/// Returns the grants that may report under it (none for a resident or a key).
fn reporting_grants(rules: &CaseRules, actor: &Actor, channel: Channel) -> Result<Vec<Grant>, AppError> {
    let own_channel = if resident_id(&actor.account).is_some() {
        Some(Channel::Resident)
    } else if is_key_actor(&actor.account) {
        Some(Channel::Open311)
    } else {
        None
    };
    let grants: Vec<Grant> = match own_channel {
        Some(own) if own == channel => return Ok(vec![]),
        Some(_) => vec![],
        None => {
            super::check_case_worker(actor)?;
            let roles = rules.policy.intake.roles(channel);
            actor
                .grants
                .iter()
                .filter(|g| roles.contains(&g.role))
                .cloned()
                .collect()
        }
    };
    if !grants.is_empty() {
        return Ok(grants);
    }
    let mine: Vec<Channel> = match own_channel {
        Some(own) => vec![own],
        None => {
            let roles: Vec<Role> = actor.grants.iter().map(|g| g.role).collect();
            rules.policy.intake.channels_for(&roles)
        }
    };
    let listed = |lang: Lang| match lang {
        _ if mine.is_empty() => lang.pick("无", "none").to_string(),
        Lang::Zh => mine.iter().map(|c| c.label(lang)).collect::<Vec<_>>().join("、"),
        Lang::En => mine.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "),
    };
    Err(AppError::new(
        ErrorCode::ChannelNotAllowed,
        Some("channel"),
        format!(
            "您不能通过“{}”渠道上报；您可以使用的渠道：{}",
            channel.label(Lang::Zh),
            listed(Lang::Zh)
        ),
        format!(
            "you may not report through the channel {}; yours: {}",
            channel.as_str(),
            listed(Lang::En)
        ),
    ))
}

/// A report's facts checked against the rules and the territory.
#[derive(Debug, Clone)]
pub struct Checked {
    pub matter_name: String,
    pub placed: Placed,
}

/// Checks a report by `actor` against the rules in force and the grids without storing anything
/// (the pages do before storing its photos): the channel must be one of the actor's, and a member
/// of staff reports only within the territory of a role that uses it (a department role: anywhere).
pub fn check(app: &App, actor: &Actor, report: &Report) -> Result<Checked, AppError> {
    let rules = app.rules();
    let grants = reporting_grants(&rules, actor, report.channel)?;
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
    let reaches = |g: &Grant| matches!(g.scope, Scope::Department(_)) || g.scope.reaches(&placed.node);
    if !grants.is_empty() && !grants.iter().any(reaches) {
        let node = &placed.node;
        return Err(AppError::new(
            ErrorCode::OutsideScope,
            Some("location"),
            format!("上报地点（{node}）不在您的管辖范围内"),
            format!("the place reported ({node}) is outside your area"),
        ));
    }
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
    } = check(app, actor, &cmd)?;
    // Only photos the reporter may read: an id alone proves nothing (they are sequential).
    for id in &cmd.photos {
        if !super::attachment::may_read(app, actor, *id).await? {
            return Err(unknown_photo(&id.to_string()));
        }
    }
    let now = Utc::now();
    let request_hash = cmd.idempotency_key.as_ref().map(|_| request_hash(&cmd));

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
        (Some(lon), Some(lat)) => duplicates_near(app, &rules, cmd.matter.as_str(), (lon, lat), now, None).await?,
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
        request_hash: request_hash.clone(),
    };
    let matter_code = cmd.matter.as_str().to_string();
    // A resident's own report: the case remembers them, so they may rate it (the loop's rule).
    let resident = match cmd.resident.clone() {
        Some(on_behalf) if cmd.channel == Channel::Order => Some(on_behalf),
        _ => (cmd.channel == Channel::Resident
            && gongzhi_core::people::resident::resident_id(&actor.account).is_some())
        .then(|| actor.account.clone()),
    };
    let make = Box::new(move |number: CaseNumber| {
        let mut case = Case::new(number, node.clone(), matter_code.clone(), now, limits);
        case.resident = resident.clone();
        case
    });
    let cmd_key = cmd.idempotency_key;
    let (record, replayed) = match app
        .intake(audit_key)
        .create_case(new, cmd_key.as_deref(), make, now)
        .await?
    {
        Created::New(r) => (r, false),
        Created::Replayed(r) => (r, true),
    };
    // The same key with another request is a client's mistake, not a retry: say so rather than
    // answer with a case that is not what it sent.
    if replayed
        && let (Some(key), Some(sent)) = (cmd_key.as_deref(), request_hash.as_deref())
        && let Some(first) = app.db().idempotency_request_hash(&actor.account, key).await?
        && first != sent
    {
        return Err(AppError::new(
            ErrorCode::IdempotencyKeyReused,
            Some("Idempotency-Key"),
            format!(
                "幂等键 {key} 已用于另一份上报（案件 {}）；新的上报请使用新的幂等键",
                record.flow.number
            ),
            format!(
                "the idempotency key {key:?} was used for another report (case {}); use a new key for a new report",
                record.flow.number
            ),
        ));
    }
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

/// A hash of what a report asks for (not of its key): two sends of the same report hash alike,
/// whichever channel's form carried them. A photo uploaded again (a phone's queue retrying a
/// form) keeps its id: photos are stored by content.
fn request_hash(cmd: &Report) -> String {
    use sha2::{Digest, Sha256};
    let photos: Vec<String> = cmd.photos.iter().map(ToString::to_string).collect();
    let sent = json!({
        "channel": cmd.channel.as_str(),
        "matter": cmd.matter.as_str(),
        "description": cmd.description,
        "place": format!("{:?}", cmd.place),
        "address": cmd.address,
        "photos": photos,
        "detail": cmd.detail,
    });
    let digest = Sha256::digest(sent.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
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
