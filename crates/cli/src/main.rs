use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use gongzhi::commands::{import_grids, serve, verify_audit};
use gongzhi::config::{FileConfig, no_personal_data_key_message};
use gongzhi::context::{Context, Needs, Refused, Storage};
use gongzhi::rules;
use gongzhi_core::Lang;
use gongzhi_core::audit::AuditKey;
use gongzhi_demo::{ensure_demo, ensure_demo_accounts, ensure_demo_cases, ensure_demo_registry};

/// Gongzhi (共治): grid-based grassroots governance for a city, in one binary.
///
/// Settings come from flags, then GONGZHI_* environment variables, then the TOML file given by
/// --config (keys: listen, data_dir, database_url, log, index_refresh_seconds, demo_seed,
/// attachment_max_bytes, audit_key_file, audit_key, audit_checkpoint_file,
/// audit_checkpoint_minutes, audit_witness), then defaults. The audit key may also be given in the
/// GONGZHI_AUDIT_KEY environment variable (hex or base64); it is never kept in the database.
#[derive(Parser)]
#[command(name = "gongzhi", version, about, long_about)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, env = "GONGZHI_CONFIG", global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log filter, e.g. info, warn, gongzhi_web=debug. [default: info]
    #[arg(long, env = "GONGZHI_LOG", global = true)]
    log: Option<String>,
    /// Language of command-line messages: zh (default) or en.
    #[arg(long, env = "GONGZHI_LANG", global = true, default_value = "zh")]
    lang: String,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Args, Clone)]
struct Server {
    /// Address to listen on. [default: 127.0.0.1:8080]
    #[arg(long, env = "GONGZHI_LISTEN", value_name = "ADDR")]
    listen: Option<SocketAddr>,
    #[command(flatten)]
    storage: Storage,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the web pages and the API.
    Serve(Server),
    /// Build the Qitaihe demo city on first run (reused afterwards), then serve it.
    Demo {
        #[command(flatten)]
        server: Server,
        /// Seed of the demo city's grid layer. [default: from data/qitaihe/grid-system.toml]
        #[arg(long, env = "GONGZHI_DEMO_SEED")]
        seed: Option<u64>,
        /// Password of the demo accounts (admin, leader, clerk, …), set when they are created.
        #[arg(
            long,
            env = "GONGZHI_DEMO_PASSWORD",
            default_value = "demo",
            hide_default_value = false
        )]
        demo_password: String,
        /// Simulated cases over the year before now, loaded on first run (in the background while
        /// serving); 0 for none. Reused afterwards.
        #[arg(long, env = "GONGZHI_DEMO_CASES", default_value_t = 50_000)]
        demo_cases: usize,
        /// Share of the demo registry to load on first run (1 = a household for each of the
        /// 228,200, with residents; 0.01 for a quick look; 0 for none), in the background.
        #[arg(long, env = "GONGZHI_DEMO_REGISTRY_SCALE", default_value_t = 1.0)]
        demo_registry_scale: f64,
        /// Load the demo registry only under this territory code (a district, street, community or
        /// grid), for a quick look or a test. [default: the whole city]
        #[arg(long, env = "GONGZHI_DEMO_REGISTRY_WITHIN", value_name = "CODE")]
        demo_registry_within: Option<String>,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate(Storage),
    /// Import data from a file: all of it, or nothing.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Export registry data: residents to XLSX or CSV, masked unless --unmasked with a reason.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Seal the registry's personal data again under a new key (密钥更新): every sealed value is
    /// opened with the configured key and sealed with the key in FILE (generated there, 64 hex
    /// digits, mode 0600, when FILE does not exist), and every keyed index computed again, in one
    /// transaction, audited. Afterwards configure FILE as the personal-data key.
    RotatePersonalDataKey {
        /// The new key's file.
        #[arg(long, value_name = "FILE")]
        new_key_file: PathBuf,
        #[command(flatten)]
        storage: Storage,
    },
    /// Rules as data: the responsibility list (versions, CSV/XLSX) and the calendar's years.
    Rules {
        #[command(subcommand)]
        what: RulesWhat,
    },
    /// Staff accounts: create the first administrator of a new installation.
    Account {
        #[command(subcommand)]
        what: AccountWhat,
    },
    /// API keys of integrations (Open311 clients).
    ApiKey {
        #[command(subcommand)]
        what: ApiKeyWhat,
    },
    /// The tamper-evident audit record.
    Audit {
        #[command(subcommand)]
        what: AuditWhat,
    },
    /// Measure the speed figures of docs/PERFORMANCE.md.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

/// A registry import: a file to import, or `--template` to write the template.
#[derive(Args, Clone)]
struct RegistryImport {
    /// The filled-in template, FILE.xlsx or FILE.csv (headers in Chinese or English, any order).
    #[arg(required_unless_present = "template")]
    file: Option<PathBuf>,
    /// Write the template to fill in (FILE.xlsx with a notes sheet 填写说明, or FILE.csv) and exit.
    #[arg(long, value_name = "FILE", conflicts_with = "file")]
    template: Option<PathBuf>,
    #[command(flatten)]
    storage: Storage,
}

