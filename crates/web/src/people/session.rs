//! Staff sessions for the pages: a random secret in an HttpOnly cookie, its hash and a CSRF
//! token in the database. The [`Staff`] extractor admits a page request only with a live session
//! (sending the browser to the sign-in page otherwise), and every form carries the session's CSRF
//! token, checked with [`Staff::check_csrf`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use gongzhi_app::AppError;
use gongzhi_app::people::Account;
use gongzhi_app::people::sessions;
use gongzhi_core::ErrorCode;
use gongzhi_core::Lang;
use gongzhi_core::people::Actor;
use gongzhi_core::people::policy::SecurityPolicy;

use crate::{ApiError, AppState};

pub const SESSION_COOKIE: &str = "gz_session";

/// Someone signed in to the pages.
#[derive(Debug, Clone)]
pub struct Staff {
    pub actor: Actor,
    pub account: Account,
    pub csrf: String,
    pub lang: Lang,
    /// The hash of the session secret: sign-out ends exactly this session.
    pub session_hash: String,
    /// The cases waiting in the person's work inboxes (the count beside 待办), if they have any.
    pub inbox_total: Option<i64>,
}

/// A cookie's value, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
}

/// `Set-Cookie` for a session cookie (`max_age` 0 clears it). HttpOnly keeps scripts away from
/// it; SameSite=Lax keeps other sites' forms from carrying it.
pub fn session_cookie(name: &str, value: &str, max_age_seconds: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}"
    ))
    .unwrap_or(HeaderValue::from_static("gz_session=; Path=/; Max-Age=0"))
}

/// Compares secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Where a rejected page request goes: the sign-in page, coming back here afterwards.
fn to_sign_in(parts: &Parts) -> Response {
    let back = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let next: String = form_urlencoded_byte_serialize(back);
    Redirect::to(&format!("/login?next={next}")).into_response()
}

fn form_urlencoded_byte_serialize(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The live session behind a request's cookie.
pub async fn session_of(state: &AppState, headers: &HeaderMap) -> Result<Option<Staff>, ApiError> {
    let Some(secret) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(sessions::staff_session(state, secret).await?.map(|session| Staff {
        actor: session.actor,
        account: session.account,
        csrf: session.csrf,
        lang: Lang::Zh,
        session_hash: session.session_hash,
        inbox_total: None,
    }))
}

impl Staff {
    /// Refuses a form whose CSRF token is not this session's.
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

    /// Whether the password must be changed before anything else: reset by an administrator, or
    /// older than the policy allows.
    pub fn must_change_password(&self, policy: &SecurityPolicy, now: DateTime<Utc>) -> bool {
        sessions::must_change_password(policy, &self.account, now)
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let mut staff = match session_of(state, &parts.headers).await {
            Ok(Some(staff)) => staff,
            Ok(None) => return Err(to_sign_in(parts)),
            Err(e) => return Err(e.into_response()),
        };
        staff.lang = crate::lang::lang_of(parts.uri.path(), parts.uri.query(), &parts.headers);
        if let Err(e) = super::admin_network(parts, state, &staff.actor).await {
            return Err(e.into_response());
        }
        let exempt = ["/account/password", "/logout"].contains(&parts.uri.path());
        if !exempt && staff.must_change_password(&state.security, Utc::now()) {
            return Err(Redirect::to("/account/password").into_response());
        }
        if parts.method == axum::http::Method::GET {
            staff.inbox_total = gongzhi_app::cases::inbox::work_total(state, &staff.actor).await;
        }
        Ok(staff)
    }
}
