//! Everything the case loop reads from a city's data, loaded and validated together: the
//! taxonomy, the working calendar, departments, the responsibility list, the flow policy and the
//! duplicate rules.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::calendar::WorkCalendar;
use super::flow::{FlowPolicy, PolicyError};
use super::responsibility::{Departments, ResponsibilityList};
use super::taxonomy::Taxonomy;
use crate::data::DataError;

/// The files of a city, as text (the caller reads them, or embeds them).
pub struct RuleFiles<'a> {
    pub taxonomy_national: &'a str,
    pub taxonomy_local: &'a str,
    pub official_days: &'a str,
    pub calendar_overlay: &'a str,
    pub working_hours: &'a str,
    pub departments: &'a str,
    pub responsibility_list: &'a str,
    pub case_policy: &'a str,
    pub duplicates: &'a str,
}

impl RuleFiles<'static> {
    /// The Qitaihe demo city's files, as shipped in data/.
    pub fn qitaihe() -> RuleFiles<'static> {
        RuleFiles {
            taxonomy_national: include_str!("../../../../data/taxonomy/gbt-47678.5-2026.csv"),
            taxonomy_local: include_str!("../../../../data/taxonomy/local-extensions.csv"),
            official_days: include_str!("../../../../data/calendar/cn-official-days.csv"),
            calendar_overlay: include_str!("../../../../data/qitaihe/calendar-overlay.csv"),
            working_hours: include_str!("../../../../data/qitaihe/working-hours.toml"),
            departments: include_str!("../../../../data/qitaihe/departments.csv"),
            responsibility_list: include_str!("../../../../data/qitaihe/responsibility-list.csv"),
            case_policy: include_str!("../../../../data/qitaihe/case-policy.toml"),
            duplicates: include_str!("../../../../data/qitaihe/duplicates.toml"),
        }
    }
}

/// When an intake is offered as a possible duplicate of an open case: same matter, within
/// `radius_m` metres, reported within `window_days` days. Per-matter overrides by type code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicateRules {
    pub radius_m: f64,
    pub window_days: i64,
    #[serde(default)]
    pub matters: BTreeMap<String, MatterDuplicateRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatterDuplicateRule {
    pub radius_m: Option<f64>,
    pub window_days: Option<i64>,
}

impl DuplicateRules {
    pub fn for_matter(&self, type_code: &str) -> (f64, i64) {
        let m = self.matters.get(type_code);
        (
            m.and_then(|m| m.radius_m).unwrap_or(self.radius_m),
            m.and_then(|m| m.window_days).unwrap_or(self.window_days),
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("data/qitaihe/duplicates.toml: {0}")]
    Duplicates(String),
}

pub struct CaseRules {
    pub taxonomy: Taxonomy,
    pub calendar: WorkCalendar,
    pub departments: Departments,
    pub responsibility: ResponsibilityList,
    pub policy: FlowPolicy,
    pub duplicates: DuplicateRules,
}

impl CaseRules {
    pub fn load(files: &RuleFiles) -> Result<CaseRules, RulesError> {
        let taxonomy = Taxonomy::load(files.taxonomy_national, files.taxonomy_local)?;
        let calendar = WorkCalendar::load(files.official_days, files.calendar_overlay, files.working_hours)?;
        let departments = Departments::load(files.departments)?;
        let responsibility = ResponsibilityList::from_csv(
            "data/qitaihe/responsibility-list.csv",
            files.responsibility_list,
            &taxonomy,
            &departments,
        )?;
        let policy = FlowPolicy::from_toml("data/qitaihe/case-policy.toml", files.case_policy)?;
        let duplicates: DuplicateRules = toml::from_str(files.duplicates)
            .map_err(|e| RulesError::Duplicates(e.to_string().trim_end().to_string()))?;
        if duplicates.radius_m.is_nan() || duplicates.radius_m <= 0.0 || duplicates.window_days <= 0 {
            return Err(RulesError::Duplicates(
                "radius_m and window_days must be above 0".into(),
            ));
        }
        Ok(CaseRules {
            taxonomy,
            calendar,
            departments,
            responsibility,
            policy,
            duplicates,
        })
    }

    pub fn qitaihe() -> Result<CaseRules, RulesError> {
        CaseRules::load(&RuleFiles::qitaihe())
    }
}

/// Distance in metres between two WGS-84 points (haversine; ample at city scale).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_load_together() {
        let rules = CaseRules::qitaihe().unwrap();
        assert!(rules.taxonomy.matters().count() > 250);
        assert_eq!(rules.duplicates.for_matter("99999"), (250.0, 7));
    }

    #[test]
    fn distances_are_in_metres() {
        // 0.001° of latitude is about 111 m.
        let d = distance_m((131.0, 45.77), (131.0, 45.771));
        assert!((d - 111.2).abs() < 0.5, "{d}");
    }
}
