//! A year of cases for the demo city, simulated deterministically from a seed.
//!
//! Reports are spread over the year before `end` with the seasons of a northern coal city (snow,
//! ice and heating from late October to April; barbecues, building sites and floods in summer;
//! garbage, street order, disputes and property matters all year), mostly in daytime. Each case
//! then walks the loop on the city's real working calendar: every step goes through
//! `flow::apply` with an actor holding the role the machine requires, so every history is one
//! the real machine allows. Steps that would fall after `end` do not happen, which leaves the
//! recent weeks' cases open in every state.
//!
//! Each case draws from its own random stream (seed and index), so a case does not change when
//! the batch size does; the only state carried between cases is the recent report of each
//! (community, matter), which duplicates are merged into.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use geo::{BoundingRect, Contains, MultiPolygon, Point, Rect};
use gongzhi_core::Lang;
use gongzhi_core::cases::flow::{
    Action, Case, CaseLimits, CaseNumber, Event, ExtendBy, FlowContext, FlowError, Satisfaction, SupervisionLevel,
    apply, auto_supervision,
};
use gongzhi_core::cases::intake::Channel;
use gongzhi_core::cases::responsibility::CaseLevel;
use gongzhi_core::cases::rules::CaseRules;
use gongzhi_core::cases::taxonomy::TypeCode;
use gongzhi_core::cases::{Limit, LimitUnit, UnitRef, WorkClock};
use gongzhi_core::orgs::DepartmentCode;
use gongzhi_core::people::{Actor, Grant, Role, Scope};
use gongzhi_core::territory::{GridCode, Level, Node, TerritoryCode};
use gongzhi_core::time::{city_day, city_instant, city_time};
use gongzhi_store::cases::bulk::CaseHistory;
use gongzhi_store::cases::{CaseLocation, NewCase};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DemoCasesError {
    #[error("the territory has no grids with boundaries")]
    NoGrids,
    #[error("demo matter {0} is not a matter of the taxonomy")]
    UnknownMatter(&'static str),
    #[error("more than 99999 demo cases on {0}")]
    TooManyOnDay(NaiveDate),
    #[error("case {case}: {action} refused by the machine: {error}")]
    Refused {
        case: String,
        action: &'static str,
        error: FlowError,
    },
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct DemoCasesOptions {
    pub seed: u64,
    pub count: usize,
    /// The last instant simulated ("now" in the demo, fixed in tests).
    pub end: DateTime<Utc>,
}

#[derive(Clone, Copy, PartialEq)]
enum Season {
    All,
    /// The heating season, about 20 October to 20 April.
    Heating,
    /// Snow and ice, November to March.
    Snow,
    /// May to September.
    Warm,
}

/// Where reports of a matter come from.
#[derive(Clone, Copy)]
enum Profile {
    /// On the street: patrols and cameras find most.
    Street,
    /// At home: residents call or write.
    Home,
    Dispute,
    /// Utilities: hotline and the utilities' own feeds.
    Utility,
    Property,
}

impl Profile {
    fn channels(self) -> &'static [(Channel, u32)] {
        use Channel::*;
        match self {
            Profile::Street => &[
                (Patrol, 45),
                (Video, 16),
                (Resident, 14),
                (Hotline, 15),
                (Open311, 5),
                (Feed, 3),
                (Meeting, 2),
            ],
            Profile::Home => &[(Hotline, 42), (Resident, 33), (Property, 10), (Open311, 6), (Patrol, 9)],
            Profile::Dispute => &[(Resident, 30), (Hotline, 30), (Patrol, 20), (Meeting, 15), (Open311, 5)],
            Profile::Utility => &[(Hotline, 45), (Resident, 18), (Feed, 25), (Patrol, 8), (Open311, 4)],
            Profile::Property => &[(Property, 48), (Resident, 30), (Hotline, 16), (Open311, 6)],
        }
    }
}

struct Matter {
    code: &'static str,
    season: Season,
    weight: u32,
    profile: Profile,
    /// A grid worker may fix it on the spot (自处置).
    trivial: bool,
    /// Departments a street summons for it (吹哨).
    whistle: &'static [&'static str],
    /// {c} community, {s} street, {b} building, {u} unit, {r} room, {t} temperature, {n} a number.
    templates: &'static [&'static str],
    results: &'static [&'static str],
}

#[allow(clippy::too_many_arguments)] // one row of the matter table, in its columns
const fn m(
    code: &'static str,
    season: Season,
    weight: u32,
    profile: Profile,
    trivial: bool,
    whistle: &'static [&'static str],
    templates: &'static [&'static str],
    results: &'static [&'static str],
) -> Matter {
    Matter {
        code,
        season,
        weight,
        profile,
        trivial,
        whistle,
        templates,
        results,
    }
}

use Profile as P;
use Season as S;

