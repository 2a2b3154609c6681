//! The case state machine (DESIGN §3), pure: `apply(case, action, actor, now, ctx)` gives the new
//! case and one event, or a typed error and no change.
//!
//! # States
//!
//! `reported → accepted (⇄ verifying) → registered → dispatched → handling (⇄ suspended) →
//! reported_back → passed → closed`, and the ends `rejected`, `merged`, `cancelled`. Folded away,
//! to keep the set minimal:
//! - *checking*: the check (核查) is a step of `reported_back` with its own deadline
//!   (`Deadlines::verification`), not a state; `check_pass` leads to `passed`.
//! - *failed*: a failed check goes straight back to `handling` with the rework count +1.
//! - *self-handled*, *rated*: a self-handling waits as a request on `reported` (approved: `closed`;
//!   denied: `accepted`); a follow-up is data on a `closed` case.
//! - *not filed* (不予立案) is `rejected` from `accepted`/`verifying`, as 不予受理 is from `reported`.
//!
//! Requests (return, extension, suspension, cancel, self-handling) wait in `Case::pending`, one
//! per kind, until approved or denied; a transition to a state where a request means nothing
//! withdraws it (recorded in the event).
//!
//! # Decisions
//!
//! - Only follow-up and reopen change a `closed` case; `rejected`, `merged`, `cancelled` never
//!   change. Supervision is for open cases (a closed case is not late).
//! - Reopen: by the shift lead, within `reopen_window_days` natural days of closing, and only when
//!   the follow-up reached the reporter and found it not solved or not satisfied ("basically
//!   satisfied" is not grounds). It goes back to the lead handler (`handling`, a fresh handling
//!   limit), or to `registered` when nobody handled it.
//! - The handling clock starts at dispatch; rework and reopen give a fresh handling limit.
//! - Suspension pauses the handling clock: resuming moves the handling deadline later by exactly
//!   the working minutes paused.
//! - Supervision may keep or raise the level, never lower it.
//! - A whistle's summoned departments become co-handlers; each reports in once per whistle.
//! - Who may do what: see `permit`.
//!
//! # Persisting
//!
//! The store keeps the `Case` as JSON beside indexed columns (number, state, outcome, node, matter,
//! lead, supervision, next deadline, revision) and appends the `Event` in the same transaction,
//! updating `WHERE revision = <the revision it read>` so concurrent actions cannot both land.

mod action;
mod apply;
mod case;
mod clock;
mod error;
mod permit;
mod policy;
mod state;

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;

pub use action::{Action, ActionKind};
pub use apply::{Applied, Event, FlowContext, apply};
pub use case::{
    BadCaseNumber, Case, CaseLimits, CaseNumber, Deadlines, ExtendBy, FollowUp, Request, RequestKind, Satisfaction,
    Summons, SupervisionLevel, SupervisionOrder, SuspensionPeriod, Whistle,
};
pub use clock::{SupervisionTrigger, auto_supervision, next_deadline, overdue, remaining_minutes};
pub use error::FlowError;
pub use permit::{Authority, Who, acts_for, authorize, available_actions, state_allows, who};
pub use policy::{
    ChannelRoles, DefaultLimits, Escalation, FlowPolicy, LimitKind, PhaseThresholds, PolicyError, PolicyProblem,
    Positive, PositiveLimit, Rule, SupervisionThresholds,
};
pub use state::{Outcome, Stage, State};
