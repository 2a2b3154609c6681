//! The registry's people: resident records (实有人口; the table `resident_records`, because
//! `residents` holds the /m/ portal's accounts), party members and staff assignments.
//!
//! Personal data is sealed here and nowhere else: every write takes the [`CipherProvider`] and
//! seals the ID number, phone, registered address, care tags and party membership of a resident
//! (and the name, ID number and phone of a party member, the phone of a chief) under the contexts
//! of [`sealed`]; ID numbers and phones also get their keyed index for exact lookup. Reads open
//! them again; lists mask them ([`ResidentRecord::masked`]). A full view is [`Db::reveal_resident`],
//! which records who, when, why and which fields in the audit record before anything is returned.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::Utc;
use gongzhi_core::audit::AuditKey;
use gongzhi_core::people::cipher::CipherProvider;
use gongzhi_core::people::id_number::IdNumber;
use gongzhi_core::people::registry::{
    AssignmentKind, Gender, NewAssignment, NewPartyMember, NewResidentRecord, PersonName, Phone, REVEALABLE_FIELDS,
    ResidentRecord, care_tags_text, parse_care_tags_text, sealed,
};
use serde::Serialize;
use serde_json::json;

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::registry::rows::{audit, insert_keyed, insert_plain, like_prefix, open, open_opt};
use crate::sql::Arg;

fn text(s: &str) -> Arg {
    Arg::Text(Some(s.to_string()))
}

/// The index under which an ID number is looked up (upper-case, as [`IdNumber`] keeps it).
pub fn id_number_index(cipher: &dyn CipherProvider, id: &IdNumber) -> String {
    cipher.index(sealed::RESIDENT_ID_NUMBER, id.as_str())
}

pub fn phone_index(cipher: &dyn CipherProvider, phone: &Phone) -> String {
    cipher.index(sealed::RESIDENT_PHONE, phone.as_str())
}

#[derive(sqlx::FromRow)]
struct ResidentRow {
    id: i64,
    household_id: i64,
    grid_code: String,
    community_code: String,
    street_code: String,
    name: String,
    gender: String,
    relation: String,
    residence: String,
    id_number_sealed: String,
    phone_sealed: Option<String>,
    registered_address_sealed: Option<String>,
    care_tags_sealed: String,
    party_member_sealed: String,
    revision: i64,
}

const RESIDENT_COLUMNS: &str = "id, household_id, grid_code, community_code, street_code, name, gender, relation, \
     residence, id_number_sealed, phone_sealed, registered_address_sealed, care_tags_sealed, party_member_sealed, revision";

fn corrupt(what: &'static str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: e.to_string(),
    }
}

impl ResidentRow {
    fn open(self, cipher: &dyn CipherProvider) -> Result<ResidentRecord, StoreError> {
        let tags = open(cipher, sealed::RESIDENT_CARE_TAGS, &self.care_tags_sealed)?;
        Ok(ResidentRecord {
            id: self.id,
            household_id: self.household_id,
            grid_code: self.grid_code,
            community_code: self.community_code,
            street_code: self.street_code,
            name: self.name,
            gender: Gender::from_str(&self.gender).map_err(|e| corrupt("resident gender", e))?,
            relation: FromStr::from_str(&self.relation).map_err(|e| corrupt("resident relation", e))?,
            residence: FromStr::from_str(&self.residence).map_err(|e| corrupt("resident residence", e))?,
            id_number: open(cipher, sealed::RESIDENT_ID_NUMBER, &self.id_number_sealed)?,
            phone: open_opt(cipher, sealed::RESIDENT_PHONE, &self.phone_sealed)?,
            registered_address: open_opt(
                cipher,
                sealed::RESIDENT_REGISTERED_ADDRESS,
                &self.registered_address_sealed,
            )?,
            care_tags: parse_care_tags_text(&tags).map_err(|e| corrupt("resident care tags", e))?,
            party_member: open(cipher, sealed::RESIDENT_PARTY_MEMBER, &self.party_member_sealed)? == "1",
            revision: self.revision,
        })
    }
}

