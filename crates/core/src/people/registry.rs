//! The registry's people (实有人口, glossary "resident"): the persons living in households, the
//! party members, and the staff assignments (grid workers to grids, building and entrance chiefs).
//!
//! NOTE: in the database these are `resident_records`, because the table `residents` already
//! holds the phone-signed-in resident ACCOUNTS of the /m/ portal (see [`super::resident`]).
//!
//! Everything here is pure: validated values ([`PersonName`], [`Phone`], [`IdNumber`]), the
//! enums of relations, residence and care tags, the masking policy of ID numbers, and the contexts
//! under which each personal value is sealed (see [`super::cipher`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::id_number::IdNumber;
use crate::data::{FieldError, FieldProblem, labelled_enum, optional_text, required_text};
use crate::territory::node::UnknownName;

/// The contexts (`table.column`) under which personal values are sealed and indexed. A value
/// sealed for one column does not open in another.
pub mod sealed {
    pub const RESIDENT_ID_NUMBER: &str = "resident_records.id_number";
    pub const RESIDENT_PHONE: &str = "resident_records.phone";
    pub const RESIDENT_REGISTERED_ADDRESS: &str = "resident_records.registered_address";
    pub const RESIDENT_CARE_TAGS: &str = "resident_records.care_tags";
    pub const RESIDENT_PARTY_MEMBER: &str = "resident_records.party_member";
    pub const HOUSEHOLD_ROOM: &str = "households.room";
    pub const PARTY_MEMBER_NAME: &str = "party_members.name";
    pub const PARTY_MEMBER_ID_NUMBER: &str = "party_members.id_number";
    pub const PARTY_MEMBER_PHONE: &str = "party_members.phone";
    pub const PARTY_MEMBER_JOINED_ON: &str = "party_members.joined_on";
    pub const ASSIGNMENT_PHONE: &str = "staff_assignments.phone";
}

/// A person's name (姓名): 1 to 40 characters. Not sealed (searching by name is the daily use),
/// but never written to logs.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(text: &str) -> Result<PersonName, FieldError> {
        required_text("name", text, 40).map(PersonName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The surname kept, the rest masked (`张**`).
    pub fn masked(&self) -> String {
        mask_name(&self.0)
    }
}

/// `张三丰` → `张**`.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count())),
        None => String::new(),
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName({})", self.masked())
    }
}

