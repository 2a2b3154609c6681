//! Editing one row of the registry (a compound, building, household, organization, posted
//! office, party organization or party member) from a form or the API: the changed columns are
//! written only if the row is still at the revision the form was opened at, and the audit entry
//! (who, which row, which columns; old and new values of a place's or an organization's data,
//! never of personal data) is appended in the same transaction.

use chrono::Utc;
use gongzhi_core::audit::AuditKey;
use serde_json::{Map, Value, json};

use crate::db::Db;
use crate::error::StoreError;
use crate::registry::rows::audit;
use crate::sql::{Arg, bind_args};

/// The tables an edit may write. The names come from here, never from input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryTable {
    Compounds,
    Buildings,
    Households,
    MemberOrganizations,
    PostedOffices,
    PropertyCompanies,
    PartyOrganizations,
    PartyMembers,
}

impl RegistryTable {
    fn table(self) -> &'static str {
        match self {
            RegistryTable::Compounds => "compounds",
            RegistryTable::Buildings => "buildings",
            RegistryTable::Households => "households",
            RegistryTable::MemberOrganizations => "member_organizations",
            RegistryTable::PostedOffices => "posted_offices",
            RegistryTable::PropertyCompanies => "property_companies",
            RegistryTable::PartyOrganizations => "party_organizations",
            RegistryTable::PartyMembers => "party_members",
        }
    }

    /// The subject of the audit entry, and the middle of its action (`registry.compound.edit`).
    pub fn subject(self) -> &'static str {
        match self {
            RegistryTable::Compounds => "compound",
            RegistryTable::Buildings => "building",
            RegistryTable::Households => "household",
            RegistryTable::MemberOrganizations => "member_organization",
            RegistryTable::PostedOffices => "posted_office",
            RegistryTable::PropertyCompanies => "property_company",
            RegistryTable::PartyOrganizations => "party_organization",
            RegistryTable::PartyMembers => "party_member",
        }
    }
}

/// A value to write into a column.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
}

impl FieldValue {
    fn arg(&self) -> Arg {
        match self {
            FieldValue::Text(t) => Arg::Text(t.clone()),
            FieldValue::Int(i) => Arg::MaybeInt(*i),
            FieldValue::Real(r) => Arg::Real(*r),
        }
    }
}

/// One column an edit changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnChange {
    /// A column of the table (a name from code, never from input).
    pub column: &'static str,
    pub value: FieldValue,
    /// What the audit entry says of it: the old and new values for a place's or an
    /// organization's data; `None` for personal data, named but never shown.
    pub shown: Option<(Value, Value)>,
}

/// An edit of one row, made on a form opened at `revision`.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryEdit {
    pub table: RegistryTable,
    pub id: i64,
    pub revision: i64,
    pub changes: Vec<ColumnChange>,
}

/// What an edit of a compound does to its owners' committee (one per compound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitteeChange {
    Set { name: String },
    Remove,
}

impl Db {
    /// Writes `edit` (and, for a compound, `committee`) in one transaction with its audit entry
    /// `registry.<subject>.edit`, if the row is still at the edit's revision; returns the new
    /// revision. Nothing to change writes nothing. A row another edit changed meanwhile is a
    /// [`StoreError::Conflict`] and changes nothing.
    pub async fn edit_registry(
        &self,
        key: &AuditKey,
        actor: &str,
        edit: &RegistryEdit,
        committee: Option<&CommitteeChange>,
    ) -> Result<i64, StoreError> {
        if edit.changes.is_empty() && committee.is_none() {
            return Ok(edit.revision);
        }
        let table = edit.table.table();
        let mut tx = self.begin().await?;
        let mut sets: Vec<String> = edit
            .changes
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} = ${}", c.column, i + 1))
            .collect();
        sets.push("revision = revision + 1".into());
        let n = edit.changes.len();
        let sql = format!(
            "UPDATE {table} SET {} WHERE id = ${} AND revision = ${}",
            sets.join(", "),
            n + 1,
            n + 2
        );
        let mut args: Vec<Arg> = edit.changes.iter().map(|c| c.value.arg()).collect();
        args.push(Arg::Int(edit.id));
        args.push(Arg::Int(edit.revision));
        let updated = on_tx!(&mut tx, conn => bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql)), &args)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if updated != 1 {
            return Err(StoreError::Conflict {
                what: edit.table.subject(),
                id: edit.id.to_string(),
            });
        }
        let mut fields = Map::new();
        for c in &edit.changes {
            let shown = match &c.shown {
                Some((from, to)) => json!({"from": from, "to": to}),
                None => json!("changed"),
            };
            fields.insert(c.column.trim_end_matches("_sealed").to_string(), shown);
        }
        if let Some(change) = committee {
            let existing: Option<(i64, String)> = on_tx!(&mut tx, conn => sqlx::query_as(
                "SELECT id, name FROM owners_committees WHERE compound_id = $1")
                .bind(edit.id).fetch_optional(conn).await)?;
            match (change, existing) {
                (CommitteeChange::Set { name }, Some((id, old))) => {
                    if &old != name {
                        on_tx!(&mut tx, conn => sqlx::query(
                            "UPDATE owners_committees SET name = $1, revision = revision + 1 WHERE id = $2")
                            .bind(name).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
                        fields.insert("owners_committee".into(), json!({"from": old, "to": name}));
                    }
                }
                (CommitteeChange::Set { name }, None) => {
                    on_tx!(&mut tx, conn => sqlx::query(
                        "INSERT INTO owners_committees (compound_id, name, members, created_at) VALUES ($1, $2, 0, $3)")
                        .bind(edit.id).bind(name).bind(Utc::now()).execute(conn).await.map(|r| r.rows_affected()))?;
                    fields.insert("owners_committee".into(), json!({"from": null, "to": name}));
                }
                (CommitteeChange::Remove, Some((id, old))) => {
                    on_tx!(&mut tx, conn => sqlx::query("DELETE FROM owners_committees WHERE id = $1")
                        .bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
                    fields.insert("owners_committee".into(), json!({"from": old, "to": null}));
                }
                (CommitteeChange::Remove, None) => {}
            }
        }
        audit(
            &mut tx,
            key,
            actor,
            &format!("registry.{}.edit", edit.table.subject()),
            edit.table.subject(),
            &edit.id.to_string(),
            json!({"fields": fields, "revision": edit.revision + 1}),
        )
        .await?;
        tx.commit().await?;
        Ok(edit.revision + 1)
    }
}
