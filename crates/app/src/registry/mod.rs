//! The registry (实有人口登记, issue 7): browsing and searching it, households and their people
//! (masked; in full only after a stated reason, audited), corrections of its places and
//! organizations, importing staff's spreadsheets and exporting what is registered.
//!
//! Who may do what (docs/REGISTRY.md):
//! - read, masked: grid workers, community workers, street staff and leaders, within their scope;
//! - add people to a household: grid workers, community workers and street staff in scope;
//! - full view, and editing a person (whose form shows the values in full): community workers and
//!   street staff within their scope; a full view needs a stated reason; both are audited (who,
//!   when, why, which fields) before anything is shown;
//! - correct places and organizations: who may import an area ([`Reach`]).
//!
//! Outside the reader's scope a building, household or person is 404, as if it did not exist;
//! a `within` outside it is 403. Without a personal-data key the registry answers 503.

pub mod edit;
pub mod export;
pub mod import;
mod organizations;
mod places;
mod residents;

use std::sync::Arc;

use gongzhi_core::ErrorCode;
use gongzhi_core::data::FieldError;
use gongzhi_core::import::Reach;
use gongzhi_core::people::cipher::CipherProvider;
use gongzhi_core::people::{Actor, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_core::{Lang, Localized};

pub use gongzhi_store::orgs::{OrgCounts, PartyOrganization, PropertyCompany};
pub use gongzhi_store::people::registry::Assignment;
pub use gongzhi_store::territory::places::{
    Building, BuildingSummary, Compound, Entrance, Household, NearbyCase, RegistryCounts,
};
pub use organizations::{Organizations, organizations};
pub use places::{BuildingView, Buildings, Found, HouseholdView, browse, building, buildings, household, search};
pub use residents::{
    Chief, SetChief, add_resident, open_for_edit, resident_household, reveal, set_chief, update_resident,
};

use crate::{App, AppError};

pub const READERS: [Role; 4] = [Role::GridWorker, Role::CommunityWorker, Role::StreetStaff, Role::Leader];
pub const EDITORS: [Role; 3] = [Role::GridWorker, Role::CommunityWorker, Role::StreetStaff];
pub const REVEALERS: [Role; 2] = [Role::CommunityWorker, Role::StreetStaff];

/// Rows a list or search shows at most.
const LIMIT: i64 = 200;

/// No import template has this key.
pub fn unknown_template(key: &str) -> AppError {
    AppError::new(
        ErrorCode::UnknownTemplate,
        Some("template"),
        format!("没有名为“{key}”的导入模板"),
        format!("no import template is called {key:?}"),
    )
}

/// The reach of an importer, or 403 for someone who may not import.
pub fn importer_reach(actor: &Actor) -> Result<Reach, AppError> {
    let reach = Reach::of(actor);
    if reach.is_empty() {
        Err(AppError::forbidden(
            "只有系统管理员、街道工作人员和社区工作者可以导入",
            "only system administrators, street staff and community workers may import",
        ))
    } else {
        Ok(reach)
    }
}

/// Whether `actor` holds one of `roles` over the grid (or node) `code`.
pub fn may(actor: &Actor, roles: &[Role], code: &str) -> bool {
    TerritoryCode::parse(code).is_ok_and(|c| roles.iter().any(|r| actor.has_role_over(*r, &c)))
}

/// Whether `actor` may add and edit people at `code`.
pub fn may_edit(actor: &Actor, code: &str) -> bool {
    may(actor, &EDITORS, code)
}

/// Whether `actor` may see people at `code` in full.
pub fn may_reveal(actor: &Actor, code: &str) -> bool {
    may(actor, &REVEALERS, code)
}

/// Whether `actor` may correct places at `code` (who may import an area may correct it).
pub fn may_correct(actor: &Actor, code: &str) -> bool {
    let reach = Reach::of(actor);
    TerritoryCode::parse(code).is_ok_and(|c| reach.reaches(&c))
}

/// The subtree prefixes the reader reaches with a reading role, widest first.
fn reach(actor: &Actor) -> Vec<String> {
    let mut out: Vec<String> = actor
        .grants
        .iter()
        .filter(|g| READERS.contains(&g.role))
        .filter_map(|g| match &g.scope {
            Scope::Territory(t) => Some(t.subtree_prefix().to_string()),
            Scope::Department(_) | Scope::Organization(_) => None,
        })
        .collect();
    out.sort_by_key(|p| p.len());
    out.dedup();
    out
}

fn no_role() -> AppError {
    AppError::forbidden(
        "仅网格员、社区工作者、街道工作人员和领导可以查看实有人口登记",
        "only grid workers, community workers, street staff and leaders read the registry",
    )
}

fn not_a_revealer() -> AppError {
    AppError::forbidden(
        "仅本辖区的社区工作者、街道工作人员可以查看完整信息",
        "only community workers and street staff of the area see full personal data",
    )
}

fn cipher(app: &App) -> Result<Arc<dyn CipherProvider>, AppError> {
    app.cipher().ok_or_else(|| {
        AppError::new(
            ErrorCode::PersonalDataKeyMissing,
            None,
            "未配置个人信息密钥，登记库暂不可用",
            "no personal-data key is configured: the registry is unavailable",
        )
    })
}

/// A refused field of a person's form: 4xx naming the field.
pub fn field_error(e: &FieldError) -> AppError {
    AppError::new(e.code(), Some(e.field), e.message(Lang::Zh), e.message(Lang::En))
}

/// The subtree prefix of the node `within` names (or the reader's widest), checked against their
/// reach: 403 outside it.
pub fn within(actor: &Actor, within: Option<&str>) -> Result<String, AppError> {
    let reach = reach(actor);
    let Some(widest) = reach.first() else {
        return Err(no_role());
    };
    let Some(w) = within.map(str::trim).filter(|w| !w.is_empty()) else {
        return Ok(widest.clone());
    };
    let code = TerritoryCode::parse(w).map_err(|e| AppError::bad_code("within", e))?;
    let prefix = code.subtree_prefix().to_string();
    if reach.iter().any(|r| prefix.starts_with(r.as_str())) {
        Ok(prefix)
    } else {
        Err(AppError::new(
            ErrorCode::OutsideScope,
            Some("within"),
            format!("{w} 不在您的权限范围内"),
            format!("{w} is outside your scope"),
        ))
    }
}