#[derive(Subcommand)]
enum ExportWhat {
    /// The residents of the city (or of --within CODE) to FILE.xlsx or FILE.csv: ID numbers and
    /// phones masked, unless --unmasked with --reason (audited with the reason).
    Residents {
        file: PathBuf,
        #[arg(long, value_name = "CODE")]
        within: Option<String>,
        /// Full ID numbers, phones, registered addresses and party membership.
        #[arg(long, requires = "reason")]
        unmasked: bool,
        /// Why the unmasked export is needed (2 to 200 characters); recorded in the audit entry.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        storage: Storage,
    },
    /// The buildings of the city (or of --within CODE) to FILE.geojson (a feature each: its
    /// outline, else its point; properties named as the buildings template's columns) or to
    /// FILE.xlsx / FILE.csv (the template's columns), so the file imports again.
    Buildings(PlacesExport),
    /// The compounds of the city (or of --within CODE), like buildings.
    Compounds(PlacesExport),
    /// The member organizations of the city (or of --within CODE) to FILE.xlsx or FILE.csv.
    #[command(name = "member-orgs")]
    MemberOrgs(PlacesExport),
    /// The property companies (of the city, or serving the compounds of --within CODE).
    #[command(name = "property-companies")]
    PropertyCompanies(PlacesExport),
    /// The party organizations of the city (or of --within CODE), parents first.
    #[command(name = "party-orgs")]
    PartyOrgs(PlacesExport),
}

/// A GeoJSON export of buildings or compounds.
#[derive(Args, Clone)]
struct PlacesExport {
    file: PathBuf,
    /// The file's format (by default from the file's name): geojson (buildings and compounds),
    /// xlsx or csv.
    #[arg(long, value_parser = ["geojson", "xlsx", "csv"])]
    format: Option<String>,
    #[arg(long, value_name = "CODE")]
    within: Option<String>,
    #[command(flatten)]
    storage: Storage,
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Residents (实有人口) with their grid, compound, building, entrance and room; buildings and
    /// households not yet registered are created. All rows or none (every bad row listed; exit 2).
    Residents(RegistryImport),
    /// Households (户) with their grid, compound, building, entrance and room.
    Households(RegistryImport),
    /// Buildings (楼栋) with their grid, compound and address (FILE.geojson: points or polygons).
    Buildings(RegistryImport),
    /// Compounds (小区) of communities (FILE.geojson: polygons).
    Compounds(RegistryImport),
    /// Member organizations (辖区单位) with their unified social credit codes.
    MemberOrgs(RegistryImport),
    /// Property companies (物业企业).
    PropertyCompanies(RegistryImport),
    /// Posted offices (派驻机构): a department's office at a street, one per department and street.
    PostedOffices(RegistryImport),
    /// Party organizations (党组织): street working committees, community committees, grid
    /// organizations, branches.
    PartyOrgs(RegistryImport),
    /// Party members (党员) and employed members' residence communities.
    PartyMembers(RegistryImport),
    /// Grids from a GeoJSON FeatureCollection: each feature has properties code (15 digits),
    /// name and households, and a Polygon or MultiPolygon in WGS-84. Changed grids get a new
    /// version; the old one is kept.
    Grids {
        file: PathBuf,
        /// The day the imported grids take effect. [default: today in Asia/Shanghai]
        #[arg(long, value_name = "YYYY-MM-DD")]
        valid_from: Option<NaiveDate>,
        #[command(flatten)]
        storage: Storage,
    },
}

#[derive(Subcommand)]
enum RulesWhat {
    /// Import a file: all of it, or nothing (every bad row is listed; exit code 2).
    Import {
        #[command(subcommand)]
        what: RulesImport,
    },
    /// Export the responsibility list.
    Export {
        #[command(subcommand)]
        what: RulesExport,
    },
    /// Versions of the responsibility list, years with official holidays, and a warning naming
    /// this year or next if it has none.
    Status(Storage),
}

#[derive(Subcommand)]
enum RulesImport {
    /// A new version of the responsibility list, FILE.csv or FILE.xlsx (columns as exported;
    /// the version label and valid_from are in the file). It is in force from its valid_from.
    Responsibility {
        file: PathBuf,
        #[command(flatten)]
        storage: Storage,
    },
    /// Official holidays and make-up workdays, FILE.csv with columns date,kind,name (as
    /// data/calendar/cn-official-days.csv); each year in the file replaces that year.
    Calendar {
        file: PathBuf,
        #[command(flatten)]
        storage: Storage,
    },
}

