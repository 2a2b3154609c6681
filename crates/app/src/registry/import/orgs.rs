//! Member organizations, property companies and compounds (with their owners' committees):
//! one row each, unique by credit code (or by name within the community), placed by a
//! division code inside the importer's area.

use std::collections::HashMap;

use gongzhi_core::orgs::DepartmentCode;
use gongzhi_core::orgs::credit_code::CreditCode;
use gongzhi_core::orgs::registry::{
    NewMemberOrganization, NewOwnersCommittee, NewPostedOffice, NewPropertyCompany, OrgKind,
};
use gongzhi_core::territory::places::{NewCompound, street_of};
use gongzhi_core::territory::{DivisionCode, Level};
use gongzhi_store::orgs::{
    insert_member_organizations_tx, insert_owners_committees_tx, insert_posted_offices_tx, insert_property_companies_tx,
};
use gongzhi_store::territory::places::insert_compounds_tx;

use super::*;

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

/// The row's credit code, well formed and not in an earlier row, or the row's problem.
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

/// The rows' organizations in file order; a row whose credit code the registry holds already
/// (as `is_registered` looks it up) is an error.
async fn unregistered<T, Found: Future<Output = Result<bool, StoreError>>>(
    rows: Vec<(usize, T)>,
    code: impl Fn(&T) -> &CreditCode,
    is_registered: impl Fn(String) -> Found,
    errors: &mut ErrorList,
) -> Result<Vec<T>, Outcome> {
    for (row, org) in &rows {
        let code = code(org).as_str();
        if is_registered(code.to_string()).await.map_err(failed)? {
            errors.push(registered(*row, "统一社会信用代码", code));
        }
    }
    Ok(rows.into_iter().map(|(_, org)| org).collect())
}

/// The member organizations template (辖区单位).
pub(super) struct MemberOrgs;

impl Template for MemberOrgs {
    type Keys = Auditing;
    type Row = (usize, NewMemberOrganization);
    type Checked = Vec<NewMemberOrganization>;

    fn reader(index: Arc<TerritoryIndex>, reach: Reach) -> impl Reader<Self::Row> {
        let mut seen = HashMap::new();
        move |r: Record| {
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
        }
    }

    async fn check(
        cx: &Importing<'_, Auditing>,
        rows: Vec<Self::Row>,
        errors: &mut ErrorList,
    ) -> Result<Self::Checked, Outcome> {
        let db = &cx.app.db();
        let is_registered =
            |code: String| async move { Ok(db.member_organization_by_credit_code(&code).await?.is_some()) };
        unregistered(rows, |o| &o.credit_code, is_registered, errors).await
    }

    async fn write(cx: &Importing<'_, Auditing>, tx: &mut Tx, orgs: Self::Checked) -> Result<Created, StoreError> {
        insert_member_organizations_tx(tx, cx.audit_key(), cx.account(), &orgs).await?;
        Ok(vec![("member_orgs", orgs.len() as u64)])
    }
}

/// The property companies template.
pub(super) struct PropertyCompanies;

impl Template for PropertyCompanies {
    type Keys = Auditing;
    type Row = (usize, NewPropertyCompany);
    type Checked = Vec<NewPropertyCompany>;

    fn reader(_: Arc<TerritoryIndex>, _: Reach) -> impl Reader<Self::Row> {
        let mut seen = HashMap::new();
        move |r: Record| {
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
        }
    }

    async fn check(
        cx: &Importing<'_, Auditing>,
        rows: Vec<Self::Row>,
        errors: &mut ErrorList,
    ) -> Result<Self::Checked, Outcome> {
        let known: std::collections::HashSet<String> = cx
            .app
            .db()
            .property_companies()
            .await
            .map_err(failed)?
            .into_iter()
            .map(|c| c.credit_code)
            .collect();
        let is_registered = |code: String| std::future::ready(Ok(known.contains(&code)));
        unregistered(rows, |c| &c.credit_code, is_registered, errors).await
    }

    async fn write(cx: &Importing<'_, Auditing>, tx: &mut Tx, companies: Self::Checked) -> Result<Created, StoreError> {
        insert_property_companies_tx(tx, cx.audit_key(), cx.account(), &companies).await?;
        Ok(vec![("property_companies", companies.len() as u64)])
    }
}

/// The posted offices template: one office per department and street, the department one of the
/// rules' department list, the street one of the grid system's inside the importer's area.
pub(super) struct PostedOffices;

impl Template for PostedOffices {
    type Keys = Auditing;
    type Row = (usize, NewPostedOffice);
    type Checked = Vec<NewPostedOffice>;

    fn reader(index: Arc<TerritoryIndex>, reach: Reach) -> impl Reader<Self::Row> {
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        move |r: Record| {
            let street = division_in(&index, &reach, &r, "street_code", &[Level::Street]).map_err(|e| vec![e])?;
            let department = r.text("department_code").to_string();
            let key = (department.clone(), street.as_str().to_string());
            if let Some(first) = seen.insert(key, r.row) {
                return Err(vec![r.error(
                    "department_code",
                    Problem::Duplicate {
                        value: format!("{department} @ {street}"),
                        first_row: first,
                    },
                )]);
            }
            Ok((
                r.row,
                NewPostedOffice {
                    department_code: department,
                    name: r.text("name").to_string(),
                    street_code: street.as_str().to_string(),
                    address: r.get("address").unwrap_or("").to_string(),
                },
            ))
        }
    }