/// The sealed columns of a resident, in `SEALED_COLUMNS` order.
fn sealed_args(cipher: &dyn CipherProvider, r: &NewResidentRecord) -> Vec<Arg> {
    vec![
        text(&cipher.seal_text(sealed::RESIDENT_ID_NUMBER, r.id_number.as_str())),
        text(&id_number_index(cipher, &r.id_number)),
        Arg::Text(
            r.phone
                .as_ref()
                .map(|p| cipher.seal_text(sealed::RESIDENT_PHONE, p.as_str())),
        ),
        Arg::Text(r.phone.as_ref().map(|p| phone_index(cipher, p))),
        Arg::Text(
            r.registered_address
                .as_deref()
                .map(|a| cipher.seal_text(sealed::RESIDENT_REGISTERED_ADDRESS, a)),
        ),
        text(&cipher.seal_text(sealed::RESIDENT_CARE_TAGS, &care_tags_text(&r.care_tags))),
        text(&cipher.seal_text(sealed::RESIDENT_PARTY_MEMBER, if r.party_member { "1" } else { "0" })),
    ]
}

const SEALED_COLUMNS: [&str; 7] = [
    "id_number_sealed",
    "id_number_index",
    "phone_sealed",
    "phone_index",
    "registered_address_sealed",
    "care_tags_sealed",
    "party_member_sealed",
];

/// Writes resident records inside `tx`, sealing their personal data, and returns their ids in
/// order. Each record's grid, community and street come from its household (an unknown household
/// is [`StoreError::Unknown`]); an ID number already in the registry (or twice in the batch) fails
/// the whole batch (a unique index). One audit entry for the batch, `registry.resident.add`,
/// with the count and `source` (e.g. `form`, `import`, `demo`), never personal data.
pub async fn insert_resident_records_tx(
    tx: &mut Tx,
    cipher: &dyn CipherProvider,
    key: &AuditKey,
    actor: &str,
    source: &str,
    records: &[NewResidentRecord],
) -> Result<Vec<i64>, StoreError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let mut household_ids: Vec<i64> = records.iter().map(|r| r.household_id).collect();
    household_ids.sort_unstable();
    household_ids.dedup();
    let mut places: HashMap<i64, (String, String, String)> = HashMap::with_capacity(household_ids.len());
    for chunk in household_ids.chunks(500) {
        let sql = format!(
            "SELECT id, grid_code, community_code, street_code FROM households WHERE id IN ({})",
            (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows: Vec<(i64, String, String, String)> = on_tx!(tx, conn => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(conn).await
        })?;
        places.extend(rows.into_iter().map(|(id, g, c, s)| (id, (g, c, s))));
    }
    let now = Utc::now();
    let mut rows = Vec::with_capacity(records.len());
    for r in records {
        let (grid, community, street) = places.get(&r.household_id).ok_or_else(|| StoreError::Unknown {
            what: "household",
            id: r.household_id.to_string(),
        })?;
        let mut args = vec![
            Arg::Int(r.household_id),
            text(grid),
            text(community),
            text(street),
            text(r.name.as_str()),
            text(Gender::of(&r.id_number).as_str()),
            text(r.relation.as_str()),
            text(r.residence.as_str()),
        ];
        let sealed = sealed_args(cipher, r);
        let index = match &sealed[1] {
            Arg::Text(Some(i)) => i.clone(),
            _ => unreachable!("the index is the second sealed column"),
        };
        args.extend(sealed);
        args.push(Arg::Time(Some(now)));
        args.push(Arg::Time(Some(now)));
        rows.push((index, args));
    }
    let mut columns = vec![
        "household_id",
        "grid_code",
        "community_code",
        "street_code",
        "name",
        "gender",
        "relation",
        "residence",
    ];
    columns.extend(SEALED_COLUMNS);
    columns.extend(["created_at", "updated_at"]);
    let ids = insert_keyed(tx, "resident_records", &columns, "id_number_index", &rows).await?;
    let subject = if records.len() == 1 {
        ids[0].to_string()
    } else {
        format!("{}..{}", ids.iter().min().unwrap_or(&0), ids.iter().max().unwrap_or(&0))
    };
    audit(
        tx,
        key,
        actor,
        "registry.resident.add",
        "resident_record",
        &subject,
        json!({"count": ids.len(), "source": source}),
    )
    .await?;
    Ok(ids)
}