#[derive(Subcommand)]
enum RulesExport {
    /// The responsibility list in force (or --version V) to FILE.csv or FILE.xlsx.
    Responsibility {
        file: PathBuf,
        /// The version label to export. [default: the one in force today]
        #[arg(long, value_name = "V")]
        version: Option<String>,
        #[command(flatten)]
        storage: Storage,
    },
}

#[derive(Subcommand)]
enum ApiKeyWhat {
    /// Create a key for one integration. The key is printed once and stored hashed; requests
    /// made with it are recorded as `api-key:NAME`.
    Create {
        /// The integration's name (1–64 letters, digits, - _ .).
        name: String,
        /// The division or grid code whose subtree the key may report in.
        #[arg(long)]
        scope: String,
        /// The calls it may make, comma-separated (default: open311.post_request).
        #[arg(long)]
        calls: Option<String>,
        /// Requests a minute (default 60).
        #[arg(long)]
        rate_per_minute: Option<i64>,
        #[command(flatten)]
        storage: Storage,
    },
}

#[derive(Subcommand)]
enum AccountWhat {
    /// Create an account with one role. A random password is printed once; it must be changed at
    /// the first sign-in.
    Create {
        /// The user name (2–32 lower-case letters, digits, _ . -).
        username: String,
        /// The person's name as pages show it.
        #[arg(long)]
        name: String,
        /// The role, e.g. system_admin, security_admin, audit_admin, dispatcher.
        #[arg(long)]
        role: String,
        /// Where the role is held: a division or grid code, or department:CODE.
        #[arg(long)]
        scope: String,
        #[command(flatten)]
        storage: Storage,
    },
}

