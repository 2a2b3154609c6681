//! The import templates of the registry (实有人口与组织): one per table staff keep in
//! spreadsheets. Places are named the way staff know them: the grid by its 15-digit code, the
//! compound, building, entrance and room by name within it; a row may name a building or
//! household that does not exist yet, and the import creates it (see docs/IMPORT.md).

use super::template::{CellKind, Choice, Column, Template};

const fn col(
    key: &'static str,
    header: &'static str,
    required: bool,
    kind: CellKind,
    example: &'static str,
    note_zh: &'static str,
    note_en: &'static str,
) -> Column {
    Column {
        key,
        header,
        required,
        kind,
        example,
        note_zh,
        note_en,
    }
}

const fn choice(key: &'static str, zh: &'static str) -> Choice {
    Choice { key, zh }
}

/// Relation to the head of household (与户主关系), as [`crate::people::registry::Relation`].
pub const RELATIONS: &[Choice] = &[
    choice("head", "户主"),
    choice("spouse", "配偶"),
    choice("child", "子女"),
    choice("parent", "父母"),
    choice("grandchild", "孙子女"),
    choice("grandparent", "祖父母"),
    choice("sibling", "兄弟姐妹"),
    choice("child_in_law", "儿媳女婿"),
    choice("other", "其他"),
];

/// Care tags (关怀标签) that proxy services use, as [`crate::people::registry::CareTag`].
pub const CARE_TAGS: &[Choice] = &[
    choice("elderly_alone", "独居老人"),
    choice("empty_nest", "空巢老人"),
    choice("disabled", "残疾人"),
    choice("low_income", "低保户"),
    choice("left_behind_child", "留守儿童"),
    choice("serious_illness", "重病患者"),
    choice("veteran", "退役军人"),
];

/// Registered versus actual residence, as [`crate::people::registry::Residence`].
pub const RESIDENCES: &[Choice] = &[
    choice("registered_here", "户籍人口"),
    choice("floating", "流动人口"),
    choice("away", "人户分离"),
];

pub const YES_NO: &[Choice] = &[choice("yes", "是"), choice("no", "否")];

pub const ORG_KINDS: &[Choice] = &[
    choice("agency", "机关"),
    choice("public_institution", "事业单位"),
    choice("enterprise", "企业"),
    choice("social_organization", "社会组织"),
];

pub const PARTY_ORG_KINDS: &[Choice] = &[
    choice("street_working_committee", "街道党工委"),
    choice("community_committee", "社区党委"),
    choice("grid_organization", "网格党组织"),
    choice("company_branch", "企业党支部"),
];

pub const BUILDING_USES: &[Choice] = &[
    choice("residential", "住宅"),
    choice("commercial", "商业"),
    choice("mixed", "商住"),
    choice("office", "办公"),
    choice("other", "其他"),
];

const LON: Column = col(
    "lon",
    "经度",
    false,
    CellKind::Text { max_chars: 20 },
    "131.0157",
    "WGS-84 经度（GeoJSON 导入时取自几何图形）",
    "WGS-84 longitude (taken from the geometry in a GeoJSON import)",
);
const LAT: Column = col(
    "lat",
    "纬度",
    false,
    CellKind::Text { max_chars: 20 },
    "45.7710",
    "WGS-84 纬度（GeoJSON 导入时取自几何图形）",
    "WGS-84 latitude (taken from the geometry in a GeoJSON import)",
);

const OUTLINE: Column = col(
    "outline",
    "轮廓",
    false,
    CellKind::Text { max_chars: 1_000_000 },
    "",
    "GeoJSON 导入时取自多边形几何图形（Polygon 或 MultiPolygon）；表格导入留空",
    "taken from a Polygon or MultiPolygon geometry in a GeoJSON import; empty in a spreadsheet",
);

