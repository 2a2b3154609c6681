//! Which cases a person may see, as a store filter: the one place pages and lists narrow a
//! query to the reader's scope (the JSON case view checks single cases with `api::can_see`).

use gongzhi_core::people::{Actor, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_store::cases::CaseFilter;

/// A filter for the cases `actor` may see within `node` (the whole city when `None`), or `None`
/// when they may see none there. A territorial role narrows to the smaller of its subtree and
/// the node's; a department role (with no territorial role) sees what its department leads.
pub fn visible_within(actor: &Actor, node: Option<&TerritoryCode>) -> Option<CaseFilter> {
    let node_prefix = node.map(|n| n.subtree_prefix().to_string()).unwrap_or_default();
    let mut best: Option<String> = None;
    for g in &actor.grants {
        if let Scope::Territory(t) = &g.scope {
            let mine = t.subtree_prefix();
            let overlap = if mine.starts_with(&node_prefix) {
                Some(mine.to_string())
            } else if node_prefix.starts_with(mine) {
                Some(node_prefix.clone())
            } else {
                None
            };
            // The widest overlap wins: a city-wide role sees the whole node.
            if let Some(o) = overlap
                && best.as_ref().is_none_or(|b| o.len() < b.len())
            {
                best = Some(o);
            }
        }
    }
    if let Some(prefix) = best {
        return Some(CaseFilter {
            within_prefix: Some(prefix).filter(|p| !p.is_empty()),
            ..CaseFilter::default()
        });
    }
    let department = actor.grants.iter().find_map(|g| match &g.scope {
        Scope::Department(d) => Some(d),
        Scope::Territory(_) => None,
    })?;
    Some(CaseFilter {
        within_prefix: Some(node_prefix).filter(|p| !p.is_empty()),
        lead_unit: Some(format!("department:{department}")),
        ..CaseFilter::default()
    })
}

#[cfg(test)]
mod tests {
    use gongzhi_core::cases::DepartmentCode;
    use gongzhi_core::people::{Grant, Role};

    use super::*;

    fn actor(scope: Scope) -> Actor {
        Actor {
            account: "x".into(),
            grants: vec![Grant {
                role: Role::CommunityWorker,
                scope,
            }],
        }
    }

    fn code(c: &str) -> TerritoryCode {
        TerritoryCode::parse(c).unwrap()
    }

    #[test]
    fn a_community_worker_sees_only_the_community_even_on_the_city_map() {
        let worker = actor(Scope::Territory(code("230903011001")));
        let f = visible_within(&worker, Some(&code("230900000000"))).unwrap();
        assert_eq!(f.within_prefix.as_deref(), Some("230903011001"));
        let f = visible_within(&worker, Some(&code("230903011001001"))).unwrap();
        assert_eq!(f.within_prefix.as_deref(), Some("230903011001001"));
        assert!(visible_within(&worker, Some(&code("230903012001"))).is_none());
    }

    #[test]
    fn a_department_handler_sees_what_the_department_leads() {
        let handler = actor(Scope::Department(DepartmentCode::parse("urban-management").unwrap()));
        let f = visible_within(&handler, Some(&code("230903000000"))).unwrap();
        assert_eq!(f.lead_unit.as_deref(), Some("department:urban-management"));
        assert_eq!(f.within_prefix.as_deref(), Some("230903"));
    }
}
