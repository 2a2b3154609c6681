//! Surveys (问卷): community staff create one for a community they serve, open and close it, and
//! read the results; residents of the community answer an open survey once. Every change is
//! audited.

use std::collections::HashMap;

use chrono::Utc;
use gongzhi_core::ErrorCode;
use gongzhi_core::cogov::survey::{Answer, QUESTIONS_MAX, Question, SurveyState, check_answers, parse_survey};
use gongzhi_core::people::Actor;

use super::{Place, invalid, not_a_publisher, places_served, serves, staff_only};
use crate::people::residents::Resident;
use crate::{App, AppError};

pub use gongzhi_store::cogov::surveys::Survey;

/// What the staff's page of surveys shows: the communities they may create one for, and the
/// surveys there.
pub struct StaffSurveys {
    pub communities: Vec<Place>,
    pub surveys: Vec<Survey>,
}

/// The surveys of the communities `actor` serves.
pub async fn staff_surveys(app: &App, actor: &Actor) -> Result<StaffSurveys, AppError> {
    staff_only(actor)?;
    let surveys = app
        .db()
        .surveys(None)
        .await?
        .into_iter()
        .filter(|s| serves(actor, &s.community_code))
        .collect();
    let communities = places_served(app, actor)
        .into_iter()
        .filter(|p| p.grid.is_none())
        .collect();
    Ok(StaffSurveys { communities, surveys })
}

/// A new survey: its community, title and questions as typed (one a line, choices after `|`).
pub struct CreateSurvey {
    pub community: String,
    pub title: String,
    pub questions: String,
}

/// Creates a survey, as a draft (audited).
pub async fn create(app: &App, actor: &Actor, cmd: CreateSurvey) -> Result<i64, AppError> {
    staff_only(actor)?;
    let community = cmd.community.trim();
    let known = app.index().communities().any(|l| l.community.code == community);
    if !known || !serves(actor, community) {
        return Err(invalid(
            "community",
            "社区 community 须为您所服务的社区",
            "community must be one you serve",
        ));
    }
    let (title, questions) = parse_survey(&cmd.title, &cmd.questions).map_err(AppError::draft)?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let id = app
        .db()
        .create_survey(community, &title, &questions, &actor.account, Utc::now(), &key)
        .await?;
    Ok(id)
}

/// A survey of a community `actor` serves, or 404 / 403.
async fn survey_of_staff(app: &App, actor: &Actor, id: i64) -> Result<Survey, AppError> {
    staff_only(actor)?;
    let survey = app.db().survey(id).await?.ok_or_else(AppError::not_found_path)?;
    if !serves(actor, &survey.community_code) {
        return Err(not_a_publisher());
    }
    Ok(survey)
}

/// The tally of one question.
pub struct Tally {
    pub number: usize,
    pub prompt: String,
    /// Each choice with its count (single-choice questions).
    pub counts: Vec<(String, usize)>,
    /// The non-empty answers typed (free-text questions).
    pub texts: Vec<String>,
    pub is_choice: bool,
}

fn tally(questions: &[Question], sheets: &[Vec<Answer>]) -> Vec<Tally> {
    questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let answers = sheets.iter().filter_map(|s| s.get(i));
            Tally {
                number: i + 1,
                prompt: q.prompt.clone(),
                counts: q
                    .choices
                    .iter()
                    .enumerate()
                    .map(|(c, label)| {
                        let n = sheets.iter().filter(|s| s.get(i) == Some(&Answer::Choice(c))).count();
                        (label.clone(), n)
                    })
                    .collect(),
                texts: answers
                    .filter_map(|a| match a {
                        Answer::Text(t) if !t.is_empty() => Some(t.clone()),
                        _ => None,
                    })
                    .collect(),
                is_choice: q.is_choice(),
            }
        })
        .collect()
}

/// A survey's results: how many answered, and each question's tally.
pub struct Results {
    pub survey: Survey,
    pub answered: usize,
    pub tallies: Vec<Tally>,
}

/// The results of a survey of a community `actor` serves.
pub async fn results(app: &App, actor: &Actor, id: i64) -> Result<Results, AppError> {
    let survey = survey_of_staff(app, actor, id).await?;
    let sheets = app.db().survey_answers(id).await?;
    Ok(Results {
        answered: sheets.len(),
        tallies: tally(&survey.questions, &sheets),
        survey,
    })
}

