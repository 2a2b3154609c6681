//! The taxonomy of what a case is about: management components (管理部件) and matters (管理事项).
//!
//! Two data files make it: the national directory of GB/T 47678.5-2026
//! (`data/taxonomy/gbt-47678.5-2026.csv`, majors 01–10) and the city's local extensions
//! (`data/taxonomy/local-extensions.csv`). The two never share a code: national majors are
//! [`NATIONAL_MAJORS`] (01–20, leaving room for the standard to grow) and local ones are
//! [`LOCAL_MAJORS`] (21–29, the range legacy systems already used for extensions). A local file with a
//! national code, or a national file with a local one, is refused.
//!
//! ```
//! # use gongzhi_core::cases::taxonomy::{Taxonomy, TypeCode};
//! let national = "code,kind,major,major_name,name\n06010,matter,06,市容环境类,暴露垃圾\n";
//! let local = "code,kind,major,major_name,name\n21001,matter,21,矛盾纠纷类,邻里纠纷\n";
//! let t = Taxonomy::load(national, local).unwrap();
//! assert_eq!(t.matter(&TypeCode::parse("21001").unwrap()).unwrap().name, "邻里纠纷");
//! assert_eq!(t.search("bl", 10)[0].name, "暴露垃圾"); // pinyin initials
//! ```

use crate::ErrorCode;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use pinyin::ToPinyin;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::data::{DataError, Problem, Table, csv_rows};
use crate::i18n::{Lang, Localized};

/// Majors the national standard owns.
pub const NATIONAL_MAJORS: RangeInclusive<u8> = 1..=20;
/// Majors a city may use for its own extensions.
pub const LOCAL_MAJORS: RangeInclusive<u8> = 21..=29;

/// The file names used in errors; callers read the files, the core only names them.
pub const NATIONAL_FILE: &str = "data/taxonomy/gbt-47678.5-2026.csv";
pub const LOCAL_FILE: &str = "data/taxonomy/local-extensions.csv";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TaxonomyCodeError {
    #[error("a type code has 5 digits (2-digit major class + 3-digit serial 001–999); got {0:?}")]
    BadTypeCode(String),
    #[error("a major class code has 2 digits, 01–99; got {0:?}")]
    BadMajor(String),
    #[error("a matter code has 11 digits (6-digit district code + 5-digit type code); got {0:?}")]
    BadMatterCode(String),
}

impl Localized for TaxonomyCodeError {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidCode
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (TaxonomyCodeError::BadTypeCode(s), Lang::Zh) => {
                format!("类型代码应为5位数字（2位大类+3位小类，小类001–999），实际为“{s}”")
            }
            (TaxonomyCodeError::BadMajor(s), Lang::Zh) => format!("大类代码应为2位数字（01–99），实际为“{s}”"),
            (TaxonomyCodeError::BadMatterCode(s), Lang::Zh) => {
                format!("事项代码应为11位数字（6位行政区划代码+5位类型代码），实际为“{s}”")
            }
            (e, Lang::En) => e.to_string(),
        }
    }
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// A major class (大类): 2 digits, 01–99.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MajorCode(u8);

impl MajorCode {
    pub fn parse(s: &str) -> Result<Self, TaxonomyCodeError> {
        let s = s.trim();
        match s.parse::<u8>() {
            Ok(n) if digits(s, 2) && n >= 1 => Ok(MajorCode(n)),
            _ => Err(TaxonomyCodeError::BadMajor(s.to_string())),
        }
    }

    pub fn number(self) -> u8 {
        self.0
    }

    pub fn is_national(self) -> bool {
        NATIONAL_MAJORS.contains(&self.0)
    }

    pub fn is_local(self) -> bool {
        LOCAL_MAJORS.contains(&self.0)
    }
}

impl fmt::Display for MajorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

