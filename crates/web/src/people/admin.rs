//! Account administration pages (三员分立): the system administrator manages the working roles,
//! the security administrator the administrator roles and the security permissions (the
//! personal-data exporter); each only for accounts within their scope, never their own. The
//! security administrator sees the working accounts of its scope only to grant or revoke a
//! security permission. Every change is audited by the store.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use gongzhi_core::orgs::DepartmentCode;
use gongzhi_core::people::credentials::hash_password;
use gongzhi_core::people::policy::{check_admin_separation, looks_after, manages, may_grant, sets_permissions_of};
use gongzhi_core::people::{Grant, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_core::{Lang, Localized};
use gongzhi_store::people::admin::AccountWithGrants;
use serde::Deserialize;

use super::session::Staff;
use crate::pages::{Chrome, local_time};
use crate::{ApiError, AppState};

/// The administrator grants the signed-in person holds.
fn admin_grants(staff: &Staff) -> Vec<&Grant> {
    staff
        .actor
        .grants
        .iter()
        .filter(|g| matches!(g.role, Role::SystemAdmin | Role::SecurityAdmin))
        .collect()
}

/// The security administrator on a working account: only its security permissions.
fn not_admin_of(username: &str) -> ApiError {
    AppError::forbidden(
        format!("您只能设置账户 {username} 的安全权限（个人信息导出员）"),
        format!("you may only set the security permissions (personal-data exporter) of {username}"),
    )
}

fn not_admin() -> ApiError {
    AppError::forbidden(
        "只有系统管理员或安全管理员可以管理账户",
        "only a system or security administrator manages accounts",
    )
}

/// Whether `staff` administers `target` (activation, unlocking, password, roles): in scope, an
/// account one of the staff's administrator roles looks after, and not their own account.
fn administers(staff: &Staff, target: &AccountWithGrants) -> bool {
    target.account.username != staff.account.username
        && admin_grants(staff)
            .iter()
            .any(|admin| manages(&admin.scope, &target.grants) && looks_after(admin.role, &target.grants))
}

/// Whether `staff` may open `target`'s page: it administers it, or (the security administrator)
/// may set its security permissions.
fn reaches(staff: &Staff, target: &AccountWithGrants) -> bool {
    administers(staff, target)
        || (target.account.username != staff.account.username
            && admin_grants(staff)
                .iter()
                .any(|admin| manages(&admin.scope, &target.grants) && sets_permissions_of(admin.role, &target.grants)))
}

/// Whether `staff` may revoke `grant`: a role one of its administrator roles grants, at a scope
/// it reaches.
fn may_revoke(staff: &Staff, grant: &Grant) -> bool {
    admin_grants(staff)
        .iter()
        .any(|a| may_grant(a.role, grant.role) && manages(&a.scope, std::slice::from_ref(grant)))
}

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

fn scope_text(scope: &Scope) -> String {
    match scope {
        Scope::Territory(t) => t.to_string(),
        Scope::Department(d) => format!("department:{d}"),
    }
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
    Role::ALL
        .into_iter()
        .filter(|r| admin_grants(staff).iter().any(|a| may_grant(a.role, *r)))
        .map(|r| (r.as_str(), r.label(staff.lang)))
        .collect()
}

async fn accounts_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    if admin_grants(staff).is_empty() {
        return Err(not_admin());
    }
    let now = Utc::now();
    let rows = state
        .db()
        .accounts_with_grants()
        .await?
        .into_iter()
        .filter(|a| reaches(staff, a))
        .map(|a| AccountRow {
            roles: describe(&a.grants, staff.lang),
            username: a.account.username,
            display_name: a.account.display_name,
            active: a.account.active,
            locked: a.account.locked_until.is_some_and(|u| u > now),
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
    TerritoryCode::parse(text)
        .map(Scope::Territory)
        .map_err(|e| e.message(lang))
}

fn parse_role(text: &str, lang: Lang) -> Result<Role, String> {
    text.parse()
        .map_err(|_| format!("{}{text}", lang.pick("角色无效：", "unknown role: ")))
}

/// Checks that `staff` may give `grant` to an account holding `existing`.
fn check_grant(staff: &Staff, grant: &Grant, existing: &[Grant]) -> Result<(), String> {
    let lang = staff.lang;
    let allowed = admin_grants(staff)
        .iter()
        .any(|a| may_grant(a.role, grant.role) && manages(&a.scope, std::slice::from_ref(grant)));
    if !allowed {
        return Err(format!(
            "{}{}{}{}",
            lang.pick("您不能授予角色", "you may not grant the role "),
            grant.role.label(lang),
            lang.pick("于", " at "),
            scope_text(&grant.scope)
        ));
    }
    let mut all = existing.to_vec();
    all.push(grant.clone());
    check_admin_separation(&all).map_err(|e| e.message(lang))
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
    let username = f.username.trim();
    let valid_name = (2..=32).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.' || c == '-');
    let checked = (|| {
        if !valid_name {
            return Err(lang
                .pick(
                    "用户名应为2至32个小写字母、数字或 _ . -",
                    "the user name must be 2 to 32 lower-case letters, digits or _ . -",
                )
                .to_string());
        }
        if f.display_name.trim().is_empty() {
            return Err(lang.pick("请填写姓名", "please enter the name").to_string());
        }
        let grant = Grant {
            role: parse_role(&f.role, lang)?,
            scope: parse_scope(&f.scope, lang)?,
        };
        check_grant(&staff, &grant, &[])?;
        state
            .security
            .check_password(username, &f.password)
            .map_err(|p| p.message(lang))?;
        Ok(grant)
    })();
    let grant = match checked {
        Ok(g) => g,
        Err(message) => return accounts_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await,
    };
    if state.db().account_by_username(username).await?.is_some() {
        let message = format!("{}{username}", lang.pick("用户名已存在：", "the user name is taken: "));
        return accounts_page(&state, &staff, StatusCode::CONFLICT, Some(message)).await;
    }
    let password = f.password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AppError::internal(&e))?
        .map_err(|e| AppError::internal(&e))?;
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    state
        .db()
        .create_account(
            username,
            f.display_name.trim(),
            Some(&hash),
            &[grant],
            &staff.account.username,
            &key,
        )
        .await?;
    // The administrator chose this password: the person changes it at first sign-in.
    if let Some(account) = state.db().account_by_username(username).await? {
        state
            .db()
            .set_password(&account, &hash, &staff.account.username, None, Utc::now(), &key)
            .await?;
    }
    Ok(Redirect::to(&format!("/admin/accounts/{username}")).into_response())
}

#[derive(Template)]
#[template(path = "people/account.html")]
struct AccountPage {
    c: Chrome,
    username: String,
    display_name: String,
    active: bool,
    locked_until: Option<String>,
    must_change: bool,
    /// (role, label, scope, whether the reader may revoke it)
    grants: Vec<(String, String, String, bool)>,
    roles: Vec<(&'static str, &'static str)>,
    /// Whether the reader administers the account (otherwise: only its security permissions).
    administers: bool,
    error: Option<String>,
}

async fn target(state: &AppState, staff: &Staff, username: &str) -> Result<AccountWithGrants, ApiError> {
    if admin_grants(staff).is_empty() {
        return Err(not_admin());
    }
    state
        .db()
        .accounts_with_grants()
        .await?
        .into_iter()
        .find(|a| a.account.username == username && reaches(staff, a))
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::UnknownAccount,
                Some("username"),
                format!("账户 {username} 不存在或不在您的管理范围内"),
                format!("no account {username} that you manage"),
            )
        })
}

