//! `gongzhi bench`: the speed figures of docs/PERFORMANCE.md, measured the same way each time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use gongzhi_core::territory::{GridIndex, Level, LonLat};
use rand::{Rng, SeedableRng};

use gongzhi_demo::{GridSystem, build};

pub struct LocateReport {
    pub grids: usize,
    pub lookups: usize,
    pub hit_rate: f64,
    /// Lookups per second of each run, sorted.
    pub runs: Vec<f64>,
}

impl LocateReport {
    pub fn median(&self) -> f64 {
        self.runs[self.runs.len() / 2]
    }
}

/// Point → grid on one thread over the demo city's grids. Query points are drawn uniformly in
/// the bounding box of a randomly chosen grid, so most hit a grid and some its neighbours or
/// nothing, as real reports near grid edges do.
pub fn locate(lookups: usize, runs: usize) -> Result<LocateReport> {
    use geo::BoundingRect;
    let nodes = build(&GridSystem::builtin()?)?;
    let grids: Vec<_> = nodes
        .into_iter()
        .filter(|n| n.level() == Level::Grid)
        .filter_map(|n| n.boundary)
        .collect();
    let boxes: Vec<_> = grids.iter().filter_map(|g| g.bounding_rect()).collect();
    let index = GridIndex::new(grids.iter().cloned().enumerate().map(|(i, g)| (g, i)));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let points: Vec<LonLat> = (0..lookups)
        .map(|_| {
            let b = boxes[rng.random_range(0..boxes.len())];
            LonLat {
                lon: rng.random_range(b.min().x..=b.max().x),
                lat: rng.random_range(b.min().y..=b.max().y),
            }
        })
        .collect();
    let mut hits = 0;
    let mut results = Vec::new();
    for _ in 0..runs {
        hits = 0;
        let started = Instant::now();
        for p in &points {
            if std::hint::black_box(index.locate(*p)).is_some() {
                hits += 1;
            }
        }
        results.push(lookups as f64 / started.elapsed().as_secs_f64());
    }
    results.sort_by(f64::total_cmp);
    Ok(LocateReport {
        grids: grids.len(),
        lookups,
        hit_rate: hits as f64 / lookups as f64,
        runs: results,
    })
}

/// A plain HTTP/1.1 GET on loopback; true on a 200.
fn get_ok(addr: SocketAddr, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: text/html\r\nConnection: close\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    buf.starts_with(b"HTTP/1.1 200")
}

fn healthy(addr: SocketAddr) -> bool {
    get_ok(addr, "/healthz")
}

/// What a first visitor does: the city page, a district page, the grids and a lookup.
const WARM_UP: [&str; 5] = [
    "/territory",
    "/territory/230903000000",
    "/api/v1/territory/grids.geojson",
    "/api/v1/territory/summary",
    "/api/v1/territory/locate?lon=131.0&lat=45.77&datum=gcj02",
];

fn resident_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn start_demo(exe: &Path, data_dir: &Path, addr: SocketAddr, database_url: Option<&str>) -> Result<Child> {
    // The territory and accounts only: the year of demo cases loads in the background and is
    // measured on its own (docs/PERFORMANCE.md).
    start_demo_with_cases(exe, data_dir, addr, database_url, 0)
}

fn start_demo_with_cases(
    exe: &Path,
    data_dir: &Path,
    addr: SocketAddr,
    database_url: Option<&str>,
    cases: usize,
) -> Result<Child> {
    start_demo_configured(exe, data_dir, addr, database_url, cases, None)
}

/// `gongzhi demo` with a configuration file, when given.
pub(crate) fn start_demo_configured(
    exe: &Path,
    data_dir: &Path,
    addr: SocketAddr,
    database_url: Option<&str>,
    cases: usize,
    config: Option<&Path>,
) -> Result<Child> {
    // Another server answering there would be measured in place of this one.
    if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
        bail!("something already listens on {addr}: choose another --port");
    }
    let mut cmd = Command::new(exe);
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    cmd.arg("demo")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--demo-cases")
        .arg(cases.to_string())
        // The registry's load is measured on its own (docs/PERFORMANCE.md).
        .arg("--demo-registry-scale")
        .arg("0")
        .env("GONGZHI_LOG", "warn");
    if let Some(url) = database_url {
        cmd.arg("--database-url").arg(url);
    }
    cmd.stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting gongzhi demo")
}

