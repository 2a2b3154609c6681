//! Account administration pages (三员分立): the system administrator manages the working roles,
//! the security administrator the administrator roles and the security permissions (the
//! personal-data exporter); each only for accounts within their scope, never their own. The
//! security administrator sees the working accounts of its scope only to grant or revoke a
//! security permission. Every change is audited by the store.

use crate::json::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use gongzhi_app::AppError;
use gongzhi_app::people::accounts::{self, AccountChange, NewAccount, may_revoke, scope_text};
use gongzhi_core::ErrorCode;
use gongzhi_core::orgs::DepartmentCode;
use gongzhi_core::people::{Grant, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_core::{Lang, Localized};
use serde::Deserialize;

use super::session::Staff;
use crate::pages::{Chrome, local_time};
use crate::{ApiError, AppState};

struct AccountRow {
    username: String,
    display_name: String,
    roles: String,
    active: bool,
    locked: bool,
}

fn describe(grants: &[Grant], lang: Lang) -> String {
    grants
        .iter()
        .map(|g| format!("{} @ {}", g.role.label(lang), scope_text(&g.scope)))
        .collect::<Vec<_>>()
        .join("；")
}

#[derive(Template)]
#[template(path = "people/accounts.html")]
struct AccountsPage {
    c: Chrome,
    rows: Vec<AccountRow>,
    roles: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

/// The roles `staff` may hand out, as (code, label).
fn grantable(staff: &Staff) -> Vec<(&'static str, &'static str)> {
    accounts::grantable(&staff.actor)
        .into_iter()
        .map(|r| (r.as_str(), r.label(staff.lang)))
        .collect()
}

/// The page's status for a refused form: its code's (409 for a name taken or a permission
/// holder's password, else 422).
fn refusal_status(refusal: &AppError) -> StatusCode {
    refusal.http_status()
}

async fn accounts_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let rows = accounts::list(state, &staff.actor)
        .await?
        .into_iter()
        .map(|a| AccountRow {
            roles: describe(&a.grants, staff.lang),
            username: a.account.username,
            display_name: a.account.display_name,
            active: a.account.active,
            locked: !a.locks.is_empty(),
        })
        .collect();
    let page = AccountsPage {
        c: Chrome::for_staff(staff, "/admin/accounts"),
        rows,
        roles: grantable(staff),
        error,
    };
    Ok((status, Html(page.render().map_err(|e| AppError::internal(&e))?)).into_response())
}

/// `GET /admin/accounts`: the accounts this administrator manages, and a form for a new one.
pub async fn accounts(State(state): State<AppState>, staff: Staff) -> Result<Response, ApiError> {
    accounts_page(&state, &staff, StatusCode::OK, None).await
}

fn parse_scope(text: &str, lang: Lang) -> Result<Scope, String> {
    let text = text.trim();
    if let Some(d) = text.strip_prefix("department:") {
        return DepartmentCode::parse(d)
            .map(Scope::Department)
            .map_err(|e| e.to_string());
    }
    if let Some(o) = text.strip_prefix("organization:") {
        return o
            .parse::<i64>()
            .ok()
            .filter(|o| *o > 0)
            .map(Scope::Organization)
            .ok_or_else(|| format!("{}{o}", lang.pick("辖区单位编号无效：", "not an organization id: ")));
    }
    TerritoryCode::parse(text)
        .map(Scope::Territory)
        .map_err(|e| e.message(lang))
}

fn parse_role(text: &str, lang: Lang) -> Result<Role, String> {
    text.parse()
        .map_err(|_| format!("{}{text}", lang.pick("角色无效：", "unknown role: ")))
}

/// A role at a scope, as the forms give them.
fn parse_grant(role: &str, scope: &str, lang: Lang) -> Result<Grant, String> {
    Ok(Grant {
        role: parse_role(role, lang)?,
        scope: parse_scope(scope, lang)?,
    })
}

#[derive(Deserialize)]
pub struct NewAccountForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: String,
}

