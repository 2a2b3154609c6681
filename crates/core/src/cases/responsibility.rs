//! The responsibility list (职责清单): which unit handles which matter where, within which limits, on
//! which criteria and legal basis. It is data (`data/<city>/responsibility-list.csv`, or a spreadsheet
//! read by `gongzhi-office`), validated whole, versioned, and routed against at intake.
//!
//! # The table
//! One rule per row; the header names the columns (order free, unknown columns ignored):
//!
//! | column | meaning | values |
//! |---|---|---|
//! | `version`, `valid_from` | the list's version label and first day in force, equal on every row | text, `YYYY-MM-DD` |
//! | `item` | the item number (序号), unique | 1, 2, … |
//! | `matter` | what the rule is for | a major class `06`, a type code `06010`, or an 11-digit matter code `23090306010` (that district only) |
//! | `scope` | where it applies: that node's subtree | a territory code, e.g. the city `230900000000` |
//! | `region_class` | 区域类别 | `一类`, `二类`, `三类` or `*` (any) |
//! | `level` | case level | `A`, `B`, `C` or `*` (any) |
//! | `handler` | who handles | `department`, `street` (the case's own street), `community` (the case's own community), `grid_worker` (the case's grid) |
//! | `department` | the department, when `handler` is `department` | a code from the departments file |
//! | `response_limit`, `handling_limit`, `verification_limit` | limits | `30工作分钟`, `4工作时`, `15工作日`, `3自然日` (or `4 work_hours` …) |
//! | `delegated` | a matter handed down to streets (下沉事项) | `是` / `否` |
//! | `filing_criteria`, `closing_criteria`, `legal_basis` | 立案标准, 结案标准, 法律依据 | text |
//!
//! # Routing precedence
//! [`ResponsibilityList::route`] picks, among the rules that match, the most specific, comparing in
//! this order: the matter (matter code > type code > major class), then the scope (the deeper node
//! wins), then the region class (named > any), then the level (named > any). Two rules with the same
//! matter, scope, region class and level are refused at load, so the winner is always unique.
//!
//! # Delegated matters
//! Delegation belongs to a matter, not to a place: rules naming the same `matter` must agree on
//! `delegated`. A matter of the taxonomy is delegated when its most specific naming (its matter or type
//! code if some rule names it, else its major class) is delegated; [`ResponsibilityList::delegated_matters`]
//! lists them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::taxonomy::{MajorCode, MatterCode, Taxonomy, TypeCode};
use super::{Limit, LimitUnit, UnitRef};
use crate::data::{DataError, Problem, RowError, Table, csv_rows, csv_text};
use crate::orgs::DepartmentCode;
use crate::territory::{DivisionCode, Level, TerritoryCode};

pub const DEPARTMENTS_FILE: &str = "departments.csv";
pub const LIST_FILE: &str = "responsibility-list.csv";

/// The columns of the table, in the order [`ResponsibilityList::to_rows`] writes them.
pub const COLUMNS: [&str; 16] = [
    "version",
    "valid_from",
    "item",
    "matter",
    "scope",
    "region_class",
    "level",
    "handler",
    "department",
    "response_limit",
    "handling_limit",
    "verification_limit",
    "delegated",
    "filing_criteria",
    "closing_criteria",
    "legal_basis",
];

// ---------------------------------------------------------------------------------------------
// Departments

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Department {
    pub code: DepartmentCode,
    pub name: String,
}

/// The city's functional departments (and the companies that handle utilities), from
/// `data/<city>/departments.csv` with columns `code,name`.
#[derive(Debug, Clone, Default)]
pub struct Departments {
    list: Vec<Department>,
    index: HashMap<DepartmentCode, usize>,
    /// The file row of each department, for duplicate errors.
    rows_of: Vec<usize>,
}

impl Departments {
    pub fn load(csv: &str) -> Result<Departments, DataError> {
        let rows = csv_rows(DEPARTMENTS_FILE, csv)?;
        Departments::from_rows(&rows).map_err(|e| DataError::new(DEPARTMENTS_FILE, e))
    }

    pub fn from_rows(rows: &[Vec<String>]) -> Result<Departments, Vec<RowError>> {
        let table = Table::new(rows, &["code", "name"])?;
        let mut errors = Vec::new();
        let mut d = Departments::default();
        for (n, row) in table.rows() {
            let code = row
                .required("code", &mut errors)
                .and_then(|v| match DepartmentCode::parse(v) {
                    Ok(c) => Some(c),
                    Err(_) => {
                        errors.push(row.error(
                            "code",
                            Problem::invalid(
                                v,
                                "2–40位小写字母、数字或“-”，以字母开头",
                                "2–40 characters of a–z, 0–9 and '-', starting with a letter",
                            ),
                        ));
                        None
                    }
                });
            let name = row.required("name", &mut errors);
            let (Some(code), Some(name)) = (code, name) else {
                continue;
            };
            if let Some(&i) = d.index.get(&code) {
                errors.push(row.error(
                    "code",
                    Problem::Duplicate {
                        value: code.to_string(),
                        first_row: d.rows_of[i],
                    },
                ));
                continue;
            }
            d.index.insert(code.clone(), d.list.len());
            d.rows_of.push(n);
            d.list.push(Department {
                code,
                name: name.to_string(),
            });
        }
        if errors.is_empty() { Ok(d) } else { Err(errors) }
    }

