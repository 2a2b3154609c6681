//! Inboxes (待办): what is waiting for a person, derived from the permission table of the loop
//! (`flow::who`) so that an inbox holds exactly the cases on which its person may take its step.
//! Each inbox is a query of OR-ed clauses that the store answers with one `COUNT` or one page.

use crate::Lang;
use crate::cases::UnitRef;
use crate::cases::flow::{ActionKind, RequestKind, State, Who, state_allows, who};
use crate::people::{Actor, Role, Scope};

/// The inboxes of the staff web, in the order the navigation shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Inbox {
    ToAccept,
    ToRegister,
    ToDispatch,
    ToAcknowledge,
    ToHandle,
    ToCheck,
    ToClose,
    RequestsToApprove,
    WhistlesToAnswer,
    Overdue,
    Supervised,
}

impl Inbox {
    pub const ALL: [Inbox; 11] = [
        Inbox::ToAccept,
        Inbox::ToRegister,
        Inbox::ToDispatch,
        Inbox::ToAcknowledge,
        Inbox::ToHandle,
        Inbox::ToCheck,
        Inbox::ToClose,
        Inbox::RequestsToApprove,
        Inbox::WhistlesToAnswer,
        Inbox::Overdue,
        Inbox::Supervised,
    ];

    /// The name in addresses: `/inbox/to_dispatch`.
    pub fn slug(self) -> &'static str {
        match self {
            Inbox::ToAccept => "to_accept",
            Inbox::ToRegister => "to_register",
            Inbox::ToDispatch => "to_dispatch",
            Inbox::ToAcknowledge => "to_acknowledge",
            Inbox::ToHandle => "to_handle",
            Inbox::ToCheck => "to_check",
            Inbox::ToClose => "to_close",
            Inbox::RequestsToApprove => "requests",
            Inbox::WhistlesToAnswer => "whistles",
            Inbox::Overdue => "overdue",
            Inbox::Supervised => "supervised",
        }
    }

    pub fn parse(slug: &str) -> Option<Inbox> {
        Inbox::ALL.into_iter().find(|i| i.slug() == slug)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            Inbox::ToAccept => ("待受理", "To accept"),
            Inbox::ToRegister => ("待立案", "To register"),
            Inbox::ToDispatch => ("待派遣", "To dispatch"),
            Inbox::ToAcknowledge => ("待签收", "To acknowledge"),
            Inbox::ToHandle => ("待处置", "To handle"),
            Inbox::ToCheck => ("待核查", "To check"),
            Inbox::ToClose => ("待结案", "To close"),
            Inbox::RequestsToApprove => ("待审批申请", "Requests to approve"),
            Inbox::WhistlesToAnswer => ("吹哨待报到", "Whistles to answer"),
            Inbox::Overdue => ("已超期", "Overdue"),
            Inbox::Supervised => ("督办中", "Supervised"),
        };
        lang.pick(zh, en)
    }

    /// Whether the inbox is work to do (counted in the navigation) rather than a watch list.
    pub fn is_work(self) -> bool {
        !matches!(self, Inbox::Overdue | Inbox::Supervised)
    }

    /// The step that takes a case out of the inbox.
    fn step(self) -> Option<ActionKind> {
        Some(match self {
            Inbox::ToAccept => ActionKind::Accept,
            Inbox::ToRegister => ActionKind::Register,
            Inbox::ToDispatch => ActionKind::Dispatch,
            Inbox::ToAcknowledge => ActionKind::Acknowledge,
            Inbox::ToHandle => ActionKind::ReportBack,
            Inbox::ToCheck => ActionKind::CheckPass,
            Inbox::ToClose => ActionKind::Close,
            _ => return None,
        })
    }

    /// The cases in this inbox for `actor`, or `None` when the actor has no role that fills it.
    pub fn query(self, actor: &Actor) -> Option<InboxQuery> {
        let clauses = match self {
            Inbox::RequestsToApprove => requests_to_approve(actor),
            Inbox::WhistlesToAnswer => department_handlers(actor)
                .into_iter()
                .map(|unit| Clause {
                    states: open_states(),
                    summoned: vec![unit],
                    ..Clause::default()
                })
                .collect(),
            Inbox::Overdue | Inbox::Supervised => visible(actor)
                .into_iter()
                .map(|mut c| {
                    c.states = open_states();
                    c.overdue = self == Inbox::Overdue;
                    c.supervised = self == Inbox::Supervised;
                    c
                })
                .collect(),
            step => {
                let kind = step.step()?;
                let states: Vec<State> = State::ALL.into_iter().filter(|s| state_allows(*s, kind)).collect();
                let mut clauses = match who(kind) {
                    Who::Roles(roles) | Who::RolesOrReporter(roles) => by_roles(actor, roles),
                    Who::Lead => as_lead(actor),
                    Who::LeadOr(roles) => [as_lead(actor), by_roles(actor, roles)].concat(),
                    Who::Summoned => vec![],
                };
                // Nobody checks or closes what their own unit handled (see `flow::permit`).
                let own = if matches!(kind, ActionKind::CheckPass | ActionKind::Close) {
                    as_lead(actor).into_iter().flat_map(|c| c.lead_units).collect()
                } else {
                    vec![]
                };
                for c in &mut clauses {
                    c.states = states.clone();
                    c.not_lead_units = own.clone();
                }
                clauses
            }
        };
        (!clauses.is_empty()).then_some(InboxQuery { clauses })
    }

    /// The inboxes `actor` has, with their queries.
    pub fn all_for(actor: &Actor) -> Vec<(Inbox, InboxQuery)> {
        Inbox::ALL
            .into_iter()
            .filter_map(|i| i.query(actor).map(|q| (i, q)))
            .collect()
    }
}

