//! What the sign-in policy keeps, on both databases: failures counted per user name and source
//! address, a lockout of that source only, ending by time or by an administrator, failures gone
//! quiet forgotten; API tokens that idle out and are revoked by a password change, a
//! deactivation or their holder.

use chrono::{Duration, Utc};
use gongzhi_core::audit::SYSTEM_ACTOR;
use gongzhi_core::people::credentials::{IssuedToken, token_hash};
use gongzhi_store::people::sessions::{Attempt, Failure, Lockout};
use gongzhi_store::testing::{TestDb, audit_key};

const RULE: Lockout = Lockout {
    failures: 5,
    window: Duration::minutes(30),
};

async fn account(db: &TestDb, username: &str) -> gongzhi_store::people::Account {
    db.create_account(username, username, None, &[], SYSTEM_ACTOR, &audit_key())
        .await
        .unwrap();
    db.account_by_username(username).await.unwrap().unwrap()
}

#[tokio::test]
async fn failures_lock_out_only_their_source_until_the_lockout_runs_out() {
    for db in TestDb::all().await {
        let name = db.backend_name();
        let secadmin = account(&db, "secadmin").await;
        let t0 = Utc::now();
        let from = |source, at| Attempt {
            username: "secadmin",
            source,
            at,
        };
        for n in 1..=4 {
            let f = db
                .record_failed_sign_in(from("198.51.100.66", t0), Some(&secadmin), RULE, &audit_key())
                .await
                .unwrap();
            assert_eq!(f, Failure::Counted(n), "{name}");
        }
        let f = db
            .record_failed_sign_in(from("198.51.100.66", t0), Some(&secadmin), RULE, &audit_key())
            .await
            .unwrap();
        assert_eq!(f, Failure::Locked(t0 + RULE.window), "{name}");
        assert!(
            db.sign_in_locked_until(from("198.51.100.66", t0 + Duration::minutes(29)))
                .await
                .unwrap()
                .is_some(),
            "{name}: locked for the window"
        );
        assert_eq!(
            db.sign_in_locked_until(from("203.0.113.10", t0)).await.unwrap(),
            None,
            "{name}: the owner's own address is not locked"
        );
        assert_eq!(
            db.sign_in_locked_until(from("198.51.100.66", t0 + Duration::minutes(31)))
                .await
                .unwrap(),
            None,
            "{name}: the lockout ends by time"
        );
        let locks = db.sign_in_locks(t0).await.unwrap();
        assert_eq!(locks.len(), 1, "{name}");
        assert_eq!(locks[0].0, "secadmin");
        assert_eq!(locks[0].1.source, "198.51.100.66");
        // After the lockout, counting starts again from one.
        let later = t0 + Duration::minutes(31);
        let f = db
            .record_failed_sign_in(from("198.51.100.66", later), Some(&secadmin), RULE, &audit_key())
            .await
            .unwrap();
        assert_eq!(f, Failure::Counted(1), "{name}");
    }
}

#[tokio::test]
async fn unknown_names_are_counted_and_locked_like_real_ones_and_quiet_failures_are_forgotten() {
    for db in TestDb::all().await {
        let name = db.backend_name();
        let t0 = Utc::now();
        let nobody = Attempt {
            username: "nobody",
            source: "198.51.100.66",
            at: t0,
        };
        for _ in 0..4 {
            db.record_failed_sign_in(nobody, None, RULE, &audit_key())
                .await
                .unwrap();
        }
        let f = db
            .record_failed_sign_in(nobody, None, RULE, &audit_key())
            .await
            .unwrap();
        assert_eq!(f, Failure::Locked(t0 + RULE.window), "{name}: as for a real account");
        let entries = gongzhi_store::audit::entries_about(&db, "account", "nobody")
            .await
            .unwrap();
        assert_eq!(entries.len(), 5, "{name}");
        assert!(entries.iter().all(|e| e.action == "people.sign_in_unknown"), "{name}");

        // Two failures, then quiet for longer than the window: the next one counts as the first.
        let quiet = Attempt {
            username: "clerk",
            source: "203.0.113.7",
            at: t0,
        };
        db.record_failed_sign_in(quiet, None, RULE, &audit_key()).await.unwrap();
        db.record_failed_sign_in(quiet, None, RULE, &audit_key()).await.unwrap();
        let after = Attempt {
            at: t0 + Duration::minutes(31),
            ..quiet
        };
        let f = db.record_failed_sign_in(after, None, RULE, &audit_key()).await.unwrap();
        assert_eq!(f, Failure::Counted(1), "{name}");
    }
}

#[tokio::test]
async fn tokens_idle_out_and_are_revoked_by_password_changes_deactivation_and_their_holder() {
    for db in TestDb::all().await {
        let name = db.backend_name();
        let key = audit_key();
        let clerk = account(&db, "clerk").await;
        let issue = |n: u8| {
            let db = &db;
            let clerk = &clerk;
            async move {
                let t = IssuedToken::from_random([n; 32]);
                db.insert_token(
                    &t.hash,
                    clerk,
                    "203.0.113.7",
                    Utc::now() + Duration::hours(12),
                    &audit_key(),
                )
                .await
                .unwrap();
                t.hash
            }
        };
        let live = |hash: String, idle: Duration| {
            let db = &db;
            async move { db.actor_for_token(&hash, Utc::now(), idle).await.unwrap().is_some() }
        };
        let hour = Duration::hours(1);

        let first = issue(1).await;
        assert!(live(first.clone(), hour).await, "{name}");
        assert!(
            !live(first.clone(), Duration::zero()).await,
            "{name}: unused for longer than the idle limit"
        );
        db.touch_token(&first, Utc::now() + Duration::seconds(5)).await.unwrap();
        assert!(
            live(first.clone(), Duration::seconds(1)).await,
            "{name}: touched, so live again"
        );

        // Its holder revokes it.
        assert_eq!(
            db.revoke_token(&first, Utc::now(), &key).await.unwrap().as_deref(),
            Some("clerk")
        );
        assert!(!live(first.clone(), hour).await, "{name}");
        assert_eq!(db.revoke_token(&first, Utc::now(), &key).await.unwrap(), None);
        assert_eq!(
            db.revoke_token(&token_hash("nothing"), Utc::now(), &key).await.unwrap(),
            None
        );

        // A password reset revokes every token of the account.
        let (a, b) = (issue(2).await, issue(3).await);
        db.set_password(&clerk, "hash", "admin", None, Utc::now(), &key)
            .await
            .unwrap();
        assert!(!live(a, hour).await && !live(b, hour).await, "{name}");

        // So does deactivation, and activating again does not bring them back.
        let c = issue(4).await;
        db.set_account_active(&clerk, false, "admin", Utc::now(), &key)
            .await
            .unwrap();
        db.set_account_active(&clerk, true, "admin", Utc::now(), &key)
            .await
            .unwrap();
        assert!(!live(c, hour).await, "{name}");
        let actions: Vec<String> = gongzhi_store::audit::entries_about(&db, "account", "clerk")
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(
            actions.contains(&"people.token.revoke".to_string()),
            "{name}: {actions:?}"
        );
    }
}
