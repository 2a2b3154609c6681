//! Party organizations (a parent registered already or earlier in the same file) and party
//! members (in a registered organization inside the importer's area; sealed by the store).

use std::collections::HashMap;

use gongzhi_core::orgs::registry::{NewPartyOrganization, PartyOrgKind};
use gongzhi_core::people::id_number::IdNumber;
use gongzhi_core::people::registry::{NewPartyMember, PartyMemberKind, PersonName, Phone};
use gongzhi_store::orgs::insert_party_organizations_tx;
use gongzhi_store::people::registry::insert_party_members_tx;

use super::*;

/// A grid, community or street of the grid system inside `reach`, or the row's problem.
fn territory_in(index: &TerritoryIndex, reach: &Reach, r: &Record, key: &str) -> Result<String, RowError> {
    let text = r.text(key);
    let known = match TerritoryCode::parse(text) {
        Ok(TerritoryCode::Grid(_)) => index.by_code.contains_key(text),
        Ok(TerritoryCode::Division(_)) => index
            .by_code
            .values()
            .any(|l| l.community.code == text || l.street.code == text),
        _ => false,
    };
    let code = match TerritoryCode::parse(text) {
        Ok(code) if known => code,
        _ => {
            return Err(r.error(
                key,
                Problem::unknown(
                    text,
                    "网格化管理的街道、社区或网格",
                    "street, community or grid of the grid system",
                ),
            ));
        }
    };
    if !reach.reaches(&code) {
        return Err(r.error(
            key,
            Problem::other(format!("{text} 不在您的辖区内"), format!("{text} is outside your area")),
        ));
    }
    Ok(text.to_string())
}

fn field_problem(r: &Record, key: &str, e: &impl gongzhi_core::Localized) -> RowError {
    r.error(key, Problem::other(e.message(Lang::Zh), e.message(Lang::En)))
}

/// The party organizations template.
pub(super) struct PartyOrgs;

impl Template for PartyOrgs {
    type Keys = Auditing;
    /// The row, whether its parent is an earlier row of the file, the organization.
    type Row = (usize, bool, NewPartyOrganization);
    type Checked = Vec<NewPartyOrganization>;

    fn reader(index: Arc<TerritoryIndex>, reach: Reach) -> impl Reader<Self::Row> {
        // Codes of the file so far, with their kinds: a parent must come before its children.
        let mut earlier: HashMap<String, (usize, PartyOrgKind)> = HashMap::new();
        move |r: Record| {
            let code = r.text("code").to_string();
            let kind =
                PartyOrgKind::parse_field("kind", r.text("kind")).map_err(|e| vec![field_problem(&r, "kind", &e)])?;
            let territory = territory_in(&index, &reach, &r, "territory_code").map_err(|e| vec![e])?;
            let parent = r.get("parent").map(str::to_string);
            // A parent in this file: its kind is checked here; a stored one after reading.
            if let Some(p) = &parent
                && let Some((_, parent_kind)) = earlier.get(p)
                && !kind.parent_kind().is_some_and(|k| k.contains(parent_kind))
            {
                return Err(vec![r.error(
                    "parent",
                    Problem::other(
                        format!("{}不能隶属于{}", kind.label(Lang::Zh), parent_kind.label(Lang::Zh)),
                        format!(
                            "a {} cannot belong to a {}",
                            kind.label(Lang::En),
                            parent_kind.label(Lang::En)
                        ),
                    ),
                )]);
            }
            if let Some((first, _)) = earlier.get(&code) {
                return Err(vec![r.error(
                    "code",
                    Problem::Duplicate {
                        value: code,
                        first_row: *first,
                    },
                )]);
            }
            earlier.insert(code.clone(), (r.row, kind));
            let in_file = parent.as_ref().is_some_and(|p| earlier.contains_key(p));
            Ok((
                r.row,
                in_file,
                NewPartyOrganization {
                    code,
                    name: r.text("name").to_string(),
                    kind,
                    parent_code: parent,
                    territory_code: territory,
                    organization_id: None,
                },
            ))
        }
    }

