//! The demo city's registry (issue 7, item 5), deterministic from the demo seed: 341 compounds
//! with their owners' committees, buildings with entrances placed inside the grids, one household
//! for each of a grid's households, synthetic residents in them, 84 member organizations, 67
//! property companies, posted offices, the party organizations (a working committee per street,
//! a committee per community, 762 grid organizations for 810 grids, branches in companies) and
//! 8,735 employed party members, plus grid workers, building chiefs and entrance chiefs.
//!
//! Nobody here is a real person: names are drawn from common surname and given-name frequencies
//! (`data/qitaihe/surnames.csv`, `given-names.csv`) and combined at random; ID numbers carry
//! Qitaihe area codes (2309xx), plausible birth dates and valid check digits, and are unique by
//! construction; phones are in the one block `1990464xxxx`.
//!
//! [`DemoRegistry`] generates the city grid by grid (pure, on its own thread); the loader writes
//! each grid in one transaction with a pause between, so the server stays usable while it loads.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use geo::{BoundingRect, Contains, Point};
use gongzhi_core::orgs::CreditCode;
use gongzhi_core::orgs::registry::{
    NewMemberOrganization, NewOwnersCommittee, NewPartyOrganization, NewPostedOffice, NewPropertyCompany, OrgKind,
    PartyOrgKind,
};
use gongzhi_core::people::id_number::{IdNumber, check_character};
use gongzhi_core::people::registry::{
    AssignmentKind, CareTag, NewAssignment, NewPartyMember, NewResidentRecord, PartyMemberKind, PersonName, Phone,
    Relation, Residence,
};
use gongzhi_core::territory::places::{NewBuilding, NewCompound, NewHousehold};
use gongzhi_core::territory::{GridCode, Node, TerritoryCode};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const COMPOUNDS: usize = 341;
pub const PROPERTY_COMPANIES: usize = 67;
pub const MEMBER_ORGANIZATIONS: usize = 84;
pub const GRID_PARTY_ORGANIZATIONS: usize = 762;
pub const EMPLOYED_PARTY_MEMBERS: usize = 8_735;

const SURNAMES: &str = include_str!("../../../data/qitaihe/surnames.csv");
const GIVEN: &str = include_str!("../../../data/qitaihe/given-names.csv");
/// Qitaihe's county-level area codes: 新兴区, 桃山区, 茄子河区, 勃利县.
const AREAS: [&str; 4] = ["230902", "230903", "230904", "230921"];
const COMPOUND_WORDS: [&str; 24] = [
    "幸福", "和平", "阳光", "新兴", "康乐", "华府", "金桥", "翠园", "泰和", "安居", "富康", "祥和", "盛世", "怡景",
    "东方", "锦绣", "龙湖", "桃源", "鑫城", "丽景", "北山", "河畔", "春晖", "惠民",
];
const COMPOUND_SUFFIX: [&str; 4] = ["小区", "家园", "花园", "新村"];
const ORG_WORDS: [&str; 16] = [
    "煤业", "热力", "供水", "电力", "建材", "物流", "医药", "食品", "机械", "化工", "商贸", "矿业", "纺织", "印刷",
    "能源", "通信",
];
const POSTED: [(&str, &str); 3] = [
    ("public-security", "派出所"),
    ("market-regulation", "市场监督管理所"),
    ("justice", "司法所"),
];

/// How much of the registry to make: `scale` of every grid's households (1.0 = all 228,200;
/// tests use a small fraction), and optionally only the grids under one territory prefix.
#[derive(Debug, Clone)]
pub struct DemoRegistryOptions {
    pub seed: u64,
    pub scale: f64,
    pub within: Option<String>,
}

struct Names {
    surnames: Vec<(String, u32)>,
    male: Vec<(String, u32)>,
    female: Vec<(String, u32)>,
}

fn rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .map(|l| l.split(',').map(str::trim).collect())
}

impl Names {
    fn load() -> Names {
        let surnames = rows(SURNAMES)
            .map(|r| (r[0].to_string(), r[1].parse().unwrap_or(1)))
            .collect();
        let (mut male, mut female) = (Vec::new(), Vec::new());
        for r in rows(GIVEN) {
            let w: u32 = r[1].parse().unwrap_or(1);
            if r[2] != "f" {
                male.push((r[0].to_string(), w));
            }
            if r[2] != "m" {
                female.push((r[0].to_string(), w));
            }
        }
        Names { surnames, male, female }
    }

    fn draw(list: &[(String, u32)], rng: &mut ChaCha8Rng) -> String {
        let total: u32 = list.iter().map(|(_, w)| w).sum();
        let mut x = rng.random_range(0..total.max(1));
        for (s, w) in list {
            if x < *w {
                return s.clone();
            }
            x -= w;
        }
        list[0].0.clone()
    }

