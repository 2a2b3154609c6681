//! What the commands that touch the database start with: the settings, the audit key, the
//! personal-data cipher and the database (opened and migrated), each read once here.
//!
//! A key that is missing or bad refuses the command with a [`Refused`] error: `main` prints
//! `gongzhi: MESSAGE` and exits with code 2, before the database is touched.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::Args;
use gongzhi_app::App;
use gongzhi_core::Lang;
use gongzhi_core::audit::AuditKey;
use gongzhi_core::people::cipher::CipherProvider;
use gongzhi_store::{Db, StoreError};

use crate::config::{
    AUDIT_KEY_ENV, FileConfig, KeySource, PERSONAL_DATA_KEY_ENV, Settings, configured_audit_key,
    configured_personal_data_key, demo_audit_key, demo_personal_data_key, id_mask_policy, no_key_message,
    no_personal_data_key_message,
};

/// Where the data is and the keys that open it: the flags every command that touches the
/// database takes.
#[derive(Args, Clone)]
pub struct Storage {
    /// Folder for the embedded SQLite database and files. [default: ./gongzhi-data]
    #[arg(long, env = "GONGZHI_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite:PATH or postgres://USER@HOST/DB. [default: SQLite in --data-dir]
    #[arg(long, env = "GONGZHI_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// File holding the key of the audit chain (hex or base64, at least 16 bytes; mode 0600).
    /// Or set GONGZHI_AUDIT_KEY to the key itself. `demo` generates DIR/audit.key if none.
    #[arg(long, env = "GONGZHI_AUDIT_KEY_FILE", value_name = "FILE")]
    pub audit_key_file: Option<PathBuf>,
    /// File holding the personal-data key of the registry (64 hex digits; mode 0600). Or set
    /// GONGZHI_PERSONAL_DATA_KEY to the key itself. `demo` generates DIR/personal-data.key if none.
    #[arg(long, env = "GONGZHI_PERSONAL_DATA_KEY_FILE", value_name = "FILE")]
    pub personal_data_key_file: Option<PathBuf>,
}

/// A command refused before it started (a key missing or unreadable, a setting wrong): the
/// message, printed as `gongzhi: MESSAGE` with exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Whether a command needs the audit key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditKeyNeed {
    /// Not at all (`migrate`).
    No,
    /// Configured, or the command is refused.
    Required,
    /// Configured, else the demo's key beside the database (generated the first time).
    OrDemo,
}

/// Whether a command needs the personal-data cipher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CipherNeed {
    /// Not at all.
    No,
    /// If one is configured (`serve`: the registry answers 503 without).
    Optional,
    /// Configured, or the command is refused.
    Required,
    /// Configured, else the demo's key beside the database (generated the first time).
    OrDemo,
}

/// What a command needs besides the database.
#[derive(Clone, Copy, Debug)]
pub struct Needs {
    pub audit_key: AuditKeyNeed,
    pub cipher: CipherNeed,
    /// A server, which must be able to write its data folder to start.
    pub serves: bool,
}

impl Needs {
    /// What a command needs: the audit key and the cipher as said.
    pub const fn of(audit_key: AuditKeyNeed, cipher: CipherNeed) -> Needs {
        Needs {
            audit_key,
            cipher,
            serves: false,
        }
    }

    /// The database only.
    pub const DATABASE: Needs = Needs::of(AuditKeyNeed::No, CipherNeed::No);
    /// The audit key (every command that writes or verifies the record).
    pub const AUDIT: Needs = Needs::of(AuditKeyNeed::Required, CipherNeed::No);
    /// The audit key and the personal-data cipher (the registry's imports, exports and keys).
    pub const REGISTRY: Needs = Needs::of(AuditKeyNeed::Required, CipherNeed::Required);
    /// The server: the audit key, and the cipher if one is configured.
    pub const SERVE: Needs = Needs {
        serves: true,
        ..Needs::of(AuditKeyNeed::Required, CipherNeed::Optional)
    };
    /// The demo server: the configured keys, else the demo's own.
    pub const DEMO: Needs = Needs {
        serves: true,
        ..Needs::of(AuditKeyNeed::OrDemo, CipherNeed::OrDemo)
    };
}