impl FromStr for MajorCode {
    type Err = TaxonomyCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for MajorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MajorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A 5-digit type code of GB/T 47678.5: 2-digit major class + 3-digit serial, e.g. `06010` 暴露垃圾.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeCode(String);

impl TypeCode {
    pub fn parse(s: &str) -> Result<Self, TaxonomyCodeError> {
        let s = s.trim();
        if !digits(s, 5) || &s[..2] == "00" || &s[2..] == "000" {
            return Err(TaxonomyCodeError::BadTypeCode(s.to_string()));
        }
        Ok(TypeCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn major(&self) -> MajorCode {
        // Checked on construction: two digits, not 00.
        MajorCode(self.0[..2].parse().unwrap_or(0))
    }

    pub fn serial(&self) -> u16 {
        self.0[2..].parse().unwrap_or(0)
    }
}

/// An 11-digit matter code (事项代码) as a case carries it: the 6-digit code of the district where
/// it happened + the 5-digit type code, e.g. `23090306010`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MatterCode(String);

impl MatterCode {
    pub fn parse(s: &str) -> Result<Self, TaxonomyCodeError> {
        let s = s.trim();
        let bad = || TaxonomyCodeError::BadMatterCode(s.to_string());
        if !digits(s, 11) {
            return Err(bad());
        }
        let province: u8 = s[..2].parse().map_err(|_| bad())?;
        if !(11..=82).contains(&province) || &s[4..6] == "00" {
            return Err(bad());
        }
        TypeCode::parse(&s[6..]).map_err(|_| bad())?;
        Ok(MatterCode(s.to_string()))
    }

    /// Joins a district's 6-digit code (or any territory code starting with it) and a type code.
    pub fn new(district: &str, kind: &TypeCode) -> Result<Self, TaxonomyCodeError> {
        let d = district.get(..6).unwrap_or(district);
        MatterCode::parse(&format!("{d}{}", kind.as_str()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 6-digit district code (GB/T 2260).
    pub fn district(&self) -> &str {
        &self.0[..6]
    }

    pub fn type_code(&self) -> TypeCode {
        TypeCode(self.0[6..].to_string())
    }
}

macro_rules! code_impls {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $t {
            type Err = TaxonomyCodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }
    };
}
code_impls!(TypeCode);
code_impls!(MatterCode);

/// A component (部件, a physical asset) or a matter (事项, what a case is about). Matters 01xxx–05xxx
/// are "anomaly of component 01xxx" and share the component's code, so an entry is keyed by both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Component,
    Matter,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Component => "component",
            EntryKind::Matter => "matter",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub code: TypeCode,
    pub kind: EntryKind,
    pub major: MajorCode,
    pub major_name: String,
    pub name: String,
    /// Lower-case pinyin initials of the name (拼音首字母), e.g. `bllj` for 暴露垃圾; characters
    /// without pinyin (digits, letters) are kept, punctuation is dropped.
    pub initials: String,
    /// From the city's extension file, not the national standard.
    pub local: bool,
}

/// Lower-case pinyin initials of a text; ASCII letters and digits are kept as they are.
pub fn pinyin_initials(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c.to_pinyin() {
            Some(p) => p.first_letter().chars().next(),
            None if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            None => None,
        })
        .collect()
}

/// The loaded taxonomy: every component and matter, national and local.
#[derive(Debug, Clone, Default)]
pub struct Taxonomy {
    entries: Vec<Entry>,
    by_key: HashMap<(EntryKind, TypeCode), usize>,
    majors: BTreeMap<MajorCode, String>,
}

const COLUMNS: [&str; 5] = ["code", "kind", "major", "major_name", "name"];

impl Taxonomy {
    /// Loads the national directory and the local extensions (CSV text, header
    /// `code,kind,major,major_name,name`; further columns are ignored). Each file is checked whole and
    /// every bad row is reported; the national file's errors come first if both are bad.
    pub fn load(national_csv: &str, local_csv: &str) -> Result<Taxonomy, DataError> {
        let mut t = Taxonomy::default();
        t.add_file(NATIONAL_FILE, national_csv, false)?;
        t.add_file(LOCAL_FILE, local_csv, true)?;
        Ok(t)
    }

    fn add_file(&mut self, file: &str, text: &str, local: bool) -> Result<(), DataError> {
        let rows = csv_rows(file, text)?;
        let table = Table::new(&rows, &COLUMNS).map_err(|e| DataError::new(file, e))?;
        let mut errors = Vec::new();
        let mut new: Vec<Entry> = Vec::new();
        let mut seen: HashMap<(EntryKind, TypeCode), usize> = HashMap::new();
        let mut major_names: BTreeMap<MajorCode, (String, usize)> = BTreeMap::new();
        for (n, row) in table.rows() {
            let before = errors.len();
            let code = row
                .required("code", &mut errors)
                .and_then(|v| match TypeCode::parse(v) {
                    Ok(c) => Some(c),
                    Err(_) => {
                        errors.push(row.error("code", Problem::invalid(v, "5位数字类型代码", "a 5-digit type code")));
                        None
                    }
                });
            let kind = row.required("kind", &mut errors).and_then(|v| match v {
                "component" => Some(EntryKind::Component),
                "matter" => Some(EntryKind::Matter),
                _ => {
                    errors.push(row.error(
                        "kind",
                        Problem::invalid(v, "component 或 matter", "component or matter"),
                    ));
                    None
                }
            });
            let major = row
                .required("major", &mut errors)
                .and_then(|v| match MajorCode::parse(v) {
                    Ok(m) => Some(m),
                    Err(_) => {
                        errors
                            .push(row.error("major", Problem::invalid(v, "2位数字大类代码", "a 2-digit major class")));
                        None
                    }
                });
            let major_name = row.required("major_name", &mut errors).map(str::to_string);
            let name = row.required("name", &mut errors).map(str::to_string);
            if errors.len() > before {
                continue;
            }
            let (code, kind, major, major_name, name) = (
                code.expect("checked"),
                kind.expect("checked"),
                major.expect("checked"),
                major_name.expect("checked"),
                name.expect("checked"),
            );
            if code.major() != major {
                errors.push(row.error(
                    "major",
                    Problem::other(
                        format!("大类“{major}”与代码“{code}”的前两位不一致"),
                        format!("major {major} differs from the first two digits of code {code}"),
                    ),
                ));
                continue;
            }
            if local && !major.is_local() {
                errors.push(row.error(
                    "code",
                    Problem::other(
                        format!(
                            "本地扩展只能使用大类{:02}–{:02}，“{code}”属于国家标准的代码范围",
                            LOCAL_MAJORS.start(),
                            LOCAL_MAJORS.end()
                        ),
                        format!(
                            "local extensions use majors {:02}–{:02}; {code} is in the national range",
                            LOCAL_MAJORS.start(),
                            LOCAL_MAJORS.end()
                        ),
                    ),
                ));
                continue;
            }
            if !local && !major.is_national() {
                errors.push(row.error(
                    "code",
                    Problem::other(
                        format!(
                            "国家目录只能使用大类{:02}–{:02}，“{code}”属于本地扩展或未分配的范围",
                            NATIONAL_MAJORS.start(),
                            NATIONAL_MAJORS.end()
                        ),
                        format!(
                            "the national directory uses majors {:02}–{:02}; {code} is a local or unassigned code",
                            NATIONAL_MAJORS.start(),
                            NATIONAL_MAJORS.end()
                        ),
                    ),
                ));
                continue;
            }
            if let Some(first) = seen.get(&(kind, code.clone())) {
                errors.push(row.error(
                    "code",
                    Problem::Duplicate {
                        value: format!("{kind} {code}", kind = kind.as_str()),
                        first_row: *first,
                    },
                ));
                continue;
            }
            match major_names.get(&major) {
                Some((first_name, first_row)) if *first_name != major_name => {
                    errors.push(row.error(
                        "major_name",
                        Problem::other(
                            format!("大类{major}在第{first_row}行名为“{first_name}”，此处为“{major_name}”"),
                            format!("major {major} is named {first_name:?} in row {first_row} but {major_name:?} here"),
                        ),
                    ));
                    continue;
                }
                Some(_) => {}
                None => {
                    major_names.insert(major, (major_name.clone(), n));
                }
            }
            seen.insert((kind, code.clone()), n);
            new.push(Entry {
                initials: pinyin_initials(&name),
                code,
                kind,
                major,
                major_name,
                name,
                local,
            });
        }
        if !errors.is_empty() {
            return Err(DataError::new(file, errors));
        }
        for (major, (name, _)) in major_names {
            self.majors.insert(major, name);
        }
        for e in new {
            self.by_key.insert((e.kind, e.code.clone()), self.entries.len());
            self.entries.push(e);
        }
        Ok(())
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn get(&self, kind: EntryKind, code: &TypeCode) -> Option<&Entry> {
        self.by_key.get(&(kind, code.clone())).map(|&i| &self.entries[i])
    }

    /// The matter (事项) with this type code.
    pub fn matter(&self, code: &TypeCode) -> Option<&Entry> {
        self.get(EntryKind::Matter, code)
    }

    /// The component (部件) with this type code.
    pub fn component(&self, code: &TypeCode) -> Option<&Entry> {
        self.get(EntryKind::Component, code)
    }

    /// The major classes and their names, in code order.
    pub fn majors(&self) -> impl Iterator<Item = (MajorCode, &str)> {
        self.majors.iter().map(|(m, n)| (*m, n.as_str()))
    }

    pub fn major_name(&self, major: MajorCode) -> Option<&str> {
        self.majors.get(&major).map(String::as_str)
    }

    /// Every entry (components and matters) of a major class, in file order.
    pub fn by_major(&self, major: MajorCode) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(move |e| e.major == major)
    }

    /// Every matter, national first, in file order.
    pub fn matters(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.kind == EntryKind::Matter)
    }

    /// Finds entries for a search box. The query matches, case-insensitively:
    /// a code prefix (`0601`), a Chinese substring of the name or major name (`垃圾`), or a prefix or
    /// substring of the pinyin initials (`bllj`, `lj`). Results are ordered best first: exact code,
    /// code prefix, name substring, initials prefix, initials substring, then major-name substring;
    /// matters before components within a rank; at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Entry> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        let digits_only = q.bytes().all(|b| b.is_ascii_digit());
        let mut hits: Vec<(u8, u8, usize)> = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            let rank = if digits_only {
                if e.code.as_str() == q {
                    Some(0)
                } else if e.code.as_str().starts_with(&q) {
                    Some(1)
                } else {
                    None
                }
            } else if e.name.contains(&q) {
                Some(2)
            } else if e.initials.starts_with(&q) {
                Some(3)
            } else if q.is_ascii() && e.initials.contains(&q) {
                Some(4)
            } else if e.major_name.contains(&q) {
                Some(5)
            } else {
                None
            };
            if let Some(r) = rank {
                // Matters first: cases are about matters.
                hits.push((r, u8::from(e.kind == EntryKind::Component), i));
            }
        }
        hits.sort();
        hits.into_iter().take(limit).map(|(_, _, i)| &self.entries[i]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NATIONAL: &str = "code,kind,major,major_name,name,standard,table
06010,component,06,市容环境类,虚构部件,GB/T 47678.5-2026,A.1
06010,matter,06,市容环境类,暴露垃圾,GB/T 47678.5-2026,C.1
06011,matter,06,市容环境类,积存垃圾渣土,GB/T 47678.5-2026,C.1
10001,matter,10,其他事项类,道路积雪、结冰,GB/T 47678.5-2026,C.1
";
    const LOCAL: &str = "code,kind,major,major_name,name
21001,matter,21,矛盾纠纷类,邻里纠纷
25001,matter,25,物业关键小事类,电梯故障
";

    #[test]
    fn codes_validate_on_construction() {
        assert_eq!(TypeCode::parse("06010").unwrap().major().to_string(), "06");
        assert!(TypeCode::parse("6010").is_err());
        assert!(TypeCode::parse("06000").is_err());
        assert!(TypeCode::parse("00123").is_err());
        let m = MatterCode::parse("23090306010").unwrap();
        assert_eq!(m.district(), "230903");
        assert_eq!(m.type_code().as_str(), "06010");
        assert!(MatterCode::parse("2309030601").is_err());
        assert!(MatterCode::parse("99090306010").is_err());
        assert_eq!(
            MatterCode::new("230903011001007", &TypeCode::parse("21001").unwrap())
                .unwrap()
                .as_str(),
            "23090321001"
        );
    }

    #[test]
    fn a_clerk_finds_matters_by_code_chinese_or_pinyin_initials() {
        let t = Taxonomy::load(NATIONAL, LOCAL).unwrap();
        let names = |q: &str| t.search(q, 10).iter().map(|e| e.name.as_str()).collect::<Vec<_>>();
        assert_eq!(names("06010"), ["暴露垃圾", "虚构部件"]);
        assert_eq!(names("0601"), ["暴露垃圾", "积存垃圾渣土", "虚构部件"]);
        assert_eq!(names("垃圾"), ["暴露垃圾", "积存垃圾渣土"]);
        assert_eq!(names("BLLJ"), ["暴露垃圾"]);
        assert_eq!(names("lj"), ["暴露垃圾", "积存垃圾渣土", "道路积雪、结冰", "邻里纠纷"]);
        assert_eq!(names("dtgz"), ["电梯故障"]);
        assert_eq!(names("纠纷"), ["邻里纠纷"]);
        assert!(names("").is_empty());
        assert_eq!(t.matter(&TypeCode::parse("25001").unwrap()).unwrap().initials, "dtgz");
        assert!(t.matter(&TypeCode::parse("25001").unwrap()).unwrap().local);
        assert_eq!(t.by_major(MajorCode::parse("06").unwrap()).count(), 3);
        assert_eq!(t.major_name(MajorCode::parse("21").unwrap()), Some("矛盾纠纷类"));
    }

    #[test]
    fn a_local_file_may_not_use_national_codes_nor_the_reverse() {
        let bad_local = "code,kind,major,major_name,name\n06099,matter,06,市容环境类,本地事项\n";
        let e = Taxonomy::load(NATIONAL, bad_local).unwrap_err();
        assert_eq!(e.file, LOCAL_FILE);
        assert_eq!(e.errors[0].row, Some(2));
        assert_eq!(e.errors[0].column.as_deref(), Some("code"));
        assert!(
            e.errors[0].message(Lang::Zh).contains("21–29"),
            "{}",
            e.errors[0].message(Lang::Zh)
        );

        let bad_national = format!("{NATIONAL}21001,matter,21,矛盾纠纷类,邻里纠纷,,\n");
        let e = Taxonomy::load(&bad_national, LOCAL).unwrap_err();
        assert_eq!(e.file, NATIONAL_FILE);
        assert_eq!(e.errors[0].row, Some(6));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_column() {
        let bad = "code,kind,major,major_name,name
21001,matter,21,矛盾纠纷类,邻里纠纷
2100x,matter,21,矛盾纠纷类,坏代码
21002,thing,21,矛盾纠纷类,坏种类
21001,matter,21,矛盾纠纷类,重复
22001,matter,21,公共安全类,大类不符
21003,matter,21,别的名字,大类名不一致
21004,matter,21,矛盾纠纷类,
";
        let e = Taxonomy::load(NATIONAL, bad).unwrap_err();
        let got: Vec<(Option<usize>, Option<&str>)> = e.errors.iter().map(|e| (e.row, e.column.as_deref())).collect();
        assert_eq!(
            got,
            [
                (Some(3), Some("code")),
                (Some(4), Some("kind")),
                (Some(5), Some("code")),
                (Some(6), Some("major")),
                (Some(7), Some("major_name")),
                (Some(8), Some("name")),
            ]
        );
    }
}