    async fn check(
        cx: &Importing<'_, Auditing>,
        rows: Vec<Self::Row>,
        errors: &mut ErrorList,
    ) -> Result<Self::Checked, Outcome> {
        let rules = cx.app.rules();
        let existing: std::collections::HashSet<(String, String)> = cx
            .app
            .db()
            .posted_offices_within("")
            .await
            .map_err(failed)?
            .into_iter()
            .map(|o| (o.department_code, o.street_code))
            .collect();
        let mut offices = Vec::new();
        for (row, office) in rows {
            let known = DepartmentCode::parse(&office.department_code)
                .ok()
                .is_some_and(|code| rules.departments.get(&code).is_some());
            if !known {
                errors.push(RowError::cell(
                    row,
                    "部门代码",
                    Problem::unknown(
                        &office.department_code,
                        "职能部门名录中的部门",
                        "a department of the list",
                    ),
                ));
            } else if existing.contains(&(office.department_code.clone(), office.street_code.clone())) {
                errors.push(RowError::cell(
                    row,
                    "部门代码",
                    Problem::other(
                        format!("{} 在街道 {} 已有派驻机构", office.department_code, office.street_code),
                        format!(
                            "{} already has an office at street {}",
                            office.department_code, office.street_code
                        ),
                    ),
                ));
            } else {
                offices.push(office);
            }
        }
        Ok(offices)
    }

    async fn write(cx: &Importing<'_, Auditing>, tx: &mut Tx, offices: Self::Checked) -> Result<Created, StoreError> {
        insert_posted_offices_tx(tx, cx.audit_key(), cx.account(), &offices).await?;
        Ok(vec![("posted_offices", offices.len() as u64)])
    }
}

/// The compounds template (with each compound's owners' committee).
pub(super) struct Compounds;

/// A compound row as read.
pub(super) struct CompoundRow {
    row: usize,
    community: DivisionCode,
    name: String,
    address: String,
    company: Option<String>,
    committee: Option<String>,
    position: Option<(f64, f64)>,
    outline: Option<String>,
}

/// The compounds' rows with what the store holds of their communities and companies.
pub(super) struct CheckedCompounds {
    rows: Vec<CompoundRow>,
    /// Community → its registered compounds' (name, code).
    existing: HashMap<String, Vec<(String, String)>>,
    /// Credit code → id of the registered property companies.
    companies: HashMap<String, i64>,
}

impl Template for Compounds {
    type Keys = Auditing;
    type Row = CompoundRow;
    type Checked = CheckedCompounds;

    fn reader(index: Arc<TerritoryIndex>, reach: Reach) -> impl Reader<CompoundRow> {
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        move |r: Record| {
            let community =
                division_in(&index, &reach, &r, "community_code", &[Level::Community]).map_err(|e| vec![e])?;
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
            Ok(CompoundRow {
                row: r.row,
                community,
                name,
                address: r.get("address").unwrap_or("").to_string(),
                company: r.get("property_company").map(str::to_string),
                committee: r.get("owners_committee").map(str::to_string),
                position,
                outline,
            })
        }
    }

    async fn check(
        cx: &Importing<'_, Auditing>,
        rows: Vec<CompoundRow>,
        errors: &mut ErrorList,
    ) -> Result<CheckedCompounds, Outcome> {
        let companies: HashMap<String, i64> = cx
            .app
            .db()
            .property_companies()
            .await
            .map_err(failed)?
            .into_iter()
            .map(|c| (c.credit_code, c.id))
            .collect();
        let mut existing: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for row in &rows {
            let community = row.community.as_str().to_string();
            if !existing.contains_key(&community) {
                let prefix = row.community.significant_prefix().to_string();
                let list = cx.app.db().compounds_within(&prefix).await.map_err(failed)?;
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
                    &PROPERTY_COMPANIES,
                ));
            }
        }
        Ok(CheckedCompounds {
            rows,
            existing,
            companies,
        })
    }

    /// The compounds (coded on from the community's last), then the owners' committees named.
    async fn write(
        cx: &Importing<'_, Auditing>,
        tx: &mut Tx,
        checked: CheckedCompounds,
    ) -> Result<Created, StoreError> {
        let CheckedCompounds {
            rows,
            existing,
            companies,
        } = checked;
        let mut serials: HashMap<&str, usize> = HashMap::new();
        let mut taken: HashMap<&str, HashSet<String>> = existing
            .iter()
            .map(|(community, list)| (community.as_str(), list.iter().map(|(_, code)| code.clone()).collect()))
            .collect();
        let mut new = Vec::with_capacity(rows.len());
        for row in &rows {
            let community = row.community.as_str();
            let serial = serials.entry(community).or_insert(existing[community].len());
            let taken = taken.get_mut(community).expect("listed by the check");
            let code = next_code(serial, taken, |s| format!("{community}-C{s:02}"));
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
        let ids = insert_compounds_tx(tx, cx.audit_key(), cx.account(), &new).await?;
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
        insert_owners_committees_tx(tx, cx.audit_key(), cx.account(), &committees).await?;
        Ok(vec![
            ("compounds", new.len() as u64),
            ("owners_committees", committees.len() as u64),
        ])
    }
}
