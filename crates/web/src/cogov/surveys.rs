//! Surveys (问卷): staff create one for a community, open and close it, and read the results;
//! residents of the community answer an open survey once.

use std::collections::HashMap;

use crate::json::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use gongzhi_app::cogov::surveys::{self, CreateSurvey, Survey, Tally};
use gongzhi_app::cogov::{Place, community_name};
use gongzhi_core::ErrorCode;
use gongzhi_core::cogov::survey::{Question, SurveyState};
use serde::Deserialize;

use super::notices::page;
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
    SurveyRow {
        id: s.id,
        title: s.title.clone(),
        community: community_name(&state.index(), &s.community_code),
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

async fn staff_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    error: Option<ApiError>,
    form: SurveyForm,
) -> Result<Response, ApiError> {
    let view = surveys::staff_surveys(state, &staff.actor).await?;
    page(
        StaffSurveys {
            c: Chrome::for_staff(staff, "/cogov/surveys"),
            communities: view.communities,
            rows: view.surveys.iter().map(|s| survey_row(state, s, staff.lang)).collect(),
            error: error.as_ref().map(|e| e.message(staff.lang).to_string()),
            error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
            form,
        },
        status,
    )
}

/// `GET /cogov/surveys`: the surveys of the communities in reach, and a form for a new one.
pub async fn staff_list(State(state): State<AppState>, staff: Staff) -> Result<Response, ApiError> {
    staff_page(&state, &staff, StatusCode::OK, None, SurveyForm::default()).await
}

/// `POST /cogov/surveys`: a new survey, as a draft.
pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<SurveyForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    let cmd = CreateSurvey {
        community: form.community.clone(),
        title: form.title.clone(),
        questions: form.questions.clone(),
    };
    match surveys::create(&state, &staff.actor, cmd).await {
        Ok(id) => Ok(Redirect::to(&format!("/cogov/surveys/{id}")).into_response()),
        // A refused field: the form comes back as typed.
        Err(e) if e.field.is_some() => staff_page(&state, &staff, e.http_status(), Some(e), form).await,
        Err(e) => Err(e),
    }
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

/// `GET /cogov/surveys/{id}`: the results — counts per choice, the free-text answers.
pub async fn results(State(state): State<AppState>, staff: Staff, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let results = surveys::results(&state, &staff.actor, id).await?;
    page(
        StaffSurvey {
            c: Chrome::for_staff(&staff, "/cogov/surveys"),
            s: survey_row(&state, &results.survey, staff.lang),
            draft: results.survey.state == SurveyState::Draft,
            answered: results.answered,
            tallies: results.tallies,
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
    surveys::set_state(&state, &staff.actor, id, &form.to).await?;
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
    let Some(mine) = surveys::surveys_of_my_community(&state, &r.resident).await? else {
        return Ok(Redirect::to("/m/community").into_response());
    };
    page(
        ResidentSurveys {
            c: MChrome::of(&r, "/m/surveys"),
            rows: mine.iter().map(|s| survey_row(&state, s, r.lang)).collect(),
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

fn resident_page(
    state: &AppState,
    r: &ResidentUser,
    survey: &Survey,
    answered: bool,
    given: HashMap<String, String>,
    error: Option<ApiError>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    page(
        ResidentSurvey {
            c: MChrome::of(r, "/m/surveys"),
            s: survey_row(state, survey, r.lang),
            questions: survey.questions.clone(),
            answered,
            given,
            error: error.as_ref().map(|e| e.message(r.lang).to_string()),
            error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
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
    let (survey, answered) = surveys::resident_survey(&state, &r.resident, id).await?;
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
    match surveys::answer(&state, &r.resident, id, &form).await {
        Ok(()) => Ok(Redirect::to(&format!("/m/surveys/{id}?done=answered")).into_response()),
        // Refused on a survey of mine: the page again, with my answers unless I answered already.
        Err(e) if e.is_client_error() && e.code != ErrorCode::NotFound => {
            let status = e.http_status();
            let (survey, answered) = surveys::resident_survey(&state, &r.resident, id).await?;
            let given = if answered { HashMap::new() } else { form };
            resident_page(&state, &r, &survey, answered, given, Some(e), status)
        }
        Err(e) => Err(e),
    }
}
