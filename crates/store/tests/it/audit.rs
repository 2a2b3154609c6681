//! The audit record on both databases: appends ride the caller's transaction, concurrent
//! writers never fork the chain, and an attacker who can write the table but lacks the key is
//! caught at the entry they touched.

use std::time::Instant;

use chrono::Utc;
use gongzhi_core::audit::{AuditEntry, AuditKey, BrokenReason, Head, NewAuditEntry, Verdict, canonical_json};
use gongzhi_store::audit::{append, entries, head, verify, verify_from};
use gongzhi_store::testing::{TestDb, audit_key};
use gongzhi_store::{Db, Tx};
use serde_json::json;
use sm3::Digest;

fn change(i: usize) -> NewAuditEntry {
    NewAuditEntry::new(
        Utc::now(),
        "dispatcher",
        "case.dispatch",
        "case",
        format!("20261127{i:05}"),
        json!({"to": "230902001", "note": "道路积雪", "i": i, "ratio": 0.1 + 0.2}),
    )
    .unwrap()
}

/// Appends `n` entries, `per_tx` to a transaction.
async fn record(db: &Db, key: &AuditKey, n: usize, per_tx: usize) {
    let mut done = 0;
    while done < n {
        let mut tx = db.begin().await.unwrap();
        for _ in 0..per_tx.min(n - done) {
            done += 1;
            append(&mut tx, key, change(done)).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
}

/// SQL run straight on the database, as someone who can write the tables (but has no key).
async fn attacker(db: &Db, sql: &str) -> Result<u64, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match db {
        Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
        Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
    }
}

/// The attacker owns the schema, so they can drop the append-only triggers first.
async fn drop_guards(db: &Db) {
    let statements: &[&str] = match db {
        Db::Sqlite(_) => &[
            "DROP TRIGGER audit_entries_no_update",
            "DROP TRIGGER audit_entries_no_delete",
        ],
        Db::Postgres(_) => &["DROP TRIGGER audit_entries_no_change ON audit_entries"],
    };
    for s in statements {
        attacker(db, s).await.unwrap();
    }
}

fn broken(at: i64, reason: BrokenReason) -> Verdict {
    Verdict::Broken { broken_at: at, reason }
}

#[tokio::test]
async fn an_append_in_a_transaction_that_rolls_back_leaves_no_entry() {
    for db in TestDb::all().await {
        let key = audit_key();
        let mut tx = db.begin().await.unwrap();
        let sealed = append(&mut tx, &key, change(1)).await.unwrap();
        assert_eq!(sealed.seq, 1);
        drop(tx); // rolled back, as when the change it records fails
        assert_eq!(head(&db).await.unwrap().seq, 0, "{}", db.backend_name());
        assert!(entries(&db, 0, 10).await.unwrap().is_empty());

        // The next committed entry takes number 1: no gap where the rolled-back one was.
        let mut tx: Tx = db.begin().await.unwrap();
        let sealed = append(&mut tx, &key, change(2)).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(sealed.seq, 1);
        let stored = entries(&db, 0, 10).await.unwrap();
        assert_eq!(stored, vec![sealed.clone()], "{}: read back differs", db.backend_name());
        assert_eq!(
            verify(&db, &key).await.unwrap(),
            Verdict::Intact {
                entries: 1,
                head: sealed.mac
            }
        );
    }
}

#[tokio::test]
async fn the_database_itself_refuses_to_change_or_remove_an_entry() {
    for db in TestDb::all().await {
        record(&db, &audit_key(), 3, 3).await;
        assert!(
            attacker(&db, "UPDATE audit_entries SET actor = 'x' WHERE seq = 2")
                .await
                .is_err()
        );
        assert!(attacker(&db, "DELETE FROM audit_entries WHERE seq = 3").await.is_err());
        assert_eq!(entries(&db, 0, 10).await.unwrap().len(), 3, "{}", db.backend_name());
        assert!(verify(&db, &audit_key()).await.unwrap().is_intact());
    }
}

#[tokio::test]
async fn a_row_changed_in_the_table_is_found_at_its_seq() {
    for db in TestDb::all().await {
        record(&db, &audit_key(), 6, 2).await;
        drop_guards(&db).await;
        assert_eq!(
            attacker(
                &db,
                "UPDATE audit_entries SET detail = '{\"to\":\"230902009\"}' WHERE seq = 4"
            )
            .await
            .unwrap(),
            1
        );
        assert_eq!(
            verify(&db, &audit_key()).await.unwrap(),
            broken(4, BrokenReason::MacMismatch),
            "{}",
            db.backend_name()
        );
        // With another key even the untouched start of the chain is refused.
        let other = AuditKey::from_bytes(&[9; 32]).unwrap();
        assert_eq!(verify(&db, &other).await.unwrap(), broken(1, BrokenReason::MacMismatch));
    }
}

#[tokio::test]
async fn a_deleted_row_is_found() {
    for db in TestDb::all().await {
        record(&db, &audit_key(), 6, 6).await;
        drop_guards(&db).await;
        attacker(&db, "DELETE FROM audit_entries WHERE seq = 3").await.unwrap();
        assert_eq!(
            verify(&db, &audit_key()).await.unwrap(),
            broken(3, BrokenReason::SeqGap { expected: 3, found: 4 }),
            "{}",
            db.backend_name()
        );
    }
    // Removing the newest entries leaves a shorter chain that is valid in itself; the head
    // row, kept in the same transactions, shows the cut.
    for db in TestDb::all().await {
        record(&db, &audit_key(), 6, 6).await;
        drop_guards(&db).await;
        attacker(&db, "DELETE FROM audit_entries WHERE seq > 4").await.unwrap();
        assert_eq!(
            verify(&db, &audit_key()).await.unwrap(),
            broken(5, BrokenReason::Truncated { last: 4, head: 6 }),
            "{}",
            db.backend_name()
        );
    }
}

#[tokio::test]
async fn recomputing_a_plain_hash_cannot_forge_an_entry() {
    for db in TestDb::all().await {
        record(&db, &audit_key(), 5, 1).await;
        drop_guards(&db).await;
        // The attacker knows the canonical form (it is documented) and rewrites entry 3, then
        // "repairs" the chain with SM3, without the key, re-linking entry 4 to it.
        let mut e: AuditEntry = entries(&db, 2, 1).await.unwrap().remove(0);
        e.actor = "nobody".into();
        e.detail = json!({"to": "230902009"});
        let prev = hex::decode(&e.prev_mac).unwrap();
        let forged = hex::encode(sm3::Sm3::digest([prev.as_slice(), e.canonical().as_bytes()].concat()));
        attacker(
            &db,
            &format!(
                "UPDATE audit_entries SET actor = 'nobody', detail = '{}', mac = '{forged}' WHERE seq = 3",
                canonical_json(&e.detail)
            ),
        )
        .await
        .unwrap();
        attacker(
            &db,
            &format!("UPDATE audit_entries SET prev_mac = '{forged}' WHERE seq = 4"),
        )
        .await
        .unwrap();
        assert_eq!(
            verify(&db, &audit_key()).await.unwrap(),
            broken(3, BrokenReason::MacMismatch),
            "{}",
            db.backend_name()
        );
    }
}

#[tokio::test]
async fn concurrent_writers_never_fork_the_chain() {
    const WRITERS: usize = 8;
    const EACH: usize = 25;
    for db in TestDb::all().await {
        let started = Instant::now();
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                let db = db.db.clone();
                tokio::spawn(async move {
                    let key = audit_key();
                    let mut seqs = Vec::new();
                    for i in 0..EACH {
                        let mut tx = db.begin().await.unwrap();
                        let e = append(&mut tx, &key, change(w * 1000 + i)).await.unwrap();
                        // Hold the transaction open a moment, so that writers really overlap.
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                        tx.commit().await.unwrap();
                        seqs.push(e.seq);
                    }
                    seqs
                })
            })
            .collect();
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.extend(t.await.unwrap());
        }
        seqs.sort();
        let n = (WRITERS * EACH) as i64;
        assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "{}", db.backend_name());
        let verdict = verify(&db, &audit_key()).await.unwrap();
        assert!(
            matches!(verdict, Verdict::Intact { entries, .. } if entries == n as u64),
            "{}: {verdict:?}",
            db.backend_name()
        );
        eprintln!(
            "{}: {n} appends by {WRITERS} concurrent writers in {:.2} s",
            db.backend_name(),
            started.elapsed().as_secs_f64()
        );
    }
}

