//! `gongzhi bench`: the speed figures of docs/PERFORMANCE.md, measured the same way each time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use gongzhi_core::territory::{GridIndex, Level, LonLat};
use rand::{Rng, SeedableRng};

use crate::demo::{GridSystem, build};

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
    let mut cmd = Command::new(exe);
    cmd.arg("demo")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--listen")
        .arg(addr.to_string())
        // The territory and accounts only: the year of demo cases loads in the background and is
        // measured on its own (docs/PERFORMANCE.md).
        .arg("--demo-cases")
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

fn time_until_healthy(child: &mut Child, addr: SocketAddr, started: Instant) -> Result<Duration> {
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
