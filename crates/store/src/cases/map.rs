//! Cases on the map: the open cases of a filter as points, and their counts per grid (for
//! colouring grids by open-case density).

use super::CaseFilter;
use crate::db::Db;
use crate::error::StoreError;
use crate::sql::bind_args;

/// An open case with a point, as a dot on a map.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseDot {
    pub id: i64,
    pub case_no: String,
    pub matter: String,
    pub state: String,
    pub lon: f64,
    pub lat: f64,
}

impl Db {
    /// The newest `limit` cases matching `filter` that have a point.
    pub async fn case_dots(&self, filter: &CaseFilter, limit: i64) -> Result<Vec<CaseDot>, StoreError> {
        let now = chrono::Utc::now();
        let (clause, binds) = filter.clause(now, self.backend());
        let sql = format!(
            "SELECT id, case_no, matter, state, lon, lat FROM cases WHERE {clause} AND lon IS NOT NULL AND lat IS NOT NULL
             ORDER BY id DESC LIMIT {}",
            limit.clamp(1, 10_000)
        );
        Ok(
            on_pool!(self, p => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())), &binds).fetch_all(p).await)?,
        )
    }

    /// How many cases matching `filter` each grid holds (cases placed only at a community count
    /// for no grid).
    pub async fn case_counts_by_grid(&self, filter: &CaseFilter) -> Result<Vec<(String, i64)>, StoreError> {
        let now = chrono::Utc::now();
        let (clause, binds) = filter.clause(now, self.backend());
        let sql = format!(
            "SELECT grid_code, COUNT(*) FROM cases WHERE {clause} AND grid_code IS NOT NULL GROUP BY grid_code"
        );
        Ok(
            on_pool!(self, p => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())), &binds).fetch_all(p).await)?,
        )
    }
}