/// Opens (`open`) or closes (`closed`) a survey of a community `actor` serves (audited). `to` is
/// as the form gave it: its check comes after the survey's, so that a survey out of reach is
/// refused as such.
pub async fn set_state(app: &App, actor: &Actor, id: i64, to: &str) -> Result<SurveyState, AppError> {
    survey_of_staff(app, actor, id).await?;
    let to = match SurveyState::parse(to) {
        Some(s @ (SurveyState::Open | SurveyState::Closed)) => s,
        _ => {
            return Err(invalid(
                "to",
                "状态 to 须为 open 或 closed",
                "to must be open or closed",
            ));
        }
    };
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db()
        .set_survey_state(id, to, &actor.account, Utc::now(), &key)
        .await?;
    Ok(to)
}

/// The open and closed surveys of the resident's community: `None` until they pick one.
pub async fn surveys_of_my_community(app: &App, resident: &Resident) -> Result<Option<Vec<Survey>>, AppError> {
    let Some(community) = app.db().resident_community(resident.id).await? else {
        return Ok(None);
    };
    let surveys = app
        .db()
        .surveys(Some(&community))
        .await?
        .into_iter()
        .filter(|s| s.state != SurveyState::Draft)
        .collect();
    Ok(Some(surveys))
}

/// An open or closed survey of the resident's community, and whether they answered it; any other
/// is not found.
pub async fn resident_survey(app: &App, resident: &Resident, id: i64) -> Result<(Survey, bool), AppError> {
    let survey = survey_of_resident(app, resident, id).await?;
    let answered = app.db().has_answered(id, resident.id).await?;
    Ok((survey, answered))
}

async fn survey_of_resident(app: &App, resident: &Resident, id: i64) -> Result<Survey, AppError> {
    let community = app.db().resident_community(resident.id).await?;
    app.db()
        .survey(id)
        .await?
        .filter(|s| Some(&s.community_code) == community.as_ref() && s.state != SurveyState::Draft)
        .ok_or_else(|| AppError::new(ErrorCode::NotFound, None, "问卷不存在", "no such survey"))
}

fn answered_already() -> AppError {
    AppError::new(
        ErrorCode::Conflict,
        Some("survey"),
        "您已提交过本问卷，每人只能提交一次",
        "you have answered this survey already; each resident answers once",
    )
}

/// The form field of question `i` (`q0`, `q1` …), which an error about its answer names. (An
/// error's field is a `&'static str`, and a survey has at most [`QUESTIONS_MAX`] questions.)
fn question_field(i: usize) -> &'static str {
    const FIELDS: [&str; QUESTIONS_MAX] = [
        "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11", "q12", "q13", "q14", "q15", "q16",
        "q17", "q18", "q19", "q20", "q21", "q22", "q23", "q24", "q25", "q26", "q27", "q28", "q29",
    ];
    FIELDS.get(i).copied().unwrap_or("survey")
}

/// Records the resident's answers to an open survey of their community, once (audited). `given`
/// holds the form's fields, question `i`'s answer under `q{i}`. Refused: not their community's
/// (404); answered already or closed (409, field `survey`); a question unanswered or too long
/// (422, its field `q{i}`).
pub async fn answer(app: &App, resident: &Resident, id: i64, given: &HashMap<String, String>) -> Result<(), AppError> {
    let survey = survey_of_resident(app, resident, id).await?;
    if app.db().has_answered(id, resident.id).await? {
        return Err(answered_already());
    }
    if survey.state != SurveyState::Open {
        return Err(AppError::new(
            ErrorCode::Conflict,
            Some("survey"),
            "问卷已结束，不再接受提交",
            "the survey is closed",
        ));
    }
    let answers = check_answers(&survey.questions, |i| given.get(&format!("q{i}")).map(String::as_str))
        .map_err(|p| AppError::new(ErrorCode::InvalidField, Some(question_field(p.question)), p.zh, p.en))?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    if !app
        .db()
        .answer_survey(id, resident.id, &answers, Utc::now(), &key)
        .await?
    {
        return Err(answered_already());
    }
    Ok(())
}
