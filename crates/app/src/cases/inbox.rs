//! Inboxes by role (待办): how many cases wait in each of a person's inboxes, and what waits in
//! one of them (or in all their work inboxes), nearest deadline first. Which cases fill an inbox
//! is decided in the core (`gongzhi_core::cases::inbox`) from the permission table of the loop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use gongzhi_core::cases::inbox::{Inbox, InboxQuery};
use gongzhi_core::people::Actor;
use gongzhi_store::cases::{COUNT_CAP, CaseFilter, CasePage, CaseSort};

use crate::{App, AppError};

fn filter_of(query: InboxQuery) -> CaseFilter {
    CaseFilter {
        inbox: Some(query),
        ..CaseFilter::default()
    }
}

/// How many cases wait in each of the actor's inboxes.
pub async fn counts(app: &App, actor: &Actor, now: DateTime<Utc>) -> Result<Vec<(Inbox, i64)>, AppError> {
    let mut counts = Vec::new();
    for (inbox, query) in Inbox::all_for(actor) {
        let n = app.db().count_cases(&filter_of(query), now).await?;
        counts.push((inbox, n));
    }
    Ok(counts)
}

/// All work inboxes of the actor as one query: what is waiting for them, whatever the step.
fn all_work(actor: &Actor) -> Option<InboxQuery> {
    let clauses: Vec<_> = Inbox::all_for(actor)
        .into_iter()
        .filter(|(i, _)| i.is_work())
        .flat_map(|(_, q)| q.clauses)
        .collect();
    (!clauses.is_empty()).then_some(InboxQuery { clauses })
}

/// The cases in one inbox of the actor's (all their work inboxes when `None`), nearest deadline
/// first, `size` of them from `offset`; none when the inbox is not theirs.
pub async fn cases(
    app: &App,
    actor: &Actor,
    inbox: Option<Inbox>,
    offset: i64,
    size: i64,
    now: DateTime<Utc>,
) -> Result<CasePage, AppError> {
    let query = match inbox {
        Some(i) => i.query(actor),
        None => all_work(actor),
    };
    match query {
        Some(q) => Ok(app
            .db()
            .list_cases_sorted(&filter_of(q), CaseSort::Deadline, offset, size, COUNT_CAP, now)
            .await?),
        None => Ok(CasePage {
            cases: vec![],
            total: 0,
            total_exact: true,
            next: None,
            next_cursor: None,
        }),
    }
}

/// Overdue counts change with the clock, not only with events: no count is older than this.
const COUNTS_TTL: Duration = Duration::from_secs(60);

/// Inbox counts per account, valid while no case event was published since.
#[derive(Clone, Default)]
pub struct CountCache {
    cached: Arc<Mutex<HashMap<String, Cached>>>,
}

struct Cached {
    generation: u64,
    at: Instant,
    counts: Vec<(Inbox, i64)>,
}

/// The counts of each of the actor's inboxes, from the cache when no case changed since.
pub async fn cached_counts(app: &App, actor: &Actor) -> Result<Vec<(Inbox, i64)>, AppError> {
    let generation = app.events.generation();
    {
        let cache = app.inbox_counts.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.get(&actor.account)
            && c.generation == generation
            && c.at.elapsed() < COUNTS_TTL
        {
            return Ok(c.counts.clone());
        }
    }
    let counts = counts(app, actor, Utc::now()).await?;
    let mut cache = app.inbox_counts.cached.lock().unwrap_or_else(|p| p.into_inner());
    // A city's staff is a few thousand accounts; start over rather than grow without bound.
    if cache.len() > 10_000 {
        cache.clear();
    }
    cache.insert(
        actor.account.clone(),
        Cached {
            generation,
            at: Instant::now(),
            counts: counts.clone(),
        },
    );
    Ok(counts)
}

/// The cases waiting in the actor's work inboxes, for the navigation; `None` without inboxes
/// (or when the count cannot be read: the page still renders).
pub async fn work_total(app: &App, actor: &Actor) -> Option<i64> {
    match cached_counts(app, actor).await {
        Ok(c) if c.is_empty() => None,
        Ok(c) => Some(c.iter().filter(|(i, _)| i.is_work()).map(|(_, n)| n).sum()),
        Err(e) => {
            tracing::warn!(error = %e.message(gongzhi_core::Lang::En), "inbox counts");
            None
        }
    }
}
