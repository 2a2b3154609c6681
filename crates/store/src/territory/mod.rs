//! The territory tree: nodes, versions, grids and the revision counter.

pub mod places;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use gongzhi_core::audit::{AuditKey, NewAuditEntry};
use gongzhi_core::territory::geojson::{GridFeature, ImportError, ImportProblem, geometry_of, multipolygon_from};
use gongzhi_core::territory::{Kind, Level, Node, TerritoryCode};
use serde::Serialize;

use crate::db::{Db, Tx};
use crate::error::StoreError;

#[derive(sqlx::FromRow)]
struct NodeRow {
    code: String,
    name: String,
    kind: String,
    households: Option<i64>,
    boundary: Option<String>,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
}

const NODE_COLUMNS: &str = "code, name, kind, households, boundary, valid_from, valid_to";

/// The query of [`Db::node_names`] and its values.
pub(crate) fn node_names_query(codes: &[&str]) -> (String, Vec<crate::sql::Arg>) {
    let placeholders: Vec<String> = (1..=codes.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT code, name FROM territory_nodes WHERE code IN ({}) AND valid_to IS NULL",
        placeholders.join(", ")
    );
    let args = codes
        .iter()
        .map(|c| crate::sql::Arg::Text(Some((*c).to_string())))
        .collect();
    (sql, args)
}

fn corrupt(what: &'static str, detail: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: detail.to_string(),
    }
}

impl TryFrom<NodeRow> for Node {
    type Error = StoreError;
    fn try_from(r: NodeRow) -> Result<Node, StoreError> {
        let boundary = match r.boundary {
            None => None,
            Some(text) => {
                let geometry: geojson::Geometry = text.parse().map_err(|e| corrupt("boundary", e))?;
                Some(multipolygon_from(Some(&geometry)).map_err(|e| corrupt("boundary", e))?)
            }
        };
        Ok(Node {
            code: TerritoryCode::parse(&r.code).map_err(|e| corrupt("code", e))?,
            name: r.name,
            kind: r.kind.parse::<Kind>().map_err(|e| corrupt("kind", e))?,
            households: r.households,
            boundary,
            valid_from: r.valid_from,
            valid_to: r.valid_to,
        })
    }
}

fn into_nodes(rows: Vec<NodeRow>) -> Result<Vec<Node>, StoreError> {
    rows.into_iter().map(Node::try_from).collect()
}

/// Counts of the current tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Current nodes by kind (`district`, `county`, `subdistrict`, `town`, … `grid`).
    pub by_kind: BTreeMap<String, i64>,
    /// Households counted in grids.
    pub households: i64,
    /// Communities and villages that have at least one grid: the grid system's communities.
    pub gridded_communities: i64,
}

impl Summary {
    pub fn count_level(&self, level: Level) -> i64 {
        Kind::ALL
            .iter()
            .filter(|k| k.level() == level)
            .map(|k| self.by_kind.get(k.as_str()).copied().unwrap_or(0))
            .sum()
    }
}

/// Grids and households in a subtree, and per child (keyed by the child's code prefix).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubtreeTotals {
    pub grids: i64,
    pub households: i64,
    by_child_prefix: BTreeMap<String, (i64, i64)>,
}