/// Every case the actor may see: the territories of their working roles, or what their
/// departments lead; `None` when they may see none (administrators).
pub fn reach(actor: &Actor) -> Option<InboxQuery> {
    let clauses = visible(actor);
    (!clauses.is_empty()).then_some(InboxQuery { clauses })
}

/// Matches a `lead_unit` column value: a department exactly, or every territorial unit (street,
/// community, grid worker) under a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitMatch {
    Exact(String),
    Prefix(String),
}

/// One AND-ed set of conditions; empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Clause {
    pub states: Vec<State>,
    /// Territory code prefixes (a subtree each), any of; "" is the whole city.
    pub within: Vec<String>,
    pub lead_units: Vec<UnitMatch>,
    /// Lead units excluded (the actor's own, for checks and closing).
    pub not_lead_units: Vec<UnitMatch>,
    /// Cases with a pending request of any of these kinds.
    pub pending: Vec<RequestKind>,
    /// Cases where any of these units is summoned by a whistle and not yet reported in.
    pub summoned: Vec<UnitRef>,
    pub overdue: bool,
    pub supervised: bool,
}

/// An inbox's cases: any of its clauses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxQuery {
    pub clauses: Vec<Clause>,
}

fn open_states() -> Vec<State> {
    State::ALL.into_iter().filter(|s| s.is_open()).collect()
}

fn territory_prefixes(actor: &Actor, roles: &[Role]) -> Vec<String> {
    let mut prefixes: Vec<String> = actor
        .grants
        .iter()
        .filter(|g| roles.contains(&g.role))
        .filter_map(|g| match &g.scope {
            Scope::Territory(t) => Some(t.subtree_prefix().to_string()),
            Scope::Department(_) | Scope::Organization(_) => None,
        })
        .collect();
    prefixes.sort();
    prefixes.dedup();
    prefixes
}

fn by_roles(actor: &Actor, roles: &[Role]) -> Vec<Clause> {
    let within = territory_prefixes(actor, roles);
    if within.is_empty() {
        return vec![];
    }
    vec![Clause {
        within,
        ..Clause::default()
    }]
}

/// The departments and member organizations the actor acts for as their handler or liaison.
fn department_handlers(actor: &Actor) -> Vec<UnitRef> {
    actor
        .grants
        .iter()
        .filter_map(|g| match (&g.scope, g.role) {
            (Scope::Department(d), Role::DepartmentHandler) => Some(UnitRef::Department(d.clone())),
            (Scope::Organization(o), Role::Liaison) => Some(UnitRef::Organization(*o)),
            _ => None,
        })
        .collect()
}

/// The lead units the actor acts for (as `flow::acts_for` decides it): their departments, the
/// streets and communities under their street or community roles, their grids' grid-worker unit.
fn as_lead(actor: &Actor) -> Vec<Clause> {
    let mut units: Vec<UnitMatch> = department_handlers(actor)
        .iter()
        .map(|u| UnitMatch::Exact(u.key()))
        .collect();
    for p in territory_prefixes(actor, &[Role::StreetStaff, Role::CommunityWorker]) {
        units.push(UnitMatch::Prefix(format!("territory:{p}")));
    }
    for p in territory_prefixes(actor, &[Role::GridWorker]) {
        units.push(UnitMatch::Prefix(format!("grid_worker:{p}")));
    }
    if units.is_empty() {
        return vec![];
    }
    vec![Clause {
        lead_units: units,
        ..Clause::default()
    }]
}

/// Pending requests the actor may decide: each kind under the roles that approve it.
fn requests_to_approve(actor: &Actor) -> Vec<Clause> {
    let mut clauses: Vec<Clause> = Vec::new();
    for kind in ActionKind::ALL {
        let Some((request, true)) = kind.decides() else {
            continue;
        };
        let found = match who(kind) {
            Who::Roles(roles) => by_roles(actor, roles),
            _ => vec![],
        };
        for c in found {
            match clauses.iter_mut().find(|x| x.within == c.within) {
                Some(x) => x.pending.push(request),
                None => clauses.push(Clause {
                    states: open_states(),
                    pending: vec![request],
                    ..c
                }),
            }
        }
    }
    clauses
}

