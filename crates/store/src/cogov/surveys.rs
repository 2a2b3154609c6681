//! Surveys of a community: staff create, open and close them; each resident answers once. The
//! questions and each resident's answers are kept as JSON; every change is audited (an answer's
//! entry says who answered, not what).

use chrono::{DateTime, Utc};
use gongzhi_core::audit::AuditKey;
use gongzhi_core::cogov::survey::{Answer, Question, SurveyState};
use gongzhi_core::people::resident::resident_actor;
use serde_json::json;

use super::audit;
use crate::db::Db;
use crate::error::StoreError;

#[derive(Debug, Clone, sqlx::FromRow)]
struct SurveyRow {
    id: i64,
    community_code: String,
    title: String,
    questions: String,
    state: String,
    created_by: String,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Survey {
    pub id: i64,
    pub community_code: String,
    pub title: String,
    pub questions: Vec<Question>,
    pub state: SurveyState,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<SurveyRow> for Survey {
    type Error = StoreError;
    fn try_from(r: SurveyRow) -> Result<Survey, StoreError> {
        Ok(Survey {
            id: r.id,
            community_code: r.community_code,
            title: r.title,
            questions: serde_json::from_str(&r.questions).map_err(|e| StoreError::Corrupt {
                what: "survey",
                detail: format!("survey {}: {e}", r.id),
            })?,
            state: SurveyState::parse(&r.state).ok_or_else(|| StoreError::Corrupt {
                what: "survey",
                detail: format!("survey {} state {}", r.id, r.state),
            })?,
            created_by: r.created_by,
            created_at: r.created_at,
        })
    }
}

const SURVEY_COLUMNS: &str = "id, community_code, title, questions, state, created_by, created_at";

impl Db {
    /// Creates a survey as a draft, audited.
    pub async fn create_survey(
        &self,
        community_code: &str,
        title: &str,
        questions: &[Question],
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<i64, StoreError> {
        let text = serde_json::to_string(questions).map_err(|e| StoreError::Corrupt {
            what: "survey",
            detail: e.to_string(),
        })?;
        let mut tx = self.begin().await?;
        let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "INSERT INTO cogov_surveys (community_code, title, questions, state, created_by, created_at)
             VALUES ($1, $2, $3, 'draft', $4, $5) RETURNING id")
            .bind(community_code).bind(title).bind(&text).bind(by).bind(now).fetch_one(conn).await)?;
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.survey.create",
            "survey",
            &id.to_string(),
            json!({"community": community_code, "title": title, "questions": questions.len()}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Opens or closes a survey, audited. Returns whether the state changed.
    pub async fn set_survey_state(
        &self,
        id: i64,
        to: SurveyState,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, conn => sqlx::query("UPDATE cogov_surveys SET state = $1 WHERE id = $2 AND state <> $1")
            .bind(to.as_str()).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Ok(false);
        }
        let action = format!(
            "cogov.survey.{}",
            if to == SurveyState::Open { "open" } else { "close" }
        );
        audit(
            &mut tx,
            key,
            now,
            by,
            &action,
            "survey",
            &id.to_string(),
            json!({"state": to.as_str()}),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn survey(&self, id: i64) -> Result<Option<Survey>, StoreError> {
        let sql = format!("SELECT {SURVEY_COLUMNS} FROM cogov_surveys WHERE id = $1");
        let row: Option<SurveyRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(p).await)?;
        row.map(Survey::try_from).transpose()
    }

    /// The surveys of a community (or of every community when `None`), newest first.
    pub async fn surveys(&self, community_code: Option<&str>) -> Result<Vec<Survey>, StoreError> {
        let sql = format!(
            "SELECT {SURVEY_COLUMNS} FROM cogov_surveys WHERE ($1 IS NULL OR community_code = $1) ORDER BY id DESC LIMIT 500"
        );
        let rows: Vec<SurveyRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(community_code).fetch_all(p).await)?;
        rows.into_iter().map(Survey::try_from).collect()
    }

    /// Keeps a resident's answers, once: `false` when they had answered already.
    pub async fn answer_survey(
        &self,
        survey_id: i64,
        resident_id: i64,
        answers: &[Answer],
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<bool, StoreError> {
        let text = serde_json::to_string(answers).map_err(|e| StoreError::Corrupt {
            what: "survey",
            detail: e.to_string(),
        })?;
        let mut tx = self.begin().await?;
        let added = on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO cogov_survey_answers (survey_id, resident_id, answers, answered_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (survey_id, resident_id) DO NOTHING")
            .bind(survey_id).bind(resident_id).bind(&text).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
        if added == 0 {
            return Ok(false);
        }
        let actor = resident_actor(resident_id);
        audit(
            &mut tx,
            key,
            now,
            &actor,
            "cogov.survey.answer",
            "survey",
            &survey_id.to_string(),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn has_answered(&self, survey_id: i64, resident_id: i64) -> Result<bool, StoreError> {
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM cogov_survey_answers WHERE survey_id = $1 AND resident_id = $2")
            .bind(survey_id).bind(resident_id).fetch_one(p).await)?;
        Ok(n > 0)
    }

    /// Every answer sheet of a survey, oldest first.
    pub async fn survey_answers(&self, survey_id: i64) -> Result<Vec<Vec<Answer>>, StoreError> {
        let rows: Vec<String> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT answers FROM cogov_survey_answers WHERE survey_id = $1 ORDER BY answered_at, resident_id")
            .bind(survey_id).fetch_all(p).await)?;
        rows.iter()
            .map(|r| {
                serde_json::from_str(r).map_err(|e| StoreError::Corrupt {
                    what: "survey",
                    detail: format!("survey {survey_id} answers: {e}"),
                })
            })
            .collect()
    }
}