/// The demo city's matters, with their relative frequency in their season.
const MATTERS: &[Matter] = &[
    m(
        "10001",
        S::Snow,
        60,
        P::Street,
        false,
        &[],
        &[
            "{s}主干道路面积雪结冰，车辆打滑，行人通行困难",
            "{c}附近坡道结冰严重，已有行人滑倒",
            "{s}公交站台周边积雪未清，候车群众反映强烈",
        ],
        &["已组织机械和人工清雪，路面撒布融雪剂", "积雪已清运，冰面已破除"],
    ),
    m(
        "27001",
        S::Snow,
        55,
        P::Home,
        true,
        &[],
        &[
            "{c}{b}号楼前道路结冰，老人出行困难",
            "{c}小区内积雪无人清理，车辆无法出入",
            "{c}{b}号楼单元门口结冰，请尽快清理",
        ],
        &["物业已清除楼前积雪并撒沙防滑", "已协调物业清雪，路面恢复通行"],
    ),
    m(
        "27002",
        S::Snow,
        30,
        P::Street,
        true,
        &[],
        &[
            "{c}背街小巷积雪结冰，居民出行不便",
            "{s}{c}后街冰面较厚，电动车多次摔倒",
        ],
        &["已人工破冰并清运积雪", "背街小巷积雪已清理完毕"],
    ),
    m(
        "27003",
        S::Snow,
        18,
        P::Home,
        false,
        &[],
        &[
            "{c}{b}号楼屋檐挂有大冰溜，存在坠落伤人隐患",
            "{c}临街商铺屋檐冰溜长约一米，行人经过危险",
        ],
        &["已设置警戒并清除冰溜", "冰溜已敲除，现场安全"],
    ),
    m(
        "27004",
        S::Snow,
        8,
        P::Home,
        false,
        &[],
        &["{c}{b}号楼楼顶积雪过厚，担心压塌雨棚"],
        &["楼顶积雪已清除"],
    ),
    m(
        "23001",
        S::Heating,
        70,
        P::Home,
        false,
        &[],
        &[
            "{c}{b}号楼{u}单元{r}室室温仅{t}℃，暖气不热",
            "{c}{b}号楼多户反映暖气不热，室温不达标",
            "{c}{b}号楼{u}单元顶楼住户暖气回水不热",
        ],
        &[
            "供热公司已入户排气调试，室温达到18℃以上",
            "已更换堵塞阀门，复测室温达标",
        ],
    ),
    m(
        "27005",
        S::Heating,
        14,
        P::Utility,
        false,
        &["heating", "emergency"],
        &[
            "{c}{b}号楼附近供热管网漏水冒热气，路面结冰",
            "{s}路边供热井冒大量蒸汽，影响视线",
        ],
        &["供热公司已抢修漏点，恢复供热", "管网漏点已焊补，路面冰层已清除"],
    ),
    m(
        "27006",
        S::Heating,
        12,
        P::Utility,
        false,
        &["heating"],
        &["{c}{b}号楼突然停暖，家中有老人和婴儿"],
        &["故障已排除，恢复供暖"],
    ),
    m(
        "27013",
        S::Heating,
        10,
        P::Street,
        true,
        &[],
        &["{c}平房区居民燃烧散煤，烟尘较大"],
        &["已劝导居民改用清洁燃料"],
    ),
    m(
        "23002",
        S::All,
        14,
        P::Utility,
        false,
        &[],
        &["{c}{b}号楼停水一天未恢复，无任何通知"],
        &["水务部门已修复管线，恢复供水"],
    ),
    m(
        "06010",
        S::All,
        40,
        P::Street,
        true,
        &[],
        &["{c}{b}号楼旁暴露垃圾堆放多日，气味难闻", "{s}路边有大量生活垃圾未清运"],
        &["垃圾已清运，现场已保洁", "已清理暴露垃圾并消杀"],
    ),
    m(
        "06042",
        S::All,
        30,
        P::Street,
        true,
        &[],
        &["{c}垃圾箱满溢，垃圾散落地面", "{c}{b}号楼垃圾站满溢无人清运"],
        &["已清运并加密清运频次"],
    ),
    m(
        "06001",
        S::All,
        22,
        P::Street,
        false,
        &["urban-management", "natural-resources"],
        &["{c}{b}号楼一楼住户私搭乱建阳光房", "{c}有人在绿地上私自搭建棚子"],
        &["违法建设已拆除，恢复原貌", "已下达限期拆除通知，当事人已自行拆除"],
    ),
    m(
        "09006",
        S::All,
        25,
        P::Street,
        true,
        &[],
        &["{s}早市摊贩占道经营，堵塞道路", "{c}门口商贩占用人行道摆摊"],
        &["已劝离占道摊贩并规范经营"],
    ),
    m(
        "09009",
        S::All,
        25,
        P::Street,
        true,
        &[],
        &["{c}消防通道旁机动车乱停放", "{s}路口车辆乱停，影响通行"],
        &["已联系车主挪车"],
    ),
    m(
        "06036",
        S::All,
        18,
        P::Street,
        true,
        &[],
        &["{c}{b}号楼下乱堆杂物", "{c}楼道口堆放废旧家具"],
        &["杂物已清理"],
    ),
    m(
        "06028",
        S::All,
        12,
        P::Home,
        false,
        &[],
        &["{c}附近商铺音响声音过大，夜间扰民", "{c}{b}号楼装修噪声扰民"],
        &["已约谈当事人，噪声已消除"],
    ),
    m(
        "21001",
        S::All,
        20,
        P::Dispute,
        false,
        &["justice", "public-security"],
        &[
            "{c}{b}号楼{u}单元楼上楼下因漏水发生纠纷",
            "{c}邻里因占用公共空间发生争执",
        ],
        &["经社区调解，双方达成和解", "人民调解员已调解成功"],
    ),
    m(
        "21003",
        S::All,
        14,
        P::Dispute,
        false,
        &["justice", "housing"],
        &["{c}业主与物业因收费问题发生纠纷"],
        &["经调解，物业与业主达成一致"],
    ),
    m(
        "21004",
        S::All,
        8,
        P::Dispute,
        false,
        &["human-resources", "justice"],
        &["{s}一工地农民工反映被拖欠工资"],
        &["工资已协调发放"],
    ),
    m(
        "25001",
        S::All,
        16,
        P::Property,
        false,
        &[],
        &["{c}{b}号楼电梯故障停运，老人上下楼困难", "{c}{b}号楼电梯频繁困人"],
        &["电梯已维修，恢复运行"],
    ),
    m(
        "25002",
        S::All,
        14,
        P::Property,
        true,
        &[],
        &["{c}{b}号楼{u}单元楼道灯不亮"],
        &["已更换楼道灯"],
    ),
    m(
        "25003",
        S::All,
        12,
        P::Property,
        false,
        &[],
        &["{c}{b}号楼{u}单元{r}室屋顶漏水", "{c}{b}号楼地下管道漏水"],
        &["漏点已修复"],
    ),
    m(
        "25009",
        S::All,
        12,
        P::Property,
        false,
        &[],
        &["{c}{b}号楼下水道堵塞，污水外溢"],
        &["已疏通下水管道"],
    ),
    m(
        "22004",
        S::All,
        12,
        P::Street,
        true,
        &["fire-rescue"],
        &["{c}{b}号楼居民私拉电线给电动车充电"],
        &["已拆除私拉电线，引导至充电棚充电"],
    ),
    m(
        "22005",
        S::All,
        12,
        P::Property,
        true,
        &["fire-rescue"],
        &["{c}{b}号楼{u}单元楼道堆物堵塞疏散通道"],
        &["楼道堆物已清理"],
    ),
    m(
        "01037",
        S::All,
        12,
        P::Street,
        false,
        &[],
        &["{s}路灯连续多晚不亮", "{c}门前路灯损坏"],
        &["路灯已维修"],
    ),
    m(
        "01003",
        S::All,
        8,
        P::Street,
        false,
        &[],
        &["{s}雨水井盖缺失，存在安全隐患"],
        &["井盖已补装"],
    ),
    m(
        "27012",
        S::All,
        10,
        P::Street,
        false,
        &[],
        &["{s}运煤车辆沿途遗撒煤块煤灰", "{c}附近运煤车未苫盖，煤尘飞扬"],
        &["已清扫路面并通报运输企业"],
    ),
    m(
        "27011",
        S::All,
        6,
        P::Home,
        false,
        &[],
        &["{c}附近煤场煤尘污染严重"],
        &["煤场已落实苫盖和喷淋措施"],
    ),
    m(
        "27008",
        S::All,
        5,
        P::Home,
        false,
        &["subsidence", "housing"],
        &["{c}{b}号楼墙体出现裂缝，怀疑采煤沉陷所致"],
        &["已组织房屋安全鉴定并登记纳入治理"],
    ),
    m(
        "24003",
        S::All,
        10,
        P::Home,
        false,
        &[],
        &["市民来电投诉{c}周边商户服务态度差"],
        &["已答复来电人"],
    ),
    m(
        "24002",
        S::All,
        8,
        P::Home,
        false,
        &[],
        &["{c}独居老人来电求助，家中无人照顾"],
        &["社区已上门帮扶"],
    ),
    m(
        "26001",
        S::All,
        6,
        P::Home,
        false,
        &[],
        &["{c}{b}号楼高龄老人申请助老服务"],
        &["已安排志愿者定期上门"],
    ),
    m(
        "06029",
        S::Warm,
        18,
        P::Street,
        true,
        &[],
        &["{s}夜市露天烧烤油烟大", "{c}门前露天烧烤扰民"],
        &["已劝导烧烤摊入室经营"],
    ),
    m(
        "06027",
        S::Warm,
        10,
        P::Home,
        false,
        &[],
        &["{c}{b}号楼底商饭店油烟直排"],
        &["饭店已安装油烟净化设备"],
    ),
    m(
        "08001",
        S::Warm,
        12,
        P::Home,
        false,
        &[],
        &["{c}附近工地夜间施工扰民"],
        &["已责令工地夜间停止施工"],
    ),
    m(
        "08004",
        S::Warm,
        10,
        P::Street,
        false,
        &[],
        &["{s}工地未覆盖土方，扬尘严重"],
        &["工地已覆盖裸土并洒水降尘"],
    ),
    m(
        "04002",
        S::Warm,
        8,
        P::Street,
        false,
        &[],
        &["{s}行道树枝杈挡住路灯和信号灯"],
        &["已修剪树枝"],
    ),
    m(
        "01073",
        S::Warm,
        6,
        P::Street,
        false,
        &[],
        &["{s}雨后积水严重，雨水排放口堵塞"],
        &["已疏通排水口，积水已排除"],
    ),
];

