//! Residents' needs (居民点单): a resident posts a need to the community they picked; community staff
//! of that community take it through its states ([`OrderState`]): list it on the needs list or
//! decline it with a reason, then mark it fulfilled with a note, or publish it (社区发单).
//!
//! A published need is a case of the one loop (channel `order`, the resident its reporter for the
//! follow-up): `system:orders` accepts and registers it; a member organization's liaison takes it
//! ([`take`]: the case dispatched to the organization, acknowledged by the liaison, the handling
//! limit the date to deliver by), delivers it (reports back on the case), the community certifies
//! it (checks and closes the case), the resident rates the taker ([`rate`]: the case's
//! follow-up), the taker may rate back ([`rate_back`]). The need follows its case
//! ([`case_changed`]), whoever moves it and through whichever door. Every step is audited.

use chrono::{NaiveDate, Utc};
use gongzhi_core::cases::UnitRef;
use gongzhi_core::cases::flow::{Action, CaseLimits, Satisfaction, State};
use gongzhi_core::cases::intake::Channel;
use gongzhi_core::cases::{Limit, LimitUnit};
use gongzhi_core::cogov::orders::{OrderDraft, OrderProblem, OrderState, OrderStep};
use gongzhi_core::orgs::registry::MemberOrganization;
use gongzhi_core::people::resident::resident_actor;
use gongzhi_core::people::{Actor, Grant, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_store::StoreError;
use gongzhi_store::cases::CaseRecord;
use gongzhi_store::cogov::orders::RatingSide;
use serde_json::{Map, json};

use super::{PALM, invalid, is_staff, serves};
use crate::cases::{self, Place, Report};
use crate::people::residents::Resident;
use crate::{App, AppError};

/// The account under which the loop's own steps of a published need are taken (accepting and
/// registering its case, dispatching it to the organization that took it).
pub const ORDERS_ACCOUNT: &str = "system:orders";

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
    /// For `publish`: the date to deliver by (YYYY-MM-DD).
    pub due: String,
}

