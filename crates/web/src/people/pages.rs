//! Sign-in, sign-out and password pages. The forms work without JavaScript; every form but the
//! sign-in form carries the session's CSRF token, and the sign-in form a double-submit token of
//! its own (a cookie and a hidden field that must match).

use crate::json::Form;
use crate::json::Query;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use gongzhi_app::AppError;
use gongzhi_app::people::sessions::{self, ChangePassword, PasswordRefusal, SignIn};
use gongzhi_core::Localized;
use serde::Deserialize;

use super::session::{SESSION_COOKIE, Staff, cookie, same_secret, session_cookie};
use super::source::ClientAddr;
use crate::error::say_retry_after;
use crate::pages::Chrome;
use crate::{ApiError, AppState, ReqLang};
use gongzhi_app::people::random_token;

const SIGN_IN_COOKIE: &str = "gz_signin";

#[derive(Template)]
#[template(path = "people/login.html")]
struct LoginPage {
    c: Chrome,
    form_token: String,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only a path on this site may follow sign-in (never `//elsewhere` or `https://…`).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n.to_string(),
        _ => "/".to_string(),
    }
}

fn render(page: impl Template) -> Result<Html<String>, ApiError> {
    page.render().map(Html).map_err(|e| AppError::internal(&e))
}

fn login_page(
    status: StatusCode,
    lang: gongzhi_core::Lang,
    next: String,
    username: String,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let form_token = random_token();
    let page = LoginPage {
        c: Chrome::anonymous(lang),
        form_token: form_token.clone(),
        next,
        username,
        error,
    };
    let mut response = (status, render(page)?).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, session_cookie(SIGN_IN_COOKIE, &form_token, 3600));
    Ok(response)
}

/// `GET /login`
pub async fn login_form(ReqLang(lang): ReqLang, Query(q): Query<NextQuery>) -> Result<Response, ApiError> {
    login_page(StatusCode::OK, lang, safe_next(q.next.as_deref()), String::new(), None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    next: String,
}

/// `POST /login`
pub async fn login(
    State(state): State<AppState>,
    ReqLang(lang): ReqLang,
    ClientAddr(source): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let next = safe_next(Some(&form.next));
    let again = |status, message: String| login_page(status, lang, next.clone(), form.username.clone(), Some(message));
    let planted = cookie(&headers, SIGN_IN_COOKIE).unwrap_or("");
    if form.form_token.is_empty() || !same_secret(planted, &form.form_token) {
        return again(
            StatusCode::FORBIDDEN,
            lang.pick("页面已过期，请重新登录", "the page expired; please sign in again")
                .into(),
        );
    }
    let username = form.username.trim();
    if username.is_empty() || form.password.is_empty() {
        let field = if username.is_empty() {
            lang.pick("用户名", "user name")
        } else {
            lang.pick("密码", "password")
        };
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{}{field}", lang.pick("请填写", "please enter your ")),
        );
    }
    let attempt = SignIn {
        username,
        password: &form.password,
        source: &source,
    };
    let started = match sessions::sign_in(&state, attempt).await? {
        Ok(started) => started,
        Err(refusal) => {
            let e = refusal.error();
            let mut page = again(e.http_status(), e.message(lang).to_string())?;
            say_retry_after(&mut page, e.retry_after);
            return Ok(page);
        }
    };
    let mut response = Redirect::to(&next).into_response();
    let cookies = response.headers_mut();
    cookies.append(
        header::SET_COOKIE,
        session_cookie(SESSION_COOKIE, &started.secret, started.max_age.num_seconds()),
    );
    cookies.append(header::SET_COOKIE, session_cookie(SIGN_IN_COOKIE, "", 0));
    Ok(response)
}

/// A form that carries nothing but its CSRF token (sign-out buttons).
#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /logout`: ends the session on the server, then clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    sessions::sign_out(&state, &staff.account.username, &staff.session_hash).await?;
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, session_cookie(SESSION_COOKIE, "", 0));
    Ok(response)
}

#[derive(Template)]
#[template(path = "people/password.html")]
struct PasswordPage {
    c: Chrome,
    forced: bool,
    min_length: usize,
    min_classes: usize,
    error: Option<String>,
    done: bool,
}

fn password_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    error: Option<String>,
    done: bool,
) -> Result<Response, ApiError> {
    let page = PasswordPage {
        c: Chrome::for_staff(staff, ""),
        forced: staff.must_change_password(&state.security, Utc::now()) && !done,
        min_length: state.security.password_min_length,
        min_classes: state.security.password_min_classes,
        error,
        done,
    };
    Ok((status, render(page)?).into_response())
}

/// `GET /account/password`
pub async fn password_form(State(state): State<AppState>, staff: Staff) -> Result<Response, ApiError> {
    password_page(&state, &staff, StatusCode::OK, None, false)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /account/password`: the current password, the new one twice.
pub async fn change_password(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<PasswordForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    let lang = staff.lang;
    let refuse =
        |message: String| password_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(message), false);
    let change = ChangePassword {
        current: &form.current,
        new: &form.new,
        confirm: &form.confirm,
    };
    match sessions::change_password(&state, &staff.account, &staff.session_hash, change).await? {
        Ok(()) => {}
        Err(PasswordRefusal::WrongCurrent) => {
            return refuse(lang.pick("当前密码不正确", "the current password is wrong").into());
        }
        Err(PasswordRefusal::Mismatch) => {
            return refuse(
                lang.pick("两次输入的新密码不一致", "the two new passwords differ")
                    .into(),
            );
        }
        Err(PasswordRefusal::Policy(problem)) => return refuse(problem.message(lang)),
    }
    password_page(&state, &staff, StatusCode::OK, None, true)
}