    pub fn get(&self, code: &DepartmentCode) -> Option<&Department> {
        self.index.get(code).map(|&i| &self.list[i])
    }

    pub fn iter(&self) -> impl Iterator<Item = &Department> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// Rule values

/// A cell value that is not one of the allowed words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an allowed value: {0:?}")]
pub struct BadValue(pub String);

/// 区域类别: how demanding the standards are in an area (一类 city centre … 三类 outskirts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionClass {
    One,
    Two,
    Three,
}

impl RegionClass {
    pub fn label_zh(self) -> &'static str {
        match self {
            RegionClass::One => "一类",
            RegionClass::Two => "二类",
            RegionClass::Three => "三类",
        }
    }

    /// Reads `一类` / `1` / `one` …; `*`, `不限`, `any` or empty mean any class (`Ok(None)`).
    pub fn parse_optional(s: &str) -> Result<Option<RegionClass>, BadValue> {
        match s.trim().to_lowercase().as_str() {
            "" | "*" | "不限" | "any" => Ok(None),
            "一类" | "1" | "one" => Ok(Some(RegionClass::One)),
            "二类" | "2" | "two" => Ok(Some(RegionClass::Two)),
            "三类" | "3" | "three" => Ok(Some(RegionClass::Three)),
            _ => Err(BadValue(s.to_string())),
        }
    }
}

/// A case's level (A most urgent … C), as lists of limits by level use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CaseLevel {
    A,
    B,
    C,
}

impl CaseLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseLevel::A => "A",
            CaseLevel::B => "B",
            CaseLevel::C => "C",
        }
    }

    /// Reads `A`, `B`, `C`; `*`, `不限`, `any` or empty mean any level (`Ok(None)`).
    pub fn parse_optional(s: &str) -> Result<Option<CaseLevel>, BadValue> {
        match s.trim().to_lowercase().as_str() {
            "" | "*" | "不限" | "any" => Ok(None),
            "a" => Ok(Some(CaseLevel::A)),
            "b" => Ok(Some(CaseLevel::B)),
            "c" => Ok(Some(CaseLevel::C)),
            _ => Err(BadValue(s.to_string())),
        }
    }
}

/// What a rule is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum MatterSelector {
    /// Every matter of a major class.
    Major(MajorCode),
    /// One type of matter, anywhere.
    Type(TypeCode),
    /// One type of matter in one district (11-digit matter code).
    Matter(MatterCode),
}

impl MatterSelector {
    pub fn parse(s: &str) -> Option<MatterSelector> {
        let s = s.trim();
        match s.len() {
            2 => MajorCode::parse(s).ok().map(MatterSelector::Major),
            5 => TypeCode::parse(s).ok().map(MatterSelector::Type),
            11 => MatterCode::parse(s).ok().map(MatterSelector::Matter),
            _ => None,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            MatterSelector::Major(_) => 1,
            MatterSelector::Type(_) => 2,
            MatterSelector::Matter(_) => 3,
        }
    }

    /// Whether the rule covers this matter type (ignoring where, for district matter codes).
    pub fn covers_type(&self, t: &TypeCode) -> bool {
        match self {
            MatterSelector::Major(m) => t.major() == *m,
            MatterSelector::Type(x) => x == t,
            MatterSelector::Matter(mc) => mc.type_code() == *t,
        }
    }

    fn matches(&self, t: &TypeCode, node: &TerritoryCode) -> bool {
        match self {
            MatterSelector::Matter(mc) => mc.type_code() == *t && node.as_str().starts_with(mc.district()),
            other => other.covers_type(t),
        }
    }
}

impl fmt::Display for MatterSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatterSelector::Major(m) => write!(f, "{m}"),
            MatterSelector::Type(t) => write!(f, "{t}"),
            MatterSelector::Matter(m) => write!(f, "{m}"),
        }
    }
}

/// Who handles, as the list states it; territorial handlers are resolved from the case's place.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum Handler {
    Department(DepartmentCode),
    /// The street (街道/乡镇) where the case is.
    OwnStreet,
    /// The community (社区/村) where the case is.
    OwnCommunity,
    /// The worker of the case's grid.
    GridWorker,
}

