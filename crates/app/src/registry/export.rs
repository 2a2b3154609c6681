//! Exports of the registry: residents (masked unless the exporter may see them in full) and the
//! places and organizations as their import templates' tables or GeoJSON, so they import again.

use gongzhi_core::ErrorCode;
use gongzhi_core::audit::NewAuditEntry;
use gongzhi_core::import::Reach;
use gongzhi_core::import::registry::template;
use gongzhi_core::people::Actor;
use gongzhi_core::people::registry::reveal_reason;
use gongzhi_core::territory::TerritoryCode;
use gongzhi_office::Format;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{importer_reach, unknown_template};
use crate::{App, AppError};

/// A file an export built, ready to send.
pub struct Exported {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    /// The file's name for people (Chinese).
    pub name: String,
}

/// An export of the registry by file name (`residents.xlsx|csv` masked, `buildings.geojson`,
/// `compounds.csv` …) of the importer's area or the part `within` names; audited as
/// `registry.export` with the count (and `"masked": true` for residents) before it is returned.
pub async fn export(app: &App, actor: &Actor, file: &str, within: Option<&str>) -> Result<Exported, AppError> {
    let reach = importer_reach(actor)?;
    let (kind, ext) = file.rsplit_once('.').ok_or_else(|| unknown_template(file))?;
    let geo = ext == "geojson" && matches!(kind, "buildings" | "compounds");
    let table = TABLE_EXPORTS.contains(&kind) && Format::from_file_name(file).is_some();
    let format = Format::from_file_name(file)
        .filter(|_| kind == "residents" || table)
        .ok_or_else(|| unknown_template(file));
    if format.is_err() && !geo {
        return Err(unknown_template(file));
    }
    let prefixes = area_prefixes(&reach, within)?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let (exported, count) = if geo {
        let (text, count) = places_geojson(app, kind, &prefixes).await?;
        let exported = Exported {
            bytes: text.into_bytes(),
            content_type: "application/geo+json",
            name: format!("{kind}.geojson"),
        };
        (exported, count)
    } else if table {
        let format = format?;
        let (rows, count) = table_rows(app, kind, &prefixes).await?;
        let t = template(kind).ok_or_else(|| unknown_template(kind))?;
        let bytes = gongzhi_office::write_rows(format, t.name_zh, &rows).map_err(|e| AppError::internal(&e))?;
        let exported = Exported {
            bytes,
            content_type: format.content_type(),
            name: format!("{}.{ext}", t.name_zh),
        };
        (exported, count)
    } else {
        let format = format?;
        let rows = resident_export(app, &prefixes, false).await?;
        let bytes = gongzhi_office::write_rows(format, "实有人口", &rows).map_err(|e| AppError::internal(&e))?;
        let exported = Exported {
            bytes,
            content_type: format.content_type(),
            name: format!("实有人口.{ext}"),
        };
        (exported, rows.len() - 1)
    };
    let mut detail = json!({"kind": kind, "within": prefixes, "rows": count, "format": ext});
    if kind == "residents" {
        detail["masked"] = json!(true);
    }
    let entry = NewAuditEntry::new(
        chrono::Utc::now(),
        actor.account.clone(),
        "registry.export",
        "export",
        kind,
        detail,
    )
    .map_err(|e| AppError::internal(&e))?;
    gongzhi_store::audit::record(app.db(), &key, entry).await?;
    Ok(exported)
}

/// The subtree prefixes an export covers: the one `within` names (inside `reach`, else 403), or
/// all of `reach`.
fn area_prefixes(reach: &Reach, within: Option<&str>) -> Result<Vec<String>, AppError> {
    match within.map(str::trim).filter(|w| !w.is_empty()) {
        Some(w) => {
            let code = TerritoryCode::parse(w).map_err(|e| AppError::bad_code("within", e))?;
            if !reach.reaches(&code) {
                return Err(AppError::new(
                    ErrorCode::OutsideScope,
                    Some("within"),
                    "此区域不在您的辖区内",
                    "that area is outside yours",
                ));
            }
            Ok(vec![code.subtree_prefix().to_string()])
        }
        None => Ok(reach.prefixes().to_vec()),
    }
}

