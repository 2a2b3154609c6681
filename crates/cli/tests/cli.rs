//! The `gongzhi` command as an operator uses it.

use std::process::Command;

use gongzhi_store::testing::TestDb;

fn gongzhi() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gongzhi"));
    c.env_remove("GONGZHI_DATABASE_URL")
        .env_remove("GONGZHI_DATA_DIR")
        .env_remove("GONGZHI_CONFIG")
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
            &gongzhi::demo::build(&gongzhi::demo::GridSystem::builtin().unwrap()).unwrap(),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        let dir = TestDb::temp_dir();
        let bad = dir.join("bad.geojson");
        std::fs::write(&bad, BAD).unwrap();
        let (code, _, err) = run(gongzhi()
            .args(["import", "grids"])
            .arg(&bad)
            .args(["--database-url", &url]));
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("bad.geojson") && err.contains("第1个要素") && err.contains("households"),
            "{err}"
        );
        let (_, _, err_en) = run(gongzhi()
            .args(["--lang", "en", "import", "grids"])
            .arg(&bad)
            .args(["--database-url", &url]));
        assert!(err_en.contains("feature 1: property `households`"), "{err_en}");
        let first = gongzhi_core::territory::TerritoryCode::parse("230903011001902").unwrap();
        assert!(
            db.node(&first).await.unwrap().is_none(),
            "{}: the good feature was written",
            db.backend_name()
        );

        let good = dir.join("good.geojson");
        std::fs::write(&good, GOOD).unwrap();
        let (code, out, err) = run(gongzhi().args(["import", "grids"]).arg(&good).args([
            "--database-url",
            &url,
            "--valid-from",
            "2026-11-27",
        ]));
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("新增 1"), "{out}");
        let grid = db
            .node(&gongzhi_core::territory::TerritoryCode::parse("230903011001901").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(grid.households, Some(120));
        assert_eq!(grid.valid_from.to_string(), "2026-11-27");

        let (code, _, err) = run(gongzhi().args(["import", "grids", "/nonexistent.geojson", "--database-url", &url]));
        assert_eq!(code, 2);
        assert!(err.contains("/nonexistent.geojson"), "{err}");
        std::fs::remove_dir_all(dir).ok();
    }
}
