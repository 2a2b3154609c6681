//! Joint meetings that decide and follow through (党建联席会议): bodies of a territory node with
//! their seats ([`create_body`], [`add_seat`]); agenda items raised to a body from a source, a case
//! among them, vetted or rejected ([`raise_item`], [`step_item`]); meetings convened with vetted
//! items, held with attendance by seat, closed with minutes ([`convene`], [`hold`], [`close`]);
//! decisions on discussed items ([`decide`]), each unit assigned getting **a case of the one
//! loop** (channel `meeting`), reported by the decider and accepted, registered and dispatched to
//! the unit by the meeting itself through the loop's own use cases (its clock, supervision and
//! audit). When all of an item's cases are closed the item is done ([`case_closed`]).
//!
//! Who: community workers for their community's bodies, street staff for the street's (and its
//! communities'), leaders over their area; dispatchers and leaders read city-wide. Another
//! area's body, item or meeting is refused (403); an unknown one is 404.

use std::sync::LazyLock;

use chrono::Utc;
use gongzhi_core::ErrorCode;
use gongzhi_core::cases::flow::{Action, CaseLimits, State};
use gongzhi_core::cases::intake::Channel;
use gongzhi_core::cases::{Limit, LimitUnit, UnitRef};
use gongzhi_core::cogov::meetings::{
    AgendaSource, AgendaState, AgendaStep, BodyDraft, DecisionDraft, ItemDraft, MeetingDraft, MeetingRules,
    MeetingState, SeatDraft, WrongState, minutes,
};
use gongzhi_core::orgs::DepartmentCode;
use gongzhi_core::people::{Actor, Grant, Role, Scope};
use gongzhi_core::territory::{GridCode, TerritoryCode};
use gongzhi_store::StoreError;
use serde_json::{Map, json};

use crate::cases::{self, CaseRecord, Place, Report};
use crate::{App, AppError};

pub use gongzhi_store::cogov::meetings::{
    AgendaItem, Assignment, Attendance, Body, Decision, JourneyStep, Meeting, Seat,
};

/// The city's kinds of body and roles of seats.
pub static MEETINGS: LazyLock<MeetingRules> =
    LazyLock::new(|| MeetingRules::qitaihe().expect("data/qitaihe/joint-meetings.toml is shipped valid"));

/// Who runs bodies and meetings, over the body's node.
pub const WRITERS: [Role; 3] = [Role::CommunityWorker, Role::StreetStaff, Role::Leader];
/// Who reads them, over the body's node.
pub const READERS: [Role; 4] = [Role::CommunityWorker, Role::StreetStaff, Role::Leader, Role::Dispatcher];

/// The account a meeting acts as when it puts its decisions' cases into the loop.
pub const MEETING_ACCOUNT: &str = "system:joint-meeting";

fn holds_over(actor: &Actor, roles: &[Role], node: &str) -> bool {
    TerritoryCode::parse(node).is_ok_and(|code| roles.iter().any(|r| actor.has_role_over(*r, &code)))
}

/// Whether `actor` runs the bodies of `node`.
pub fn may_write(actor: &Actor, node: &str) -> bool {
    holds_over(actor, &WRITERS, node)
}

/// Whether `actor` reads the bodies of `node`.
pub fn may_read(actor: &Actor, node: &str) -> bool {
    holds_over(actor, &READERS, node)
}

/// Whether `actor` reads some bodies.
pub fn is_reader(actor: &Actor) -> bool {
    READERS.iter().any(|r| actor.has_role(*r))
}

/// Whether `actor` runs some bodies.
pub fn is_writer(actor: &Actor) -> bool {
    WRITERS.iter().any(|r| actor.has_role(*r))
}

/// Refused: not of this body's area.
pub fn not_in_reach() -> AppError {
    AppError::forbidden(
        "仅本社区、本街道的工作人员（及上级领导）可以管理其联席会议、议题和会议",
        "only staff of the community or street (and leaders over it) run its bodies, agenda items and meetings",
    )
}