/// The fields an unmasked export gives in full, named in its audit entry (never their values).
const UNMASKED_FIELDS: [&str; 4] = ["id_number", "phone", "registered_address", "party_member"];

/// An unmasked export asked for: why, where, and as what (`xlsx` unless `csv`).
#[derive(Debug, Default, Deserialize)]
pub struct UnmaskedExport {
    #[serde(default)]
    pub reason: String,
    pub within: Option<String>,
    pub format: Option<String>,
}

/// The reach of a personal-data exporter, or 403.
pub fn exporter_reach(actor: &Actor) -> Result<Reach, AppError> {
    let reach = Reach::exporting(actor);
    if reach.is_empty() {
        Err(AppError::new(
            ErrorCode::Forbidden,
            None,
            "导出完整信息（不打码）需要个人信息导出员权限，由安全管理员授予",
            "an unmasked export needs the personal-data exporter role, granted by the security administrator",
        ))
    } else {
        Ok(reach)
    }
}

fn export_reason(text: &str) -> Result<String, AppError> {
    reveal_reason(text).map_err(|e| {
        use gongzhi_core::Localized;
        AppError::new(
            e.code(),
            Some("reason"),
            "字段 reason（导出理由）：请说明导出理由（2至200个字符）",
            "field reason: state why you export (2 to 200 characters)",
        )
    })
}

fn export_format(text: Option<&str>) -> Result<(Format, &'static str), AppError> {
    match text.map(str::trim).unwrap_or("") {
        "" | "xlsx" => Ok((Format::Xlsx, "xlsx")),
        "csv" => Ok((Format::Csv, "csv")),
        other => Err(AppError::new(
            ErrorCode::InvalidField,
            Some("format"),
            format!("字段 format（格式）：“{other}”不是 xlsx 或 csv"),
            format!("field format: {other:?} is not xlsx or csv"),
        )),
    }
}

/// The unmasked export of residents: the role (403), the reason (422, nothing read or recorded),
/// the format and the area; then the rows, and the audit entry `registry.export` with
/// `"masked": false`, the reason, the area and the count, committed in its own transaction
/// BEFORE the file is built and returned. The file and its extension.
pub async fn unmasked(app: &App, actor: &Actor, req: &UnmaskedExport) -> Result<(Exported, &'static str), AppError> {
    let reach = exporter_reach(actor)?;
    let reason = export_reason(&req.reason)?;
    let (format, ext) = export_format(req.format.as_deref())?;
    let prefixes = area_prefixes(&reach, req.within.as_deref())?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let rows = resident_export(app, &prefixes, true).await?;
    let entry = NewAuditEntry::new(
        chrono::Utc::now(),
        actor.account.clone(),
        "registry.export",
        "export",
        "residents",
        json!({
            "kind": "residents", "within": prefixes, "rows": rows.len() - 1, "masked": false,
            "reason": reason, "format": ext, "fields": UNMASKED_FIELDS,
        }),
    )
    .map_err(|e| AppError::internal(&e))?;
    gongzhi_store::audit::record(app.db(), &key, entry).await?;
    let bytes = gongzhi_office::write_rows(format, "实有人口", &rows).map_err(|e| AppError::internal(&e))?;
    let exported = Exported {
        bytes,
        content_type: format.content_type(),
        name: format!("实有人口（完整信息）.{ext}"),
    };
    Ok((exported, ext))
}

/// The residents of `prefixes` as export rows (masked unless `unmasked`), header first.
pub async fn resident_export(app: &App, prefixes: &[String], unmasked: bool) -> Result<Vec<Vec<String>>, AppError> {
    use gongzhi_core::import::export::{resident_header, resident_row};
    let cipher = app.cipher().ok_or_else(|| {
        AppError::new(
            ErrorCode::PersonalDataKeyMissing,
            None,
            "服务器未配置个人信息密钥",
            "the server has no personal-data key",
        )
    })?;
    let mut rows = vec![resident_header(unmasked)];
    for prefix in prefixes {
        for r in app
            .db()
            .search_residents_by_name(cipher.as_ref(), prefix, "", 1_000_000)
            .await?
        {
            rows.push(resident_row(&r, unmasked, app.id_mask));
        }
    }
    Ok(rows)
}