impl Handler {
    fn kind_str(&self) -> &'static str {
        match self {
            Handler::Department(_) => "department",
            Handler::OwnStreet => "street",
            Handler::OwnCommunity => "community",
            Handler::GridWorker => "grid_worker",
        }
    }

    /// The unit for a case at `node` (normally its grid). `None` when the node is too coarse: a
    /// street handler needs a node at street level or below, a community handler a community or grid,
    /// a grid worker a grid.
    pub fn resolve(&self, node: &TerritoryCode) -> Option<UnitRef> {
        let level = node.level();
        let division = |prefix: &str| {
            DivisionCode::parse(&format!("{prefix:0<12}"))
                .ok()
                .map(|d| UnitRef::Territory(TerritoryCode::Division(d)))
        };
        match self {
            Handler::Department(d) => Some(UnitRef::Department(d.clone())),
            Handler::OwnStreet if level >= Level::Street => division(&node.as_str()[..9]),
            Handler::OwnCommunity if level >= Level::Community => division(&node.as_str()[..12]),
            Handler::GridWorker => match node {
                TerritoryCode::Grid(g) => Some(UnitRef::GridWorker(g.clone())),
                TerritoryCode::Division(_) => None,
            },
            _ => None,
        }
    }
}

/// Reads a limit as the list writes it: `30工作分钟`, `4工作时`, `15工作日`, `3自然日`, or in English
/// `30 work_minutes`, `4 work_hours`, `15 work_days`, `3 natural_days`. The amount is at least 1.
pub fn parse_limit(s: &str) -> Option<Limit> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let amount: u32 = s[..split].parse().ok()?;
    let unit = match s[split..].trim() {
        "工作分钟" | "work_minutes" => LimitUnit::WorkMinutes,
        "工作时" | "工作小时" | "work_hours" => LimitUnit::WorkHours,
        "工作日" | "work_days" => LimitUnit::WorkDays,
        "自然日" | "天" | "natural_days" => LimitUnit::NaturalDays,
        _ => return None,
    };
    (amount >= 1).then_some(Limit { amount, unit })
}

/// Writes a limit in the list's Chinese form, e.g. `15工作日`.
pub fn limit_text(l: Limit) -> String {
    let unit = match l.unit {
        LimitUnit::WorkMinutes => "工作分钟",
        LimitUnit::WorkHours => "工作时",
        LimitUnit::WorkDays => "工作日",
        LimitUnit::NaturalDays => "自然日",
    };
    format!("{}{unit}", l.amount)
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "是" | "yes" | "y" | "true" | "1" => Some(true),
        "否" | "no" | "n" | "false" | "0" => Some(false),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Rules and lists

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub item: u32,
    pub matter: MatterSelector,
    pub scope: TerritoryCode,
    pub region_class: Option<RegionClass>,
    pub level: Option<CaseLevel>,
    pub handler: Handler,
    pub response_limit: Limit,
    pub handling_limit: Limit,
    pub verification_limit: Limit,
    pub delegated: bool,
    pub filing_criteria: String,
    pub closing_criteria: String,
    pub legal_basis: String,
}

impl Rule {
    /// The precedence key: larger is more specific (see the module docs).
    fn specificity(&self) -> (u8, usize, bool, bool) {
        (
            self.matter.rank(),
            self.scope.subtree_prefix().len(),
            self.region_class.is_some(),
            self.level.is_some(),
        )
    }

    fn key(&self) -> (MatterSelector, String, Option<RegionClass>, Option<CaseLevel>) {
        (
            self.matter.clone(),
            self.scope.as_str().to_string(),
            self.region_class,
            self.level,
        )
    }

    fn matches(
        &self,
        matter: &TypeCode,
        node: &TerritoryCode,
        region_class: Option<RegionClass>,
        level: Option<CaseLevel>,
    ) -> bool {
        self.matter.matches(matter, node)
            && node.as_str().starts_with(self.scope.subtree_prefix())
            && self.region_class.is_none_or(|r| region_class == Some(r))
            && self.level.is_none_or(|l| level == Some(l))
    }

    /// The unit that handles a case of this rule at `node` (see [`Handler::resolve`]).
    pub fn unit_for(&self, node: &TerritoryCode) -> Option<UnitRef> {
        self.handler.resolve(node)
    }
}

/// One version of a city's responsibility list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponsibilityList {
    pub version: String,
    pub valid_from: NaiveDate,
    rules: Vec<Rule>,
}

impl ResponsibilityList {
    /// Reads a list from CSV text; errors name `file`.
    pub fn from_csv(
        file: &str,
        csv: &str,
        taxonomy: &Taxonomy,
        departments: &Departments,
    ) -> Result<ResponsibilityList, DataError> {
        let rows = csv_rows(file, csv)?;
        ResponsibilityList::from_rows(&rows, taxonomy, departments).map_err(|e| DataError::new(file, e))
    }

