//! A real headless Chromium driven through chromedriver (WebDriver), against `gongzhi demo`
//! started on a free port: what people do, click by click, with screenshots kept under
//! target/screenshots. Chromium is Debian's (`.ci/run` installs it); without it a test is skipped
//! locally and fails under CI.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// A child process killed when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether Chromium and chromedriver are installed; under CI their absence is a failure.
pub fn chromium_available() -> bool {
    let found = Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists();
    if !found {
        assert!(
            std::env::var("CI").is_err(),
            "CI needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
        );
        eprintln!("warning: chromium or chromedriver not installed; skipping the browser test");
    }
    found
}

/// A share of the demo registry for the demo server to load (its `GONGZHI_DEMO_REGISTRY_SCALE`
/// and `GONGZHI_DEMO_REGISTRY_WITHIN`); without one it loads none.
#[derive(Clone, Copy)]
pub struct RegistryShare {
    pub scale: &'static str,
    pub within: &'static str,
}

/// Starts `gongzhi demo` with `cases` simulated cases (and `registry`) in `data_dir` and waits
/// until it serves. Its log goes to `server.log` beside `data_dir` ([`Browser::server_log`]).
pub fn start_demo(data_dir: &Path, cases: usize, registry: Option<RegistryShare>) -> (Process, String) {
    start_demo_logging(data_dir, cases, registry, "info")
}

/// As [`start_demo`], logging at `level` (`GONGZHI_LOG`).
pub fn start_demo_logging(
    data_dir: &Path,
    cases: usize,
    registry: Option<RegistryShare>,
    level: &str,
) -> (Process, String) {
    if let Some(parent) = data_dir.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    let log = std::fs::File::create(data_dir.with_file_name("server.log")).unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gongzhi"))
        .args([
            "demo",
            "--demo-cases",
            &cases.to_string(),
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("GONGZHI_DATABASE_URL")
        // No registry unless a test asks for one (browser_registry: a scaled-down grid).
        .env("GONGZHI_DEMO_REGISTRY_SCALE", registry.map_or("0", |r| r.scale))
        .env("GONGZHI_DEMO_REGISTRY_WITHIN", registry.map_or("", |r| r.within))
        .env("GONGZHI_LOG", level)
        .env("NO_COLOR", "1")
        .stderr(log)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut out = std::fs::OpenOptions::new()
        .append(true)
        .open(data_dir.with_file_name("server.log"))
        .unwrap();
    let started = Instant::now();
    for line in lines.by_ref().map_while(Result::ok) {
        let _ = writeln!(out, "{line}");
        if line.contains("serving on") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(90), "demo did not start");
    }
    // The log goes on to the file (the server logs to standard output): a closed pipe would
    // make it fail its writes.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = writeln!(out, "{line}");
        }
    });
    (Process(child), format!("http://127.0.0.1:{port}"))
}

/// Browsers open at once in this test process. Each is a demo server, chromedriver and Chromium
/// with timed waits; when every test file was a binary of its own, no two files' browsers ran at
/// once, and sharing one binary keeps it so.
static BROWSERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// One browser on one demo server.
pub struct Browser {
    pub client: Client,
    pub base: String,
    shots: PathBuf,
    _driver: Process,
    _server: Process,
    dir: PathBuf,
    /// This browser's turn ([`BROWSERS`]), given back after the processes above are gone.
    _turn: tokio::sync::SemaphorePermit<'static>,
}

/// The browser's window: a desktop or a phone.
#[derive(Clone, Copy)]
pub enum Window {
    Desktop,
    Phone,
}

impl Browser {
    /// Starts the demo city (with `cases` simulated cases), chromedriver and a headless Chromium;
    /// `None` when Chromium is not installed here (outside CI).
    pub async fn start(cases: usize, window: Window) -> Option<Browser> {
        Browser::start_with(cases, window, None).await
    }