/// What an edit changed: the names of the fields, never their values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    pub fields: Vec<&'static str>,
    pub revision: i64,
}

/// A party member as read back, sealed fields opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyMemberRecord {
    pub id: i64,
    pub party_organization_id: i64,
    pub residence_community_code: String,
    pub kind: String,
    pub employer_id: Option<i64>,
    pub name: String,
    pub id_number: String,
    pub phone: Option<String>,
    pub joined_on: Option<chrono::NaiveDate>,
    pub revision: i64,
}

#[derive(sqlx::FromRow)]
struct PartyMemberRow {
    id: i64,
    party_organization_id: i64,
    residence_community_code: String,
    kind: String,
    employer_id: Option<i64>,
    name_sealed: String,
    id_number_sealed: String,
    phone_sealed: Option<String>,
    joined_on_sealed: Option<String>,
    revision: i64,
}

/// Writes party members inside `tx`, sealing name, ID number and phone; returns their ids.
pub async fn insert_party_members_tx(
    tx: &mut Tx,
    cipher: &dyn CipherProvider,
    key: &AuditKey,
    actor: &str,
    members: &[NewPartyMember],
) -> Result<Vec<i64>, StoreError> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let rows: Vec<(String, Vec<Arg>)> = members
        .iter()
        .map(|m| {
            let index = cipher.index(sealed::PARTY_MEMBER_ID_NUMBER, m.id_number.as_str());
            (
                index.clone(),
                vec![
                    Arg::Int(m.party_organization_id),
                    text(&m.residence_community_code),
                    text(m.kind.as_str()),
                    Arg::MaybeInt(m.employer_id),
                    text(&cipher.seal_text(sealed::PARTY_MEMBER_NAME, m.name.as_str())),
                    text(&cipher.seal_text(sealed::PARTY_MEMBER_ID_NUMBER, m.id_number.as_str())),
                    text(&index),
                    Arg::Text(
                        m.phone
                            .as_ref()
                            .map(|p| cipher.seal_text(sealed::PARTY_MEMBER_PHONE, p.as_str())),
                    ),
                    Arg::Text(
                        m.phone
                            .as_ref()
                            .map(|p| cipher.index(sealed::PARTY_MEMBER_PHONE, p.as_str())),
                    ),
                    Arg::Date(m.checked_in_on),
                    Arg::Text(
                        m.joined_on
                            .map(|d| cipher.seal_text(sealed::PARTY_MEMBER_JOINED_ON, &d.to_string())),
                    ),
                    Arg::Time(Some(now)),
                ],
            )
        })
        .collect();
    let ids = insert_keyed(
        tx,
        "party_members",
        &[
            "party_organization_id",
            "residence_community_code",
            "kind",
            "employer_id",
            "name_sealed",
            "id_number_sealed",
            "id_number_index",
            "phone_sealed",
            "phone_index",
            "checked_in_on",
            "joined_on_sealed",
            "created_at",
        ],
        "id_number_index",
        &rows,
    )
    .await?;
    audit(
        tx,
        key,
        actor,
        "registry.party_member.add",
        "party_member",
        &ids[0].to_string(),
        json!({"count": ids.len()}),
    )
    .await?;
    Ok(ids)
}

