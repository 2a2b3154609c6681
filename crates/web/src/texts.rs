//! The words on the pages, in both languages.

use gongzhi_core::Lang;

pub struct Texts {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub grids: &'static str,
    pub households: &'static str,
    pub districts: &'static str,
    pub streets: &'static str,
    pub communities: &'static str,
    pub children: &'static str,
    pub map: &'static str,
    pub map_hint: &'static str,
    pub valid_from: &'static str,
    pub no_grids: &'static str,
    pub geojson: &'static str,
    pub synthetic_note: &'static str,
    pub colon: &'static str,
}

const ZH: Texts = Texts {
    code: "代码",
    name: "名称",
    kind: "类型",
    grids: "网格数",
    households: "户数",
    districts: "区县",
    streets: "街道乡镇",
    communities: "网格化社区",
    children: "下级",
    map: "网格地图",
    map_hint: "颜色区分下级单位；点击网格查看详情。",
    valid_from: "生效日期",
    no_grids: "此单位尚未划分网格。",
    geojson: "下载 GeoJSON",
    synthetic_note: "区划名称与代码、区县边界为真实数据；网格边界为演示用合成数据。",
    colon: "：",
};

const EN: Texts = Texts {
    code: "Code",
    name: "Name",
    kind: "Kind",
    grids: "Grids",
    households: "Households",
    districts: "Districts",
    streets: "Streets / towns",
    communities: "Gridded communities",
    children: "Below",
    map: "Grid map",
    map_hint: "Colours tell the units below apart; click a grid for its page.",
    valid_from: "Valid from",
    no_grids: "No grids have been drawn here yet.",
    geojson: "Download GeoJSON",
    synthetic_note: "Division names, codes and district boundaries are real; grid boundaries are synthetic demo data.",
    colon: ": ",
};

pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}
