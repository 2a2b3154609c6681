//! The SQLite and PostgreSQL migrations give the same schema: the same tables, the same columns
//! in each, the same named indexes (on the same table and columns, unique or not, partial or
//! not), the same primary keys and unique constraints, and the same tables guarded by triggers.
//! Types are not compared: each database spells them its own way (`TEXT`/`TIMESTAMPTZ` …).
//!
//! Left out on both sides: sqlx's `_sqlx_migrations` and SQLite's own `sqlite_%` objects. The
//! indexes PostgreSQL creates for PRIMARY KEY and UNIQUE constraints (`*_pkey`, `*_key`; SQLite's
//! `sqlite_autoindex_*`) are not compared by name but as the constraints they back. Triggers are
//! compared by the tables they guard, not by name: SQLite needs one trigger per event
//! (`audit_entries_no_update`, `audit_entries_no_delete`) where PostgreSQL has one for both
//! (`audit_entries_no_change`).

use std::collections::{BTreeMap, BTreeSet};

use gongzhi_store::Db;
use gongzhi_store::testing::TestDb;

/// What is compared of one database's schema.
#[derive(Debug, Default)]
struct Schema {
    /// Table → its column names.
    columns: BTreeMap<String, BTreeSet<String>>,
    /// Index name → `table(columns)` with ` unique` / ` partial`; `<expr>` for an expression.
    indexes: BTreeMap<String, String>,
    /// `table pk(columns)` and `table unique(columns)`.
    constraints: BTreeSet<String>,
    /// The tables that have at least one trigger.
    triggered: BTreeSet<String>,
}

/// Known differences between the two migration sets: `(what, name, reason)`, `what` one of
/// `table`, `column` (name `table.column`), `index`, `constraint` or `trigger`. Empty: the two
/// schemas agree in everything compared.
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[];

fn is_ignored_table(name: &str) -> bool {
    name == "_sqlx_migrations" || name.starts_with("sqlite_")
}

impl Schema {
    /// A schema of these `(table, column)` pairs, the ignored tables left out.
    fn with_columns(columns: Vec<(String, String)>) -> Schema {
        let mut s = Schema::default();
        for (table, column) in columns {
            if !is_ignored_table(&table) {
                s.columns.entry(table).or_default().insert(column);
            }
        }
        s
    }
}

async fn sqlite_schema(pool: &sqlx::SqlitePool) -> Schema {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut s = Schema::with_columns(columns);
    for table in s.columns.keys().cloned().collect::<Vec<_>>() {
        // origin: `c` CREATE INDEX, `u` UNIQUE constraint, `pk` PRIMARY KEY (not a rowid alias).
        let list: Vec<(String, bool, String, bool)> =
            sqlx::query_as("SELECT name, \"unique\" = 1, origin, partial = 1 FROM pragma_index_list($1)")
                .bind(&table)
                .fetch_all(pool)
                .await
                .unwrap();
        for (index, unique, origin, partial) in list {
            let columns: Vec<(Option<String>,)> =
                sqlx::query_as("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(pool)
                    .await
                    .unwrap();
            let columns = columns
                .into_iter()
                .map(|(c,)| c.unwrap_or_else(|| "<expr>".into()))
                .collect::<Vec<_>>()
                .join(",");
            match origin.as_str() {
                "c" => {
                    s.indexes.insert(index, describe(&table, &columns, unique, partial));
                }
                "u" => {
                    s.constraints.insert(format!("{table} unique({columns})"));
                }
                // A primary key is read from the table below, rowid alias or not.
                _ => {}
            }
        }
        let pk: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk")
            .bind(&table)
            .fetch_all(pool)
            .await
            .unwrap();
        if !pk.is_empty() {
            let pk: Vec<String> = pk.into_iter().map(|(c,)| c).collect();
            s.constraints.insert(format!("{table} pk({})", pk.join(",")));
        }
    }
    let triggered: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(pool)
            .await
            .unwrap();
    s.triggered = triggered.into_iter().map(|(t,)| t).collect();
    s
}

async fn postgres_schema(pool: &sqlx::PgPool) -> Schema {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut s = Schema::with_columns(columns);
    // Indexes of the public schema that back no constraint (`pg_indexes` names them).
    let indexes: Vec<(String, String, String, bool, bool)> = sqlx::query_as(
        "SELECT i.indexname::text, i.tablename::text, \
                (SELECT string_agg(COALESCE(a.attname::text, '<expr>'), ',' ORDER BY k.ord) \
                   FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord) \
                   LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum AND k.attnum > 0), \
                x.indisunique, x.indpred IS NOT NULL \
           FROM pg_indexes i \
           JOIN pg_class ic ON ic.relname = i.indexname \
           JOIN pg_namespace n ON n.oid = ic.relnamespace AND n.nspname = i.schemaname \
           JOIN pg_index x ON x.indexrelid = ic.oid \
          WHERE i.schemaname = 'public' \
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ic.oid)",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (index, table, columns, unique, partial) in indexes {
        if !is_ignored_table(&table) {
            s.indexes.insert(index, describe(&table, &columns, unique, partial));
        }
    }
    let constraints: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT t.relname::text, c.contype::text, \
                (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
                   FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord) \
                   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) \
           FROM pg_constraint c \
           JOIN pg_class t ON t.oid = c.conrelid \
           JOIN pg_namespace n ON n.oid = t.relnamespace \
          WHERE n.nspname = 'public' AND c.contype IN ('p', 'u')",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (table, kind, columns) in constraints {
        if !is_ignored_table(&table) {
            let kind = if kind == "p" { "pk" } else { "unique" };
            s.constraints.insert(format!("{table} {kind}({columns})"));
        }
    }
    let triggered: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT event_object_table::text FROM information_schema.triggers WHERE trigger_schema = 'public'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    s.triggered = triggered.into_iter().map(|(t,)| t).collect();
    s
}