/// Writes staff assignments inside `tx` (a chief's phone sealed); returns how many.
pub async fn insert_assignments_tx(
    tx: &mut Tx,
    cipher: &dyn CipherProvider,
    key: &AuditKey,
    actor: &str,
    assignments: &[NewAssignment],
) -> Result<u64, StoreError> {
    if assignments.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    let rows: Vec<Vec<Arg>> = assignments
        .iter()
        .map(|a| {
            vec![
                text(a.kind.as_str()),
                text(a.person_name.as_str()),
                Arg::Text(a.account.clone()),
                Arg::Text(
                    a.phone
                        .as_ref()
                        .map(|p| cipher.seal_text(sealed::ASSIGNMENT_PHONE, p.as_str())),
                ),
                text(&a.community_code),
                Arg::Text(a.grid_code.clone()),
                Arg::MaybeInt(a.building_id),
                Arg::MaybeInt(a.entrance_id),
                Arg::Time(Some(now)),
            ]
        })
        .collect();
    let n = insert_plain(
        tx,
        "staff_assignments",
        &[
            "kind",
            "person_name",
            "account",
            "phone_sealed",
            "community_code",
            "grid_code",
            "building_id",
            "entrance_id",
            "assigned_at",
        ],
        &rows,
    )
    .await?;
    audit(
        tx,
        key,
        actor,
        "registry.assignment.add",
        "staff_assignment",
        &assignments[0].community_code,
        json!({"count": n}),
    )
    .await?;
    Ok(n)
}

/// A staff assignment as read back (a chief's phone masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub id: i64,
    pub kind: String,
    pub person_name: String,
    pub account: Option<String>,
    pub phone_masked: Option<String>,
    pub grid_code: Option<String>,
    pub building_id: Option<i64>,
    pub entrance_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct AssignmentRow {
    id: i64,
    kind: String,
    person_name: String,
    account: Option<String>,
    phone_sealed: Option<String>,
    grid_code: Option<String>,
    building_id: Option<i64>,
    entrance_id: Option<i64>,
}

/// Counts of party members, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PartyMemberCounts {
    pub employed: i64,
    pub community: i64,
}

impl Db {
    /// Writes resident records in one transaction (see [`insert_resident_records_tx`]).
    pub async fn insert_resident_records(
        &self,
        cipher: &dyn CipherProvider,
        key: &AuditKey,
        actor: &str,
        source: &str,
        records: &[NewResidentRecord],
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin().await?;
        let ids = insert_resident_records_tx(&mut tx, cipher, key, actor, source, records).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// One resident record, opened. For masking into lists, or for a full view only through
    /// [`Db::reveal_resident`].
    pub async fn resident_record(
        &self,
        cipher: &dyn CipherProvider,
        id: i64,
    ) -> Result<Option<ResidentRecord>, StoreError> {
        let sql = format!("SELECT {RESIDENT_COLUMNS} FROM resident_records WHERE id = $1");
        let row: Option<ResidentRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
        row.map(|r| r.open(cipher)).transpose()
    }

    /// The people of a household, the head first.
    pub async fn residents_of_household(
        &self,
        cipher: &dyn CipherProvider,
        household_id: i64,
    ) -> Result<Vec<ResidentRecord>, StoreError> {
        let sql = format!(
            "SELECT {RESIDENT_COLUMNS} FROM resident_records WHERE household_id = $1 \
             ORDER BY CASE WHEN relation = 'head' THEN 0 ELSE 1 END, id"
        );
        let rows: Vec<ResidentRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(household_id).fetch_all(p).await)?;
        rows.into_iter().map(|r| r.open(cipher)).collect()
    }