pub(crate) fn time_until_healthy(child: &mut Child, addr: SocketAddr, started: Instant) -> Result<Duration> {
    while !healthy(addr) {
        if let Some(status) = child.try_wait()? {
            bail!("gongzhi demo exited with {status} before it was ready");
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("gongzhi demo was not ready after 120 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(started.elapsed())
}

pub struct StartupReport {
    pub first_run: Duration,
    pub warm_start: Duration,
    pub idle_rss_mb: f64,
}

/// Starts `gongzhi demo` on an empty data folder (first run: migrations, building the city,
/// serving), stops it, starts it again (warm start), serves the pages of a first visit, and reads
/// its resident memory after it has idled for `idle`.
pub fn startup(
    exe: &Path,
    data_dir: &Path,
    addr: SocketAddr,
    database_url: Option<&str>,
    idle: Duration,
) -> Result<StartupReport> {
    let started = Instant::now();
    let mut first = start_demo(exe, data_dir, addr, database_url)?;
    let first_run = time_until_healthy(&mut first, addr, started);
    let _ = first.kill();
    let _ = first.wait();
    let first_run = first_run?;

    let started = Instant::now();
    let mut warm = start_demo(exe, data_dir, addr, database_url)?;
    let warm_start = time_until_healthy(&mut warm, addr, started);
    for path in WARM_UP {
        if !get_ok(addr, path) {
            let _ = warm.kill();
            bail!("GET {path} did not answer 200");
        }
    }
    std::thread::sleep(idle);
    let rss = resident_mb(warm.id());
    let _ = warm.kill();
    let _ = warm.wait();
    Ok(StartupReport {
        first_run,
        warm_start: warm_start?,
        idle_rss_mb: rss.context("reading /proc/PID/status")?,
    })
}

pub struct IntakeReport {
    pub connections: usize,
    pub measured: Duration,
    /// Cases created (201) inside the measured window.
    pub created: usize,
    /// Failed requests (not 201, or no answer) over the whole run.
    pub errors: usize,
    pub first_error: Option<String>,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// The server's largest resident memory, sampled every 100 ms from its start.
    pub max_rss_mb: f64,
    /// The raw limits measured in the same run, just before the load.
    pub limits: RawLimits,
    /// CPU seconds per wall second over the measured window: the server's and this load
    /// generator's own (both share the machine's cores).
    pub server_cpu: f64,
    pub client_cpu: f64,
}

/// What the machine allows at the moment of a run, so a figure can be read against it.
pub struct RawLimits {
    /// Appends of 4 KiB each followed by `fdatasync`, per second, in the data folder: a SQLite
    /// commit in WAL mode is one such sync, so intake cannot commit more often than this.
    pub fsyncs_per_s: f64,
    /// `GET /healthz` answered per second by the same server over the same connections: the
    /// HTTP stack and the load generator with no work behind them.
    pub healthz_per_s: f64,
    pub cores: usize,
}

/// Syncs per second of 4 KiB appends in `dir` for `span`.
fn fsync_rate(dir: &Path, span: Duration) -> Result<f64> {
    let path = dir.join("bench-fsync.tmp");
    let mut file = std::fs::File::create(&path)?;
    let block = [0u8; 4096];
    let started = Instant::now();
    let mut syncs = 0u64;
    while started.elapsed() < span {
        file.write_all(&block)?;
        file.sync_data()?;
        syncs += 1;
    }
    let rate = syncs as f64 / started.elapsed().as_secs_f64();
    drop(file);
    let _ = std::fs::remove_file(&path);
    Ok(rate)
}

/// User + system CPU seconds of a process so far, from /proc (`self` for this one).
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // Linux reports in USER_HZ, 100 on every architecture it runs on today.
    Some(ticks / 100.0)
}

impl IntakeReport {
    pub fn rate(&self) -> f64 {
        self.created as f64 / self.measured.as_secs_f64()
    }
}

/// What `connections` clients did, each on its own keep-alive connection, back to back.
pub(crate) struct Load {
    /// Latencies of the answers with the expected status inside the measured window, sorted.
    latencies: Vec<Duration>,
    /// Answers with the expected status inside the measured window.
    pub(crate) ok: usize,
    /// Other answers, or none, over the whole run.
    pub(crate) errors: usize,
    pub(crate) first_error: Option<String>,
}

impl Load {
    pub(crate) fn at(&self, q: f64) -> Duration {
        let last = self.latencies.len().saturating_sub(1);
        self.latencies
            .get(((self.latencies.len() as f64 * q) as usize).min(last))
            .copied()
            .unwrap_or_default()
    }
}

/// Runs `request(conn, worker, i)` from `connections` threads for `warm_up` + `measure`; only
/// the second part is measured. An answer counts when its status is `ok_status`.
pub(crate) fn drive<F>(
    addr: SocketAddr,
    connections: usize,
    warm_up: Duration,
    measure: Duration,
    ok_status: u16,
    request: F,
) -> Result<Load>
where
    F: Fn(&mut crate::client::Conn, usize, usize) -> std::io::Result<crate::client::Reply> + Sync,
{
    let measure_from = Instant::now() + warm_up;
    let until = measure_from + measure;
    let first_error = std::sync::Mutex::new(None::<String>);
    let results = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..connections)
            .map(|w| {
                let (request, first_error) = (&request, &first_error);
                scope.spawn(move || {
                    let mut conn = crate::client::Conn::new(addr);
                    let (mut latencies, mut ok, mut errors) = (Vec::new(), 0usize, 0usize);
                    for i in 0.. {
                        let sent = Instant::now();
                        if sent >= until {
                            break;
                        }
                        let r = request(&mut conn, w, i);
                        let took = sent.elapsed();
                        match r {
                            Ok(r) if r.status == ok_status => {
                                if sent >= measure_from {
                                    ok += 1;
                                    latencies.push(took);
                                }
                            }
                            other => {
                                errors += 1;
                                let what = match other {
                                    Ok(r) => format!("{} {}", r.status, r.text()),
                                    Err(e) => e.to_string(),
                                };
                                if let Ok(mut f) = first_error.lock() {
                                    f.get_or_insert(what);
                                }
                            }
                        }
                    }
                    (latencies, ok, errors)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join()).collect::<Vec<_>>()
    });
    let mut load = Load {
        latencies: Vec::new(),
        ok: 0,
        errors: 0,
        first_error: None,
    };
    for r in results {
        let (l, ok, e) = r.map_err(|_| anyhow::anyhow!("a client thread panicked"))?;
        load.latencies.extend(l);
        load.ok += ok;
        load.errors += e;
    }
    load.latencies.sort();
    load.first_error = first_error.into_inner().ok().flatten();
    Ok(load)
}

/// Matters with entries in the demo's responsibility list, as the hotline reports them most.
const BENCH_MATTERS: [&str; 6] = ["06010", "06001", "21005", "10001", "27008", "27010"];

/// Report bodies at points inside the demo city's grids (WGS-84), drawn like `bench locate`
/// draws its points but keeping only hits, so that every report can be placed.
fn intake_bodies(count: usize) -> Result<Vec<Vec<u8>>> {
    use geo::BoundingRect;
    let nodes = build(&GridSystem::builtin()?)?;
    let grids: Vec<_> = nodes
        .into_iter()
        .filter(|n| n.level() == Level::Grid)
        .filter_map(|n| n.boundary)
        .collect();
    let boxes: Vec<_> = grids.iter().filter_map(|g| g.bounding_rect()).collect();
    let index = GridIndex::new(grids.iter().cloned().enumerate().map(|(i, g)| (g, i)));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut bodies = Vec::with_capacity(count);
    while bodies.len() < count {
        let b = boxes[rng.random_range(0..boxes.len())];
        let p = LonLat {
            lon: rng.random_range(b.min().x..=b.max().x),
            lat: rng.random_range(b.min().y..=b.max().y),
        };
        if index.locate(p).is_none() {
            continue;
        }
        let matter = BENCH_MATTERS[rng.random_range(0..BENCH_MATTERS.len())];
        let body = serde_json::json!({
            "channel": "hotline", "matter": matter,
            "description": format!("市民来电反映：第{}号测试点附近有问题，请尽快处理", bodies.len()),
            "lon": p.lon, "lat": p.lat, "datum": "wgs84",
        });
        bodies.push(body.to_string().into_bytes());
    }
    Ok(bodies)
}

/// Starts `gongzhi demo` on an empty data folder (or database), signs in as `clerk`, and has
/// `connections` clients, each on one keep-alive connection, report cases back to back (each
/// with its own Idempotency-Key) for `warm_up` + `measure`; only the second part is measured.
/// The server's memory is sampled throughout.
pub fn intake(
    exe: &Path,
    data_dir: &Path,
    addr: SocketAddr,
    database_url: Option<&str>,
    connections: usize,
    warm_up: Duration,
    measure: Duration,
) -> Result<IntakeReport> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let bodies = intake_bodies(4096)?;
    let started = Instant::now();
    let mut server = start_demo(exe, data_dir, addr, database_url)?;
    if let Err(e) = time_until_healthy(&mut server, addr, started) {
        let _ = server.kill();
        let _ = server.wait();
        return Err(e);
    }
    let pid = server.id();
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut max: f64 = 0.0;
            while !stop.load(Ordering::Relaxed) {
                max = max.max(resident_mb(pid).unwrap_or(0.0));
                std::thread::sleep(Duration::from_millis(100));
            }
            max.max(resident_mb(pid).unwrap_or(0.0))
        })
    };
    let outcome = (|| -> Result<IntakeReport> {
        let token = crate::client::sign_in(addr, "clerk", "demo")?;
        let healthz = drive(
            addr,
            connections,
            Duration::from_millis(500),
            Duration::from_secs(2),
            200,
            |conn, _, _| conn.get("/healthz", None),
        )?;
        let limits = RawLimits {
            fsyncs_per_s: fsync_rate(data_dir, Duration::from_secs(2))?,
            healthz_per_s: healthz.ok as f64 / 2.0,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let run = format!("{}-{}", std::process::id(), started.elapsed().as_nanos());
        let cpu_at = |pid: &str| cpu_seconds(pid).unwrap_or(0.0);
        let server_pid = pid.to_string();
        let window = std::sync::Mutex::new(None::<(f64, f64)>);
        let measure_from = Instant::now() + warm_up;
        let load = drive(addr, connections, warm_up, measure, 201, |conn, w, i| {
            // The first request of the measured window notes both processes' CPU time.
            if w == 0
                && let Ok(mut at) = window.lock()
                && at.is_none()
                && Instant::now() >= measure_from
            {
                *at = Some((cpu_at(&server_pid), cpu_at("self")));
            }
            let key = format!("bench-{run}-{w}-{i}");
            let body = &bodies[(w * 7919 + i) % bodies.len()];
            conn.post_json("/api/v1/cases", Some(&token), &[("Idempotency-Key", &key)], body)
        })?;
        let (server_from, client_from) = window.into_inner().ok().flatten().unwrap_or_default();
        let span = measure.as_secs_f64();
        Ok(IntakeReport {
            connections,
            measured: measure,
            created: load.ok,
            errors: load.errors,
            first_error: load.first_error.clone(),
            p50: load.at(0.50),
            p99: load.at(0.99),
            max: load.latencies.last().copied().unwrap_or_default(),
            max_rss_mb: 0.0,
            limits,
            server_cpu: (cpu_at(&server_pid) - server_from) / span,
            client_cpu: (cpu_at("self") - client_from) / span,
        })
    })();
    stop.store(true, Ordering::Relaxed);
    let max_rss = sampler.join().unwrap_or(0.0);
    let _ = server.kill();
    let _ = server.wait();
    let mut report = outcome?;
    report.max_rss_mb = max_rss;
    Ok(report)
}