const SURNAMES: &[&str] = &[
    "wang", "li", "zhang", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu", "xu", "sun", "ma", "zhu", "hu", "guo",
    "he", "gao", "lin", "luo",
];

fn stable_hash(s: &str) -> usize {
    // FNV-1a: names must not change between runs or builds.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h as usize
}

fn grant(role: Role, scope: Scope) -> Grant {
    Grant { role, scope }
}

fn city() -> TerritoryCode {
    TerritoryCode::parse("230900000000").expect("valid")
}

/// Staff of the demo city: the demo accounts where they fit, plausible names elsewhere.
struct Staff {
    clerk: Actor,
    shiftlead: Actor,
    dispatcher: Actor,
    leader: Actor,
}

impl Staff {
    fn new() -> Staff {
        let at_city = |account: &str, role| Actor {
            account: account.into(),
            grants: vec![grant(role, Scope::Territory(city()))],
        };
        Staff {
            clerk: at_city("clerk", Role::IntakeClerk),
            shiftlead: at_city("shiftlead", Role::ShiftLead),
            dispatcher: at_city("dispatcher", Role::Dispatcher),
            leader: at_city("leader", Role::Leader),
        }
    }

    fn named(prefix: &str, code: &str) -> String {
        format!(
            "{prefix}.{}{}",
            SURNAMES[stable_hash(code) % SURNAMES.len()],
            stable_hash(code) % 90 + 10
        )
    }

    /// Whoever acts for a handling unit.
    fn for_unit(unit: &UnitRef) -> Actor {
        match unit {
            UnitRef::Department(d) => Actor {
                account: if d.as_str() == "urban-management" {
                    "handler".into()
                } else {
                    Staff::named(d.as_str(), d.as_str())
                },
                grants: vec![grant(Role::DepartmentHandler, Scope::Department(d.clone()))],
            },
            UnitRef::Territory(t) if t.level() == Level::Street => Staff::street(t),
            UnitRef::Territory(t) => Staff::community(t),
            UnitRef::GridWorker(g) => Staff::grid_worker(g),
            UnitRef::Organization(o) => Actor {
                account: format!("liaison.{o}"),
                grants: vec![grant(Role::Liaison, Scope::Organization(*o))],
            },
        }
    }

    /// The staff member holding `role` at `node`: the demo account where there is one (so a
    /// person signed in as `street` finds their own cases), else a plausible name.
    fn local(role: Role, node: TerritoryCode, prefix: &str) -> Actor {
        let demo = crate::accounts::DEMO_ACCOUNTS
            .iter()
            .find(|(_, _, r, scope)| *r == role && scope.strip_prefix("territory:") == Some(node.as_str()));
        Actor {
            account: demo.map_or_else(|| Staff::named(prefix, node.as_str()), |(name, ..)| name.to_string()),
            grants: vec![grant(role, Scope::Territory(node))],
        }
    }