/// One registry record as an export writes it: the import template's columns by key (so the
/// file imports again), and, for places, where it is.
pub struct ExportRecord {
    pub props: serde_json::Map<String, Value>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub outline: Option<String>,
}

/// The kinds that export as a spreadsheet besides residents (none of them holds personal data).
pub const TABLE_EXPORTS: [&str; 5] = [
    "buildings",
    "compounds",
    "member-orgs",
    "property-companies",
    "party-orgs",
];

/// The records of `kind` (one of [`TABLE_EXPORTS`]) in the subtrees `prefixes`.
pub async fn export_records(app: &App, kind: &str, prefixes: &[String]) -> Result<Vec<ExportRecord>, AppError> {
    let mut out = Vec::new();
    let text_or_null = |t: Option<String>| t.map(Value::String).unwrap_or(Value::Null);
    let record = |props: serde_json::Map<String, Value>| ExportRecord {
        props,
        lon: None,
        lat: None,
        outline: None,
    };
    let db = &app.db();
    match kind {
        "buildings" => {
            for prefix in prefixes {
                for b in db.building_places_within(prefix).await? {
                    let mut p = serde_json::Map::new();
                    p.insert("grid_code".into(), json!(b.grid_code));
                    p.insert("compound".into(), text_or_null(b.compound));
                    p.insert("building".into(), json!(b.name));
                    p.insert("address".into(), json!(b.address));
                    p.insert("floors".into(), json!(b.floors));
                    p.insert("entrances".into(), json!(b.entrances));
                    p.insert("use".into(), json!(b.use_kind));
                    out.push(ExportRecord {
                        props: p,
                        lon: b.lon,
                        lat: b.lat,
                        outline: b.outline,
                    });
                }
            }
        }
        "compounds" => {
            let companies: std::collections::HashMap<i64, String> = db
                .property_companies()
                .await?
                .into_iter()
                .map(|c| (c.id, c.credit_code))
                .collect();
            for prefix in prefixes {
                // One query for the subtree's owners' committees, not one per compound.
                let committees: std::collections::HashMap<i64, String> = db
                    .owners_committees_within(prefix)
                    .await?
                    .into_iter()
                    .map(|o| (o.compound_id, o.name))
                    .collect();
                for c in db.compounds_within(prefix).await? {
                    let mut p = serde_json::Map::new();
                    p.insert("community_code".into(), json!(c.community_code));
                    p.insert("name".into(), json!(c.name));
                    p.insert("address".into(), json!(c.address));
                    p.insert(
                        "property_company".into(),
                        text_or_null(c.property_company_id.and_then(|id| companies.get(&id).cloned())),
                    );
                    p.insert("owners_committee".into(), text_or_null(committees.get(&c.id).cloned()));
                    out.push(ExportRecord {
                        props: p,
                        lon: c.lon,
                        lat: c.lat,
                        outline: c.outline,
                    });
                }
            }
        }
        "member-orgs" => {
            for prefix in prefixes {
                for m in db.member_organizations_within(prefix).await? {
                    let mut p = serde_json::Map::new();
                    p.insert("credit_code".into(), json!(m.credit_code));
                    p.insert("name".into(), json!(m.name));
                    p.insert("kind".into(), json!(m.kind.as_str()));
                    p.insert(
                        "territory_code".into(),
                        json!(m.community_code.clone().unwrap_or(m.street_code.clone())),
                    );
                    p.insert("address".into(), json!(m.address));
                    out.push(record(p));
                }
            }
        }
        "property-companies" => {
            // A company belongs to no area: the city's all, or those serving the area's compounds.
            let mut serving = std::collections::HashSet::new();
            let city = prefixes.iter().any(|p| p.len() <= 4);
            if !city {
                for prefix in prefixes {
                    serving.extend(
                        db.compounds_within(prefix)
                            .await?
                            .into_iter()
                            .filter_map(|c| c.property_company_id),
                    );
                }
            }
            for c in db.property_companies().await? {
                if city || serving.contains(&c.id) {
                    let mut p = serde_json::Map::new();
                    p.insert("credit_code".into(), json!(c.credit_code));
                    p.insert("name".into(), json!(c.name));
                    p.insert("address".into(), json!(c.address));
                    p.insert("phone".into(), text_or_null(c.phone));
                    out.push(record(p));
                }
            }
        }
        "party-orgs" => {
            for prefix in prefixes {
                let mut orgs = db.party_organizations_within(prefix).await?;
                // Parents before children, so that the file imports again in one go.
                let depth = |kind: &str| match kind {
                    "street_working_committee" => 0,
                    "community_committee" => 1,
                    _ => 2,
                };
                orgs.sort_by(|a, b| depth(&a.kind).cmp(&depth(&b.kind)).then_with(|| a.code.cmp(&b.code)));
                let mut codes: std::collections::HashMap<i64, String> =
                    orgs.iter().map(|o| (o.id, o.code.clone())).collect();
                for o in &orgs {
                    if let Some(pid) = o.parent_id
                        && !codes.contains_key(&pid)
                        && let Some(parent) = db.party_organization(pid).await?
                    {
                        codes.insert(pid, parent.code);
                    }
                }
                for o in orgs {
                    let mut p = serde_json::Map::new();
                    p.insert("code".into(), json!(o.code));
                    p.insert("name".into(), json!(o.name));
                    p.insert("kind".into(), json!(o.kind));
                    p.insert("territory_code".into(), json!(o.territory_code));
                    p.insert(
                        "parent".into(),
                        text_or_null(o.parent_id.and_then(|id| codes.get(&id).cloned())),
                    );
                    out.push(record(p));
                }
            }
        }
        _ => return Err(unknown_template(kind)),
    }
    Ok(out)
}