/// One page as one person opens it, timed at the client over loopback.
pub struct PageTiming {
    pub who: &'static str,
    pub path: String,
    pub p50: Duration,
    pub p95: Duration,
    pub bytes: usize,
}

pub struct PagesReport {
    pub cases: i64,
    pub load: Duration,
    pub pages: Vec<PageTiming>,
}

/// The pages staff open all day, by account: inboxes, lists, case pages, territory, and the
/// co-governance pages (joint meetings, residents' needs, agreements, a liaison's offers).
const PAGES: [(&str, &str); 20] = [
    ("clerk", "/inbox"),
    ("clerk", "/inbox/to_accept"),
    ("clerk", "/cases/new"),
    ("dispatcher", "/inbox/to_dispatch"),
    ("dispatcher", "/inbox/requests"),
    ("handler", "/inbox/to_handle"),
    ("gridworker", "/inbox"),
    ("gridworker", "/cases"),
    ("leader", "/inbox/overdue"),
    ("leader", "/cases"),
    ("leader", "/cases?overdue=true&sort=deadline"),
    ("leader", "/cases?channel=hotline&page=200"),
    ("leader", "/territory"),
    ("leader", "/territory/230903000000?colour=density"),
    ("leader", "/territory/230903011001001"),
    ("leader", "/cases/{case}"),
    ("street", "/cogov/bodies"),
    ("community", "/cogov/orders"),
    ("community", "/cogov/agreements"),
    ("liaison", "/cogov/offers"),
];