/// A phone number: an 11-digit mobile number (1[3-9]…) or a landline with its area code
/// (`0464-8271234`, kept as digits with one hyphen). Debug output is masked.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(text: &str) -> Result<Phone, FieldError> {
        let raw: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let bad = || FieldError::new("phone", FieldProblem::Phone(text.trim().to_string()));
        if raw.is_empty() {
            return Err(FieldError::new("phone", FieldProblem::Missing));
        }
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let mobile = raw.len() == 11 && digits(&raw) && raw.starts_with('1') && raw.as_bytes()[1] >= b'3';
        if mobile {
            return Ok(Phone(raw));
        }
        let (area, number) = match raw.split_once('-') {
            Some((a, n)) => (a.to_string(), n.to_string()),
            // Digits only before cutting by bytes: a cut inside a Chinese character would panic.
            None if raw.starts_with('0') && (10..=12).contains(&raw.len()) && digits(&raw) => {
                let cut = if raw.starts_with("01") || raw.starts_with("02") {
                    3
                } else {
                    4
                };
                (raw[..cut].to_string(), raw[cut..].to_string())
            }
            None => return Err(bad()),
        };
        let landline = digits(&area)
            && digits(&number)
            && area.starts_with('0')
            && (3..=4).contains(&area.len())
            && (7..=8).contains(&number.len());
        if landline {
            Ok(Phone(format!("{area}-{number}")))
        } else {
            Err(bad())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 前3后4: `138****0000`.
    pub fn masked(&self) -> String {
        super::masking::mask_phone(&self.0)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

/// How ID numbers are masked in lists (a setting, `id_number_mask`): keep `head` characters and
/// `tail` characters, star the rest. `1+1` is the default for general lists (security-cn §3.7);
/// `6+4` keeps the division for roles that match regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdMaskPolicy {
    pub head: usize,
    pub tail: usize,
}

impl Default for IdMaskPolicy {
    fn default() -> Self {
        IdMaskPolicy { head: 1, tail: 1 }
    }
}

impl IdMaskPolicy {
    /// Reads `H+T` (e.g. `1+1`, `6+4`); at most 14 characters may be kept in all.
    pub fn parse(text: &str) -> Option<IdMaskPolicy> {
        let (h, t) = text.trim().split_once('+')?;
        let p = IdMaskPolicy {
            head: h.trim().parse().ok()?,
            tail: t.trim().parse().ok()?,
        };
        (p.head.checked_add(p.tail)? <= 14).then_some(p)
    }

    pub fn mask(&self, id: &str) -> String {
        let chars: Vec<char> = id.chars().collect();
        // Saturating: a policy read from a file (serde) is not bounded by `parse`.
        if chars.len() <= self.head.saturating_add(self.tail) {
            return "*".repeat(chars.len());
        }
        let head: String = chars[..self.head].iter().collect();
        let tail: String = chars[chars.len() - self.tail..].iter().collect();
        format!("{head}{}{tail}", "*".repeat(chars.len() - self.head - self.tail))
    }
}

labelled_enum!(
    /// Relation to the head of household (与户主关系).
    Relation, "relation", {
        Head => ("head", "户主", "head of household"),
        Spouse => ("spouse", "配偶", "spouse"),
        Child => ("child", "子女", "child"),
        Parent => ("parent", "父母", "parent"),
        Grandchild => ("grandchild", "孙子女", "grandchild"),
        Grandparent => ("grandparent", "祖父母", "grandparent"),
        Sibling => ("sibling", "兄弟姐妹", "sibling"),
        ChildInLaw => ("child_in_law", "儿媳女婿", "child-in-law"),
        Other => ("other", "其他", "other"),
    }
);

labelled_enum!(
    /// Registered versus actual residence (户籍 / 实际居住): registered here and living here
    /// (户籍人口), living here but registered elsewhere (流动人口), registered here but living
    /// elsewhere (人户分离).
    Residence, "residence", {
        RegisteredHere => ("registered_here", "户籍人口", "registered here"),
        Floating => ("floating", "流动人口", "registered elsewhere"),
        Away => ("away", "人户分离", "registered here, living elsewhere"),
    }
);

labelled_enum!(
    /// Care tags (关怀标签): who proxy services and visits look after. Sealed at rest.
    CareTag, "care tag", {
        ElderlyAlone => ("elderly_alone", "独居老人", "elderly living alone"),
        EmptyNest => ("empty_nest", "空巢老人", "empty-nest elderly"),
        Disabled => ("disabled", "残疾人", "disabled"),
        LowIncome => ("low_income", "低保户", "low-income"),
        LeftBehindChild => ("left_behind_child", "留守儿童", "left-behind child"),
        SeriousIllness => ("serious_illness", "重病患者", "serious illness"),
        Veteran => ("veteran", "退役军人", "veteran"),
    }
);

labelled_enum!(
    /// 性别, read from the ID number's sequence (odd for men).
    Gender, "gender", {
        Male => ("male", "男", "male"),
        Female => ("female", "女", "female"),
    }
);

labelled_enum!(
    /// What a staff assignment is.
    AssignmentKind, "assignment kind", {
        GridWorker => ("grid_worker", "网格员", "grid worker"),
        BuildingChief => ("building_chief", "楼长", "building chief"),
        EntranceChief => ("entrance_chief", "单元长", "entrance chief"),
    }
);

labelled_enum!(
    /// A party member's kind: employed members (在职党员) work elsewhere and check in where they live.
    PartyMemberKind, "party member kind", {
        Employed => ("employed", "在职党员", "employed party member"),
        Community => ("community", "社区党员", "community party member"),
    }
);

impl Gender {
    pub fn of(id: &IdNumber) -> Gender {
        let seq = id.as_str().as_bytes()[16] - b'0';
        if seq % 2 == 1 { Gender::Male } else { Gender::Female }
    }
}

/// Care tags as written to one sealed column: their text forms joined by commas.
pub fn care_tags_text(tags: &[CareTag]) -> String {
    let mut tags = tags.to_vec();
    tags.sort();
    tags.dedup();
    tags.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(",")
}

pub fn parse_care_tags_text(text: &str) -> Result<Vec<CareTag>, UnknownName> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| CareTag::from_str(s.trim()))
        .collect()
}

