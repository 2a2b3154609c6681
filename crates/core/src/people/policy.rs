//! The sign-in security policy of GB/T 22239-2019 level 3 (等保三级, security-cn.md §1.1–§1.2):
//! password complexity and age, lockout after repeated failures, idle and absolute session limits,
//! and the separation of the three administrators (三员分立). The numbers are settings: an
//! assessor checks that they are configured and enabled, not that they equal given values.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::ErrorCode;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{Grant, Role, Scope};
use crate::i18n::{Lang, Localized};

/// Defaults: 8+ characters from 3 of 4 classes, 90-day rotation, 5 failures from one address lock
/// that address out of the account for 30 minutes, 30 minutes idle (sessions and API tokens), 12
/// hours at most per session, 30 sign-in attempts a minute and 10 SMS codes an hour per address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityPolicy {
    pub password_min_length: usize,
    /// Of lower case, upper case, digits and other characters.
    pub password_min_classes: usize,
    /// A password older than this must be changed at the next sign-in (0: never).
    pub password_max_age_days: i64,
    /// Failed sign-ins of one user name from one source address (each within `lockout_minutes` of
    /// the last) that lock that address out of that name for `lockout_minutes`. Other addresses
    /// still sign in: an attacker cannot lock the owner out.
    pub lockout_failures: i64,
    pub lockout_minutes: i64,
    pub session_idle_minutes: i64,
    pub session_max_hours: i64,
    /// An API token unused this long stops working (its lifetime is `token_ttl_hours` of the
    /// application).
    pub token_idle_minutes: i64,
    /// Staff sign-in attempts (pages and `POST /api/v1/auth/token` together) one source address may
    /// make a minute, right or wrong; more answer 429 with `Retry-After`.
    pub sign_in_attempts_per_minute: i64,
    /// Residents' SMS codes one source address may ask for an hour (whatever the phones); more
    /// answer 429 with `Retry-After`.
    pub sms_codes_per_hour: i64,
    /// The reverse proxies whose `X-Forwarded-For` names the client. Empty (the default): the
    /// client is the peer of the connection and the header is ignored, so that nobody can choose
    /// the address their attempts are counted under.
    pub trusted_proxies: Vec<IpAddr>,
    /// The networks the three administrators may work from (GB/T 22239 §8.1.4.4 c: 管理终端限制),
    /// e.g. `["10.20.0.0/16"]`. Empty (the default): anywhere. Set, an administrator's sign-in from
    /// elsewhere is refused before the password is looked at, and a session or token of theirs
    /// used from elsewhere answers 403.
    pub admin_networks: Vec<IpNet>,
    /// Residents' one-time sign-in codes: how long a code is good for, how many wrong tries it
    /// survives, and how long before another may be sent to the same phone.
    pub resident_code_minutes: i64,
    pub resident_code_attempts: i64,
    pub resident_code_resend_seconds: i64,
    /// Residents' sessions (cookie `gz_resident`): idle and absolute limits.
    pub resident_session_idle_minutes: i64,
    pub resident_session_max_hours: i64,
    /// Rows a numbered list reaches into at most: the staff lists' `?page=` (50 rows a page) and
    /// Open311's `page` × `page_size`. A deeper page answers 400 naming `page` (narrow the filters
    /// instead), so that no reader makes the database skip millions of rows.
    pub list_max_rows: i64,
    /// The requests Open311's public list gives when the client names no `page_size`.
    pub open311_page_size: i64,
    /// Open311 reads (`GET`, which anyone may make without a key) one source address may make a
    /// minute (0: no limit); more answer 429 with `Retry-After`.
    pub open311_reads_per_minute: i64,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy {
            password_min_length: 8,
            password_min_classes: 3,
            password_max_age_days: 90,
            lockout_failures: 5,
            lockout_minutes: 30,
            session_idle_minutes: 30,
            session_max_hours: 12,
            token_idle_minutes: 30,
            sign_in_attempts_per_minute: 30,
            sms_codes_per_hour: 10,
            trusted_proxies: Vec::new(),
            admin_networks: Vec::new(),
            resident_code_minutes: 5,
            resident_code_attempts: 5,
            resident_code_resend_seconds: 60,
            resident_session_idle_minutes: 7 * 24 * 60,
            resident_session_max_hours: 30 * 24,
            list_max_rows: 10_000,
            open311_page_size: 50,
            open311_reads_per_minute: 120,
        }
    }
}

