//! Account administration (三员分立): the system administrator manages the working roles, the
//! security administrator the administrator roles and the security permissions (the
//! personal-data exporter); each only for accounts within their scope, never their own. The
//! security administrator reaches the working accounts of its scope only to grant or revoke a
//! security permission. Every change is audited by the store.
//!
//! A security permission takes two people and a password nobody else knows: it goes only to an
//! account that holds a working role (made by the system administrator) and whose owner has
//! changed the password an administrator set, never to an administrator; and no administrator
//! resets the password of an account holding it (`gongzhi_core::people::policy`).
//!
//! The use cases that take a form's input answer `Ok(Err(refusal))` when the rules refuse the
//! input: the door shows the refusal on the form again (its code gives the status), while an
//! outer `Err` is not about the input (not an administrator, no such account …).

use chrono::Utc;
use gongzhi_core::ErrorCode;
use gongzhi_core::people::policy::{
    check_admin_separation, check_password_reset, check_permission_grant, looks_after, manages, may_grant,
    sets_permissions_of,
};
use gongzhi_core::people::{Actor, Grant, Role, Scope};

use super::AccountWithGrants;
use crate::{App, AppError};

/// The administrator grants the caller holds.
fn admin_grants(actor: &Actor) -> Vec<&Grant> {
    actor
        .grants
        .iter()
        .filter(|g| matches!(g.role, Role::SystemAdmin | Role::SecurityAdmin))
        .collect()
}

fn not_admin() -> AppError {
    AppError::forbidden(
        "只有系统管理员或安全管理员可以管理账户",
        "only a system or security administrator manages accounts",
    )
}

/// The security administrator on a working account: only its security permissions.
fn not_admin_of(username: &str) -> AppError {
    AppError::forbidden(
        format!("您只能设置账户 {username} 的安全权限（个人信息导出员）"),
        format!("you may only set the security permissions (personal-data exporter) of {username}"),
    )
}

/// Input of an administration form the rules refuse: 422 naming nothing.
fn refused(zh: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidField, None, zh, en)
}

/// Whether `actor` administers `target` (activation, unlocking, password, roles): in scope, an
/// account one of the actor's administrator roles looks after, and not their own account.
fn administers(actor: &Actor, target: &AccountWithGrants) -> bool {
    target.account.username != actor.account
        && admin_grants(actor)
            .iter()
            .any(|admin| manages(&admin.scope, &target.grants) && looks_after(admin.role, &target.grants))
}

/// Whether `actor` may open `target`'s page: it administers it, or (the security administrator)
/// may set its security permissions.
fn reaches(actor: &Actor, target: &AccountWithGrants) -> bool {
    administers(actor, target)
        || (target.account.username != actor.account
            && admin_grants(actor)
                .iter()
                .any(|admin| manages(&admin.scope, &target.grants) && sets_permissions_of(admin.role, &target.grants)))
}

/// Whether `actor` may give or revoke `grant`: a role one of its administrator roles grants, at
/// a scope it reaches.
pub fn may_revoke(actor: &Actor, grant: &Grant) -> bool {
    admin_grants(actor)
        .iter()
        .any(|a| may_grant(a.role, grant.role) && manages(&a.scope, std::slice::from_ref(grant)))
}

/// The roles `actor` may hand out, in the order of [`Role::ALL`].
pub fn grantable(actor: &Actor) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| admin_grants(actor).iter().any(|a| may_grant(a.role, *r)))
        .collect()
}

/// How a scope is written in the forms: a territory code, `department:CODE` or
/// `organization:ID` (a member organization of the registry).
pub fn scope_text(scope: &Scope) -> String {
    match scope {
        Scope::Territory(t) => t.to_string(),
        Scope::Department(d) => format!("department:{d}"),
        Scope::Organization(o) => format!("organization:{o}"),
    }
}

/// Checks that the grant's scope fits its role: a liaison (单位联络员) is held for a member
/// organization of the registry, and an organization is the scope of a liaison only (422 `scope`).
async fn check_scope(app: &App, grant: &Grant) -> Result<Result<(), AppError>, AppError> {
    let bad = |zh: &str, en: &str| Ok(Err(AppError::new(ErrorCode::InvalidField, Some("scope"), zh, en)));
    match (&grant.scope, grant.role == Role::Liaison) {
        (Scope::Organization(o), true) => {
            if app.db.member_organization(*o).await?.is_none() {
                return bad(
                    &format!("辖区单位 {o} 不存在（范围 scope）"),
                    &format!("no member organization {o} (scope)"),
                );
            }
            Ok(Ok(()))
        }
        (_, true) => bad(
            "单位联络员的范围应为 organization:单位编号（scope）",
            "a liaison's scope is organization:ID (scope)",
        ),
        (Scope::Organization(_), false) => bad(
            "organization: 范围只能授予单位联络员（scope）",
            "an organization: scope goes to a liaison only (scope)",
        ),
        _ => Ok(Ok(())),
    }
}

/// Checks that `actor` may give `grant` to an account holding `existing`, whose current password
/// its owner chose (`password_is_own`) or an administrator set.
fn check_grant(actor: &Actor, grant: &Grant, existing: &[Grant], password_is_own: bool) -> Result<(), AppError> {
    // Giving a grant takes the same right as revoking it.
    if !may_revoke(actor, grant) {
        let scope = scope_text(&grant.scope);
        return Err(refused(
            format!("您不能授予角色{}于{scope}", grant.role.label_zh()),
            format!(
                "you may not grant the role {} at {scope}",
                grant.role.label(gongzhi_core::Lang::En)
            ),
        ));
    }
    let mut all = existing.to_vec();
    all.push(grant.clone());
    check_admin_separation(&all).map_err(|e| AppError::localized(None, &e))?;
    check_permission_grant(grant.role, existing, password_is_own).map_err(|e| AppError::localized(None, &e))
}