/// The outline read from the `outline` cell: GeoJSON geometry text of a Polygon or MultiPolygon
/// with valid rings, normalised; `None` when empty.
pub fn outline_of(r: &super::Record) -> Result<Option<String>, crate::data::RowError> {
    use crate::data::Problem;
    let Some(text) = r.get("outline") else {
        return Ok(None);
    };
    let geometry = text
        .parse::<geojson::Geometry>()
        .ok()
        .and_then(|g| crate::territory::geojson::multipolygon_from(Some(&g)).ok());
    match geometry {
        Some(m) => Ok(Some(crate::territory::geojson::geometry_of(&m).to_string())),
        None => Err(r.error(
            "outline",
            Problem::invalid(
                text.chars().take(40).collect::<String>(),
                "GeoJSON 多边形（Polygon 或 MultiPolygon）",
                "a GeoJSON Polygon or MultiPolygon",
            ),
        )),
    }
}

/// A longitude and latitude read from the `lon` and `lat` cells: both or neither, in range.
pub fn position_of(r: &super::Record) -> Result<Option<(f64, f64)>, crate::data::RowError> {
    use crate::data::Problem;
    let read = |key: &str, max: f64| -> Result<Option<f64>, crate::data::RowError> {
        match r.get(key) {
            None => Ok(None),
            Some(t) => t
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && v.abs() <= max)
                .map(Some)
                .ok_or_else(|| {
                    r.error(
                        key,
                        Problem::invalid(t, "WGS-84 经纬度（点或多边形）", "a WGS-84 position (Point or Polygon)"),
                    )
                }),
        }
    };
    match (read("lon", 180.0)?, read("lat", 90.0)?) {
        (Some(lon), Some(lat)) => Ok(Some((lon, lat))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(r.error("lat", Problem::invalid("", "纬度", "a latitude"))),
        (None, Some(_)) => Err(r.error("lon", Problem::invalid("", "经度", "a longitude"))),
    }
}

const GRID: Column = col(
    "grid_code",
    "网格编码",
    true,
    CellKind::TerritoryCode,
    "230903011001001",
    "所在网格的15位编码，须在导入人的辖区内",
    "the 15-digit code of the grid, inside the importer's scope",
);
const COMPOUND: Column = col(
    "compound",
    "小区",
    false,
    CellKind::Text { max_chars: 60 },
    "学府花园",
    "所在小区名称（须已登记）；不属于小区的楼栋留空",
    "the compound's name (registered already); empty for a building in no compound",
);
const BUILDING: Column = col(
    "building",
    "楼栋",
    true,
    CellKind::Text { max_chars: 30 },
    "3号楼",
    "楼栋名称或号，在网格内唯一；未登记的楼栋随导入建立",
    "the building's name or number, unique within its grid; created by the import when not registered",
);
const ENTRANCE: Column = col(
    "entrance",
    "单元",
    false,
    CellKind::Text { max_chars: 20 },
    "2单元",
    "单元号（“2单元”或“2”），没有单元的楼栋留空",
    "the entrance number (2单元 or 2); empty when the building has none",
);
const ROOM: Column = col(
    "room",
    "户号",
    true,
    CellKind::Text { max_chars: 20 },
    "302",
    "户号（门牌），在单元内唯一；未登记的户随导入建立；加密保存",
    "the household's door number, unique within its entrance; created when not registered; stored encrypted",
);