/// Why a new password is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PasswordProblem {
    #[error("the password has fewer than {0} characters")]
    TooShort(usize),
    #[error("the password mixes fewer than {0} kinds of characters")]
    TooSimple(usize),
    #[error("the password contains the user name")]
    ContainsUsername,
    #[error("the new password equals the old one")]
    Unchanged,
}

impl Localized for PasswordProblem {
    fn code(&self) -> ErrorCode {
        match self {
            PasswordProblem::TooShort(_) => ErrorCode::PasswordTooShort,
            PasswordProblem::TooSimple(_) => ErrorCode::PasswordTooSimple,
            PasswordProblem::ContainsUsername => ErrorCode::PasswordContainsUsername,
            PasswordProblem::Unchanged => ErrorCode::PasswordUnchanged,
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (PasswordProblem::TooShort(n), Lang::Zh) => format!("密码至少需要 {n} 个字符"),
            (PasswordProblem::TooSimple(n), Lang::Zh) => {
                format!("密码须包含小写字母、大写字母、数字、其他符号中的至少 {n} 类")
            }
            (PasswordProblem::ContainsUsername, Lang::Zh) => "密码不能包含用户名".into(),
            (PasswordProblem::Unchanged, Lang::Zh) => "新密码不能与原密码相同".into(),
            (PasswordProblem::TooSimple(n), Lang::En) => {
                format!("the password must mix at least {n} of: lower case, upper case, digits, other characters")
            }
            (other, Lang::En) => other.to_string(),
        }
    }
}

impl SecurityPolicy {
    /// Whether an administrator may work from `source` (a client address as
    /// [`SecurityPolicy::client_address`] gives it): anywhere when no network is set, else only
    /// from inside one of `admin_networks` (an unknown address is outside).
    pub fn admin_reachable_from(&self, source: &str) -> bool {
        if self.admin_networks.is_empty() {
            return true;
        }
        source
            .parse::<IpAddr>()
            .map(|ip| ip.to_canonical())
            .is_ok_and(|ip| self.admin_networks.iter().any(|net| net.contains(&ip)))
    }

    /// The address a request comes from, as sign-in counts and records it: the connection's
    /// peer; or, when the peer is one of the trusted proxies, the nearest address of
    /// `X-Forwarded-For` (read from the right) that is not a trusted proxy. `unknown` without a
    /// peer (a request made in-process).
    pub fn client_address(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> String {
        let Some(peer) = peer.map(|p| p.to_canonical()) else {
            return "unknown".to_string();
        };
        let trusted = |ip: &IpAddr| self.trusted_proxies.iter().any(|t| t.to_canonical() == *ip);
        let mut client = peer;
        if trusted(&peer) {
            for hop in forwarded_for.unwrap_or("").rsplit(',') {
                let Ok(ip) = hop.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()) else {
                    break;
                };
                client = ip;
                if !trusted(&ip) {
                    break;
                }
            }
        }
        client.to_string()
    }

    /// Checks a password someone chose (not one already stored: demo accounts keep theirs).
    pub fn check_password(&self, username: &str, password: &str) -> Result<(), PasswordProblem> {
        if password.chars().count() < self.password_min_length {
            return Err(PasswordProblem::TooShort(self.password_min_length));
        }
        let classes = [
            password.chars().any(|c| c.is_lowercase()),
            password.chars().any(|c| c.is_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password
                .chars()
                .any(|c| !c.is_ascii_alphanumeric() && !c.is_lowercase() && !c.is_uppercase()),
        ];
        if classes.iter().filter(|c| **c).count() < self.password_min_classes {
            return Err(PasswordProblem::TooSimple(self.password_min_classes));
        }
        if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
            return Err(PasswordProblem::ContainsUsername);
        }
        Ok(())
    }
}

