//! `gongzhi bench reads`: what staff and integrators read all day (one case, the lists, Open311,
//! the territory, the audit record), on the demo city with its year of cases and its registry,
//! under concurrency (issue 15).
//!
//! The demo is loaded once into a data folder the benchmark keeps (`--data-dir`), through the
//! product's own loaders: a year of 50,000 cases takes minutes and a million about half an hour, so
//! later runs reuse it. Each read is then driven by `connections` keep-alive clients for a few
//! seconds, `runs` times; the report gives the median run's rate and latencies.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench::{drive, start_demo_configured, time_until_healthy};
use crate::client::{Conn, page_session, sign_in};

/// Written into the data folder once the demo has loaded there: what was loaded.
const LOADED_MARKER: &str = "bench-reads-loaded.txt";

/// What `gongzhi bench reads` loads and how it drives each read.
pub struct ReadsOptions<'a> {
    pub cases: usize,
    pub registry_scale: f64,
    pub database_url: Option<&'a str>,
    pub connections: Vec<usize>,
    pub warm_up: Duration,
    pub measure: Duration,
    pub runs: usize,
    /// Only the reads whose name contains one of these (all when empty).
    pub only: Vec<String>,
}

/// One read measured at one concurrency: the median run of `runs`.
pub struct ReadTiming {
    pub name: &'static str,
    pub path: String,
    pub connections: usize,
    /// Answers per second of each run, sorted.
    pub rates: Vec<f64>,
    pub p50: Duration,
    pub p99: Duration,
    /// The size of one answer's body as sent (uncompressed unless the read asks for gzip).
    pub bytes: usize,
    pub errors: usize,
    pub first_error: Option<String>,
}

impl ReadTiming {
    pub fn median_rate(&self) -> f64 {
        self.rates[self.rates.len() / 2]
    }
}

pub struct ReadsReport {
    pub cases: i64,
    pub database: &'static str,
    /// How long loading the demo took, when this run loaded it.
    pub loaded_in: Option<Duration>,
    pub reads: Vec<ReadTiming>,
    /// `GET /api/v1/audit/verify` (incremental) and `?full=true`, one request each after the
    /// loads: wall time and the entries it reports.
    pub audit: Vec<(String, Duration, String)>,
}

/// Who reads, what, and which answer counts.
#[derive(Clone, Copy)]
enum Reader {
    /// The API with the leader's bearer token (city-wide).
    Api,
    /// The staff pages with the leader's session cookie.
    Page,
    /// Nobody signed in (Open311's public reads).
    Public,
}

struct Read {
    name: &'static str,
    reader: Reader,
    /// `{case}` is replaced by a case id drawn for each request.
    path: String,
    gzip: bool,
}

fn reads(last_page: i64, last_cursor: i64, open311_last_page: i64) -> Vec<Read> {
    let r = |name, reader, path: &str| Read {
        name,
        reader,
        path: path.to_string(),
        gzip: false,
    };
    vec![
        r("case, API", Reader::Api, "/api/v1/cases/{case}"),
        r("case, page", Reader::Page, "/cases/{case}"),
        r("cases, API, 50", Reader::Api, "/api/v1/cases?limit=50"),
        r("cases, API, closed", Reader::Api, "/api/v1/cases?limit=50&state=closed"),
        r(
            "cases, API, hotline overdue",
            Reader::Api,
            "/api/v1/cases?limit=50&channel=hotline&overdue=true",
        ),
        r(
            "cases, API, one matter",
            Reader::Api,
            "/api/v1/cases?limit=50&matter=06010",
        ),
        r(
            "cases, API, last page",
            Reader::Api,
            &format!("/api/v1/cases?limit=50&cursor={last_cursor}"),
        ),
        r("cases, page", Reader::Page, "/cases"),
        r("cases, page, closed", Reader::Page, "/cases?state=closed"),
        r(
            "cases, page, by deadline",
            Reader::Page,
            "/cases?overdue=true&sort=deadline",
        ),
        r(
            "cases, page, last page",
            Reader::Page,
            &format!("/cases?page={last_page}"),
        ),
        r("open311, default", Reader::Public, "/open311/v2/requests.json"),
        r("open311, 50", Reader::Public, "/open311/v2/requests.json?page_size=50"),
        r(
            "open311, closed",
            Reader::Public,
            "/open311/v2/requests.json?page_size=50&status=closed",
        ),
        r(
            "open311, last page",
            Reader::Public,
            &format!("/open311/v2/requests.json?page_size=50&page={open311_last_page}"),
        ),
        r("territory, page", Reader::Page, "/territory"),
        Read {
            name: "territory, page, gzip",
            reader: Reader::Page,
            path: "/territory".into(),
            gzip: true,
        },
    ]
}