impl SubtreeTotals {
    /// (grids, households) under a child of the node.
    pub fn of_child(&self, child: &TerritoryCode) -> (i64, i64) {
        let prefix = child.subtree_prefix();
        self.by_child_prefix
            .iter()
            .filter(|(p, _)| p.starts_with(prefix))
            .fold((0, 0), |acc, (_, (g, h))| (acc.0 + g, acc.1 + h))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
}

async fn insert_node(tx: &mut Tx, node: &Node, recorded_at: DateTime<Utc>) -> Result<(), StoreError> {
    node.validate().map_err(|source| StoreError::InvalidNode {
        code: node.code.to_string(),
        source,
    })?;
    let boundary = node.boundary.as_ref().map(|b| geometry_of(b).to_string());
    let parent = node.parent_code().map(|c| c.to_string());
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO territory_nodes (code, name, level, kind, parent_code, households, boundary, valid_from, valid_to, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(node.code.as_str())
        .bind(&node.name)
        .bind(node.level().as_str())
        .bind(node.kind.as_str())
        .bind(parent)
        .bind(node.households)
        .bind(boundary)
        .bind(node.valid_from)
        .bind(node.valid_to)
        .bind(recorded_at)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

async fn bump_revision(tx: &mut Tx) -> Result<(), StoreError> {
    on_tx!(tx, conn => sqlx::query("UPDATE territory_revision SET revision = revision + 1 WHERE id = 1").execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

impl Db {
    pub async fn territory_is_empty(&self) -> Result<bool, StoreError> {
        let n: i64 =
            on_pool!(self, p => sqlx::query_scalar("SELECT COUNT(*) FROM territory_nodes").fetch_one(p).await)?;
        Ok(n == 0)
    }

    /// Adds nodes (parents before children) in one transaction, with one audit entry
    /// (`territory.nodes.insert`, listing the codes) by `actor`.
    pub async fn insert_nodes(
        &self,
        nodes: &[Node],
        recorded_at: DateTime<Utc>,
        key: &AuditKey,
        actor: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        // The audit entry goes first: it takes the write lock before anything is read.
        let codes: Vec<&str> = nodes.iter().map(|n| n.code.as_str()).collect();
        let entry = NewAuditEntry::new(
            recorded_at,
            actor,
            "territory.nodes.insert",
            "territory",
            common_root(&codes),
            serde_json::json!({ "count": nodes.len(), "codes": codes }),
        )?;
        crate::audit::append(&mut tx, key, entry).await?;
        for node in nodes {
            insert_node(&mut tx, node, recorded_at).await?;
        }
        if nodes.iter().any(|n| n.kind == Kind::Grid) {
            bump_revision(&mut tx).await?;
        }
        tx.commit().await
    }

    /// The current version of a node.
    pub async fn node(&self, code: &TerritoryCode) -> Result<Option<Node>, StoreError> {
        let sql = format!("SELECT {NODE_COLUMNS} FROM territory_nodes WHERE code = $1 AND valid_to IS NULL");
        let row: Option<NodeRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(code.as_str()).fetch_optional(p).await)?;
        row.map(Node::try_from).transpose()
    }

    /// The names of the current nodes of these codes, by code, in one query and without their
    /// boundaries (a case page names its units and places; a street's boundary is large to read
    /// for its name); codes no longer in the territory are left out.
    pub async fn node_names(&self, codes: &[&str]) -> Result<std::collections::HashMap<String, String>, StoreError> {
        if codes.is_empty() {
            return Ok(Default::default());
        }
        let (sql, args) = node_names_query(codes);
        let rows: Vec<(String, String)> = on_pool!(self, p => crate::sql::bind_args!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)), &args).fetch_all(p).await)?;
        Ok(rows.into_iter().collect())
    }

    /// Nodes matching `condition` (SQL with one `$1` parameter, bound to `value`), in `order`.
    async fn nodes_where(&self, condition: &str, value: &str, order: &str) -> Result<Vec<Node>, StoreError> {
        let sql = format!("SELECT {NODE_COLUMNS} FROM territory_nodes WHERE {condition} ORDER BY {order}");
        let rows: Vec<NodeRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(value).fetch_all(p).await)?;
        into_nodes(rows)
    }

    /// Every version of a node, oldest first.
    pub async fn node_history(&self, code: &TerritoryCode) -> Result<Vec<Node>, StoreError> {
        self.nodes_where("code = $1", code.as_str(), "id").await
    }

    /// The current children of a node, by code.
    pub async fn children(&self, code: &TerritoryCode) -> Result<Vec<Node>, StoreError> {
        self.nodes_where("parent_code = $1 AND valid_to IS NULL", code.as_str(), "code")
            .await
    }

    /// The current nodes of one level, by code.
    pub async fn nodes_at_level(&self, level: Level) -> Result<Vec<Node>, StoreError> {
        self.nodes_where("level = $1 AND valid_to IS NULL", level.as_str(), "code")
            .await
    }

