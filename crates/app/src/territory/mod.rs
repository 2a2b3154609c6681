//! The territory: the tree of districts, streets, communities and grids, its summary, the
//! in-memory grid index and its refresh, and the import of grids from GeoJSON.

pub mod index;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use gongzhi_core::ErrorCode;
use gongzhi_core::people::{Actor, Role, Scope};
use gongzhi_core::territory::{Level, Node, TerritoryCode};
use serde::Serialize;

pub use gongzhi_store::{SubtreeTotals, Summary};
pub use index::{Located, NodeRef, TerritoryIndex};

use crate::{App, AppError};

/// Counts of the tree, by level and by kind.
pub async fn summary(app: &App) -> Result<Summary, AppError> {
    Ok(app.db().summary().await?)
}

/// The territory's revision: it moves with every change of the tree or its grids (what a cache
/// of their geometry is named by, with the day, which decides which versions are current).
pub async fn revision(app: &App) -> Result<i64, AppError> {
    Ok(app.db().territory_revision().await?)
}

/// The current node with this code, or 404 naming `field` (the parameter that gave it).
pub async fn node(app: &App, field: &'static str, code: &TerritoryCode) -> Result<Node, AppError> {
    app.db()
        .node(code)
        .await?
        .ok_or_else(|| AppError::unknown_node(field, code.as_str()))
}

/// The city's code (404 before any territory is loaded).
pub async fn city_code(app: &App) -> Result<TerritoryCode, AppError> {
    app.db()
        .codes_at_level(Level::City)
        .await?
        .into_iter()
        .next()
        .ok_or_else(AppError::not_found_path)
}

/// A node with its children and the grids and households under it and under each child.
pub struct NodeDetail {
    pub node: Node,
    pub children: Vec<Node>,
    pub totals: SubtreeTotals,
}

/// Node `code` (404 naming the parameter `code`), its children and totals.
pub async fn node_detail(app: &App, code: &TerritoryCode) -> Result<NodeDetail, AppError> {
    let node = node(app, "code", code).await?;
    let children = app.db().children(&node.code).await?;
    let totals = app.db().subtree_totals(&node.code).await?;
    Ok(NodeDetail { node, children, totals })
}

/// The current grids within the node `within` names (404 naming the parameter `within`), or all
/// of the city's (none before any territory is loaded).
pub async fn grids(app: &App, within: Option<&TerritoryCode>) -> Result<Vec<Node>, AppError> {
    let root = match within {
        Some(code) => node(app, "within", code).await?.code,
        None => match app.db().nodes_at_level(Level::City).await?.into_iter().next() {
            Some(city) => city.code,
            None => return Ok(vec![]),
        },
    };
    Ok(app.db().grids_within(&root).await?)
}

/// A node as its page shows it (without the cases, which are the case loop's).
pub struct NodePage {
    /// What the territory says about it, shared with every reader until the territory changes.
    pub territory: Arc<NodeTerritory>,
    /// On a grid's page: who works there (the active accounts of the grid, its community or its
    /// street), by display name and role.
    pub staff: Vec<(String, Role)>,
}

/// The territory's part of a node's page: the same for every reader, and it changes only with the
/// territory's revision or the day (which decides the versions in force).
pub struct NodeTerritory {
    pub detail: NodeDetail,
    /// The nodes above it, the city first.
    pub crumbs: Vec<Node>,
    /// The grids its map draws: a grid's page draws the other grids of its community.
    pub grids: Vec<Node>,
    /// The city's summary, on the city's page.
    pub summary: Option<Summary>,
    /// The districts, streets and communities (the city page's browser), on the city's page.
    pub tree: Option<Tree>,
}

/// The nodes' pages as last read, by code, with the territory revision and day they were read
/// on. Reading the city's 810 grids with their boundaries was most of its page's time, for
/// geometry that changes a few times a year.
#[derive(Default, Clone)]
pub struct NodePageCache {
    cached: Arc<Mutex<HashMap<TerritoryCode, Kept>>>,
}

/// The districts, streets and communities, a list per level.
pub type Tree = [Vec<Node>; 3];

/// A node's territory as read, with the revision and the day it was read on.
type Kept = (i64, NaiveDate, Arc<NodeTerritory>);