    fn street(t: &TerritoryCode) -> Actor {
        Staff::local(Role::StreetStaff, t.clone(), "jd")
    }

    fn community(t: &TerritoryCode) -> Actor {
        Staff::local(Role::CommunityWorker, t.clone(), "sq")
    }

    fn grid_worker(g: &GridCode) -> Actor {
        Staff::local(Role::GridWorker, TerritoryCode::Grid(g.clone()), "wgy")
    }
}

struct Place {
    grid: GridCode,
    community: TerritoryCode,
    community_name: String,
    street: TerritoryCode,
    street_name: String,
    district: String,
    shape: MultiPolygon<f64>,
    rect: Rect<f64>,
}

/// The grids cases happen in, with the names descriptions use.
pub struct DemoTerritory {
    places: Vec<Place>,
    /// Cumulative household weights, to draw grids in proportion to who lives there.
    cumulative: Vec<f64>,
}

impl DemoTerritory {
    /// From the nodes of the territory (grids with boundaries, and the communities and streets
    /// above them for names).
    pub fn from_nodes(nodes: &[Node]) -> Result<DemoTerritory, DemoCasesError> {
        let names: HashMap<&str, &str> = nodes.iter().map(|n| (n.code.as_str(), n.name.as_str())).collect();
        let mut places = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0.0;
        for n in nodes {
            let (TerritoryCode::Grid(g), Some(shape)) = (&n.code, &n.boundary) else {
                continue;
            };
            let Some(rect) = shape.bounding_rect() else {
                continue;
            };
            let community = TerritoryCode::Division(g.community());
            let street = TerritoryCode::parse(&format!("{:0<12}", &g.as_str()[..9])).expect("a street code");
            let name = |c: &TerritoryCode| names.get(c.as_str()).copied().unwrap_or("").to_string();
            places.push(Place {
                grid: g.clone(),
                community_name: name(&community),
                street_name: name(&street),
                district: format!("{:0<12}", &g.as_str()[..6]),
                community,
                street,
                shape: shape.clone(),
                rect,
            });
            total += n.households.unwrap_or(280).max(1) as f64;
            cumulative.push(total);
        }
        if places.is_empty() {
            return Err(DemoCasesError::NoGrids);
        }
        Ok(DemoTerritory { places, cumulative })
    }

    fn draw(&self, rng: &mut ChaCha8Rng) -> &Place {
        let x = rng.random_range(0.0..*self.cumulative.last().expect("not empty"));
        let i = self.cumulative.partition_point(|c| *c <= x).min(self.places.len() - 1);
        &self.places[i]
    }
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn weighted<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total.max(1));
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    items[0].0
}

fn in_season(season: Season, day: NaiveDate) -> bool {
    let (m, d) = (day.month(), day.day());
    match season {
        Season::All => true,
        Season::Heating => (m == 10 && d >= 20) || m >= 11 || m <= 3 || (m == 4 && d <= 20),
        Season::Snow => m >= 11 || m <= 3,
        Season::Warm => (5..=9).contains(&m),
    }
}

/// Reports per day relative to an ordinary day: winter is busier, weekends quieter.
fn day_weight(day: NaiveDate) -> f64 {
    let season = match day.month() {
        12 | 1 | 2 => 1.5,
        11 | 3 => 1.3,
        10 | 4 => 1.1,
        _ => 1.0,
    };
    let weekday = if day.weekday().number_from_monday() >= 6 {
        0.7
    } else {
        1.0
    };
    season * weekday
}

/// Share of reports starting in each local hour: daytime, peaking mid-morning and afternoon.
const HOURS: [u32; 24] = [
    2, 1, 1, 1, 2, 4, 10, 25, 40, 45, 40, 35, 20, 30, 35, 35, 30, 25, 20, 16, 12, 8, 5, 3,
];

/// The demo cases, generated batch by batch in order of report.
pub struct DemoCases<'r> {
    rules: &'r CaseRules,
    territory: &'r DemoTerritory,
    opts: DemoCasesOptions,
    /// Report times in order, with their numbers.
    reports: Vec<(DateTime<Utc>, CaseNumber)>,
    next: usize,
    staff: Staff,
    /// The last report of each (community, matter): a later one nearby may be its duplicate.
    recent: HashMap<(String, &'static str), (CaseNumber, DateTime<Utc>)>,
}

impl<'r> DemoCases<'r> {
    pub fn new(
        rules: &'r CaseRules,
        territory: &'r DemoTerritory,
        opts: DemoCasesOptions,
    ) -> Result<DemoCases<'r>, DemoCasesError> {
        for m in MATTERS {
            let code = TypeCode::parse(m.code).map_err(|_| DemoCasesError::UnknownMatter(m.code))?;
            rules
                .taxonomy
                .matter(&code)
                .ok_or(DemoCasesError::UnknownMatter(m.code))?;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        let start = opts.end - Duration::days(365);
        let first = city_day(start);
        let days: Vec<(NaiveDate, u32)> = (0..=366)
            .filter_map(|i| first.checked_add_signed(Duration::days(i)))
            .filter(|d| *d <= city_day(opts.end))
            .map(|d| (d, (day_weight(d) * 1000.0) as u32))
            .collect();
        let hours: Vec<(u32, u32)> = HOURS.iter().enumerate().map(|(h, w)| (h as u32, *w)).collect();
        let mut times = Vec::with_capacity(opts.count);
        while times.len() < opts.count {
            let day = weighted(&mut rng, &days);
            let hour = weighted(&mut rng, &hours);
            let minute = rng.random_range(0..60);
            let second = rng.random_range(0..60);
            let t = city_instant(day.and_hms_opt(hour, minute, second).expect("valid time"));
            if t > start && t <= opts.end {
                times.push(t);
            }
        }
        times.sort();
        let mut reports = Vec::with_capacity(times.len());
        let mut serial: (Option<NaiveDate>, u32) = (None, 0);
        for t in times {
            let day = city_day(t);
            serial = if serial.0 == Some(day) {
                (Some(day), serial.1 + 1)
            } else {
                (Some(day), 1)
            };
            let number = CaseNumber::new(day, serial.1).map_err(|_| DemoCasesError::TooManyOnDay(day))?;
            reports.push((t, number));
        }
        Ok(DemoCases {
            rules,
            territory,
            opts,
            reports,
            next: 0,
            staff: Staff::new(),
            recent: HashMap::new(),
        })
    }