#[tokio::test]
async fn ten_thousand_entries_verify_quickly() {
    const N: usize = 10_000;
    for db in TestDb::all().await {
        let key = audit_key();
        let started = Instant::now();
        record(&db, &key, N, 500).await;
        let appended = started.elapsed();
        let started = Instant::now();
        let verdict = verify(&db, &key).await.unwrap();
        let verified = started.elapsed();
        assert!(
            matches!(verdict, Verdict::Intact { entries, .. } if entries == N as u64),
            "{verdict:?}"
        );
        eprintln!(
            "{}: appended {N} entries in {:.2} s ({:.0}/s, 500 per transaction); verified in {:.3} s ({:.0}/s)",
            db.backend_name(),
            appended.as_secs_f64(),
            N as f64 / appended.as_secs_f64(),
            verified.as_secs_f64(),
            N as f64 / verified.as_secs_f64()
        );
        // Generous for a debug build on a busy 2-core machine; measured figures are far lower.
        assert!(verified.as_secs() < 10, "verifying took {verified:?}");
    }
}

#[test]
fn no_code_updates_or_deletes_an_audit_entry() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let forbidden = regex_free_patterns();
    let mut checked = 0;
    let mut stack = vec![root.join("src"), root.join("migrations")];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Collapse whitespace and case, so that line breaks or spacing cannot hide a statement.
        let flat = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase();
        for f in &forbidden {
            assert!(!flat.contains(f), "{} contains {f:?}", path.display());
        }
        // An upsert would rewrite an entry: no insert into the record may carry ON CONFLICT
        // (other tables may, e.g. the daily case numbers).
        for (at, _) in flat.match_indices("into audit_entries") {
            let statement = flat[at..].split(['"', ';']).next().unwrap_or("");
            assert!(
                !statement.contains("on conflict"),
                "{} upserts into audit_entries",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} files checked");
}

