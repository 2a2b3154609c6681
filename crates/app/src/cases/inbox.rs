//! Inboxes by role (待办): how many cases wait in each of a person's inboxes, and what waits in
//! one of them (or in all their work inboxes), nearest deadline first. Which cases fill an inbox
//! is decided in the core (`gongzhi_core::cases::inbox`) from the permission table of the loop.

use chrono::{DateTime, Utc};
use gongzhi_core::cases::inbox::{Inbox, InboxQuery};
use gongzhi_core::people::Actor;
use gongzhi_store::cases::{CaseFilter, CasePage, CaseSort};

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
            .list_cases_sorted(&filter_of(q), CaseSort::Deadline, offset, size, now)
            .await?),
        None => Ok(CasePage {
            cases: vec![],
            total: 0,
            next_cursor: None,
        }),
    }
}
