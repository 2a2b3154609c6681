//! Live events: every change of a case is published to a [`Hub`] once its transaction has
//! committed; the web's `GET /api/v1/events` streams the changes a caller may see.
//!
//! The hub keeps no history: a client that connects late or falls behind is told how many
//! events it missed (`event: missed`) and reloads what it shows from the API.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::Stream;
use gongzhi_core::people::{Actor, Grant, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before it misses some.
pub const DEFAULT_CAPACITY: usize = 1024;

/// A change of a case, as subscribers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseEvent {
    pub case_id: i64,
    /// The case number people read, e.g. `2026112700001`.
    pub case_no: String,
    /// The state after the change (the state machine's snake_case name, e.g. `dispatched`).
    pub state: String,
    /// Where the case is: its grid, or the most precise node known.
    pub territory_code: TerritoryCode,
    pub at: DateTime<Utc>,
    /// What happened (the action's snake_case name, e.g. `reported`, `dispatch`, `whistle`).
    pub kind: String,
    /// The lead unit after the change (`department:urban-management`), so that a department's
    /// staff follow the cases it leads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_unit: Option<String>,
}

/// Which events `actor` may see: those in the subtrees their working roles reach, narrowed to the
/// subtree `within` (the whole city when `None`), and for department staff the cases their
/// department leads. An administrator's grant or a security permission shows none (as
/// `cases::can_see`).
pub fn visible_to(
    actor: &Actor,
    within: Option<&TerritoryCode>,
) -> impl Fn(&CaseEvent) -> bool + Send + Sync + 'static {
    let working: Vec<&Grant> = actor
        .grants
        .iter()
        .filter(|g| Role::WORKING.contains(&g.role))
        .collect();
    let reach: Vec<Scope> = working
        .iter()
        .map(|g| g.scope.clone())
        .filter(|s| matches!(s, Scope::Territory(_)))
        .collect();
    let departments: Vec<String> = working
        .iter()
        .filter_map(|g| match &g.scope {
            Scope::Department(d) => Some(format!("department:{d}")),
            Scope::Organization(o) => Some(format!("organization:{o}")),
            Scope::Territory(_) => None,
        })
        .collect();
    let prefix = within.map(|w| w.subtree_prefix().to_string()).unwrap_or_default();
    move |event: &CaseEvent| {
        event.territory_code.as_str().starts_with(&prefix)
            && (reach.iter().any(|s| s.reaches(&event.territory_code))
                || event.lead_unit.as_ref().is_some_and(|l| departments.contains(l)))
    }
}

/// What a subscription yields.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    Event(Arc<CaseEvent>),
    /// The subscriber fell this many events behind; they are lost to it.
    Missed(u64),
}

type Filter = Box<dyn Fn(&CaseEvent) -> bool + Send + Sync>;

/// The broadcast of case events. Cloning gives another handle on the same hub.
#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<Arc<CaseEvent>>,
    /// Counts published events: caches of what cases look like (inbox counts) compare it.
    generation: Arc<std::sync::atomic::AtomicU64>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new(DEFAULT_CAPACITY)
    }
}

impl Hub {
    pub fn new(capacity: usize) -> Hub {
        Hub {
            sender: broadcast::Sender::new(capacity.max(1)),
            generation: Arc::default(),
        }
    }

    /// Sends an event to every subscriber whose filter accepts it. Call it after the change has
    /// committed, never inside the transaction. Returns how many subscribers were listening.
    pub fn publish(&self, event: CaseEvent) -> usize {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::Release);
        // An error only means nobody is listening.
        self.sender.send(Arc::new(event)).unwrap_or(0)
    }

    /// A subscription to the events `filter` accepts (the caller's scope).
    pub fn subscribe(&self, filter: impl Fn(&CaseEvent) -> bool + Send + Sync + 'static) -> Subscription {
        Subscription {
            receiver: self.sender.subscribe(),
            filter: Box::new(filter),
        }
    }

    /// How many events were published so far: changes when any case changed.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }
}

pub struct Subscription {
    receiver: broadcast::Receiver<Arc<CaseEvent>>,
    filter: Filter,
}

impl Subscription {
    /// The next event this subscriber may see, or `None` once the hub is gone.
    pub async fn next(&mut self) -> Option<Delivery> {
        loop {
            match self.receiver.recv().await {
                Ok(event) if (self.filter)(&event) => return Some(Delivery::Event(event)),
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(n)) => return Some(Delivery::Missed(n)),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    pub fn into_stream(self) -> impl Stream<Item = Delivery> + Send {
        futures_util::stream::unfold(self, |mut s| async move { s.next().await.map(|d| (d, s)) })
    }
}
