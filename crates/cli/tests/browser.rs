//! The city page in a real headless Chromium: what a person sees, with a screenshot kept under
//! target/screenshots. Chromium is Debian's (`.ci/run` installs it); without it the test is
//! skipped locally and fails under CI.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gongzhi_store::testing::TestDb;

fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "CI needs Debian's chromium (apt-get install chromium)"
        );
        eprintln!("warning: chromium not installed; skipping the browser test");
    }
    found
}

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `gongzhi demo` on a free port and waits until it says where it serves.
fn start_demo(data_dir: &std::path::Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gongzhi"))
        .args([
            "demo",
            "--demo-cases",
            "200",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("GONGZHI_DATABASE_URL")
        .env("GONGZHI_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    for line in lines.map_while(Result::ok) {
        if line.contains("serving on") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "demo did not start");
    }
    Server(child, format!("http://127.0.0.1:{port}"))
}

fn chromium_args(profile: &std::path::Path) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        format!("--user-data-dir={}", profile.display()),
        "--window-size=1280,1000".into(),
    ])
    .collect()
}

#[test]
fn the_city_page_renders_in_chromium_with_its_grid_map() {
    let Some(chromium) = chromium() else { return };
    let dir = TestDb::temp_dir();
    let server = start_demo(&dir.join("data"));
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    for (page, file, must_show) in [
        (
            "/territory",
            "territory-city.png",
            vec!["七台河市", "网格化社区", "228,200", "勃利县"],
        ),
        (
            "/territory/230903000000",
            "territory-district.png",
            vec!["桃山区", "桃东街道", "万宝河镇"],
        ),
        (
            "/territory/230903000000?lang=en",
            "territory-district-en.png",
            vec!["Grid map", "Households"],
        ),
    ] {
        let url = format!("{}{page}", server.1);
        let dom = Command::new(&chromium)
            .args(chromium_args(&dir.join("profile")))
            .arg("--dump-dom")
            .arg(&url)
            .output()
            .unwrap();
        let dom = String::from_utf8_lossy(&dom.stdout);
        for text in must_show {
            assert!(dom.contains(text), "{page}: {text} not rendered");
        }
        assert!(dom.matches("class=\"grid\"").count() > 0, "{page}: no grid drawn");
        let shot = shots.join(file);
        let _ = std::fs::remove_file(&shot);
        let status = Command::new(&chromium)
            .args(chromium_args(&dir.join("profile")))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(&url)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(size > 20_000, "{file}: the screenshot is nearly empty ({size} bytes)");
    }
    drop(server);
    std::fs::remove_dir_all(dir).ok();
}
