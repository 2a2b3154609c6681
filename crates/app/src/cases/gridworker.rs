//! The grid worker's work (网格员): my grids, the cases waiting for me there (to verify, to
//! check) and a case of my grids, and the matters I report most.

use chrono::Utc;
use gongzhi_core::ErrorCode;
use gongzhi_core::cases::flow::State as CaseState;
use gongzhi_core::people::{Actor, Role, Scope};
use gongzhi_core::territory::{Node, TerritoryCode};
use gongzhi_store::cases::CaseFilter;

use super::{CaseRecord, visible_case};
use crate::{App, AppError};

/// Matters grid workers meet most on patrol, offered after their own recent ones.
const COMMON_MATTERS: [&str; 8] = ["06010", "06042", "06013", "06028", "09009", "10001", "06036", "06027"];
/// The most of their own recent matters offered first.
const RECENT_MATTERS: usize = 5;
/// The cases of one grid and state group a task list reads.
const TASKS_PER_GRID: i64 = 50;
/// The newest open cases shown beside the tasks.
const NEWEST_OPEN: usize = 10;

/// The grids of a grid worker (the territories of their grid-worker grants); 403 for anyone
/// without the role.
pub fn my_grids(actor: &Actor) -> Result<Vec<TerritoryCode>, AppError> {
    let grids: Vec<TerritoryCode> = actor
        .grants
        .iter()
        .filter(|g| g.role == Role::GridWorker)
        .filter_map(|g| match &g.scope {
            Scope::Territory(t) => Some(t.clone()),
            Scope::Department(_) | Scope::Organization(_) => None,
        })
        .collect();
    if grids.is_empty() {
        return Err(AppError::forbidden_role("网格员", "grid worker"));
    }
    Ok(grids)
}

/// One of my grids: its node (`None` if the grid was retired since the grant).
#[derive(Debug, Clone)]
pub struct MyGrid {
    pub code: TerritoryCode,
    pub node: Option<Node>,
}

/// My grids and the cases in them that wait for me.
#[derive(Debug, Clone)]
pub struct Tasks {
    pub grids: Vec<MyGrid>,
    /// Reported, waiting for a grid worker to verify on site.
    pub to_verify: Vec<CaseRecord>,
    /// Reported back as handled, waiting for the check on site.
    pub to_check: Vec<CaseRecord>,
    /// How many cases of my grids are open.
    pub open: i64,
    /// The newest open cases of my grids (at most 10).
    pub open_cases: Vec<CaseRecord>,
}

/// The cases in my grids in any of `states`, with how many there are.
async fn cases_in(
    app: &App,
    grids: &[TerritoryCode],
    states: &[CaseState],
) -> Result<(Vec<CaseRecord>, i64), AppError> {
    let now = Utc::now();
    let mut cases = vec![];
    let mut total = 0;
    for grid in grids {
        let filter = CaseFilter {
            states: states.iter().map(|s| s.as_str().to_string()).collect(),
            within_prefix: Some(grid.subtree_prefix().to_string()),
            ..CaseFilter::default()
        };
        let page = app.db().list_cases(&filter, TASKS_PER_GRID, now).await?;
        total += page.total;
        cases.extend(page.cases);
    }
    Ok((cases, total))
}

/// My grids with their nodes, and my tasks.
pub async fn tasks(app: &App, actor: &Actor) -> Result<Tasks, AppError> {
    let codes = my_grids(actor)?;
    let mut grids = vec![];
    for code in &codes {
        grids.push(MyGrid {
            code: code.clone(),
            node: app.db().node(code).await?,
        });
    }
    let (to_verify, _) = cases_in(app, &codes, &[CaseState::Verifying]).await?;
    let (to_check, _) = cases_in(app, &codes, &[CaseState::ReportedBack]).await?;
    let open_states: Vec<CaseState> = CaseState::ALL.into_iter().filter(|s| s.is_open()).collect();
    let (mut open_cases, open) = cases_in(app, &codes, &open_states).await?;
    open_cases.truncate(NEWEST_OPEN);
    Ok(Tasks {
        grids,
        to_verify,
        to_check,
        open,
        open_cases,
    })
}

/// A case in my grids, by id or number, or 404.
pub async fn my_case(app: &App, actor: &Actor, id: &str) -> Result<CaseRecord, AppError> {
    let grids = my_grids(actor)?;
    let record = visible_case(app, actor, id).await?;
    if grids
        .iter()
        .any(|g| record.flow.node.as_str().starts_with(g.subtree_prefix()))
    {
        Ok(record)
    } else {
        Err(AppError::new(
            ErrorCode::UnknownCase,
            Some("id"),
            format!("案件 {id} 不在您的网格"),
            format!("case {id} is not in your grids"),
        ))
    }
}

/// The matter codes to offer on my report form: my recent ones first, then the common ones.
pub async fn matters(app: &App, actor: &Actor) -> Result<Vec<String>, AppError> {
    my_grids(actor)?;
    let mine = app.db().cases_reported_by(&actor.account, 50).await?;
    let mut codes: Vec<String> = vec![];
    for rec in &mine {
        if !codes.contains(&rec.flow.matter) && codes.len() < RECENT_MATTERS {
            codes.push(rec.flow.matter.clone());
        }
    }
    for c in COMMON_MATTERS {
        if !codes.iter().any(|m| m == c) {
            codes.push(c.to_string());
        }
    }
    Ok(codes)
}