    /// The resident with this exact ID number, through its keyed index.
    pub async fn find_resident_by_id_number(
        &self,
        cipher: &dyn CipherProvider,
        id: &IdNumber,
    ) -> Result<Option<ResidentRecord>, StoreError> {
        let sql = format!("SELECT {RESIDENT_COLUMNS} FROM resident_records WHERE id_number_index = $1");
        let row: Option<ResidentRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id_number_index(cipher, id)).fetch_optional(p).await)?;
        row.map(|r| r.open(cipher)).transpose()
    }

    /// The residents with this exact phone number, through its keyed index.
    pub async fn find_residents_by_phone(
        &self,
        cipher: &dyn CipherProvider,
        phone: &Phone,
    ) -> Result<Vec<ResidentRecord>, StoreError> {
        let sql =
            format!("SELECT {RESIDENT_COLUMNS} FROM resident_records WHERE phone_index = $1 ORDER BY id LIMIT 100");
        let rows: Vec<ResidentRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(phone_index(cipher, phone)).fetch_all(p).await)?;
        rows.into_iter().map(|r| r.open(cipher)).collect()
    }

    /// Which of these ID numbers the registry already holds, with the record's id (for an
    /// import to report duplicates row by row before writing anything).
    pub async fn resident_ids_by_id_numbers(
        &self,
        cipher: &dyn CipherProvider,
        ids: &[IdNumber],
    ) -> Result<HashMap<String, i64>, StoreError> {
        let by_index: HashMap<String, String> = ids
            .iter()
            .map(|i| (id_number_index(cipher, i), i.as_str().to_string()))
            .collect();
        self.ids_by_index("resident_records", by_index).await
    }

    /// Which of these ID numbers are registered party members already, with the member's id.
    pub async fn party_member_ids_by_id_numbers(
        &self,
        cipher: &dyn CipherProvider,
        ids: &[IdNumber],
    ) -> Result<HashMap<String, i64>, StoreError> {
        let by_index: HashMap<String, String> = ids
            .iter()
            .map(|i| {
                (
                    cipher.index(sealed::PARTY_MEMBER_ID_NUMBER, i.as_str()),
                    i.as_str().to_string(),
                )
            })
            .collect();
        self.ids_by_index("party_members", by_index).await
    }

    /// A party member with the sealed fields opened (for those who may see party data).
    pub async fn party_member(
        &self,
        cipher: &dyn CipherProvider,
        id: i64,
    ) -> Result<Option<PartyMemberRecord>, StoreError> {
        let row: Option<PartyMemberRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, party_organization_id, residence_community_code, kind, employer_id, name_sealed, \
             id_number_sealed, phone_sealed, joined_on_sealed, revision FROM party_members WHERE id = $1")
            .bind(id).fetch_optional(p).await)?;
        row.map(|r| {
            Ok(PartyMemberRecord {
                id: r.id,
                party_organization_id: r.party_organization_id,
                residence_community_code: r.residence_community_code,
                kind: r.kind,
                employer_id: r.employer_id,
                name: open(cipher, sealed::PARTY_MEMBER_NAME, &r.name_sealed)?,
                id_number: open(cipher, sealed::PARTY_MEMBER_ID_NUMBER, &r.id_number_sealed)?,
                phone: open_opt(cipher, sealed::PARTY_MEMBER_PHONE, &r.phone_sealed)?,
                joined_on: open_opt(cipher, sealed::PARTY_MEMBER_JOINED_ON, &r.joined_on_sealed)?
                    .and_then(|d| d.parse().ok()),
                revision: r.revision,
            })
        })
        .transpose()
    }

    /// The rows of `table` whose `id_number_index` is a key of `by_index`: the ID number (the
    /// value) with the row's id.
    async fn ids_by_index(
        &self,
        table: &'static str,
        mut by_index: HashMap<String, String>,
    ) -> Result<HashMap<String, i64>, StoreError> {
        let indexes: Vec<String> = by_index.keys().cloned().collect();
        let mut found = HashMap::new();
        for chunk in indexes.chunks(500) {
            let sql = format!(
                "SELECT id_number_index, id FROM {table} WHERE id_number_index IN ({})",
                (1..=chunk.len())
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let rows: Vec<(String, i64)> = on_pool!(self, p => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
                for i in chunk {
                    q = q.bind(i.clone());
                }
                q.fetch_all(p).await
            })?;
            for (index, id) in rows {
                if let Some(number) = by_index.remove(&index) {
                    found.insert(number, id);
                }
            }
        }
        Ok(found)
    }

    /// Residents of a subtree (`within`: a territory code's subtree prefix) whose name contains
    /// `name`, by name; at most `limit`.
    pub async fn search_residents_by_name(
        &self,
        cipher: &dyn CipherProvider,
        within: &str,
        name: &str,
        limit: i64,
    ) -> Result<Vec<ResidentRecord>, StoreError> {
        let sql = format!(
            "SELECT {RESIDENT_COLUMNS} FROM resident_records WHERE grid_code LIKE $1 AND name LIKE $2 ORDER BY name, id LIMIT $3"
        );
        let rows: Vec<ResidentRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(like_prefix(within)).bind(crate::registry::rows::like_contains(name)).bind(limit).fetch_all(p).await)?;
        rows.into_iter().map(|r| r.open(cipher)).collect()
    }

    /// Replaces a resident's fields (the household stays), if the record is still at
    /// `revision`; audited with the names of the fields that changed (never their values).
    pub async fn update_resident_record(
        &self,
        cipher: &dyn CipherProvider,
        key: &AuditKey,
        actor: &str,
        id: i64,
        revision: i64,
        new: &NewResidentRecord,
    ) -> Result<Changed, StoreError> {
        let old = self
            .resident_record(cipher, id)
            .await?
            .ok_or_else(|| StoreError::Unknown {
                what: "resident record",
                id: id.to_string(),
            })?;
        let mut fields = Vec::new();
        let mut check = |name: &'static str, same: bool| {
            if !same {
                fields.push(name);
            }
        };
        check("name", old.name == new.name.as_str());
        check("id_number", old.id_number == new.id_number.as_str());
        check("phone", old.phone.as_deref() == new.phone.as_ref().map(|p| p.as_str()));
        check("relation", old.relation == new.relation);
        check("residence", old.residence == new.residence);
        check("registered_address", old.registered_address == new.registered_address);
        check("care_tags", old.care_tags == new.care_tags);
        check("party_member", old.party_member == new.party_member);
        if fields.is_empty() {
            return Ok(Changed { fields, revision });
        }
        let mut tx = self.begin().await?;
        let mut args = vec![
            text(new.name.as_str()),
            text(Gender::of(&new.id_number).as_str()),
            text(new.relation.as_str()),
            text(new.residence.as_str()),
        ];
        args.extend(sealed_args(cipher, new));
        args.push(Arg::Time(Some(Utc::now())));
        args.push(Arg::Int(id));
        args.push(Arg::Int(revision));
        let sql = "UPDATE resident_records SET name = $1, gender = $2, relation = $3, residence = $4, \
                   id_number_sealed = $5, id_number_index = $6, phone_sealed = $7, phone_index = $8, \
                   registered_address_sealed = $9, care_tags_sealed = $10, party_member_sealed = $11, \
                   updated_at = $12, revision = revision + 1 WHERE id = $13 AND revision = $14";
        let n = on_tx!(&mut tx, conn => crate::sql::bind_args!(sqlx::query(sql), &args)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if n != 1 {
            return Err(StoreError::Conflict {
                what: "resident record",
                id: id.to_string(),
            });
        }
        audit(
            &mut tx,
            key,
            actor,
            "registry.resident.edit",
            "resident_record",
            &id.to_string(),
            json!({"fields": fields}),
        )
        .await?;
        tx.commit().await?;
        Ok(Changed {
            fields,
            revision: revision + 1,
        })
    }

    /// A full view (查看完整信息): records who, when, why and which fields in the audit record,
    /// in its own transaction that changes nothing else, then returns the record opened. The
    /// caller checks the role and scope and that a reason was stated
    /// ([`gongzhi_core::people::registry::reveal_reason`]).
    pub async fn reveal_resident(
        &self,
        cipher: &dyn CipherProvider,
        key: &AuditKey,
        actor: &str,
        id: i64,
        reason: &str,
    ) -> Result<Option<ResidentRecord>, StoreError> {
        let Some(record) = self.resident_record(cipher, id).await? else {
            return Ok(None);
        };
        let mut tx = self.begin().await?;
        audit(
            &mut tx,
            key,
            actor,
            "registry.resident.reveal",
            "resident_record",
            &id.to_string(),
            json!({"reason": reason, "fields": REVEALABLE_FIELDS, "household_id": record.household_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(record))
    }

    /// Writes party members in one transaction (see [`insert_party_members_tx`]).
    pub async fn insert_party_members(
        &self,
        cipher: &dyn CipherProvider,
        key: &AuditKey,
        actor: &str,
        members: &[NewPartyMember],
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin().await?;
        let ids = insert_party_members_tx(&mut tx, cipher, key, actor, members).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Party members living in a subtree (by residence community), by kind.
    pub async fn party_member_counts(&self, within: &str) -> Result<PartyMemberCounts, StoreError> {
        let rows: Vec<(String, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT kind, COUNT(*) FROM party_members WHERE residence_community_code LIKE $1 GROUP BY kind")
            .bind(like_prefix(within)).fetch_all(p).await)?;
        let mut c = PartyMemberCounts::default();
        for (kind, n) in rows {
            match kind.as_str() {
                "employed" => c.employed = n,
                _ => c.community += n,
            }
        }
        Ok(c)
    }

    /// Writes staff assignments in one transaction (see [`insert_assignments_tx`]).
    pub async fn insert_assignments(
        &self,
        cipher: &dyn CipherProvider,
        key: &AuditKey,
        actor: &str,
        assignments: &[NewAssignment],
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let n = insert_assignments_tx(&mut tx, cipher, key, actor, assignments).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The chiefs of a building and its entrances, and the grid workers of its grid.
    /// Sets the chief of a building (`entrance_id` none: 楼长) or of one of its entrances (单元长),
    /// replacing whoever held it, or clears it (`chief` none); the phone sealed. One transaction
    /// with its audit entry `registry.assignment.set` (the building, the entrance, the kind and the
    /// names of the fields, never a phone).
    #[allow(clippy::too_many_arguments)]
    pub async fn set_chief(
        &self,
        cipher: &dyn CipherProvider,
        key: &AuditKey,
        actor: &str,
        building_id: i64,
        entrance_id: Option<i64>,
        community_code: &str,
        grid_code: &str,
        chief: Option<(&PersonName, Option<&Phone>)>,
    ) -> Result<(), StoreError> {
        let kind = match entrance_id {
            None => AssignmentKind::BuildingChief,
            Some(_) => AssignmentKind::EntranceChief,
        };
        let mut tx = self.begin().await?;
        let removed = on_tx!(&mut tx, conn => sqlx::query(
            "DELETE FROM staff_assignments WHERE building_id = $1 AND kind = $2 \
             AND ((entrance_id IS NULL AND $3 IS NULL) OR entrance_id = $3)")
            .bind(building_id).bind(kind.as_str()).bind(entrance_id).execute(conn).await.map(|r| r.rows_affected()))?;
        if let Some((name, phone)) = chief {
            on_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO staff_assignments (kind, person_name, account, phone_sealed, community_code, grid_code, \
                 building_id, entrance_id, assigned_at) VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8)")
                .bind(kind.as_str())
                .bind(name.as_str())
                .bind(phone.map(|p| cipher.seal_text(sealed::ASSIGNMENT_PHONE, p.as_str())))
                .bind(community_code)
                .bind(grid_code)
                .bind(building_id)
                .bind(entrance_id)
                .bind(Utc::now())
                .execute(conn).await.map(|r| r.rows_affected()))?;
        }
        audit(
            &mut tx,
            key,
            actor,
            "registry.assignment.set",
            "building",
            &building_id.to_string(),
            json!({
                "kind": kind.as_str(),
                "entrance_id": entrance_id,
                "replaced": removed,
                "fields": if chief.is_some() { json!(["person_name", "phone"]) } else { json!([]) },
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn assignments_at_building(
        &self,
        cipher: &dyn CipherProvider,
        building_id: i64,
        grid_code: &str,
    ) -> Result<Vec<Assignment>, StoreError> {
        let rows: Vec<AssignmentRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, kind, person_name, account, phone_sealed, grid_code, building_id, entrance_id \
             FROM staff_assignments WHERE building_id = $1 OR (kind = 'grid_worker' AND grid_code = $2) ORDER BY kind, id")
            .bind(building_id).bind(grid_code).fetch_all(p).await)?;
        rows.into_iter()
            .map(|r| {
                let phone = open_opt(cipher, sealed::ASSIGNMENT_PHONE, &r.phone_sealed)?;
                Ok(Assignment {
                    id: r.id,
                    kind: r.kind,
                    person_name: r.person_name,
                    account: r.account,
                    phone_masked: phone.as_deref().map(gongzhi_core::people::masking::mask_phone),
                    grid_code: r.grid_code,
                    building_id: r.building_id,
                    entrance_id: r.entrance_id,
                })
            })
            .collect()
    }
}