/// The page of node `code` (404 naming the parameter `code`).
pub async fn node_page(app: &App, code: &TerritoryCode) -> Result<NodePage, AppError> {
    let revision = app.db().territory_revision().await?;
    let today = app.today();
    let cached = {
        let cache = app.node_pages.cached.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(code)
            .filter(|(r, d, _)| *r == revision && *d == today)
            .map(|(_, _, t)| t.clone())
    };
    let territory = match cached {
        Some(t) => t,
        None => {
            let t = Arc::new(node_territory(app, code).await?);
            let mut cache = app.node_pages.cached.lock().unwrap_or_else(|p| p.into_inner());
            // The territory has about a thousand nodes; a changed one replaces its entry.
            if cache.len() > 4_096 {
                cache.clear();
            }
            cache.insert(code.clone(), (revision, today, t.clone()));
            t
        }
    };
    let node = &territory.detail.node;
    let staff = if node.level() == Level::Grid {
        app.db()
            .accounts_with_grants()
            .await?
            .into_iter()
            .filter(|a| a.account.active)
            .flat_map(|a| {
                a.grants
                    .iter()
                    .filter(|g| match &g.scope {
                        // Those who work in the grid itself, its community or its street.
                        Scope::Territory(t) => t.level() >= Level::Street && g.scope.reaches(&node.code),
                        Scope::Department(_) | Scope::Organization(_) => false,
                    })
                    .map(|g| (a.account.display_name.clone(), g.role))
                    .collect::<Vec<_>>()
            })
            .collect()
    } else {
        vec![]
    };
    Ok(NodePage { territory, staff })
}

async fn node_territory(app: &App, code: &TerritoryCode) -> Result<NodeTerritory, AppError> {
    let db = app.db();
    let detail = node_detail(app, code).await?;
    let node = &detail.node;
    let mut crumbs = Vec::new();
    let mut up = node.parent_code();
    while let Some(parent) = up {
        if let Some(p) = db.node(&parent).await? {
            crumbs.push(p);
        }
        up = parent.parent();
    }
    crumbs.reverse();
    // A grid is drawn among the other grids of its community, which it stands out from.
    let is_grid = node.level() == Level::Grid;
    let grids = match node.parent_code().filter(|_| is_grid) {
        Some(community) => db.grids_within(&community).await?,
        None => db.grids_within(&node.code).await?,
    };
    let (summary, tree) = match node.level() {
        Level::City => (
            Some(db.summary().await?),
            Some([
                db.nodes_at_level(Level::District).await?,
                db.nodes_at_level(Level::Street).await?,
                db.nodes_at_level(Level::Community).await?,
            ]),
        ),
        _ => (None, None),
    };
    Ok(NodeTerritory {
        detail,
        crumbs,
        grids,
        summary,
        tree,
    })
}

/// What an import of grids did.
#[derive(Debug, Clone, Serialize)]
pub struct GridsImported {
    pub grids: usize,
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub valid_from: String,
}

/// The scopes where `actor` is a system administrator (who imports grids), or 403.
pub fn grid_importer_scopes(actor: &Actor) -> Result<Vec<&TerritoryCode>, AppError> {
    let scopes: Vec<&TerritoryCode> = actor
        .grants
        .iter()
        .filter(|g| g.role == Role::SystemAdmin)
        .filter_map(|g| match &g.scope {
            Scope::Territory(t) => Some(t),
            Scope::Department(_) | Scope::Organization(_) => None,
        })
        .collect();
    if scopes.is_empty() {
        Err(AppError::forbidden_role("系统管理员", "system administrator"))
    } else {
        Ok(scopes)
    }
}

/// Checks and imports a GeoJSON file of grids for `actor`: all or none (nothing is written unless
/// every grid is good and inside the actor's scope); a changed grid gets a new version valid from
/// `valid_from` (today by default), the old one kept; the grid index is rebuilt at once.
pub async fn import_grids(
    app: &App,
    actor: &Actor,
    file: &[u8],
    valid_from: Option<NaiveDate>,
) -> Result<GridsImported, AppError> {
    let scopes = grid_importer_scopes(actor)?;
    let valid_from = valid_from.unwrap_or_else(|| app.today());
    let text = std::str::from_utf8(file).map_err(|_| {
        AppError::new(
            ErrorCode::InvalidFile,
            Some("file"),
            "文件不是 UTF-8 编码的 GeoJSON",
            "the file is not GeoJSON in UTF-8",
        )
    })?;
    let grids = gongzhi_core::territory::geojson::parse_grids(text).map_err(|e| AppError::import(&e))?;
    if let Some(outside) = grids.iter().find(|g| {
        let code = TerritoryCode::Grid(g.code.clone());
        !scopes.iter().any(|s| code.as_str().starts_with(s.subtree_prefix()))
    }) {
        return Err(AppError::new(
            ErrorCode::OutsideScope,
            Some("code"),
            format!("网格 {} 不在您的管理范围内，未导入任何网格", outside.code),
            format!("grid {} is outside your scope; no grid was imported", outside.code),
        ));
    }
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let report = app.db().import_grids(&grids, valid_from, &key, &actor.account).await?;
    app.refresh_index().await?;
    Ok(GridsImported {
        grids: grids.len(),
        created: report.created,
        changed: report.changed,
        unchanged: report.unchanged,
        valid_from: valid_from.to_string(),
    })
}
