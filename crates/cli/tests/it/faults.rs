//! Storage faults against the real server (`gongzhi demo`, as `crash.rs` starts it): the disk
//! fills up and empties again, PostgreSQL restarts under writes, the data folder is read-only.
//! Each time a refused write answers 503 `storage_unavailable` in JSON, `/readyz` says not
//! ready while writes fail, no acknowledged write is lost or made twice (every POST carries an
//! Idempotency-Key), and Gongzhi takes writes again by itself, without a restart. (SIGKILL under
//! keyed load on both databases is `crash.rs`.)
//!
//! The disk and read-only cases mount a small tmpfs (CI runs as root); where mounting is not
//! permitted they say so and skip. The PostgreSQL case starts a private cluster of its own on a
//! free port, never the machine's shared server.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gongzhi::client::{Conn, Reply, sign_in};
use gongzhi_store::testing::TestDb;

use crate::crash::{free_addr, report_bodies, start};

/// A tmpfs of `size` mounted at `dir`, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// `None` (with the reason printed) when this process may not mount.
    fn mount(dir: &Path, options: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs(dir.to_path_buf())),
            Ok(o) => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs at {} ({}): run as root to test storage faults",
                    dir.display(),
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: no mount command ({e}): run as root to test storage faults");
                None
            }
        }
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success(), "remount {options}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// The server, killed when the test ends, also when it fails.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// POSTs report `i` with the key `{prefix}-{i}`.
fn report(conn: &mut Conn, token: &str, prefix: &str, i: usize, body: &str) -> Reply {
    let key = format!("{prefix}-{i}");
    conn.post_json(
        "/api/v1/cases",
        Some(token),
        &[("Idempotency-Key", &key)],
        body.as_bytes(),
    )
    .unwrap_or_else(|e| panic!("report {key}: {e}"))
}

