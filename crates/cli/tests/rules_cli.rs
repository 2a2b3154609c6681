//! `gongzhi rules …` as an administrator uses it, on both databases.

use std::path::Path;
use std::process::Command;

use gongzhi_core::cases::rules::CaseRules;
use gongzhi_office::{Format, read_rows, write_rows};
use gongzhi_store::testing::{TestDb, audit_key};

fn gongzhi(url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gongzhi"));
    c.env_remove("GONGZHI_DATA_DIR")
        .env_remove("GONGZHI_CONFIG")
        .env_remove("GONGZHI_AUDIT_KEY_FILE")
        .env("GONGZHI_DATABASE_URL", url)
        .env("GONGZHI_AUDIT_KEY", audit_key().expose_hex())
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

fn revised_rows(label: &str, valid_from: &str) -> Vec<Vec<String>> {
    let mut rows = CaseRules::qitaihe().unwrap().responsibility.to_rows();
    for r in rows.iter_mut().skip(1) {
        r[0] = label.to_string();
        r[1] = valid_from.to_string();
    }
    rows
}

fn write(dir: &Path, name: &str, rows: &[Vec<String>]) -> std::path::PathBuf {
    let path = dir.join(name);
    let format = Format::from_file_name(name).unwrap();
    std::fs::write(&path, write_rows(format, "职责清单", rows).unwrap()).unwrap();
    path
}

#[tokio::test]
async fn an_administrator_imports_exports_and_checks_the_rules() {
    for db in TestDb::all().await {
        let (url, name) = (db.url.clone(), db.backend_name());
        let dir = TestDb::temp_dir();
        let next_year = gongzhi_core::time::city_today()
            .format("%Y")
            .to_string()
            .parse::<i32>()
            .unwrap()
            + 1;

        let (code, out, err) = run(gongzhi(&url).args(["rules", "status"]));
        assert_eq!(code, 0, "{name}: {err}");
        assert!(
            out.contains("七台河市职责清单（2026版）") && out.contains("（现行）"),
            "{out}"
        );
        assert!(out.contains(&format!("警告：{next_year}年尚未导入")), "{name}: {out}");

        // Two bad rows: both printed, nothing imported, exit code 2.
        let mut rows = revised_rows("坏版本", "2026-11-20");
        rows[5][3] = "99998".into();
        rows[11][8] = "no-such-office".into();
        let bad = write(&dir, "坏清单.xlsx", &rows);
        let (code, _, err) = run(gongzhi(&url).args(["rules", "import", "responsibility"]).arg(&bad));
        assert_eq!(code, 2, "{name}: {err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{err}");
        assert!(
            lines[0].ends_with("坏清单.xlsx: 第6行「matter」：未定义的事项分类“99998”"),
            "{err}"
        );
        assert!(lines[1].contains("坏清单.xlsx: 第12行「department」："), "{err}");
        let (_, _, err_en) = run(gongzhi(&url)
            .args(["--lang", "en", "rules", "import", "responsibility"])
            .arg(&bad));
        assert!(
            err_en.contains("坏清单.xlsx: row 6, column matter: ") && err_en.contains("row 12, column department"),
            "{err_en}"
        );
        let (_, out, _) = run(gongzhi(&url).args(["rules", "status"]));
        assert!(!out.contains("坏版本"), "{out}");

        let good = write(&dir, "修订.csv", &revised_rows("2026年11月修订", "2026-11-15"));
        let (code, out, err) = run(gongzhi(&url).args(["rules", "import", "responsibility"]).arg(&good));
        assert_eq!(code, 0, "{name}: {err}");
        assert!(out.contains("已导入职责清单“2026年11月修订”，84 条规则"), "{out}");

        // Export round trip: the first version, as XLSX, reads back as the shipped list.
        let exported = dir.join("导出.xlsx");
        let (code, _, err) = run(gongzhi(&url)
            .args(["rules", "export", "responsibility"])
            .arg(&exported)
            .args(["--version", "七台河市职责清单（2026版）"]));
        assert_eq!(code, 0, "{err}");
        let back = read_rows("导出.xlsx", &std::fs::read(&exported).unwrap()).unwrap();
        assert_eq!(back, CaseRules::qitaihe().unwrap().responsibility.to_rows(), "{name}");
        let current = dir.join("现行.csv");
        assert_eq!(
            run(gongzhi(&url).args(["rules", "export", "responsibility"]).arg(&current)).0,
            0
        );
        let back = read_rows("现行.csv", &std::fs::read(&current).unwrap()).unwrap();
        assert_eq!(back[1][0], "2026年11月修订");

        let calendar = dir.join(format!("{next_year}.csv"));
        std::fs::write(&calendar, format!("date,kind,name\n{next_year}-01-01,holiday,元旦\n")).unwrap();
        let (code, out, err) = run(gongzhi(&url).args(["rules", "import", "calendar"]).arg(&calendar));
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(&format!("已导入 {next_year} 年")), "{out}");
        let (_, out, _) = run(gongzhi(&url).args(["rules", "status"]));
        assert!(!out.contains("警告"), "{name}: {out}");
        assert!(
            out.contains("2026年11月修订") && out.contains(&next_year.to_string()),
            "{out}"
        );
        std::fs::remove_dir_all(dir).ok();
    }
}