/// Loads the demo (its year of `cases` and `registry_scale` of its registry) into `data_dir`
/// unless a run before did, waiting for both background loads to finish. Returns the time it
/// took, or `None` when the folder already had it.
pub fn prepare(exe: &Path, data_dir: &Path, addr: SocketAddr, opts: &ReadsOptions) -> Result<Option<Duration>> {
    let wanted = format!(
        "cases={} registry_scale={} database={}\n",
        opts.cases,
        opts.registry_scale,
        opts.database_url.unwrap_or("sqlite")
    );
    let marker = data_dir.join(LOADED_MARKER);
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(None);
    }
    std::fs::create_dir_all(data_dir)?;
    let started = Instant::now();
    let mut cmd = Command::new(exe);
    cmd.arg("demo")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--demo-cases")
        .arg(opts.cases.to_string())
        .arg("--demo-registry-scale")
        .arg(opts.registry_scale.to_string())
        .env("GONGZHI_LOG", "info")
        .env("NO_COLOR", "1");
    if let Some(url) = opts.database_url {
        cmd.arg("--database-url").arg(url);
    }
    let mut server = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting gongzhi demo")?;
    // The loads report on the server's log: follow both of its streams.
    let (tx, rx) = mpsc::channel::<String>();
    for stream in [
        server
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        server
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
    }
    drop(tx);
    let mut cases_done = opts.cases == 0;
    let mut registry_done = opts.registry_scale <= 0.0;
    let outcome = (|| -> Result<()> {
        while !(cases_done && registry_done) {
            if let Some(status) = server.try_wait()? {
                bail!("gongzhi demo exited with {status} while loading");
            }
            if started.elapsed() > Duration::from_secs(4 * 3600) {
                bail!("the demo had not loaded after 4 hours");
            }
            let Ok(line) = rx.recv_timeout(Duration::from_secs(1)) else {
                continue;
            };
            if line.contains("demo cases: the year is loaded") || line.contains("demo cases found in the database") {
                cases_done = true;
            }
            if line.contains("demo registry loaded") || line.contains("demo registry found in the database") {
                registry_done = true;
            }
            if line.contains("demo cases loaded") || line.contains("ERROR") {
                eprintln!("bench reads: {line}");
            }
        }
        Ok(())
    })();
    let _ = server.kill();
    let _ = server.wait();
    outcome?;
    std::fs::write(&marker, wanted)?;
    Ok(Some(started.elapsed()))
}