const RESIDENT_COLUMNS: &[Column] = &[
    GRID,
    COMPOUND,
    BUILDING,
    ENTRANCE,
    ROOM,
    col(
        "name",
        "姓名",
        true,
        CellKind::Text { max_chars: 30 },
        "张秀英",
        "居民姓名",
        "the resident's name",
    ),
    col(
        "id_number",
        "身份证号",
        true,
        CellKind::IdNumber,
        "230903198506150020",
        "18位公民身份号码，校验码须正确；加密保存，在文件中唯一",
        "18-character citizen ID number with a correct check character; stored encrypted, unique in the file",
    ),
    col(
        "phone",
        "手机号",
        false,
        CellKind::Phone,
        "13904670000",
        "11位手机号或带区号的座机；加密保存",
        "11-digit mobile number or a landline with its area code; stored encrypted",
    ),
    col(
        "relation",
        "与户主关系",
        true,
        CellKind::Choice(RELATIONS),
        "户主",
        "户主、配偶、子女等",
        "head, spouse, child …",
    ),
    col(
        "residence",
        "居住类型",
        false,
        CellKind::Choice(RESIDENCES),
        "户籍人口",
        "户籍人口（户籍在此且居住在此）、流动人口（户籍在外）或人户分离（户籍在此、居住在外）；默认户籍人口",
        "registered here and living here, floating (registered elsewhere) or away (registered here, living elsewhere); default registered here",
    ),
    col(
        "registered_address",
        "户籍地址",
        false,
        CellKind::Text { max_chars: 120 },
        "黑龙江省七台河市桃山区学府街1号",
        "户籍登记地址；加密保存",
        "the registered (hukou) address; stored encrypted",
    ),
    col(
        "care_tags",
        "关爱标签",
        false,
        CellKind::Choices(CARE_TAGS),
        "独居老人、残疾人",
        "可多选，用顿号分隔；加密保存",
        "any number, separated by 、; stored encrypted",
    ),
    col(
        "party_member",
        "党员",
        false,
        CellKind::Choice(YES_NO),
        "否",
        "是或否；加密保存",
        "yes or no; stored encrypted",
    ),
];

const HOUSEHOLD_COLUMNS: &[Column] = &[
    GRID,
    COMPOUND,
    BUILDING,
    ENTRANCE,
    ROOM,
    col(
        "area_m2",
        "面积",
        false,
        CellKind::Integer { min: 1, max: 10_000 },
        "86",
        "建筑面积（平方米，整数）",
        "floor area in square metres (whole number)",
    ),
];

const BUILDING_COLUMNS: &[Column] = &[
    GRID,
    COMPOUND,
    BUILDING,
    col(
        "address",
        "门牌地址",
        true,
        CellKind::Text { max_chars: 120 },
        "桃山区学府街18号3号楼",
        "楼栋的门牌地址",
        "the building's street address",
    ),
    col(
        "floors",
        "层数",
        false,
        CellKind::Integer { min: 1, max: 200 },
        "6",
        "地上层数",
        "floors above ground",
    ),
    col(
        "entrances",
        "单元数",
        false,
        CellKind::Integer { min: 0, max: 50 },
        "3",
        "单元数，导入时建立“1单元”…",
        "number of entrances; the import creates 1单元 …",
    ),
    col(
        "use",
        "用途",
        false,
        CellKind::Choice(BUILDING_USES),
        "住宅",
        "默认住宅",
        "default residential",
    ),
    LON,
    LAT,
    OUTLINE,
];

const COMPOUND_COLUMNS: &[Column] = &[
    col(
        "community_code",
        "社区代码",
        true,
        CellKind::TerritoryCode,
        "230903011001",
        "所在社区的12位区划代码，须在导入人的辖区内",
        "the 12-digit code of the community, inside the importer's scope",
    ),
    col(
        "name",
        "小区名称",
        true,
        CellKind::Text { max_chars: 60 },
        "学府花园",
        "在社区内唯一",
        "unique within its community",
    ),
    col(
        "address",
        "地址",
        false,
        CellKind::Text { max_chars: 120 },
        "桃山区学府街18号",
        "小区的门牌地址",
        "the compound's street address",
    ),
    col(
        "property_company",
        "物业企业信用代码",
        false,
        CellKind::CreditCode,
        "91230900MA1B2C3D8Y",
        "服务本小区的物业企业的统一社会信用代码（须已登记）",
        "the credit code of the property company serving it (registered already)",
    ),
    col(
        "owners_committee",
        "业主委员会",
        false,
        CellKind::Text { max_chars: 60 },
        "学府花园业主委员会",
        "业主委员会名称，每个小区一个",
        "the owners' committee, one per compound",
    ),
    LON,
    LAT,
    OUTLINE,
];

