//! The registry's organizations: member organizations, property companies, owners' committees,
//! departments' posted offices and party organizations. Nothing here is personal data.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::Utc;
use gongzhi_core::audit::AuditKey;
use gongzhi_core::orgs::registry::{
    MemberOrganization, NewMemberOrganization, NewOwnersCommittee, NewPartyOrganization, NewPostedOffice,
    NewPropertyCompany, OrgKind, PartyOrgKind,
};
use serde::Serialize;
use serde_json::json;

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::registry::rows::{audit, insert_keyed, insert_plain, like_prefix};
use crate::sql::Arg;

fn text(s: &str) -> Arg {
    Arg::Text(Some(s.to_string()))
}

/// Writes member organizations inside `tx`; returns their ids in order. A credit code already
/// registered fails the batch.
pub async fn insert_member_organizations_tx(
    tx: &mut Tx,
    key: &AuditKey,
    actor: &str,
    orgs: &[NewMemberOrganization],
) -> Result<Vec<i64>, StoreError> {
    if orgs.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let rows: Vec<(String, Vec<Arg>)> = orgs
        .iter()
        .map(|o| {
            (
                o.credit_code.as_str().to_string(),
                vec![
                    text(o.credit_code.as_str()),
                    text(&o.name),
                    text(o.kind.as_str()),
                    Arg::Text(o.community_code.clone()),
                    text(&o.street_code),
                    text(&o.address),
                    Arg::Time(Some(now)),
                ],
            )
        })
        .collect();
    let ids = insert_keyed(
        tx,
        "member_organizations",
        &[
            "credit_code",
            "name",
            "kind",
            "community_code",
            "street_code",
            "address",
            "created_at",
        ],
        "credit_code",
        &rows,
    )
    .await?;
    audit(
        tx,
        key,
        actor,
        "registry.organization.add",
        "member_organization",
        &ids[0].to_string(),
        json!({"count": ids.len()}),
    )
    .await?;
    Ok(ids)
}

pub async fn insert_property_companies_tx(
    tx: &mut Tx,
    key: &AuditKey,
    actor: &str,
    companies: &[NewPropertyCompany],
) -> Result<Vec<i64>, StoreError> {
    if companies.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let rows: Vec<(String, Vec<Arg>)> = companies
        .iter()
        .map(|c| {
            (
                c.credit_code.as_str().to_string(),
                vec![
                    text(c.credit_code.as_str()),
                    text(&c.name),
                    text(&c.address),
                    Arg::Text(c.phone.clone()),
                    Arg::Time(Some(now)),
                ],
            )
        })
        .collect();
    let ids = insert_keyed(
        tx,
        "property_companies",
        &["credit_code", "name", "address", "phone", "created_at"],
        "credit_code",
        &rows,
    )
    .await?;
    audit(
        tx,
        key,
        actor,
        "registry.property_company.add",
        "property_company",
        &ids[0].to_string(),
        json!({"count": ids.len()}),
    )
    .await?;
    Ok(ids)
}

/// One per compound (a second for the same compound fails the batch).
pub async fn insert_owners_committees_tx(
    tx: &mut Tx,
    key: &AuditKey,
    actor: &str,
    committees: &[NewOwnersCommittee],
) -> Result<u64, StoreError> {
    if committees.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    let rows: Vec<Vec<Arg>> = committees
        .iter()
        .map(|c| {
            vec![
                Arg::Int(c.compound_id),
                text(&c.name),
                Arg::Int(i64::from(c.members)),
                Arg::Date(c.elected_on),
                Arg::Time(Some(now)),
            ]
        })
        .collect();
    let n = insert_plain(
        tx,
        "owners_committees",
        &["compound_id", "name", "members", "elected_on", "created_at"],
        &rows,
    )
    .await?;
    audit(
        tx,
        key,
        actor,
        "registry.owners_committee.add",
        "owners_committee",
        &committees[0].compound_id.to_string(),
        json!({"count": n}),
    )
    .await?;
    Ok(n)
}