    fn given(&self, male: bool, rng: &mut ChaCha8Rng) -> String {
        let list = if male { &self.male } else { &self.female };
        let mut g = Names::draw(list, rng);
        if rng.random_bool(0.6) {
            g.push_str(&Names::draw(list, rng));
        }
        g
    }

    fn person(&self, surname: Option<&str>, male: bool, rng: &mut ChaCha8Rng) -> String {
        let s = surname.map_or_else(|| Names::draw(&self.surnames, rng), str::to_string);
        format!("{s}{}", self.given(male, rng))
    }
}

/// Issues unique ID numbers: a counter per area, birth date and sex gives the sequence.
#[derive(Default)]
struct IdIssuer {
    next: HashMap<(usize, NaiveDate, bool), u32>,
}

impl IdIssuer {
    fn issue(&mut self, area: usize, birth: NaiveDate, male: bool) -> IdNumber {
        let mut birth = birth;
        loop {
            let n = self.next.entry((area, birth, male)).or_insert(0);
            if *n < 500 {
                let seq = *n * 2 + u32::from(male);
                *n += 1;
                let first17 = format!("{}{}{seq:03}", AREAS[area], birth.format("%Y%m%d"));
                let check = check_character(&first17).expect("17 digits");
                return IdNumber::parse(&format!("{first17}{check}")).expect("a valid synthetic ID number");
            }
            birth = birth.succ_opt().expect("a later day");
        }
    }
}

/// One grid's places and people, before they have ids: households refer to buildings and
/// residents to households by their index in this batch.
pub struct GridBatch {
    pub grid: String,
    pub buildings: Vec<NewBuilding>,
    /// (index of the building, the household with `building_id` 0).
    pub households: Vec<(usize, NewHousehold)>,
    /// (index of the household, the resident with `household_id` 0).
    pub residents: Vec<(usize, NewResidentRecord)>,
    pub grid_worker: NewAssignment,
    /// (index of the building, entrance number or 0 for the building, the chief).
    pub chiefs: Vec<(usize, u16, NewAssignment)>,
}

/// The organizations, compounds and party structure, written before the grids.
pub struct Frame {
    pub property_companies: Vec<NewPropertyCompany>,
    pub organizations: Vec<NewMemberOrganization>,
    /// (index of the property company, the compound with `property_company_id` None).
    pub compounds: Vec<(usize, NewCompound)>,
    pub committees: Vec<(usize, NewOwnersCommittee)>,
    pub posted_offices: Vec<NewPostedOffice>,
    /// In parent-first order; a company branch's organization by its index in `organizations`.
    pub party_organizations: Vec<(Option<usize>, NewPartyOrganization)>,
}

struct GridPlace {
    grid: GridCode,
    community: String,
    street: String,
    community_name: String,
    street_name: String,
    households: usize,
    shape: geo::MultiPolygon<f64>,
}

pub struct DemoRegistry {
    opts: DemoRegistryOptions,
    names: Names,
    ids: IdIssuer,
    grids: Vec<GridPlace>,
    next_grid: usize,
    /// The compounds of each community: (code, name), assigned to buildings in turn.
    compounds: BTreeMap<String, Vec<(String, String)>>,
}

fn scaled(n: usize, scale: f64) -> usize {
    if scale <= 0.0 {
        0
    } else {
        ((n as f64 * scale).round() as usize).max(1)
    }
}

impl DemoRegistry {
    pub fn new(nodes: &[Node], opts: DemoRegistryOptions) -> DemoRegistry {
        let names_of: HashMap<&str, &str> = nodes.iter().map(|n| (n.code.as_str(), n.name.as_str())).collect();
        let mut grids = Vec::new();
        for n in nodes {
            let (TerritoryCode::Grid(g), Some(shape)) = (&n.code, &n.boundary) else {
                continue;
            };
            if opts.within.as_deref().is_some_and(|w| !g.as_str().starts_with(w)) {
                continue;
            }
            let community = g.community().as_str().to_string();
            let street = format!("{}000", &community[..9]);
            grids.push(GridPlace {
                grid: g.clone(),
                community_name: names_of.get(community.as_str()).copied().unwrap_or("").to_string(),
                street_name: names_of.get(street.as_str()).copied().unwrap_or("").to_string(),
                community,
                street,
                households: scaled(n.households.unwrap_or(280).max(1) as usize, opts.scale),
                shape: shape.clone(),
            });
        }
        grids.sort_by(|a, b| a.grid.as_str().cmp(b.grid.as_str()));
        DemoRegistry {
            opts,
            names: Names::load(),
            ids: IdIssuer::default(),
            grids,
            next_grid: 0,
            compounds: BTreeMap::new(),
        }
    }