/// Buildings or compounds of the subtrees `prefixes` as a GeoJSON FeatureCollection whose
/// properties are the import template's columns (so the file imports again as it is) and whose
/// geometry is the stored outline, or else the point (none when there is no position); with the
/// number of features.
pub async fn places_geojson(app: &App, kind: &str, prefixes: &[String]) -> Result<(String, usize), AppError> {
    use gongzhi_core::territory::geojson::{collection, outline_feature, point_feature};
    let features: Vec<geojson::Feature> = export_records(app, kind, prefixes)
        .await?
        .into_iter()
        .map(|r| {
            if let Some(f) = r.outline.and_then(|o| outline_feature(&o, r.props.clone())) {
                return f;
            }
            match (r.lon, r.lat) {
                (Some(lon), Some(lat)) => point_feature(lon, lat, r.props),
                _ => geojson::Feature {
                    properties: Some(r.props),
                    ..Default::default()
                },
            }
        })
        .collect();
    let count = features.len();
    Ok((geojson::GeoJson::from(collection(features)).to_string(), count))
}

/// The records of `kind` as the rows of its import template: the template's header, then one row
/// per record, choices written in Chinese as staff fill them in; with the number of records.
pub async fn table_rows(app: &App, kind: &str, prefixes: &[String]) -> Result<(Vec<Vec<String>>, usize), AppError> {
    use gongzhi_core::import::template::CellKind;
    let t = template(kind).ok_or_else(|| unknown_template(kind))?;
    let records = export_records(app, kind, prefixes).await?;
    let mut rows = Vec::with_capacity(records.len() + 1);
    rows.push(t.header_row());
    for r in &records {
        let row = t
            .columns
            .iter()
            .map(|col| {
                let value = match col.key {
                    "lon" => r.lon.map(|v| v.to_string()).unwrap_or_default(),
                    "lat" => r.lat.map(|v| v.to_string()).unwrap_or_default(),
                    // Outlines travel in GeoJSON: a spreadsheet cell holds at most 32,767 characters.
                    "outline" => String::new(),
                    key => match r.props.get(key) {
                        None | Some(Value::Null) => String::new(),
                        Some(Value::String(s)) => s.clone(),
                        Some(v) => v.to_string(),
                    },
                };
                match col.kind {
                    CellKind::Choice(choices) => choices
                        .iter()
                        .find(|c| c.key == value)
                        .map(|c| c.zh.to_string())
                        .unwrap_or(value),
                    _ => value,
                }
            })
            .collect();
        rows.push(row);
    }
    Ok((rows, records.len()))
}