/// Starts `gongzhi demo` with `cases` simulated cases, waits until they are loaded, signs each
/// account in to the pages and opens each page of [`PAGES`] `requests` times on a keep-alive
/// connection. Before each `/inbox` of the clerk a case is reported, so that the inbox counts
/// are computed afresh every time (the worst case: a city where something always changes).
pub fn pages(
    exe: &Path,
    data_dir: &Path,
    addr: SocketAddr,
    database_url: Option<&str>,
    cases: usize,
    requests: usize,
) -> Result<PagesReport> {
    let started = Instant::now();
    let mut server = start_demo_with_cases(exe, data_dir, addr, database_url, cases)?;
    let outcome = (|| -> Result<PagesReport> {
        time_until_healthy(&mut server, addr, started)?;
        let leader_token = crate::client::sign_in(addr, "leader", "demo")?;
        let mut api = crate::client::Conn::new(addr);
        // The demo cases load in the background, a batch a transaction: wait for all of them.
        let mut loaded = 0i64;
        while loaded < cases as i64 {
            std::thread::sleep(Duration::from_secs(1));
            let r = api.get("/api/v1/cases?limit=1", Some(&leader_token))?;
            loaded = r.json()?["total"].as_i64().unwrap_or(0);
            if started.elapsed() > Duration::from_secs(1800) {
                bail!("the demo cases did not finish loading in 30 minutes ({loaded} so far)");
            }
        }
        let load = started.elapsed();
        let latest = api.get("/api/v1/cases?limit=1", Some(&leader_token))?.json()?;
        let case_id = latest["cases"][0]["id"].as_i64().context("a demo case")?;
        let clerk_token = crate::client::sign_in(addr, "clerk", "demo")?;
        let bodies = intake_bodies(requests + 1)?;
        let mut sessions = std::collections::HashMap::new();
        let mut timings = Vec::new();
        for (who, path) in PAGES {
            let path = path.replace("{case}", &case_id.to_string());
            if !sessions.contains_key(who) {
                sessions.insert(who, crate::client::page_session(addr, who, "demo")?);
            }
            let cookie = sessions[who].clone();
            let mut conn = crate::client::Conn::new(addr);
            let headers = [("Cookie", cookie.as_str()), ("Accept", "text/html")];
            let refresh_counts = who == "clerk" && path == "/inbox";
            let mut took = Vec::with_capacity(requests);
            let mut bytes = 0;
            // One request unmeasured first: the connection and the server's caches warm up.
            for (i, body) in bodies.iter().enumerate().take(requests + 1) {
                if refresh_counts {
                    let r = api.post_json("/api/v1/cases", Some(&clerk_token), &[], body)?;
                    if r.status != 201 {
                        bail!("reporting a case: {} {}", r.status, r.text());
                    }
                }
                let sent = Instant::now();
                let r = conn.request("GET", &path, &headers, b"")?;
                let elapsed = sent.elapsed();
                if r.status != 200 {
                    bail!("{who} GET {path}: {} {}", r.status, r.text());
                }
                bytes = r.body.len();
                if i > 0 {
                    took.push(elapsed);
                }
            }
            took.sort();
            let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
            timings.push(PageTiming {
                who,
                path,
                p50: at(0.50),
                p95: at(0.95),
                bytes,
            });
        }
        Ok(PagesReport {
            cases: loaded,
            load,
            pages: timings,
        })
    })();
    let _ = server.kill();
    let _ = server.wait();
    outcome
}