/// The administrator roles that one account may not combine (三员分立): whoever manages accounts
/// does not also set security or read the audit record.
pub const ADMIN_ROLES: [Role; 3] = [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("one account cannot hold both {0:?} and {1:?}")]
pub struct AdminConflict(pub Role, pub Role);

impl Localized for AdminConflict {
    fn code(&self) -> ErrorCode {
        ErrorCode::AdminRolesConflict
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Zh => format!(
                "三员分立：同一账户不能同时担任{}和{}",
                self.0.label_zh(),
                self.1.label_zh()
            ),
            Lang::En => format!(
                "separation of duties: one account cannot be both {} and {}",
                self.0.as_str(),
                self.1.as_str()
            ),
        }
    }
}

/// Refuses a set of grants that gives one account two of the three administrator roles, or an
/// administrator role and a security permission: no administrator holds a personal-data
/// permission, whoever would grant it (三员分立, security-cn.md §1.10: the administrators
/// administer, they do not process personal data).
pub fn check_admin_separation(grants: &[Grant]) -> Result<(), AdminConflict> {
    let holds = |r: &Role| grants.iter().any(|g| g.role == *r);
    let held: Vec<Role> = ADMIN_ROLES.into_iter().filter(holds).collect();
    let permission = SECURITY_PERMISSIONS.into_iter().find(holds);
    match (held.as_slice(), permission) {
        ([a, b, ..], _) => Err(AdminConflict(*a, *b)),
        ([a], Some(p)) => Err(AdminConflict(*a, p)),
        _ => Ok(()),
    }
}

/// Security permissions: roles that are not administrator roles (an account may hold one beside
/// a working role) but that only the security administrator grants and revokes, because they
/// open personal data in full (三员分立: whoever hands out working roles does not also hand out
/// these).
pub const SECURITY_PERMISSIONS: [Role; 1] = [Role::PersonalDataExporter];

/// Which roles an administrator role may grant or revoke: the system administrator manages the
/// working roles, the security administrator the administrator roles and the security
/// permissions (and nobody grants their own kind to themselves, which the caller checks by
/// account).
pub fn may_grant(admin: Role, role: Role) -> bool {
    let security = ADMIN_ROLES.contains(&role) || SECURITY_PERMISSIONS.contains(&role);
    match admin {
        Role::SystemAdmin => !security,
        Role::SecurityAdmin => security,
        _ => false,
    }
}

/// Whether an administrator role looks after an account holding `grants` (activation, unlocking,
/// password resets, every role it may grant): the system administrator the accounts without an
/// administrator role (a security permission beside working roles does not take the account
/// away from it), the security administrator the administrators' accounts (holding an
/// administrator role and only roles it grants; not an account left with no role or with only
/// a security permission, whose password it could otherwise set).
pub fn looks_after(admin: Role, grants: &[Grant]) -> bool {
    match admin {
        Role::SystemAdmin => grants.iter().all(|g| !ADMIN_ROLES.contains(&g.role)),
        Role::SecurityAdmin => {
            grants.iter().any(|g| ADMIN_ROLES.contains(&g.role)) && grants.iter().all(|g| may_grant(admin, g.role))
        }
        _ => false,
    }
}

/// Why a security permission may not be granted to an account (三员分立 for personal data,
/// security-cn.md §1.10 and §3.5: two people, and never a password an administrator knows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PermissionRefusal {
    /// It goes only to a member of staff: an account holding a working role, whose identity the
    /// system administrator manages. An account made for the purpose (by the security
    /// administrator, who may grant it) would be one person's work.
    #[error("{0:?} goes only to an account that holds a working role")]
    NoWorkingRole(Role),
    /// The account's password was set by an administrator and its owner has not changed it yet:
    /// whoever set it could use the permission.
    #[error("{0:?} goes only to an account whose owner has set its password")]
    PasswordNotOwn(Role),
}

