//! Co-governance in the palm community (共治 · 掌上社区): notices ([`notices`]), community groups
//! ([`groups`]), surveys ([`surveys`]) and residents' needs ([`orders`]), which community staff run
//! for the communities they serve; "me too" on public cases near a resident ([`nearby`]) and a
//! resident's own reports ([`reports`]). Here too: the community each resident picked, and the
//! name they show under ([`choose_community`]).
//!
//! Who serves a community: its community workers, and street staff over it ([`serves`]).

pub mod agreements;
pub mod groups;
pub mod meetings;
pub mod nearby;
pub mod notices;
pub mod orders;
pub mod reports;
pub mod surveys;

use std::sync::LazyLock;

use chrono::Utc;
use gongzhi_core::ErrorCode;
use gongzhi_core::cogov::groups::display_name;
use gongzhi_core::cogov::orders::PalmRules;
use gongzhi_core::people::{Actor, Role};
use gongzhi_core::territory::TerritoryCode;

use crate::people::residents::Resident;
use crate::{App, AppError, TerritoryIndex};

/// The palm community's settings of the city (the radius of "me too", the kinds of needs).
pub static PALM: LazyLock<PalmRules> =
    LazyLock::new(|| PalmRules::qitaihe().expect("data/qitaihe/palm-community.toml is shipped valid"));

/// The roles that run a community's co-governance, over the community.
pub const STAFF_ROLES: [Role; 2] = [Role::CommunityWorker, Role::StreetStaff];

/// Whether `actor` serves `community`: a community worker of it, or street staff over it.
pub fn serves(actor: &Actor, community: &str) -> bool {
    TerritoryCode::parse(community).is_ok_and(|code| STAFF_ROLES.iter().any(|r| actor.has_role_over(*r, &code)))
}

/// Whether `actor` serves some community.
pub fn is_staff(actor: &Actor) -> bool {
    STAFF_ROLES.iter().any(|r| actor.has_role(*r))
}

/// Refused: not community staff (or not of this community).
pub fn not_a_publisher() -> AppError {
    AppError::forbidden(
        "仅社区工作者、街道工作人员可以发布和管理通知公告",
        "only community workers and street staff publish and manage notices",
    )
}

/// Community staff somewhere, or 403.
fn staff_only(actor: &Actor) -> Result<(), AppError> {
    if is_staff(actor) {
        Ok(())
    } else {
        Err(not_a_publisher())
    }
}

/// A field of a co-governance form is refused (422 naming it).
fn invalid(field: &'static str, zh: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidField, Some(field), zh, en)
}

/// A place co-governance addresses: a community, or a grid of it.
#[derive(Clone, Debug)]
pub struct Place {
    pub code: String,
    pub label: String,
    pub community: String,
    pub grid: Option<String>,
}

/// Every community and grid of the index, communities first, each followed by its grids.
pub fn places(index: &TerritoryIndex) -> Vec<Place> {
    let mut grids: Vec<_> = index.by_code.values().collect();
    grids.sort_by(|a, b| a.grid.code.cmp(&b.grid.code));
    let mut out: Vec<Place> = Vec::new();
    for l in grids {
        if !out.iter().any(|p| p.code == l.community.code) {
            out.push(Place {
                code: l.community.code.clone(),
                label: format!("{} {} {}", l.district.name, l.street.name, l.community.name),
                community: l.community.code.clone(),
                grid: None,
            });
        }
        out.push(Place {
            code: l.grid.code.clone(),
            label: format!("{} · {}", l.community.name, l.grid.name),
            community: l.community.code.clone(),
            grid: Some(l.grid.code.clone()),
        });
    }
    out
}

/// The places of the communities `actor` serves.
pub fn places_served(app: &App, actor: &Actor) -> Vec<Place> {
    places(&app.index())
        .into_iter()
        .filter(|p| serves(actor, &p.community))
        .collect()
}

/// The name of a community, or its code when the index does not know it.
pub fn community_name(index: &TerritoryIndex, code: &str) -> String {
    index
        .communities()
        .find(|l| l.community.code == code)
        .map_or_else(|| code.to_string(), |l| l.community.name.clone())
}

/// The community the resident picked, if they did.
pub async fn community_of(app: &App, resident: &Resident) -> Result<Option<String>, AppError> {
    Ok(app.db().resident_community(resident.id).await?)
}

/// What the resident chose: their community, and the name they show under in groups.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub community: Option<String>,
    pub display_name: Option<String>,
}

/// The resident's community and display name.
pub async fn profile(app: &App, resident: &Resident) -> Result<Profile, AppError> {
    Ok(Profile {
        community: app.db().resident_community(resident.id).await?,
        display_name: app.db().resident_display_name(resident.id).await?,
    })
}

/// Choosing one's community and, optionally, the name shown in groups (empty keeps the one
/// chosen before, if any).
pub struct ChooseCommunity {
    pub community: String,
    pub display_name: String,
}

/// Sets the resident's community and display name; each change is audited, and an unchanged
/// value is not written again.
pub async fn choose_community(app: &App, resident: &Resident, cmd: ChooseCommunity) -> Result<(), AppError> {
    let code = cmd.community.trim();
    if !app.index().communities().any(|l| l.community.code == code) {
        return Err(invalid(
            "community",
            "请选择所在社区（community）",
            "choose your community (community)",
        ));
    }
    let name = cmd.display_name.trim();
    let name = if name.is_empty() {
        None
    } else {
        Some(display_name(name).map_err(AppError::draft)?)
    };
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let now = Utc::now();
    if app.db().resident_community(resident.id).await?.as_deref() != Some(code) {
        app.db().set_resident_community(resident.id, code, now, &key).await?;
    }
    if let Some(n) = name
        && app.db().resident_display_name(resident.id).await?.as_deref() != Some(n.as_str())
    {
        app.db().set_display_name(resident.id, &n, now, &key).await?;
    }
    Ok(())
}
