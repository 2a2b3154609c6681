//! The organizations of the registry: member organizations (辖区单位, with their unified social
//! credit code), departments' posted offices (派驻机构), property companies (物业企业), owners'
//! committees (业主委员会, one per compound) and the party organizations (党组织) from the street
//! working committee down to grid organizations and branches in companies.

use super::CreditCode;
use crate::data::{FieldError, FieldProblem, labelled_enum};
use serde::{Deserialize, Serialize};

labelled_enum!(
    /// The kind of a member organization.
    OrgKind, "organization kind", {
        Agency => ("agency", "机关", "agency"),
        PublicInstitution => ("public_institution", "事业单位", "public institution"),
        Enterprise => ("enterprise", "企业", "enterprise"),
        SocialOrganization => ("social_organization", "社会组织", "social organization"),
    }
);

labelled_enum!(
    /// The kind of a party organization, from the top of a street down.
    PartyOrgKind, "party organization kind", {
        StreetWorkingCommittee => ("street_working_committee", "街道党工委", "street party working committee"),
        CommunityCommittee => ("community_committee", "社区党委", "community party committee"),
        GridOrganization => ("grid_organization", "网格党组织", "grid party organization"),
        CompanyBranch => ("company_branch", "企业党支部", "branch in a company"),
    }
);

impl PartyOrgKind {
    /// The kind its parent must have (a street's committee has none).
    pub fn parent_kind(self) -> Option<&'static [PartyOrgKind]> {
        match self {
            PartyOrgKind::StreetWorkingCommittee => None,
            PartyOrgKind::CommunityCommittee => Some(&[PartyOrgKind::StreetWorkingCommittee]),
            PartyOrgKind::GridOrganization => Some(&[PartyOrgKind::CommunityCommittee]),
            PartyOrgKind::CompanyBranch => {
                Some(&[PartyOrgKind::CommunityCommittee, PartyOrgKind::StreetWorkingCommittee])
            }
        }
    }
}

pub fn credit_code_field(text: &str) -> Result<CreditCode, FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::new("credit_code", FieldProblem::Missing));
    }
    CreditCode::parse(text).map_err(|e| FieldError::new("credit_code", FieldProblem::CreditCode(e)))
}

/// A member organization to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMemberOrganization {
    pub credit_code: CreditCode,
    pub name: String,
    pub kind: OrgKind,
    pub community_code: Option<String>,
    pub street_code: String,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPropertyCompany {
    pub credit_code: CreditCode,
    pub name: String,
    pub address: String,
    /// The company's service line (not personal data).
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOwnersCommittee {
    pub compound_id: i64,
    pub name: String,
    pub members: u16,
    pub elected_on: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPostedOffice {
    /// A department of the rules data (`data/qitaihe/departments.csv`).
    pub department_code: String,
    pub name: String,
    pub street_code: String,
    pub address: String,
}

/// A posted office (派驻机构) as stored: a department's office at a street.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedOffice {
    pub id: i64,
    pub department_code: String,
    pub name: String,
    pub street_code: String,
    pub address: String,
    /// Changes with every correction (a stale edit is refused).
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPartyOrganization {
    /// Unique, e.g. `P-230903011001007` for a grid's organization.
    pub code: String,
    pub name: String,
    pub kind: PartyOrgKind,
    /// The parent's code (must be written before, or earlier in the same batch).
    pub parent_code: Option<String>,
    /// The street, community or grid it sits in.
    pub territory_code: String,
    /// For a branch in a company: the member organization.
    pub organization_id: Option<i64>,
}

/// A member organization as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberOrganization {
    pub id: i64,
    pub credit_code: String,
    pub name: String,
    pub kind: OrgKind,
    pub community_code: Option<String>,
    pub street_code: String,
    pub address: String,
    pub revision: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lang;

    #[test]
    fn kinds_read_their_names_in_either_language() {
        assert_eq!(OrgKind::parse_field("kind", "企业").unwrap(), OrgKind::Enterprise);
        assert_eq!(OrgKind::parse_field("kind", "Agency").unwrap(), OrgKind::Agency);
        assert_eq!(OrgKind::parse_field("kind", "x").unwrap_err().field, "kind");
        assert_eq!(PartyOrgKind::GridOrganization.label(Lang::Zh), "网格党组织");
        assert_eq!(
            PartyOrgKind::GridOrganization.parent_kind(),
            Some(&[PartyOrgKind::CommunityCommittee][..])
        );
    }

    #[test]
    fn a_bad_credit_code_names_its_field() {
        let e = credit_code_field("91230900MA1ABCDE0").unwrap_err();
        assert_eq!(e.field, "credit_code");
        assert_eq!(credit_code_field("").unwrap_err().reason, FieldProblem::Missing);
    }
}
