//! A sealed value that does not open (changed in the database, moved from another column, or
//! sealed under another key) is tampering until shown otherwise: the read fails as before, and
//! the audit record gets an entry naming the column (GB/T 39786 §8.4 g; security-cn.md
//! requirement 26). Which rows were touched is not said: the entry must not help whoever did it.

use std::sync::Arc;

use chrono::Utc;
use gongzhi_core::audit::{AuditKey, NewAuditEntry, SYSTEM_ACTOR};
use gongzhi_core::people::cipher::{CipherError, CipherProvider};

use crate::Db;

pub const UNOPENED: &str = "people.sealed.unopened";

/// The application's cipher with a watch on failed opens.
pub struct Watched {
    pub inner: Arc<dyn CipherProvider>,
    pub db: Db,
    pub key: Option<Arc<AuditKey>>,
}

impl Watched {
    fn report(&self, context: &str) {
        let (Some(key), Ok(runtime)) = (self.key.clone(), tokio::runtime::Handle::try_current()) else {
            tracing::error!(
                context,
                "a sealed value does not open and cannot be audited (no audit key)"
            );
            return;
        };
        tracing::error!(
            context,
            "a sealed value does not open: changed, moved or sealed under another key"
        );
        let db = self.db.clone();
        let context = context.to_string();
        // The read itself has no transaction to join; the entry follows it on its own.
        runtime.spawn(async move {
            let detail = serde_json::json!({ "column": context });
            let entry = NewAuditEntry::new(Utc::now(), SYSTEM_ACTOR, UNOPENED, "sealed_column", &context, detail);
            match entry {
                Ok(entry) => {
                    if let Err(e) = gongzhi_store::audit::record(&db, &key, entry).await {
                        tracing::error!(error = %e, "auditing a sealed value that does not open");
                    }
                }
                Err(e) => tracing::error!(error = %e, "auditing a sealed value that does not open"),
            }
        });
    }
}

impl CipherProvider for Watched {
    fn seal(&self, context: &str, plain: &[u8]) -> Vec<u8> {
        self.inner.seal(context, plain)
    }

    fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, CipherError> {
        self.inner.open(context, sealed).inspect_err(|_| self.report(context))
    }

    fn index(&self, context: &str, plain: &str) -> String {
        self.inner.index(context, plain)
    }

    fn open_text(&self, context: &str, sealed: &str) -> Result<String, CipherError> {
        self.inner
            .open_text(context, sealed)
            .inspect_err(|_| self.report(context))
    }
}
