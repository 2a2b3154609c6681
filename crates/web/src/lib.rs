//! HTTP for Gongzhi: the JSON API under `/api/v1` and server-rendered pages, Chinese first.

pub mod audit;
pub mod cases;
pub mod cogov;
mod error;
pub mod events;
pub mod gridworker;
pub mod import;
mod lang;
mod map;
pub mod pages;
pub mod people;
pub mod registry;
pub mod resident;
pub mod rules;
pub mod taxonomy;
pub mod territory;
mod texts;

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use chrono::NaiveDate;
use gongzhi_core::audit::AuditKey;
use gongzhi_core::cases::attachment::AttachmentLimits;
use gongzhi_core::cases::rules::{CaseRules, RuleFiles};
use gongzhi_core::people::cipher::CipherProvider;
use gongzhi_core::people::policy::SecurityPolicy;
use gongzhi_core::people::registry::IdMaskPolicy;
use gongzhi_store::{Blobs, Db};

pub use error::ApiError;
pub use events::{CaseEvent, Hub};
pub use lang::ReqLang;
pub use territory::index::TerritoryIndex;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    index: Arc<RwLock<Arc<TerritoryIndex>>>,
    /// How long an API token issued at sign-in stays valid.
    pub token_ttl_hours: i64,
    /// Password, lockout and session rules of the sign-in (GB/T 22239 level 3).
    pub security: SecurityPolicy,
    attachments: Option<Attachments>,
    /// Live case events: publish after each committed change.
    pub events: Hub,
    audit_key: Option<Arc<AuditKey>>,
    rules: Arc<RwLock<Arc<CaseRules>>>,
    /// The rules revision and the day the rules in force were built for; `None` while they are the
    /// shipped files (a database whose rules were not seeded yet).
    rules_mark: Arc<Mutex<Option<(i64, NaiveDate)>>>,
    /// Each person's inbox counts until a case changes.
    inbox_counts: cases::inbox::InboxCounts,
    /// The token buckets of the API keys.
    pub(crate) api_key_limits: people::api_keys::RateLimits,
    /// The group-commit writer of case reports, started on first use (it needs a runtime).
    intake: Arc<std::sync::OnceLock<gongzhi_store::cases::intake::Intake>>,
    /// Where residents' sign-in codes go: nowhere (residents cannot sign in) until a gateway is
    /// given.
    sms: Arc<dyn resident::sms::SmsGateway>,
    /// The registry imports started on this server, with their progress.
    import_jobs: import::Jobs,
    /// Seals and opens the registry's personal data; `None` until a key is configured, and then
    /// the registry's pages and API answer 503.
    cipher: Option<Arc<dyn CipherProvider>>,
    /// How lists mask ID numbers (setting `id_number_mask`).
    pub id_mask: IdMaskPolicy,
}

/// Where uploaded photos go and how large they may be.
#[derive(Clone, Debug)]
pub struct Attachments {
    pub blobs: Blobs,
    pub limits: AttachmentLimits,
}