/// Care tags as typed in a form or a sheet: separated by commas, `、` or `;`, by text form or name.
pub fn parse_care_tags_input(text: &str) -> Result<Vec<CareTag>, FieldError> {
    let mut tags = Vec::new();
    for part in text.split([',', '，', '、', ';', '；']) {
        if !part.trim().is_empty() {
            tags.push(CareTag::parse_field("care_tags", part)?);
        }
    }
    tags.sort();
    tags.dedup();
    Ok(tags)
}

/// A person to be written to the registry, validated. The store seals the ID number, phone,
/// registered address, care tags and party membership; the name, gender, relation and residence
/// are kept in clear. Debug output shows no personal data.
#[derive(Clone, PartialEq, Eq)]
pub struct NewResidentRecord {
    pub household_id: i64,
    pub name: PersonName,
    pub id_number: IdNumber,
    pub phone: Option<Phone>,
    pub relation: Relation,
    pub residence: Residence,
    pub registered_address: Option<String>,
    pub care_tags: Vec<CareTag>,
    pub party_member: bool,
}

impl fmt::Debug for NewResidentRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewResidentRecord")
            .field("household_id", &self.household_id)
            .field("id_number", &self.id_number)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ResidentInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResidentInput(…)")
    }
}

/// The raw text of a resident record, as typed in a form or a sheet's row. Debug output shows
/// nothing of it.
#[derive(Clone, Default, Deserialize)]
pub struct ResidentInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub relation: String,
    #[serde(default)]
    pub residence: String,
    #[serde(default)]
    pub registered_address: String,
    #[serde(default)]
    pub care_tags: String,
    /// `是`/`否`, `true`/`false`, `1`/`0`, `on` (a checkbox); empty is no.
    #[serde(default)]
    pub party_member: String,
}

/// Reads yes/no as forms and sheets write it.
pub fn parse_yes_no(field: &'static str, text: &str) -> Result<bool, FieldError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" | "否" | "false" | "0" | "no" | "n" => Ok(false),
        "是" | "true" | "1" | "yes" | "y" | "on" => Ok(true),
        other => Err(FieldError::new(field, FieldProblem::Unknown(other.to_string()))),
    }
}

impl ResidentInput {
    /// Validates every field; the first bad field is named.
    pub fn validate(&self, household_id: i64) -> Result<NewResidentRecord, FieldError> {
        self.validate_all(household_id).map_err(|mut v| v.remove(0))
    }

    /// Validates every field and names every bad one (for an import's row report).
    pub fn validate_all(&self, household_id: i64) -> Result<NewResidentRecord, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = PersonName::parse(&self.name).map_err(|e| errors.push(e)).ok();
        let id_number = if self.id_number.trim().is_empty() {
            errors.push(FieldError::new("id_number", FieldProblem::Missing));
            None
        } else {
            IdNumber::parse(&self.id_number)
                .map_err(|e| errors.push(FieldError::new("id_number", FieldProblem::IdNumber(e))))
                .ok()
        };
        let phone = if self.phone.trim().is_empty() {
            Some(None)
        } else {
            Phone::parse(&self.phone).map(Some).map_err(|e| errors.push(e)).ok()
        };
        let relation = Relation::parse_field("relation", &self.relation)
            .map_err(|e| errors.push(e))
            .ok();
        let residence = Residence::parse_field("residence", &self.residence)
            .map_err(|e| errors.push(e))
            .ok();
        let registered_address = optional_text("registered_address", &self.registered_address, 200)
            .map_err(|e| errors.push(e))
            .ok();
        let care_tags = parse_care_tags_input(&self.care_tags).map_err(|e| errors.push(e)).ok();
        let party_member = parse_yes_no("party_member", &self.party_member)
            .map_err(|e| errors.push(e))
            .ok();
        match (
            name,
            id_number,
            phone,
            relation,
            residence,
            registered_address,
            care_tags,
            party_member,
        ) {
            (
                Some(name),
                Some(id_number),
                Some(phone),
                Some(relation),
                Some(residence),
                Some(registered_address),
                Some(care_tags),
                Some(party_member),
            ) if errors.is_empty() => Ok(NewResidentRecord {
                household_id,
                name,
                id_number,
                phone,
                relation,
                residence,
                registered_address,
                care_tags,
                party_member,
            }),
            _ => Err(errors),
        }
    }
}

