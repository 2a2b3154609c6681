//! Surveys (问卷): staff create one for a community, open and close it, and read the results;
//! residents of the community answer an open survey once.

use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use gongzhi_core::cogov::survey::{Answer, Question, SurveyState, check_answers, parse_survey};
use gongzhi_store::cogov::surveys::Survey;
use serde::Deserialize;

use super::notices::{Place, may_publish, not_a_publisher, page, places};
use crate::pages::{Chrome, local_time};
use crate::people::session::Staff;
use crate::resident::ResidentUser;
use crate::resident::pages::MChrome;
use crate::{ApiError, AppState};

pub struct SurveyRow {
    pub id: i64,
    pub title: String,
    pub community: String,
    pub state: &'static str,
    pub is_open: bool,
    pub created_at: String,
}

fn survey_row(state: &AppState, s: &Survey, lang: gongzhi_core::Lang) -> SurveyRow {
    let community = state
        .index()
        .communities()
        .find(|l| l.community.code == s.community_code)
        .map_or_else(|| s.community_code.clone(), |l| l.community.name.clone());
    SurveyRow {
        id: s.id,
        title: s.title.clone(),
        community,
        state: s.state.label(lang),
        is_open: s.state == SurveyState::Open,
        created_at: local_time(s.created_at),
    }
}

#[derive(Template)]
#[template(path = "cogov/surveys.html")]
struct StaffSurveys {
    c: Chrome,
    communities: Vec<Place>,
    rows: Vec<SurveyRow>,
    error: Option<String>,
    error_field: String,
    form: SurveyForm,
}

#[derive(Deserialize, Default, Clone)]
pub struct SurveyForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub community: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub questions: String,
}

fn staff_only(staff: &Staff) -> Result<(), ApiError> {
    if super::notices::PUBLISHERS.iter().any(|r| staff.actor.has_role(*r)) {
        Ok(())
    } else {
        Err(not_a_publisher())
    }
}

async fn staff_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    error: Option<ApiError>,
    form: SurveyForm,
) -> Result<Response, ApiError> {
    let communities = places(&state.index())
        .into_iter()
        .filter(|p| p.grid.is_none() && may_publish(staff, &p.community))
        .collect();
    let rows = state
        .db()
        .surveys(None)
        .await?
        .iter()
        .filter(|s| may_publish(staff, &s.community_code))
        .map(|s| survey_row(state, s, staff.lang))
        .collect();
    page(
        StaffSurveys {
            c: Chrome::for_staff(staff, "/cogov/surveys"),
            communities,
            rows,
            error: error.as_ref().map(|e| e.message(staff.lang).to_string()),
            error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
            form,
        },
        status,
    )
}

/// `GET /cogov/surveys`: the surveys of the communities in reach, and a form for a new one.
pub async fn staff_list(State(state): State<AppState>, staff: Staff) -> Result<Response, ApiError> {
    staff_only(&staff)?;
    staff_page(&state, &staff, StatusCode::OK, None, SurveyForm::default()).await
}

fn invalid(field: &'static str, zh: String, en: String) -> ApiError {
    AppError::new(ErrorCode::InvalidField, Some(field), zh, en)
}

/// `POST /cogov/surveys`: a new survey, as a draft.
pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<SurveyForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    staff_only(&staff)?;
    let community = form.community.trim();
    let known = state.index().communities().any(|l| l.community.code == community);
    let checked = if !known || !may_publish(&staff, community) {
        Err(invalid(
            "community",
            "社区 community 须为您所服务的社区".into(),
            "community must be one you serve".into(),
        ))
    } else {
        parse_survey(&form.title, &form.questions).map_err(|e| invalid(e.field, e.zh, e.en))
    };
    let (title, questions) = match checked {
        Ok(ok) => ok,
        Err(e) => return staff_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(e), form).await,
    };
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let id = state
        .db()
        .create_survey(community, &title, &questions, &staff.actor.account, Utc::now(), &key)
        .await?;
    Ok(Redirect::to(&format!("/cogov/surveys/{id}")).into_response())
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

#[derive(Template)]
#[template(path = "cogov/survey.html")]
struct StaffSurvey {
    c: Chrome,
    s: SurveyRow,
    draft: bool,
    answered: usize,
    tallies: Vec<Tally>,
}

async fn survey_of_staff(state: &AppState, staff: &Staff, id: i64) -> Result<Survey, ApiError> {
    staff_only(staff)?;
    let survey = state.db().survey(id).await?.ok_or_else(AppError::not_found_path)?;
    if !may_publish(staff, &survey.community_code) {
        return Err(not_a_publisher());
    }
    Ok(survey)
}