    /// Against what is stored: the codes, and the parents not in the file.
    async fn check(
        cx: &Importing<'_, Auditing>,
        rows: Vec<Self::Row>,
        errors: &mut ErrorList,
    ) -> Result<Self::Checked, Outcome> {
        let db = &cx.app.db();
        for (row, in_file, o) in &rows {
            if db.party_organization_by_code(&o.code).await.map_err(failed)?.is_some() {
                errors.push(registered(*row, "组织编号", &o.code));
            }
            let Some(parent) = &o.parent_code else { continue };
            if *in_file {
                continue;
            }
            match db.party_organization_by_code(parent).await.map_err(failed)? {
                None => errors.push(RowError::cell(
                    *row,
                    "上级组织编号",
                    Problem::unknown(
                        parent.clone(),
                        "上级党组织（须已登记或在本文件前面的行中）",
                        "parent organization (registered, or in an earlier row of this file)",
                    ),
                )),
                Some(p) => {
                    let fits = p
                        .kind
                        .parse::<PartyOrgKind>()
                        .ok()
                        .is_some_and(|pk| o.kind.parent_kind().is_some_and(|k| k.contains(&pk)));
                    if !fits {
                        errors.push(RowError::cell(
                            *row,
                            "上级组织编号",
                            Problem::other(
                                format!("{}不能隶属于{}", o.kind.label(Lang::Zh), parent),
                                format!("a {} cannot belong to {parent}", o.kind.label(Lang::En)),
                            ),
                        ));
                    }
                }
            }
        }
        Ok(rows.into_iter().map(|(_, _, o)| o).collect())
    }

    async fn write(cx: &Importing<'_, Auditing>, tx: &mut Tx, orgs: Self::Checked) -> Result<Created, StoreError> {
        insert_party_organizations_tx(tx, cx.audit_key(), cx.account(), &orgs).await?;
        Ok(vec![("party_orgs", orgs.len() as u64)])
    }
}

/// The party members template.
pub(super) struct PartyMembers;

/// A party member row as read: its organization by code and its employer by name, found when
/// checked.
pub(super) struct MemberRow {
    row: usize,
    org: String,
    employer: Option<String>,
    community: Option<String>,
    member: NewPartyMember,
}

impl Template for PartyMembers {
    type Keys = Sealing;
    type Row = MemberRow;
    /// The members, their organizations, communities and employers found.
    type Checked = Vec<NewPartyMember>;

