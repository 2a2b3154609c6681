//! The `gongzhi` command as an operator uses it.

use std::process::Command;

use gongzhi_core::audit::SYSTEM_ACTOR;
use gongzhi_store::testing::{TestDb, audit_key};

fn gongzhi() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gongzhi"));
    c.env_remove("GONGZHI_DATABASE_URL")
        .env_remove("GONGZHI_DATA_DIR")
        .env_remove("GONGZHI_CONFIG")
        .env_remove("GONGZHI_AUDIT_KEY")
        .env_remove("GONGZHI_AUDIT_KEY_FILE")
        .env("GONGZHI_LOG", "warn");
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().expect("run gongzhi");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn help_documents_every_option() {
    let (code, out, _) = run(gongzhi().arg("--help"));
    assert_eq!(code, 0);
    for word in [
        "serve",
        "demo",
        "migrate",
        "import",
        "bench",
        "audit",
        "rules",
        "--config",
        "GONGZHI_CONFIG",
    ] {
        assert!(out.contains(word), "{word} missing from --help:\n{out}");
    }
    let (_, out, _) = run(gongzhi().args(["demo", "--help"]));
    for word in [
        "--listen",
        "--data-dir",
        "--database-url",
        "--seed",
        "--demo-cases",
        "--audit-key-file",
        "GONGZHI_LISTEN",
        "127.0.0.1:8080",
    ] {
        assert!(out.contains(word), "{word} missing from demo --help:\n{out}");
    }
}

#[test]
fn a_mistyped_config_file_is_named_with_its_line() {
    let dir = TestDb::temp_dir();
    let file = dir.join("gongzhi.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:9000\"\ndata_dri = \"/tmp/x\"\n").unwrap();
    let (code, _, err) = run(gongzhi().arg("--config").arg(&file).args(["migrate"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("gongzhi.toml") && err.contains("data_dri") && err.contains("line 2"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).ok();
}

const GOOD: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"230903011001901","name":"学府社区试点网格","households":120},
  "geometry":{"type":"Polygon","coordinates":[[[131.5,46.1],[131.51,46.1],[131.51,46.11],[131.5,46.11],[131.5,46.1]]]}}]}"#;

const BAD: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"230903011001902","name":"好网格","households":120},
  "geometry":{"type":"Polygon","coordinates":[[[131.5,46.1],[131.51,46.1],[131.51,46.11],[131.5,46.11],[131.5,46.1]]]}},
 {"type":"Feature","properties":{"code":"230903011001903","name":"坏网格","households":-5},
  "geometry":{"type":"Polygon","coordinates":[[[131.5,46.1],[131.51,46.1],[131.51,46.11],[131.5,46.11],[131.5,46.1]]]}}]}"#;

/// Every database the tests can reach, as a URL for the command line; the guards drop them.
async fn urls() -> Vec<(String, TestDb)> {
    TestDb::all().await.into_iter().map(|db| (db.url.clone(), db)).collect()
}

#[tokio::test]
async fn importing_grids_is_all_or_nothing_and_names_the_bad_feature() {
    for (url, db) in urls().await {
        db.insert_nodes(
            &gongzhi_demo::grids::build(&gongzhi_demo::grids::GridSystem::builtin().unwrap()).unwrap(),
            chrono::Utc::now(),
            &audit_key(),
            SYSTEM_ACTOR,
        )
        .await
        .unwrap();
        let dir = TestDb::temp_dir();
        let key_file = write_key_file(&dir);
        let bad = dir.join("bad.geojson");
        std::fs::write(&bad, BAD).unwrap();
        let (code, _, err) = run(gongzhi()
            .args(["import", "grids"])
            .arg(&bad)
            .args(["--database-url", &url])
            .arg("--audit-key-file")
            .arg(&key_file));
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("bad.geojson") && err.contains("第1个要素") && err.contains("households"),
            "{err}"
        );
        let (_, _, err_en) = run(gongzhi()
            .args(["--lang", "en", "import", "grids"])
            .arg(&bad)
            .args(["--database-url", &url])
            .arg("--audit-key-file")
            .arg(&key_file));
        assert!(err_en.contains("feature 1: property `households`"), "{err_en}");
        let first = gongzhi_core::territory::TerritoryCode::parse("230903011001902").unwrap();
        assert!(
            db.node(&first).await.unwrap().is_none(),
            "{}: the good feature was written",
            db.backend_name()
        );

        let good = dir.join("good.geojson");
        std::fs::write(&good, GOOD).unwrap();
        let (code, out, err) = run(gongzhi()
            .args(["import", "grids"])
            .arg(&good)
            .args(["--database-url", &url, "--valid-from", "2026-11-27"])
            .env("GONGZHI_AUDIT_KEY_FILE", &key_file));
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("新增 1"), "{out}");
        let grid = db
            .node(&gongzhi_core::territory::TerritoryCode::parse("230903011001901").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(grid.households, Some(120));
        assert_eq!(grid.valid_from.to_string(), "2026-11-27");

        let (code, _, err) = run(gongzhi()
            .args(["import", "grids", "/nonexistent.geojson", "--database-url", &url])
            .env("GONGZHI_AUDIT_KEY", audit_key().expose_hex()));
        assert_eq!(code, 2);
        assert!(err.contains("/nonexistent.geojson"), "{err}");
        std::fs::remove_dir_all(dir).ok();
    }
}