/// A command's settings and keys, read and checked, with the database not opened yet.
pub struct Prepared {
    pub settings: Settings,
    audit_key: Option<AuditKey>,
    cipher: Option<Arc<dyn CipherProvider>>,
}

/// A command's settings, keys and open database.
pub struct Context {
    pub settings: Settings,
    pub db: Db,
    audit_key: Option<AuditKey>,
    cipher: Option<Arc<dyn CipherProvider>>,
}

impl Context {
    /// Reads the settings and the keys the command `needs` (in that order; a refusal is a
    /// [`Refused`] error), then opens the database and applies migrations.
    pub async fn open(file: &FileConfig, storage: &Storage, needs: Needs, lang: Lang) -> Result<Context> {
        Context::prepare(file, None, storage, needs, lang)?.open().await
    }

    /// The first half of [`Context::open`], for a command that checks more before the database
    /// is touched; `listen` is the server's address flag.
    pub fn prepare(
        file: &FileConfig,
        listen: Option<SocketAddr>,
        storage: &Storage,
        needs: Needs,
        lang: Lang,
    ) -> Result<Prepared, Refused> {
        let settings = Settings::resolve(listen, storage.data_dir.clone(), storage.database_url.clone(), file);
        if needs.serves {
            writable_data_folder(&settings, lang)?;
        }
        let audit_key = match needs.audit_key {
            AuditKeyNeed::No => None,
            AuditKeyNeed::Required => Some(required_audit_key(storage, file, &settings, lang)?),
            AuditKeyNeed::OrDemo => Some(audit_key_or_demo(storage, file, &settings, lang)?),
        };
        let cipher = match needs.cipher {
            CipherNeed::No => None,
            CipherNeed::Optional => personal_data_cipher(storage, file, lang)?,
            CipherNeed::Required => Some(
                personal_data_cipher(storage, file, lang)?
                    .ok_or_else(|| Refused(no_personal_data_key_message(&settings.data_dir, lang)))?,
            ),
            CipherNeed::OrDemo => Some(match personal_data_cipher(storage, file, lang)? {
                Some(c) => c,
                None => {
                    let (c, source) = demo_personal_data_key(&settings.data_dir, lang).map_err(Refused)?;
                    tracing::info!(%source, "personal-data key of the demo");
                    Arc::new(c) as Arc<dyn CipherProvider>
                }
            }),
        };
        Ok(Prepared {
            settings,
            audit_key,
            cipher,
        })
    }

    /// The audit key. Panics if the command did not ask for it (a bug of the command).
    pub fn audit_key(&self) -> &AuditKey {
        self.audit_key.as_ref().expect("the command asked for the audit key")
    }

    /// The personal-data cipher. Panics if the command did not ask for it (a bug of the command).
    pub fn cipher(&self) -> Arc<dyn CipherProvider> {
        self.cipher
            .clone()
            .expect("the command asked for the personal-data cipher")
    }

    /// The cipher when the command asked for it as optional ([`CipherNeed::Optional`]).
    pub fn cipher_if_any(&self) -> Option<Arc<dyn CipherProvider>> {
        self.cipher.clone()
    }

    /// The application on this database, with the keys the command asked for.
    pub async fn app(&self) -> Result<App, StoreError> {
        let mut app = App::new(self.db.clone())
            .await?
            .with_audit_anchor(self.settings.audit_anchor.clone());
        if let Some(key) = &self.audit_key {
            app = app.with_audit_key(key.clone());
        }
        if let Some(cipher) = &self.cipher {
            app = app.with_cipher(cipher.clone());
        }
        Ok(app)
    }

    /// The settings, the database, the audit key and the cipher, for a command that keeps them
    /// (the server). Panics if the command did not ask for the audit key.
    pub fn into_parts(self) -> (Settings, Db, AuditKey, Option<Arc<dyn CipherProvider>>) {
        let key = self.audit_key.expect("the command asked for the audit key");
        (self.settings, self.db, key, self.cipher)
    }
}

impl Prepared {
    /// The personal-data cipher. Panics if the command did not ask for it.
    pub fn cipher(&self) -> Arc<dyn CipherProvider> {
        self.cipher
            .clone()
            .expect("the command asked for the personal-data cipher")
    }