/// Every way SQL can change or remove rows of `audit_entries`.
fn regex_free_patterns() -> Vec<&'static str> {
    vec![
        "update audit_entries",
        "update \"audit_entries\"",
        "delete from audit_entries",
        "delete from \"audit_entries\"",
        "truncate audit_entries",
        "truncate table audit_entries",
        "drop table audit_entries",
        "insert or replace into audit_entries",
        "replace into audit_entries",
    ]
}

/// The end of the record as a checkpoint written now would keep it.
async fn anchor_now(db: &Db) -> Head {
    head(db).await.unwrap()
}

/// The attacker cuts the record back to `keep` entries and rewrites the head row to match, so
/// that the shorter chain is valid in itself.
async fn cut_back(db: &Db, keep: i64) {
    drop_guards(db).await;
    attacker(db, &format!("DELETE FROM audit_entries WHERE seq > {keep}"))
        .await
        .unwrap();
    let mac = if keep == 0 {
        gongzhi_core::audit::GENESIS_MAC.to_string()
    } else {
        entries(db, keep - 1, 1).await.unwrap().remove(0).mac
    };
    attacker(
        db,
        &format!("UPDATE audit_head SET seq = {keep}, mac = '{mac}' WHERE id = 1"),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_cut_off_end_with_its_head_rewritten_is_found_against_the_checkpoint() {
    for db in TestDb::all().await {
        let key = audit_key();
        record(&db, &key, 8, 2).await;
        let anchor = anchor_now(&db).await;
        cut_back(&db, 5).await;
        // The chain and its head row agree: without an anchor outside the database this passed.
        assert!(verify(&db, &key).await.unwrap().is_intact(), "{}", db.backend_name());
        let expected = broken(6, BrokenReason::BehindCheckpoint { last: 5, checkpoint: 8 });
        for full in [false, true] {
            let v = verify_from(&db, &key, Some(&anchor), full).await.unwrap();
            assert_eq!(v.verdict, expected, "{} full={full}", db.backend_name());
        }
    }
}

#[tokio::test]
async fn a_record_rewritten_with_the_key_is_found_at_the_checkpoints_entry() {
    for db in TestDb::all().await {
        let key = audit_key();
        record(&db, &key, 6, 1).await;
        let anchor = anchor_now(&db).await;
        // Someone who holds the key cuts back to 3 and writes three other entries.
        cut_back(&db, 3).await;
        record(&db, &key, 3, 1).await;
        assert!(verify(&db, &key).await.unwrap().is_intact());
        for full in [false, true] {
            let v = verify_from(&db, &key, Some(&anchor), full).await.unwrap();
            assert_eq!(
                v.verdict,
                broken(6, BrokenReason::CheckpointMismatch),
                "{} full={full}",
                db.backend_name()
            );
        }
    }
}

#[tokio::test]
async fn verification_from_a_checkpoint_checks_its_entry_and_what_follows() {
    for db in TestDb::all().await {
        let key = audit_key();
        record(&db, &key, 6, 3).await;
        let anchor = anchor_now(&db).await;
        record(&db, &key, 4, 2).await;
        let v = verify_from(&db, &key, Some(&anchor), false).await.unwrap();
        assert!(
            matches!(v.verdict, Verdict::Intact { entries: 10, .. }),
            "{}: {v:?}",
            db.backend_name()
        );
        assert_eq!((v.from, v.checked), (6, 5));
        let all = verify_from(&db, &key, Some(&anchor), true).await.unwrap();
        assert_eq!((all.from, all.checked, &all.verdict), (1, 10, &v.verdict));

        drop_guards(&db).await;
        // A change before the checkpoint is for the full verification to find (it was checked
        // when the checkpoint was written); one at or after it is found either way.
        attacker(&db, "UPDATE audit_entries SET actor = 'admin' WHERE seq = 2")
            .await
            .unwrap();
        assert!(
            verify_from(&db, &key, Some(&anchor), false)
                .await
                .unwrap()
                .verdict
                .is_intact()
        );
        assert_eq!(
            verify_from(&db, &key, Some(&anchor), true).await.unwrap().verdict,
            broken(2, BrokenReason::MacMismatch)
        );
        attacker(&db, "UPDATE audit_entries SET actor = 'admin' WHERE seq = 6")
            .await
            .unwrap();
        assert_eq!(
            verify_from(&db, &key, Some(&anchor), false).await.unwrap().verdict,
            broken(6, BrokenReason::MacMismatch)
        );
        // The checkpoint's own entry removed: the whole chain is checked, and says where.
        attacker(&db, "DELETE FROM audit_entries WHERE seq = 6").await.unwrap();
        assert_eq!(
            verify_from(&db, &key, Some(&anchor), false).await.unwrap().verdict,
            broken(2, BrokenReason::MacMismatch)
        );
    }
}

#[tokio::test]
async fn a_malformed_entry_is_named_not_a_database_error() {
    for db in TestDb::all().await {
        let key = audit_key();
        record(&db, &key, 6, 6).await;
        drop_guards(&db).await;
        attacker(&db, "UPDATE audit_entries SET detail = 'not json' WHERE seq = 5")
            .await
            .unwrap();
        let verdict = verify(&db, &key).await.unwrap();
        assert!(
            matches!(&verdict, Verdict::Broken { broken_at: 5, reason: BrokenReason::Malformed { detail } } if detail.starts_with("detail: ")),
            "{}: {verdict:?}",
            db.backend_name()
        );
        // A time that is not one: text on SQLite, infinity on PostgreSQL (which its decoder
        // would panic on).
        let odd_time = match *db {
            Db::Sqlite(_) => "UPDATE audit_entries SET at = 'yesterday' WHERE seq = 4",
            Db::Postgres(_) => "UPDATE audit_entries SET at = 'infinity' WHERE seq = 4",
        };
        attacker(&db, odd_time).await.unwrap();
        let verdict = verify(&db, &key).await.unwrap();
        assert!(
            matches!(&verdict, Verdict::Broken { broken_at: 4, reason: BrokenReason::Malformed { detail } } if detail.starts_with("at: ")),
            "{}: {verdict:?}",
            db.backend_name()
        );
        attacker(&db, "UPDATE audit_entries SET mac = 'not a mac' WHERE seq = 2")
            .await
            .unwrap();
        assert_eq!(
            verify(&db, &key).await.unwrap(),
            broken(
                2,
                BrokenReason::Malformed {
                    detail: "mac is not 64 hex digits".into()
                }
            )
        );
    }
}

#[tokio::test]
async fn a_wiped_or_dropped_table_is_named_at_its_first_entry() {
    for db in TestDb::all().await {
        let key = audit_key();
        record(&db, &key, 4, 4).await;
        let anchor = anchor_now(&db).await;
        cut_back(&db, 0).await;
        assert_eq!(
            verify_from(&db, &key, Some(&anchor), false).await.unwrap().verdict,
            broken(1, BrokenReason::BehindCheckpoint { last: 0, checkpoint: 4 }),
            "{}",
            db.backend_name()
        );
        attacker(&db, "DROP TABLE audit_entries").await.unwrap();
        let missing = broken(
            1,
            BrokenReason::TableMissing {
                table: "audit_entries".into(),
            },
        );
        assert_eq!(verify(&db, &key).await.unwrap(), missing, "{}", db.backend_name());
        assert_eq!(
            verify_from(&db, &key, Some(&anchor), false).await.unwrap().verdict,
            missing
        );
    }
}