const MEMBER_ORG_COLUMNS: &[Column] = &[
    col(
        "credit_code",
        "统一社会信用代码",
        true,
        CellKind::CreditCode,
        "12230900MB1234562E",
        "18位统一社会信用代码，校验码须正确",
        "18-character unified social credit code with correct check characters",
    ),
    col(
        "name",
        "单位名称",
        true,
        CellKind::Text { max_chars: 100 },
        "七台河市第一中学",
        "",
        "",
    ),
    col(
        "kind",
        "单位类型",
        true,
        CellKind::Choice(ORG_KINDS),
        "事业单位",
        "",
        "",
    ),
    col(
        "territory_code",
        "所在区划",
        true,
        CellKind::TerritoryCode,
        "230903011001",
        "单位所在的街道或社区的12位区划代码，须在导入人的辖区内",
        "the 12-digit code of the street or community it sits in, inside the importer's scope",
    ),
    col(
        "address",
        "地址",
        false,
        CellKind::Text { max_chars: 120 },
        "桃山区学府街1号",
        "",
        "",
    ),
];

const PROPERTY_COMPANY_COLUMNS: &[Column] = &[
    col(
        "credit_code",
        "统一社会信用代码",
        true,
        CellKind::CreditCode,
        "91230900MA1B2C3D8Y",
        "18位统一社会信用代码，校验码须正确",
        "18-character unified social credit code with correct check characters",
    ),
    col(
        "name",
        "企业名称",
        true,
        CellKind::Text { max_chars: 100 },
        "七台河市安居物业服务有限公司",
        "",
        "",
    ),
    col(
        "address",
        "地址",
        false,
        CellKind::Text { max_chars: 120 },
        "桃山区学府街8号",
        "",
        "",
    ),
    col(
        "phone",
        "服务电话",
        false,
        CellKind::Text { max_chars: 30 },
        "0464-8888888",
        "",
        "",
    ),
];

const PARTY_ORG_COLUMNS: &[Column] = &[
    col(
        "code",
        "组织编号",
        true,
        CellKind::Text { max_chars: 40 },
        "230903011001-G001",
        "党组织的唯一编号",
        "the party organization's unique code",
    ),
    col(
        "name",
        "组织名称",
        true,
        CellKind::Text { max_chars: 100 },
        "学府社区第1网格党支部",
        "",
        "",
    ),
    col(
        "kind",
        "组织类型",
        true,
        CellKind::Choice(PARTY_ORG_KINDS),
        "网格党组织",
        "",
        "",
    ),
    col(
        "territory_code",
        "所在区划或网格",
        true,
        CellKind::TerritoryCode,
        "230903011001001",
        "街道、社区或网格的代码，须在导入人的辖区内",
        "the street, community or grid, inside the importer's scope",
    ),
    col(
        "parent",
        "上级组织编号",
        false,
        CellKind::Text { max_chars: 40 },
        "230903011001-P",
        "上级党组织的编号（已登记或在本文件中）",
        "the parent organization's code (registered or in this file)",
    ),
];

const PARTY_MEMBER_COLUMNS: &[Column] = &[
    col("name", "姓名", true, CellKind::Text { max_chars: 30 }, "李建国", "", ""),
    col(
        "id_number",
        "身份证号",
        true,
        CellKind::IdNumber,
        "230903197803120034",
        "18位公民身份号码；加密保存",
        "18-character citizen ID number; stored encrypted",
    ),
    col(
        "phone",
        "手机号",
        false,
        CellKind::Phone,
        "13904670001",
        "加密保存",
        "stored encrypted",
    ),
    col(
        "party_org",
        "所在党组织编号",
        true,
        CellKind::Text { max_chars: 40 },
        "230903011001-G001",
        "组织关系所在党组织的编号",
        "the party organization holding the membership",
    ),
    col(
        "employer",
        "工作单位",
        false,
        CellKind::Text { max_chars: 100 },
        "七台河市第一中学",
        "在职党员的工作单位",
        "the employer of an employed member",
    ),
    col(
        "residence_community",
        "居住社区代码",
        false,
        CellKind::TerritoryCode,
        "230903011001",
        "在职党员到社区报到的居住社区",
        "the community where an employed member lives and checks in",
    ),
    col("joined_on", "入党日期", false, CellKind::Date, "2005-07-01", "", ""),
];

