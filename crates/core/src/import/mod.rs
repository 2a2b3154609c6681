//! Importing tables from staff's spreadsheets, generically: a [`template::Template`] of columns
//! (Chinese header, English key, required or not, an example, a validator), matching a file's
//! header against it in any order and in either language, checking every cell, and collecting
//! every bad row (listing the first ones, counting all) so that a file is taken whole or not at
//! all. [`progress`] is the model of a running import that the command line and the pages show.
//!
//! Errors are the data files' [`crate::data::RowError`] and
//! [`crate::data::DataError`]: row (1-based, as the spreadsheet numbers it), column (as the
//! file's header spells it) and reason in both languages.

pub mod export;
pub mod progress;
pub mod registry;
pub mod template;

pub use progress::{Phase, Progress, ProgressSnapshot};
pub use template::{CellKind, Column, ErrorList, HeaderMap, Record, Template};

use serde::Serialize;

/// What a committed import made: its data rows and how many things of each kind it created
/// (`residents`, `households`, `buildings` …), as the job page, the command line and the audit
/// record say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Imported {
    pub template: &'static str,
    pub rows: u64,
    pub created: Vec<(&'static str, u64)>,
}

impl Imported {
    pub fn new(template: &'static str, rows: u64) -> Imported {
        Imported {
            template,
            rows,
            created: Vec::new(),
        }
    }

    /// Adds a count of things created (zero counts are left out).
    pub fn created(mut self, what: &'static str, n: u64) -> Imported {
        if n > 0 {
            self.created.push((what, n));
        }
        self
    }

    /// `导入 3 行：居民 3，户 2，楼栋 1` / `imported 3 rows: residents 3, households 2, buildings 1`.
    pub fn line(&self, lang: crate::Lang) -> String {
        let parts: Vec<String> = self
            .created
            .iter()
            .map(|(what, n)| format!("{} {n}", thing_label(what, lang)))
            .collect();
        match lang {
            crate::Lang::Zh => format!("已导入 {} 行：{}", self.rows, parts.join("，")),
            crate::Lang::En => format!("imported {} rows: {}", self.rows, parts.join(", ")),
        }
    }
}

/// The name of a kind of registry thing an import creates.
pub fn thing_label(what: &str, lang: crate::Lang) -> &'static str {
    let (zh, en) = match what {
        "residents" => ("居民", "residents"),
        "households" => ("户", "households"),
        "buildings" => ("楼栋", "buildings"),
        "entrances" => ("单元", "entrances"),
        "compounds" => ("小区", "compounds"),
        "member_orgs" => ("辖区单位", "member organizations"),
        "property_companies" => ("物业企业", "property companies"),
        "owners_committees" => ("业主委员会", "owners' committees"),
        "party_orgs" => ("党组织", "party organizations"),
        "party_members" => ("党员", "party members"),
        "updated" => ("更新", "updated"),
        _ => ("其他", "other"),
    };
    lang.pick(zh, en)
}

use crate::people::{Actor, Role, Scope};
use crate::territory::TerritoryCode;

/// The roles that may import into the registry, each within the subtree it is held over: the
/// system administrator (the city), street staff (their street), community workers (their
/// community).
pub const IMPORTERS: [Role; 3] = [Role::SystemAdmin, Role::StreetStaff, Role::CommunityWorker];

/// Where an importer may put things: the subtrees of their importing roles. A row placed outside
/// is an error of that row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    prefixes: Vec<String>,
}

impl Reach {
    /// Everywhere: the command line, run by whoever runs the server.
    pub fn everywhere() -> Reach {
        Reach {
            prefixes: vec![String::new()],
        }
    }

    /// The reach of `actor`'s importing roles; empty when it holds none.
    pub fn of(actor: &Actor) -> Reach {
        Reach::of_roles(actor, &IMPORTERS)
    }

    /// The reach of `actor`'s personal-data exporter grants (the unmasked export); empty when
    /// it holds none.
    pub fn exporting(actor: &Actor) -> Reach {
        Reach::of_roles(actor, &[Role::PersonalDataExporter])
    }

    /// The subtrees where `actor` holds one of `roles`.
    pub fn of_roles(actor: &Actor, roles: &[Role]) -> Reach {
        let mut prefixes: Vec<String> = actor
            .grants
            .iter()
            .filter(|g| roles.contains(&g.role))
            .filter_map(|g| match &g.scope {
                Scope::Territory(t) => Some(t.subtree_prefix().to_string()),
                Scope::Department(_) | Scope::Organization(_) => None,
            })
            .collect();
        prefixes.sort();
        prefixes.dedup();
        Reach { prefixes }
    }

    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }

    /// The subtree prefixes reached (`""` is the whole city).
    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }

    /// Whether a division or grid code lies within the reach.
    pub fn reaches(&self, code: &TerritoryCode) -> bool {
        self.prefixes.iter().any(|p| code.as_str().starts_with(p.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::Grant;

    #[test]
    fn community_workers_reach_their_community_and_clerks_nothing() {
        let grant = |role, code: &str| Grant {
            role,
            scope: Scope::Territory(TerritoryCode::parse(code).unwrap()),
        };
        let actor = Actor {
            account: "community".into(),
            grants: vec![
                grant(Role::CommunityWorker, "230903011001"),
                grant(Role::IntakeClerk, "230900000000"),
            ],
        };
        let reach = Reach::of(&actor);
        assert!(reach.reaches(&TerritoryCode::parse("230903011001007").unwrap()));
        assert!(!reach.reaches(&TerritoryCode::parse("230903011002001").unwrap()));
        let clerk = Actor {
            account: "clerk".into(),
            grants: vec![grant(Role::IntakeClerk, "230900000000")],
        };
        assert!(Reach::of(&clerk).is_empty());
        assert!(Reach::everywhere().reaches(&TerritoryCode::parse("230903011002001").unwrap()));
        let done = Imported::new("residents", 3)
            .created("residents", 3)
            .created("buildings", 0);
        assert_eq!(done.line(crate::Lang::Zh), "已导入 3 行：居民 3");
    }
}