    fn reader(index: Arc<TerritoryIndex>, reach: Reach) -> impl Reader<MemberRow> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        move |r: Record| {
            let mut errors = Vec::new();
            let name = PersonName::parse(r.text("name")).map_err(|e| errors.push(field_problem(&r, "name", &e)));
            let id = IdNumber::parse(r.text("id_number")).map_err(|_| {
                errors.push(r.error(
                    "id_number",
                    Problem::invalid(
                        r.text("id_number"),
                        "18位公民身份号码",
                        "an 18-character citizen ID number",
                    ),
                ))
            });
            let phone = match r.get("phone") {
                None => Ok(None),
                Some(t) => Phone::parse(t)
                    .map(Some)
                    .map_err(|e| errors.push(field_problem(&r, "phone", &e))),
            };
            let community = match r.get("residence_community") {
                None => None,
                Some(_) => match territory_in(&index, &reach, &r, "residence_community") {
                    Ok(c) if c.len() == 12 => Some(c),
                    Ok(c) => {
                        errors.push(r.error("residence_community", Problem::unknown(c, "社区代码", "community code")));
                        None
                    }
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                },
            };
            if let Ok(id) = &id
                && let Some(first) = seen.insert(id.as_str().to_string(), r.row)
            {
                errors.push(r.error(
                    "id_number",
                    Problem::Duplicate {
                        value: id.masked(),
                        first_row: first,
                    },
                ));
            }
            match (name, id, phone) {
                (Ok(name), Ok(id_number), Ok(phone)) if errors.is_empty() => {
                    let employer = r.get("employer").map(str::to_string);
                    Ok(MemberRow {
                        row: r.row,
                        org: r.text("party_org").to_string(),
                        community,
                        member: NewPartyMember {
                            party_organization_id: 0,
                            residence_community_code: String::new(),
                            kind: if employer.is_some() {
                                PartyMemberKind::Employed
                            } else {
                                PartyMemberKind::Community
                            },
                            employer_id: None,
                            name,
                            id_number,
                            phone,
                            checked_in_on: None,
                            joined_on: r
                                .get("joined_on")
                                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
                        },
                        employer,
                    })
                }
                _ => Err(errors),
            }
        }
    }

    /// Against what is stored: the organizations, employers and ID numbers; each member gets
    /// its organization, residence community and employer.
    async fn check(
        cx: &Importing<'_, Sealing>,
        rows: Vec<MemberRow>,
        errors: &mut ErrorList,
    ) -> Result<Vec<NewPartyMember>, Outcome> {
        let db = &cx.app.db();
        let mut orgs: HashMap<String, Option<gongzhi_store::orgs::PartyOrganization>> = HashMap::new();
        for row in &rows {
            if !orgs.contains_key(&row.org) {
                let o = db.party_organization_by_code(&row.org).await.map_err(failed)?;
                orgs.insert(row.org.clone(), o);
            }
        }
        let employers: HashMap<String, i64> = db
            .member_organizations_within("")
            .await
            .map_err(failed)?
            .into_iter()
            .map(|o| (o.name, o.id))
            .collect();
        let ids: Vec<IdNumber> = rows.iter().map(|r| r.member.id_number.clone()).collect();
        let known = db
            .party_member_ids_by_id_numbers(cx.keys.cipher(), &ids)
            .await
            .map_err(failed)?;
        drop(ids);
        let mut members = Vec::with_capacity(rows.len());
        for mut row in rows {
            let org = orgs[&row.org].as_ref();
            match org {
                None => errors.push(import_first(row.row, "所在党组织编号", row.org.clone(), &PARTY_ORGS)),
                Some(o) => {
                    let inside = TerritoryCode::parse(&o.territory_code).is_ok_and(|c| cx.reach.reaches(&c));
                    if !inside {
                        errors.push(RowError::cell(
                            row.row,
                            "所在党组织编号",
                            Problem::other(
                                format!("{} 不在您的辖区内", row.org),
                                format!("{} is outside your area", row.org),
                            ),
                        ));
                    }
                    row.member.party_organization_id = o.id;
                    let community = row
                        .community
                        .clone()
                        .or_else(|| (o.territory_code.len() >= 12).then(|| o.territory_code[..12].to_string()));
                    match community {
                        Some(c) => row.member.residence_community_code = c,
                        None => errors.push(RowError::cell(
                            row.row,
                            "居住社区代码",
                            Problem::other(
                                "党组织在街道一级，须填写居住社区代码",
                                "the organization is a street's, so the residence community is needed",
                            ),
                        )),
                    }
                }
            }
            if let Some(e) = &row.employer {
                match employers.get(e) {
                    Some(id) => row.member.employer_id = Some(*id),
                    None => errors.push(import_first(row.row, "工作单位", e.clone(), &MEMBER_ORGS)),
                }
            }
            if known.contains_key(row.member.id_number.as_str()) {
                let (zh, en) = ("党员登记", "a registered party member already");
                errors.push(id_number_registered(row.row, &row.member.id_number, zh, en));
            }
            members.push(row.member);
        }
        Ok(members)
    }

    async fn write(
        cx: &Importing<'_, Sealing>,
        tx: &mut Tx,
        members: Vec<NewPartyMember>,
    ) -> Result<Created, StoreError> {
        insert_party_members_tx(tx, cx.keys.cipher(), cx.audit_key(), cx.account(), &members).await?;
        Ok(vec![("party_members", members.len() as u64)])
    }
}