    /// Reads a list from rows of strings, the header first (as CSV or a spreadsheet gives them). Every
    /// bad cell and row is reported; nothing is returned unless the whole table is good.
    pub fn from_rows(
        rows: &[Vec<String>],
        taxonomy: &Taxonomy,
        departments: &Departments,
    ) -> Result<ResponsibilityList, Vec<RowError>> {
        let table = Table::new(rows, &COLUMNS)?;
        let mut errors = Vec::new();
        let mut rules: Vec<(usize, Rule)> = Vec::new();
        let mut version: Option<(String, NaiveDate, usize)> = None;
        let mut items: HashMap<u32, usize> = HashMap::new();
        let mut keys: HashMap<(MatterSelector, String, Option<RegionClass>, Option<CaseLevel>), usize> = HashMap::new();
        let mut delegation: HashMap<MatterSelector, (bool, usize)> = HashMap::new();

        for (n, row) in table.rows() {
            let before = errors.len();
            let v = row.required("version", &mut errors).map(str::to_string);
            let from = row.required("valid_from", &mut errors).and_then(|s| {
                let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
                if d.is_none() {
                    errors.push(row.error(
                        "valid_from",
                        Problem::invalid(s, "YYYY-MM-DD 格式的日期", "a date as YYYY-MM-DD"),
                    ));
                }
                d
            });
            if let (Some(v), Some(from)) = (&v, from) {
                match &version {
                    None => version = Some((v.clone(), from, n)),
                    Some((v0, f0, r0)) => {
                        if v0 != v {
                            errors.push(row.error(
                                "version",
                                Problem::other(
                                    format!("一张清单只能有一个版本：第{r0}行为“{v0}”"),
                                    format!("one list has one version: row {r0} says {v0:?}"),
                                ),
                            ));
                        }
                        if *f0 != from {
                            errors.push(row.error(
                                "valid_from",
                                Problem::other(
                                    format!("一张清单只能有一个生效日期：第{r0}行为{f0}"),
                                    format!("one list has one start date: row {r0} says {f0}"),
                                ),
                            ));
                        }
                    }
                }
            }
            let item = row.required("item", &mut errors).and_then(|s| match s.parse::<u32>() {
                Ok(i) if i >= 1 => Some(i),
                _ => {
                    errors.push(row.error("item", Problem::invalid(s, "正整数序号", "a positive item number")));
                    None
                }
            });
            let matter = row.required("matter", &mut errors).and_then(|s| {
                let Some(sel) = MatterSelector::parse(s) else {
                    errors.push(row.error(
                        "matter",
                        Problem::invalid(
                            s,
                            "2位大类、5位类型代码或11位事项代码",
                            "a 2-digit major class, a 5-digit type code or an 11-digit matter code",
                        ),
                    ));
                    return None;
                };
                let known = match &sel {
                    MatterSelector::Major(m) => taxonomy.major_name(*m).is_some(),
                    MatterSelector::Type(t) => taxonomy.matter(t).is_some(),
                    MatterSelector::Matter(mc) => taxonomy.matter(&mc.type_code()).is_some(),
                };
                if !known {
                    errors.push(row.error("matter", Problem::unknown(s, "事项分类", "matter in the taxonomy")));
                    return None;
                }
                Some(sel)
            });
            let scope = row
                .required("scope", &mut errors)
                .and_then(|s| match TerritoryCode::parse(s) {
                    Ok(t) => Some(t),
                    Err(_) => {
                        errors.push(row.error(
                            "scope",
                            Problem::invalid(
                                s,
                                "12位区划代码或15位网格代码",
                                "a 12-digit division or 15-digit grid code",
                            ),
                        ));
                        None
                    }
                });
            if let (Some(MatterSelector::Matter(mc)), Some(scope)) = (&matter, &scope) {
                // A district's matter code outside that district could never match.
                let (a, b) = (scope.subtree_prefix(), mc.district());
                if !(a.starts_with(b) || b.starts_with(a)) {
                    errors.push(row.error(
                        "scope",
                        Problem::other(
                            format!("范围{scope}不在事项代码{mc}所属的区县{b}内"),
                            format!("scope {scope} lies outside district {b} of matter code {mc}"),
                        ),
                    ));
                }
            }
            let region_class = RegionClass::parse_optional(row.get("region_class")).map_err(|_| {
                errors.push(row.error(
                    "region_class",
                    Problem::invalid(row.get("region_class"), "一类、二类、三类或 *", "一类, 二类, 三类 or *"),
                ))
            });
            let level = CaseLevel::parse_optional(row.get("level")).map_err(|_| {
                errors.push(row.error(
                    "level",
                    Problem::invalid(row.get("level"), "A、B、C 或 *", "A, B, C or *"),
                ))
            });
            let department = row.get("department");
            let handler = row.required("handler", &mut errors).and_then(|s| {
                let h = match s {
                    "department" => {
                        if department.is_empty() {
                            errors.push(row.error("department", Problem::Empty));
                            return None;
                        }
                        let Ok(code) = DepartmentCode::parse(department) else {
                            errors.push(row.error("department", Problem::unknown(department, "部门", "department")));
                            return None;
                        };
                        if departments.get(&code).is_none() {
                            errors.push(row.error("department", Problem::unknown(department, "部门", "department")));
                            return None;
                        }
                        Handler::Department(code)
                    }
                    "street" => Handler::OwnStreet,
                    "community" => Handler::OwnCommunity,
                    "grid_worker" => Handler::GridWorker,
                    _ => {
                        errors.push(row.error(
                            "handler",
                            Problem::invalid(
                                s,
                                "department、street、community 或 grid_worker",
                                "department, street, community or grid_worker",
                            ),
                        ));
                        return None;
                    }
                };
                if !matches!(h, Handler::Department(_)) && !department.is_empty() {
                    errors.push(row.error(
                        "department",
                        Problem::other(
                            "承办主体不是部门时，部门一栏应为空",
                            "must be empty unless the handler is a department",
                        ),
                    ));
                    return None;
                }
                Some(h)
            });
            let mut limit = |col: &str| {
                row.required(col, &mut errors).and_then(|s| {
                    let l = parse_limit(s);
                    if l.is_none() {
                        errors.push(row.error(
                            col,
                            Problem::invalid(
                                s,
                                "数量加单位，如 30工作分钟、4工作时、15工作日、3自然日",
                                "an amount and a unit, e.g. 30工作分钟, 4工作时, 15工作日, 3自然日",
                            ),
                        ));
                    }
                    l
                })
            };
            let response_limit = limit("response_limit");
            let handling_limit = limit("handling_limit");
            let verification_limit = limit("verification_limit");
            let delegated = row.required("delegated", &mut errors).and_then(|s| {
                let b = parse_bool(s);
                if b.is_none() {
                    errors.push(row.error("delegated", Problem::invalid(s, "是 或 否", "是 (yes) or 否 (no)")));
                }
                b
            });
            let filing_criteria = row.required("filing_criteria", &mut errors).map(str::to_string);
            let closing_criteria = row.required("closing_criteria", &mut errors).map(str::to_string);
            let legal_basis = row.required("legal_basis", &mut errors).map(str::to_string);
            if errors.len() > before {
                continue;
            }
            let (Ok(region_class), Ok(level)) = (region_class, level) else {
                continue;
            };
            let rule = Rule {
                item: item.expect("checked"),
                matter: matter.expect("checked"),
                scope: scope.expect("checked"),
                region_class,
                level,
                handler: handler.expect("checked"),
                response_limit: response_limit.expect("checked"),
                handling_limit: handling_limit.expect("checked"),
                verification_limit: verification_limit.expect("checked"),
                delegated: delegated.expect("checked"),
                filing_criteria: filing_criteria.expect("checked"),
                closing_criteria: closing_criteria.expect("checked"),
                legal_basis: legal_basis.expect("checked"),
            };
            // Checks across rows.
            if let Some(&first) = items.get(&rule.item) {
                errors.push(row.error(
                    "item",
                    Problem::Duplicate {
                        value: rule.item.to_string(),
                        first_row: first,
                    },
                ));
                continue;
            }
            if let Some(&first) = keys.get(&rule.key()) {
                errors.push(RowError::row(
                    n,
                    Problem::other(
                        format!("与第{first}行的事项、范围、区域类别和等级完全相同，无法确定由哪条规则派遣"),
                        format!(
                            "same matter, scope, region class and level as row {first}: routing would be ambiguous"
                        ),
                    ),
                ));
                continue;
            }
            match delegation.get(&rule.matter) {
                Some(&(d, first)) if d != rule.delegated => {
                    errors.push(row.error(
                        "delegated",
                        Problem::other(
                            format!("同一事项“{}”在第{first}行的下沉标记不同", rule.matter),
                            format!("matter {} is marked differently in row {first}", rule.matter),
                        ),
                    ));
                    continue;
                }
                Some(_) => {}
                None => {
                    delegation.insert(rule.matter.clone(), (rule.delegated, n));
                }
            }
            items.insert(rule.item, n);
            keys.insert(rule.key(), n);
            rules.push((n, rule));
        }
        if rules.is_empty() && errors.is_empty() {
            errors.push(RowError::file(Problem::other(
                "清单没有任何规则",
                "the list has no rules",
            )));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let (version, valid_from, _) = version.expect("a rule was read");
        let mut rules: Vec<Rule> = rules.into_iter().map(|(_, r)| r).collect();
        rules.sort_by_key(|r| r.item);
        Ok(ResponsibilityList {
            version,
            valid_from,
            rules,
        })
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule for a case of matter type `matter` at `node` (normally its grid), in an area of
    /// `region_class`, at `level`; the most specific match (see the module docs). A rule that names a
    /// region class or level matches only cases that have that one.
    pub fn route(
        &self,
        matter: &TypeCode,
        node: &TerritoryCode,
        region_class: Option<RegionClass>,
        level: Option<CaseLevel>,
    ) -> Option<&Rule> {
        self.rules
            .iter()
            .filter(|r| r.matches(matter, node, region_class, level))
            .max_by_key(|r| r.specificity())
    }

    /// The matters of the taxonomy that this list delegates to streets (see the module docs).
    pub fn delegated_matters(&self, taxonomy: &Taxonomy) -> BTreeSet<TypeCode> {
        let mut out = BTreeSet::new();
        for m in taxonomy.matters() {
            let best = self
                .rules
                .iter()
                .filter(|r| r.matter.covers_type(&m.code))
                .map(|r| r.matter.rank().min(2))
                .max();
            let Some(best) = best else { continue };
            let delegated = self
                .rules
                .iter()
                .filter(|r| r.matter.covers_type(&m.code) && r.matter.rank().min(2) == best)
                .any(|r| r.delegated);
            if delegated {
                out.insert(m.code.clone());
            }
        }
        out
    }

    /// Matters of the taxonomy that no rule covers anywhere: intake can take them, but routing will
    /// propose no handler, so administrators should see this list.
    pub fn uncovered_matters<'t>(&self, taxonomy: &'t Taxonomy) -> Vec<&'t TypeCode> {
        taxonomy
            .matters()
            .filter(|m| !self.rules.iter().any(|r| r.matter.covers_type(&m.code)))
            .map(|m| &m.code)
            .collect()
    }