/// What `bench open311` measured.
pub struct Open311Report {
    pub connections: usize,
    pub measured: Duration,
    /// Requests posted before measuring, and how many one list answer held.
    pub posted: usize,
    pub listed: usize,
    pub answered: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Open311Report {
    pub fn rate(&self) -> f64 {
        self.answered as f64 / self.measured.as_secs_f64()
    }
}

/// `application/x-www-form-urlencoded` text of one value.
fn form_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The list path `bench open311` reads: every request of the last 90 days (the 50 posted).
pub const OPEN311_LIST: &str = "/open311/v2/requests.json";

/// Starts `gongzhi demo` (no demo cases) on an empty data folder (or database), has the system
/// administrator create an API key, posts `posted` Open311 requests with it, then has
/// `connections` clients, each on one keep-alive connection, GET [`OPEN311_LIST`] back to back
/// for `warm_up` + `measure`; only the second part is measured.
#[allow(clippy::too_many_arguments)]
pub fn open311(
    exe: &Path,
    data_dir: &Path,
    addr: SocketAddr,
    database_url: Option<&str>,
    connections: usize,
    posted: usize,
    warm_up: Duration,
    measure: Duration,
) -> Result<Open311Report> {
    let started = Instant::now();
    // What is measured is the list's own throughput from one address: its per-address budget
    // (`open311_reads_per_minute`) would answer most of it 429.
    let config = data_dir.join("bench-open311.toml");
    std::fs::write(&config, "[security]\nopen311_reads_per_minute = 0\n")?;
    let mut server = start_demo_configured(exe, data_dir, addr, database_url, 0, Some(&config))?;
    if let Err(e) = time_until_healthy(&mut server, addr, started) {
        let _ = server.kill();
        let _ = server.wait();
        return Err(e);
    }
    let outcome = (|| -> Result<Open311Report> {
        let admin = crate::client::sign_in(addr, "admin", "demo")?;
        let mut conn = crate::client::Conn::new(addr);
        let name = format!("bench-{}", std::process::id());
        let body = serde_json::json!({"name": name, "scope": "230900000000", "rate_per_minute": 6000});
        let r = conn.post_json("/api/v1/api-keys", Some(&admin), &[], body.to_string().as_bytes())?;
        anyhow::ensure!(r.status == 201, "creating the API key: {} {}", r.status, r.text());
        let key = r.json()?["key"].as_str().unwrap_or_default().to_string();
        for (i, body) in intake_bodies(posted)?.iter().enumerate() {
            let b: serde_json::Value = serde_json::from_slice(body)?;
            let form = format!(
                "api_key={}&service_code={}&lat={}&long={}&description={}",
                form_value(&key),
                form_value(b["matter"].as_str().unwrap_or("06001")),
                b["lat"],
                b["lon"],
                form_value(&format!("Open311 基准测试请求 {i}")),
            );
            let r = conn.request(
                "POST",
                "/open311/v2/requests.json",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                form.as_bytes(),
            )?;
            anyhow::ensure!(r.status == 200, "posting request {i}: {} {}", r.status, r.text());
        }
        let first = conn.get(OPEN311_LIST, None)?;
        anyhow::ensure!(first.status == 200, "listing: {} {}", first.status, first.text());
        let listed = first.json()?.as_array().map_or(0, Vec::len);

        let load = drive(addr, connections, warm_up, measure, 200, |conn, _, _| {
            conn.get(OPEN311_LIST, None)
        })?;
        Ok(Open311Report {
            connections,
            measured: measure,
            posted,
            listed,
            answered: load.ok,
            errors: load.errors,
            first_error: load.first_error.clone(),
            p50: load.at(0.50),
            p99: load.at(0.99),
            max: load.latencies.last().copied().unwrap_or_default(),
        })
    })();
    let _ = server.kill();
    let _ = server.wait();
    outcome
}