    /// The codes of the current nodes at `level`, without their boundaries (the city's alone is
    /// hundreds of kilobytes of GeoJSON to parse).
    pub async fn codes_at_level(&self, level: Level) -> Result<Vec<TerritoryCode>, StoreError> {
        let codes: Vec<String> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT code FROM territory_nodes WHERE level = $1 AND valid_to IS NULL ORDER BY code")
            .bind(level.as_str()).fetch_all(p).await)?;
        codes
            .into_iter()
            .map(|c| TerritoryCode::parse(&c).map_err(|e| corrupt("code", e)))
            .collect()
    }

    /// The current grids in a node's subtree (a grid code gives that grid alone).
    pub async fn grids_within(&self, code: &TerritoryCode) -> Result<Vec<Node>, StoreError> {
        let pattern = format!("{}%", code.subtree_prefix());
        self.nodes_where("level = 'grid' AND valid_to IS NULL AND code LIKE $1", &pattern, "code")
            .await
    }

    /// Grids and households under a node, and under each of its children.
    pub async fn subtree_totals(&self, code: &TerritoryCode) -> Result<SubtreeTotals, StoreError> {
        let pattern = format!("{}%", code.subtree_prefix());
        let (grids, households): (i64, i64) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(households), 0) AS BIGINT)
             FROM territory_nodes WHERE level = 'grid' AND valid_to IS NULL AND code LIKE $1")
            .bind(&pattern).fetch_one(p).await)?;
        let child_prefix: i32 = match code.level() {
            Level::City => 6,
            Level::District => 9,
            Level::Street => 12,
            Level::Community | Level::Grid => 15,
        };
        let rows: Vec<(String, i64, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT SUBSTR(code, 1, $2), COUNT(*), CAST(COALESCE(SUM(households), 0) AS BIGINT)
             FROM territory_nodes WHERE level = 'grid' AND valid_to IS NULL AND code LIKE $1
             GROUP BY SUBSTR(code, 1, $2)")
            .bind(&pattern).bind(child_prefix).fetch_all(p).await)?;
        let by_child = rows.into_iter().map(|(prefix, g, h)| (prefix, (g, h))).collect();
        Ok(SubtreeTotals {
            grids,
            households,
            by_child_prefix: by_child,
        })
    }

    pub async fn summary(&self) -> Result<Summary, StoreError> {
        let rows: Vec<(String, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT kind, COUNT(*) FROM territory_nodes WHERE valid_to IS NULL GROUP BY kind").fetch_all(p).await)?;
        let (households, gridded_communities): (i64, i64) = on_pool!(self, p => sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(households), 0) AS BIGINT), COUNT(DISTINCT parent_code)
             FROM territory_nodes WHERE level = 'grid' AND valid_to IS NULL").fetch_one(p).await)?;
        Ok(Summary {
            by_kind: rows.into_iter().collect(),
            households,
            gridded_communities,
        })
    }

    /// Grows by one in the same transaction as every change to grids.
    pub async fn territory_revision(&self) -> Result<i64, StoreError> {
        Ok(
            on_pool!(self, p => sqlx::query_scalar("SELECT revision FROM territory_revision WHERE id = 1").fetch_one(p).await)?,
        )
    }

    /// Imports grids in one transaction: new grids are added, changed ones get a new version
    /// (the old one is closed on `on`), identical ones are left alone. If any grid's community
    /// is unknown, nothing is written and the error names the feature. A change is recorded
    /// as one audit entry (`territory.grid.import`, listing created and changed codes) by
    /// `actor`; an import that changes nothing records nothing.
    pub async fn import_grids(
        &self,
        grids: &[GridFeature],
        on: NaiveDate,
        key: &AuditKey,
        actor: &str,
    ) -> Result<ImportReport, StoreError> {
        let now = Utc::now();
        let mut report = ImportReport::default();
        let (mut created, mut changed) = (Vec::new(), Vec::new());
        let mut tx = self.begin().await?;
        for (i, grid) in grids.iter().enumerate() {
            let community = grid.code.community();
            let known: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
                "SELECT id FROM territory_nodes WHERE code = $1 AND level = 'community' AND valid_to IS NULL")
                .bind(community.as_str()).fetch_optional(conn).await)?;
            if known.is_none() {
                return Err(ImportError {
                    feature: Some(i),
                    problem: ImportProblem::UnknownCommunity(community.to_string()),
                }
                .into());
            }
            let boundary = geometry_of(&grid.boundary).to_string();
            let current: Option<(i64, String, Option<i64>, Option<String>)> = on_tx!(&mut tx, conn => sqlx::query_as(
                "SELECT id, name, households, boundary FROM territory_nodes WHERE code = $1 AND valid_to IS NULL")
                .bind(grid.code.as_str()).fetch_optional(conn).await)?;
            match current {
                Some((_, name, households, stored))
                    if name == grid.name
                        && households == Some(grid.households)
                        && stored.as_deref() == Some(&boundary) =>
                {
                    report.unchanged += 1;
                    continue;
                }
                Some((id, ..)) => {
                    on_tx!(&mut tx, conn => sqlx::query("UPDATE territory_nodes SET valid_to = $1 WHERE id = $2")
                        .bind(on).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
                    report.changed += 1;
                    changed.push(grid.code.as_str());
                }
                None => {
                    report.created += 1;
                    created.push(grid.code.as_str());
                }
            }
            let node = Node {
                code: TerritoryCode::Grid(grid.code.clone()),
                name: grid.name.clone(),
                kind: Kind::Grid,
                households: Some(grid.households),
                boundary: Some(grid.boundary.clone()),
                valid_from: on,
                valid_to: None,
            };
            insert_node(&mut tx, &node, now).await?;
        }
        if report.created + report.changed > 0 {
            bump_revision(&mut tx).await?;
            let all: Vec<&str> = created.iter().chain(&changed).copied().collect();
            let entry = NewAuditEntry::new(
                now,
                actor,
                "territory.grid.import",
                "territory",
                common_root(&all),
                serde_json::json!({
                    "valid_from": on,
                    "created": created,
                    "changed": changed,
                    "unchanged": report.unchanged,
                }),
            )?;
            crate::audit::append(&mut tx, key, entry).await?;
        }
        tx.commit().await?;
        Ok(report)
    }
}

/// The longest code prefix shared by all `codes`, padded with zeros to a division code (the
/// smallest node holding them all), or the code itself when there is one.
fn common_root(codes: &[&str]) -> String {
    match codes {
        [] => String::new(),
        [one] => one.to_string(),
        [first, rest @ ..] => {
            let shared = rest.iter().fold(first.len(), |n, c| {
                first.bytes().zip(c.bytes()).take(n).take_while(|(a, b)| a == b).count()
            });
            // Division codes are cut at a level boundary: 2, 4, 6, 9 or 12 digits.
            let cut = [12, 9, 6, 4, 2, 0].into_iter().find(|&b| b <= shared).unwrap_or(0);
            format!("{:0<12}", &first[..cut])
        }
    }
}