async fn account_page(
    state: &AppState,
    staff: &Staff,
    username: &str,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let a = target(state, staff, username).await?;
    let now = Utc::now();
    let lang = staff.lang;
    let page = AccountPage {
        c: Chrome::for_staff(staff, "/admin/accounts"),
        username: a.account.username.clone(),
        display_name: a.account.display_name.clone(),
        active: a.account.active,
        locked_until: a.account.locked_until.filter(|u| *u > now).map(local_time),
        must_change: a.account.must_change_password,
        grants: a
            .grants
            .iter()
            .map(|g| {
                (
                    g.role.as_str().to_string(),
                    g.role.label(lang).to_string(),
                    scope_text(&g.scope),
                    may_revoke(staff, g),
                )
            })
            .collect(),
        roles: grantable(staff),
        administers: administers(staff, &a),
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
    let a = target(&state, &staff, &username).await?;
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let lang = staff.lang;
    let by = staff.account.username.as_str();
    let now = Utc::now();
    let refused = |message: String| {
        account_page(
            &state,
            &staff,
            &username,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
        )
    };
    match f.change.as_str() {
        "grant" | "revoke" => {
            let grant = match (parse_role(&f.role, lang), parse_scope(&f.scope, lang)) {
                (Ok(role), Ok(scope)) => Grant { role, scope },
                (Err(m), _) | (_, Err(m)) => return refused(m).await,
            };
            if f.change == "grant" {
                if let Err(m) = check_grant(&staff, &grant, &a.grants) {
                    return refused(m).await;
                }
                state.db().grant_role(&a.account, &grant, by, now, &key).await?;
            } else {
                if !may_revoke(&staff, &grant) {
                    return refused(format!(
                        "{}{}",
                        lang.pick("您不能撤销角色", "you may not revoke the role "),
                        grant.role.label(lang)
                    ))
                    .await;
                }
                state.db().revoke_role(&a.account, &grant, by, now, &key).await?;
            }
        }
        _ if !administers(&staff, &a) => return Err(not_admin_of(&username)),
        "activate" => state.db().set_account_active(&a.account, true, by, now, &key).await?,
        "deactivate" => state.db().set_account_active(&a.account, false, by, now, &key).await?,
        "unlock" => state.db().unlock_account(&a.account, by, now, &key).await?,
        "reset_password" => {
            if let Err(p) = state.security.check_password(&a.account.username, &f.password) {
                return refused(p.message(lang)).await;
            }
            let password = f.password.clone();
            let hash = tokio::task::spawn_blocking(move || hash_password(&password))
                .await
                .map_err(|e| AppError::internal(&e))?
                .map_err(|e| AppError::internal(&e))?;
            state.db().set_password(&a.account, &hash, by, None, now, &key).await?;
        }
        other => {
            return Err(AppError::new(
                ErrorCode::UnknownChange,
                Some("change"),
                format!("未知的操作：{other}"),
                format!("unknown change: {other}"),
            )
            .into());
        }
    }
    Ok(Redirect::to(&format!("/admin/accounts/{username}")).into_response())
}