/// One per department and street.
pub async fn insert_posted_offices_tx(
    tx: &mut Tx,
    key: &AuditKey,
    actor: &str,
    offices: &[NewPostedOffice],
) -> Result<u64, StoreError> {
    if offices.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    let rows: Vec<Vec<Arg>> = offices
        .iter()
        .map(|o| {
            vec![
                text(&o.department_code),
                text(&o.name),
                text(&o.street_code),
                text(&o.address),
                Arg::Time(Some(now)),
            ]
        })
        .collect();
    let n = insert_plain(
        tx,
        "posted_offices",
        &["department_code", "name", "street_code", "address", "created_at"],
        &rows,
    )
    .await?;
    audit(
        tx,
        key,
        actor,
        "registry.posted_office.add",
        "posted_office",
        &offices[0].street_code,
        json!({"count": n}),
    )
    .await?;
    Ok(n)
}

/// Writes party organizations inside `tx`; a parent is named by its code and may be earlier
/// in the batch or already stored. A parent of the wrong kind or unknown is an error. Returns
/// the ids in order.
pub async fn insert_party_organizations_tx(
    tx: &mut Tx,
    key: &AuditKey,
    actor: &str,
    orgs: &[NewPartyOrganization],
) -> Result<Vec<i64>, StoreError> {
    if orgs.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let rows: Vec<(String, Vec<Arg>)> = orgs
        .iter()
        .map(|o| {
            (
                o.code.clone(),
                vec![
                    text(&o.code),
                    text(&o.name),
                    text(o.kind.as_str()),
                    text(&o.territory_code),
                    Arg::MaybeInt(o.organization_id),
                    Arg::Time(Some(now)),
                ],
            )
        })
        .collect();
    let ids = insert_keyed(
        tx,
        "party_organizations",
        &[
            "code",
            "name",
            "kind",
            "territory_code",
            "organization_id",
            "created_at",
        ],
        "code",
        &rows,
    )
    .await?;
    let mut known: HashMap<String, (i64, PartyOrgKind)> = orgs
        .iter()
        .zip(&ids)
        .map(|(o, id)| (o.code.clone(), (*id, o.kind)))
        .collect();
    for (o, id) in orgs.iter().zip(&ids) {
        let Some(parent) = &o.parent_code else { continue };
        let (parent_id, parent_kind) = match known.get(parent) {
            Some(k) => *k,
            None => {
                let row: Option<(i64, String)> = on_tx!(tx, conn => sqlx::query_as(
                    "SELECT id, kind FROM party_organizations WHERE code = $1").bind(parent).fetch_optional(conn).await)?;
                let (pid, kind) = row.ok_or_else(|| StoreError::Unknown {
                    what: "party organization",
                    id: parent.clone(),
                })?;
                let kind = PartyOrgKind::from_str(&kind).map_err(|e| StoreError::Corrupt {
                    what: "party organization kind",
                    detail: e.to_string(),
                })?;
                known.insert(parent.clone(), (pid, kind));
                (pid, kind)
            }
        };
        if !o.kind.parent_kind().is_some_and(|k| k.contains(&parent_kind)) {
            return Err(StoreError::Unknown {
                what: "parent party organization of the right kind",
                id: parent.clone(),
            });
        }
        on_tx!(tx, conn => sqlx::query("UPDATE party_organizations SET parent_id = $1 WHERE id = $2")
            .bind(parent_id).bind(*id).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    audit(
        tx,
        key,
        actor,
        "registry.party_organization.add",
        "party_organization",
        &ids[0].to_string(),
        json!({"count": ids.len()}),
    )
    .await?;
    Ok(ids)
}

#[derive(sqlx::FromRow)]
struct OrgRow {
    id: i64,
    credit_code: String,
    name: String,
    kind: String,
    community_code: Option<String>,
    street_code: String,
    address: String,
    revision: i64,
}

impl OrgRow {
    fn into_org(self) -> Result<MemberOrganization, StoreError> {
        Ok(MemberOrganization {
            kind: OrgKind::from_str(&self.kind).map_err(|e| StoreError::Corrupt {
                what: "organization kind",
                detail: e.to_string(),
            })?,
            id: self.id,
            credit_code: self.credit_code,
            name: self.name,
            community_code: self.community_code,
            street_code: self.street_code,
            address: self.address,
            revision: self.revision,
        })
    }
}

const ORG_COLUMNS: &str = "id, credit_code, name, kind, community_code, street_code, address, revision";
const PROPERTY_COMPANY_COLUMNS: &str = "id, credit_code, name, address, phone, revision";
const POSTED_OFFICE_COLUMNS: &str = "id, department_code, name, street_code, address, revision";

type PostedOfficeRow = (i64, String, String, String, String, i64);

fn posted_office(
    (id, department_code, name, street_code, address, revision): PostedOfficeRow,
) -> gongzhi_core::orgs::registry::PostedOffice {
    gongzhi_core::orgs::registry::PostedOffice {
        id,
        department_code,
        name,
        street_code,
        address,
        revision,
    }
}
const PARTY_ORG_COLUMNS: &str = "id, code, name, kind, parent_id, territory_code, organization_id, revision";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PropertyCompany {
    pub id: i64,
    pub credit_code: String,
    pub name: String,
    pub address: String,
    pub phone: Option<String>,
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PartyOrganization {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    pub territory_code: String,
    pub organization_id: Option<i64>,
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct OwnersCommittee {
    pub id: i64,
    pub compound_id: i64,
    pub name: String,
    pub members: i64,
}

/// How many of each registry organization a subtree holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrgCounts {
    pub member_organizations: i64,
    pub property_companies: i64,
    pub owners_committees: i64,
    pub posted_offices: i64,
    /// By kind (`street_working_committee`, `community_committee`, `grid_organization`, `company_branch`).
    pub party_organizations: std::collections::BTreeMap<String, i64>,
}

impl Db {
    pub async fn insert_member_organizations(
        &self,
        key: &AuditKey,
        actor: &str,
        orgs: &[NewMemberOrganization],
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin().await?;
        let ids = insert_member_organizations_tx(&mut tx, key, actor, orgs).await?;
        tx.commit().await?;
        Ok(ids)
    }

    pub async fn insert_party_organizations(
        &self,
        key: &AuditKey,
        actor: &str,
        orgs: &[NewPartyOrganization],
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin().await?;
        let ids = insert_party_organizations_tx(&mut tx, key, actor, orgs).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Member organizations of a subtree (by street), by name.
    pub async fn member_organizations_within(&self, within: &str) -> Result<Vec<MemberOrganization>, StoreError> {
        let sql = format!(
            "SELECT {ORG_COLUMNS} FROM member_organizations \
             WHERE street_code LIKE $1 OR community_code LIKE $1 ORDER BY street_code, name"
        );
        let rows: Vec<OrgRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(like_prefix(within)).fetch_all(p).await)?;
        rows.into_iter().map(OrgRow::into_org).collect()
    }

    /// The posted offices (派驻机构) of the streets under `within`, by street and department.
    pub async fn posted_offices_within(
        &self,
        within: &str,
    ) -> Result<Vec<gongzhi_core::orgs::registry::PostedOffice>, StoreError> {
        let sql = format!(
            "SELECT {POSTED_OFFICE_COLUMNS} FROM posted_offices \
             WHERE street_code LIKE $1 ORDER BY street_code, department_code"
        );
        let rows: Vec<PostedOfficeRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(like_prefix(within)).fetch_all(p).await)?;
        Ok(rows.into_iter().map(posted_office).collect())
    }

    /// One posted office by its id.
    pub async fn posted_office(
        &self,
        id: i64,
    ) -> Result<Option<gongzhi_core::orgs::registry::PostedOffice>, StoreError> {
        let sql = format!("SELECT {POSTED_OFFICE_COLUMNS} FROM posted_offices WHERE id = $1");
        let row: Option<PostedOfficeRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
        Ok(row.map(posted_office))
    }

    /// The names of the member organizations `ids`, in one query (those that exist).
    pub async fn member_organization_names(&self, ids: &[i64]) -> Result<HashMap<i64, String>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT id, name FROM member_organizations WHERE id IN {}",
            crate::sql::values_sql(1, ids.len())
        );
        let args: Vec<crate::sql::Arg> = ids.iter().map(|id| crate::sql::Arg::Int(*id)).collect();
        let rows: Vec<(i64, String)> = on_pool!(self, p => crate::sql::bind_args!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())), &args).fetch_all(p).await)?;
        Ok(rows.into_iter().collect())
    }

    pub async fn member_organization(&self, id: i64) -> Result<Option<MemberOrganization>, StoreError> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM member_organizations WHERE id = $1");
        let row: Option<OrgRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
        row.map(OrgRow::into_org).transpose()
    }

    pub async fn member_organization_by_credit_code(&self, code: &str) -> Result<Option<i64>, StoreError> {
        Ok(
            on_pool!(self, p => sqlx::query_scalar("SELECT id FROM member_organizations WHERE credit_code = $1")
            .bind(code).fetch_optional(p).await)?,
        )
    }

    pub async fn property_companies(&self) -> Result<Vec<PropertyCompany>, StoreError> {
        let sql = format!("SELECT {PROPERTY_COMPANY_COLUMNS} FROM property_companies ORDER BY name");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?)
    }

    pub async fn property_company(&self, id: i64) -> Result<Option<PropertyCompany>, StoreError> {
        let sql = format!("SELECT {PROPERTY_COMPANY_COLUMNS} FROM property_companies WHERE id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?)
    }

    pub async fn owners_committee_of(&self, compound_id: i64) -> Result<Option<OwnersCommittee>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, compound_id, name, members FROM owners_committees WHERE compound_id = $1")
            .bind(compound_id).fetch_optional(p).await)?)
    }

    /// The owners' committees of the compounds of a subtree, in one query.
    pub async fn owners_committees_within(&self, within: &str) -> Result<Vec<OwnersCommittee>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT o.id, o.compound_id, o.name, o.members FROM owners_committees o \
             JOIN compounds c ON c.id = o.compound_id WHERE c.community_code LIKE $1 ORDER BY o.compound_id")
            .bind(like_prefix(within)).fetch_all(p).await)?)
    }

    /// The party organizations sitting in a subtree, by code.
    pub async fn party_organizations_within(&self, within: &str) -> Result<Vec<PartyOrganization>, StoreError> {
        let sql =
            format!("SELECT {PARTY_ORG_COLUMNS} FROM party_organizations WHERE territory_code LIKE $1 ORDER BY code");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(like_prefix(within)).fetch_all(p).await)?)
    }

    pub async fn party_organization_by_code(&self, code: &str) -> Result<Option<PartyOrganization>, StoreError> {
        let sql = format!("SELECT {PARTY_ORG_COLUMNS} FROM party_organizations WHERE code = $1");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(code).fetch_optional(p).await)?)
    }

    pub async fn party_organization(&self, id: i64) -> Result<Option<PartyOrganization>, StoreError> {
        let sql = format!("SELECT {PARTY_ORG_COLUMNS} FROM party_organizations WHERE id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?)
    }

    /// Counts for the whole city (`within` = "") or a subtree.
    pub async fn org_counts(&self, within: &str) -> Result<OrgCounts, StoreError> {
        let like = like_prefix(within);
        let one = |sql: &'static str| {
            let like = like.clone();
            async move {
                let n: i64 = on_pool!(self, p => sqlx::query_scalar(sql).bind(like).fetch_one(p).await)?;
                Ok::<i64, StoreError>(n)
            }
        };
        let kinds: Vec<(String, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT kind, COUNT(*) FROM party_organizations WHERE territory_code LIKE $1 GROUP BY kind")
            .bind(like.clone()).fetch_all(p).await)?;
        Ok(OrgCounts {
            member_organizations: one("SELECT COUNT(*) FROM member_organizations WHERE street_code LIKE $1").await?,
            // Property companies serve compounds anywhere: counted city-wide when `within` is empty.
            property_companies: if within.is_empty() {
                one("SELECT COUNT(*) FROM property_companies WHERE credit_code LIKE $1").await?
            } else {
                one("SELECT COUNT(DISTINCT property_company_id) FROM compounds WHERE community_code LIKE $1").await?
            },
            owners_committees: one(
                "SELECT COUNT(*) FROM owners_committees o JOIN compounds c ON c.id = o.compound_id WHERE c.community_code LIKE $1",
            )
            .await?,
            posted_offices: one("SELECT COUNT(*) FROM posted_offices WHERE street_code LIKE $1").await?,
            party_organizations: kinds.into_iter().collect(),
        })
    }
}
