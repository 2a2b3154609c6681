//! Changes of the configuration in force are audited (GB/T 22239 §8.1.4.3 a: 配置变更). The
//! settings live in the operator's file, not in the database, so each start compares what is in
//! force with what the record last saw and writes one entry naming every setting that changed,
//! with its old and new value. Only settings go in; keys and the database URL never do.

use chrono::Utc;
use gongzhi_core::audit::{AuditKey, NewAuditEntry, SYSTEM_ACTOR};
use serde_json::{Map, Value, json};

use crate::{AppError, Db};

pub const SUBJECT_KIND: &str = "configuration";
pub const SUBJECT_ID: &str = "settings";

/// The settings that differ between `before` and `after`, each as `{"from": …, "to": …}`
/// (`null` where a setting was absent).
pub fn changes(before: &Map<String, Value>, after: &Map<String, Value>) -> Map<String, Value> {
    let mut changed = Map::new();
    for (name, to) in after {
        let from = before.get(name).unwrap_or(&Value::Null);
        if from != to {
            changed.insert(name.clone(), json!({ "from": from, "to": to }));
        }
    }
    for (name, from) in before {
        if !after.contains_key(name) {
            changed.insert(name.clone(), json!({ "from": from, "to": Value::Null }));
        }
    }
    changed
}

/// Settings nested in sections (`{"security": {"lockout_failures": 5}}`) as one flat map
/// (`security.lockout_failures`), so that a change names the one setting.
pub fn flatten(settings: &Value) -> Map<String, Value> {
    fn walk(prefix: &str, value: &Value, out: &mut Map<String, Value>) {
        match value {
            Value::Object(fields) => {
                for (name, v) in fields {
                    let path = if prefix.is_empty() {
                        name.clone()
                    } else {
                        format!("{prefix}.{name}")
                    };
                    walk(&path, v, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other.clone());
            }
        }
    }
    let mut out = Map::new();
    walk("", settings, &mut out);
    out
}

/// Compares the settings in force with those of the last `configuration.*` entry and records
/// the difference: `configuration.first` on the first start, `configuration.change` when a
/// setting differs, nothing when none does. Returns the names of the changed settings.
pub async fn record(db: &Db, key: &AuditKey, in_force: &Value) -> Result<Vec<String>, AppError> {
    let now = flatten(in_force);
    let seen = gongzhi_store::audit::entries_about(db, SUBJECT_KIND, SUBJECT_ID).await?;
    let last = seen
        .last()
        .and_then(|e| e.detail.get("settings"))
        .and_then(Value::as_object);
    let (action, changed) = match last {
        None => ("configuration.first", Map::new()),
        Some(before) => {
            let changed = changes(before, &now);
            if changed.is_empty() {
                return Ok(Vec::new());
            }
            ("configuration.change", changed)
        }
    };
    let names = changed.keys().cloned().collect();
    let entry = NewAuditEntry::new(
        Utc::now(),
        SYSTEM_ACTOR,
        action,
        SUBJECT_KIND,
        SUBJECT_ID,
        json!({ "changed": changed, "settings": now }),
    )
    .map_err(|e| AppError::localized(None, &e))?;
    gongzhi_store::audit::record(db, key, entry).await?;
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_names_each_setting_with_its_old_and_new_value() {
        let before = flatten(&json!({"security": {"lockout_failures": 5, "admin_networks": []}, "sms_gateway": "log"}));
        let after =
            flatten(&json!({"security": {"lockout_failures": 3, "admin_networks": []}, "id_number_mask": "6+4"}));
        let changed = changes(&before, &after);
        assert_eq!(
            Value::Object(changed),
            json!({
                "security.lockout_failures": {"from": 5, "to": 3},
                "id_number_mask": {"from": null, "to": "6+4"},
                "sms_gateway": {"from": "log", "to": null},
            })
        );
        assert!(changes(&after, &after).is_empty());
    }
}