    /// The list as rows of strings, header first, in item order: what [`from_rows`](Self::from_rows)
    /// reads back.
    pub fn to_rows(&self) -> Vec<Vec<String>> {
        let mut rows = vec![COLUMNS.iter().map(|c| c.to_string()).collect::<Vec<_>>()];
        for r in &self.rules {
            let department = match &r.handler {
                Handler::Department(d) => d.to_string(),
                _ => String::new(),
            };
            rows.push(vec![
                self.version.clone(),
                self.valid_from.to_string(),
                r.item.to_string(),
                r.matter.to_string(),
                r.scope.to_string(),
                r.region_class.map_or("*", RegionClass::label_zh).to_string(),
                r.level.map_or("*", CaseLevel::as_str).to_string(),
                r.handler.kind_str().to_string(),
                department,
                limit_text(r.response_limit),
                limit_text(r.handling_limit),
                limit_text(r.verification_limit),
                if r.delegated { "是" } else { "否" }.to_string(),
                r.filing_criteria.clone(),
                r.closing_criteria.clone(),
                r.legal_basis.clone(),
            ]);
        }
        rows
    }

    pub fn to_csv(&self) -> String {
        csv_text(&self.to_rows())
    }
}

/// The versions of a city's list; the one in force on a day is the latest that started by then.
#[derive(Debug, Clone, Default)]
pub struct ListHistory {
    lists: BTreeMap<NaiveDate, ResponsibilityList>,
}