fn describe(table: &str, columns: &str, unique: bool, partial: bool) -> String {
    let mut d = format!("{table}({columns})");
    if unique {
        d.push_str(" unique");
    }
    if partial {
        d.push_str(" partial");
    }
    d
}

/// Every difference between the two schemas, as `(what, name, how)`.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    let mut sets = |what: &'static str, a: BTreeSet<String>, b: BTreeSet<String>| {
        out.extend(
            a.difference(&b)
                .map(|n| (what, n.clone(), "only on SQLite".to_string())),
        );
        out.extend(
            b.difference(&a)
                .map(|n| (what, n.clone(), "only on PostgreSQL".to_string())),
        );
    };
    let tables = |s: &Schema| s.columns.keys().cloned().collect::<BTreeSet<_>>();
    sets("table", tables(sqlite), tables(postgres));
    // Columns of the tables both have: a missing table is said once, above.
    let columns = |s: &Schema| -> BTreeSet<String> {
        s.columns
            .iter()
            .filter(|(t, _)| sqlite.columns.contains_key(*t) && postgres.columns.contains_key(*t))
            .flat_map(|(t, cs)| cs.iter().map(move |c| format!("{t}.{c}")))
            .collect()
    };
    sets("column", columns(sqlite), columns(postgres));
    let names = |s: &Schema| s.indexes.keys().cloned().collect::<BTreeSet<_>>();
    sets("index", names(sqlite), names(postgres));
    sets("constraint", sqlite.constraints.clone(), postgres.constraints.clone());
    sets("trigger", sqlite.triggered.clone(), postgres.triggered.clone());
    for (name, on_sqlite) in &sqlite.indexes {
        if let Some(on_postgres) = postgres.indexes.get(name).filter(|p| *p != on_sqlite) {
            let how = format!("SQLite {on_sqlite}, PostgreSQL {on_postgres}");
            out.push(("index", name.clone(), how));
        }
    }
    out
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_give_the_same_schema() {
    let sqlite = TestDb::sqlite().await;
    let Some(postgres) = TestDb::postgres().await else {
        return;
    };
    let (Db::Sqlite(lite), Db::Postgres(pg)) = (&sqlite.db, &postgres.db) else {
        unreachable!("TestDb::sqlite is SQLite and TestDb::postgres PostgreSQL")
    };
    let (a, b) = (sqlite_schema(lite).await, postgres_schema(pg).await);
    // The comparison must have something to compare: the migrations ran on both.
    for s in [&a, &b] {
        for table in ["territory_nodes", "audit_entries", "cases", "resident_records"] {
            assert!(
                s.columns.contains_key(table),
                "no table {table}: {:?}",
                s.columns.keys()
            );
        }
        assert!(!s.indexes.is_empty() && !s.constraints.is_empty() && !s.triggered.is_empty());
    }

    let found = differences(&a, &b);
    let unexplained: Vec<String> = found
        .iter()
        .filter(|(what, name, _)| !KNOWN_DIFFERENCES.iter().any(|(w, n, _)| w == what && n == name))
        .map(|(what, name, how)| format!("{what} {name}: {how}"))
        .collect();
    assert!(
        unexplained.is_empty(),
        "the SQLite and PostgreSQL migrations differ (add a migration pair, or a known difference with its reason):\n{}",
        unexplained.join("\n")
    );
    // A known difference that is gone must leave the list too.
    let stale: Vec<&str> = KNOWN_DIFFERENCES
        .iter()
        .filter(|(w, n, _)| !found.iter().any(|(what, name, _)| what == w && name == n))
        .map(|(_, n, _)| *n)
        .collect();
    assert!(stale.is_empty(), "known differences no longer found: {stale:?}");
}
