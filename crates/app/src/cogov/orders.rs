//! Residents' needs (居民点单): a resident posts a need to the community they picked; community staff
//! of that community take it through its states ([`OrderState`]): list it on the needs list or
//! decline it with a reason, then mark it fulfilled with a note. Every step is audited.

use chrono::Utc;
use gongzhi_core::cogov::orders::{OrderDraft, OrderProblem, OrderState, OrderStep};
use gongzhi_core::people::Actor;
use gongzhi_store::StoreError;

use super::{PALM, invalid, is_staff, serves};
use crate::people::residents::Resident;
use crate::{App, AppError};

pub use gongzhi_store::cogov::orders::Order;

/// The resident's community and their needs, newest first: `None` until they pick a community.
pub async fn my_orders(app: &App, resident: &Resident) -> Result<Option<(String, Vec<Order>)>, AppError> {
    let Some(community) = app.db().resident_community(resident.id).await? else {
        return Ok(None);
    };
    let orders = app.db().orders_of_resident(resident.id).await?;
    Ok(Some((community, orders)))
}

/// A need as typed, with the key of its form (one form, one need however often it is sent).
pub struct PostNeed {
    pub kind: String,
    pub description: String,
    pub preferred_time: String,
    pub idempotency_key: Option<String>,
}

/// Posts a need to the resident's community (audited); the same key again gives the need it made.
pub async fn post(app: &App, resident: &Resident, cmd: PostNeed) -> Result<i64, AppError> {
    let Some(community) = app.db().resident_community(resident.id).await? else {
        return Err(invalid("community", "请先选择所在社区", "choose your community first"));
    };
    let draft = OrderDraft::check(&PALM, &cmd.kind, &cmd.description, &cmd.preferred_time).map_err(AppError::draft)?;
    let key = cmd
        .idempotency_key
        .ok_or_else(|| AppError::missing("idempotency_key"))?;
    let audit_key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let id = app
        .db()
        .post_order(resident.id, &community, &draft, &key, Utc::now(), &audit_key)
        .await?;
    Ok(id)
}

/// Refused: not community staff of the need's community.
pub fn not_community_staff() -> AppError {
    AppError::forbidden(
        "仅本社区的社区工作者、街道工作人员可以处理居民点单",
        "only community workers and street staff of the community handle residents' needs",
    )
}

/// The needs of the communities `actor` serves (of the latest 500), newest first.
pub async fn staff_orders(app: &App, actor: &Actor) -> Result<Vec<Order>, AppError> {
    if !is_staff(actor) {
        return Err(not_community_staff());
    }
    Ok(app
        .db()
        .latest_orders(500)
        .await?
        .into_iter()
        .filter(|o| serves(actor, &o.community_code))
        .collect())
}

/// A step on a need as the form gave it: `list`, `decline` (the reason in `text`) or `fulfil`
/// (the note in `text`). It is parsed after the need's scope is checked, so that another
/// community's need is refused as such.
pub struct TakeStep {
    pub order: i64,
    pub step: String,
    pub text: String,
}

/// Takes a need of a community `actor` serves a step (audited); gives the state it is in now.
/// Refused: unknown need (404), another community's (403), a step its state does not allow (409)
/// or a missing or too long text (422), both naming the field; a step taken by someone else
/// meanwhile is refused from the state it is in now.
pub async fn step(app: &App, actor: &Actor, cmd: TakeStep) -> Result<OrderState, AppError> {
    let order = app.db().order(cmd.order).await?.ok_or_else(AppError::not_found_path)?;
    if !serves(actor, &order.community_code) {
        return Err(not_community_staff());
    }
    let step = OrderStep::parse(&cmd.step, &cmd.text).map_err(|e| AppError::order(&e))?;
    let to = order.state.apply(&step).map_err(|e| AppError::order(&e))?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    match app
        .db()
        .transition_order(&order, &step, to, &actor.account, Utc::now(), &key)
        .await
    {
        Ok(()) => Ok(to),
        Err(StoreError::Conflict { .. }) => {
            let from = app.db().order(cmd.order).await?.map_or(order.state, |o| o.state);
            Err(AppError::order(&OrderProblem::WrongState {
                from,
                step: step.name(),
            }))
        }
        Err(e) => Err(e.into()),
    }
}