    pub fn len(&self) -> usize {
        self.reports.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reports.is_empty()
    }

    /// The last serial of each day, to reserve before any batch is written.
    pub fn day_serials(&self) -> Vec<(NaiveDate, u32)> {
        let mut out: Vec<(NaiveDate, u32)> = Vec::new();
        for (t, n) in &self.reports {
            let day = city_day(*t);
            let serial: u32 = n.as_str()[8..].parse().expect("5 digits");
            match out.last_mut() {
                Some((d, s)) if *d == day => *s = serial,
                _ => out.push((day, serial)),
            }
        }
        out
    }

    /// The next `n` histories (fewer at the end, none when done).
    pub fn next_batch(&mut self, n: usize) -> Result<Vec<CaseHistory>, DemoCasesError> {
        let mut out = Vec::with_capacity(n.min(self.reports.len() - self.next));
        while out.len() < n && self.next < self.reports.len() {
            let i = self.next;
            self.next += 1;
            out.push(self.simulate(i)?);
        }
        Ok(out)
    }

    fn simulate(&mut self, index: usize) -> Result<CaseHistory, DemoCasesError> {
        let (at, number) = self.reports[index].clone();
        let mut rng =
            ChaCha8Rng::seed_from_u64(self.opts.seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let day = city_day(at);
        let in_season: Vec<(usize, u32)> = MATTERS
            .iter()
            .enumerate()
            .filter(|(_, m)| in_season(m.season, day))
            .map(|(i, m)| (i, m.weight))
            .collect();
        let matter = &MATTERS[weighted(&mut rng, &in_season)];
        let place = self.territory.draw(&mut rng);
        let channel = weighted(&mut rng, matter.profile.channels());
        let node = TerritoryCode::Grid(place.grid.clone());

        // Routing: the rule in force for the matter here; snow on main roads is level A.
        let type_code = TypeCode::parse(matter.code).expect("checked in new");
        let level = (matter.code == "10001" && rng.random_bool(0.3)).then_some(CaseLevel::A);
        let rule = self
            .rules
            .responsibility
            .route(&type_code, &node, None, level)
            .or_else(|| self.rules.responsibility.route(&type_code, &node, None, None));
        let (lead, limits) = match rule.and_then(|r| r.unit_for(&node).map(|u| (u, r))) {
            Some((unit, r)) => (
                unit,
                CaseLimits {
                    response: Some(r.response_limit),
                    handling: Some(r.handling_limit),
                    verification: Some(r.verification_limit),
                },
            ),
            // Nothing routes it: the street handles it under the policy's default limits.
            None => (UnitRef::Territory(place.street.clone()), CaseLimits::default()),
        };

        let (lon, lat) = point_in(place, &mut rng);
        let description = describe(matter, place, &mut rng);
        let grid_worker = Staff::grid_worker(&place.grid);
        let reporter = match channel {
            Channel::Patrol => grid_worker.account.clone(),
            Channel::Resident => format!(
                "resident:1{}****{:04}",
                rng.random_range(30..90),
                rng.random_range(0..10_000)
            ),
            Channel::Hotline => "hotline:12345".into(),
            Channel::Open311 => "open311:qth-app".into(),
            Channel::Video => format!(
                "video:cam-{}-{:02}",
                &place.grid.as_str()[6..12],
                rng.random_range(1..20)
            ),
            Channel::Meeting | Channel::Order => Staff::community(&place.community).account,
            Channel::Property => format!("property:{}", &place.community.as_str()[..12]),
            Channel::Feed => format!(
                "feed:{}",
                match &lead {
                    UnitRef::Department(d) => d.as_str(),
                    _ => "hotline",
                }
            ),
        };
        let report = NewCase {
            channel: channel.as_str().into(),
            description,
            location: CaseLocation {
                grid: Some(place.grid.as_str().into()),
                community: Some(place.community.as_str().into()),
                street: Some(place.street.as_str().into()),
                district: Some(place.district.clone()),
                lon: Some(lon),
                lat: Some(lat),
                address: Some(format!("{}{}", place.street_name, place.community_name)),
            },
            reporter,
            report_detail: json!({"demo": true}),
            request_hash: None,
        };
        let reported = Case::new(number.clone(), node, matter.code, at, limits);

        let key = (place.community.as_str().to_string(), matter.code);
        let duplicate_of = self
            .recent
            .get(&key)
            .filter(|(_, t)| at - *t < Duration::days(3))
            .map(|(n, _)| n.clone());
        self.recent.insert(key, (number.clone(), at));

        let mut sim = Sim {
            case: reported.clone(),
            events: Vec::new(),
            t: at,
            end: self.opts.end,
            rules: self.rules,
            stopped: false,
        };
        let ctx = Walk {
            staff: &self.staff,
            matter,
            place,
            lead,
            limits,
            channel,
            grid_worker,
            duplicate_of,
        };
        ctx.run(&mut sim, &mut rng)?;
        Ok(CaseHistory {
            report,
            reported,
            current: sim.case,
            events: sim.events,
        })
    }
}

fn point_in(place: &Place, rng: &mut ChaCha8Rng) -> (f64, f64) {
    let (min, max) = (place.rect.min(), place.rect.max());
    for _ in 0..64 {
        let p = Point::new(rng.random_range(min.x..=max.x), rng.random_range(min.y..=max.y));
        if place.shape.contains(&p) {
            return (round6(p.x()), round6(p.y()));
        }
    }
    // A sliver of a grid: its box's centre is close enough.
    (round6((min.x + max.x) / 2.0), round6((min.y + max.y) / 2.0))
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn describe(matter: &Matter, place: &Place, rng: &mut ChaCha8Rng) -> String {
    pick(rng, matter.templates)
        .replace("{c}", &place.community_name)
        .replace("{s}", &place.street_name)
        .replace("{b}", &rng.random_range(1..=36).to_string())
        .replace("{u}", &rng.random_range(1..=6).to_string())
        .replace(
            "{r}",
            &format!("{}0{}", rng.random_range(1..=7), rng.random_range(1..=4)),
        )
        .replace("{t}", &rng.random_range(11..=16).to_string())
        .replace("{n}", &rng.random_range(2..=9).to_string())
}

/// A case walking the loop; `stopped` once a step would fall after `end`.
struct Sim<'r> {
    case: Case,
    events: Vec<Event>,
    t: DateTime<Utc>,
    end: DateTime<Utc>,
    rules: &'r CaseRules,
    stopped: bool,
}

impl Sim<'_> {
    fn ctx(&self) -> FlowContext<'_> {
        FlowContext {
            policy: &self.rules.policy,
            clock: &self.rules.calendar,
        }
    }

    /// Applies `action` at `at` (at least a minute after the last step); false, and nothing
    /// more happens to the case, when `at` is after the end of the simulation.
    fn act(&mut self, at: DateTime<Utc>, action: Action, actor: &Actor) -> Result<bool, DemoCasesError> {
        let at = at.max(self.t + Duration::minutes(1));
        if self.stopped || at > self.end {
            self.stopped = true;
            return Ok(false);
        }
        let kind = action.kind();
        let applied = apply(&self.case, action, actor, at, &self.ctx()).map_err(|error| DemoCasesError::Refused {
            case: self.case.number.to_string(),
            action: kind.label(Lang::En),
            error,
        })?;
        self.case = applied.case;
        self.events.push(applied.event);
        self.t = at;
        Ok(true)
    }

    /// `minutes` of working time after the last step.
    fn work(&self, minutes: i64) -> DateTime<Utc> {
        self.rules.calendar.add_work_minutes(self.t, minutes.max(1))
    }

    /// Working minutes a limit gives from `from`.
    fn limit_minutes(&self, from: DateTime<Utc>, limit: Limit) -> i64 {
        let clock: &dyn WorkClock = &self.rules.calendar;
        clock.work_minutes(from, clock.deadline(from, limit)).max(1)
    }

    /// The periodic supervision job, as it would have found the case just before `at`.
    fn supervise_before(&mut self, at: DateTime<Utc>, dispatcher: &Actor) -> Result<(), DemoCasesError> {
        let at = at.min(self.end);
        if let Some((level, trigger)) = auto_supervision(&self.case, at, &self.rules.policy, &self.rules.calendar) {
            let when = (at - Duration::minutes(5)).max(self.t + Duration::minutes(1));
            self.act(
                when,
                Action::Supervise {
                    level,
                    reason: trigger.reason(Lang::Zh),
                },
                dispatcher,
            )?;
        }
        Ok(())
    }
}

