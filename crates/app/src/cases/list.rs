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
use gongzhi_store::cases::{CaseFilter, CaseKey, CasePage, CaseSort};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
        Scope::Department(_) | Scope::Organization(_) => true,
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
        total_exact: true,
        next: None,
        next_cursor: None,
    }
}

/// Where a list page starts: a numbered page (an offset, bounded by the door) or just after a
/// case (a keyset cursor, as the API and the pages' "next" links carry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Offset(i64),
    After(CaseKey),
}

/// The cursor `text` of a list in `sort` order, else 400 naming `field`.
pub fn cursor(field: &'static str, text: &str, sort: Sort) -> Result<CaseKey, AppError> {
    CaseKey::parse(text, sort.into()).ok_or_else(|| {
        AppError::new(
            ErrorCode::InvalidPage,
            Some(field),
            format!("参数 {field} 不是本列表（此排序）给出的游标：{text:?}"),
            format!("parameter {field} is not a cursor this list (in this order) gave: {text:?}"),
        )
    })
}

/// Readings change with the clock too ("overdue"): none is older than this.
const READINGS_TTL: Duration = Duration::from_secs(60);

/// Readings of the cases (a list's total, a map's open cases) by what was asked, valid while no
/// case event was published since and for at most a minute: a list or a map read again and again
/// (the same reader paging, a dashboard, a wall screen) reads the database once, not on every
/// request.
#[derive(Clone)]
pub struct UntilCasesChange<V> {
    cached: Arc<Mutex<HashMap<String, Reading<V>>>>,
}

/// A reading with the event generation and the time it was read at.
type Reading<V> = (u64, Instant, V);

impl<V> Default for UntilCasesChange<V> {
    fn default() -> Self {
        UntilCasesChange { cached: Arc::default() }
    }
}

impl<V: Clone> UntilCasesChange<V> {
    /// The reading under `key`, from the cache when no case changed since it was read, else
    /// from `read`.
    async fn get_or_read<F>(&self, app: &App, key: String, read: F) -> Result<V, AppError>
    where
        F: std::future::Future<Output = Result<V, AppError>>,
    {
        let generation = app.events.generation();
        {
            let cache = self.cached.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((g, at, v)) = cache.get(&key)
                && *g == generation
                && at.elapsed() < READINGS_TTL
            {
                return Ok(v.clone());
            }
        }
        let value = read.await?;
        let mut cache = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        // Start over rather than grow without bound (filters are many, readers' scopes few).
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(key, (generation, Instant::now(), value.clone()));
        Ok(value)
    }
}

/// The lists' totals: `(n, exact)` by filter and cap.
pub type TotalCache = UntilCasesChange<(i64, bool)>;

/// How many cases match `filter`, at most `cap` (and whether that is exact), from the cache when
/// no case changed since it was counted.
async fn total(app: &App, filter: &CaseFilter, cap: i64, now: DateTime<Utc>) -> Result<(i64, bool), AppError> {
    app.list_totals
        .get_or_read(app, format!("{cap}|{filter:?}"), async {
            Ok(app.db().count_cases_upto(filter, cap, now).await?)
        })
        .await
}

/// The reader's cases matching `query` in `sort` order, `limit` of them after the `cursor` (a
/// keyset page), with the count (at most `count_cap`: the policy's `list_max_rows`, 10,000 by
/// default, and whether it is exact) and where the next page starts (the JSON API).
#[allow(clippy::too_many_arguments)]
pub async fn list(
    app: &App,
    actor: &Actor,
    query: &CaseQuery,
    sort: Sort,
    cursor: Option<CaseKey>,
    limit: i64,
    count_cap: i64,
    now: DateTime<Utc>,
) -> Result<CasePage, AppError> {
    let Some(filter) = list_filter(actor, query)? else {
        return Ok(nothing());
    };
    let (cases, next) = app.db().keyset_page(&filter, sort.into(), cursor, limit, now).await?;
    Ok(CasePage::new(
        cases,
        next,
        total(app, &filter, count_cap.max(1), now).await?,
    ))
}

