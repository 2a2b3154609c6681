//! Crash safety of case intake: the real server is killed with SIGKILL in the middle of a burst
//! of reports; after a restart every acknowledged case is there, and clients retrying with their
//! idempotency keys create no duplicate.

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gongzhi::client::{Conn, sign_in};
use gongzhi_core::territory::Level;
use gongzhi_store::testing::{TestDb, drop_pg_database, pg_admin_url};

const REPORTS: usize = 1_000;
const CLIENTS: usize = 8;
/// The server is killed once this many reports were acknowledged.
const KILL_AFTER: usize = 300;

pub(crate) fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// Starts `gongzhi demo` on `data_dir` (and `database_url`, else SQLite there) at `addr`, and
/// waits until it answers.
pub(crate) fn start(data_dir: &Path, addr: SocketAddr, database_url: Option<&str>) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gongzhi"));
    c.env_remove("GONGZHI_DATABASE_URL")
        .env_remove("GONGZHI_CONFIG")
        .env_remove("GONGZHI_AUDIT_KEY")
        .env_remove("GONGZHI_AUDIT_KEY_FILE")
        .env("GONGZHI_LOG", "error")
        // No simulated year of cases (where `demo` loads one): the test counts its own cases.
        .env("GONGZHI_DEMO_CASES", "0")
        .env("GONGZHI_DEMO_REGISTRY_SCALE", "0")
        .arg("demo")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--listen")
        .arg(addr.to_string());
    if let Some(url) = database_url {
        c.arg("--database-url").arg(url);
    }
    let mut child = c
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start gongzhi demo");
    let started = Instant::now();
    loop {
        if Conn::new(addr).get("/healthz", None).is_ok_and(|r| r.status == 200) {
            return child;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("gongzhi demo exited with {status} before it was ready");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "gongzhi demo not ready after 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn bodies() -> Vec<String> {
    report_bodies(REPORTS)
}

/// `n` report bodies placed by grid code, spread over the demo city's grids.
pub(crate) fn report_bodies(n: usize) -> Vec<String> {
    let nodes = gongzhi_demo::grids::build(&gongzhi_demo::grids::GridSystem::builtin().unwrap()).unwrap();
    let grids: Vec<String> = nodes
        .iter()
        .filter(|n| n.level() == Level::Grid)
        .map(|n| n.code.as_str().to_string())
        .collect();
    (0..n)
        .map(|i| {
            serde_json::json!({"channel": "hotline", "matter": "06010", "grid_code": grids[i * 7 % grids.len()],
                "description": format!("第{i}号来电：路边有暴露垃圾")})
            .to_string()
        })
        .collect()
}

/// A 201 as the client saw it.
#[derive(Debug, Clone)]
struct Acked {
    id: i64,
    number: String,
    replayed: bool,
}

/// Sends every report in `which` from `CLIENTS` concurrent clients, each with the key
/// `crash-{i}`; returns the 201s by report. `on_ack` runs after each 201.
fn fire(
    addr: SocketAddr,
    token: &str,
    bodies: &Arc<Vec<String>>,
    on_ack: impl Fn(usize) + Send + Sync + 'static,
) -> HashMap<usize, Acked> {
    let acked = Arc::new(Mutex::new(HashMap::new()));
    let on_ack = Arc::new(on_ack);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (token, bodies, acked, on_ack) = (token.to_string(), bodies.clone(), acked.clone(), on_ack.clone());
            std::thread::spawn(move || {
                let mut conn = Conn::new(addr).with_timeout(Duration::from_secs(20));
                for i in (c..REPORTS).step_by(CLIENTS) {
                    let key = format!("crash-{i}");
                    let r = conn.post_json(
                        "/api/v1/cases",
                        Some(&token),
                        &[("Idempotency-Key", &key)],
                        bodies[i].as_bytes(),
                    );
                    if let Ok(r) = r
                        && r.status == 201
                    {
                        let j = r.json().unwrap();
                        let a = Acked {
                            id: j["id"].as_i64().unwrap(),
                            number: j["number"].as_str().unwrap().to_string(),
                            replayed: r.header("idempotency-replayed") == Some("true"),
                        };
                        acked.lock().unwrap().insert(i, a);
                        on_ack(i);
                    }
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    Arc::try_unwrap(acked).unwrap().into_inner().unwrap()
}

fn crash_and_retry(data_dir: &Path, database_url: Option<&str>) {
    let started = Instant::now();
    let addr = free_addr();
    let bodies = Arc::new(bodies());
    let server = Arc::new(Mutex::new(start(data_dir, addr, database_url)));
    let clerk = sign_in(addr, "clerk", "demo").unwrap();

    // The burst; SIGKILL (Child::kill on Unix) once KILL_AFTER reports were acknowledged.
    let count = Arc::new(AtomicUsize::new(0));
    let killer = {
        let (server, count) = (server.clone(), count.clone());
        move |_| {
            if count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                server.lock().unwrap().kill().unwrap();
            }
        }
    };
    let first = fire(addr, &clerk, &bodies, killer);
    server.lock().unwrap().wait().unwrap();
    assert!(
        first.len() >= KILL_AFTER && first.len() < REPORTS,
        "the server should die mid-burst; {} of {REPORTS} acknowledged",
        first.len()
    );

    // Restart on the same data: every acknowledged case is there, with its timeline.
    let mut server = start(data_dir, addr, database_url);
    let clerk = sign_in(addr, "clerk", "demo").unwrap();
    let mut conn = Conn::new(addr);
    for (i, a) in &first {
        let r = conn.get(&format!("/api/v1/cases/{}", a.id), Some(&clerk)).unwrap();
        assert_eq!(
            r.status,
            200,
            "report {i} (case {}) acknowledged but lost: {}",
            a.id,
            r.text()
        );
        let j = r.json().unwrap();
        assert_eq!(j["number"], a.number.as_str(), "report {i}");
        let timeline = j["timeline"].as_array().unwrap();
        assert_eq!(timeline.len(), 1, "report {i}: {timeline:?}");
    }

    // Every client retries every key: the acknowledged come back replayed, the rest once.
    let second = fire(addr, &clerk, &bodies, |_| {});
    assert_eq!(second.len(), REPORTS, "every retry is answered 201");
    let mut stored_unacked = 0;
    for (i, a) in &second {
        match first.get(i) {
            Some(before) => {
                assert!(a.replayed, "report {i} was stored: its retry must be a replay");
                assert_eq!(a.id, before.id, "report {i}");
            }
            None if a.replayed => stored_unacked += 1,
            None => {}
        }
    }
    let ids: HashSet<i64> = second.values().map(|a| a.id).collect();
    assert_eq!(ids.len(), REPORTS, "one case per key");
    let listed = conn.get("/api/v1/cases?limit=1", Some(&clerk)).unwrap().json().unwrap();
    assert_eq!(listed["total"], REPORTS, "exactly one case per report, no duplicate");

    let admin = sign_in(addr, "auditor", "demo").unwrap();
    let verdict = conn.get("/api/v1/audit/verify", Some(&admin)).unwrap();
    assert_eq!(verdict.status, 200, "{}", verdict.text());
    let verdict = verdict.json().unwrap();
    assert_eq!(verdict["intact"], true, "{verdict}");

    server.kill().unwrap();
    server.wait().unwrap();
    eprintln!(
        "crash test on {}: {} acknowledged before SIGKILL, {} stored but unanswered, {:.1} s",
        database_url.map_or("sqlite", |_| "postgres"),
        first.len(),
        stored_unacked,
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn intake_survives_sigkill_mid_burst_on_sqlite() {
    let dir = TestDb::temp_dir();
    crash_and_retry(&dir, None);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn intake_survives_sigkill_mid_burst_on_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some((url, name)) = rt.block_on(TestDb::postgres_url()) else {
        return;
    };
    let dir = TestDb::temp_dir();
    crash_and_retry(&dir, Some(&url));
    drop_pg_database(&pg_admin_url(), &name);
    std::fs::remove_dir_all(dir).ok();
}