    pub fn grid_count(&self) -> usize {
        self.grids.len()
    }

    pub fn households(&self) -> usize {
        self.grids.iter().map(|g| g.households).sum()
    }

    fn rng(&self, salt: &str) -> ChaCha8Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ self.opts.seed;
        for b in salt.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        ChaCha8Rng::seed_from_u64(h)
    }

    /// The organizations, compounds and party structure. Call once, before the grids.
    pub fn frame(&mut self) -> Frame {
        let mut rng = self.rng("frame");
        let mut communities: BTreeMap<String, (String, String, usize)> = BTreeMap::new();
        for g in &self.grids {
            let e = communities
                .entry(g.community.clone())
                .or_insert_with(|| (g.street.clone(), g.community_name.clone(), 0));
            e.2 += g.households.max(1);
        }
        let streets: Vec<String> = {
            let mut s: Vec<String> = communities.values().map(|c| c.0.clone()).collect();
            s.sort();
            s.dedup();
            s
        };
        let property_companies: Vec<NewPropertyCompany> = (0..PROPERTY_COMPANIES)
            .map(|i| NewPropertyCompany {
                credit_code: credit_code(AREAS[i % 4], &format!("WY{i:06}")),
                name: format!(
                    "七台河市{}{}物业服务有限公司",
                    COMPOUND_WORDS[i % COMPOUND_WORDS.len()],
                    ["", "宏达", "佳和", "恒信"][i / COMPOUND_WORDS.len() % 4]
                ),
                address: format!(
                    "七台河市{}路{}号",
                    COMPOUND_WORDS[(i * 7) % COMPOUND_WORDS.len()],
                    10 + i
                ),
                phone: Some(format!("0464-82{i:05}")),
            })
            .collect();
        let kinds = [
            (OrgKind::Agency, 14),
            (OrgKind::PublicInstitution, 22),
            (OrgKind::Enterprise, 36),
            (OrgKind::SocialOrganization, 12),
        ];
        let community_codes: Vec<&String> = communities.keys().collect();
        let mut organizations = Vec::new();
        for (kind, n) in kinds {
            for k in 0..n {
                let i = organizations.len();
                let community = community_codes[i % community_codes.len().max(1)].clone();
                let street = format!("{}000", &community[..9]);
                let name = match kind {
                    OrgKind::Agency => format!("七台河市第{}行政服务机关", k + 1),
                    OrgKind::PublicInstitution => {
                        format!("七台河市第{}{}", k / 3 + 1, ["中学", "小学", "医院"][k % 3])
                    }
                    OrgKind::Enterprise => format!(
                        "七台河{}{}有限公司",
                        COMPOUND_WORDS[(k * 5) % COMPOUND_WORDS.len()],
                        ORG_WORDS[k % ORG_WORDS.len()]
                    ),
                    OrgKind::SocialOrganization => {
                        format!("七台河市{}志愿服务协会", COMPOUND_WORDS[k % COMPOUND_WORDS.len()])
                    }
                };
                let prefix = match kind {
                    OrgKind::Agency => "11",
                    OrgKind::PublicInstitution => "12",
                    OrgKind::Enterprise => "91",
                    OrgKind::SocialOrganization => "51",
                };
                organizations.push(NewMemberOrganization {
                    credit_code: CreditCode::from_parts(prefix, &community[..6], &format!("MA{i:06}"))
                        .expect("a valid synthetic credit code"),
                    name,
                    kind,
                    community_code: Some(community),
                    street_code: street,
                    address: format!("{}街{}号", COMPOUND_WORDS[(i * 3) % COMPOUND_WORDS.len()], 1 + i),
                });
            }
        }
        // 341 compounds over the communities by their households (largest remainder).
        let total: usize = communities.values().map(|c| c.2).sum();
        let mut shares: Vec<(String, usize, f64)> = communities
            .iter()
            .map(|(code, c)| {
                let exact = COMPOUNDS as f64 * c.2 as f64 / total.max(1) as f64;
                (code.clone(), (exact.floor() as usize).max(1), exact - exact.floor())
            })
            .collect();
        let given: usize = shares.iter().map(|s| s.1).sum();
        let mut order: Vec<usize> = (0..shares.len()).collect();
        order.sort_by(|a, b| shares[*b].2.total_cmp(&shares[*a].2));
        // The largest remainders get the compounds the floors left over.
        let left_over = COMPOUNDS.saturating_sub(given).min(shares.len() * 4);
        for i in order.iter().cycle().take(left_over) {
            shares[*i].1 += 1;
        }
        let mut compounds = Vec::new();
        let mut committees = Vec::new();
        for (community, n, _) in &shares {
            let (_, cname, _) = &communities[community];
            // A compound's name is unique in its community (imports and corrections rely on it).
            let mut taken = std::collections::HashSet::new();
            for k in 0..*n {
                let i = compounds.len();
                let combinations = COMPOUND_WORDS.len() * COMPOUND_SUFFIX.len();
                let name = (0..combinations)
                    .map(|j| {
                        format!(
                            "{}{}",
                            COMPOUND_WORDS[(i * 11 + k + j) % COMPOUND_WORDS.len()],
                            COMPOUND_SUFFIX[(i + j / COMPOUND_WORDS.len()) % COMPOUND_SUFFIX.len()]
                        )
                    })
                    .find(|name| !taken.contains(name))
                    .unwrap_or_else(|| format!("{}{}期", COMPOUND_WORDS[0], k + 1));
                taken.insert(name.clone());
                let code = format!("{community}-C{:02}", k + 1);
                self.compounds
                    .entry(community.clone())
                    .or_default()
                    .push((code.clone(), name.clone()));
                compounds.push((
                    i % PROPERTY_COMPANIES,
                    NewCompound {
                        code,
                        name: name.clone(),
                        community: gongzhi_core::territory::DivisionCode::parse(community).expect("a community code"),
                        address: format!("{cname}{name}"),
                        lon: None,
                        lat: None,
                        outline: None,
                        property_company_id: None,
                    },
                ));
                committees.push((
                    i,
                    NewOwnersCommittee {
                        compound_id: 0,
                        name: format!("{name}业主委员会"),
                        members: rng.random_range(5..=9),
                        elected_on: NaiveDate::from_ymd_opt(2021 + rng.random_range(0..4), rng.random_range(1..=12), 1),
                    },
                ));
            }
        }
        let posted_offices = streets
            .iter()
            .flat_map(|s| {
                POSTED.iter().map(move |(dept, what)| NewPostedOffice {
                    department_code: dept.to_string(),
                    name: format!("{what}（{s}）"),
                    street_code: s.clone(),
                    address: format!("街道办事处院内（{s}）"),
                })
            })
            .collect();
        // Party organizations: streets, communities, 762 of the grids, branches in enterprises.
        let mut party = Vec::new();
        let street_name = |s: &str| {
            self.grids
                .iter()
                .find(|g| g.street == s)
                .map_or_else(|| s.to_string(), |g| g.street_name.clone())
        };
        for s in &streets {
            party.push((
                None,
                NewPartyOrganization {
                    code: format!("P-{s}"),
                    name: format!("中共{}工作委员会", street_name(s)),
                    kind: PartyOrgKind::StreetWorkingCommittee,
                    parent_code: None,
                    territory_code: s.clone(),
                    organization_id: None,
                },
            ));
        }
        for (code, (street, name, _)) in &communities {
            party.push((
                None,
                NewPartyOrganization {
                    code: format!("P-{code}"),
                    name: format!("中共{name}委员会"),
                    kind: PartyOrgKind::CommunityCommittee,
                    parent_code: Some(format!("P-{street}")),
                    territory_code: code.clone(),
                    organization_id: None,
                },
            ));
        }
        // 762 grid organizations for 810 grids: every grid but each 17th (scaled to the grids here).
        let with_org = GRID_PARTY_ORGANIZATIONS * self.grids.len() / 810;
        let skip = self.grids.len().saturating_sub(with_org);
        let step = self.grids.len().checked_div(skip).unwrap_or(usize::MAX);
        let mut skipped = 0;
        for (i, g) in self.grids.iter().enumerate() {
            if skipped < skip && step != usize::MAX && i % step == step - 1 {
                skipped += 1;
                continue;
            }
            party.push((
                None,
                NewPartyOrganization {
                    code: format!("P-{}", g.grid.as_str()),
                    name: format!("{}第{}网格党支部", g.community_name, g.grid.serial()),
                    kind: PartyOrgKind::GridOrganization,
                    parent_code: Some(format!("P-{}", g.community)),
                    territory_code: g.grid.as_str().to_string(),
                    organization_id: None,
                },
            ));
        }
        for (i, o) in organizations.iter().enumerate() {
            if o.kind != OrgKind::Enterprise {
                continue;
            }
            let community = o.community_code.clone().unwrap_or_default();
            party.push((
                Some(i),
                NewPartyOrganization {
                    code: format!("P-ORG-{}", o.credit_code.as_str()),
                    name: format!("{}党支部", o.name),
                    kind: PartyOrgKind::CompanyBranch,
                    parent_code: Some(format!("P-{community}")),
                    territory_code: community,
                    organization_id: None,
                },
            ));
        }
        Frame {
            property_companies,
            organizations,
            compounds,
            committees,
            posted_offices,
            party_organizations: party,
        }
    }

    fn birth(rng: &mut ChaCha8Rng, min_age: i32, max_age: i32) -> NaiveDate {
        let year = 2026 - rng.random_range(min_age..=max_age.max(min_age));
        NaiveDate::from_ymd_opt(year, rng.random_range(1..=12), rng.random_range(1..=28)).expect("a real day")
    }

    fn area(rng: &mut ChaCha8Rng, grid: &GridCode) -> usize {
        let own = AREAS.iter().position(|a| grid.as_str().starts_with(a)).unwrap_or(1);
        if rng.random_bool(0.85) {
            own
        } else {
            rng.random_range(0..AREAS.len())
        }
    }

    fn phone(rng: &mut ChaCha8Rng) -> Phone {
        Phone::parse(&format!("1990464{:04}", rng.random_range(0..10_000))).expect("a valid phone")
    }

    /// The next grid's places and people; `None` after the last.
    pub fn next_grid(&mut self) -> Option<GridBatch> {
        let gi = self.next_grid;
        let g = self.grids.get(gi)?;
        self.next_grid += 1;
        let mut rng = self.rng(g.grid.as_str());
        let grid = g.grid.clone();
        let rect = g.shape.bounding_rect();
        let shape = g.shape.clone();
        let households_wanted = g.households;
        let (community, community_name, street_name) =
            (g.community.clone(), g.community_name.clone(), g.street_name.clone());
        let compounds = self.compounds.get(&community).cloned().unwrap_or_default();
        let point = |rng: &mut ChaCha8Rng| -> (Option<f64>, Option<f64>) {
            let Some(r) = rect else { return (None, None) };
            for _ in 0..50 {
                let p = Point::new(
                    rng.random_range(r.min().x..=r.max().x),
                    rng.random_range(r.min().y..=r.max().y),
                );
                if shape.contains(&p) {
                    return (Some(p.x()), Some(p.y()));
                }
            }
            let c = r.center();
            (Some(c.x), Some(c.y))
        };
        let mut buildings = Vec::new();
        let mut households = Vec::new();
        let mut residents = Vec::new();
        let mut chiefs = Vec::new();
        let mut left = households_wanted;
        let mut b = 0usize;
        while left > 0 {
            b += 1;
            let floors: u16 = rng.random_range(5..=7);
            let entrances: u16 = rng.random_range(2..=4);
            let per_floor = 2u16;
            let capacity = usize::from(floors * entrances * per_floor);
            let here = capacity.min(left);
            left -= here;
            let (lon, lat) = point(&mut rng);
            let compound = compounds.get(b % compounds.len().max(1)).cloned();
            let number = b;
            let name = format!("{number}号楼");
            let address = match &compound {
                Some((_, cname)) => format!("七台河市{street_name}{community_name}{cname}{name}"),
                None => format!("七台河市{street_name}{community_name}{name}"),
            };
            let bi = buildings.len();
            buildings.push(NewBuilding {
                code: format!("{}-B{number:02}", grid.as_str()),
                compound_id: None,
                grid: grid.clone(),
                name,
                address,
                floors,
                entrances,
                use_kind: "residential".into(),
                lon,
                lat,
                outline: None,
            });
            chiefs.push((bi, 0, self.chief(AssignmentKind::BuildingChief, &community, &mut rng)));
            for e in 1..=entrances {
                chiefs.push((bi, e, self.chief(AssignmentKind::EntranceChief, &community, &mut rng)));
            }
            for k in 0..here {
                let k = k as u16;
                let entrance = k / (floors * per_floor) + 1;
                let within = k % (floors * per_floor);
                let floor = within / per_floor + 1;
                let door = within % per_floor + 1;
                let hi = households.len();
                households.push((
                    bi,
                    NewHousehold {
                        code: format!("{}-B{number:02}-{:04}", grid.as_str(), k + 1),
                        building_id: 0,
                        entrance: Some(entrance),
                        room: format!("{entrance}-{floor}{door:02}"),
                        // 50 to 129 m², spread without drawing from the generator (which would
                        // change every person drawn after it).
                        area_m2: Some(50 + i64::from((k * 37 + door * 11) % 80)),
                    },
                ));
                self.people(hi, &grid, &mut rng, &mut residents);
            }
        }
        let grid_worker = NewAssignment {
            kind: AssignmentKind::GridWorker,
            person_name: PersonName::parse(&self.names.person(None, rng.random_bool(0.4), &mut rng)).expect("a name"),
            account: (grid.as_str() == "230903011001001").then(|| "gridworker".to_string()),
            phone: Some(Self::phone(&mut rng)),
            community_code: community.clone(),
            grid_code: Some(grid.as_str().to_string()),
            building_id: None,
            entrance_id: None,
        };
        Some(GridBatch {
            grid: grid.as_str().to_string(),
            buildings,
            households,
            residents,
            grid_worker,
            chiefs,
        })
    }

    fn chief(&self, kind: AssignmentKind, community: &str, rng: &mut ChaCha8Rng) -> NewAssignment {
        NewAssignment {
            kind,
            person_name: PersonName::parse(&self.names.person(None, rng.random_bool(0.5), rng)).expect("a name"),
            account: None,
            phone: Some(Self::phone(rng)),
            community_code: community.to_string(),
            grid_code: None,
            building_id: None,
            entrance_id: None,
        }
    }

    /// The people of one household: 1 to 5, a head, perhaps a spouse, children, a parent.
    fn people(&mut self, hi: usize, grid: &GridCode, rng: &mut ChaCha8Rng, out: &mut Vec<(usize, NewResidentRecord)>) {
        let size = [1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 5, 5][rng.random_range(0..20)];
        let head_male = rng.random_bool(0.6);
        let head_age = if size == 1 {
            rng.random_range(25..=88)
        } else {
            rng.random_range(30..=75)
        };
        let surname = Names::draw(&self.names.surnames, rng);
        let mut members: Vec<(Relation, bool, i32, bool)> = vec![(Relation::Head, head_male, head_age, true)];
        if size >= 2 {
            members.push((
                Relation::Spouse,
                !head_male,
                (head_age + rng.random_range(-4..=4)).max(20),
                false,
            ));
        }
        for _ in 2..size {
            if head_age > 45 && rng.random_bool(0.25) {
                members.push((Relation::Parent, rng.random_bool(0.4), (head_age + 26).min(98), false));
            } else {
                let age = (head_age - rng.random_range(22..=32)).max(0);
                members.push((Relation::Child, rng.random_bool(0.5), age, true));
            }
        }
        let floating = rng.random_bool(0.12);
        for (relation, male, age, same_surname) in members {
            let birth = Self::birth(rng, age, age);
            let area = Self::area(rng, grid);
            let id_number = self.ids.issue(area, birth, male);
            let name = self
                .names
                .person(if same_surname { Some(surname.as_str()) } else { None }, male, rng);
            let mut care_tags = Vec::new();
            if size == 1 && age >= 65 {
                care_tags.push(CareTag::ElderlyAlone);
            } else if relation == Relation::Head && age >= 65 && size == 2 && rng.random_bool(0.5) {
                care_tags.push(CareTag::EmptyNest);
            }
            if rng.random_bool(0.02) {
                care_tags.push(CareTag::Disabled);
            }
            if relation == Relation::Head && rng.random_bool(0.03) {
                care_tags.push(CareTag::LowIncome);
            }
            if age >= 60 && rng.random_bool(0.04) {
                care_tags.push(CareTag::Veteran);
            }
            care_tags.sort();
            let residence = if floating {
                Residence::Floating
            } else if rng.random_bool(0.05) {
                Residence::Away
            } else {
                Residence::RegisteredHere
            };
            out.push((
                hi,
                NewResidentRecord {
                    household_id: 0,
                    name: PersonName::parse(&name).expect("a name"),
                    id_number,
                    phone: (age >= 18 && rng.random_bool(0.8)).then(|| Self::phone(rng)),
                    relation,
                    residence,
                    registered_address: (residence == Residence::Floating)
                        .then(|| format!("黑龙江省{}某村", ["勃利县", "林口县", "桦南县"][rng.random_range(0..3)])),
                    care_tags,
                    party_member: age >= 18 && rng.random_bool(0.07),
                },
            ));
        }
    }

    /// The employed party members (8,735 scaled), each living in one of the communities here and
    /// working for one of `employers` (their indexes in the frame's organizations), whose branch
    /// or whose community's committee they belong to. `party_organization_id` is 0 until the
    /// loader knows the ids: `(employer index, community code, member)`.
    pub fn party_members(&mut self, employers: usize) -> Vec<(usize, String, NewPartyMember)> {
        let mut rng = self.rng("party members");
        let n = scaled(EMPLOYED_PARTY_MEMBERS, self.opts.scale);
        let communities: Vec<(String, GridCode)> = {
            let mut seen = BTreeMap::new();
            for g in &self.grids {
                seen.entry(g.community.clone()).or_insert_with(|| g.grid.clone());
            }
            seen.into_iter().collect()
        };
        if communities.is_empty() || employers == 0 {
            return Vec::new();
        }
        (0..n)
            .map(|i| {
                let (community, grid) = &communities[i % communities.len()];
                let male = rng.random_bool(0.55);
                let birth = Self::birth(&mut rng, 23, 60);
                let area = Self::area(&mut rng, grid);
                let member = NewPartyMember {
                    party_organization_id: 0,
                    residence_community_code: community.clone(),
                    kind: PartyMemberKind::Employed,
                    employer_id: None,
                    name: PersonName::parse(&self.names.person(None, male, &mut rng)).expect("a name"),
                    id_number: self.ids.issue(area, birth, male),
                    phone: Some(Self::phone(&mut rng)),
                    checked_in_on: NaiveDate::from_ymd_opt(2025, rng.random_range(1..=12), rng.random_range(1..=28)),
                    joined_on: NaiveDate::from_ymd_opt(birth.year() + 25, 7, 1),
                };
                (rng.random_range(0..employers), community.clone(), member)
            })
            .collect()
    }
}