fn invalid(field: &'static str, zh: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidField, Some(field), zh, en)
}

fn wrong_state(e: &WrongState) -> AppError {
    let code = if e.what == "meeting" {
        ErrorCode::WrongMeetingState
    } else {
        ErrorCode::WrongAgendaState
    };
    let field = if e.what == "meeting" { "step" } else { "item" };
    AppError::new(
        code,
        Some(field),
        e.message(gongzhi_core::Lang::Zh),
        e.message(gongzhi_core::Lang::En),
    )
}

fn audit_key(app: &App) -> Result<std::sync::Arc<gongzhi_core::audit::AuditKey>, AppError> {
    app.audit_key().ok_or_else(AppError::audit_key_missing)
}

// ---- bodies and seats ----

/// A body as typed.
pub struct NewBody {
    pub kind: String,
    pub node: String,
    pub name: String,
}

/// Creates a body of a node `actor` runs (audited). Refused: a bad field (422 naming it), a node
/// out of reach (403), the name taken at the node (409).
pub async fn create_body(app: &App, actor: &Actor, cmd: NewBody) -> Result<i64, AppError> {
    if !is_writer(actor) {
        return Err(not_in_reach());
    }
    let draft = BodyDraft::check(&MEETINGS, &cmd.kind, &cmd.node, &cmd.name).map_err(AppError::draft)?;
    if app.db().node(&draft.node).await?.is_none() {
        return Err(AppError::unknown_node("node", draft.node.as_str()));
    }
    if !may_write(actor, draft.node.as_str()) {
        return Err(not_in_reach());
    }
    let key = audit_key(app)?;
    match app.db().create_body(&draft, &actor.account, Utc::now(), &key).await {
        Ok(id) => Ok(id),
        Err(StoreError::Conflict { .. }) => Err(AppError::new(
            ErrorCode::NameTaken,
            Some("name"),
            format!("该区划已有名为“{}”的机构", draft.name),
            format!("the node has a body named {} already", draft.name),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The bodies `actor` reads.
pub async fn bodies(app: &App, actor: &Actor) -> Result<Vec<Body>, AppError> {
    if !is_reader(actor) {
        return Err(not_in_reach());
    }
    Ok(app
        .db()
        .bodies()
        .await?
        .into_iter()
        .filter(|b| may_read(actor, &b.node_code))
        .collect())
}

/// A body `actor` may read (404 unknown, 403 out of reach).
pub async fn readable_body(app: &App, actor: &Actor, id: i64) -> Result<Body, AppError> {
    let body = app.db().body(id).await?.ok_or_else(AppError::not_found_path)?;
    if !may_read(actor, &body.node_code) {
        return Err(not_in_reach());
    }
    Ok(body)
}

/// A body `actor` runs (404 unknown, 403 out of reach).
pub async fn writable_body(app: &App, actor: &Actor, id: i64) -> Result<Body, AppError> {
    let body = app.db().body(id).await?.ok_or_else(AppError::not_found_path)?;
    if !may_write(actor, &body.node_code) {
        return Err(not_in_reach());
    }
    Ok(body)
}

/// A body with its seats, agenda items and meetings.
pub struct BodyView {
    pub body: Body,
    pub seats: Vec<Seat>,
    pub items: Vec<AgendaItem>,
    pub meetings: Vec<Meeting>,
    pub writable: bool,
}

pub async fn body(app: &App, actor: &Actor, id: i64) -> Result<BodyView, AppError> {
    let body = readable_body(app, actor, id).await?;
    let db = app.db();
    Ok(BodyView {
        seats: db.seats_of(id).await?,
        items: db.items_of_body(id).await?,
        meetings: db.meetings_of(id).await?,
        writable: may_write(actor, &body.node_code),
        body,
    })
}

/// A seat as typed.
pub struct NewSeat {
    pub person: String,
    pub org_kind: String,
    pub org_id: String,
    pub role: String,
    pub term_from: String,
    pub term_to: String,
}

/// Adds a seat to a body `actor` runs (audited); the organization must be in the registry (422
/// `org_id` otherwise).
pub async fn add_seat(app: &App, actor: &Actor, body_id: i64, cmd: NewSeat) -> Result<i64, AppError> {
    let body = writable_body(app, actor, body_id).await?;
    let draft = SeatDraft::check(
        &MEETINGS,
        &cmd.person,
        &cmd.org_kind,
        &cmd.org_id,
        &cmd.role,
        &cmd.term_from,
        &cmd.term_to,
    )
    .map_err(AppError::draft)?;
    let org_name = app
        .db()
        .seat_org_name(draft.org_kind, draft.org_id)
        .await?
        .ok_or_else(|| {
            invalid(
                "org_id",
                format!(
                    "{} {} 不存在",
                    draft.org_kind.label(gongzhi_core::Lang::Zh),
                    draft.org_id
                ),
                format!("no {} has id {}", draft.org_kind.as_str(), draft.org_id),
            )
        })?;
    let key = audit_key(app)?;
    Ok(app
        .db()
        .add_seat(body.id, &draft, &org_name, &actor.account, Utc::now(), &key)
        .await?)
}

// ---- agenda items ----

/// An agenda item as raised: `source_ref` names the source record (a case by its id or
/// 13-digit number when the source is `case`).
pub struct RaiseItem {
    pub title: String,
    pub description: String,
    pub source: String,
    pub source_ref: String,
}

/// Raises an item to a body `actor` runs (audited). An item raised from a case keeps the case
/// (which `actor` must see, within the body's area: 422 `source_ref` otherwise); the case's
/// API shows the item back.
pub async fn raise_item(app: &App, actor: &Actor, body_id: i64, cmd: RaiseItem) -> Result<i64, AppError> {
    let body = writable_body(app, actor, body_id).await?;
    let draft =
        ItemDraft::check(&cmd.title, &cmd.description, &cmd.source, &cmd.source_ref).map_err(AppError::draft)?;
    let mut case_id = None;
    if draft.source == AgendaSource::Case {
        let text = draft.source_ref.as_deref().unwrap_or_default();
        let refused = || {
            invalid(
                "source_ref",
                format!("案件 {text} 不存在或不在本机构辖区内"),
                format!("no case {text} in the body's area"),
            )
        };
        let record = cases::visible_case(app, actor, text).await.map_err(|_| refused())?;
        let node = TerritoryCode::parse(&body.node_code).map_err(|_| refused())?;
        if !Scope::Territory(node).reaches(&record.flow.node) {
            return Err(refused());
        }
        case_id = Some(record.id);
    }
    let key = audit_key(app)?;
    Ok(app
        .db()
        .raise_item(body.id, &draft, case_id, &actor.account, Utc::now(), &key)
        .await?)
}

/// An item `actor` may read, with its body.
async fn readable_item(app: &App, actor: &Actor, id: i64) -> Result<(AgendaItem, Body), AppError> {
    let item = app.db().agenda_item(id).await?.ok_or_else(AppError::not_found_path)?;
    let body = readable_body(app, actor, item.body_id).await?;
    Ok((item, body))
}

/// A step staff take on an item by hand: `vet`, or `reject` with its reason.
pub struct ItemStep {
    pub step: String,
    pub reason: String,
}

/// Vets or rejects an item of a body `actor` runs (audited); gives its state now. Refused: a
/// step its state does not allow (409), a missing reason (422).
pub async fn step_item(app: &App, actor: &Actor, id: i64, cmd: ItemStep) -> Result<AgendaState, AppError> {
    let item = app.db().agenda_item(id).await?.ok_or_else(AppError::not_found_path)?;
    writable_body(app, actor, item.body_id).await?;
    let step = AgendaStep::parse(&cmd.step, &cmd.reason).map_err(AppError::draft)?;
    let to = item.state.apply(&step).map_err(|e| wrong_state(&e))?;
    let key = audit_key(app)?;
    match app
        .db()
        .step_item(&item, &step, to, &actor.account, Utc::now(), &key)
        .await
    {
        Ok(()) => Ok(to),
        Err(StoreError::Conflict { .. }) => {
            let now = app.db().agenda_item(id).await?.map_or(item.state, |i| i.state);
            Err(wrong_state(&now.apply(&step).err().unwrap_or(WrongState {
                what: "agenda_item",
                from_zh: now.label(gongzhi_core::Lang::Zh),
                from_en: now.label(gongzhi_core::Lang::En),
                step: step.name(),
            })))
        }
        Err(e) => Err(e.into()),
    }
}

/// An item with its body, its journey, its meeting, its decision and the decision's cases.
pub struct ItemView {
    pub item: AgendaItem,
    pub body: Body,
    pub journey: Vec<JourneyStep>,
    pub meeting: Option<Meeting>,
    pub decision: Option<Decision>,
    /// Each assigned unit and its case (as the loop has it now).
    pub cases: Vec<(Assignment, CaseRecord)>,
    /// The case it was raised from, if `actor` may see it.
    pub source_case: Option<CaseRecord>,
    pub writable: bool,
}

pub async fn item(app: &App, actor: &Actor, id: i64) -> Result<ItemView, AppError> {
    let (item, body) = readable_item(app, actor, id).await?;
    let db = app.db();
    let meeting = match item.meeting_id {
        Some(m) => db.meeting(m).await?,
        None => None,
    };
    let mut cases_now = Vec::new();
    for a in db.assignments_of_item(id).await? {
        if let Some(record) = db.case_by_id(a.case_id).await? {
            cases_now.push((a, record));
        }
    }
    let source_case = match item.source_case_id {
        Some(c) => db.case_by_id(c).await?.filter(|r| cases::can_see(actor, &r.flow)),
        None => None,
    };
    Ok(ItemView {
        journey: db.journey(id).await?,
        decision: db.decision_of_item(id).await?,
        writable: may_write(actor, &body.node_code),
        meeting,
        cases: cases_now,
        source_case,
        item,
        body,
    })
}

/// What a case is to joint meetings: the items raised from it, and the item and decision it is
/// an assignment of.
pub struct CaseLinks {
    pub raised_as: Vec<AgendaItem>,
    pub assignment: Option<Assignment>,
    /// The item of the assignment.
    pub assigned_item: Option<AgendaItem>,
}

/// The links of a case the caller already may see.
pub async fn links_of_case(app: &App, record: &CaseRecord) -> Result<CaseLinks, AppError> {
    let raised_as = app.db().items_of_case(record.id).await?;
    // Only a decision's case is an assignment: every other case reads one table, not three.
    if record.channel != Channel::Meeting.as_str() {
        return Ok(CaseLinks {
            raised_as,
            assignment: None,
            assigned_item: None,
        });
    }
    let assignment = app.db().assignment_of_case(record.id).await?;
    let assigned_item = match &assignment {
        Some(a) => app.db().agenda_item(a.item_id).await?,
        None => None,
    };
    Ok(CaseLinks {
        raised_as,
        assignment,
        assigned_item,
    })
}

// ---- meetings ----

/// A meeting as convened: when (city time), where, and the vetted items on its agenda.
pub struct Convene {
    pub title: String,
    pub starts_at: String,
    pub place: String,
    pub items: Vec<i64>,
}

/// Convenes a meeting of a body `actor` runs with vetted items of that body (each scheduled),
/// audited. Refused: no item or one of another body (422 `items`), one not vetted (409).
pub async fn convene(app: &App, actor: &Actor, body_id: i64, cmd: Convene) -> Result<i64, AppError> {
    let body = writable_body(app, actor, body_id).await?;
    let draft = MeetingDraft::check(&cmd.title, &cmd.starts_at, &cmd.place).map_err(AppError::draft)?;
    let mut items = cmd.items.clone();
    items.sort_unstable();
    items.dedup();
    if items.is_empty() {
        return Err(invalid(
            "items",
            "请选择至少一个已审核的议题（items）",
            "choose at least one vetted agenda item (items)",
        ));
    }
    for id in &items {
        let item = app.db().agenda_item(*id).await?.filter(|i| i.body_id == body.id);
        let Some(item) = item else {
            return Err(invalid(
                "items",
                format!("议题 {id} 不是本机构的议题"),
                format!("agenda item {id} is not of this body"),
            ));
        };
        item.state.apply(&AgendaStep::Schedule).map_err(|e| wrong_state(&e))?;
    }
    let key = audit_key(app)?;
    match app
        .db()
        .convene_meeting(body.id, &draft, &items, &actor.account, Utc::now(), &key)
        .await
    {
        Ok(id) => Ok(id),
        Err(StoreError::Conflict { id, .. }) => Err(AppError::new(
            ErrorCode::WrongAgendaState,
            Some("items"),
            format!("议题 {id} 刚被他人更改，不能列入会议"),
            format!("agenda item {id} changed meanwhile; it cannot be scheduled"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// A meeting `actor` may read (or run), with its body.
async fn meeting_of(app: &App, actor: &Actor, id: i64, write: bool) -> Result<(Meeting, Body), AppError> {
    let meeting = app.db().meeting(id).await?.ok_or_else(AppError::not_found_path)?;
    let body = if write {
        writable_body(app, actor, meeting.body_id).await?
    } else {
        readable_body(app, actor, meeting.body_id).await?
    };
    Ok((meeting, body))
}

/// A decision with its units' cases.
pub struct DecisionView {
    pub decision: Decision,
    pub item: Option<AgendaItem>,
    pub cases: Vec<(Assignment, CaseRecord)>,
}

/// A meeting with its body, agenda, attendance by seat and decisions with their cases.
pub struct MeetingView {
    pub meeting: Meeting,
    pub body: Body,
    pub items: Vec<AgendaItem>,
    pub seats: Vec<Seat>,
    pub attendance: Vec<Attendance>,
    pub decisions: Vec<DecisionView>,
    pub writable: bool,
}

pub async fn meeting(app: &App, actor: &Actor, id: i64) -> Result<MeetingView, AppError> {
    let (meeting, body) = meeting_of(app, actor, id, false).await?;
    let db = app.db();
    let items = db.items_of_meeting(id).await?;
    let mut decisions = Vec::new();
    for d in db.decisions_of(id).await? {
        let mut with_cases = Vec::new();
        for a in db.assignments_of_item(d.item_id).await? {
            if let Some(record) = db.case_by_id(a.case_id).await? {
                with_cases.push((a, record));
            }
        }
        decisions.push(DecisionView {
            item: items.iter().find(|i| i.id == d.item_id).cloned(),
            decision: d,
            cases: with_cases,
        });
    }
    Ok(MeetingView {
        seats: db.seats_of(body.id).await?,
        attendance: db.attendance(id).await?,
        writable: may_write(actor, &body.node_code),
        items,
        decisions,
        meeting,
        body,
    })
}

fn meeting_step(meeting: &Meeting, step: &'static str) -> Result<MeetingState, AppError> {
    meeting.state.apply(step).map_err(|e| wrong_state(&e))
}

fn meeting_changed(e: StoreError, id: i64) -> AppError {
    match e {
        StoreError::Conflict { .. } => AppError::new(
            ErrorCode::WrongMeetingState,
            Some("step"),
            format!("会议 {id} 刚被他人更改，请刷新"),
            format!("meeting {id} changed meanwhile; reload"),
        ),
        other => other.into(),
    }
}

/// Holds a convened meeting (audited): the seats present (every other seat of the body is
/// absent), the items on its agenda discussed. A seat not of the body: 422 `present`.
pub async fn hold(app: &App, actor: &Actor, id: i64, present: Vec<i64>) -> Result<(), AppError> {
    let (meeting, body) = meeting_of(app, actor, id, true).await?;
    meeting_step(&meeting, "hold")?;
    let seats = app.db().seats_of(body.id).await?;
    if let Some(bad) = present.iter().find(|p| !seats.iter().any(|s| s.id == **p)) {
        return Err(invalid(
            "present",
            format!("席位 {bad} 不是本机构的席位"),
            format!("seat {bad} is not a seat of this body"),
        ));
    }
    let attendance: Vec<(i64, bool)> = seats.iter().map(|s| (s.id, present.contains(&s.id))).collect();
    let key = audit_key(app)?;
    app.db()
        .hold_meeting(&meeting, &attendance, &actor.account, Utc::now(), &key)
        .await
        .map_err(|e| meeting_changed(e, id))
}

/// A decision as typed: on which item, its words, the units it assigns (as the case loop names
/// them: `department:urban-management`, `territory:230903011000`, `grid_worker:…`), the due
/// date, and for an item not raised from a case the matter and the grid of its cases.
pub struct Decide {
    pub item: i64,
    pub text: String,
    pub units: Vec<String>,
    pub due: String,
    pub matter: String,
    pub grid_code: String,
}

/// What a decision gave: its id and each unit's case.
pub struct Decided {
    pub decision: i64,
    pub cases: Vec<CaseRecord>,
}

/// A unit as the case loop names it, known to the rules (a department) or the territory.
async fn unit(app: &App, text: &str) -> Result<UnitRef, AppError> {
    let unknown = || {
        invalid(
            "units",
            format!("未知的承办单位：{text}（应为 department:部门代码、territory:区划代码 或 grid_worker:网格代码）"),
            format!("unknown unit {text} (department:CODE, territory:CODE or grid_worker:CODE)"),
        )
    };
    let (kind, code) = text.trim().split_once(':').ok_or_else(unknown)?;
    match kind {
        "department" => {
            let d = DepartmentCode::parse(code).map_err(|_| unknown())?;
            if app.rules().departments.get(&d).is_none() {
                return Err(unknown());
            }
            Ok(UnitRef::Department(d))
        }
        "territory" => {
            let t = TerritoryCode::parse(code).map_err(|_| unknown())?;
            if app.db().node(&t).await?.is_none() {
                return Err(unknown());
            }
            Ok(UnitRef::Territory(t))
        }
        "grid_worker" => {
            let g = GridCode::parse(code).map_err(|_| unknown())?;
            if !app.index().by_code.contains_key(g.as_str()) {
                return Err(unknown());
            }
            Ok(UnitRef::GridWorker(g))
        }
        _ => Err(unknown()),
    }
}

/// The meeting as an actor of the loop: it accepts, registers and dispatches its decisions'
/// cases over the body's node (its record names it).
fn meeting_actor(body: &Body) -> Result<Actor, AppError> {
    let node = TerritoryCode::parse(&body.node_code).map_err(|e| AppError::bad_code("node", e))?;
    let grant = |role| Grant {
        role,
        scope: Scope::Territory(node.clone()),
    };
    Ok(Actor {
        account: MEETING_ACCOUNT.into(),
        grants: vec![
            grant(Role::IntakeClerk),
            grant(Role::ShiftLead),
            grant(Role::Dispatcher),
        ],
    })
}

/// Records a held meeting's decision on a discussed item of its agenda (the item decided), then
/// puts one case per unit into the loop (channel `meeting`, reported by `actor`, dispatched to
/// the unit with the due date as its handling limit) and assigns the item; every step audited.
/// Refused before anything is written: a meeting not held or an item not discussed (409), an
/// item not on its agenda (422 `item`), an unknown unit (422 `units`), a bad text, date, matter
/// or place (422 naming it).
pub async fn decide(app: &App, actor: &Actor, id: i64, cmd: Decide) -> Result<Decided, AppError> {
    let (meeting, body) = meeting_of(app, actor, id, true).await?;
    meeting_step(&meeting, "decide")?;
    let item = app
        .db()
        .agenda_item(cmd.item)
        .await?
        .filter(|i| i.meeting_id == Some(meeting.id))
        .ok_or_else(|| {
            invalid(
                "item",
                format!("议题 {} 不在本次会议议程中", cmd.item),
                format!("agenda item {} is not on this meeting's agenda", cmd.item),
            )
        })?;
    // A decision recorded whose cases were not all made (the server stopped between them) is
    // carried on by deciding again: the same decision, and each unit's report is idempotent by
    // (decision, unit), so a case made before is found, not made twice.
    let recorded = match item.state {
        AgendaState::Decided => app.db().decision_of_item(item.id).await?,
        _ => None,
    };
    if recorded.is_none() {
        item.state.apply(&AgendaStep::Decide).map_err(|e| wrong_state(&e))?;
    }
    let today = gongzhi_core::time::city_time(Utc::now()).date_naive();
    // Carried on, the decision is the one recorded (its cases' reports must match the first try's).
    let (text, due) = match &recorded {
        Some(d) => (d.body.clone(), d.due.to_string()),
        None => (cmd.text.clone(), cmd.due.clone()),
    };
    let draft = DecisionDraft::check(&text, &due, today).map_err(AppError::draft)?;
    if cmd.units.is_empty() {
        return Err(invalid(
            "units",
            "请指定至少一个承办单位（units）",
            "name at least one unit (units)",
        ));
    }
    let mut units = Vec::new();
    for text in &cmd.units {
        let u = unit(app, text).await?;
        if units.contains(&u) {
            return Err(invalid(
                "units",
                format!("承办单位 {text} 重复"),
                format!("unit {text} is named twice"),
            ));
        }
        units.push(u);
    }
    // Where and what the cases are: the source case's, or as the decision says.
    let source = match item.source_case_id {
        Some(c) => app.db().case_by_id(c).await?,
        None => None,
    };
    let matter_text = match (cmd.matter.trim(), &source) {
        ("", Some(s)) => s.flow.matter.clone(),
        ("", None) => return Err(AppError::missing("matter")),
        (m, _) => m.to_string(),
    };
    let matter = cases::matter_code(&matter_text)?;
    let place = match (cmd.grid_code.trim(), &source) {
        ("", Some(s)) => match (&s.location.grid, s.location.lon, s.location.lat) {
            (_, Some(lon), Some(lat)) => Place::Point {
                lon,
                lat,
                datum: gongzhi_core::territory::Datum::Wgs84,
            },
            (Some(g), _, _) => Place::Grid(GridCode::parse(g).map_err(|e| AppError::bad_code("grid_code", e))?),
            _ => Place::Address(s.location.address.clone().unwrap_or_default()),
        },
        ("", None) => return Err(AppError::missing("grid_code")),
        (g, _) => Place::Grid(GridCode::parse(g).map_err(|e| AppError::bad_code("grid_code", e))?),
    };
    let address = source.as_ref().and_then(|s| s.location.address.clone());
    let description = format!("【联席会议交办】{}：{}", item.title, draft.text);
    let report_of = |unit: &UnitRef, decision: i64| {
        let mut detail = Map::new();
        detail.insert(
            "joint_meeting".into(),
            json!({"meeting": meeting.id, "agenda_item": item.id, "decision": decision, "unit": unit.key()}),
        );
        Report {
            channel: Channel::Meeting,
            matter: matter.clone(),
            description: description.clone(),
            place: place.clone(),
            address: address.clone(),
            photos: vec![],
            idempotency_key: Some(format!("joint-meeting-decision-{decision}-{}", unit.key())),
            detail,
            resident: None,
        }
    };
    // The loop's own check of a report (channel, matter, place in the actor's area) before
    // anything is written.
    cases::check(app, actor, &report_of(&units[0], 0))?;
    let key = audit_key(app)?;
    let unit_keys: Vec<String> = units.iter().map(UnitRef::key).collect();
    let decision_id = match &recorded {
        Some(d) => Ok(d.id),
        None => {
            app.db()
                .record_decision(&meeting, &item, &draft, &unit_keys, &actor.account, Utc::now(), &key)
                .await
        }
    }
    .map_err(|e| match e {
        StoreError::Conflict { what: "meeting", .. } => meeting_changed(e, id),
        StoreError::Conflict { .. } => AppError::new(
            ErrorCode::WrongAgendaState,
            Some("item"),
            "议题刚被他人更改，请刷新",
            "the agenda item changed meanwhile; reload",
        ),
        other => other.into(),
    })?;
    let by_meeting = meeting_actor(&body)?;
    let limits_of = |record: &CaseRecord| CaseLimits {
        handling: Some(Limit {
            amount: draft.days(today),
            unit: LimitUnit::NaturalDays,
        }),
        ..record.flow.limits
    };
    let mut made = Vec::new();
    for u in &units {
        let reported = cases::report(app, actor, report_of(u, decision_id)).await?;
        let mut record = reported.record;
        if record.flow.state == State::Reported {
            record = cases::perform(app, &by_meeting, record, Action::Accept).await?.record;
        }
        if record.flow.state == State::Accepted {
            record = cases::perform(app, &by_meeting, record, Action::Register).await?.record;
        }
        if record.flow.state == State::Registered {
            let dispatch = Action::Dispatch {
                lead: u.clone(),
                co_handlers: vec![],
                limits: Some(limits_of(&record)),
            };
            record = cases::perform(app, &by_meeting, record, dispatch).await?.record;
        }
        made.push(record);
    }
    let decision = app
        .db()
        .decision_of_item(item.id)
        .await?
        .ok_or_else(AppError::not_found_path)?;
    let pairs: Vec<(String, i64)> = units.iter().map(UnitRef::key).zip(made.iter().map(|r| r.id)).collect();
    app.db()
        .assign_item(&decision, &pairs, &actor.account, Utc::now(), &key)
        .await?;
    Ok(Decided {
        decision: decision_id,
        cases: made,
    })
}

/// Closes a held meeting with its minutes (audited).
pub async fn close(app: &App, actor: &Actor, id: i64, text: &str) -> Result<(), AppError> {
    let (meeting, _) = meeting_of(app, actor, id, true).await?;
    meeting_step(&meeting, "close")?;
    let minutes = minutes(text).map_err(AppError::draft)?;
    let key = audit_key(app)?;
    app.db()
        .close_meeting(&meeting, &minutes, &actor.account, Utc::now(), &key)
        .await
        .map_err(|e| meeting_changed(e, id))
}

/// The case loop tells: a case was closed by `by`. When it is an assignment of an agenda item
/// and its item's other cases are closed too, the item is done (audited).
pub async fn case_closed(app: &App, record: &CaseRecord, by: &str) -> Result<(), AppError> {
    if record.flow.state != State::Closed || record.channel != Channel::Meeting.as_str() {
        return Ok(());
    }
    let Some(a) = app.db().assignment_of_case(record.id).await? else {
        return Ok(());
    };
    let key = audit_key(app)?;
    app.db()
        .complete_item_if_closed(a.item_id, by, Utc::now(), &key)
        .await?;
    Ok(())
}

/// Problems solved by joint meetings in reach of `actor`: per body, the `meeting` cases of its
/// decisions and how many of them are closed.
pub struct Solved {
    pub cases: i64,
    pub closed: i64,
    pub by_body: Vec<(Body, i64, i64)>,
}

pub async fn solved(app: &App, actor: &Actor) -> Result<Solved, AppError> {
    let bodies = bodies(app, actor).await?;
    let mut out = Solved {
        cases: 0,
        closed: 0,
        by_body: vec![],
    };
    for (body_id, all, closed) in app.db().meeting_cases_by_body().await? {
        if let Some(b) = bodies.iter().find(|b| b.id == body_id) {
            out.cases += all;
            out.closed += closed;
            out.by_body.push((b.clone(), all, closed));
        }
    }
    Ok(out)
}
