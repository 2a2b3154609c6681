//! Staff sign-in, one rule for the pages ([`super::sessions::sign_in`]) and for API clients
//! ([`super::tokens::issue`]), so that neither door is a way around the other's lockout
//! (GB/T 22239-2019 level 3, 身份鉴别 §1.1; security-cn.md):
//!
//! 1. every source address may try `sign_in_attempts_per_minute` times a minute, whatever the name
//!    (more: 429 with the seconds to wait, nothing checked, counted or recorded);
//! 2. a source locked out of the name is refused without looking at the password;
//! 3. the password is checked, against a dummy hash when the name has no account (or the account
//!    no password), so that an unknown name costs the same time as a wrong password;
//! 4. a wrong password, an inactive account and an unknown name are one failure, counted per name
//!    and source and audited; `lockout_failures` in a row lock that source out of that name for
//!    `lockout_minutes` (other sources still sign in: nobody can lock the owner out);
//! 5. an administrator's name from outside `admin_networks` (when set) is refused before the
//!    password is looked at (audited; it counts as no failure, so it locks nobody out);
//! 6. an API client whose password must be changed (set by an administrator, or too old) is
//!    refused (audited): the pages let it in only to change it.
//!
//! A right password is audited as `people.sign_in` by whatever it starts (a session, a token), in
//! the same transaction, which also clears the failures of that source.

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use gongzhi_core::ErrorCode;
use gongzhi_core::people::credentials::dummy_hash;
use gongzhi_core::people::policy::ADMIN_ROLES;
use gongzhi_core::people::{Actor, Grant};
use gongzhi_core::time::city_time;
use gongzhi_store::people::sessions::{Attempt, Failure, Lockout};

use super::Account;
use super::sessions::must_change_password;
use crate::{App, AppError};

/// A sign-in attempt: the user name and password typed, and the source address it came from
/// (what the lockout and the rate limit count, and the record keeps).
pub struct SignIn<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub source: &'a str,
}

/// Which door: the pages (a password to change leads to the password page) or the API (refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Pages,
    Api,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Pages => "pages",
            Via::Api => "api",
        }
    }
}

/// Why a sign-in was refused, told to the person without saying whether the name exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many attempts from the source address: try again in this many seconds.
    Throttled(u64),
    /// Unknown name, wrong password or inactive account; `left` failures until the lockout when
    /// only a few are left.
    Wrong { left: Option<i64> },
    /// The source was locked out of the name already: the password was not even checked.
    Locked(DateTime<Utc>),
    /// This failure reached the limit: the source is locked out until then.
    LockedNow(DateTime<Utc>),
    /// The password is right, but must be changed (on the pages) before the API accepts it.
    MustChangePassword,
    /// An administrator, from outside the networks administrators may work from.
    AdminNetwork,
}

impl Refusal {
    /// The refusal as an error of the catalogue, in both languages (with `Retry-After` when
    /// throttled).
    pub fn error(self) -> AppError {
        match self {
            Refusal::Throttled(wait) => AppError::new(
                ErrorCode::RateLimited,
                None,
                format!("登录尝试过于频繁，请 {wait} 秒后再试"),
                format!("too many sign-in attempts from this address; try again in {wait} s"),
            )
            .with_retry_after(wait),
            Refusal::Wrong { left } => {
                let (zh, en) = ("用户名或密码错误", "wrong username or password");
                match left {
                    None => AppError::new(ErrorCode::InvalidCredentials, None, zh, en),
                    Some(n) => AppError::new(
                        ErrorCode::InvalidCredentials,
                        None,
                        format!("{zh}；再失败 {n} 次将锁定账户"),
                        format!("{en}; {n} more failures lock the account"),
                    ),
                }
            }
            Refusal::Locked(until) | Refusal::LockedNow(until) => {
                let at = city_time(until).format("%Y-%m-%d %H:%M");
                AppError::new(
                    ErrorCode::AccountLocked,
                    None,
                    format!("登录失败次数过多，账户已锁定至 {at}（限当前网络地址）"),
                    format!("too many failed sign-ins: the account is locked until {at} (from this network address)"),
                )
            }
            Refusal::AdminNetwork => admin_network_refused(),
            Refusal::MustChangePassword => AppError::new(
                ErrorCode::PasswordChangeRequired,
                Some("password"),
                "此密码须先在网页登录后修改，才能用于接口",
                "this password must be changed on the pages (sign in there) before the API accepts it",
            ),
        }
    }
}

