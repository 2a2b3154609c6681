//! Rows for the registry's import templates, deterministic from a seed: a resident workbook of N
//! valid fake people (names from common surnames and given names, ID numbers with Qitaihe
//! division codes and right check characters, mobile numbers) over the demo city's grids, for the
//! import benchmark (`gongzhi bench import`) and the import tests.

use anyhow::Result;
use gongzhi_core::import::registry::RESIDENTS;
use gongzhi_core::people::id_number::check_character;
use gongzhi_core::territory::Level;
use rand::{Rng, SeedableRng};

use crate::grids::{GridSystem, build};

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓", "许", "傅", "沈", "曾",
    "彭", "吕",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
    "秀兰", "霞", "平", "刚", "桂英", "建国", "建华", "国庆", "海燕", "玉兰", "志强", "淑珍", "丹", "鑫", "宇", "浩然",
    "子涵", "欣怡",
];
/// Qitaihe's district and county codes (the first 6 digits of ID numbers issued there).
const AREAS: &[&str] = &["230902", "230903", "230904", "230921"];
const RELATIONS: &[&str] = &["户主", "配偶", "子女", "子女", "父母"];

/// The grid codes of the demo city, in code order.
pub fn demo_grids() -> Result<Vec<String>> {
    let mut grids: Vec<String> = build(&GridSystem::builtin()?)?
        .into_iter()
        .filter(|n| n.level() == Level::Grid)
        .map(|n| n.code.to_string())
        .collect();
    grids.sort();
    Ok(grids)
}

/// `rows` residents (header first) spread over `grids`: households of 1–5 people in buildings
/// of 3 entrances × 6 floors × 2 rooms, each household's first person its head. The same
/// `seed` gives the same rows.
pub fn resident_rows(rows: usize, grids: &[String], seed: u64) -> Vec<Vec<String>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(rows + 1);
    out.push(RESIDENTS.header_row());
    let (mut household, mut in_household, mut size) = (0usize, 0usize, 0usize);
    let window = (80 * 365 / (rows / 1000 + 1)).max(1);
    for i in 0..rows {
        if in_household == size {
            household += 1;
            in_household = 0;
            size = rng.random_range(1..=5);
        }
        let building = household / 36;
        let grid = &grids[building % grids.len()];
        let slot = household % 36;
        let (entrance, floor, door) = (slot / 12 + 1, (slot % 12) / 2 + 1, slot % 2 + 1);
        let area = AREAS[rng.random_range(0..AREAS.len())];
        // Every number differs: the sequence is the row modulo 1,000, and rows sharing it are
        // born in disjoint windows of days.
        let birth = chrono::NaiveDate::from_ymd_opt(1940, 1, 1).expect("date")
            + chrono::Days::new(((i / 1000) * window + rng.random_range(0..window)) as u64);
        let first17 = format!("{area}{}{:03}", birth.format("%Y%m%d"), i % 1000);
        let id = format!("{first17}{}", check_character(&first17).expect("17 digits"));
        let relation = if in_household == 0 {
            "户主"
        } else {
            RELATIONS[rng.random_range(1..RELATIONS.len())]
        };
        let name = format!(
            "{}{}",
            SURNAMES[rng.random_range(0..SURNAMES.len())],
            GIVEN[rng.random_range(0..GIVEN.len())]
        );
        let phone = format!(
            "13{}{:08}",
            rng.random_range(5..=9),
            rng.random_range(0..100_000_000u32)
        );
        let care = match rng.random_range(0..40) {
            0 => "独居老人",
            1 => "残疾人",
            2 => "低保户、残疾人",
            _ => "",
        };
        out.push(vec![
            grid.clone(),
            String::new(),
            format!("{}号楼", building / grids.len() + 1),
            format!("{entrance}单元"),
            format!("{floor}0{door}"),
            name,
            id,
            phone,
            relation.to_string(),
            "户籍人口".to_string(),
            String::new(),
            care.to_string(),
            String::new(),
        ]);
        in_household += 1;
    }
    out
}
