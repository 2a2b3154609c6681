//! Grid workers' patrols: start, points as they arrive (WGS-84), the length summed point to
//! point, and the end.

use chrono::{DateTime, Utc};

use crate::db::Db;
use crate::error::StoreError;

/// A patrol: `ended_at` is `None` while it is under way.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Patrol {
    pub id: i64,
    pub account: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub length_m: f64,
    pub point_count: i64,
}

/// A point of a patrol's track, WGS-84 degrees.
#[derive(Debug, Clone, Copy, PartialEq, sqlx::FromRow)]
pub struct PatrolPoint {
    pub lon: f64,
    pub lat: f64,
}

const COLUMNS: &str = "id, account, started_at, ended_at, length_m, point_count";

/// The great-circle distance in metres between two WGS-84 points (haversine, mean Earth radius).
pub fn distance_m(a: PatrolPoint, b: PatrolPoint) -> f64 {
    const R: f64 = 6_371_008.8;
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dla = la2 - la1;
    let dlo = (b.lon - a.lon).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

impl Db {
    /// The account's patrol under way, if any.
    pub async fn open_patrol(&self, account: &str) -> Result<Option<Patrol>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM patrols WHERE account = $1 AND ended_at IS NULL ORDER BY id DESC LIMIT 1");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(account).fetch_optional(p).await)?)
    }

    /// Starts a patrol for the account, or gives the one already under way.
    pub async fn start_patrol(&self, account: &str, now: DateTime<Utc>) -> Result<Patrol, StoreError> {
        if let Some(open) = self.open_patrol(account).await? {
            return Ok(open);
        }
        let sql = format!("INSERT INTO patrols (account, started_at) VALUES ($1, $2) RETURNING {COLUMNS}");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(account).bind(now).fetch_one(p).await)?)
    }

    pub async fn patrol(&self, id: i64) -> Result<Option<Patrol>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM patrols WHERE id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?)
    }

    /// The account's patrols, newest first.
    pub async fn patrols_of(&self, account: &str, limit: i64) -> Result<Vec<Patrol>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM patrols WHERE account = $1 ORDER BY id DESC LIMIT $2");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(account).bind(limit).fetch_all(p).await)?)
    }

    /// A patrol's track, in the order the points arrived.
    pub async fn patrol_points(&self, id: i64) -> Result<Vec<PatrolPoint>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT lon, lat FROM patrol_points WHERE patrol_id = $1 ORDER BY id")
            .bind(id).fetch_all(p).await)?)
    }

    /// Adds points to a patrol under way and lengthens it by the distance from the last point
    /// through each new one. Gives the patrol as it now is.
    pub async fn add_patrol_points(
        &self,
        id: i64,
        points: &[(PatrolPoint, Option<f64>, DateTime<Utc>)],
    ) -> Result<Patrol, StoreError> {
        let mut tx = self.begin().await?;
        let last: Option<PatrolPoint> = on_tx!(&mut tx, conn => sqlx::query_as(
            "SELECT lon, lat FROM patrol_points WHERE patrol_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(id).fetch_optional(conn).await)?;
        let mut prev = last;
        let mut added = 0.0;
        for (pt, accuracy, at) in points {
            if let Some(p) = prev {
                added += distance_m(p, *pt);
            }
            prev = Some(*pt);
            on_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO patrol_points (patrol_id, at, lon, lat, accuracy_m) VALUES ($1, $2, $3, $4, $5)")
                .bind(id).bind(*at).bind(pt.lon).bind(pt.lat).bind(*accuracy).execute(conn).await.map(|r| r.rows_affected()))?;
        }
        let count = i64::try_from(points.len()).unwrap_or(i64::MAX);
        on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE patrols SET length_m = length_m + $1, point_count = point_count + $2 WHERE id = $3")
            .bind(added).bind(count).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        self.patrol(id).await?.ok_or_else(|| StoreError::Corrupt {
            what: "patrol",
            detail: format!("patrol {id} vanished"),
        })
    }

    /// Ends a patrol under way (an ended one keeps its end).
    pub async fn stop_patrol(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("UPDATE patrols SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
            .bind(now).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thousandth_of_a_degree_of_latitude_is_about_111_metres() {
        let a = PatrolPoint { lon: 126.6, lat: 45.7 };
        let b = PatrolPoint {
            lon: 126.6,
            lat: 45.701,
        };
        assert!((distance_m(a, b) - 111.2).abs() < 0.5, "{}", distance_m(a, b));
        assert_eq!(distance_m(a, a), 0.0);
    }
}