#[derive(Subcommand)]
enum AuditWhat {
    /// Check the audit chain with the key against its checkpoint (the entries from the
    /// checkpoint's own on, or all with --full): prints "intact" with the count and the head
    /// (exit 0), or the first broken entry and why (exit 1); what was checked goes to stderr.
    Verify {
        #[command(flatten)]
        storage: Storage,
        /// Check every entry, not only those from the last checkpoint on.
        #[arg(long)]
        full: bool,
    },
    /// Verify what was appended since the last checkpoint, then write a new signed checkpoint of
    /// the record's end outside the database (audit_checkpoint_file, default DIR/audit.checkpoint)
    /// and give it to the witness command (audit_witness). A broken record gets none (exit 1).
    Checkpoint(Storage),
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Audit verification: --entries entries written by the product's own appends into a fresh
    /// database, then the whole record verified --runs times: median wall time and entries/s.
    AuditVerify {
        #[arg(long, default_value_t = 470_000)]
        entries: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// An empty PostgreSQL database to use instead of SQLite.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Point → grid lookups per second on one core over the demo city's grids.
    Locate {
        #[arg(long, default_value_t = 1_000_000)]
        lookups: usize,
        #[arg(long, default_value_t = 7)]
        runs: usize,
    },
    /// First run (building the demo city), warm start, and resident memory after a first visit.
    Startup {
        /// Port for the measured server on 127.0.0.1.
        #[arg(long, default_value_t = 18080)]
        port: u16,
        /// Seconds the server idles before its memory is read.
        #[arg(long, default_value_t = 5)]
        idle_seconds: u64,
        /// An empty PostgreSQL database to use instead of SQLite.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Staff pages on the demo city with its year of cases: p50 and p95 per page at the client.
    Pages {
        /// Port for the measured server on 127.0.0.1.
        #[arg(long, default_value_t = 18082)]
        port: u16,
        /// Demo cases loaded before measuring.
        #[arg(long, default_value_t = 50_000)]
        cases: usize,
        /// Requests per page.
        #[arg(long, default_value_t = 100)]
        requests: usize,
        /// An empty PostgreSQL database to use instead of SQLite.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Open311 reads: an API key posts 50 requests, then keep-alive clients GET
    /// /open311/v2/requests.json (the 50 listed) back to back: requests/s, p50, p99.
    Open311 {
        /// Port for the measured server on 127.0.0.1.
        #[arg(long, default_value_t = 18083)]
        port: u16,
        /// Seconds measured, after a warm-up of 2 s.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent clients, each on its own keep-alive connection.
        #[arg(long, default_value_t = 8)]
        connections: usize,
        /// Requests posted (and listed) before measuring.
        #[arg(long, default_value_t = 50)]
        requests: usize,
        /// An empty PostgreSQL database to use instead of SQLite.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Reads on the demo city with its year of cases and registry: one case (API and page), the
    /// lists (API, pages, Open311, first and last allowed page), the territory page and audit
    /// verification, each driven by C keep-alive clients for --seconds, --runs times; the median
    /// run's req/s, p50, p99 and answer size. The demo is loaded once into --data-dir and reused.
    Reads {
        /// Where the loaded demo is kept between runs (made when missing).
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// Port for the measured server on 127.0.0.1.
        #[arg(long, default_value_t = 18084)]
        port: u16,
        /// The demo's year of cases (1000000 to see how reads grow with the city).
        #[arg(long, default_value_t = 50_000)]
        cases: usize,
        /// The demo registry's scale (1 = every household; 0 for none).
        #[arg(long, default_value_t = 1.0)]
        registry_scale: f64,
        /// Concurrent keep-alive clients, one measurement per value.
        #[arg(long, value_delimiter = ',', default_values_t = [8usize, 32])]
        connections: Vec<usize>,
        /// Seconds measured per run, after a warm-up of 1 s.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Only the reads whose name contains one of these (comma-separated).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// An empty PostgreSQL database to use instead of SQLite (kept loaded with --data-dir).
        #[arg(long)]
        database_url: Option<String>,
        /// After loading the demo year, grow the city to about this many cases by copying its
        /// cases and timelines under new ids and numbers (1000000 to see how reads grow with the
        /// city; the demo's own loader takes over an hour for that on 2 cores).
        #[arg(long, value_name = "N")]
        grow_to: Option<usize>,
    },
    /// Case intake through HTTP: cases/s sustained, latency percentiles and the server's
    /// resident memory, reporting back to back over keep-alive connections on loopback.
    /// Registry import: a deterministic resident workbook of --rows valid fake people imported
    /// into a fresh database (with the demo city's territory) through the server's own import,
    /// --runs times: wall time, rows/s and the process's peak resident memory growth.
    Import {
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Keep the generated workbook here.
        #[arg(long, value_name = "FILE")]
        keep: Option<PathBuf>,
        /// An empty PostgreSQL database to use instead of SQLite (dropped and made again per run
        /// is up to you: each run needs an empty one, so use --runs 1).
        #[arg(long)]
        database_url: Option<String>,
    },
    Intake {
        /// Port for the measured server on 127.0.0.1.
        #[arg(long, default_value_t = 18081)]
        port: u16,
        /// Seconds measured, after a warm-up of 2 s.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent clients, each on its own keep-alive connection.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// An empty PostgreSQL database to use instead of SQLite.
        #[arg(long)]
        database_url: Option<String>,
    },
}

/// Runs a benchmark that starts this binary as a server on 127.0.0.1:`port` with a fresh data
/// folder, and removes the folder afterwards whatever the outcome.
fn with_bench_server<T>(
    port: u16,
    bench: impl FnOnce(&std::path::Path, &std::path::Path, SocketAddr) -> Result<T>,
) -> Result<T> {
    let dir = std::env::temp_dir().join(format!("gongzhi-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let exe = std::env::current_exe()?;
    let result = bench(&exe, &dir, ([127, 0, 0, 1], port).into());
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(cli: Cli, file: FileConfig) -> Result<ExitCode> {
    let lang = Lang::from_tag(&cli.lang);
    match cli.command {
        Cmd::Serve(s) => {
            // Refuse before touching the database: a server without its key cannot record.
            let ctx = Context::prepare(&file, s.listen, &s.storage, Needs::SERVE, lang)?
                .open()
                .await?;
            // Without a key the registry answers 503; once it holds personal data, refuse to start.
            if ctx.cipher_if_any().is_none() && ctx.db.registry_counts("").await?.residents > 0 {
                return Err(Refused(no_personal_data_key_message(&ctx.settings.data_dir, lang)).into());
            }
            let (settings, db, key, cipher) = ctx.into_parts();
            serve(db, &settings, key, cipher).await?;
        }
        Cmd::Demo {
            server,
            seed,
            demo_password,
            demo_cases,
            demo_registry_scale,
            demo_registry_within,
        } => {
            let ctx = Context::prepare(&file, server.listen, &server.storage, Needs::DEMO, lang)?
                .open()
                .await?;
            let cipher = ctx.cipher();
            let (mut settings, db, key, _) = ctx.into_parts();
            // The demo signs residents in with codes written to its log (development only).
            settings.sms_gateway.get_or_insert_with(|| "log".to_string());
            let seed = seed.or(file.demo_seed);
            ensure_demo(&db, seed, &key).await?;
            ensure_demo_accounts(&db, &demo_password, &key).await?;
            gongzhi_demo::ensure_demo_liaison(&db, &demo_password, &key).await?;
            let case_seed = match seed {
                Some(s) => s,
                None => gongzhi_demo::GridSystem::builtin()?.seed,
            };
            // Loads in the background while the server answers; finished or not when it stops.
            let _loading = ensure_demo_cases(&db, demo_cases, case_seed, key.clone()).await?;
            let _registry = ensure_demo_registry(
                &db,
                demo_registry_scale,
                demo_registry_within,
                case_seed,
                key.clone(),
                cipher.clone(),
            )
            .await?;
            serve(db, &settings, key, Some(cipher)).await?;
        }
        Cmd::Account {
            what:
                AccountWhat::Create {
                    username,
                    name,
                    role,
                    scope,
                    storage,
                },
        } => {
            let ctx = Context::open(&file, &storage, Needs::AUDIT, lang).await?;
            match gongzhi::commands::create_account(&ctx.db, &username, &name, &role, &scope, ctx.audit_key()).await {
                Ok(password) => println!(
                    "{}",
                    lang.pick(
                        &format!("已创建账户 {username}，初始密码（仅显示这一次，首次登录须修改）：{password}"),
                        &format!("created {username}; initial password (shown once, to be changed at first sign-in): {password}")
                    )
                ),
                Err(message) => {
                    eprintln!("{message}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Cmd::ApiKey {
            what:
                ApiKeyWhat::Create {
                    name,
                    scope,
                    calls,
                    rate_per_minute,
                    storage,
                },
        } => {
            let ctx = Context::open(&file, &storage, Needs::AUDIT, lang).await?;
            let calls = calls.map(|c| c.split(',').map(|s| s.trim().to_string()).collect());
            match gongzhi::commands::create_api_key(ctx, &name, &scope, calls, rate_per_minute, lang).await {
                Ok(secret) => println!("{secret}"),
                Err(message) => {
                    eprintln!("{message}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Cmd::Audit {
            what: AuditWhat::Verify { storage, full },
        } => {
            let ctx = Context::open(&file, &storage, Needs::AUDIT, lang).await?;
            let app = ctx.app().await?;
            let (report, line) = verify_audit(&app, full, lang).await?;
            println!("{line}");
            eprintln!("{}", gongzhi::commands::coverage_note(&report, lang));
            if !report.verification.verdict.is_intact() {
                return Ok(ExitCode::from(1));
            }
        }
        Cmd::Audit {
            what: AuditWhat::Checkpoint(storage),
        } => {
            let ctx = Context::open(&file, &storage, Needs::AUDIT, lang).await?;
            let app = ctx.app().await?;
            let (ok, lines) = gongzhi::commands::checkpoint_audit(&app, lang).await?;
            for line in lines {
                println!("{line}");
            }
            if !ok {
                return Ok(ExitCode::from(1));
            }
        }
        Cmd::Rules { what } => {
            let storage = match &what {
                RulesWhat::Import {
                    what: RulesImport::Responsibility { storage, .. } | RulesImport::Calendar { storage, .. },
                }
                | RulesWhat::Export {
                    what: RulesExport::Responsibility { storage, .. },
                }
                | RulesWhat::Status(storage) => storage.clone(),
            };
            let ctx = Context::open(&file, &storage, Needs::AUDIT, lang).await?;
            let (db, key) = (&ctx.db, ctx.audit_key());
            let outcome = match what {
                RulesWhat::Import {
                    what: RulesImport::Responsibility { file: path, .. },
                } => rules::import_responsibility(db, &path, lang, key).await?,
                RulesWhat::Import {
                    what: RulesImport::Calendar { file: path, .. },
                } => rules::import_calendar(db, &path, lang, key).await?,
                RulesWhat::Export {
                    what:
                        RulesExport::Responsibility {
                            file: path, version, ..
                        },
                } => rules::export_responsibility(db, &path, version.as_deref(), lang, key).await?,
                RulesWhat::Status(_) => Ok(rules::status(db, lang, key).await?),
            };
            match outcome {
                Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
                Err(lines) => {
                    lines.iter().for_each(|l| eprintln!("{l}"));
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Cmd::Migrate(storage) => {
            Context::open(&file, &storage, Needs::DATABASE, lang).await?;
            println!("{}", lang.pick("数据库已是最新结构", "database schema is up to date"));
        }
        Cmd::Import {
            what:
                ImportWhat::Grids {
                    file: path,
                    valid_from,
                    storage,
                },
        } => {
            let ctx = Context::open(&file, &storage, Needs::AUDIT, lang).await?;
            match import_grids(
                &ctx.db,
                &path,
                valid_from.unwrap_or_else(gongzhi_core::time::city_today),
                lang,
                ctx.audit_key(),
            )
            .await
            {
                Ok(r) => println!(
                    "{}: {} {}, {} {}, {} {}",
                    path.display(),
                    lang.pick("新增", "created"),
                    r.created,
                    lang.pick("变更", "changed"),
                    r.changed,
                    lang.pick("未变", "unchanged"),
                    r.unchanged
                ),
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Cmd::RotatePersonalDataKey { new_key_file, storage } => {
            let prepared = Context::prepare(&file, None, &storage, Needs::REGISTRY, lang)?;
            let (new, generated) =
                gongzhi::config::personal_data_key_file_or_new(&new_key_file, lang).map_err(Refused)?;
            let ctx = prepared.open().await?;
            let progress = |table: &str, rows: u64| eprint!("\r{table}: {rows}   ");
            match ctx
                .db
                .rotate_personal_data_key(
                    ctx.cipher().as_ref(),
                    &new,
                    ctx.audit_key(),
                    gongzhi_core::audit::SYSTEM_ACTOR,
                    &progress,
                )
                .await
            {
                Ok(r) => {
                    eprintln!();
                    let path = new_key_file.display();
                    let made = if generated {
                        lang.pick("（新生成）", " (generated)")
                    } else {
                        ""
                    };
                    println!(
                        "{}",
                        match lang {
                            Lang::Zh => format!(
                                "已用新密钥 {path}{made} 重新加密 {} 项个人信息；请改用该密钥文件（--personal-data-key-file 或配置文件 personal_data_key_file），旧密钥已不能解密",
                                r.values
                            ),
                            Lang::En => format!(
                                "sealed {} personal values again under the new key {path}{made}; configure that file as the personal-data key from now on (the old key no longer opens them)",
                                r.values
                            ),
                        }
                    );
                }
                Err(e) => {
                    eprintln!();
                    let prefix = lang.pick(
                        "密钥更新未完成，个人信息仍由原密钥加密，未做任何更改：",
                        "the key was not rotated; the personal data stays sealed under the old key: ",
                    );
                    eprintln!("gongzhi: {prefix}{e}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Cmd::Export {
            what:
                ExportWhat::Residents {
                    file: path,
                    within,
                    unmasked,
                    reason,
                    storage,
                },
        } => {
            let ctx = Context::open(&file, &storage, Needs::REGISTRY, lang).await?;
            let reason = if unmasked { reason.as_deref() } else { None };
            match gongzhi::import::export_residents(&ctx, &path, within.as_deref(), reason, lang).await? {
                Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
                Err(lines) => {
                    lines.iter().for_each(|l| eprintln!("{l}"));
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Cmd::Export {
            what:
                what @ (ExportWhat::Buildings(_)
                | ExportWhat::Compounds(_)
                | ExportWhat::MemberOrgs(_)
                | ExportWhat::PropertyCompanies(_)
                | ExportWhat::PartyOrgs(_)),
        } => {
            let (kind, args) = match what {
                ExportWhat::Buildings(a) => ("buildings", a),
                ExportWhat::Compounds(a) => ("compounds", a),
                ExportWhat::MemberOrgs(a) => ("member-orgs", a),
                ExportWhat::PropertyCompanies(a) => ("property-companies", a),
                ExportWhat::PartyOrgs(a) => ("party-orgs", a),
                ExportWhat::Residents { .. } => unreachable!("matched above"),
            };
            let ctx = Context::open(&file, &args.storage, Needs::AUDIT, lang).await?;
            match gongzhi::import::export_places(
                &ctx,
                kind,
                &args.file,
                args.format.as_deref(),
                args.within.as_deref(),
                lang,
            )
            .await?
            {
                Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
                Err(lines) => {
                    lines.iter().for_each(|l| eprintln!("{l}"));
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Cmd::Import { what } => {
            let (kind, args) = match what {
                ImportWhat::Residents(a) => ("residents", a),
                ImportWhat::Households(a) => ("households", a),
                ImportWhat::Buildings(a) => ("buildings", a),
                ImportWhat::Compounds(a) => ("compounds", a),
                ImportWhat::MemberOrgs(a) => ("member-orgs", a),
                ImportWhat::PropertyCompanies(a) => ("property-companies", a),
                ImportWhat::PostedOffices(a) => ("posted-offices", a),
                ImportWhat::PartyOrgs(a) => ("party-orgs", a),
                ImportWhat::PartyMembers(a) => ("party-members", a),
                ImportWhat::Grids { .. } => unreachable!("matched above"),
            };
            let outcome = match (&args.template, &args.file) {
                (Some(out), _) => gongzhi::import::write_template(kind, out, lang),
                (None, Some(path)) => {
                    let ctx = Context::open(&file, &args.storage, Needs::REGISTRY, lang).await?;
                    gongzhi::import::import_file(&ctx, kind, path, lang).await?
                }
                (None, None) => unreachable!("clap requires FILE or --template"),
            };
            match outcome {
                Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
                Err(lines) => {
                    lines.iter().for_each(|l| eprintln!("{l}"));
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Cmd::Bench {
            what:
                BenchWhat::Import {
                    rows,
                    runs,
                    keep,
                    database_url,
                },
        } => {
            use gongzhi::bench_import as bi;
            let key = AuditKey::from_bytes(&[9u8; 32])?;
            let grids = gongzhi_demo::import_rows::demo_grids()?;
            let generated = std::time::Instant::now();
            let sheet = gongzhi_demo::import_rows::resident_rows(rows, &grids, 7);
            let bytes = gongzhi_office::write_rows(gongzhi_office::Format::Xlsx, "实有人口", &sheet)?;
            drop(sheet);
            println!(
                "import: generated {rows} resident rows over {} grids as XLSX ({:.1} MB) in {:.1} s",
                grids.len(),
                bytes.len() as f64 / 1e6,
                generated.elapsed().as_secs_f64()
            );
            if let Some(path) = &keep {
                std::fs::write(path, &bytes)?;
            }
            let mut results = Vec::new();
            for run in 1..=runs.max(1) {
                let dir = std::env::temp_dir().join(format!("gongzhi-bench-import-{}-{run}", std::process::id()));
                std::fs::create_dir_all(&dir)?;
                let url = database_url
                    .clone()
                    .unwrap_or_else(|| format!("sqlite:{}", dir.join("gongzhi.db").display()));
                let db = bi::fresh_db(&url, &key).await?;
                let r = bi::measure(&db, &key, "residents.xlsx", bytes.clone()).await;
                db.close().await;
                let _ = std::fs::remove_dir_all(&dir);
                let r = r?;
                println!(
                    "import: run {run}: {} rows in {:.2} s = {:.0} rows/s, peak RSS growth {:.0} MB",
                    r.rows,
                    r.wall.as_secs_f64(),
                    r.rate(),
                    r.rss_growth_mb
                );
                results.push(r);
            }
            results.sort_by_key(|a| a.wall);
            let m = &results[results.len() / 2];
            let peak = results.iter().map(|r| r.rss_growth_mb).fold(0.0, f64::max);
            println!(
                "import: median {:.2} s ({:.0} rows/s) of {} runs; largest peak RSS growth {:.0} MB",
                m.wall.as_secs_f64(),
                m.rate(),
                results.len(),
                peak
            );
        }
        Cmd::Bench {
            what:
                BenchWhat::AuditVerify {
                    entries,
                    runs,
                    database_url,
                },
        } => {
            use gongzhi::bench_audit as ba;
            let key = AuditKey::from_bytes(&[9u8; 32])?;
            let dir = std::env::temp_dir().join(format!("gongzhi-bench-audit-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let url = database_url
                .clone()
                .unwrap_or_else(|| format!("sqlite:{}", dir.join("gongzhi.db").display()));
            let measured = async {
                let db = ba::fresh_db(&url).await?;
                let filled = ba::fill(&db, &key, entries).await?;
                println!(
                    "audit-verify: {entries} entries appended in {:.1} s ({})",
                    filled.as_secs_f64(),
                    db.backend().as_str()
                );
                let mut full = Vec::new();
                for run in 1..=runs.max(1) {
                    let took = ba::verify_full(&db, &key, entries).await?;
                    println!(
                        "audit-verify: run {run}: full verification {:.2} s = {:.0} entries/s",
                        took.as_secs_f64(),
                        entries as f64 / took.as_secs_f64()
                    );
                    full.push(took);
                }
                let m = ba::median(&mut full);
                println!(
                    "audit-verify: full verification median {:.2} s ({:.0} entries/s) of {} runs",
                    m.as_secs_f64(),
                    entries as f64 / m.as_secs_f64(),
                    full.len()
                );
                db.close().await;
                anyhow::Ok(())
            }
            .await;
            let _ = std::fs::remove_dir_all(&dir);
            measured?;
        }
        Cmd::Bench {
            what:
                BenchWhat::Reads {
                    data_dir,
                    port,
                    cases,
                    registry_scale,
                    connections,
                    seconds,
                    runs,
                    only,
                    database_url,
                    grow_to,
                },
        } => {
            let exe = std::env::current_exe()?;
            let opts = gongzhi::bench_reads::ReadsOptions {
                cases,
                registry_scale,
                database_url: database_url.as_deref(),
                connections,
                warm_up: Duration::from_secs(1),
                measure: Duration::from_secs(seconds.max(1)),
                runs: runs.max(1),
                only,
            };
            let addr = ([127, 0, 0, 1], port).into();
            let loaded_in = gongzhi::bench_reads::prepare(&exe, &data_dir, addr, &opts)?;
            let (cases, grown_in) = gongzhi::bench_reads::grow(&data_dir, opts.database_url, grow_to).await?;
            if let Some(took) = grown_in {
                println!("reads: grown to {cases} cases in {:.0} s", took.as_secs_f64());
            }
            let r = gongzhi::bench_reads::run(&exe, &data_dir, addr, &opts, loaded_in)?;
            gongzhi::bench_reads::print(&r);
        }
        Cmd::Bench {
            what: BenchWhat::Locate { lookups, runs },
        } => {
            let r = gongzhi::bench::locate(lookups, runs.max(1))?;
            println!(
                "locate: {} grids, {} lookups x {} runs on one thread, hit rate {:.1}%",
                r.grids,
                r.lookups,
                r.runs.len(),
                r.hit_rate * 100.0
            );
            println!(
                "locate: median {:.0} lookups/s (min {:.0}, max {:.0})",
                r.median(),
                r.runs[0],
                r.runs[r.runs.len() - 1]
            );
        }
        Cmd::Bench {
            what:
                BenchWhat::Startup {
                    port,
                    idle_seconds,
                    database_url,
                },
        } => {
            let r = with_bench_server(port, |exe, dir, addr| {
                gongzhi::bench::startup(
                    exe,
                    dir,
                    addr,
                    database_url.as_deref(),
                    Duration::from_secs(idle_seconds),
                )
            })?;
            println!(
                "startup: first run (migrate + build demo city + serve) {:.2} s",
                r.first_run.as_secs_f64()
            );
            println!("startup: warm start {:.2} s", r.warm_start.as_secs_f64());
            println!(
                "startup: resident memory {:.1} MB, idle {idle_seconds} s after serving a first visit",
                r.idle_rss_mb
            );
        }
        Cmd::Bench {
            what:
                BenchWhat::Pages {
                    port,
                    cases,
                    requests,
                    database_url,
                },
        } => {
            let r = with_bench_server(port, |exe, dir, addr| {
                gongzhi::bench::pages(exe, dir, addr, database_url.as_deref(), cases, requests.max(1))
            })?;
            print_pages(&r);
        }
        Cmd::Bench {
            what:
                BenchWhat::Open311 {
                    port,
                    seconds,
                    connections,
                    requests,
                    database_url,
                },
        } => {
            let r = with_bench_server(port, |exe, dir, addr| {
                gongzhi::bench::open311(
                    exe,
                    dir,
                    addr,
                    database_url.as_deref(),
                    connections.max(1),
                    requests.max(1),
                    Duration::from_secs(2),
                    Duration::from_secs(seconds.max(1)),
                )
            })?;
            println!(
                "open311: {} requests posted, {} listed per answer of {}",
                r.posted,
                r.listed,
                gongzhi::bench::OPEN311_LIST
            );
            println!(
                "open311: {} connections, {} s measured: {} answers, {:.0} requests/s",
                r.connections,
                r.measured.as_secs(),
                r.answered,
                r.rate()
            );
            println!(
                "open311: latency p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms",
                r.p50.as_secs_f64() * 1e3,
                r.p99.as_secs_f64() * 1e3,
                r.max.as_secs_f64() * 1e3
            );
            println!("open311: errors {}", r.errors);
            if let Some(e) = r.first_error {
                println!("open311: first error: {e}");
            }
        }
        Cmd::Bench {
            what:
                BenchWhat::Intake {
                    port,
                    seconds,
                    connections,
                    database_url,
                },
        } => {
            let r = with_bench_server(port, |exe, dir, addr| {
                gongzhi::bench::intake(
                    exe,
                    dir,
                    addr,
                    database_url.as_deref(),
                    connections.max(1),
                    Duration::from_secs(2),
                    Duration::from_secs(seconds.max(1)),
                )
            })?;
            println!(
                "intake: {} connections, {} s measured: {} cases created, {:.0} cases/s",
                r.connections,
                r.measured.as_secs(),
                r.created,
                r.rate()
            );
            println!(
                "intake: latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                r.p50.as_secs_f64() * 1e3,
                r.p99.as_secs_f64() * 1e3,
                r.max.as_secs_f64() * 1e3
            );
            println!("intake: server resident memory max {:.1} MB", r.max_rss_mb);
            println!(
                "intake: CPU over the window: server {:.2} cores, load generator {:.2} cores, of {}",
                r.server_cpu, r.client_cpu, r.limits.cores
            );
            println!(
                "intake: raw limits in this run: {:.0} fsyncs/s (4 KiB appends in the data folder), {:.0} GET /healthz/s over the same connections",
                r.limits.fsyncs_per_s, r.limits.healthz_per_s
            );
            println!("intake: errors {}", r.errors);
            if let Some(e) = r.first_error {
                println!("intake: first error: {e}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_pages(r: &gongzhi::bench::PagesReport) {
    println!(
        "pages: {} demo cases loaded in {:.0} s; p50 and p95 of each page at the client over loopback",
        r.cases,
        r.load.as_secs_f64()
    );
    for p in &r.pages {
        println!(
            "pages: {:<11} {:<45} p50 {:>6.1} ms  p95 {:>6.1} ms  {:>7} bytes",
            p.who,
            p.path,
            p.p50.as_secs_f64() * 1e3,
            p.p95.as_secs_f64() * 1e3,
            p.bytes
        );
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let file = match FileConfig::load(cli.config.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let filter = cli
        .log
        .clone()
        .or_else(|| file.log.clone())
        .unwrap_or_else(|| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| "info".into()))
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, file)) {
        Ok(code) => code,
        Err(e) => match e.downcast_ref::<Refused>() {
            Some(refused) => {
                eprintln!("gongzhi: {refused}");
                ExitCode::from(2)
            }
            None => {
                eprintln!("gongzhi: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}