/// `GET /cogov/surveys/{id}`: the results — counts per choice, the free-text answers.
pub async fn results(State(state): State<AppState>, staff: Staff, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let survey = survey_of_staff(&state, &staff, id).await?;
    let sheets = state.db().survey_answers(id).await?;
    page(
        StaffSurvey {
            c: Chrome::for_staff(&staff, "/cogov/surveys"),
            s: survey_row(&state, &survey, staff.lang),
            draft: survey.state == SurveyState::Draft,
            answered: sheets.len(),
            tallies: tally(&survey.questions, &sheets),
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct StateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    to: String,
}

/// `POST /cogov/surveys/{id}/state`: opens (`to=open`) or closes (`to=closed`) a survey.
pub async fn set_state(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<StateForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    survey_of_staff(&state, &staff, id).await?;
    let to = match SurveyState::parse(&form.to) {
        Some(s @ (SurveyState::Open | SurveyState::Closed)) => s,
        _ => {
            return Err(invalid(
                "to",
                "状态 to 须为 open 或 closed".into(),
                "to must be open or closed".into(),
            ));
        }
    };
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    state
        .db()
        .set_survey_state(id, to, &staff.actor.account, Utc::now(), &key)
        .await?;
    Ok(Redirect::to(&format!("/cogov/surveys/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "cogov/m_surveys.html")]
struct ResidentSurveys {
    c: MChrome,
    rows: Vec<SurveyRow>,
}

/// `GET /m/surveys`: the open and closed surveys of my community.
pub async fn resident_list(State(state): State<AppState>, r: ResidentUser) -> Result<Response, ApiError> {
    let Some(community) = state.db().resident_community(r.resident.id).await? else {
        return Ok(Redirect::to("/m/community").into_response());
    };
    let rows = state
        .db()
        .surveys(Some(&community))
        .await?
        .iter()
        .filter(|s| s.state != SurveyState::Draft)
        .map(|s| survey_row(&state, s, r.lang))
        .collect();
    page(
        ResidentSurveys {
            c: MChrome::of(&r, "/m/surveys"),
            rows,
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "cogov/m_survey.html")]
struct ResidentSurvey {
    c: MChrome,
    s: SurveyRow,
    questions: Vec<Question>,
    answered: bool,
    given: HashMap<String, String>,
    error: Option<String>,
    error_field: String,
}

impl ResidentSurvey {
    fn given(&self, i: &usize) -> &str {
        self.given.get(&format!("q{i}")).map_or("", String::as_str)
    }
    fn chosen(&self, i: &usize, c: &usize) -> bool {
        self.given(i) == c.to_string()
    }
}

async fn survey_of_resident(state: &AppState, r: &ResidentUser, id: i64) -> Result<Survey, ApiError> {
    let community = state.db().resident_community(r.resident.id).await?;
    state
        .db()
        .survey(id)
        .await?
        .filter(|s| Some(&s.community_code) == community.as_ref() && s.state != SurveyState::Draft)
        .ok_or_else(|| AppError::new(ErrorCode::NotFound, None, "问卷不存在", "no such survey"))
}

fn resident_page(
    state: &AppState,
    r: &ResidentUser,
    survey: &Survey,
    answered: bool,
    given: HashMap<String, String>,
    error: Option<(String, String)>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let (error_field, error) = match error {
        Some((f, m)) => (f, Some(m)),
        None => (String::new(), None),
    };
    page(
        ResidentSurvey {
            c: MChrome::of(r, "/m/surveys"),
            s: survey_row(state, survey, r.lang),
            questions: survey.questions.clone(),
            answered,
            given,
            error,
            error_field,
        },
        status,
    )
}

/// `GET /m/surveys/{id}`
pub async fn resident_survey(
    State(state): State<AppState>,
    r: ResidentUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let survey = survey_of_resident(&state, &r, id).await?;
    let answered = state.db().has_answered(id, r.resident.id).await?;
    resident_page(&state, &r, &survey, answered, HashMap::new(), None, StatusCode::OK)
}

/// `POST /m/surveys/{id}`: my answers, once.
pub async fn answer(
    State(state): State<AppState>,
    r: ResidentUser,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    r.check_csrf(form.get("csrf").map_or("", String::as_str))?;
    let survey = survey_of_resident(&state, &r, id).await?;
    let lang = r.lang;
    if state.db().has_answered(id, r.resident.id).await? {
        let e = lang.pick(
            "您已提交过本问卷，每人只能提交一次",
            "you have answered this survey already; each resident answers once",
        );
        return resident_page(
            &state,
            &r,
            &survey,
            true,
            HashMap::new(),
            Some(("survey".into(), e.into())),
            StatusCode::CONFLICT,
        );
    }
    if survey.state != SurveyState::Open {
        let e = lang.pick("问卷已结束，不再接受提交", "the survey is closed");
        return resident_page(
            &state,
            &r,
            &survey,
            false,
            form,
            Some(("survey".into(), e.into())),
            StatusCode::CONFLICT,
        );
    }
    let answers = match check_answers(&survey.questions, |i| form.get(&format!("q{i}")).map(String::as_str)) {
        Ok(a) => a,
        Err(p) => {
            let message = lang.pick(&p.zh, &p.en).to_string();
            return resident_page(
                &state,
                &r,
                &survey,
                false,
                form.clone(),
                Some((format!("q{}", p.question), message)),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    if !state
        .db()
        .answer_survey(id, r.resident.id, &answers, Utc::now(), &key)
        .await?
    {
        let e = lang.pick(
            "您已提交过本问卷，每人只能提交一次",
            "you have answered this survey already; each resident answers once",
        );
        return resident_page(
            &state,
            &r,
            &survey,
            true,
            HashMap::new(),
            Some(("survey".into(), e.into())),
            StatusCode::CONFLICT,
        );
    }
    Ok(Redirect::to(&format!("/m/surveys/{id}?done=answered")).into_response())
}
