//! Which cases a person may see, as a store filter: the one place pages and lists narrow a
//! query to the reader's scope (the JSON case view checks single cases with `gongzhi_app::cases::can_see`).

use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use gongzhi_core::cases::inbox::reach;
use gongzhi_core::people::{Actor, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_store::cases::CaseFilter;

use super::api::{ListParams, narrow};
use crate::ApiError;

/// A filter for the cases `actor` may see within `node` (the whole city when `None`), or `None`
/// when they may see none there: every case under a territory of one of their working roles, or
/// that one of their departments leads (`inbox::reach`), narrowed to the node.
pub fn visible_within(actor: &Actor, node: Option<&TerritoryCode>) -> Option<CaseFilter> {
    let reach = reach(actor)?;
    let node_prefix = node.map(|n| n.subtree_prefix().to_string()).unwrap_or_default();
    // A node none of the reader's territories overlaps shows nothing, unless a department of
    // theirs may lead cases anywhere.
    let overlaps = actor.grants.iter().any(|g| match &g.scope {
        Scope::Territory(t) => {
            let mine = t.subtree_prefix();
            mine.starts_with(&node_prefix) || node_prefix.starts_with(mine)
        }
        Scope::Department(_) => true,
    });
    if !overlaps {
        return None;
    }
    Some(CaseFilter {
        within_prefix: Some(node_prefix).filter(|p| !p.is_empty()),
        inbox: Some(reach),
        ..CaseFilter::default()
    })
}

/// The reader's cases narrowed by a list's filters (`?within=` and the rest); `None` when they
/// may see none, 403 when `within` names a node outside their scope.
pub fn list_filter(actor: &Actor, p: &ListParams) -> Result<Option<CaseFilter>, ApiError> {
    let within = match p.within.as_deref().filter(|w| !w.is_empty()) {
        Some(w) => Some(TerritoryCode::parse(w).map_err(|e| AppError::bad_code("within", e))?),
        None => None,
    };
    let Some(mut filter) = visible_within(actor, within.as_ref()) else {
        return match within {
            Some(w) => Err(AppError::new(
                ErrorCode::OutsideScope,
                Some("within"),
                format!("{w} 不在您的权限范围内"),
                format!("{w} is outside your scope"),
            )
            .into()),
            None => Ok(None),
        };
    };
    narrow(&mut filter, p)?;
    Ok(Some(filter))
}

#[cfg(test)]
mod tests {
    use gongzhi_core::cases::inbox::UnitMatch;
    use gongzhi_core::orgs::DepartmentCode;
    use gongzhi_core::people::{Grant, Role};

    use super::*;

    fn actor(grants: &[(Role, Scope)]) -> Actor {
        Actor {
            account: "x".into(),
            grants: grants
                .iter()
                .map(|(role, scope)| Grant {
                    role: *role,
                    scope: scope.clone(),
                })
                .collect(),
        }
    }

    fn code(c: &str) -> TerritoryCode {
        TerritoryCode::parse(c).unwrap()
    }

    fn territories(f: &CaseFilter) -> Vec<String> {
        f.inbox
            .as_ref()
            .unwrap()
            .clauses
            .iter()
            .flat_map(|c| c.within.clone())
            .collect()
    }

    #[test]
    fn a_community_worker_sees_only_the_community_even_on_the_city_map() {
        let worker = actor(&[(Role::CommunityWorker, Scope::Territory(code("230903011001")))]);
        let f = visible_within(&worker, Some(&code("230900000000"))).unwrap();
        assert_eq!(f.within_prefix.as_deref(), Some("2309"));
        assert_eq!(territories(&f), ["230903011001"]);
        let f = visible_within(&worker, Some(&code("230903011001001"))).unwrap();
        assert_eq!(f.within_prefix.as_deref(), Some("230903011001001"));
        assert!(visible_within(&worker, Some(&code("230903012001"))).is_none());
    }

    #[test]
    fn someone_with_two_places_sees_both_and_nothing_between() {
        let both = actor(&[
            (Role::GridWorker, Scope::Territory(code("230903011001001"))),
            (Role::CommunityWorker, Scope::Territory(code("230902001001"))),
        ]);
        let f = visible_within(&both, None).unwrap();
        assert_eq!(f.within_prefix, None);
        let mut seen = territories(&f);
        seen.sort();
        assert_eq!(seen, ["230902001001", "230903011001001"]);
    }

    #[test]
    fn a_department_handler_sees_what_the_department_leads() {
        let handler = actor(&[(
            Role::DepartmentHandler,
            Scope::Department(DepartmentCode::parse("urban-management").unwrap()),
        )]);
        let f = visible_within(&handler, Some(&code("230903000000"))).unwrap();
        assert_eq!(f.within_prefix.as_deref(), Some("230903"));
        let clauses = &f.inbox.as_ref().unwrap().clauses;
        assert_eq!(
            clauses[0].lead_units,
            [UnitMatch::Exact("department:urban-management".into())]
        );
    }

    #[test]
    fn administrators_see_no_cases() {
        let admin = actor(&[(Role::SystemAdmin, Scope::Territory(code("230900000000")))]);
        assert!(visible_within(&admin, None).is_none());
    }
}