/// Takes a need of a community `actor` serves a step (audited); gives the state it is in now.
/// Refused: unknown need (404), another community's (403), a step its state does not allow (409)
/// or a missing or too long text (422), both naming the field; a step taken by someone else
/// meanwhile is refused from the state it is in now.
pub async fn step(app: &App, actor: &Actor, cmd: TakeStep) -> Result<OrderState, AppError> {
    let order = served_order(app, actor, cmd.order).await?;
    if cmd.step.trim() == "publish" {
        publish_served(app, actor, order, &cmd.due).await?;
        return Ok(OrderState::Published);
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

/// Refused: the need is in a state that does not allow the step (409, the state named).
fn wrong_state(from: OrderState, step: &'static str) -> AppError {
    AppError::order(&OrderProblem::WrongState { from, step })
}

/// The need `id` of a community `actor` serves: 404 unknown, 403 another community's.
async fn served_order(app: &App, actor: &Actor, id: i64) -> Result<Order, AppError> {
    let order = app.db().order(id).await?.ok_or_else(AppError::not_found_path)?;
    if !serves(actor, &order.community_code) {
        return Err(not_community_staff());
    }
    Ok(order)
}

/// The loop's own actor for a need's case, over its community.
fn orders_actor(community: &str) -> Result<Actor, AppError> {
    let node = TerritoryCode::parse(community).map_err(|e| AppError::bad_code("community", e))?;
    let grant = |role| Grant {
        role,
        scope: Scope::Territory(node.clone()),
    };
    Ok(Actor {
        account: ORDERS_ACCOUNT.into(),
        grants: vec![
            grant(Role::IntakeClerk),
            grant(Role::ShiftLead),
            grant(Role::Dispatcher),
        ],
    })
}

/// The date to deliver by, as a form gives it: today or later, within a year (422 `due`).
fn due_date(text: &str, today: NaiveDate) -> Result<NaiveDate, AppError> {
    let bad = || {
        invalid(
            "due",
            "服务期限 due 须为今天起一年内的日期（YYYY-MM-DD）",
            "due must be a date from today to a year from now (YYYY-MM-DD)",
        )
    };
    let due = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| bad())?;
    if due < today || due > today + chrono::Duration::days(366) {
        return Err(bad());
    }
    Ok(due)
}

/// Publishing a listed need (社区发单): to be delivered by `due` (YYYY-MM-DD).
pub struct Publish {
    pub order: i64,
    pub due: String,
}

/// Publishes a listed need of a community `actor` serves to the member organizations of its
/// street: reports its case (channel `order`, the resident's community as the place, the need's
/// kind's matter), which `system:orders` accepts and registers, and marks the need published.
/// Returns the case. Refused: unknown need 404, another community's 403, not listed 409, a bad
/// due date 422. Publishing again after a stop in between finds the case made (its report's key).
pub async fn publish(app: &App, actor: &Actor, cmd: Publish) -> Result<CaseRecord, AppError> {
    let order = served_order(app, actor, cmd.order).await?;
    publish_served(app, actor, order, &cmd.due).await
}

/// [`publish`] of a need already read and found in `actor`'s communities.
async fn publish_served(app: &App, actor: &Actor, order: Order, due: &str) -> Result<CaseRecord, AppError> {
    order
        .state
        .apply(&OrderStep::Publish)
        .map_err(|e| AppError::order(&e))?;
    let today = gongzhi_core::time::city_time(Utc::now()).date_naive();
    let due = due_date(due, today)?;
    let kind = PALM.kind(&order.kind).ok_or_else(|| {
        invalid(
            "kind",
            format!("未知需求类型 {}", order.kind),
            format!("unknown kind of need {}", order.kind),
        )
    })?;
    let matter = cases::matter_code(&kind.matter)?;
    // Placed by the community's full name (the need names no point): district, street, community.
    let address = app
        .index()
        .communities()
        .find(|l| l.community.code == order.community_code)
        .map(|l| format!("{}{}{}", l.district.name, l.street.name, l.community.name))
        .ok_or_else(|| AppError::unknown_node("community", &order.community_code))?;
    let mut detail = Map::new();
    detail.insert("order".into(), json!({"id": order.id, "kind": order.kind}));
    let report = Report {
        channel: Channel::Order,
        matter,
        description: format!("【居民点单·{}】{}", kind.zh, order.description),
        place: Place::Address(address.clone()),
        address: Some(address),
        photos: vec![],
        idempotency_key: Some(format!("order-{}", order.id)),
        detail,
        resident: Some(resident_actor(order.resident_id)),
    };
    let mut record = cases::report(app, actor, report).await?.record;
    let system = orders_actor(&order.community_code)?;
    if record.flow.state == State::Reported {
        record = cases::perform(app, &system, record, Action::Accept).await?.record;
    }
    if record.flow.state == State::Accepted {
        record = cases::perform(app, &system, record, Action::Register).await?.record;
    }
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    match app
        .db()
        .publish_order(&order, record.id, due, &actor.account, Utc::now(), &key)
        .await
    {
        Ok(()) => Ok(record),
        Err(StoreError::Conflict { .. }) => {
            let from = app.db().order(order.id).await?.map_or(order.state, |o| o.state);
            Err(wrong_state(from, "publish"))
        }
        Err(e) => Err(e.into()),
    }
}

/// The member organization `actor` is the liaison of, or 403.
pub async fn liaison_organization(app: &App, actor: &Actor) -> Result<MemberOrganization, AppError> {
    let id = actor
        .grants
        .iter()
        .find_map(|g| match (g.role, &g.scope) {
            (Role::Liaison, Scope::Organization(o)) => Some(*o),
            _ => None,
        })
        .ok_or_else(not_a_liaison)?;
    app.db().member_organization(id).await?.ok_or_else(not_a_liaison)
}

/// Refused: only a member organization's liaison takes needs, for its own organization.
pub fn not_a_liaison() -> AppError {
    AppError::forbidden(
        "仅辖区单位联络员可以接单，且只能为本单位接单",
        "only a member organization's liaison takes needs, for their own organization",
    )
}

/// A need as `actor` may read it: staff serving its community, or the liaison of an
/// organization it is offered to or that took it (404 otherwise, as if absent).
pub async fn order_for(app: &App, actor: &Actor, id: i64) -> Result<Order, AppError> {
    let order = app.db().order(id).await?.ok_or_else(AppError::not_found_path)?;
    if serves(actor, &order.community_code) {
        return Ok(order);
    }
    if actor.has_role(Role::Liaison) {
        let org = liaison_organization(app, actor).await?;
        let offered = order.state == OrderState::Published
            && order.taker_org_id.is_none()
            && offered_to(&org, &order.community_code);
        if offered || order.taker_org_id == Some(org.id) {
            return Ok(order);
        }
    }
    Err(AppError::not_found_path())
}

/// The names of the member organizations that took `orders`, by id.
pub async fn taker_names(app: &App, orders: &[Order]) -> Result<std::collections::HashMap<i64, String>, AppError> {
    let mut ids: Vec<i64> = orders.iter().filter_map(|o| o.taker_org_id).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(app.db().member_organization_names(&ids).await?)
}

/// What a member organization sees: the needs published in its street that nobody took, and
/// those it took (newest first).
pub struct Offers {
    pub organization: MemberOrganization,
    pub offered: Vec<Order>,
    pub taken: Vec<Order>,
}

/// The liaison's view of their organization's offers.
pub async fn offers(app: &App, actor: &Actor) -> Result<Offers, AppError> {
    let organization = liaison_organization(app, actor).await?;
    let street = TerritoryCode::parse(&organization.street_code).map_err(|e| AppError::bad_code("street", e))?;
    let offered = app.db().orders_offered(street.subtree_prefix(), 200).await?;
    let taken = app.db().orders_taken_by(organization.id, 200).await?;
    Ok(Offers {
        organization,
        offered,
        taken,
    })
}

/// Whether a need of `community` is offered to `org`: it is in the organization's street.
fn offered_to(org: &MemberOrganization, community: &str) -> bool {
    TerritoryCode::parse(&org.street_code).is_ok_and(|street| community.starts_with(street.subtree_prefix()))
}

/// Takes a published need for the liaison's organization (单位接单): records the taker, then its
/// case is dispatched to the organization (the handling limit the days left to the due date) and
/// acknowledged by the liaison. Refused: not a liaison 403, unknown need or one not offered to the
/// organization 404, not published or taken by another 409. Taking again (after a stop in
/// between) carries on where it stopped.
pub async fn take(app: &App, actor: &Actor, id: i64) -> Result<CaseRecord, AppError> {
    let org = liaison_organization(app, actor).await?;
    let order = app
        .db()
        .order(id)
        .await?
        .filter(|o| offered_to(&org, &o.community_code))
        .ok_or_else(AppError::not_found_path)?;
    let mine = order.taker_org_id == Some(org.id);
    let retry = mine && order.state == OrderState::Taken;
    if !retry && (order.state != OrderState::Published || order.taker_org_id.is_some_and(|t| t != org.id)) {
        let from = if order.state == OrderState::Published {
            OrderState::Taken
        } else {
            order.state
        };
        return Err(wrong_state(from, "take"));
    }
    let (Some(case_id), Some(due)) = (order.case_id, order.due) else {
        return Err(wrong_state(order.state, "take"));
    };
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    match app
        .db()
        .take_order(order.id, org.id, &actor.account, Utc::now(), &key)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict { .. }) => return Err(wrong_state(OrderState::Taken, "take")),
        Err(e) => return Err(e.into()),
    }
    let mut record = app
        .db()
        .case_by_id(case_id)
        .await?
        .ok_or_else(AppError::not_found_path)?;
    let unit = UnitRef::Organization(org.id);
    if record.flow.state == State::Registered {
        let today = gongzhi_core::time::city_time(Utc::now()).date_naive();
        let days = u32::try_from((due - today).num_days().max(1)).unwrap_or(1);
        let dispatch = Action::Dispatch {
            lead: unit.clone(),
            co_handlers: vec![],
            limits: Some(CaseLimits {
                handling: Some(Limit {
                    amount: days,
                    unit: LimitUnit::NaturalDays,
                }),
                ..record.flow.limits
            }),
        };
        record = cases::perform(app, &orders_actor(&order.community_code)?, record, dispatch)
            .await?
            .record;
    }
    if record.flow.state == State::Dispatched && record.flow.lead.as_ref() == Some(&unit) {
        record = cases::perform(app, actor, record, Action::Acknowledge).await?.record;
    }
    Ok(record)
}

