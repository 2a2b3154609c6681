//! Lists of cases: which cases a person may see (the one place lists are narrowed to the reader's
//! scope), the API's list with a cursor, the staff list's numbered pages and its export.

use chrono::{DateTime, Utc};
use gongzhi_core::ErrorCode;
use gongzhi_core::audit::NewAuditEntry;
use gongzhi_core::cases::flow::State as CaseState;
use gongzhi_core::cases::inbox::reach;
use gongzhi_core::cases::intake::Channel;
use gongzhi_core::cases::taxonomy::TypeCode;
use gongzhi_core::people::{Actor, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_store::cases::{CaseFilter, CasePage, CaseSort};

use crate::{App, AppError};

/// The most rows one export writes; a larger list must be narrowed first.
pub const EXPORT_CAP: i64 = 50_000;

/// The filters of a case list (the API's and the staff pages'), checked by the door.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    /// Only this subtree; outside the reader's scope it is a 403.
    pub within: Option<TerritoryCode>,
    /// Any of these states.
    pub states: Vec<CaseState>,
    pub matter: Option<TypeCode>,
    /// The lead unit's key (`department:urban-management`).
    pub handler: Option<String>,
    pub channel: Option<Channel>,
    pub overdue: Option<bool>,
    pub supervised: Option<bool>,
    /// Reported at or after.
    pub from: Option<DateTime<Utc>>,
    /// Reported before.
    pub to: Option<DateTime<Utc>>,
}

/// The order of a staff list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Newest,
    Oldest,
    /// The nearest next deadline first.
    Deadline,
}

impl From<Sort> for CaseSort {
    fn from(s: Sort) -> CaseSort {
        match s {
            Sort::Newest => CaseSort::Newest,
            Sort::Oldest => CaseSort::Oldest,
            Sort::Deadline => CaseSort::Deadline,
        }
    }
}

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

/// The reader's cases narrowed by a list's filters; `None` when they may see none, 403 when
/// `within` names a node outside their scope.
fn list_filter(actor: &Actor, q: &CaseQuery) -> Result<Option<CaseFilter>, AppError> {
    let Some(mut filter) = visible_within(actor, q.within.as_ref()) else {
        return match &q.within {
            Some(w) => Err(AppError::new(
                ErrorCode::OutsideScope,
                Some("within"),
                format!("{w} 不在您的权限范围内"),
                format!("{w} is outside your scope"),
            )),
            None => Ok(None),
        };
    };
    filter.states = q.states.iter().map(|s| s.as_str().to_string()).collect();
    filter.matter = q.matter.as_ref().map(|m| m.as_str().to_string());
    filter.lead_unit = q.handler.clone();
    filter.channel = q.channel.map(|c| c.as_str().to_string());
    filter.overdue = q.overdue;
    filter.supervised = q.supervised;
    filter.reported_from = q.from;
    filter.reported_to = q.to;
    Ok(Some(filter))
}

fn nothing() -> CasePage {
    CasePage {
        cases: vec![],
        total: 0,
        next_cursor: None,
    }
}

/// The reader's cases matching `query`, newest first, `limit` of them below the id `cursor`, with
/// the total count and the next page's cursor (the JSON API).
pub async fn list(
    app: &App,
    actor: &Actor,
    query: &CaseQuery,
    cursor: Option<i64>,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<CasePage, AppError> {
    let Some(mut filter) = list_filter(actor, query)? else {
        return Ok(nothing());
    };
    filter.before_id = cursor;
    Ok(app.db().list_cases(&filter, limit, now).await?)
}

/// One numbered page of the reader's cases matching `query`, `size` rows from `offset` (the
/// staff list).
pub async fn page(
    app: &App,
    actor: &Actor,
    query: &CaseQuery,
    sort: Sort,
    offset: i64,
    size: i64,
    now: DateTime<Utc>,
) -> Result<CasePage, AppError> {
    let Some(filter) = list_filter(actor, query)? else {
        return Ok(nothing());
    };
    Ok(app
        .db()
        .list_cases_sorted(&filter, sort.into(), offset, size, now)
        .await?)
}

/// Every case of the reader matching `query` (up to [`EXPORT_CAP`]), for a file; the export is
/// audited with `filters` (as the reader gave them) and its row count.
pub async fn export(
    app: &App,
    actor: &Actor,
    query: &CaseQuery,
    sort: Sort,
    filters: &str,
    now: DateTime<Utc>,
) -> Result<CasePage, AppError> {
    let audit_key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    // A reader who may see no cases exports an empty file (an empty inbox matches nothing), and
    // that export is audited like any other.
    let filter = list_filter(actor, query)?.unwrap_or(CaseFilter {
        inbox: Some(Default::default()),
        ..CaseFilter::default()
    });
    let total = app.db().count_cases(&filter, now).await?;
    if total > EXPORT_CAP {
        return Err(AppError::new(
            ErrorCode::ExportTooLarge,
            Some("from"),
            format!(
                "符合条件的案件有 {total} 件，超过一次导出上限 {EXPORT_CAP} 件：请缩小日期范围（from/to）或增加筛选条件"
            ),
            format!(
                "{total} cases match, more than the {EXPORT_CAP} one export may hold: narrow the dates (from/to) or add filters"
            ),
        ));
    }
    let listed = app
        .db()
        .list_cases_sorted(&filter, sort.into(), 0, EXPORT_CAP, now)
        .await?;
    let entry = NewAuditEntry::new(
        now,
        actor.account.as_str(),
        "cases.export",
        "cases",
        "list",
        serde_json::json!({"filters": filters, "rows": listed.cases.len()}),
    )
    .map_err(|e| AppError::new(ErrorCode::AuditFailed, None, e.to_string(), e.to_string()))?;
    gongzhi_store::audit::record(app.db(), &audit_key, entry).await?;
    Ok(listed)
}

/// The open cases a reader may see within a node: where they are (for a map), how many per grid,
/// and the newest few.
pub struct OpenWithin {
    pub dots: Vec<gongzhi_store::cases::map::CaseDot>,
    pub counts_by_grid: Vec<(String, i64)>,
    pub newest: Vec<gongzhi_store::cases::CaseRecord>,
}

/// The open cases `actor` may see within `node`: at most `max_dots` for the map, the counts per
/// grid, and the `newest` most recent (none when `newest` is 0). Nothing for a reader who may see
/// no case there.
pub async fn open_within(
    app: &App,
    actor: &Actor,
    node: &TerritoryCode,
    max_dots: i64,
    newest: i64,
) -> Result<OpenWithin, AppError> {
    let Some(filter) = visible_within(actor, Some(node)).map(|f| CaseFilter {
        states: CaseState::ALL
            .into_iter()
            .filter(|s| s.is_open())
            .map(|s| s.as_str().to_string())
            .collect(),
        ..f
    }) else {
        return Ok(OpenWithin {
            dots: vec![],
            counts_by_grid: vec![],
            newest: vec![],
        });
    };
    let newest = if newest > 0 {
        app.db.list_cases(&filter, newest, Utc::now()).await?.cases
    } else {
        vec![]
    };
    Ok(OpenWithin {
        dots: app.db.case_dots(&filter, max_dots).await?,
        counts_by_grid: app.db.case_counts_by_grid(&filter).await?,
        newest,
    })
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