/// A resident record as opened from the store: every field in clear. Only for a full view (with
/// its audit entry) or for masking into a [`MaskedResident`]. Debug output is masked.
#[derive(Clone, PartialEq, Eq)]
pub struct ResidentRecord {
    pub id: i64,
    pub household_id: i64,
    pub grid_code: String,
    pub community_code: String,
    pub street_code: String,
    pub name: String,
    pub gender: Gender,
    pub relation: Relation,
    pub residence: Residence,
    pub id_number: String,
    pub phone: Option<String>,
    pub registered_address: Option<String>,
    pub care_tags: Vec<CareTag>,
    pub party_member: bool,
    pub revision: i64,
}

impl fmt::Debug for ResidentRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResidentRecord")
            .field("id", &self.id)
            .field("household_id", &self.household_id)
            .field("grid_code", &self.grid_code)
            .finish_non_exhaustive()
    }
}

/// A resident as lists show it: name, ID number and phone masked; care tags shown to staff in
/// scope (they are why the list exists); party membership not shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaskedResident {
    pub id: i64,
    pub household_id: i64,
    pub grid_code: String,
    pub community_code: String,
    pub name: String,
    pub gender: Gender,
    pub relation: Relation,
    pub residence: Residence,
    pub id_number: String,
    pub phone: Option<String>,
    pub care_tags: Vec<CareTag>,
}

impl ResidentRecord {
    pub fn masked(&self, policy: IdMaskPolicy) -> MaskedResident {
        MaskedResident {
            id: self.id,
            household_id: self.household_id,
            grid_code: self.grid_code.clone(),
            community_code: self.community_code.clone(),
            name: self.name.clone(),
            gender: self.gender,
            relation: self.relation,
            residence: self.residence,
            id_number: policy.mask(&self.id_number),
            phone: self.phone.as_deref().map(super::masking::mask_phone),
            care_tags: self.care_tags.clone(),
        }
    }
}

/// The fields a full view can reveal (查看完整信息), named in its audit entry.
pub const REVEALABLE_FIELDS: [&str; 5] = ["id_number", "phone", "registered_address", "care_tags", "party_member"];

/// The reason stated for a full view: required, 2 to 200 characters.
pub fn reveal_reason(text: &str) -> Result<String, FieldError> {
    let t = required_text("reason", text, 200)?;
    if t.chars().count() < 2 {
        return Err(FieldError::new("reason", FieldProblem::Missing));
    }
    Ok(t)
}

/// A party member to be written, validated; the store seals the name, ID number and phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPartyMember {
    pub party_organization_id: i64,
    pub residence_community_code: String,
    pub kind: PartyMemberKind,
    pub employer_id: Option<i64>,
    pub name: PersonName,
    pub id_number: IdNumber,
    pub phone: Option<Phone>,
    pub checked_in_on: Option<chrono::NaiveDate>,
    /// 入党日期: party data, sealed by the store.
    pub joined_on: Option<chrono::NaiveDate>,
}