/// Checks a sign-in attempt by the rule above: `Ok(Ok(account))` when the caller may start a
/// session or issue a token for it, `Ok(Err(refusal))` when refused (counted and audited as the
/// rule says).
pub async fn check(app: &App, attempt: &SignIn<'_>, via: Via) -> Result<Result<Account, Refusal>, AppError> {
    let policy = &app.security;
    let minute = StdDuration::from_secs(60);
    if let Err(wait) = app.sign_in_limits.take(
        attempt.source.to_string(),
        policy.sign_in_attempts_per_minute,
        minute,
        Instant::now(),
    ) {
        tracing::warn!(source = attempt.source, wait, "sign-in attempts throttled");
        return Ok(Err(Refusal::Throttled(wait)));
    }
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let now = Utc::now();
    let counted = Attempt {
        username: attempt.username,
        source: attempt.source,
        at: now,
    };
    if let Some(until) = app.db.sign_in_locked_until(counted).await? {
        return Ok(Err(Refusal::Locked(until)));
    }
    let account = app.db.account_by_username(attempt.username).await?;
    if let Some(admin) = &account
        && !policy.admin_reachable_from(attempt.source)
        && holds_admin_role(&app.db.grants_of(admin.id).await?)
    {
        app.db
            .record_refused_sign_in(admin, attempt.source, via.as_str(), "admin_network", now, &key)
            .await?;
        return Ok(Err(Refusal::AdminNetwork));
    }
    let hash = account
        .as_ref()
        .and_then(|a| a.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    let matches = super::password_matches(attempt.password, &hash).await;
    let account = match account {
        Some(a) if matches && a.active => a,
        account => {
            let rule = Lockout {
                failures: policy.lockout_failures,
                window: Duration::minutes(policy.lockout_minutes),
            };
            let failure = app
                .db
                .record_failed_sign_in(counted, account.as_ref(), rule, &key)
                .await?;
            return Ok(Err(match failure {
                Failure::Locked(until) => Refusal::LockedNow(until),
                Failure::Counted(n) if n < policy.lockout_failures - 2 => Refusal::Wrong { left: None },
                Failure::Counted(n) => Refusal::Wrong {
                    left: Some(policy.lockout_failures - n),
                },
            }));
        }
    };
    if via == Via::Api && must_change_password(policy, &account, now) {
        app.db
            .record_refused_sign_in(
                &account,
                attempt.source,
                via.as_str(),
                "password_change_required",
                now,
                &key,
            )
            .await?;
        return Ok(Err(Refusal::MustChangePassword));
    }
    Ok(Ok(account))
}

fn holds_admin_role(grants: &[Grant]) -> bool {
    grants.iter().any(|g| ADMIN_ROLES.contains(&g.role))
}

fn admin_network_refused() -> AppError {
    AppError::new(
        ErrorCode::AdminNetworkRefused,
        None,
        "管理员账号只能从指定的管理网络登录和操作",
        "administrator accounts work only from the configured administration networks",
    )
}

/// Refuses a signed-in administrator working from outside `admin_networks` (a session or token
/// obtained inside and carried elsewhere); anyone else passes.
pub fn check_admin_network(app: &App, actor: &Actor, source: &str) -> Result<(), AppError> {
    if app.security.admin_reachable_from(source) || !holds_admin_role(&actor.grants) {
        return Ok(());
    }
    tracing::warn!(
        account = actor.account,
        source,
        "administrator refused outside the administration networks"
    );
    Err(admin_network_refused())
}
