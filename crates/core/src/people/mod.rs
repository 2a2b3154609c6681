//! People who act: staff roles held at a node of the territory tree or in a department.

pub mod cipher;
pub mod credentials;
pub mod id_number;
pub mod masking;
pub mod policy;
pub mod registry;
pub mod resident;

use serde::{Deserialize, Serialize};

use crate::orgs::DepartmentCode;
use crate::territory::TerritoryCode;

/// The roles of the glossary. A role is held at a scope and reaches that scope's subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    GridWorker,
    CommunityWorker,
    StreetStaff,
    IntakeClerk,
    ShiftLead,
    Dispatcher,
    DepartmentHandler,
    Leader,
    /// A member organization's liaison (单位联络员): acts for its organization only (the scope
    /// [`Scope::Organization`]), taking and delivering the needs a community publishes.
    Liaison,
    SystemAdmin,
    SecurityAdmin,
    AuditAdmin,
    /// Personal-data exporter (个人信息导出员): may export the registry's people unmasked, with a
    /// stated reason, within its scope. A security permission: granted and revoked by the security
    /// administrator only (三员分立), and not a working role (it works on no case).
    PersonalDataExporter,
    /// A resident signed in by phone (居民): never granted, held only as the reporter of a case
    /// (it rates its own report); not in [`Role::ALL`], the roles accounts are given.
    Resident,
}

impl std::str::FromStr for Role {
    type Err = crate::territory::node::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| crate::territory::node::UnknownName {
                what: "role",
                value: s.to_string(),
            })
    }
}

impl Role {
    /// The roles that work on cases (every role but the three administrators and the
    /// personal-data exporter).
    pub const WORKING: [Role; 9] = [
        Role::GridWorker,
        Role::CommunityWorker,
        Role::StreetStaff,
        Role::IntakeClerk,
        Role::ShiftLead,
        Role::Dispatcher,
        Role::DepartmentHandler,
        Role::Leader,
        Role::Liaison,
    ];

    pub const ALL: [Role; 13] = [
        Role::GridWorker,
        Role::CommunityWorker,
        Role::StreetStaff,
        Role::IntakeClerk,
        Role::ShiftLead,
        Role::Dispatcher,
        Role::DepartmentHandler,
        Role::Leader,
        Role::Liaison,
        Role::SystemAdmin,
        Role::SecurityAdmin,
        Role::AuditAdmin,
        Role::PersonalDataExporter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::GridWorker => "grid_worker",
            Role::CommunityWorker => "community_worker",
            Role::StreetStaff => "street_staff",
            Role::IntakeClerk => "intake_clerk",
            Role::ShiftLead => "shift_lead",
            Role::Dispatcher => "dispatcher",
            Role::DepartmentHandler => "department_handler",
            Role::Leader => "leader",
            Role::Liaison => "liaison",
            Role::SystemAdmin => "system_admin",
            Role::SecurityAdmin => "security_admin",
            Role::AuditAdmin => "audit_admin",
            Role::PersonalDataExporter => "personal_data_exporter",
            Role::Resident => "resident",
        }
    }

    /// The role's name in the language of the page.
    pub fn label(self, lang: crate::Lang) -> &'static str {
        match lang {
            crate::Lang::Zh => self.label_zh(),
            crate::Lang::En => match self {
                Role::GridWorker => "grid worker",
                Role::CommunityWorker => "community worker",
                Role::StreetStaff => "street staff",
                Role::IntakeClerk => "intake clerk",
                Role::ShiftLead => "shift lead",
                Role::Dispatcher => "dispatcher",
                Role::DepartmentHandler => "department handler",
                Role::Leader => "leader",
                Role::Liaison => "liaison",
                Role::SystemAdmin => "system administrator",
                Role::SecurityAdmin => "security administrator",
                Role::AuditAdmin => "audit administrator",
                Role::PersonalDataExporter => "personal-data exporter",
                Role::Resident => "resident",
            },
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::GridWorker => "网格员",
            Role::CommunityWorker => "社区工作者",
            Role::StreetStaff => "街道工作人员",
            Role::IntakeClerk => "受理员",
            Role::ShiftLead => "值班长",
            Role::Dispatcher => "派遣员",
            Role::DepartmentHandler => "部门经办人",
            Role::Leader => "领导",
            Role::Liaison => "单位联络员",
            Role::SystemAdmin => "系统管理员",
            Role::SecurityAdmin => "安全管理员",
            Role::AuditAdmin => "审计管理员",
            Role::PersonalDataExporter => "个人信息导出员",
            Role::Resident => "居民",
        }
    }
}

/// Where a role is held: a territory node (reaching its subtree), a department, or a member
/// organization of the registry (by its id: a liaison acts for it and for nothing else).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum Scope {
    Territory(TerritoryCode),
    Department(DepartmentCode),
    Organization(i64),
}

impl Scope {
    /// Whether this scope reaches a territory node (the node itself or one below it).
    pub fn reaches(&self, node: &TerritoryCode) -> bool {
        match self {
            Scope::Territory(t) => node.as_str().starts_with(t.subtree_prefix()),
            Scope::Department(_) | Scope::Organization(_) => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    pub scope: Scope,
}

/// Someone acting: an account and the roles it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub account: String,
    pub grants: Vec<Grant>,
}

impl Actor {
    /// Holds `role` at a scope reaching `node`.
    pub fn has_role_over(&self, role: Role, node: &TerritoryCode) -> bool {
        self.grants.iter().any(|g| g.role == role && g.scope.reaches(node))
    }

    /// Holds `role` in `department`.
    pub fn has_role_in(&self, role: Role, department: &DepartmentCode) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == role && g.scope == Scope::Department(department.clone()))
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_reaches_the_subtree_of_its_node() {
        let street = TerritoryCode::parse("230903011000").unwrap();
        let actor = Actor {
            account: "street".into(),
            grants: vec![Grant {
                role: Role::StreetStaff,
                scope: Scope::Territory(street),
            }],
        };
        assert!(actor.has_role_over(Role::StreetStaff, &TerritoryCode::parse("230903011001007").unwrap()));
        assert!(!actor.has_role_over(Role::StreetStaff, &TerritoryCode::parse("230903012001007").unwrap()));
        assert!(!actor.has_role_over(Role::Dispatcher, &TerritoryCode::parse("230903011001007").unwrap()));
    }
}
