//! The application layer of Gongzhi: what the product is, minus HTTP. It owns the shared state
//! (the database, the audit key and personal-data cipher, the case rules and their reload, the
//! grid index and its refresh, the event hub, the intake writer) and offers the use cases as
//! typed functions that the doors (web pages, the JSON API, the command line, scheduled jobs)
//! call. Errors are [`AppError`]s with a code of the one catalogue ([`gongzhi_core::ErrorCode`]).

pub mod audit;
pub mod cases;
pub mod cogov;
pub mod error;
pub mod events;
pub mod health;
pub mod people;
pub mod registry;
pub mod rules;
pub mod territory;

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::NaiveDate;
use gongzhi_core::audit::AuditKey;
use gongzhi_core::cases::attachment::AttachmentLimits;
use gongzhi_core::cases::rules::{CaseRules, RuleFiles};
use gongzhi_core::people::cipher::CipherProvider;
use gongzhi_core::people::policy::SecurityPolicy;
use gongzhi_core::people::registry::IdMaskPolicy;
use gongzhi_store::StoreError;

pub use error::AppError;
pub use events::{CaseEvent, Hub};
/// The database and the photo folder an application is opened on: the doors name them only to
/// open the application (a server at start-up, a test), never to query them.
pub use gongzhi_store::{Blobs, Db};
pub use territory::TerritoryIndex;

/// Where uploaded photos go and how large they may be.
#[derive(Clone, Debug)]
pub struct Attachments {
    pub blobs: Blobs,
    pub limits: AttachmentLimits,
}

/// The application: cheap to clone (every part is shared).
#[derive(Clone)]
pub struct App {
    db: Db,
    index: Arc<RwLock<Arc<TerritoryIndex>>>,
    /// Password, lockout and session rules of the sign-in (GB/T 22239 level 3).
    pub security: SecurityPolicy,
    /// How long an API token issued at sign-in stays valid.
    pub token_ttl_hours: i64,
    /// The token buckets of the API keys (this process's share of their rate limits).
    api_key_limits: people::api_keys::RateLimits,
    /// Staff sign-in attempts per source address (the policy's `sign_in_attempts_per_minute`).
    pub(crate) sign_in_limits: people::throttle::Buckets<String>,
    /// Residents' SMS codes asked for per source address (the policy's `sms_codes_per_hour`).
    pub(crate) sms_limits: people::throttle::Buckets<String>,
    /// Open311 reads per source address (the policy's `open311_reads_per_minute`).
    pub(crate) open311_read_limits: people::throttle::Buckets<String>,
    attachments: Option<Attachments>,
    /// Live case events: publish after each committed change.
    pub events: Hub,
    audit_key: Option<Arc<AuditKey>>,
    /// Where the audit record's end is anchored outside the database (checkpoint file, witness).
    audit_anchor: Option<Arc<audit::Anchor>>,
    rules: Arc<RwLock<Arc<CaseRules>>>,
    /// The rules revision and the day the rules in force were built for; `None` while they are the
    /// shipped files (a database whose rules were not seeded yet).
    rules_mark: Arc<Mutex<Option<(i64, NaiveDate)>>>,
    /// The group-commit writer of case reports, started on first use (it needs a runtime).
    intake: Arc<std::sync::OnceLock<gongzhi_store::cases::intake::Intake>>,
    /// Seals and opens the registry's personal data; `None` until a key is configured, and then
    /// the registry's use cases answer 503.
    cipher: Option<Arc<dyn CipherProvider>>,
    /// How lists mask ID numbers (setting `id_number_mask`).
    pub id_mask: IdMaskPolicy,
    /// Each person's inbox counts until a case changes.
    pub(crate) inbox_counts: cases::inbox::CountCache,
    pub(crate) list_totals: cases::list::TotalCache,
    /// The maps' open cases until a case changes.
    pub(crate) open_cases: cases::list::OpenCache,
    /// The territory's part of each node's page, until the territory changes.
    pub(crate) node_pages: territory::NodePageCache,
    /// The registry imports started in this process, with their progress.
    import_jobs: registry::import::Jobs,
    /// Where residents' sign-in codes go: nowhere (residents cannot sign in) until a gateway is
    /// given.
    sms: Arc<dyn people::sms::SmsGateway>,
    /// Where clients reach this server (setting `public_url`), as Open311 discovery publishes it.
    public_url: Arc<str>,

    /// Whether the database takes writes (for `/readyz`).
    write_health: Arc<health::WriteHealth>,
}