    /// [`Browser::start`] with a share of the demo registry loaded.
    pub async fn start_with(cases: usize, window: Window, registry: Option<RegistryShare>) -> Option<Browser> {
        if !chromium_available() {
            return None;
        }
        let turn = BROWSERS.acquire().await.expect("the semaphore is never closed");
        let dir = gongzhi_store::testing::TestDb::temp_dir();
        let (server, base) = start_demo(&dir.join("data"), cases, registry);
        let port = free_port();
        let driver = Process(
            Command::new("/usr/bin/chromedriver")
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let size = match window {
            Window::Desktop => "--window-size=1366,1000",
            Window::Phone => "--window-size=360,800",
        };
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--hide-scrollbars", "--lang=zh-CN", size,
                         format!("--user-data-dir={}", dir.join("profile").display())],
                "prefs": {"intl.accept_languages": "zh-CN,zh"},
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session in Chromium");
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Some(Browser {
            client,
            base,
            shots,
            _driver: driver,
            _server: server,
            dir,
            _turn: turn,
        })
    }

    /// What the demo server logged so far (its standard error).
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    /// The path (and query) the browser shows now.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Waits up to 10 s for an element, then returns its text.
    pub async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.unwrap()
    }

    /// Waits up to 30 s for an element to appear (a page of a debug build on a loaded CI machine
    /// can take seconds; a missing element fails just the same, later).
    pub async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    /// Waits up to 10 s for an element (polling, for pages a form or a script loads), failing
    /// with the page's text.
    pub async fn until(&self, css: &str) {
        let started = Instant::now();
        while self.client.find(Locator::Css(css)).await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{css} did not appear: {}",
                self.body_text().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fails when the page scrolls sideways (a phone page must fit its 360 px).
    pub async fn fits_width(&self, page: &str) {
        let wide = self
            .client
            .execute(
                "return document.documentElement.scrollWidth > window.innerWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(wide, json!(false), "{page} scrolls sideways");
    }

    /// The whole page's visible text.
    pub async fn body_text(&self) -> String {
        self.text("body").await
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.wait(css).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Chooses an option of a `<select>` by its value.
    pub async fn choose(&self, css: &str, value: &str) {
        self.wait(css).await.select_by_value(value).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.wait(css).await.click().await.unwrap();
    }

    /// Signs in through the form, as a person does.
    pub async fn sign_in(&self, username: &str, password: &str) {
        self.goto("/login").await;
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.click("#sign-in").await;
        let started = Instant::now();
        while self.path().await.starts_with("/login") {
            if let Ok(error) = self.client.find(Locator::Css("#error")).await {
                panic!(
                    "sign-in of {username} refused: {}",
                    error.text().await.unwrap_or_default()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "sign-in of {username} did not finish"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn sign_out(&self) {
        self.click("header .user button").await;
        self.wait("#sign-in").await;
    }

    /// Saves a screenshot under target/screenshots and checks it is not blank.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        assert!(
            png.len() > 10_000,
            "{name}: the screenshot is nearly empty ({} bytes)",
            png.len()
        );
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    /// The last sign-in code the demo's development SMS gateway logged for a phone (the log
    /// names it masked, e.g. `137****1234`), waiting up to 10 s for it.
    pub async fn sms_code_for(&self, masked_phone: &str) -> String {
        let started = Instant::now();
        loop {
            let log = self.server_log();
            let found = log
                .lines()
                .filter(|l| l.contains("SMS sign-in code") && l.contains(masked_phone))
                .filter_map(|l| {
                    let at = l.find("code=")? + 5;
                    let digits: String = l[at..].trim_start_matches('"').chars().take(6).collect();
                    (digits.len() == 6 && digits.bytes().all(|c| c.is_ascii_digit())).then_some(digits)
                })
                .next_back();
            if let Some(code) = found {
                return code;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no code in the log:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page's weight in bytes: its HTML as served (inline script and style included) plus
    /// any script or style file it loaded; fails at 200 KB, the phone pages' budget.
    pub async fn page_weight(&self, name: &str) -> u64 {
        let bytes = self
            .client
            .execute(
                "var nav = performance.getEntriesByType('navigation')[0];
                 var own = nav ? (nav.decodedBodySize || 0) : 0;
                 if (!own) { own = new Blob([document.documentElement.outerHTML]).size; }
                 var extra = performance.getEntriesByType('resource')
                   .filter(function (r) { return r.initiatorType === 'script' || r.initiatorType === 'link'; })
                   .reduce(function (s, r) { return s + (r.decodedBodySize || 0); }, 0);
                 return own + extra;",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap();
        println!("page weight {name}: {bytes} bytes");
        assert!(bytes < 200 * 1024, "{name} weighs {bytes} bytes");
        bytes
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