/// A staff assignment to be written: a grid worker to a grid, a chief to a building or entrance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAssignment {
    pub kind: AssignmentKind,
    pub person_name: PersonName,
    pub account: Option<String>,
    pub phone: Option<Phone>,
    pub community_code: String,
    pub grid_code: Option<String>,
    pub building_id: Option<i64>,
    pub entrance_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Lang, Localized};

    fn input() -> ResidentInput {
        ResidentInput {
            name: "张三".into(),
            id_number: "11010519491231002x".into(),
            phone: "138 0000 0000".into(),
            relation: "户主".into(),
            residence: "registered_here".into(),
            registered_address: "".into(),
            care_tags: "独居老人、low_income".into(),
            party_member: "是".into(),
        }
    }

    #[test]
    fn a_good_row_validates_with_its_values_normalised() {
        let r = input().validate(7).unwrap();
        assert_eq!(r.id_number.as_str(), "11010519491231002X");
        assert_eq!(r.phone.unwrap().as_str(), "13800000000");
        assert_eq!(r.relation, Relation::Head);
        assert_eq!(r.care_tags, vec![CareTag::ElderlyAlone, CareTag::LowIncome]);
        assert!(r.party_member);
        assert_eq!(r.registered_address, None);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = ResidentInput {
            name: " ".into(),
            id_number: "11010519491231003X".into(),
            phone: "12345".into(),
            relation: "邻居".into(),
            care_tags: "富豪".into(),
            ..input()
        };
        let errors = bad.validate_all(1).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "id_number", "phone", "relation", "care_tags"]);
        assert_eq!(errors[1].code(), "bad_check_character");
        assert!(errors[2].message(Lang::Zh).contains("联系电话"));
        assert!(errors[3].message(Lang::En).starts_with("field relation"));
    }

    #[test]
    fn phones_are_mobiles_or_landlines() {
        assert_eq!(Phone::parse("0464-8271234").unwrap().as_str(), "0464-8271234");
        assert_eq!(Phone::parse("04648271234").unwrap().as_str(), "0464-8271234");
        assert_eq!(Phone::parse("010 12345678").unwrap().as_str(), "010-12345678");
        assert!(Phone::parse("12800000000").is_err());
        assert!(Phone::parse("1380000000a").is_err());
        assert_eq!(
            format!("{:?}", Phone::parse("13800000000").unwrap()),
            "Phone(138****0000)"
        );
    }

    #[test]
    fn id_numbers_are_masked_by_the_configured_policy() {
        let id = "23090319800101123X";
        assert_eq!(IdMaskPolicy::default().mask(id), "2****************X");
        assert_eq!(IdMaskPolicy::parse("6+4").unwrap().mask(id), "230903********123X");
        assert_eq!(IdMaskPolicy::parse("9+9"), None);
        assert_eq!(IdMaskPolicy::parse("x"), None);
        assert_eq!(mask_name("张三丰"), "张**");
    }

    #[test]
    fn a_phone_of_chinese_characters_is_refused_not_a_panic() {
        // Found by fuzzing: 10 to 12 bytes starting with 0 were cut at byte 3 or 4, inside a
        // character.
        for text in [
            "01中文中文",
            "0中文中文",
            "02电话号码",
            "0\u{7ff}\u{7ff}\u{7ff}\u{7ff}\u{7ff}",
        ] {
            let e = Phone::parse(text).unwrap_err();
            assert_eq!(e.field, "phone", "{text}");
        }
    }

    #[test]
    fn a_mask_policy_with_huge_numbers_is_refused_and_masks_whole() {
        // Found by fuzzing: `head + tail` overflowed.
        assert_eq!(IdMaskPolicy::parse(&format!("{}+1", usize::MAX)), None);
        assert_eq!(IdMaskPolicy::parse(&format!("1+{}", usize::MAX)), None);
        // A policy read by serde (a settings file) is not bounded by `parse`.
        let huge = IdMaskPolicy {
            head: usize::MAX,
            tail: 2,
        };
        assert_eq!(huge.mask("23090319800101123X"), "*".repeat(18));
    }

    #[test]
    fn care_tags_round_trip_through_their_sealed_text() {
        let tags = vec![CareTag::Disabled, CareTag::ElderlyAlone, CareTag::Disabled];
        let text = care_tags_text(&tags);
        assert_eq!(text, "elderly_alone,disabled");
        assert_eq!(
            parse_care_tags_text(&text).unwrap(),
            vec![CareTag::ElderlyAlone, CareTag::Disabled]
        );
        assert_eq!(parse_care_tags_text("").unwrap(), vec![]);
    }

    #[test]
    fn a_full_view_needs_a_reason() {
        assert_eq!(reveal_reason("  ").unwrap_err().field, "reason");
        assert_eq!(reveal_reason("走访核实低保").unwrap(), "走访核实低保");
    }

    #[test]
    fn gender_comes_from_the_sequence() {
        assert_eq!(
            Gender::of(&IdNumber::parse("11010519491231002X").unwrap()),
            Gender::Female
        );
    }
}
