//! Member organizations, property companies and compounds (with their owners' committees):
//! one row each, unique by credit code (or by name within the community), placed by a
//! division code inside the importer's area.

use std::collections::HashMap;

use gongzhi_core::orgs::credit_code::CreditCode;
use gongzhi_core::orgs::registry::{NewMemberOrganization, NewOwnersCommittee, NewPropertyCompany, OrgKind};
use gongzhi_core::territory::places::{NewCompound, street_of};
use gongzhi_core::territory::{DivisionCode, Level};
use gongzhi_store::orgs::{insert_member_organizations_tx, insert_owners_committees_tx, insert_property_companies_tx};
use gongzhi_store::territory::places::insert_compounds_tx;

use super::*;
use crate::territory::TerritoryIndex;

/// A street or community code of the grid system inside `reach`, or the row's problem.
fn division_in(
    index: &TerritoryIndex,
    reach: &Reach,
    r: &Record,
    key: &str,
    levels: &[Level],
) -> Result<DivisionCode, RowError> {
    let text = r.text(key);
    let code = match TerritoryCode::parse(text) {
        Ok(TerritoryCode::Division(d)) if levels.contains(&d.level()) => d,
        _ => {
            let (zh, en) = if levels == [Level::Community] {
                ("社区代码", "community code")
            } else {
                ("街道或社区代码", "street or community code")
            };
            return Err(r.error(key, Problem::unknown(text, zh, en)));
        }
    };
    let known = index
        .by_code
        .values()
        .any(|l| l.community.code == code.as_str() || l.street.code == code.as_str());
    if !known {
        return Err(r.error(
            key,
            Problem::unknown(text, "网格化管理的街道或社区", "street or community of the grid system"),
        ));
    }
    if !reach.reaches(&TerritoryCode::Division(code.clone())) {
        return Err(r.error(
            key,
            Problem::other(format!("{text} 不在您的辖区内"), format!("{text} is outside your area")),
        ));
    }
    Ok(code)
}

fn credit_code(r: &Record, seen: &mut HashMap<String, usize>) -> Result<CreditCode, Vec<RowError>> {
    let code = CreditCode::parse(r.text("credit_code")).map_err(|_| {
        vec![r.error(
            "credit_code",
            Problem::invalid(r.text("credit_code"), "统一社会信用代码", "a credit code"),
        )]
    })?;
    if let Some(first) = seen.insert(code.as_str().to_string(), r.row) {
        return Err(vec![r.error(
            "credit_code",
            Problem::Duplicate {
                value: code.as_str().to_string(),
                first_row: first,
            },
        )]);
    }
    Ok(code)
}

pub async fn member_orgs(
    app: &App,
    job: &Job,
    bytes: Bytes,
    actor: &Actor,
    reach: &Reach,
) -> Result<Imported, Outcome> {
    let key = audit_key(app, job)?;
    let (index, reach) = (app.index(), reach.clone());
    let mut seen = HashMap::new();
    let rows = read_all(job, bytes, move |r: Record| {
        let code = credit_code(&r, &mut seen)?;
        let place = division_in(&index, &reach, &r, "territory_code", &[Level::Street, Level::Community])
            .map_err(|e| vec![e])?;
        let kind = OrgKind::parse_field("kind", r.text("kind")).map_err(|_| {
            vec![r.error(
                "kind",
                Problem::invalid(
                    r.text("kind"),
                    "机关、事业单位、企业或社会组织",
                    "agency, public institution, enterprise or social organization",
                ),
            )]
        })?;
        let community = (place.level() == Level::Community).then(|| place.as_str().to_string());
        let street = match &community {
            Some(_) => street_of(&place),
            None => place.as_str().to_string(),
        };
        Ok((
            r.row,
            NewMemberOrganization {
                credit_code: code,
                name: r.text("name").to_string(),
                kind,
                community_code: community,
                street_code: street,
                address: r.get("address").unwrap_or("").to_string(),
            },
        ))
    })
    .await?;
    let mut errors = ErrorList::default();
    for (row, o) in &rows {
        if app
            .db()
            .member_organization_by_credit_code(o.credit_code.as_str())
            .await
            .map_err(failed)?
            .is_some()
        {
            errors.push(registered(*row, "统一社会信用代码", o.credit_code.as_str()));
        }
    }
    refuse(errors, job)?;
    job.progress.set_phase(Phase::Writing);
    let orgs: Vec<NewMemberOrganization> = rows.into_iter().map(|(_, o)| o).collect();
    let mut tx = app.db().begin().await.map_err(failed)?;
    insert_member_organizations_tx(&mut tx, &key, &actor.account, &orgs)
        .await
        .map_err(failed)?;
    job.progress.rows_written(orgs.len() as u64);
    let done = Imported::new(job.template.key, orgs.len() as u64).created("member_orgs", orgs.len() as u64);
    commit(tx, &key, actor, job, done).await
}