/// Serves the demo loaded in `data_dir` by [`prepare`] (nothing loading in the background) and
/// drives every read at each concurrency of `opts`.
pub fn run(
    exe: &Path,
    data_dir: &Path,
    addr: SocketAddr,
    opts: &ReadsOptions,
    loaded_in: Option<Duration>,
) -> Result<ReadsReport> {
    // Open311's per-address read budget would answer most of a load from one address 429.
    let config = data_dir.join("bench-reads.toml");
    std::fs::write(&config, "[security]\nopen311_reads_per_minute = 0\n")?;
    let started = Instant::now();
    let mut server = start_demo_configured(exe, data_dir, addr, opts.database_url, 0, Some(&config))?;
    let outcome = (|| -> Result<ReadsReport> {
        time_until_healthy(&mut server, addr, started)?;
        let token = sign_in(addr, "leader", "demo")?;
        let cookie = page_session(addr, "leader", "demo")?;
        let mut api = Conn::new(addr);
        let newest = api.get("/api/v1/cases?limit=1", Some(&token))?;
        if newest.status != 200 {
            bail!("GET /api/v1/cases: {} {}", newest.status, newest.text());
        }
        let newest = newest.json()?;
        let max_id = newest["cases"][0]["id"].as_i64().context("the demo has no case")?;
        // The total is counted no further than the lists reach; ids are dense in the demo.
        let cases = match newest["total_exact"].as_bool() {
            Some(false) | None => max_id,
            Some(true) => newest["total"].as_i64().unwrap_or(max_id),
        };
        // The deepest page each list allows: the staff list and Open311 stop at
        // `[security] list_max_rows` (the bench's configuration keeps the default), the API's
        // cursor reaches the oldest case.
        let list_max_rows = gongzhi_core::people::policy::SecurityPolicy::default().list_max_rows;
        let reads = reads((list_max_rows / 50).max(1), 51.min(max_id), (list_max_rows / 50).max(1));
        let mut timings = Vec::new();
        for read in reads
            .iter()
            .filter(|r| opts.only.is_empty() || opts.only.iter().any(|o| r.name.contains(o.as_str())))
        {
            for &connections in &opts.connections {
                timings.push(measure(addr, read, connections, max_id, &token, &cookie, opts)?);
            }
        }
        let auditor = sign_in(addr, "auditor", "demo")?;
        let mut audit = Vec::new();
        for path in [
            "/api/v1/audit/verify",
            "/api/v1/audit/verify",
            "/api/v1/audit/verify?full=true",
        ] {
            let sent = Instant::now();
            let r = Conn::new(addr)
                .with_timeout(Duration::from_secs(600))
                .get(path, Some(&auditor))?;
            let took = sent.elapsed();
            let what = if r.status == 200 {
                let v = r.json()?;
                format!(
                    "{} of {} entries checked, intact: {}",
                    v["checked"].as_i64().unwrap_or(-1),
                    v["entries"].as_i64().unwrap_or(-1),
                    v["intact"]
                )
            } else {
                format!("{} {}", r.status, r.text())
            };
            audit.push((path.to_string(), took, what));
        }
        Ok(ReadsReport {
            cases,
            database: if opts.database_url.is_some() {
                "PostgreSQL"
            } else {
                "SQLite"
            },
            loaded_in,
            reads: timings,
            audit,
        })
    })();
    let _ = server.kill();
    let _ = server.wait();
    outcome
}

/// Grows the loaded city to about `cases` cases by copying the demo year's (see
/// [`gongzhi_store::Db::grow_by_copies`]), unless it has that many, and brings PostgreSQL's
/// statistics and visibility map up to date as autovacuum would (this machine's server runs
/// without it). Returns the cases there are and the time growing took.
pub async fn grow(
    data_dir: &Path,
    database_url: Option<&str>,
    cases: Option<usize>,
) -> Result<(i64, Option<Duration>)> {
    let settings = crate::config::Settings::resolve(
        None,
        Some(data_dir.to_path_buf()),
        database_url.map(str::to_string),
        &crate::config::FileConfig::default(),
    );
    let db = crate::context::open_database(&settings).await?;
    let mut have = db.case_count().await?;
    let mut took = None;
    if let Some(wanted) = cases.map(|c| c as i64)
        && have > 0
        && have < wanted
    {
        let started = Instant::now();
        let copies = (wanted + have - 1) / have - 1;
        let grown = db.grow_by_copies(copies).await?;
        eprintln!(
            "bench reads: grew the city by {} cases and {} timeline entries ({copies} copies)",
            grown.cases, grown.events
        );
        have = db.case_count().await?;
        took = Some(started.elapsed());
    }
    db.vacuum_analyze().await?;
    db.close().await;
    Ok((have, took))
}