/// One page of the reader's cases matching `query`, `size` rows from `from` (the staff list),
/// with the count up to `count_cap` (the deepest row the list reaches: counting further tells
/// the reader nothing the page could show).
#[allow(clippy::too_many_arguments)]
pub async fn page(
    app: &App,
    actor: &Actor,
    query: &CaseQuery,
    sort: Sort,
    from: Start,
    size: i64,
    count_cap: i64,
    now: DateTime<Utc>,
) -> Result<CasePage, AppError> {
    let Some(filter) = list_filter(actor, query)? else {
        return Ok(nothing());
    };
    let db = app.db();
    let (cases, next) = match from {
        Start::Offset(offset) => db.offset_page(&filter, sort.into(), offset, size, now).await?,
        Start::After(key) => db.keyset_page(&filter, sort.into(), Some(key), size, now).await?,
    };
    Ok(CasePage::new(
        cases,
        next,
        total(app, &filter, count_cap.max(1), now).await?,
    ))
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
    // Counting stops one past the cap: a city-wide filter is refused without reading every row.
    let (_, exact) = app.db().count_cases_upto(&filter, EXPORT_CAP, now).await?;
    if !exact {
        return Err(AppError::new(
            ErrorCode::ExportTooLarge,
            Some("from"),
            format!("符合条件的案件超过 {EXPORT_CAP} 件，超过一次导出上限：请缩小日期范围（from/to）或增加筛选条件"),
            format!(
                "more than {EXPORT_CAP} cases match, more than one export may hold: narrow the dates (from/to) or add filters"
            ),
        ));
    }
    let listed = app
        .db()
        .list_cases_sorted(&filter, sort.into(), 0, EXPORT_CAP, EXPORT_CAP, now)
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

/// The maps' open cases, by what was asked.
pub type OpenCache = UntilCasesChange<Arc<OpenWithin>>;

/// The open cases `actor` may see within `node`: at most `max_dots` for the map, the counts per
/// grid, and the `newest` most recent (none when `newest` is 0). Nothing for a reader who may see
/// no case there. Kept until a case changes: the city's map counts every open case by grid.
pub async fn open_within(
    app: &App,
    actor: &Actor,
    node: &TerritoryCode,
    max_dots: i64,
    newest: i64,
) -> Result<Arc<OpenWithin>, AppError> {
    let Some(filter) = visible_within(actor, Some(node)).map(|f| CaseFilter {
        states: CaseState::ALL
            .into_iter()
            .filter(|s| s.is_open())
            .map(|s| s.as_str().to_string())
            .collect(),
        ..f
    }) else {
        return Ok(Arc::new(OpenWithin {
            dots: vec![],
            counts_by_grid: vec![],
            newest: vec![],
        }));
    };
    let key = format!("{max_dots}|{newest}|{filter:?}");
    app.open_cases
        .get_or_read(app, key, async {
            let newest = if newest > 0 {
                app.db
                    .keyset_page(&filter, CaseSort::Newest, None, newest, Utc::now())
                    .await?
                    .0
            } else {
                vec![]
            };
            Ok(Arc::new(OpenWithin {
                dots: app.db.case_dots(&filter, max_dots).await?,
                counts_by_grid: app.db.case_counts_by_grid(&filter).await?,
                newest,
            }))
        })
        .await
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
    fn a_liaison_sees_only_what_the_organization_leads() {
        let liaison = actor(&[(Role::Liaison, Scope::Organization(7))]);
        let f = visible_within(&liaison, None).unwrap();
        let clauses = &f.inbox.as_ref().unwrap().clauses;
        assert_eq!(clauses.len(), 1, "{clauses:?}");
        assert_eq!(clauses[0].lead_units, [UnitMatch::Exact("organization:7".into())]);
        assert!(clauses[0].within.is_empty());
    }

    #[test]
    fn administrators_see_no_cases() {
        let admin = actor(&[(Role::SystemAdmin, Scope::Territory(code("230900000000")))]);
        assert!(visible_within(&admin, None).is_none());
    }
}