pub async fn property_companies(app: &App, job: &Job, bytes: Bytes, actor: &Actor) -> Result<Imported, Outcome> {
    let key = audit_key(app, job)?;
    let mut seen = HashMap::new();
    let rows = read_all(job, bytes, move |r: Record| {
        let code = credit_code(&r, &mut seen)?;
        Ok((
            r.row,
            NewPropertyCompany {
                credit_code: code,
                name: r.text("name").to_string(),
                address: r.get("address").unwrap_or("").to_string(),
                phone: r.get("phone").map(str::to_string),
            },
        ))
    })
    .await?;
    let known: std::collections::HashSet<String> = app
        .db()
        .property_companies()
        .await
        .map_err(failed)?
        .into_iter()
        .map(|c| c.credit_code)
        .collect();
    let mut errors = ErrorList::default();
    for (row, c) in &rows {
        if known.contains(c.credit_code.as_str()) {
            errors.push(registered(*row, "统一社会信用代码", c.credit_code.as_str()));
        }
    }
    refuse(errors, job)?;
    job.progress.set_phase(Phase::Writing);
    let companies: Vec<NewPropertyCompany> = rows.into_iter().map(|(_, c)| c).collect();
    let mut tx = app.db().begin().await.map_err(failed)?;
    insert_property_companies_tx(&mut tx, &key, &actor.account, &companies)
        .await
        .map_err(failed)?;
    job.progress.rows_written(companies.len() as u64);
    let done =
        Imported::new(job.template.key, companies.len() as u64).created("property_companies", companies.len() as u64);
    commit(tx, &key, actor, job, done).await
}

pub async fn compounds(app: &App, job: &Job, bytes: Bytes, actor: &Actor, reach: &Reach) -> Result<Imported, Outcome> {
    let key = audit_key(app, job)?;
    let (index, reach) = (app.index(), reach.clone());
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    struct Row {
        row: usize,
        community: DivisionCode,
        name: String,
        address: String,
        company: Option<String>,
        committee: Option<String>,
        position: Option<(f64, f64)>,
        outline: Option<String>,
    }
    let rows = read_all(job, bytes, move |r: Record| {
        let community = division_in(&index, &reach, &r, "community_code", &[Level::Community]).map_err(|e| vec![e])?;
        let position = position_of(&r).map_err(|e| vec![e])?;
        let outline = outline_of(&r).map_err(|e| vec![e])?;
        let name = r.text("name").to_string();
        if let Some(first) = seen.insert((community.as_str().to_string(), name.clone()), r.row) {
            return Err(vec![r.error(
                "name",
                Problem::Duplicate {
                    value: name,
                    first_row: first,
                },
            )]);
        }
        Ok(Row {
            row: r.row,
            community,
            name,
            address: r.get("address").unwrap_or("").to_string(),
            company: r.get("property_company").map(str::to_string),
            committee: r.get("owners_committee").map(str::to_string),
            position,
            outline,
        })
    })
    .await?;
    let companies: HashMap<String, i64> = app
        .db()
        .property_companies()
        .await
        .map_err(failed)?
        .into_iter()
        .map(|c| (c.credit_code, c.id))
        .collect();
    let mut errors = ErrorList::default();
    let mut existing: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for row in &rows {
        let community = row.community.as_str().to_string();
        if !existing.contains_key(&community) {
            let prefix = row.community.significant_prefix().to_string();
            let list = app.db().compounds_within(&prefix).await.map_err(failed)?;
            existing.insert(community.clone(), list.into_iter().map(|c| (c.name, c.code)).collect());
        }
        if existing[&community].iter().any(|(n, _)| *n == row.name) {
            errors.push(registered(row.row, "小区名称", &row.name));
        }
        if let Some(c) = &row.company
            && !companies.contains_key(c)
        {
            errors.push(import_first(
                row.row,
                "物业企业信用代码",
                c.clone(),
                "物业企业",
                "property company",
                "property companies",
            ));
        }
    }
    refuse(errors, job)?;
    job.progress.set_phase(Phase::Writing);
    let mut serials: HashMap<String, usize> = HashMap::new();
    let mut new = Vec::with_capacity(rows.len());
    for row in &rows {
        let community = row.community.as_str().to_string();
        let taken = &existing[&community];
        let serial = serials.entry(community.clone()).or_insert(taken.len());
        let code = loop {
            *serial += 1;
            let c = format!("{community}-C{:02}", serial);
            if !taken.iter().any(|(_, t)| *t == c) {
                break c;
            }
        };
        new.push(NewCompound {
            code,
            name: row.name.clone(),
            community: row.community.clone(),
            address: row.address.clone(),
            lon: row.position.map(|p| p.0),
            lat: row.position.map(|p| p.1),
            outline: row.outline.clone(),
            property_company_id: row.company.as_ref().and_then(|c| companies.get(c).copied()),
        });
    }
    let mut tx = app.db().begin().await.map_err(failed)?;
    let ids = insert_compounds_tx(&mut tx, &key, &actor.account, &new)
        .await
        .map_err(failed)?;
    let committees: Vec<NewOwnersCommittee> = rows
        .iter()
        .zip(&ids)
        .filter_map(|(row, id)| {
            row.committee.as_ref().map(|name| NewOwnersCommittee {
                compound_id: *id,
                name: name.clone(),
                members: 0,
                elected_on: None,
            })
        })
        .collect();
    insert_owners_committees_tx(&mut tx, &key, &actor.account, &committees)
        .await
        .map_err(failed)?;
    job.progress.rows_written(new.len() as u64);
    let done = Imported::new(job.template.key, new.len() as u64)
        .created("compounds", new.len() as u64)
        .created("owners_committees", committees.len() as u64);
    commit(tx, &key, actor, job, done).await
}
