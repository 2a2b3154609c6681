//! Exports of the registry: residents (masked unless the exporter may see them in full) and the
//! places and organizations as their import templates' tables or GeoJSON, so they import again.

use gongzhi_core::ErrorCode;
use gongzhi_core::import::registry::template;
use serde_json::{Value, json};

use super::unknown_template;
use crate::{App, AppError};

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
