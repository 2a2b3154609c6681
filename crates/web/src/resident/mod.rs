//! The residents' phone pages under `/m/` (掌上社区): sign-in by phone with a one-time code, report
//! a problem with a photo and the place, follow one's own reports and, "me too", the public cases
//! near them. Residents have their own
//! sessions (cookie `gz_resident`), apart from staff sessions, and act in the case loop as
//! `resident:ID`: their phone number is never stored in clear, never a reporter, never shown but
//! masked.

pub mod nearby;
pub mod pages;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gongzhi_app::AppError;
use gongzhi_app::people::residents::{self, Resident};
use gongzhi_core::ErrorCode;
use gongzhi_core::Lang;
use gongzhi_core::people::Actor;

use crate::people::session::{cookie, same_secret};
use crate::{ApiError, AppState};

pub const RESIDENT_COOKIE: &str = "gz_resident";

/// A resident signed in to the phone pages.
#[derive(Debug, Clone)]
pub struct ResidentUser {
    pub resident: Resident,
    pub csrf: String,
    pub lang: Lang,
    pub session_hash: String,
}

impl ResidentUser {
    /// The resident as an actor of the case loop: `resident:ID`, no staff grants.
    pub fn actor(&self) -> Actor {
        Actor {
            account: self.resident.actor(),
            grants: vec![],
        }
    }

    pub fn check_csrf(&self, token: &str) -> Result<(), ApiError> {
        if same_secret(token, &self.csrf) {
            Ok(())
        } else {
            Err(AppError::new(
                ErrorCode::CsrfMismatch,
                Some("csrf"),
                "表单已失效（CSRF 校验失败），请刷新页面后重试",
                "the form has expired (CSRF check failed); reload the page and try again",
            ))
        }
    }
}

/// The live resident session behind a request (its cookie), if any.
pub async fn resident_of(state: &AppState, parts: &Parts) -> Result<Option<ResidentUser>, ApiError> {
    let Some(secret) = cookie(&parts.headers, RESIDENT_COOKIE).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let Some(session) = residents::session(state, secret).await? else {
        return Ok(None);
    };
    Ok(Some(ResidentUser {
        resident: session.resident,
        csrf: session.csrf,
        lang: crate::lang::lang_of(parts.uri.path(), parts.uri.query(), &parts.headers),
        session_hash: session.session_hash,
    }))
}

impl FromRequestParts<AppState> for ResidentUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match resident_of(state, parts).await {
            Ok(Some(r)) => Ok(r),
            Ok(None) => {
                let back = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/m/reports");
                let next: String = form_urlencoded::byte_serialize(back.as_bytes()).collect();
                Err(Redirect::to(&format!("/m/login?next={next}")).into_response())
            }
            Err(e) => Err(e.into_response()),
        }
    }
}

pub fn routes(max_upload: u64) -> Router<AppState> {
    let limit = usize::try_from(max_upload.saturating_mul(3).saturating_add(256 * 1024)).unwrap_or(usize::MAX);
    Router::new()
        .route("/m", get(pages::start))
        .route("/m/", get(pages::start))
        .route("/m/login", get(pages::login_form).post(pages::login))
        .route("/m/login/code", post(pages::send_code))
        .route("/m/logout", post(pages::logout))
        .route(
            "/m/report",
            get(pages::report_form)
                .post(pages::report)
                .layer(DefaultBodyLimit::max(limit)),
        )
        .route("/m/reports", get(pages::my_reports))
        .route("/m/reports/{number}", get(pages::my_report))
        .route("/m/reports/{number}/rate", post(pages::rate))
        .route("/m/reports/{number}/photos/{id}", get(pages::photo))
        .route("/m/nearby", get(nearby::nearby))
        .route("/m/nearby/{number}/follow", post(nearby::follow))
        .route("/m/nearby/{number}/unfollow", post(nearby::unfollow))
}