fn write_key_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("audit.key");
    std::fs::write(&path, format!("{}\n", audit_key().expose_hex())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

/// A folder with the audit key's file, for a database holding the demo city's grids.
async fn a_city_with_its_key(db: &TestDb) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = TestDb::temp_dir();
    let key_file = write_key_file(&dir);
    db.insert_nodes(
        &gongzhi_demo::grids::build(&gongzhi_demo::grids::GridSystem::builtin().unwrap()).unwrap(),
        chrono::Utc::now(),
        &audit_key(),
        SYSTEM_ACTOR,
    )
    .await
    .unwrap();
    (dir, key_file)
}

#[test]
fn serve_without_an_audit_key_refuses_to_start_and_says_how_to_give_one() {
    let dir = TestDb::temp_dir();
    let (code, _, err) = run(gongzhi()
        .args(["--lang", "en", "serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no audit key configured")
            && err.contains("--audit-key-file")
            && err.contains("GONGZHI_AUDIT_KEY"),
        "{err}"
    );
    assert!(!dir.join("gongzhi.sqlite3").exists(), "the database was opened anyway");
    // A key that is too short is refused too, naming where it came from.
    let (code, _, err) = run(gongzhi()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .env("GONGZHI_AUDIT_KEY", "00112233"));
    assert_eq!(code, 2);
    assert!(
        err.contains("GONGZHI_AUDIT_KEY") && err.contains("至少需要16字节"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn audit_verify_says_intact_or_names_the_first_broken_entry() {
    for (url, db) in urls().await {
        let (dir, key_file) = a_city_with_its_key(&db).await;
        let good = dir.join("good.geojson");
        std::fs::write(&good, GOOD).unwrap();
        let verify = |lang: &str| {
            run(gongzhi()
                .args([
                    "--lang",
                    lang,
                    "audit",
                    "verify",
                    "--database-url",
                    &url,
                    "--audit-key-file",
                ])
                .arg(&key_file))
        };
        let (code, out, err) = run(gongzhi()
            .args(["import", "grids"])
            .arg(&good)
            .args(["--database-url", &url, "--audit-key-file"])
            .arg(&key_file));
        assert_eq!(code, 0, "{err}");
        let head = gongzhi_store::audit::head(&db).await.unwrap();
        let (code, out_v, err) = verify("en");
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            out_v.trim(),
            format!("audit record intact: 2 entries, head {}", head.mac),
            "{out}"
        );

        // Someone with write access to the database rewrites who imported the grids.
        let sql = [
            "DROP TRIGGER IF EXISTS audit_entries_no_update",
            "DROP TRIGGER IF EXISTS audit_entries_no_change ON audit_entries",
            "UPDATE audit_entries SET actor = 'admin' WHERE seq = 2",
        ];
        for s in sql {
            let s = sqlx::AssertSqlSafe(s.to_string());
            let _ = match &db.db {
                gongzhi_store::Db::Sqlite(p) => sqlx::query(s).execute(p).await.map(|_| ()),
                gongzhi_store::Db::Postgres(p) => sqlx::query(s).execute(p).await.map(|_| ()),
            };
        }
        let (code, out, err) = verify("en");
        assert_eq!(code, 1, "{}: {out}{err}", db.backend_name());
        assert!(
            out.starts_with("audit record broken at entry 2: its MAC does not match"),
            "{out}"
        );
        let (code, out, _) = verify("zh");
        assert_eq!(code, 1);
        assert!(out.contains("第 2 条"), "{out}");

        // Without a key, verification cannot run, and says so.
        let (code, _, err) = run(gongzhi().args(["audit", "verify", "--database-url", &url]));
        assert_eq!(code, 2);
        assert!(err.contains("未配置审计密钥"), "{err}");
        std::fs::remove_dir_all(dir).ok();
    }
}

#[tokio::test]
async fn the_first_administrator_is_created_with_a_password_shown_once_and_changed_at_first_sign_in() {
    for (url, db) in urls().await {
        let dir = TestDb::temp_dir();
        let key_file = write_key_file(&dir);
        let create = |role: &str, scope: &str| {
            run(gongzhi()
                .args(["--lang", "en", "account", "create", "root", "--name", "系统管理员"])
                .args([
                    "--role",
                    role,
                    "--scope",
                    scope,
                    "--database-url",
                    &url,
                    "--audit-key-file",
                ])
                .arg(&key_file))
        };
        let (code, _, err) = create("emperor", "230900000000");
        assert_eq!(code, 2);
        assert!(err.contains("--role emperor") && err.contains("system_admin"), "{err}");
        let (code, _, err) = create("system_admin", "2309");
        assert_eq!(code, 2);
        assert!(err.contains("--scope 2309"), "{err}");
        let (code, out, err) = create("system_admin", "230900000000");
        assert_eq!(code, 0, "{err}");
        let password = out.trim().rsplit(' ').next().unwrap().to_string();
        assert_eq!(password.len(), 16, "{out}");
        let account = db.account_by_username("root").await.unwrap().unwrap();
        assert!(account.must_change_password, "changed at first sign-in");
        let hash = account.password_hash.unwrap();
        assert!(gongzhi_core::people::credentials::verify_password(&password, &hash));
        let (code, _, err) = create("system_admin", "230900000000");
        assert_eq!(code, 2, "the name is taken");
        assert!(err.contains("exists"));
    }
}

#[tokio::test]
async fn an_api_key_is_created_on_the_command_line_printed_once_and_stored_hashed() {
    for (url, db) in urls().await {
        db.insert_nodes(
            &gongzhi_demo::grids::build(&gongzhi_demo::grids::GridSystem::builtin().unwrap()).unwrap(),
            chrono::Utc::now(),
            &audit_key(),
            SYSTEM_ACTOR,
        )
        .await
        .unwrap();
        let dir = TestDb::temp_dir();
        let key_file = write_key_file(&dir);
        let create = |name: &str, scope: &str| {
            run(gongzhi()
                .args(["--lang", "en", "api-key", "create", name, "--scope", scope])
                .args(["--database-url", &url, "--audit-key-file"])
                .arg(&key_file))
        };
        let (code, out, err) = create("fixmystreet", "230900000000");
        assert_eq!(code, 0, "{err}");
        let secret = out.trim().to_string();
        assert!(secret.starts_with("gz311_") && secret.len() > 40, "{out}");
        let stored = db
            .api_key_for_hash(
                &gongzhi_core::people::credentials::token_hash(&secret),
                chrono::Utc::now(),
            )
            .await
            .unwrap()
            .expect("the key's hash is stored");
        assert_eq!(stored.name, "fixmystreet");
        assert_eq!(stored.calls, ["open311.post_request"]);
        assert_eq!(stored.rate_per_minute, 60);
        let (code, _, err) = create("fixmystreet", "230900000000");
        assert_eq!(code, 2);
        assert!(err.contains("exists"), "{err}");
        let (code, _, err) = create("other", "2309");
        assert_eq!(code, 2);
        assert!(err.contains("scope"), "{err}");
        let (code, _, err) = create("bad name", "230900000000");
        assert_eq!(code, 2);
        assert!(err.contains("name"), "{err}");
        std::fs::remove_dir_all(dir).ok();
    }
}

/// Starts `gongzhi serve`, waits until it answers, then stops it.
fn serve_once(url: &str, dir: &std::path::Path, key_file: &std::path::Path, config: &std::path::Path) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut child = gongzhi()
        .args([
            "serve",
            "--listen",
            &addr.to_string(),
            "--database-url",
            url,
            "--data-dir",
        ])
        .arg(dir)
        .arg("--audit-key-file")
        .arg(key_file)
        .arg("--config")
        .arg(config)
        .spawn()
        .expect("start gongzhi serve");
    let started = std::time::Instant::now();
    while !gongzhi::client::Conn::new(addr)
        .get("/healthz", None)
        .is_ok_and(|r| r.status == 200)
    {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("gongzhi serve exited with {status}");
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "serve not ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn a_changed_setting_is_in_the_audit_record_at_the_next_start_with_its_old_and_new_value() {
    for (url, db) in urls().await {
        let dir = TestDb::temp_dir();
        let key_file = write_key_file(&dir);
        let config = dir.join("gongzhi.toml");
        std::fs::write(&config, "[security]\nlockout_failures = 5\n").unwrap();
        serve_once(&url, &dir, &key_file, &config);
        // The operator tightens the lockout, then restarts twice without changing anything.
        std::fs::write(&config, "[security]\nlockout_failures = 3\n").unwrap();
        serve_once(&url, &dir, &key_file, &config);
        serve_once(&url, &dir, &key_file, &config);

        let entries = gongzhi_store::audit::entries_about(&db, "configuration", "settings")
            .await
            .unwrap();
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["configuration.first", "configuration.change"],
            "{}",
            db.backend_name()
        );
        assert_eq!(
            entries[1].detail["changed"],
            serde_json::json!({"security.lockout_failures": {"from": 5, "to": 3}})
        );
        assert_eq!(entries[1].detail["settings"]["security.lockout_failures"], 3);
        let text = entries[0].detail.to_string();
        assert!(
            !text.contains(&url) && !text.contains("audit.key"),
            "no key or database URL: {text}"
        );
        std::fs::remove_dir_all(dir).ok();
    }
}

#[tokio::test]
async fn an_operator_writes_a_checkpoint_and_verification_finds_the_end_cut_off_behind_it() {
    for (url, db) in urls().await {
        let (dir, key_file) = a_city_with_its_key(&db).await;
        let config = dir.join("gongzhi.toml");
        std::fs::write(
            &config,
            format!(
                "audit_witness = [\"sh\", \"-c\", \"cat >> {}\"]\n",
                dir.join("witness.log").display()
            ),
        )
        .unwrap();
        let audit = |what: &[&str]| {
            run(gongzhi()
                .args(["--lang", "en", "--config"])
                .arg(&config)
                .arg("audit")
                .args(what)
                .args(["--database-url", &url, "--data-dir"])
                .arg(&dir)
                .arg("--audit-key-file")
                .arg(&key_file))
        };
        let (code, out, err) = audit(&["verify"]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(err.contains("no checkpoint yet"), "{err}");
        let (code, out, err) = audit(&["checkpoint"]);
        assert_eq!(code, 0, "{}: {out}{err}", db.backend_name());
        assert!(
            out.contains("audit checkpoint written to") && out.contains("entry 1"),
            "{out}"
        );
        let checkpoint = std::fs::read_to_string(dir.join("audit.checkpoint")).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("witness.log")).unwrap(), checkpoint);
        let (code, out, _) = audit(&["checkpoint"]);
        assert_eq!(code, 0);
        assert!(out.contains("has not grown"), "{out}");

        // The only entry is removed and the head row reset: an empty record, valid in itself.
        for s in [
            "DROP TRIGGER IF EXISTS audit_entries_no_delete",
            "DROP TRIGGER IF EXISTS audit_entries_no_change ON audit_entries",
            "DELETE FROM audit_entries",
            "UPDATE audit_head SET seq = 0, mac = '0000000000000000000000000000000000000000000000000000000000000000'",
        ] {
            let s = sqlx::AssertSqlSafe(s.to_string());
            let _ = match &db.db {
                gongzhi_store::Db::Sqlite(p) => sqlx::query(s).execute(p).await.map(|_| ()),
                gongzhi_store::Db::Postgres(p) => sqlx::query(s).execute(p).await.map(|_| ()),
            };
        }
        for what in [&["verify"][..], &["verify", "--full"]] {
            let (code, out, err) = audit(what);
            assert_eq!(code, 1, "{}: {out}{err}", db.backend_name());
            assert!(
                out.starts_with("audit record broken at entry 1: the record is empty but the checkpoint names entry 1"),
                "{out}"
            );
        }
        let (code, out, _) = audit(&["checkpoint"]);
        assert_eq!(code, 1);
        assert!(out.contains("no new checkpoint written"), "{out}");
        assert_eq!(
            std::fs::read_to_string(dir.join("audit.checkpoint")).unwrap(),
            checkpoint
        );
        std::fs::remove_dir_all(dir).ok();
    }
}
