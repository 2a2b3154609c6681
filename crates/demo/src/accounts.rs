//! The demo city's staff accounts, one per role (demo only; the README lists them).

use anyhow::Result;
use gongzhi_core::audit::{AuditKey, SYSTEM_ACTOR};
use gongzhi_core::orgs::registry::{NewMemberOrganization, OrgKind};
use gongzhi_core::orgs::{CreditCode, DepartmentCode};
use gongzhi_core::people::credentials::hash_password;
use gongzhi_core::people::{Grant, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_store::Db;

/// The demo city's staff: one account per role, all with `password` (demo only; the README lists
/// them). Accounts already there are left alone.
pub const DEMO_ACCOUNTS: [(&str, &str, Role, &str); 12] = [
    ("admin", "系统管理员", Role::SystemAdmin, "territory:230900000000"),
    ("secadmin", "安全管理员", Role::SecurityAdmin, "territory:230900000000"),
    ("auditor", "审计管理员", Role::AuditAdmin, "territory:230900000000"),
    ("leader", "市领导", Role::Leader, "territory:230900000000"),
    ("clerk", "指挥中心受理员", Role::IntakeClerk, "territory:230900000000"),
    ("shiftlead", "指挥中心值班长", Role::ShiftLead, "territory:230900000000"),
    (
        "dispatcher",
        "指挥中心派遣员",
        Role::Dispatcher,
        "territory:230900000000",
    ),
    (
        "handler",
        "城管局经办人",
        Role::DepartmentHandler,
        "department:urban-management",
    ),
    (
        "street",
        "桃东街道工作人员",
        Role::StreetStaff,
        "territory:230903011000",
    ),
    (
        "community",
        "学府社区工作者",
        Role::CommunityWorker,
        "territory:230903011001",
    ),
    (
        "gridworker",
        "学府社区第1网格网格员",
        Role::GridWorker,
        "territory:230903011001001",
    ),
    (
        "exporter",
        "桃东街道个人信息导出员",
        Role::StreetStaff,
        "territory:230903011000",
    ),
];

/// Roles some demo accounts hold besides their first: the `exporter` is street staff who may
/// also export the street's residents unmasked (a security permission, 三员分立).
pub const DEMO_EXTRA_GRANTS: [(&str, Role, &str); 1] =
    [("exporter", Role::PersonalDataExporter, "territory:230903011000")];

fn demo_scope(s: &str) -> Result<Scope> {
    Ok(match s.split_once(':') {
        Some(("territory", code)) => Scope::Territory(TerritoryCode::parse(code)?),
        Some(("department", code)) => Scope::Department(DepartmentCode::parse(code)?),
        Some(("organization", id)) => Scope::Organization(id.parse()?),
        _ => anyhow::bail!("bad demo scope {s}"),
    })
}

/// The demo liaison: its user name, its member organization's name and the first eight
/// characters of the organization's code (in the credit code after 91 and 230903).
pub const DEMO_LIAISON: (&str, &str, &str) = ("liaison", "七台河市桃东家政服务有限公司", "MA1B2C3D");

/// Creates the demo accounts if the database has no accounts yet.
pub async fn ensure_demo_accounts(db: &Db, password: &str, key: &AuditKey) -> Result<bool> {
    if db.account_count().await? > 0 {
        return Ok(false);
    }
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await??;
    for (username, name, role, scope) in DEMO_ACCOUNTS {
        let mut grants = vec![Grant {
            role,
            scope: demo_scope(scope)?,
        }];
        for (_, role, scope) in DEMO_EXTRA_GRANTS.iter().filter(|(u, ..)| *u == username) {
            grants.push(Grant {
                role: *role,
                scope: demo_scope(scope)?,
            });
        }
        db.create_account(username, name, Some(&hash), &grants, SYSTEM_ACTOR, key)
            .await?;
    }
    tracing::warn!(
        "demo accounts created (admin, secadmin, auditor, leader, clerk, shiftlead, dispatcher, handler, street, community, gridworker, exporter): for demonstration only"
    );
    Ok(true)
}

/// Creates the demo liaison (单位联络员) and its member organization of 桃东街道 (written as the
/// registry import would) unless the account exists: the demo's taker of published needs. Only
/// `gongzhi demo` calls it, after the accounts; the organization is registry data, which the
/// accounts alone do not bring.
pub async fn ensure_demo_liaison(db: &Db, password: &str, key: &AuditKey) -> Result<bool> {
    if db.account_by_username(DEMO_LIAISON.0).await?.is_some() {
        return Ok(false);
    }
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await??;
    let credit_code = CreditCode::from_parts("91", "230903", DEMO_LIAISON.2)?;
    let org = match db.member_organization_by_credit_code(credit_code.as_str()).await? {
        Some(id) => id,
        None => {
            let mut tx = db.begin().await?;
            let ids = gongzhi_store::orgs::insert_member_organizations_tx(
                &mut tx,
                key,
                SYSTEM_ACTOR,
                &[NewMemberOrganization {
                    credit_code,
                    name: DEMO_LIAISON.1.into(),
                    kind: OrgKind::Enterprise,
                    community_code: Some("230903011001".into()),
                    street_code: "230903011000".into(),
                    address: "桃东街道学府街8号".into(),
                }],
            )
            .await?;
            tx.commit().await?;
            ids[0]
        }
    };
    let grants = [Grant {
        role: Role::Liaison,
        scope: Scope::Organization(org),
    }];
    let name = format!("{}联络员", DEMO_LIAISON.1);
    db.create_account(DEMO_LIAISON.0, &name, Some(&hash), &grants, SYSTEM_ACTOR, key)
        .await?;
    tracing::warn!("demo liaison account created (liaison): for demonstration only");
    Ok(true)
}