/// A rating as a form gives it: satisfied, basically_satisfied or not_satisfied (422 `rating`).
fn rating(text: &str) -> Result<Satisfaction, AppError> {
    Satisfaction::parse(text.trim()).ok_or_else(|| {
        invalid(
            "rating",
            "请选择评价（满意、基本满意、不满意）rating",
            "choose a rating: satisfied, basically_satisfied or not_satisfied (rating)",
        )
    })
}

/// A comment beside a rating: at most 500 characters (422 `comment`), empty for none.
fn comment(text: &str) -> Result<Option<String>, AppError> {
    let text = text.trim();
    if text.chars().count() > gongzhi_core::cogov::orders::NOTE_MAX {
        return Err(invalid(
            "comment",
            "评价说明 comment 不能超过 500 字",
            "comment must be at most 500 characters",
        ));
    }
    Ok((!text.is_empty()).then(|| text.to_string()))
}

/// The resident confirms their certified need and rates the taker: the follow-up of its case
/// (solved, and how satisfied), then the rating on the need (audited). Refused: another
/// resident's need 404, not certified or rated already 409, a bad rating 422.
pub async fn rate(
    app: &App,
    resident: &Resident,
    id: i64,
    rating_text: &str,
    comment_text: &str,
) -> Result<(), AppError> {
    let order = app
        .db()
        .order(id)
        .await?
        .filter(|o| o.resident_id == resident.id)
        .ok_or_else(AppError::not_found_path)?;
    let satisfaction = rating(rating_text)?;
    let comment = comment(comment_text)?;
    if order.state != OrderState::Certified {
        return Err(wrong_state(order.state, "rate"));
    }
    let case_id = order.case_id.ok_or_else(|| wrong_state(order.state, "rate"))?;
    let record = app
        .db()
        .case_by_id(case_id)
        .await?
        .ok_or_else(AppError::not_found_path)?;
    let actor = Actor {
        account: resident_actor(resident.id),
        grants: vec![],
    };
    if record.flow.follow_up.is_none() {
        let follow_up = Action::FollowUp {
            contacted: true,
            solved: Some(satisfaction != Satisfaction::NotSatisfied),
            satisfaction: Some(satisfaction),
        };
        cases::perform(app, &actor, record, follow_up).await?;
    }
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    match app
        .db()
        .rate_order(
            &order,
            RatingSide::Resident,
            satisfaction.as_str(),
            comment.as_deref(),
            &actor.account,
            Utc::now(),
            &key,
        )
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict { .. }) => Err(wrong_state(OrderState::Rated, "rate")),
        Err(e) => Err(e.into()),
    }
}