/// The accounts `actor` manages, by user name; 403 for someone who administers nothing.
pub async fn list(app: &App, actor: &Actor) -> Result<Vec<AccountWithGrants>, AppError> {
    if admin_grants(actor).is_empty() {
        return Err(not_admin());
    }
    Ok(app
        .db
        .accounts_with_grants()
        .await?
        .into_iter()
        .filter(|a| reaches(actor, a))
        .collect())
}

/// An account as its administrator sees it.
pub struct Administered {
    pub target: AccountWithGrants,
    /// Whether the reader administers it (otherwise: only its security permissions).
    pub administers: bool,
}

/// The account `username` if `actor` reaches it; 404 otherwise (whether or not it exists).
pub async fn get(app: &App, actor: &Actor, username: &str) -> Result<Administered, AppError> {
    let target = list(app, actor)
        .await?
        .into_iter()
        .find(|a| a.account.username == username)
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::UnknownAccount,
                Some("username"),
                format!("账户 {username} 不存在或不在您的管理范围内"),
                format!("no account {username} that you manage"),
            )
        })?;
    Ok(Administered {
        administers: administers(actor, &target),
        target,
    })
}

/// A new account with one role.
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub grant: Grant,
}

/// Creates an account with one role; the person must change the password at first sign-in.
/// Refused (422): a user name other than 2–32 of `a-z 0-9 _ . -`, no name, a grant the actor
/// may not give, a weak password; refused (409): a name taken.
pub async fn create(app: &App, actor: &Actor, new: NewAccount<'_>) -> Result<Result<(), AppError>, AppError> {
    let username = new.username.trim();
    let valid_name = (2..=32).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.' || c == '-');
    if !valid_name {
        return Ok(Err(refused(
            "用户名应为2至32个小写字母、数字或 _ . -",
            "the user name must be 2 to 32 lower-case letters, digits or _ . -",
        )));
    }
    let display_name = new.display_name.trim();
    if display_name.is_empty() {
        return Ok(Err(refused("请填写姓名", "please enter the name")));
    }
    // The administrator chooses the password: a security permission cannot come with it.
    if let Err(refusal) = check_grant(actor, &new.grant, &[], false) {
        return Ok(Err(refusal));
    }
    if let Err(refusal) = check_scope(app, &new.grant).await? {
        return Ok(Err(refusal));
    }
    if let Err(problem) = app.security.check_password(username, new.password) {
        return Ok(Err(AppError::localized(None, &problem)));
    }
    if app.db.account_by_username(username).await?.is_some() {
        return Ok(Err(AppError::new(
            ErrorCode::NameTaken,
            Some("username"),
            format!("用户名已存在：{username}"),
            format!("the user name is taken: {username}"),
        )));
    }
    let hash = super::hashed(new.password).await?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db
        .create_account(username, display_name, Some(&hash), &[new.grant], &actor.account, &key)
        .await?;
    // The administrator chose this password: the person changes it at first sign-in.
    if let Some(account) = app.db.account_by_username(username).await? {
        app.db
            .set_password(&account, &hash, &actor.account, None, Utc::now(), &key)
            .await?;
    }
    Ok(Ok(()))
}

/// One change to an account.
pub enum AccountChange {
    Grant(Grant),
    Revoke(Grant),
    Activate,
    Deactivate,
    Unlock,
    /// A new password chosen by the administrator: the person changes it at the next sign-in.
    ResetPassword(String),
}

/// Makes one change to the account `username`. Roles: the actor must be allowed to give (or
/// take) them, keeping the administrators apart (refused: 422). Anything else: only an account
/// the actor administers (403), and a reset password must meet the policy (refused: 422).
pub async fn change(
    app: &App,
    actor: &Actor,
    username: &str,
    change: AccountChange,
) -> Result<Result<(), AppError>, AppError> {
    let a = get(app, actor, username).await?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let (account, by, now) = (&a.target.account, actor.account.as_str(), Utc::now());
    match change {
        AccountChange::Grant(grant) => {
            let password_is_own = !account.must_change_password;
            if let Err(refusal) = check_scope(app, &grant).await? {
                return Ok(Err(refusal));
            }
            if let Err(refusal) = check_grant(actor, &grant, &a.target.grants, password_is_own) {
                return Ok(Err(refusal));
            }
            app.db.grant_role(account, &grant, by, now, &key).await?;
        }
        AccountChange::Revoke(grant) => {
            if !may_revoke(actor, &grant) {
                return Ok(Err(refused(
                    format!("您不能撤销角色{}", grant.role.label_zh()),
                    format!(
                        "you may not revoke the role {}",
                        grant.role.label(gongzhi_core::Lang::En)
                    ),
                )));
            }
            app.db.revoke_role(account, &grant, by, now, &key).await?;
        }
        _ if !a.administers => return Err(not_admin_of(username)),
        AccountChange::Activate => app.db.set_account_active(account, true, by, now, &key).await?,
        AccountChange::Deactivate => app.db.set_account_active(account, false, by, now, &key).await?,
        AccountChange::Unlock => app.db.unlock_account(account, by, now, &key).await?,
        AccountChange::ResetPassword(password) => {
            if let Err(held) = check_password_reset(&a.target.grants) {
                return Ok(Err(AppError::localized(None, &held)));
            }
            if let Err(problem) = app.security.check_password(&account.username, &password) {
                return Ok(Err(AppError::localized(None, &problem)));
            }
            let hash = super::hashed(&password).await?;
            app.db.set_password(account, &hash, by, None, now, &key).await?;
        }
    }
    Ok(Ok(()))
}
