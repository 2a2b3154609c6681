//! Re-sealing the registry's personal data under a new key (密钥更新): every sealed value is
//! opened with the old provider and sealed again with the new one, and every keyed index is
//! computed again, in one transaction with its audit entry, so that a failure (a value that does
//! not open, a crash) leaves everything as it was, under the old key.

use gongzhi_core::audit::AuditKey;
use gongzhi_core::people::cipher::CipherProvider;
use gongzhi_core::people::registry::sealed;
use serde::Serialize;
use serde_json::json;

use crate::db::Db;
use crate::error::StoreError;
use crate::registry::rows::audit;
use crate::sql::{Arg, bind_args};

/// A sealed column, and the keyed index column computed from the same value (if any).
struct SealedColumn {
    column: &'static str,
    context: &'static str,
    index: Option<&'static str>,
}

const fn col(column: &'static str, context: &'static str, index: Option<&'static str>) -> SealedColumn {
    SealedColumn { column, context, index }
}

/// Every sealed column of the schema, by table (docs/REGISTRY.md, "What is sealed and how").
const SEALED: [(&str, &[SealedColumn]); 4] = [
    (
        "resident_records",
        &[
            col("id_number_sealed", sealed::RESIDENT_ID_NUMBER, Some("id_number_index")),
            col("phone_sealed", sealed::RESIDENT_PHONE, Some("phone_index")),
            col("registered_address_sealed", sealed::RESIDENT_REGISTERED_ADDRESS, None),
            col("care_tags_sealed", sealed::RESIDENT_CARE_TAGS, None),
            col("party_member_sealed", sealed::RESIDENT_PARTY_MEMBER, None),
        ],
    ),
    ("households", &[col("room_sealed", sealed::HOUSEHOLD_ROOM, None)]),
    (
        "party_members",
        &[
            col("name_sealed", sealed::PARTY_MEMBER_NAME, None),
            col(
                "id_number_sealed",
                sealed::PARTY_MEMBER_ID_NUMBER,
                Some("id_number_index"),
            ),
            col("phone_sealed", sealed::PARTY_MEMBER_PHONE, Some("phone_index")),
            col("joined_on_sealed", sealed::PARTY_MEMBER_JOINED_ON, None),
        ],
    ),
    (
        "staff_assignments",
        &[col("phone_sealed", sealed::ASSIGNMENT_PHONE, None)],
    ),
];

/// Rows read and written at a time (inside the one transaction).
const BATCH: i64 = 2_000;

/// How many rows and values a rotation sealed again, per table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Rotated {
    pub tables: Vec<(String, u64)>,
    pub values: u64,
}

impl Db {
    /// Seals every personal value again under `new` (opened with `old`) and recomputes the keyed
    /// indexes, all in one transaction with the audit entry `registry.key.rotate` (counts only).
    /// `progress` hears each table's rows as they are done. A value `old` does not open fails the
    /// whole rotation, naming the table, column and row, and changes nothing.
    pub async fn rotate_personal_data_key(
        &self,
        old: &dyn CipherProvider,
        new: &dyn CipherProvider,
        key: &AuditKey,
        actor: &str,
        progress: &(dyn Fn(&str, u64) + Sync),
    ) -> Result<Rotated, StoreError> {
        let mut tx = self.begin().await?;
        let mut done = Rotated::default();
        for (table, columns) in SEALED {
            let names: Vec<&str> = columns.iter().map(|c| c.column).collect();
            let select = format!(
                "SELECT id, {} FROM {table} WHERE id > $1 ORDER BY id LIMIT {BATCH}",
                names.join(", ")
            );
            let mut sets: Vec<String> = Vec::new();
            for c in columns {
                sets.push(format!("{} = ${}", c.column, sets.len() + 1));
                if let Some(index) = c.index {
                    sets.push(format!("{index} = ${}", sets.len() + 1));
                }
            }
            let update = format!("UPDATE {table} SET {} WHERE id = ${}", sets.join(", "), sets.len() + 1);
            let (mut after, mut rows) = (0i64, 0u64);
            loop {
                let batch: Vec<(i64, Vec<Option<String>>)> = on_tx!(&mut tx, conn => {
                    use sqlx::Row;
                    sqlx::query(sqlx::AssertSqlSafe(select.clone())).bind(after).fetch_all(conn).await.map(|rs| {
                        rs.iter()
                            .map(|r| {
                                let values = (1..=columns.len()).map(|i| r.get::<Option<String>, _>(i)).collect();
                                (r.get::<i64, _>(0), values)
                            })
                            .collect()
                    })
                })?;
                if batch.is_empty() {
                    break;
                }
                for (id, values) in &batch {
                    let id = *id;
                    let mut args = Vec::with_capacity(sets.len() + 1);
                    for (c, value) in columns.iter().zip(values) {
                        let plain = match value {
                            None => None,
                            Some(s) => Some(old.open_text(c.context, s).map_err(|_| StoreError::Corrupt {
                                what: "sealed personal data",
                                detail: format!(
                                    "{table}.{} of row {id} does not open with the current key: nothing was changed",
                                    c.column
                                ),
                            })?),
                        };
                        if plain.is_some() {
                            done.values += 1;
                        }
                        args.push(Arg::Text(plain.as_deref().map(|p| new.seal_text(c.context, p))));
                        if c.index.is_some() {
                            args.push(Arg::Text(plain.as_deref().map(|p| new.index(c.context, p))));
                        }
                    }
                    args.push(Arg::Int(id));
                    on_tx!(&mut tx, conn => bind_args!(sqlx::query(sqlx::AssertSqlSafe(update.clone())), &args)
                        .execute(conn).await.map(|r| r.rows_affected()))?;
                    after = id;
                }
                rows += batch.len() as u64;
                progress(table, rows);
            }
            done.tables.push((table.to_string(), rows));
        }
        audit(
            &mut tx,
            key,
            actor,
            "registry.key.rotate",
            "personal_data_key",
            "personal_data",
            json!({"tables": done.tables, "values": done.values}),
        )
        .await?;
        tx.commit().await?;
        Ok(done)
    }
}
