//! The organizations of an area, read-only: member organizations (辖区单位), compounds with their
//! property company and owners' committee (小区与物业), and the party organizations from the
//! street working committee down (党组织). Organizations hold no personal data, so nothing here
//! is masked; party members are counted, never listed, because membership is personal data.

use std::collections::HashMap;

use gongzhi_core::orgs::registry::MemberOrganization;
use gongzhi_core::people::Actor;

use super::{Compound, OrgCounts, PartyOrganization};
use crate::{App, AppError};

/// The organizations of an area.
pub struct Organizations {
    /// The subtree prefix of the area.
    pub prefix: String,
    pub counts: OrgCounts,
    pub members: Vec<MemberOrganization>,
    pub compounds: Vec<Compound>,
    /// Property companies' names by id (a company serves compounds anywhere).
    pub property_companies: HashMap<i64, String>,
    /// Owners' committees' names by compound id.
    pub owners_committees: HashMap<i64, String>,
    pub party_organizations: Vec<PartyOrganization>,
    /// The departments' offices posted to the streets of the area (派驻机构).
    pub posted_offices: Vec<gongzhi_core::orgs::registry::PostedOffice>,
}

/// The organizations of the area `within` names (or the reader's widest).
pub async fn organizations(app: &App, actor: &Actor, within: Option<&str>) -> Result<Organizations, AppError> {
    let prefix = super::within(actor, within)?;
    let db = app.db();
    let members = db.member_organizations_within(&prefix).await?;
    let property_companies = db
        .property_companies()
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let owners_committees = db
        .owners_committees_within(&prefix)
        .await?
        .into_iter()
        .map(|o| (o.compound_id, o.name))
        .collect();
    let compounds = db.compounds_within(&prefix).await?;
    let party_organizations = db.party_organizations_within(&prefix).await?;
    let counts = db.org_counts(&prefix).await?;
    // A street's offices serve its communities too: a community's page lists its street's.
    let street_prefix: String = prefix.chars().take(9).collect();
    let posted_offices = db.posted_offices_within(&street_prefix).await?;
    Ok(Organizations {
        posted_offices,
        prefix,
        counts,
        members,
        compounds,
        property_companies,
        owners_committees,
        party_organizations,
    })
}