impl ListHistory {
    /// Adds a version. Refused (and returned) if a version with the same label or start date exists:
    /// a published list is never silently replaced.
    pub fn add(&mut self, list: ResponsibilityList) -> Result<(), Box<ResponsibilityList>> {
        if self.lists.contains_key(&list.valid_from) || self.lists.values().any(|l| l.version == list.version) {
            return Err(Box::new(list));
        }
        self.lists.insert(list.valid_from, list);
        Ok(())
    }

    pub fn in_force(&self, day: NaiveDate) -> Option<&ResponsibilityList> {
        self.lists.range(..=day).next_back().map(|(_, l)| l)
    }

    pub fn versions(&self) -> impl Iterator<Item = &ResponsibilityList> {
        self.lists.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::territory::GridCode;

    const NATIONAL: &str = "code,kind,major,major_name,name
06010,matter,06,市容环境类,暴露垃圾
06012,matter,06,市容环境类,道路不洁
06036,matter,06,市容环境类,乱堆杂物
10001,matter,10,其他事项类,道路积雪、结冰
";
    const LOCAL: &str = "code,kind,major,major_name,name
21001,matter,21,矛盾纠纷类,邻里纠纷
21009,matter,21,矛盾纠纷类,医疗纠纷
";
    const DEPTS: &str = "code,name\nurban-management,城市管理综合执法局\nhealth,卫生健康委员会\n";
    const HEAD: &str = "version,valid_from,item,matter,scope,region_class,level,handler,department,response_limit,handling_limit,verification_limit,delegated,filing_criteria,closing_criteria,legal_basis\n";
    const CITY: &str = "230900000000";
    const STREET: &str = "230903011000";

    fn list(body: &str) -> Result<ResponsibilityList, DataError> {
        let t = Taxonomy::load(NATIONAL, LOCAL).unwrap();
        let d = Departments::load(DEPTS).unwrap();
        ResponsibilityList::from_csv("list.csv", &format!("{HEAD}{body}"), &t, &d)
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        item: u32,
        matter: &str,
        scope: &str,
        region: &str,
        level: &str,
        handler: &str,
        dept: &str,
        limit: &str,
        delegated: &str,
    ) -> String {
        format!(
            "v1,2026-01-01,{item},{matter},{scope},{region},{level},{handler},{dept},1工作时,{limit},2工作时,{delegated},立案,结案,依据\n"
        )
    }

    fn sample() -> ResponsibilityList {
        let body = [
            row(
                1,
                "06",
                CITY,
                "*",
                "*",
                "department",
                "urban-management",
                "5工作日",
                "是",
            ),
            row(
                2,
                "06010",
                CITY,
                "一类",
                "*",
                "department",
                "urban-management",
                "1工作日",
                "是",
            ),
            row(
                3,
                "06010",
                CITY,
                "二类",
                "*",
                "department",
                "urban-management",
                "2工作日",
                "是",
            ),
            row(4, "06010", STREET, "*", "*", "street", "", "3工作日", "是"),
            row(
                5,
                "10001",
                CITY,
                "*",
                "A",
                "department",
                "urban-management",
                "4工作时",
                "否",
            ),
            row(6, "10001", CITY, "*", "*", "street", "", "1工作日", "否"),
            row(7, "21", CITY, "*", "*", "community", "", "3工作日", "是"),
            row(8, "21009", CITY, "*", "*", "department", "health", "15工作日", "否"),
            row(9, "23090321001", CITY, "*", "*", "grid_worker", "", "1工作日", "是"),
        ]
        .concat();
        list(&body).unwrap()
    }

    fn tc(s: &str) -> TypeCode {
        TypeCode::parse(s).unwrap()
    }

    fn node(s: &str) -> TerritoryCode {
        TerritoryCode::parse(s).unwrap()
    }

    #[test]
    fn routing_picks_the_most_specific_rule() {
        let l = sample();
        let grid = node("230903011001007");
        let other_grid = node("230902031001002");
        let item = |m: &str, n: &TerritoryCode, r, lv| l.route(&tc(m), n, r, lv).map(|r| r.item);
        // A type code beats its major class, even where the major rule's scope is the same.
        assert_eq!(item("06012", &other_grid, None, None), Some(1));
        assert_eq!(item("06010", &other_grid, Some(RegionClass::One), None), Some(2));
        assert_eq!(item("06010", &other_grid, Some(RegionClass::Two), None), Some(3));
        // No class-three rule: the type rule for any class is the street's, only inside its street.
        assert_eq!(item("06010", &other_grid, Some(RegionClass::Three), None), Some(1));
        // Same matter: the deeper scope wins over a named region class.
        assert_eq!(item("06010", &grid, Some(RegionClass::One), None), Some(4));
        // A named level beats any level.
        assert_eq!(item("10001", &grid, None, Some(CaseLevel::A)), Some(5));
        assert_eq!(item("10001", &grid, None, Some(CaseLevel::B)), Some(6));
        // A district's matter code applies in that district only.
        assert_eq!(item("21001", &grid, None, None), Some(9));
        assert_eq!(item("21001", &other_grid, None, None), Some(7));
        assert_eq!(item("21009", &grid, None, None), Some(8));
        // Outside the city nothing matches.
        assert_eq!(item("06010", &node("230100000000"), None, None), None);
    }

    #[test]
    fn territorial_handlers_resolve_from_the_cases_grid() {
        let l = sample();
        let grid = node("230903011001007");
        let unit = |m: &str| l.route(&tc(m), &grid, None, None).unwrap().unit_for(&grid).unwrap();
        assert_eq!(unit("06010"), UnitRef::Territory(node("230903011000")));
        assert_eq!(
            unit("21009"),
            UnitRef::Department(DepartmentCode::parse("health").unwrap())
        );
        assert_eq!(
            unit("21001"),
            UnitRef::GridWorker(GridCode::parse("230903011001007").unwrap())
        );
        // The major rule covers every matter of its class; the caller checks the code exists.
        assert_eq!(l.route(&tc("21002"), &grid, None, None).map(|r| r.item), Some(7));
        let street_case = node("230903011000");
        let r7 = l.route(&tc("21001"), &node("230902031001002"), None, None).unwrap();
        assert_eq!(
            r7.unit_for(&node("230902031001")),
            Some(UnitRef::Territory(node("230902031001")))
        );
        assert_eq!(r7.unit_for(&street_case), None, "a community handler needs a community");
    }

    #[test]
    fn delegated_matters_count_the_most_specific_naming() {
        let t = Taxonomy::load(NATIONAL, LOCAL).unwrap();
        let l = sample();
        let got: Vec<String> = l.delegated_matters(&t).iter().map(|c| c.to_string()).collect();
        // 06 (three matters) and 21001 are delegated; 21009 is named non-delegated; 10001 is not.
        assert_eq!(got, ["06010", "06012", "06036", "21001"]);
        assert!(l.uncovered_matters(&t).is_empty());
    }

    #[test]
    fn a_list_round_trips_through_rows_and_csv() {
        let t = Taxonomy::load(NATIONAL, LOCAL).unwrap();
        let d = Departments::load(DEPTS).unwrap();
        let l = sample();
        assert_eq!(ResponsibilityList::from_rows(&l.to_rows(), &t, &d).unwrap(), l);
        assert_eq!(ResponsibilityList::from_csv("x.csv", &l.to_csv(), &t, &d).unwrap(), l);
        assert_eq!(l.to_rows()[2][5], "一类");
        assert_eq!(l.to_rows()[2][10], "1工作日");
    }

    #[test]
    fn every_bad_row_is_reported_with_row_column_and_reason() {
        let body = [
            row(
                1,
                "06",
                CITY,
                "*",
                "*",
                "department",
                "urban-management",
                "5工作日",
                "是",
            ),
            row(
                2,
                "0601",
                CITY,
                "*",
                "*",
                "department",
                "urban-management",
                "5工作日",
                "是",
            ),
            row(
                3,
                "06099",
                CITY,
                "*",
                "*",
                "department",
                "urban-management",
                "5工作日",
                "是",
            ),
            row(
                4,
                "06010",
                CITY,
                "四类",
                "*",
                "department",
                "urban-management",
                "5工作日",
                "是",
            ),
            row(
                5,
                "06010",
                CITY,
                "*",
                "D",
                "department",
                "urban-management",
                "5工作日",
                "是",
            ),
            row(6, "06010", CITY, "*", "*", "department", "police", "5工作日", "是"),
            row(
                7,
                "06010",
                CITY,
                "*",
                "*",
                "department",
                "urban-management",
                "5周",
                "是",
            ),
            row(
                8,
                "06010",
                CITY,
                "*",
                "*",
                "street",
                "urban-management",
                "5工作日",
                "是",
            ),
            row(1, "06012", CITY, "*", "*", "street", "", "5工作日", "是"),
            row(10, "06", CITY, "*", "*", "street", "", "5工作日", "是"),
            row(11, "06", STREET, "*", "*", "street", "", "5工作日", "否"),
            row(12, "23090206010", STREET, "*", "*", "street", "", "5工作日", "是"),
            "v2,2026-01-01,13,06036,230900000000,*,*,street,,1工作时,1工作日,1工作时,可能,立案,结案,\n".to_string(),
        ]
        .concat();
        let e = list(&body).unwrap_err();
        assert_eq!(e.file, "list.csv");
        let at: Vec<(usize, Option<&str>)> = e.errors.iter().map(|e| (e.row.unwrap(), e.column.as_deref())).collect();
        assert_eq!(
            at,
            [
                (3, Some("matter")),
                (4, Some("matter")),
                (5, Some("region_class")),
                (6, Some("level")),
                (7, Some("department")),
                (8, Some("handling_limit")),
                (9, Some("department")),
                (10, Some("item")),
                (11, None),
                (12, Some("delegated")),
                (13, Some("scope")),
                (14, Some("version")),
                (14, Some("delegated")),
                (14, Some("legal_basis")),
            ]
        );
        use crate::i18n::Lang;
        assert_eq!(
            e.errors[5].message(Lang::Zh),
            "第8行“handling_limit”列：“5周”无效，应为数量加单位，如 30工作分钟、4工作时、15工作日、3自然日"
        );
        assert_eq!(
            e.errors[2].message(Lang::En),
            "row 5, column region_class: \"四类\" is not valid: expected 一类, 二类, 三类 or *"
        );
    }

    #[test]
    fn the_version_in_force_is_the_latest_started() {
        let a = sample();
        let mut b = sample();
        b.version = "v2".into();
        b.valid_from = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let mut h = ListHistory::default();
        h.add(a).unwrap();
        h.add(b.clone()).unwrap();
        assert!(h.add(b).is_err());
        let on = |y, m, d| {
            h.in_force(NaiveDate::from_ymd_opt(y, m, d).unwrap())
                .map(|l| l.version.as_str())
        };
        assert_eq!(on(2025, 12, 31), None);
        assert_eq!(on(2026, 6, 30), Some("v1"));
        assert_eq!(on(2026, 7, 1), Some("v2"));
    }

    #[test]
    fn limits_read_in_chinese_or_english() {
        assert_eq!(
            parse_limit("15工作日"),
            Some(Limit {
                amount: 15,
                unit: LimitUnit::WorkDays
            })
        );
        assert_eq!(
            parse_limit("4 work_hours"),
            Some(Limit {
                amount: 4,
                unit: LimitUnit::WorkHours
            })
        );
        assert_eq!(parse_limit("0工作日"), None);
        assert_eq!(parse_limit("工作日"), None);
        assert_eq!(
            limit_text(Limit {
                amount: 30,
                unit: LimitUnit::WorkMinutes
            }),
            "30工作分钟"
        );
    }

    #[test]
    fn departments_are_validated() {
        let e =
            Departments::load("code,name\nhousing,住房和城乡建设局\nHousing,大写\nhousing,重复\nwater,\n").unwrap_err();
        assert_eq!(e.file, DEPARTMENTS_FILE);
        let at: Vec<_> = e.errors.iter().map(|e| (e.row, e.column.clone())).collect();
        assert_eq!(
            at,
            [
                (Some(3), Some("code".into())),
                (Some(4), Some("code".into())),
                (Some(5), Some("name".into()))
            ]
        );
    }
}