/// Posted offices (派驻机构): a department's office at a street (城管、市场监管、司法所、派出所 …).
const POSTED_OFFICE_COLUMNS: &[Column] = &[
    col(
        "department_code",
        "部门代码",
        true,
        CellKind::Text { max_chars: 60 },
        "market-regulation",
        "职能部门名录中的部门代码（如 public-security、market-regulation、justice）",
        "the code of a department of the rules' department list (e.g. public-security, justice)",
    ),
    col(
        "name",
        "机构名称",
        true,
        CellKind::Text { max_chars: 100 },
        "桃东市场监督管理所",
        "",
        "",
    ),
    col(
        "street_code",
        "所在街道代码",
        true,
        CellKind::TerritoryCode,
        "230903011000",
        "派驻街道的12位区划代码，须在导入人的辖区内；同一部门在一个街道只有一个派驻机构",
        "the 12-digit code of the street it is posted to, inside the importer's scope; one office per department and street",
    ),
    col(
        "address",
        "地址",
        false,
        CellKind::Text { max_chars: 120 },
        "街道办事处院内",
        "",
        "",
    ),
];

pub const RESIDENTS: Template = Template {
    key: "residents",
    name_zh: "实有人口",
    name_en: "residents",
    columns: RESIDENT_COLUMNS,
};
pub const HOUSEHOLDS: Template = Template {
    key: "households",
    name_zh: "户",
    name_en: "households",
    columns: HOUSEHOLD_COLUMNS,
};
pub const BUILDINGS: Template = Template {
    key: "buildings",
    name_zh: "楼栋",
    name_en: "buildings",
    columns: BUILDING_COLUMNS,
};
pub const COMPOUNDS: Template = Template {
    key: "compounds",
    name_zh: "小区",
    name_en: "compounds",
    columns: COMPOUND_COLUMNS,
};
pub const MEMBER_ORGS: Template = Template {
    key: "member-orgs",
    name_zh: "辖区单位",
    name_en: "member organizations",
    columns: MEMBER_ORG_COLUMNS,
};
pub const PROPERTY_COMPANIES: Template = Template {
    key: "property-companies",
    name_zh: "物业企业",
    name_en: "property companies",
    columns: PROPERTY_COMPANY_COLUMNS,
};
pub const POSTED_OFFICES: Template = Template {
    key: "posted-offices",
    name_zh: "派驻机构",
    name_en: "posted offices",
    columns: POSTED_OFFICE_COLUMNS,
};
pub const PARTY_ORGS: Template = Template {
    key: "party-orgs",
    name_zh: "党组织",
    name_en: "party organizations",
    columns: PARTY_ORG_COLUMNS,
};
pub const PARTY_MEMBERS: Template = Template {
    key: "party-members",
    name_zh: "党员",
    name_en: "party members",
    columns: PARTY_MEMBER_COLUMNS,
};

/// Every registry template, in the order pages list them.
pub const ALL: [Template; 9] = [
    RESIDENTS,
    HOUSEHOLDS,
    BUILDINGS,
    COMPOUNDS,
    MEMBER_ORGS,
    PROPERTY_COMPANIES,
    POSTED_OFFICES,
    PARTY_ORGS,
    PARTY_MEMBERS,
];

/// The template of a key (`residents`, `member-orgs` …).
pub fn template(key: &str) -> Option<Template> {
    ALL.into_iter().find(|t| t.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_reads_back_its_own_example_row() {
        for t in ALL {
            let map = t.match_header(1, &t.header_row()).unwrap();
            let record = t.record(&map, 2, &t.example_row());
            assert!(record.is_ok(), "{}: {:?}", t.key, record.err());
            let keys: std::collections::HashSet<_> = t.columns.iter().map(|c| c.key).collect();
            assert_eq!(keys.len(), t.columns.len(), "{}: repeated key", t.key);
        }
        assert_eq!(template("member-orgs"), Some(MEMBER_ORGS));
        assert_eq!(template("nothing"), None);
    }
}