impl App {
    /// Opens the application on `db`: loads the point-in-grid index and the rules in force.
    pub async fn new(db: Db) -> Result<App, StoreError> {
        let index = TerritoryIndex::load(&db).await?;
        let app = App {
            db,
            index: Arc::new(RwLock::new(Arc::new(index))),
            security: SecurityPolicy::default(),
            token_ttl_hours: 12,
            api_key_limits: Default::default(),
            sign_in_limits: Default::default(),
            sms_limits: Default::default(),
            open311_read_limits: Default::default(),
            attachments: None,
            events: Hub::default(),
            audit_key: None,
            audit_anchor: None,
            rules: Arc::new(RwLock::new(Arc::new(default_rules()))),
            intake: Arc::default(),
            rules_mark: Arc::new(Mutex::new(None)),
            cipher: None,
            id_mask: IdMaskPolicy::default(),
            import_jobs: registry::import::Jobs::default(),
            inbox_counts: Default::default(),
            list_totals: Default::default(),
            open_cases: Default::default(),
            node_pages: Default::default(),
            sms: Arc::new(people::sms::NoGateway),
            public_url: Arc::from("http://127.0.0.1:8080"),

            write_health: Arc::default(),
        };
        app.refresh_rules().await?;
        Ok(app)
    }

    /// The database, for the use cases.
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Today where the city is (its calendar's UTC offset): the day that picks the list version
    /// in force.
    pub fn today(&self) -> NaiveDate {
        self.rules().calendar.local_date(chrono::Utc::now())
    }

    /// Reloads the rules in force from the database if they changed since they were built (an
    /// import by this server or another process sharing the database) or the day turned (a
    /// version may start today). Returns whether it reloaded. Before the rules are seeded the
    /// shipped files stay in force.
    pub async fn refresh_rules(&self) -> Result<bool, StoreError> {
        let mark = (self.db.rules_revision().await?, self.today());
        let seen = *self.rules_mark.lock().unwrap_or_else(|p| p.into_inner());
        if seen == Some(mark) {
            return Ok(false);
        }
        let Some(rules) = self.db.rules_in_force(&RuleFiles::qitaihe(), mark.1).await? else {
            return Ok(false);
        };
        tracing::info!(revision = mark.0, version = %rules.responsibility.version, "case rules reloaded");
        self.set_rules(Arc::new(rules));
        *self.rules_mark.lock().unwrap_or_else(|p| p.into_inner()) = Some(mark);
        Ok(true)
    }

    /// The case loop's rules in force (taxonomy, calendar, responsibility list, policy); cheap.
    pub fn rules(&self) -> Arc<CaseRules> {
        self.rules
            .read()
            .map(|r| r.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// The database's rules revision the rules in force were built from (`None` while they are
    /// the shipped files): with the version, what names the rules for a cache.
    pub fn rules_revision(&self) -> Option<i64> {
        self.rules_mark
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|(r, _)| r)
    }

    /// Puts new rules in force, e.g. after a new version of the responsibility list is imported.
    pub fn set_rules(&self, rules: Arc<CaseRules>) {
        match self.rules.write() {
            Ok(mut guard) => *guard = rules,
            Err(poisoned) => *poisoned.into_inner() = rules,
        }
    }

    /// Accepts uploads into `blobs` (the data folder's `attachments/`) within `limits`.
    /// Without this the attachment use cases answer 503.
    pub fn with_attachments(mut self, blobs: Blobs, limits: AttachmentLimits) -> App {
        self.attachments = Some(Attachments { blobs, limits });
        self
    }

    /// Where photos are stored, or 503 when this server has no storage for them.
    pub fn attachments(&self) -> Result<&Attachments, AppError> {
        self.attachments.as_ref().ok_or_else(AppError::attachments_unavailable)
    }

    /// The largest upload this server takes.
    pub fn max_upload_bytes(&self) -> u64 {
        self.attachments
            .as_ref()
            .map_or(AttachmentLimits::default().max_bytes, |a| a.limits.max_bytes)
    }

    /// Gives the application the key of the audit chain, which it needs to record changes and
    /// verify the record. (`gongzhi serve` refuses to start without one.)
    pub fn with_audit_key(mut self, key: AuditKey) -> App {
        self.audit_key = Some(Arc::new(key));
        self
    }

    /// Gives the application the cipher provider of personal data (the software provider with
    /// the configured key, or a certified module's). Without it the registry answers 503.
    pub fn with_cipher(mut self, cipher: Arc<dyn CipherProvider>) -> App {
        self.cipher = Some(cipher);
        self
    }

    /// How lists mask ID numbers.
    pub fn with_id_mask(mut self, policy: IdMaskPolicy) -> App {
        self.id_mask = policy;
        self
    }

    /// Where clients reach this server (`https://…`, no trailing `/`): what Open311 discovery
    /// publishes, whatever `Host` a request names.
    pub fn with_public_url(mut self, url: &str) -> App {
        self.public_url = Arc::from(url.trim_end_matches('/'));
        self
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Whether cookies must be marked `Secure`: the public address is `https://` (then browsers
    /// send them over TLS only). With `http://` (the demo on a laptop) they are not marked, or
    /// browsers would drop them.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }

    /// Sets the sign-in rules (lockout, password, session lengths).
    pub fn with_security(mut self, policy: SecurityPolicy) -> App {
        self.security = policy;
        self
    }

    /// Sends residents' sign-in codes through `gateway`.
    pub fn with_sms(mut self, gateway: Arc<dyn people::sms::SmsGateway>) -> App {
        self.sms = gateway;
        self
    }

    /// The SMS gateway of residents' sign-in codes.
    pub fn sms(&self) -> Arc<dyn people::sms::SmsGateway> {
        self.sms.clone()
    }

    /// The cipher provider of personal data, when one was given.
    /// Every value it fails to open is audited (`people::sealed`).
    pub fn cipher(&self) -> Option<Arc<dyn CipherProvider>> {
        let inner = self.cipher.clone()?;
        Some(Arc::new(people::sealed::Watched {
            inner,
            db: self.db.clone(),
            key: self.audit_key.clone(),
        }))
    }

    /// The audit key, when one was given.
    pub fn audit_key(&self) -> Option<Arc<AuditKey>> {
        self.audit_key.clone()
    }

    /// The writer that reports cases through group commit, sealing audit entries with `key`.
    pub fn intake(&self, key: Arc<AuditKey>) -> gongzhi_store::cases::intake::Intake {
        self.intake
            .get_or_init(|| gongzhi_store::cases::intake::Intake::spawn(self.db.clone(), key))
            .clone()
    }

    /// The current index; cheap (an `Arc` clone), never blocks on a rebuild.
    pub fn index(&self) -> Arc<TerritoryIndex> {
        self.index
            .read()
            .map(|i| i.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Rebuilds the index if grids changed since it was built (by this server or another
    /// process sharing the database). Returns whether it rebuilt.
    pub async fn refresh_index(&self) -> Result<bool, StoreError> {
        let revision = self.db.territory_revision().await?;
        if revision == self.index().revision {
            return Ok(false);
        }
        let fresh = Arc::new(TerritoryIndex::load(&self.db).await?);
        tracing::info!(
            revision = fresh.revision,
            grids = fresh.grids.len(),
            "grid index rebuilt"
        );
        match self.index.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(true)
    }

    /// Checks the territory and rules revisions every `period` and rebuilds the index, or reloads
    /// the rules, when they moved.
    pub fn spawn_index_refresh(&self, period: Duration) -> tokio::task::JoinHandle<()> {
        self.every(period, |app| async move {
            if let Err(e) = app.refresh_index().await {
                tracing::warn!(error = %e, "grid index refresh failed");
            }
            if let Err(e) = app.refresh_rules().await {
                tracing::warn!(error = %e, "case rules refresh failed");
            }
        })
    }

    /// Runs `job` every `period` on a task of its own (the scheduled jobs); a tick missed while
    /// the job ran is delayed, not made up in a burst.
    pub(crate) fn every<F, Fut>(&self, period: Duration, job: F) -> tokio::task::JoinHandle<()>
    where
        F: Fn(App) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                job(app.clone()).await;
            }
        })
    }

    /// The registry imports of this process.
    pub fn import_jobs(&self) -> &registry::import::Jobs {
        &self.import_jobs
    }

    /// Whether this server can serve: the database answers, and takes writes unless a write
    /// was refused since the last one that succeeded (see [`health`]); 503
    /// `storage_unavailable` when not.
    pub async fn ready(&self) -> Result<(), AppError> {
        self.db.ping().await.map_err(|e| AppError::storage_unavailable(&e))?;
        match self.write_health.failing_for() {
            None => Ok(()),
            Some(age) if age < health::PROBE_AFTER => {
                Err(AppError::storage_unavailable(&"a write was refused just now"))
            }
            Some(_) => match self.db.probe_write().await {
                Ok(()) => {
                    self.write_health.worked();
                    Ok(())
                }
                Err(e) => {
                    self.write_health.failed();
                    Err(AppError::storage_unavailable(&e))
                }
            },
        }
    }

    /// The storage's write health, told by the doors what became of each write they passed on.
    pub fn write_health(&self) -> &health::WriteHealth {
        &self.write_health
    }
}

/// The shipped rules of the demo city; they are tested to load, so failing here is a build bug.
fn default_rules() -> CaseRules {
    CaseRules::qitaihe().expect("the shipped case rules load (tested in gongzhi-core)")
}