/// The taker rates back (双向评议) a need it delivered. Refused: not the taker's liaison 403/404,
/// not delivered yet or rated back already 409, a bad rating 422.
pub async fn rate_back(
    app: &App,
    actor: &Actor,
    id: i64,
    rating_text: &str,
    comment_text: &str,
) -> Result<(), AppError> {
    let org = liaison_organization(app, actor).await?;
    let order = app
        .db()
        .order(id)
        .await?
        .filter(|o| o.taker_org_id == Some(org.id))
        .ok_or_else(AppError::not_found_path)?;
    let satisfaction = rating(rating_text)?;
    let comment = comment(comment_text)?;
    if !matches!(
        order.state,
        OrderState::Delivered | OrderState::Certified | OrderState::Rated
    ) {
        return Err(wrong_state(order.state, "rate_back"));
    }
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    match app
        .db()
        .rate_order(
            &order,
            RatingSide::Taker,
            satisfaction.as_str(),
            comment.as_deref(),
            &actor.account,
            Utc::now(),
            &key,
        )
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict { .. }) => Err(wrong_state(order.state, "rate_back")),
        Err(e) => Err(e.into()),
    }
}

/// The case loop tells: a case changed (by `by`). When it is a published need's, the need takes
/// the state read from it (audited).
pub async fn case_changed(app: &App, record: &CaseRecord, by: &str) -> Result<(), AppError> {
    if record.channel != Channel::Order.as_str() {
        return Ok(());
    }
    let Some(order) = app.db().order_of_case(record.id).await? else {
        return Ok(());
    };
    let to = OrderState::of_case(record.flow.state, order.rating.is_some());
    if to != order.state {
        let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
        app.db().follow_order_case(order.id, to, by, Utc::now(), &key).await?;
    }
    Ok(())
}

/// How many needs of the communities in reach of `actor` are in each state, and how many were
/// met (done by the community, or delivered by a taker and certified).
pub struct OrderCounts {
    pub by_state: Vec<(OrderState, i64)>,
    pub fulfilled: i64,
}

pub async fn counts(app: &App, actor: &Actor, within: Option<&str>) -> Result<OrderCounts, AppError> {
    let within = crate::registry::within(actor, within)?;
    let mut by_state = Vec::new();
    let mut fulfilled = 0;
    for (state, n) in app.db().order_counts(&within).await? {
        if let Some(s) = OrderState::parse(&state) {
            if s.is_fulfilled() {
                fulfilled += n;
            }
            by_state.push((s, n));
        }
    }
    Ok(OrderCounts { by_state, fulfilled })
}