impl AppState {
    /// Loads the point-in-grid index from the database.
    pub async fn new(db: Db) -> Result<AppState, gongzhi_store::StoreError> {
        let index = TerritoryIndex::load(&db).await?;
        let state = AppState {
            db,
            index: Arc::new(RwLock::new(Arc::new(index))),
            token_ttl_hours: 12,
            security: SecurityPolicy::default(),
            attachments: None,
            events: Hub::default(),
            audit_key: None,
            rules: Arc::new(RwLock::new(Arc::new(default_rules()))),
            intake: Arc::default(),
            api_key_limits: Default::default(),
            inbox_counts: Default::default(),
            rules_mark: Arc::new(Mutex::new(None)),
            sms: Arc::new(resident::sms::NoGateway),
            import_jobs: import::Jobs::default(),
            cipher: None,
            id_mask: IdMaskPolicy::default(),
        };
        state.refresh_rules().await?;
        Ok(state)
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
    pub async fn refresh_rules(&self) -> Result<bool, gongzhi_store::StoreError> {
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

    /// Puts new rules in force, e.g. after a new version of the responsibility list is imported.
    pub fn set_rules(&self, rules: Arc<CaseRules>) {
        match self.rules.write() {
            Ok(mut guard) => *guard = rules,
            Err(poisoned) => *poisoned.into_inner() = rules,
        }
    }

    /// Accepts uploads into `blobs` (the data folder's `attachments/`) within `limits`.
    /// Without this the attachment endpoints answer 503.
    pub fn with_attachments(mut self, blobs: Blobs, limits: AttachmentLimits) -> AppState {
        self.attachments = Some(Attachments { blobs, limits });
        self
    }

    pub fn attachments(&self) -> Result<&Attachments, ApiError> {
        self.attachments.as_ref().ok_or_else(ApiError::attachments_unavailable)
    }

    /// Gives the state the key of the audit chain, which the server needs to record changes
    /// and verify the record. (`gongzhi serve` refuses to start without one.)
    pub fn with_audit_key(mut self, key: AuditKey) -> AppState {
        self.audit_key = Some(Arc::new(key));
        self
    }

    /// Sends residents' sign-in codes through `gateway` instead of the log.
    pub fn with_sms(mut self, gateway: Arc<dyn resident::sms::SmsGateway>) -> AppState {
        self.sms = gateway;
        self
    }

    /// The registry imports of this server.
    pub fn import_jobs(&self) -> &import::Jobs {
        &self.import_jobs
    }

    /// Gives the state the cipher provider of personal data (the software provider with the
    /// configured key, or a certified module's). Without it the registry answers 503.
    pub fn with_cipher(mut self, cipher: Arc<dyn CipherProvider>) -> AppState {
        self.cipher = Some(cipher);
        self
    }

    /// How lists mask ID numbers.
    pub fn with_id_mask(mut self, policy: IdMaskPolicy) -> AppState {
        self.id_mask = policy;
        self
    }

    /// The cipher provider of personal data, when one was given.
    pub fn cipher(&self) -> Option<Arc<dyn CipherProvider>> {
        self.cipher.clone()
    }

    /// The SMS gateway of residents' sign-in codes.
    pub fn sms(&self) -> Arc<dyn resident::sms::SmsGateway> {
        self.sms.clone()
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
    pub async fn refresh_index(&self) -> Result<bool, gongzhi_store::StoreError> {
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
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = state.refresh_index().await {
                    tracing::warn!(error = %e, "grid index refresh failed");
                }
                if let Err(e) = state.refresh_rules().await {
                    tracing::warn!(error = %e, "case rules refresh failed");
                }
            }
        })
    }
}

/// The start page of whoever signs in: the first section of their navigation.
async fn home(staff: people::session::Staff) -> Redirect {
    let chrome = pages::Chrome::for_staff(&staff, "");
    Redirect::to(chrome.nav.first().map_or("/territory", |l| l.href))
}

async fn healthz() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok\n")
}

async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> Result<&'static str, ApiError> {
    state.db.ping().await?;
    Ok("ready\n")
}

/// The shipped rules of the demo city; they are tested to load, so failing here is a build bug.
fn default_rules() -> CaseRules {
    CaseRules::qitaihe().expect("the shipped case rules load (tested in gongzhi-core)")
}

/// The OpenAPI 3.0 document of every endpoint under /api/v1, hand-written and kept true by
/// `crates/cli/tests/openapi.rs`.
pub const OPENAPI: &str = include_str!("../openapi/openapi.json");

/// `GET /api/v1/openapi.json`.
async fn openapi() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let max_upload = state
        .attachments
        .as_ref()
        .map_or(AttachmentLimits::default().max_bytes, |a| a.limits.max_bytes);
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/openapi.json", get(openapi))
        .merge(territory::routes())
        .merge(people::routes())
        .merge(cases::attachment::routes(max_upload))
        .merge(events::routes())
        .merge(cases::routes())
        .merge(cases::open311::routes(max_upload))
        .merge(cases::pages::routes(max_upload))
        .merge(resident::routes(max_upload))
        .merge(gridworker::routes(max_upload))
        .merge(cogov::routes())
        .merge(registry::routes())
        .merge(audit::routes())
        .merge(rules::routes())
        .merge(taxonomy::routes())
        .merge(import::routes())
        .fallback(|| async { ApiError::not_found_path() })
        .layer(axum::middleware::from_fn(error::render_errors))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