    /// Opens the database (creating the SQLite data folder if needed) and applies migrations.
    pub async fn open(self) -> Result<Context> {
        let db = open_database(&self.settings).await?;
        Ok(Context {
            settings: self.settings,
            db,
            audit_key: self.audit_key,
            cipher: self.cipher,
        })
    }
}

/// A server refuses to start on a data folder it cannot write (a read-only mount, a full
/// disk, another owner), with one line naming the folder, rather than start and refuse every
/// change. The folder is created (0700) when missing. Also where the demo keeps its keys and
/// photos, so it is checked whatever the database.
fn writable_data_folder(settings: &Settings, lang: Lang) -> Result<(), Refused> {
    let dir = &settings.data_dir;
    let refused = |e: std::io::Error| {
        Refused(match lang {
            Lang::Zh => format!(
                "数据文件夹 {} 无法写入（{e}），服务未启动：请检查其权限、所在磁盘的剩余空间，以及是否以只读方式挂载",
                dir.display()
            ),
            Lang::En => format!(
                "the data folder {} cannot be written ({e}); not starting: check its permissions, the free space of its disk and whether it is mounted read-only",
                dir.display()
            ),
        })
    };
    gongzhi_store::create_data_dir(dir).map_err(refused)?;
    let probe = dir.join(format!(".gongzhi-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"ok").map_err(refused)?;
    std::fs::remove_file(&probe).map_err(refused)
}

/// Opens the database (creating the SQLite data folder if needed) and applies migrations.
pub async fn open_database(settings: &Settings) -> Result<Db> {
    if settings.uses_sqlite() {
        gongzhi_store::create_data_dir(&settings.data_dir)
            .with_context(|| format!("creating data folder {}", settings.data_dir.display()))?;
    }
    let db = Db::connect(&settings.database_url)
        .await
        .with_context(|| format!("opening {}", redact(&settings.database_url)))?;
    db.migrate().await.context("applying migrations")?;
    Ok(db)
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// The configured personal-data key (flag, environment, file) as the software cipher provider.
fn personal_data_cipher(
    storage: &Storage,
    file: &FileConfig,
    lang: Lang,
) -> Result<Option<Arc<dyn CipherProvider>>, Refused> {
    let env = std::env::var(PERSONAL_DATA_KEY_ENV).ok();
    id_mask_policy(file).map_err(Refused)?;
    let configured =
        configured_personal_data_key(storage.personal_data_key_file.as_deref(), env.as_deref(), file, lang)
            .map_err(Refused)?;
    Ok(configured.map(|(cipher, source)| {
        tracing::info!(%source, "personal-data key loaded");
        Arc::new(cipher) as Arc<dyn CipherProvider>
    }))
}

/// The configured audit key (flag, environment, file), if any.
fn configured(storage: &Storage, file: &FileConfig, lang: Lang) -> Result<Option<(AuditKey, KeySource)>, Refused> {
    let env = std::env::var(AUDIT_KEY_ENV).ok();
    configured_audit_key(storage.audit_key_file.as_deref(), env.as_deref(), file, lang).map_err(Refused)
}

/// The configured audit key, or a refusal saying how to configure one.
fn required_audit_key(
    storage: &Storage,
    file: &FileConfig,
    settings: &Settings,
    lang: Lang,
) -> Result<AuditKey, Refused> {
    match configured(storage, file, lang)? {
        Some((key, source)) => {
            tracing::info!(%source, "audit key loaded");
            Ok(key)
        }
        None => Err(Refused(no_key_message(&settings.data_dir, lang))),
    }
}

/// The configured audit key, else the demo's key beside the database (generated, with a warning,
/// the first time).
fn audit_key_or_demo(
    storage: &Storage,
    file: &FileConfig,
    settings: &Settings,
    lang: Lang,
) -> Result<AuditKey, Refused> {
    let (key, source) = match configured(storage, file, lang)? {
        Some(k) => k,
        None => demo_audit_key(&settings.data_dir, lang).map_err(Refused)?,
    };
    match &source {
        KeySource::DemoGenerated(path) => tracing::warn!(
            file = %path.display(),
            "no audit key configured: generated a demo key beside the database; keep it, the audit record cannot be verified without it"
        ),
        other => tracing::info!(source = %other, "audit key loaded"),
    }
    Ok(key)
}