/// The cases the actor may see at all: their territories, or what their departments lead.
fn visible(actor: &Actor) -> Vec<Clause> {
    // Territorial grants of any working role; a department handler's is a department.
    let mut clauses = by_roles(actor, &Role::WORKING);
    let departments: Vec<UnitMatch> = department_handlers(actor)
        .iter()
        .map(|u| UnitMatch::Exact(u.key()))
        .collect();
    if !departments.is_empty() {
        clauses.push(Clause {
            lead_units: departments,
            ..Clause::default()
        });
    }
    clauses
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orgs::DepartmentCode;
    use crate::people::Grant;
    use crate::territory::TerritoryCode;

    fn actor(grants: &[(Role, &str)]) -> Actor {
        Actor {
            account: "someone".into(),
            grants: grants
                .iter()
                .map(|(role, scope)| Grant {
                    role: *role,
                    scope: match TerritoryCode::parse(scope) {
                        Ok(t) => Scope::Territory(t),
                        Err(_) => Scope::Department(DepartmentCode::parse(scope).unwrap()),
                    },
                })
                .collect(),
        }
    }

    fn slugs(a: &Actor) -> Vec<&'static str> {
        Inbox::all_for(a).iter().map(|(i, _)| i.slug()).collect()
    }

    #[test]
    fn each_role_has_the_inboxes_of_its_steps() {
        let city = "230900000000";
        assert_eq!(
            slugs(&actor(&[(Role::IntakeClerk, city)])),
            ["to_accept", "requests", "overdue", "supervised"]
        );
        assert_eq!(
            slugs(&actor(&[(Role::ShiftLead, city)])),
            ["to_register", "to_close", "requests", "overdue", "supervised"]
        );
        assert_eq!(
            slugs(&actor(&[(Role::Dispatcher, city)])),
            ["to_dispatch", "requests", "overdue", "supervised"]
        );
        assert_eq!(
            slugs(&actor(&[(Role::DepartmentHandler, "urban-management")])),
            ["to_acknowledge", "to_handle", "whistles", "overdue", "supervised"]
        );
        assert_eq!(
            slugs(&actor(&[(Role::GridWorker, "230903011001001")])),
            ["to_acknowledge", "to_handle", "to_check", "overdue", "supervised"]
        );
        assert_eq!(slugs(&actor(&[(Role::Leader, city)])), ["overdue", "supervised"]);
        assert!(slugs(&actor(&[(Role::SystemAdmin, city)])).is_empty());
    }

    #[test]
    fn a_street_checks_cases_but_not_those_its_own_units_handled() {
        let street = actor(&[(Role::StreetStaff, "230903011000")]);
        let q = Inbox::ToCheck.query(&street).unwrap();
        assert_eq!(q.clauses.len(), 1);
        let c = &q.clauses[0];
        assert_eq!(c.states, [State::ReportedBack]);
        assert_eq!(c.within, ["230903011"]);
        assert_eq!(c.not_lead_units, [UnitMatch::Prefix("territory:230903011".into())]);
    }

    #[test]
    fn a_dispatcher_approves_returns_extensions_and_suspensions_a_shift_lead_cancellations() {
        let both = actor(&[(Role::Dispatcher, "230900000000"), (Role::ShiftLead, "230903000000")]);
        let q = Inbox::RequestsToApprove.query(&both).unwrap();
        let city = q.clauses.iter().find(|c| c.within == ["2309"]).unwrap();
        assert_eq!(
            city.pending,
            [RequestKind::Return, RequestKind::Extension, RequestKind::Suspension]
        );
        let district = q.clauses.iter().find(|c| c.within == ["230903"]).unwrap();
        assert_eq!(district.pending, [RequestKind::Cancel]);
    }

    #[test]
    fn a_department_answers_whistles_that_summon_it() {
        let handler = actor(&[(Role::DepartmentHandler, "housing")]);
        let q = Inbox::WhistlesToAnswer.query(&handler).unwrap();
        assert_eq!(
            q.clauses[0].summoned,
            [UnitRef::Department(DepartmentCode::parse("housing").unwrap())]
        );
        let q = Inbox::ToHandle.query(&handler).unwrap();
        assert_eq!(q.clauses[0].lead_units, [UnitMatch::Exact("department:housing".into())]);
    }

    #[test]
    fn slugs_round_trip() {
        for i in Inbox::ALL {
            assert_eq!(Inbox::parse(i.slug()), Some(i));
        }
        assert_eq!(Inbox::parse("nothing"), None);
    }
}