fn credit_code(division: &str, org8: &str) -> CreditCode {
    CreditCode::from_parts("91", division, org8).expect("a valid synthetic credit code")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_id_numbers_are_valid_unique_and_from_qitaihe() {
        let mut ids = IdIssuer::default();
        let day = NaiveDate::from_ymd_opt(1960, 2, 29).unwrap();
        let mut seen = std::collections::HashSet::new();
        for i in 0..1200 {
            let id = ids.issue(i % 4, day, i % 2 == 0);
            assert!(id.as_str().starts_with("2309"));
            assert!(seen.insert(id.as_str().to_string()));
        }
    }

    #[test]
    fn names_come_from_the_frequency_lists() {
        let names = Names::load();
        assert!(names.surnames.len() >= 90);
        assert_eq!(names.surnames[0].0, "王");
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let n = names.person(None, true, &mut rng);
        assert!((2..=3).contains(&n.chars().count()));
    }
}

/// What a load wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Loaded {
    pub grids: usize,
    pub buildings: usize,
    pub households: usize,
    pub residents: usize,
    pub party_members: usize,
}

/// Writes the demo registry: the frame (organizations, compounds, party structure) in one
/// transaction, then each grid in its own, pausing `pause` between grids so that sign-in and
/// pages are never starved. Grids that already have buildings are skipped (a load interrupted
/// by a stop continues where it was); the generator still runs through them so the synthetic
/// ID numbers stay the same.
pub async fn load(
    db: &gongzhi_store::Db,
    cipher: &dyn gongzhi_core::people::cipher::CipherProvider,
    key: &gongzhi_core::audit::AuditKey,
    nodes: &[Node],
    opts: DemoRegistryOptions,
    pause: std::time::Duration,
) -> Result<Loaded, gongzhi_store::StoreError> {
    use gongzhi_core::audit::SYSTEM_ACTOR;
    use gongzhi_store::orgs as o;
    use gongzhi_store::people::registry as p;
    use gongzhi_store::territory::places as t;

    let mut registry = DemoRegistry::new(nodes, opts);
    let mut frame = registry.frame();
    let mut loaded = Loaded::default();
    let fresh = db
        .compound_by_code(&frame.compounds.first().map(|c| c.1.code.clone()).unwrap_or_default())
        .await?
        .is_none();
    let mut org_ids = Vec::new();
    let mut party_ids: HashMap<String, i64> = HashMap::new();
    let mut compound_ids: HashMap<String, i64> = HashMap::new();
    if fresh && !frame.compounds.is_empty() {
        let mut tx = db.begin().await?;
        let companies = o::insert_property_companies_tx(&mut tx, key, SYSTEM_ACTOR, &frame.property_companies).await?;
        org_ids = o::insert_member_organizations_tx(&mut tx, key, SYSTEM_ACTOR, &frame.organizations).await?;
        let compounds: Vec<NewCompound> = frame
            .compounds
            .drain(..)
            .map(|(company, mut c)| {
                c.property_company_id = companies.get(company).copied();
                c
            })
            .collect();
        let ids = t::insert_compounds_tx(&mut tx, key, SYSTEM_ACTOR, &compounds).await?;
        compound_ids.extend(compounds.iter().map(|c| c.code.clone()).zip(ids.iter().copied()));
        let committees: Vec<NewOwnersCommittee> = frame
            .committees
            .drain(..)
            .map(|(i, mut c)| {
                c.compound_id = ids[i];
                c
            })
            .collect();
        o::insert_owners_committees_tx(&mut tx, key, SYSTEM_ACTOR, &committees).await?;
        o::insert_posted_offices_tx(&mut tx, key, SYSTEM_ACTOR, &frame.posted_offices).await?;
        let party: Vec<NewPartyOrganization> = frame
            .party_organizations
            .drain(..)
            .map(|(org, mut p)| {
                p.organization_id = org.and_then(|i| org_ids.get(i).copied());
                p
            })
            .collect();
        let ids = o::insert_party_organizations_tx(&mut tx, key, SYSTEM_ACTOR, &party).await?;
        party_ids.extend(party.iter().map(|p| p.code.clone()).zip(ids));
        tx.commit().await?;
    } else {
        for (_, c) in &frame.compounds {
            if let Some(found) = db.compound_by_code(&c.code).await? {
                compound_ids.insert(c.code.clone(), found.id);
            }
        }
        for o in &frame.organizations {
            org_ids.push(
                db.member_organization_by_credit_code(o.credit_code.as_str())
                    .await?
                    .unwrap_or(0),
            );
        }
    }
    while let Some(batch) = registry.next_grid() {
        if db.building_by_code(&format!("{}-B01", batch.grid)).await?.is_some() || batch.buildings.is_empty() {
            continue;
        }
        let mut tx = db.begin().await?;
        let community = &batch.grid_worker.community_code;
        let compounds = registry.compounds.get(community).cloned().unwrap_or_default();
        let buildings: Vec<NewBuilding> = batch
            .buildings
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let mut b = b.clone();
                b.compound_id = compounds
                    .get((i + 1) % compounds.len().max(1))
                    .and_then(|(code, _)| compound_ids.get(code).copied());
                b
            })
            .collect();
        let building_ids = t::insert_buildings_tx(&mut tx, key, SYSTEM_ACTOR, &buildings).await?;
        let households: Vec<NewHousehold> = batch
            .households
            .iter()
            .map(|(bi, h)| NewHousehold {
                building_id: building_ids[*bi],
                ..h.clone()
            })
            .collect();
        let household_ids = t::insert_households_tx(&mut tx, cipher, key, SYSTEM_ACTOR, &households).await?;
        let residents: Vec<NewResidentRecord> = batch
            .residents
            .iter()
            .map(|(hi, r)| NewResidentRecord {
                household_id: household_ids[*hi],
                ..r.clone()
            })
            .collect();
        p::insert_resident_records_tx(&mut tx, cipher, key, SYSTEM_ACTOR, "demo", &residents).await?;
        let mut assignments = vec![batch.grid_worker.clone()];
        let mut entrance_ids: HashMap<(i64, i64), i64> = HashMap::new();
        for id in &building_ids {
            let rows: Vec<(i64, i64)> = db_entrances(&mut tx, *id).await?;
            entrance_ids.extend(rows.into_iter().map(|(n, eid)| ((*id, n), eid)));
        }
        for (bi, e, chief) in &batch.chiefs {
            let mut a = chief.clone();
            a.building_id = Some(building_ids[*bi]);
            if *e > 0 {
                a.entrance_id = entrance_ids.get(&(building_ids[*bi], i64::from(*e))).copied();
            }
            assignments.push(a);
        }
        p::insert_assignments_tx(&mut tx, cipher, key, SYSTEM_ACTOR, &assignments).await?;
        tx.commit().await?;
        loaded.grids += 1;
        loaded.buildings += building_ids.len();
        loaded.households += household_ids.len();
        loaded.residents += residents.len();
        if loaded.grids % 50 == 0 {
            tracing::info!(
                grids = loaded.grids,
                residents = loaded.residents,
                "demo registry loading"
            );
        }
        tokio::time::sleep(pause).await;
    }

    let members = registry.party_members(org_ids.len());
    if fresh && !members.is_empty() {
        let orgs = &frame.organizations;
        let members: Vec<NewPartyMember> = members
            .into_iter()
            .map(|(employer, community, mut m)| {
                let branch = orgs
                    .get(employer)
                    .filter(|o| o.kind == OrgKind::Enterprise)
                    .and_then(|o| party_ids.get(&format!("P-ORG-{}", o.credit_code.as_str())));
                m.party_organization_id = branch
                    .or_else(|| party_ids.get(&format!("P-{community}")))
                    .copied()
                    .unwrap_or(0);
                m.employer_id = org_ids.get(employer).copied();
                m
            })
            .filter(|m| m.party_organization_id > 0)
            .collect();
        for chunk in members.chunks(1_000) {
            db.insert_party_members(cipher, key, SYSTEM_ACTOR, chunk).await?;
            loaded.party_members += chunk.len();
            tokio::time::sleep(pause).await;
        }
    }
    Ok(loaded)
}

async fn db_entrances(
    tx: &mut gongzhi_store::Tx,
    building_id: i64,
) -> Result<Vec<(i64, i64)>, gongzhi_store::StoreError> {
    gongzhi_store::territory::places::entrance_numbers_tx(tx, building_id).await
}