impl Localized for PermissionRefusal {
    fn code(&self) -> ErrorCode {
        ErrorCode::PersonalDataGrantRefused
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (PermissionRefusal::NoWorkingRole(r), Lang::Zh) => format!(
                "{}权限只能授予已有工作角色的工作人员账户（三员分立：账户由系统管理员管理）",
                r.label_zh()
            ),
            (PermissionRefusal::PasswordNotOwn(r), Lang::Zh) => format!(
                "该账户的密码由管理员设置，尚未由本人修改：本人修改密码后才能授予{}权限",
                r.label_zh()
            ),
            (PermissionRefusal::NoWorkingRole(r), Lang::En) => format!(
                "the {} permission goes only to a member of staff holding a working role (separation of duties: the system administrator manages accounts)",
                r.label(Lang::En)
            ),
            (PermissionRefusal::PasswordNotOwn(r), Lang::En) => format!(
                "an administrator set this account's password and its owner has not changed it yet: the {} permission can be granted once they have",
                r.label(Lang::En)
            ),
        }
    }
}

/// Checks that `role`, if a security permission, may go to an account holding `grants` whose
/// current password its owner chose (`password_is_own`: not set by an administrator and not yet
/// changed).
pub fn check_permission_grant(role: Role, grants: &[Grant], password_is_own: bool) -> Result<(), PermissionRefusal> {
    if !SECURITY_PERMISSIONS.contains(&role) {
        return Ok(());
    }
    if !grants.iter().any(|g| Role::WORKING.contains(&g.role)) {
        return Err(PermissionRefusal::NoWorkingRole(role));
    }
    if !password_is_own {
        return Err(PermissionRefusal::PasswordNotOwn(role));
    }
    Ok(())
}

/// An administrator may not set the password of an account holding a security permission: the
/// permission would then work with a password the administrator knows. The security
/// administrator revokes it first, and grants it again once the person has set their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the account holds {0:?}: revoke it before resetting the password")]
pub struct HeldPermission(pub Role);

impl Localized for HeldPermission {
    fn code(&self) -> ErrorCode {
        ErrorCode::PersonalDataHolderReset
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Zh => format!(
                "该账户持有{}权限，管理员不能重置其密码：请安全管理员先撤销该权限，本人设置新密码后再授予",
                self.0.label_zh()
            ),
            Lang::En => format!(
                "the account holds the {} permission, so no administrator may reset its password: the security administrator revokes it first and grants it again once the person has set a new password",
                self.0.label(Lang::En)
            ),
        }
    }
}

/// Refuses an administrator's password reset of an account holding a security permission.
pub fn check_password_reset(grants: &[Grant]) -> Result<(), HeldPermission> {
    match grants.iter().find(|g| SECURITY_PERMISSIONS.contains(&g.role)) {
        Some(g) => Err(HeldPermission(g.role)),
        None => Ok(()),
    }
}

/// Whether an administrator role may hand out or take back security permissions on an account
/// it does not look after: the security administrator, on accounts without an administrator role
/// (a street staff member who is to export personal data).
pub fn sets_permissions_of(admin: Role, grants: &[Grant]) -> bool {
    admin == Role::SecurityAdmin && grants.iter().all(|g| !ADMIN_ROLES.contains(&g.role))
}