/// One case's walk: who does what, and when.
struct Walk<'a> {
    staff: &'a Staff,
    matter: &'static Matter,
    place: &'a Place,
    lead: UnitRef,
    limits: CaseLimits,
    channel: Channel,
    grid_worker: Actor,
    duplicate_of: Option<CaseNumber>,
}

macro_rules! step {
    ($sim:expr, $at:expr, $action:expr, $actor:expr) => {
        if !$sim.act($at, $action, $actor)? {
            return Ok(());
        }
    };
}

const PHOTO: &str = "demo-photo";

impl Walk<'_> {
    fn run(&self, sim: &mut Sim<'_>, rng: &mut ChaCha8Rng) -> Result<(), DemoCasesError> {
        let s = self.staff;
        let gw = &self.grid_worker;

        // A grid worker on patrol fixes a trivial matter on the spot; the intake clerk reviews it.
        if self.channel == Channel::Patrol && self.matter.trivial && rng.random_bool(0.3) {
            step!(
                sim,
                sim.t + Duration::minutes(rng.random_range(5..40)),
                Action::SelfHandle {
                    note: pick(rng, self.matter.results).to_string(),
                    photos: vec![PHOTO.into()],
                },
                gw
            );
            if rng.random_bool(0.93) {
                step!(
                    sim,
                    sim.work(rng.random_range(10..180)),
                    Action::ApproveSelfHandling,
                    &s.clerk
                );
                return Ok(());
            }
            step!(
                sim,
                sim.work(rng.random_range(10..180)),
                Action::DenySelfHandling {
                    reason: "现场照片不能反映处置结果，转入正常流程".into(),
                },
                &s.clerk
            );
        } else {
            // Duplicates of a recent report nearby are merged into it.
            if let Some(parent) = &self.duplicate_of
                && rng.random_bool(0.12)
            {
                step!(
                    sim,
                    sim.work(rng.random_range(3..90)),
                    Action::MergeInto { parent: parent.clone() },
                    &s.clerk
                );
                return Ok(());
            }
            if rng.random_bool(0.03) {
                let reason = pick(
                    rng,
                    &[
                        "不属于受理范围",
                        "上报信息不全，无法联系上报人",
                        "属于司法诉讼事项，已告知上报人依法维权",
                    ],
                );
                step!(
                    sim,
                    sim.work(rng.random_range(5..120)),
                    Action::Reject {
                        reason: reason.to_string()
                    },
                    &s.clerk
                );
                return Ok(());
            }
            step!(sim, sim.work(accept_minutes(rng)), Action::Accept, &s.clerk);
        }

        // Residents' and hotline reports are often verified on site first.
        if !matches!(self.channel, Channel::Patrol | Channel::Feed) && rng.random_bool(0.3) {
            step!(sim, sim.work(rng.random_range(2..30)), Action::SendToVerify, &s.clerk);
            step!(
                sim,
                sim.work(rng.random_range(10..120)),
                Action::Verified {
                    note: "现场核实情况属实".into(),
                    photos: vec![PHOTO.into()],
                },
                gw
            );
            if rng.random_bool(0.05) {
                step!(
                    sim,
                    sim.work(rng.random_range(5..60)),
                    Action::Reject {
                        reason: "经现场核实，问题不存在".into(),
                    },
                    &s.shiftlead
                );
                return Ok(());
            }
        }
        step!(sim, sim.work(rng.random_range(2..60)), Action::Register, &s.shiftlead);

        if rng.random_bool(0.015) {
            return self.cancel(sim, rng);
        }

        // Dispatch by the responsibility list; streets sometimes bring the community along.
        let mut co_handlers = Vec::new();
        if let UnitRef::Territory(t) = &self.lead
            && t.level() == Level::Street
            && rng.random_bool(0.2)
        {
            co_handlers.push(UnitRef::Territory(self.place.community.clone()));
        }
        step!(
            sim,
            sim.work(rng.random_range(5..90)),
            Action::Dispatch {
                lead: self.lead.clone(),
                co_handlers,
                limits: Some(self.limits),
            },
            &s.dispatcher
        );

        // Wrongly dispatched now and then: returned and dispatched elsewhere.
        let mut lead = self.lead.clone();
        if rng.random_bool(0.03) {
            let handler = Staff::for_unit(&lead);
            step!(
                sim,
                sim.work(rng.random_range(10..120)),
                Action::RequestReturn {
                    reason: "不属于本单位职责，申请回退".into(),
                },
                &handler
            );
            step!(
                sim,
                sim.work(rng.random_range(10..120)),
                Action::ApproveReturn,
                &s.dispatcher
            );
            lead = match lead {
                UnitRef::Department(_) => UnitRef::Territory(self.place.street.clone()),
                _ => UnitRef::Department(DepartmentCode::parse("urban-management").expect("valid")),
            };
            step!(
                sim,
                sim.work(rng.random_range(5..60)),
                Action::Dispatch {
                    lead: lead.clone(),
                    co_handlers: vec![],
                    limits: None,
                },
                &s.dispatcher
            );
        }
        let handler = Staff::for_unit(&lead);

        // Acknowledge, mostly within the response limit.
        let dispatched = sim.t;
        let response = sim.limit_minutes(dispatched, sim.case.limits.response.unwrap_or(HOUR));
        let ack = sim.work(scaled(rng, response, 0.1, 0.9, 0.12, 1.2, 4.0));
        sim.supervise_before(ack, &s.dispatcher)?;
        step!(sim, ack, Action::Acknowledge, &handler);

        // A street or community summons departments to a hard case; they report in.
        if matches!(lead, UnitRef::Territory(_)) && !self.matter.whistle.is_empty() && rng.random_bool(0.3) {
            let blower = Staff::street(&self.place.street);
            let departments: Vec<DepartmentCode> = self
                .matter
                .whistle
                .iter()
                .take(rng.random_range(1..=self.matter.whistle.len()))
                .map(|d| DepartmentCode::parse(d).expect("valid"))
                .collect();
            step!(
                sim,
                sim.t + Duration::minutes(rng.random_range(10..120)),
                Action::Whistle {
                    departments: departments.clone(),
                    report_in_by: None,
                },
                &blower
            );
            let blown = sim.t;
            let mut arrivals: Vec<(i64, DepartmentCode)> =
                departments.into_iter().map(|d| (rng.random_range(8..50), d)).collect();
            arrivals.sort();
            for (minutes, department) in arrivals {
                let who = Staff::for_unit(&UnitRef::Department(department.clone()));
                step!(
                    sim,
                    blown + Duration::minutes(minutes),
                    Action::ReportIn { department },
                    &who
                );
            }
        }

        // Handling, mostly within the limit; some ask for more time or a pause.
        let handling = sim.limit_minutes(dispatched, sim.case.limits.handling.unwrap_or(DAY));
        if rng.random_bool(0.05) {
            step!(
                sim,
                sim.work(handling / 3),
                Action::RequestExtension {
                    extend_by: ExtendBy::Limit {
                        limit: Limit {
                            amount: rng.random_range(2..=5),
                            unit: LimitUnit::WorkDays,
                        },
                    },
                    reason: "需协调产权单位和施工队伍，申请延期".into(),
                },
                &handler
            );
            if rng.random_bool(0.85) {
                step!(
                    sim,
                    sim.work(rng.random_range(10..240)),
                    Action::ApproveExtension,
                    &s.dispatcher
                );
            } else {
                step!(
                    sim,
                    sim.work(rng.random_range(10..240)),
                    Action::DenyExtension {
                        reason: "事项简单，应在时限内办结".into(),
                    },
                    &s.dispatcher
                );
            }
        }
        if rng.random_bool(0.02) {
            step!(
                sim,
                sim.work(handling / 4),
                Action::RequestSuspension {
                    reason: pick(
                        rng,
                        &[
                            "冬季冻土无法施工，待开春处置",
                            "涉及产权争议，待相关部门认定",
                            "需等待专项资金审批"
                        ]
                    )
                    .to_string(),
                },
                &handler
            );
            step!(
                sim,
                sim.work(rng.random_range(30..480)),
                Action::ApproveSuspension,
                &s.dispatcher
            );
            step!(sim, sim.work(rng.random_range(1..15) * 480), Action::Resume, &handler);
        }
        let deadline_left = sim.case.deadlines.handling.map_or(handling, |d| {
            sim.rules.calendar.remaining_work_minutes(sim.t, d).max(30)
        });
        let back = sim.work(scaled(rng, deadline_left, 0.2, 0.95, 0.15, 1.1, 2.5));
        sim.supervise_before(back, &s.dispatcher)?;
        // A leader's order on a case nobody has supervised yet (a level is never lowered).
        if sim.case.supervision.is_none() && rng.random_bool(0.01) {
            step!(
                sim,
                sim.t + Duration::hours(2),
                Action::Supervise {
                    level: SupervisionLevel::Normal,
                    reason: "群众反映强烈，请加快办理".into(),
                },
                &s.leader
            );
        }
        step!(sim, back, self.report_back(rng), &handler);

        // The check (核查): by the grid worker, or the community when the grid worker handled it.
        let checker = match &lead {
            UnitRef::GridWorker(_) => Staff::community(&self.place.community),
            _ => gw.clone(),
        };
        let mut reworks = 0;
        loop {
            let checked = sim.work(rng.random_range(10..150));
            if reworks < 2 && rng.random_bool(0.06) {
                step!(
                    sim,
                    checked,
                    Action::CheckFail {
                        reason: "现场核查问题未彻底解决，退回重办".into(),
                        photos: vec![PHOTO.into()],
                    },
                    &checker
                );
                reworks += 1;
                let again = sim.limit_minutes(sim.t, sim.case.limits.handling.unwrap_or(DAY));
                step!(
                    sim,
                    sim.work(scaled(rng, again, 0.1, 0.6, 0.05, 1.1, 1.8)),
                    self.report_back(rng),
                    &handler
                );
                continue;
            }
            step!(
                sim,
                checked,
                Action::CheckPass {
                    photos: vec![PHOTO.into()]
                },
                &checker
            );
            break;
        }
        step!(sim, sim.work(rng.random_range(5..240)), Action::Close, &s.shiftlead);
        self.follow_up(sim, rng, &handler, true)
    }

    fn report_back(&self, rng: &mut ChaCha8Rng) -> Action {
        Action::ReportBack {
            result: pick(rng, self.matter.results).to_string(),
            photos: vec![PHOTO.into()],
        }
    }

    fn cancel(&self, sim: &mut Sim<'_>, rng: &mut ChaCha8Rng) -> Result<(), DemoCasesError> {
        let s = self.staff;
        step!(
            sim,
            sim.work(rng.random_range(10..240)),
            Action::RequestCancel {
                reason: pick(rng, &["上报人撤回诉求", "问题已由上报人自行解决", "同一问题已另案办理"]).to_string(),
            },
            &s.dispatcher
        );
        step!(
            sim,
            sim.work(rng.random_range(10..240)),
            Action::ApproveCancel,
            &s.shiftlead
        );
        Ok(())
    }

    /// 回访 after closing, and a reopening when the reporter is not satisfied.
    fn follow_up(
        &self,
        sim: &mut Sim<'_>,
        rng: &mut ChaCha8Rng,
        handler: &Actor,
        may_reopen: bool,
    ) -> Result<(), DemoCasesError> {
        let s = self.staff;
        // Cameras and feeds have nobody to call.
        if matches!(self.channel, Channel::Video | Channel::Feed) || rng.random_bool(0.1) {
            return Ok(());
        }
        let call = |sim: &Sim<'_>, rng: &mut ChaCha8Rng| {
            let next_day = sim.t + Duration::days(rng.random_range(1..=3));
            sim.rules.calendar.add_work_minutes(next_day, rng.random_range(1..300))
        };
        if rng.random_bool(0.08) {
            let at = call(sim, rng);
            step!(
                sim,
                at,
                Action::FollowUp {
                    contacted: false,
                    solved: None,
                    satisfaction: None,
                },
                &s.clerk
            );
        }
        let (solved, satisfaction) = if !may_reopen {
            (true, Satisfaction::Satisfied)
        } else {
            match rng.random_range(0..100) {
                0..74 => (true, Satisfaction::Satisfied),
                74..92 => (true, Satisfaction::BasicallySatisfied),
                92..96 => (true, Satisfaction::NotSatisfied),
                _ => (false, Satisfaction::NotSatisfied),
            }
        };
        let at = call(sim, rng);
        step!(
            sim,
            at,
            Action::FollowUp {
                contacted: true,
                solved: Some(solved),
                satisfaction: Some(satisfaction),
            },
            &s.clerk
        );
        let reopen_at = sim.t + Duration::hours(rng.random_range(1..24));
        let window = Duration::days(i64::from(sim.rules.policy.reopen_window_days));
        let in_window = sim.case.closed_at.is_some_and(|c| reopen_at - c <= window);
        if may_reopen && in_window && (!solved || satisfaction == Satisfaction::NotSatisfied) && rng.random_bool(0.6) {
            step!(
                sim,
                reopen_at,
                Action::Reopen {
                    reason: "回访群众不满意，问题仍未解决，启动重办".into(),
                },
                &s.shiftlead
            );
            if sim.case.state.as_str() != "handling" {
                // Nobody handled it (self-handled): it waits for dispatch again.
                return Ok(());
            }
            let handling = sim.limit_minutes(sim.t, sim.case.limits.handling.unwrap_or(DAY));
            step!(
                sim,
                sim.work(scaled(rng, handling, 0.2, 0.8, 0.0, 1.0, 1.0)),
                self.report_back(rng),
                handler
            );
            let checker = match &sim.case.lead {
                Some(UnitRef::GridWorker(_)) => Staff::community(&self.place.community),
                _ => self.grid_worker.clone(),
            };
            step!(
                sim,
                sim.work(rng.random_range(10..150)),
                Action::CheckPass {
                    photos: vec![PHOTO.into()]
                },
                &checker
            );
            step!(sim, sim.work(rng.random_range(5..240)), Action::Close, &s.shiftlead);
            return self.follow_up(sim, rng, handler, false);
        }
        Ok(())
    }
}

const HOUR: Limit = Limit {
    amount: 1,
    unit: LimitUnit::WorkHours,
};
const DAY: Limit = Limit {
    amount: 1,
    unit: LimitUnit::WorkDays,
};

/// Minutes from report to acceptance: mostly minutes, sometimes hours.
fn accept_minutes(rng: &mut ChaCha8Rng) -> i64 {
    match rng.random_range(0..100) {
        0..60 => rng.random_range(2..30),
        60..90 => rng.random_range(30..120),
        _ => rng.random_range(120..480),
    }
}

/// A share of `limit` minutes: between `lo` and `hi` of it, or with probability `late`
/// between `late_lo` and `late_hi` (past the limit).
fn scaled(rng: &mut ChaCha8Rng, limit: i64, lo: f64, hi: f64, late: f64, late_lo: f64, late_hi: f64) -> i64 {
    let f = if late > 0.0 && rng.random_bool(late) {
        rng.random_range(late_lo..=late_hi)
    } else {
        rng.random_range(lo..=hi)
    };
    ((limit as f64) * f).round().max(1.0) as i64
}

/// The local hour of an instant, for tests of the report distribution.
pub fn local_hour(t: DateTime<Utc>) -> u32 {
    city_time(t).hour()
}
