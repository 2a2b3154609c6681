//! Residents as rows of an export file: masked by default (ID number by the configured policy,
//! phone 前3后4, no registered address, no party membership), in full only for an unmasked
//! export (its own permission, a stated reason, audited by the caller). The header is the import
//! template's, so an unmasked export can be edited and imported elsewhere.

use crate::Lang;
use crate::people::masking::mask_phone;
use crate::people::registry::{IdMaskPolicy, ResidentRecord};

/// The header of a resident export.
pub fn resident_header(unmasked: bool) -> Vec<String> {
    let mut h: Vec<String> = [
        "网格编码",
        "姓名",
        "性别",
        "与户主关系",
        "居住类型",
        "身份证号",
        "手机号",
        "关怀标签",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if unmasked {
        h.push("户籍地址".into());
        h.push("党员".into());
    }
    h
}

/// One resident as a row of the export.
pub fn resident_row(r: &ResidentRecord, unmasked: bool, policy: IdMaskPolicy) -> Vec<String> {
    let tags = r
        .care_tags
        .iter()
        .map(|t| t.label(Lang::Zh))
        .collect::<Vec<_>>()
        .join("、");
    let mut row = vec![
        r.grid_code.clone(),
        r.name.clone(),
        r.gender.label(Lang::Zh).to_string(),
        r.relation.label(Lang::Zh).to_string(),
        r.residence.label(Lang::Zh).to_string(),
        if unmasked {
            r.id_number.clone()
        } else {
            policy.mask(&r.id_number)
        },
        match &r.phone {
            Some(p) if unmasked => p.clone(),
            Some(p) => mask_phone(p),
            None => String::new(),
        },
        tags,
    ];
    if unmasked {
        row.push(r.registered_address.clone().unwrap_or_default());
        row.push(if r.party_member { "是" } else { "否" }.into());
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::registry::{CareTag, Gender, Relation, Residence};

    #[test]
    fn an_export_is_masked_unless_asked_otherwise() {
        let r = ResidentRecord {
            id: 1,
            household_id: 1,
            grid_code: "230903011001001".into(),
            community_code: "230903011001".into(),
            street_code: "230903011000".into(),
            name: "张秀英".into(),
            gender: Gender::Female,
            relation: Relation::Head,
            residence: Residence::RegisteredHere,
            id_number: "230903198506150020".into(),
            phone: Some("13904670000".into()),
            registered_address: Some("学府街1号".into()),
            care_tags: vec![CareTag::ElderlyAlone, CareTag::Disabled],
            party_member: true,
            revision: 1,
        };
        let masked = resident_row(&r, false, IdMaskPolicy::default());
        assert_eq!(masked[5], "2****************0");
        assert_eq!(masked[6], "139****0000");
        assert_eq!(masked[7], "独居老人、残疾人");
        assert_eq!(masked.len(), resident_header(false).len());
        assert!(!masked.iter().any(|c| c.contains("学府街")));
        let full = resident_row(&r, true, IdMaskPolicy::default());
        assert_eq!(
            (full[5].as_str(), full[8].as_str(), full[9].as_str()),
            ("230903198506150020", "学府街1号", "是")
        );
        assert_eq!(full.len(), resident_header(true).len());
    }
}