/// Whether an administrator holding `admin_role` at `admin_scope` manages an account with
/// `grants`: every territorial grant lies in the administrator's subtree, department grants only
/// for a city-wide administrator, and an account without grants (just created) for any.
pub fn manages(admin_scope: &Scope, grants: &[Grant]) -> bool {
    let Scope::Territory(admin_node) = admin_scope else {
        return false;
    };
    grants.iter().all(|g| match &g.scope {
        Scope::Territory(t) => admin_scope.reaches(t),
        // A member organization's street is in the registry, not in the grant: city-wide only.
        Scope::Department(_) | Scope::Organization(_) => admin_node.level() <= crate::territory::Level::City,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::territory::TerritoryCode;

    fn grant(role: Role) -> Grant {
        Grant {
            role,
            scope: Scope::Territory(TerritoryCode::parse("230900000000").unwrap()),
        }
    }

    #[test]
    fn a_password_needs_length_and_three_kinds_of_characters() {
        let p = SecurityPolicy::default();
        assert_eq!(p.check_password("li", "Ab1!"), Err(PasswordProblem::TooShort(8)));
        assert_eq!(p.check_password("li", "abcdefgh1"), Err(PasswordProblem::TooSimple(3)));
        assert_eq!(
            p.check_password("wangwu", "Wangwu2026!"),
            Err(PasswordProblem::ContainsUsername)
        );
        assert_eq!(p.check_password("li", "Qitaihe2026"), Ok(()));
        assert_eq!(
            p.check_password("li", "七台河qth2026"),
            Ok(()),
            "Chinese counts as another class"
        );
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let mut p = SecurityPolicy::default();
        let peer = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(p.client_address(None, Some("1.2.3.4")), "unknown");
        // Without trusted proxies the header is the client's own word: ignored.
        assert_eq!(p.client_address(peer("203.0.113.9"), Some("1.2.3.4")), "203.0.113.9");
        assert_eq!(p.client_address(peer("::ffff:203.0.113.9"), None), "203.0.113.9");
        p.trusted_proxies = vec!["10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()];
        assert_eq!(p.client_address(peer("203.0.113.9"), Some("1.2.3.4")), "203.0.113.9");
        // What the client wrote itself (the left part) is passed over.
        assert_eq!(
            p.client_address(peer("10.0.0.1"), Some("6.6.6.6, 198.51.100.7, 10.0.0.2")),
            "198.51.100.7"
        );
        assert_eq!(p.client_address(peer("10.0.0.1"), None), "10.0.0.1");
        assert_eq!(
            p.client_address(peer("10.0.0.1"), Some("junk, 198.51.100.7")),
            "198.51.100.7"
        );
        assert_eq!(
            p.client_address(peer("10.0.0.1"), Some("198.51.100.7, junk")),
            "10.0.0.1"
        );
    }

    #[test]
    fn the_three_administrators_stay_apart() {
        assert!(check_admin_separation(&[grant(Role::SystemAdmin), grant(Role::Leader)]).is_ok());
        let e = check_admin_separation(&[grant(Role::SystemAdmin), grant(Role::AuditAdmin)]).unwrap_err();
        assert!(e.message(Lang::Zh).contains("系统管理员"));
        assert!(may_grant(Role::SystemAdmin, Role::Dispatcher));
        assert!(!may_grant(Role::SystemAdmin, Role::SecurityAdmin));
        assert!(may_grant(Role::SecurityAdmin, Role::AuditAdmin));
        assert!(!may_grant(Role::SecurityAdmin, Role::GridWorker));
        assert!(!may_grant(Role::AuditAdmin, Role::GridWorker));
    }

    #[test]
    fn only_the_security_administrator_hands_out_the_personal_data_export() {
        assert!(may_grant(Role::SecurityAdmin, Role::PersonalDataExporter));
        assert!(!may_grant(Role::SystemAdmin, Role::PersonalDataExporter));
        assert!(!may_grant(Role::AuditAdmin, Role::PersonalDataExporter));
        assert!(!Role::WORKING.contains(&Role::PersonalDataExporter));
        // It is no administrator role: a street staff member may hold it.
        let exporter = [grant(Role::StreetStaff), grant(Role::PersonalDataExporter)];
        assert!(check_admin_separation(&exporter).is_ok());
        // The system administrator still looks after that account; the security administrator
        // only sets its permissions.
        assert!(looks_after(Role::SystemAdmin, &exporter));
        assert!(!looks_after(Role::SecurityAdmin, &exporter));
        assert!(sets_permissions_of(Role::SecurityAdmin, &exporter));
        assert!(!sets_permissions_of(Role::SystemAdmin, &exporter));
        assert!(!sets_permissions_of(Role::SecurityAdmin, &[grant(Role::AuditAdmin)]));
        assert!(looks_after(Role::SecurityAdmin, &[grant(Role::AuditAdmin)]));
        assert!(!looks_after(Role::SystemAdmin, &[grant(Role::AuditAdmin)]));
        // An account left with no role, or with only the permission, is the system
        // administrator's: the security administrator cannot set its password.
        assert!(!looks_after(Role::SecurityAdmin, &[]));
        assert!(!looks_after(Role::SecurityAdmin, &[grant(Role::PersonalDataExporter)]));
        assert!(looks_after(Role::SystemAdmin, &[grant(Role::PersonalDataExporter)]));
        assert_eq!("personal_data_exporter".parse::<Role>(), Ok(Role::PersonalDataExporter));
        assert_eq!(Role::PersonalDataExporter.label(Lang::Zh), "个人信息导出员");
    }

    #[test]
    fn no_administrator_holds_a_personal_data_permission() {
        for admin in ADMIN_ROLES {
            let e = check_admin_separation(&[grant(admin), grant(Role::PersonalDataExporter)]).unwrap_err();
            assert_eq!(e, AdminConflict(admin, Role::PersonalDataExporter));
            assert!(
                e.message(Lang::Zh).contains("个人信息导出员"),
                "{}",
                e.message(Lang::Zh)
            );
        }
    }

    #[test]
    fn the_permission_goes_to_staff_who_set_their_own_password() {
        let exporter = Role::PersonalDataExporter;
        let staff = [grant(Role::StreetStaff)];
        assert_eq!(check_permission_grant(exporter, &staff, true), Ok(()));
        assert_eq!(
            check_permission_grant(exporter, &staff, false),
            Err(PermissionRefusal::PasswordNotOwn(exporter))
        );
        assert_eq!(
            check_permission_grant(exporter, &[], true),
            Err(PermissionRefusal::NoWorkingRole(exporter))
        );
        assert_eq!(
            check_permission_grant(exporter, &[grant(Role::AuditAdmin)], true),
            Err(PermissionRefusal::NoWorkingRole(exporter))
        );
        // Working roles are not security permissions: nothing to check.
        assert_eq!(check_permission_grant(Role::Dispatcher, &[], false), Ok(()));
        let e = check_permission_grant(exporter, &staff, false).unwrap_err();
        assert_eq!(e.code(), ErrorCode::PersonalDataGrantRefused);
        assert!(e.message(Lang::Zh).contains("本人修改密码"));
        // Nobody resets the holder's password; anyone else's, as before.
        assert_eq!(check_password_reset(&staff), Ok(()));
        assert_eq!(
            check_password_reset(&[grant(Role::StreetStaff), grant(exporter)]),
            Err(HeldPermission(exporter))
        );
    }

    #[test]
    fn a_street_administrator_manages_only_accounts_in_the_street() {
        let street = Scope::Territory(TerritoryCode::parse("230903011000").unwrap());
        let inside = Grant {
            role: Role::GridWorker,
            scope: Scope::Territory(TerritoryCode::parse("230903011001001").unwrap()),
        };
        let department = Grant {
            role: Role::DepartmentHandler,
            scope: Scope::Department(crate::orgs::DepartmentCode::parse("urban-management").unwrap()),
        };
        assert!(manages(&street, std::slice::from_ref(&inside)));
        assert!(manages(&street, &[]));
        assert!(!manages(&street, &[grant(Role::Leader)]));
        assert!(!manages(&street, &[inside, department.clone()]));
        assert!(manages(&grant(Role::SystemAdmin).scope, &[department]));
    }
}