/// A refusal because of the storage: 503 with the catalogue's JSON error, in Chinese.
fn assert_storage_refusal(r: &Reply, what: &str) {
    assert_eq!(r.status, 503, "{what}: {}", r.text());
    let j = r
        .json()
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", r.text()));
    assert_eq!(j["error"]["code"], "storage_unavailable", "{what}: {j}");
    let message = j["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("稍后重试"), "{what}: {message}");
}

/// Report `i` on a full disk: stored (201, its id kept) or refused with 503, never anything else.
fn stored_or_refused(r: &Reply, i: usize, acked: &mut HashMap<usize, i64>, refused: &mut Vec<usize>) {
    if r.status == 201 {
        acked.insert(i, r.json().unwrap()["id"].as_i64().unwrap());
    } else {
        assert_storage_refusal(r, &format!("report {i} on a full disk"));
        refused.push(i);
    }
}

/// Fills the file system of `dir` to the last byte with the file `ballast`.
fn fill(ballast: &Path) {
    let mut f = std::fs::File::create(ballast).unwrap();
    for chunk in [1 << 20, 1 << 12, 1] {
        let bytes = vec![0x5au8; chunk];
        while f.write_all(&bytes).is_ok() {}
    }
    f.sync_all().ok();
}

#[test]
fn a_full_disk_refuses_writes_with_503_serves_reads_and_takes_writes_again_once_space_is_back() {
    let dir = TestDb::temp_dir().join("data");
    let Some(disk) = Tmpfs::mount(&dir, "size=96m,mode=0700") else {
        return;
    };
    let started = Instant::now();
    let addr = free_addr();
    let server = Server(start(&dir, addr, None));
    let clerk = sign_in(addr, "clerk", "demo").unwrap();
    let bodies = report_bodies(400);
    let mut conn = Conn::new(addr).with_timeout(Duration::from_secs(30));
    let first = report(&mut conn, &clerk, "disk", 0, &bodies[0]);
    assert_eq!(first.status, 201, "{}", first.text());
    let first_id = first.json().unwrap()["id"].as_i64().unwrap();
    let mut acked: HashMap<usize, i64> = HashMap::from([(0, first_id)]);

    // The disk fills up. Writes go on until one is refused (a small one may still fit in the
    // space the write-ahead log already holds).
    let ballast = dir.join("ballast");
    fill(&ballast);
    let mut next = 1;
    let mut refused = Vec::new();
    while refused.is_empty() {
        assert!(next < 300, "300 reports accepted on a full disk");
        let r = report(&mut conn, &clerk, "disk", next, &bodies[next]);
        stored_or_refused(&r, next, &mut acked, &mut refused);
        next += 1;
    }
    let accepted_on_full_disk = acked.len() - 1;
    // Not ready while writes fail.
    let ready = conn.get("/readyz", None).unwrap();
    assert_storage_refusal(&ready, "/readyz on a full disk");
    // Reads still work.
    let r = conn.get(&format!("/api/v1/cases/{first_id}"), Some(&clerk)).unwrap();
    assert_eq!(r.status, 200, "a read on a full disk: {}", r.text());
    let r = conn.get("/api/v1/cases?limit=5", Some(&clerk)).unwrap();
    assert_eq!(r.status, 200, "a list on a full disk: {}", r.text());
    // More writes: each is stored or refused with 503, never a 500.
    for _ in 0..20 {
        let r = report(&mut conn, &clerk, "disk", next, &bodies[next]);
        stored_or_refused(&r, next, &mut acked, &mut refused);
        next += 1;
    }

    // Space comes back: writes resume by themselves, and /readyz with them.
    std::fs::remove_file(&ballast).unwrap();
    let freed = Instant::now();
    let mut recovered = None;
    while freed.elapsed() < Duration::from_secs(15) {
        let r = report(&mut conn, &clerk, "disk", next, &bodies[next]);
        if r.status == 201 {
            acked.insert(next, r.json().unwrap()["id"].as_i64().unwrap());
            recovered = Some(freed.elapsed());
            next += 1;
            break;
        }
        assert_storage_refusal(&r, "a write just after space came back");
        std::thread::sleep(Duration::from_millis(50));
    }
    let recovered = recovered.expect("writes resume within 15 s of space coming back, without a restart");
    let ready = conn.get("/readyz", None).unwrap();
    assert_eq!(ready.status, 200, "/readyz once writes work again: {}", ready.text());

    // The refused reports, retried with their keys, are stored once each; the stored ones come
    // back as themselves.
    for &i in &refused {
        let r = report(&mut conn, &clerk, "disk", i, &bodies[i]);
        assert_eq!(r.status, 201, "retry of refused report {i}: {}", r.text());
        acked.insert(i, r.json().unwrap()["id"].as_i64().unwrap());
    }
    for (&i, &id) in &acked.clone() {
        let r = report(&mut conn, &clerk, "disk", i, &bodies[i]);
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(
            r.json().unwrap()["id"].as_i64(),
            Some(id),
            "report {i} replayed as itself"
        );
    }
    let listed = conn.get("/api/v1/cases?limit=1", Some(&clerk)).unwrap().json().unwrap();
    assert_eq!(listed["total"], next, "one case per report, none lost, none twice");

    drop(server);
    drop(disk);
    std::fs::remove_dir_all(dir.parent().unwrap()).ok();
    eprintln!(
        "disk full: {accepted_on_full_disk} reports still fitted, {} refused with 503; writes back {} ms after space returned; {:.1} s in all",
        refused.len(),
        recovered.as_millis(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn a_read_only_data_folder_stops_the_server_at_start_with_one_line_naming_the_folder() {
    let dir = TestDb::temp_dir().join("data");
    let Some(disk) = Tmpfs::mount(&dir, "size=32m,mode=0700") else {
        return;
    };
    let gongzhi = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_gongzhi"));
        c.env_remove("GONGZHI_DATABASE_URL")
            .env_remove("GONGZHI_CONFIG")
            .env_remove("GONGZHI_AUDIT_KEY_FILE")
            .env(
                "GONGZHI_AUDIT_KEY",
                "hex:74657374206175646974206b6579206f6e6c792c206e6f7420666f72207573",
            )
            .env("GONGZHI_LOG", "error");
        c
    };
    // A database that was written, then its disk mounted read-only.
    let migrated = gongzhi().arg("migrate").arg("--data-dir").arg(&dir).output().unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    disk.remount("ro");

    for (lang, words) in [("zh", "无法写入"), ("en", "cannot be written")] {
        let out = gongzhi()
            .args([
                "--lang",
                lang,
                "serve",
                "--listen",
                &free_addr().to_string(),
                "--data-dir",
            ])
            .arg(&dir)
            .stdout(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{lang}: it must refuse to start: {err}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{lang}: one line: {err}");
        assert!(
            lines[0].contains(&dir.display().to_string()) && lines[0].contains(words),
            "{lang}: {err}"
        );
    }
    drop(disk);
    std::fs::remove_dir_all(dir.parent().unwrap()).ok();
}

/// A PostgreSQL cluster of this test's own, in a temporary folder, on a free port.
struct PrivatePg {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
}

impl PrivatePg {
    /// `None` (with the reason printed) when no PostgreSQL binaries are installed.
    fn init() -> Option<PrivatePg> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").exists())
            .max();
        let Some(bin) = bin else {
            eprintln!("SKIPPED: no /usr/lib/postgresql/*/bin/initdb: install PostgreSQL to test its restart");
            return None;
        };
        let data = TestDb::temp_dir().join("pg");
        std::fs::create_dir_all(&data).unwrap();
        let port = free_addr().port();
        let pg = PrivatePg { bin, data, port };
        let mut initdb = pg.as_postgres(&pg.bin.join("initdb"));
        initdb
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "-D"])
            .arg(&pg.data);
        let out = initdb.output().unwrap();
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        Some(pg)
    }

    /// `program` as the `postgres` user when this runs as root (PostgreSQL refuses root).
    fn as_postgres(&self, program: &Path) -> Command {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        if root {
            let _ = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&self.data)
                .status();
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    fn ctl(&self, action: &str) {
        let mut c = self.as_postgres(&self.bin.join("pg_ctl"));
        c.arg("-D").arg(&self.data).args(["-w", "-t", "30", "-m", "fast", "-l"]);
        c.arg(self.data.join("log"));
        c.arg("-o").arg(format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.data.display()
        ));
        let out = c.arg(action).stdout(Stdio::null()).output().unwrap();
        assert!(
            out.status.success(),
            "pg_ctl {action}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let mut c = self.as_postgres(&self.bin.join("pg_ctl"));
        let _ = c
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        std::fs::remove_dir_all(self.data.parent().unwrap()).ok();
    }
}

/// What became of one keyed report.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Stored(i64),
    /// 503 `storage_unavailable`.
    Refused,
    /// No answer (the connection broke): unknown.
    NoAnswer,
}

#[test]
fn postgresql_restarted_under_writes_refuses_with_503_loses_nothing_and_gongzhi_recovers_alone() {
    let Some(pg) = PrivatePg::init() else { return };
    pg.ctl("start");
    let started = Instant::now();
    let dir = TestDb::temp_dir();
    let addr: SocketAddr = free_addr();
    let server = Server(start(&dir, addr, Some(&pg.url())));
    let clerk = sign_in(addr, "clerk", "demo").unwrap();
    const WRITERS: usize = 4;
    const PER_WRITER: usize = 200;
    let bodies = Arc::new(report_bodies(WRITERS * PER_WRITER));
    let outcomes = Arc::new(Mutex::new(HashMap::<usize, Outcome>::new()));
    let stop_writing = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (clerk, bodies, outcomes, stop_writing) =
                (clerk.clone(), bodies.clone(), outcomes.clone(), stop_writing.clone());
            std::thread::spawn(move || {
                let mut conn = Conn::new(addr).with_timeout(Duration::from_secs(30));
                for i in (w..WRITERS * PER_WRITER).step_by(WRITERS) {
                    if stop_writing.load(Ordering::SeqCst) {
                        break;
                    }
                    let key = format!("pg-{i}");
                    let outcome = match conn.post_json(
                        "/api/v1/cases",
                        Some(&clerk),
                        &[("Idempotency-Key", &key)],
                        bodies[i].as_bytes(),
                    ) {
                        Ok(r) if r.status == 201 => Outcome::Stored(r.json().unwrap()["id"].as_i64().unwrap()),
                        Ok(r) => {
                            assert_storage_refusal(&r, &format!("report {i} while PostgreSQL restarts"));
                            Outcome::Refused
                        }
                        Err(_) => {
                            conn = Conn::new(addr).with_timeout(Duration::from_secs(30));
                            Outcome::NoAnswer
                        }
                    };
                    outcomes.lock().unwrap().insert(i, outcome);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        })
        .collect();
    let stored = |o: &Mutex<HashMap<usize, Outcome>>| {
        o.lock()
            .unwrap()
            .values()
            .filter(|v| matches!(v, Outcome::Stored(_)))
            .count()
    };
    while stored(&outcomes) < 40 {
        std::thread::sleep(Duration::from_millis(20));
    }

    // PostgreSQL stops under the writes: not ready while it is down.
    pg.ctl("stop");
    let down = Instant::now();
    let mut conn = Conn::new(addr).with_timeout(Duration::from_secs(30));
    let ready = conn.get("/readyz", None).unwrap();
    assert_storage_refusal(&ready, "/readyz while PostgreSQL is down");
    std::thread::sleep(Duration::from_secs(2));
    let refused_while_down = outcomes
        .lock()
        .unwrap()
        .values()
        .filter(|v| **v == Outcome::Refused)
        .count();
    pg.ctl("start");
    let up = Instant::now();
    let down_for = up - down;

    // Gongzhi takes writes again by itself.
    let before = stored(&outcomes);
    let mut recovered = None;
    while up.elapsed() < Duration::from_secs(30) {
        if stored(&outcomes) > before + 5 && conn.get("/readyz", None).is_ok_and(|r| r.status == 200) {
            recovered = Some(up.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let recovered = recovered.expect("writes and /readyz back within 30 s of PostgreSQL, without restarting Gongzhi");
    stop_writing.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().expect("a writer saw only 201 or 503 storage_unavailable");
    }

    // Every report retried with its key: the stored ones come back as themselves, the others
    // are stored now, once.
    let outcomes = Arc::try_unwrap(outcomes).unwrap().into_inner().unwrap();
    let refused = outcomes.values().filter(|v| **v == Outcome::Refused).count();
    let unanswered = outcomes.values().filter(|v| **v == Outcome::NoAnswer).count();
    assert!(refused + unanswered > 0, "some writes must have met the stopped server");
    let mut ids = std::collections::HashSet::new();
    for (&i, outcome) in &outcomes {
        let r = report(&mut conn, &clerk, "pg", i, &bodies[i]);
        assert_eq!(r.status, 201, "retry of report {i} ({outcome:?}): {}", r.text());
        let id = r.json().unwrap()["id"].as_i64().unwrap();
        if let Outcome::Stored(before) = outcome {
            assert_eq!(id, *before, "acknowledged report {i} replayed as itself");
        }
        assert!(ids.insert(id), "report {i}: case {id} twice");
    }
    let listed = conn.get("/api/v1/cases?limit=1", Some(&clerk)).unwrap().json().unwrap();
    assert_eq!(
        listed["total"],
        outcomes.len(),
        "one case per report: none lost, none twice"
    );

    drop(server);
    drop(pg);
    std::fs::remove_dir_all(dir).ok();
    eprintln!(
        "postgres restart: down {} ms, {refused_while_down} refused with 503 while down ({refused} in all, {unanswered} unanswered), writes and /readyz back {} ms after it was up; {:.1} s in all",
        down_for.as_millis(),
        recovered.as_millis(),
        started.elapsed().as_secs_f64()
    );
}