/// `POST /admin/accounts`: a new account with one role; it must change the password at first
/// sign-in.
pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Form(f): Form<NewAccountForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&f.csrf)?;
    let lang = staff.lang;
    let grant = match parse_grant(&f.role, &f.scope, lang) {
        Ok(grant) => grant,
        Err(message) => return accounts_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await,
    };
    let new = NewAccount {
        username: &f.username,
        display_name: &f.display_name,
        password: &f.password,
        grant,
    };
    if let Err(refusal) = accounts::create(&state, &staff.actor, new).await? {
        let message = refusal.message(lang).to_string();
        return accounts_page(&state, &staff, refusal_status(&refusal), Some(message)).await;
    }
    Ok(Redirect::to(&format!("/admin/accounts/{}", f.username.trim())).into_response())
}

#[derive(Template)]
#[template(path = "people/account.html")]
struct AccountPage {
    c: Chrome,
    username: String,
    display_name: String,
    active: bool,
    /// The source addresses locked out of the account, with the end of each lockout.
    locks: Vec<(String, String)>,
    must_change: bool,
    /// (role, label, scope, whether the reader may revoke it)
    grants: Vec<(String, String, String, bool)>,
    roles: Vec<(&'static str, &'static str)>,
    /// Whether the reader administers the account (otherwise: only its security permissions).
    administers: bool,
    error: Option<String>,
}

async fn account_page(
    state: &AppState,
    staff: &Staff,
    username: &str,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let view = accounts::get(state, &staff.actor, username).await?;
    let a = &view.target;
    let lang = staff.lang;
    let page = AccountPage {
        c: Chrome::for_staff(staff, "/admin/accounts"),
        username: a.account.username.clone(),
        display_name: a.account.display_name.clone(),
        active: a.account.active,
        locks: a
            .locks
            .iter()
            .map(|l| (l.source.clone(), local_time(l.until)))
            .collect(),
        must_change: a.account.must_change_password,
        grants: a
            .grants
            .iter()
            .map(|g| {
                (
                    g.role.as_str().to_string(),
                    g.role.label(lang).to_string(),
                    scope_text(&g.scope),
                    may_revoke(&staff.actor, g),
                )
            })
            .collect(),
        roles: grantable(staff),
        administers: view.administers,
        error,
    };
    Ok((status, Html(page.render().map_err(|e| AppError::internal(&e))?)).into_response())
}

/// `GET /admin/accounts/{username}`
pub async fn account(
    State(state): State<AppState>,
    staff: Staff,
    Path(username): Path<String>,
) -> Result<Response, ApiError> {
    account_page(&state, &staff, &username, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    /// grant, revoke, activate, deactivate, unlock, reset_password
    #[serde(default)]
    change: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    password: String,
}

/// `POST /admin/accounts/{username}`: one change to the account, named by `change`.
pub async fn change(
    State(state): State<AppState>,
    staff: Staff,
    Path(username): Path<String>,
    Form(f): Form<ChangeForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&f.csrf)?;
    let lang = staff.lang;
    let refused = |status: StatusCode, message: String| account_page(&state, &staff, &username, status, Some(message));
    let change = match f.change.as_str() {
        "grant" | "revoke" => match parse_grant(&f.role, &f.scope, lang) {
            Ok(grant) if f.change == "grant" => AccountChange::Grant(grant),
            Ok(grant) => AccountChange::Revoke(grant),
            Err(message) => return refused(StatusCode::UNPROCESSABLE_ENTITY, message).await,
        },
        "activate" => AccountChange::Activate,
        "deactivate" => AccountChange::Deactivate,
        "unlock" => AccountChange::Unlock,
        "reset_password" => AccountChange::ResetPassword(f.password.clone()),
        other => {
            return Err(AppError::new(
                ErrorCode::UnknownChange,
                Some("change"),
                format!("未知的操作：{other}"),
                format!("unknown change: {other}"),
            ));
        }
    };
    if let Err(refusal) = accounts::change(&state, &staff.actor, &username, change).await? {
        return refused(refusal_status(&refusal), refusal.message(lang).to_string()).await;
    }
    Ok(Redirect::to(&format!("/admin/accounts/{username}")).into_response())
}