/// Case ids spread over the whole year, so that neither the newest nor one hot case is measured.
fn case_id(max_id: i64, worker: usize, i: usize) -> i64 {
    let x = (worker as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    1 + (x % max_id.max(1) as u64) as i64
}

fn measure(
    addr: SocketAddr,
    read: &Read,
    connections: usize,
    max_id: i64,
    token: &str,
    cookie: &str,
    opts: &ReadsOptions,
) -> Result<ReadTiming> {
    let bearer = format!("Bearer {token}");
    let mut headers: Vec<(&str, &str)> = match read.reader {
        Reader::Api => vec![("Authorization", bearer.as_str()), ("Accept", "application/json")],
        Reader::Page => vec![("Cookie", cookie), ("Accept", "text/html")],
        Reader::Public => vec![("Accept", "application/json")],
    };
    if read.gzip {
        headers.push(("Accept-Encoding", "gzip"));
    }
    let path_for = |w: usize, i: usize| read.path.replace("{case}", &case_id(max_id, w, i).to_string());
    let first = Conn::new(addr).request("GET", &path_for(0, 0), &headers, b"")?;
    if first.status != 200 {
        bail!("{} GET {}: {} {}", read.name, read.path, first.status, first.text());
    }
    let bytes = first.body.len();
    let mut runs = Vec::new();
    for _ in 0..opts.runs.max(1) {
        let load = drive(addr, connections, opts.warm_up, opts.measure, 200, |conn, w, i| {
            conn.request("GET", &path_for(w, i), &headers, b"")
        })?;
        runs.push(load);
    }
    runs.sort_by_key(|l| l.ok);
    let median = &runs[runs.len() / 2];
    let seconds = opts.measure.as_secs_f64();
    let mut rates: Vec<f64> = runs.iter().map(|l| l.ok as f64 / seconds).collect();
    rates.sort_by(f64::total_cmp);
    Ok(ReadTiming {
        name: read.name,
        path: read.path.clone(),
        connections,
        rates,
        p50: median.at(0.50),
        p99: median.at(0.99),
        bytes,
        errors: runs.iter().map(|l| l.errors).sum(),
        first_error: runs.iter().find_map(|l| l.first_error.clone()),
    })
}

/// The report as the README and docs/PERFORMANCE.md quote it.
pub fn print(r: &ReadsReport) {
    match r.loaded_in {
        Some(d) => println!(
            "reads: {} on {} cases (loaded with the registry in {:.0} s)",
            r.database,
            r.cases,
            d.as_secs_f64()
        ),
        None => println!("reads: {} on {} cases (loaded before)", r.database, r.cases),
    }
    println!(
        "{:<30} {:>5} {:>9} {:>9} {:>9} {:>9}  runs (req/s)",
        "read", "conns", "req/s", "p50 ms", "p99 ms", "KB"
    );
    for t in &r.reads {
        let runs: Vec<String> = t.rates.iter().map(|x| format!("{x:.0}")).collect();
        println!(
            "{:<30} {:>5} {:>9.0} {:>9.1} {:>9.1} {:>9.1}  {}{}",
            t.name,
            t.connections,
            t.median_rate(),
            t.p50.as_secs_f64() * 1e3,
            t.p99.as_secs_f64() * 1e3,
            t.bytes as f64 / 1024.0,
            runs.join(" "),
            match (&t.first_error, t.errors) {
                (Some(e), n) if n > 0 => format!("  {n} errors, first: {}", e.chars().take(120).collect::<String>()),
                _ => String::new(),
            }
        );
    }
    for (path, took, what) in &r.audit {
        println!("audit: GET {path} in {:.0} ms: {what}", took.as_secs_f64() * 1e3);
    }
}
