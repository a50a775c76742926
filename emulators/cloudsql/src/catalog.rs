//! What Cloud SQL accepts, as documented: instance names, PostgreSQL versions, editions and
//! the machine tiers each allows; and the fixed lists `tiers.list` and `flags.list` answer.

use crate::error::ApiError;
use serde_json::{json, Value};
use std::path::Path;

/// Instance names: lowercase letters, digits and hyphens, starting with a letter, at most 98
/// characters (the project id and the name together are limited to 98 too; the emulator checks
/// the name alone).
pub fn check_instance_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 98
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid request: instance name ({name}) is invalid: use lowercase letters, numbers and hyphens, start with a letter, end with a letter or number, at most 98 characters."
        )))
    }
}

/// Project ids as they reach the data directory: letters, digits, hyphens, dots and colons
/// (domain-scoped projects), never a path.
pub fn check_project(project: &str) -> Result<(), ApiError> {
    let ok = !project.is_empty()
        && project.len() <= 100
        && project.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '_'))
        && !project.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!("Invalid request: project ({project}) is not a valid project id.")))
    }
}

/// The PostgreSQL major version of a `databaseVersion` (`POSTGRES_16` → 16, `POSTGRES_9_6` → 9).
pub fn postgres_major(version: &str) -> Option<u32> {
    let rest = version.strip_prefix("POSTGRES_")?;
    rest.split('_').next()?.parse().ok()
}

pub fn check_database_version(version: &str) -> Result<(), ApiError> {
    let known = crate::schema::enum_names("DatabaseInstance", "databaseVersion");
    if !known.contains(&version) || version == "SQL_DATABASE_VERSION_UNSPECIFIED" {
        return Err(ApiError::invalid(format!("Invalid request: Invalid value for field databaseVersion: {version}.")));
    }
    if postgres_major(version).is_none() {
        return Err(ApiError::invalid(format!(
            "Invalid request: databaseVersion {version} is not served here: this emulator runs PostgreSQL only (POSTGRES_*)."
        )));
    }
    Ok(())
}

/// Cloud SQL's default edition: Enterprise Plus for PostgreSQL 16 and later, Enterprise before.
pub fn default_edition(version: &str) -> &'static str {
    if postgres_major(version).is_some_and(|m| m >= 16) {
        "ENTERPRISE_PLUS"
    } else {
        "ENTERPRISE"
    }
}

const PERF_OPTIMIZED_CPUS: [u32; 10] = [2, 4, 8, 16, 32, 48, 64, 80, 96, 128];

/// A machine tier for an edition, as documented: shared-core `db-f1-micro` / `db-g1-small` and
/// `db-custom-CPUS-MEMORY_MB` (1 or an even number of vCPUs up to 96, memory a multiple of 256
/// MB, 0.9 to 6.5 GB per vCPU and at least 3.75 GB) are Enterprise tiers;
/// `db-perf-optimized-N-CPUS` tiers are Enterprise Plus's.
pub fn check_tier(tier: &str, edition: &str) -> Result<(), ApiError> {
    let wrong_edition = || {
        ApiError::invalid(format!(
            "Invalid Tier ({tier}) for ({edition}) Edition. Use a predefined Tier like db-perf-optimized-N-* instead for ENTERPRISE_PLUS, or db-custom-* / shared-core tiers for ENTERPRISE."
        ))
    };
    if tier == "db-f1-micro" || tier == "db-g1-small" {
        return if edition == "ENTERPRISE" { Ok(()) } else { Err(wrong_edition()) };
    }
    if let Some(rest) = tier.strip_prefix("db-custom-") {
        let parts: Vec<&str> = rest.split('-').collect();
        let (Some(cpus), Some(mem)) = (parts.first().and_then(|c| c.parse::<u32>().ok()), parts.get(1).and_then(|m| m.parse::<u32>().ok())) else {
            return Err(invalid_tier(tier));
        };
        if parts.len() != 2 {
            return Err(invalid_tier(tier));
        }
        if edition != "ENTERPRISE" {
            return Err(wrong_edition());
        }
        if !(cpus == 1 || (cpus % 2 == 0 && (2..=96).contains(&cpus))) {
            return Err(ApiError::invalid(format!("Invalid Tier ({tier}): the number of vCPUs must be 1 or an even number between 2 and 96.")));
        }
        let per_cpu = f64::from(mem) / f64::from(cpus);
        if mem % 256 != 0 || mem < 3840 || !(921.6..=6656.0).contains(&per_cpu) {
            return Err(ApiError::invalid(format!(
                "Invalid Tier ({tier}): memory must be a multiple of 256 MB, at least 3840 MB, and between 0.9 GB and 6.5 GB per vCPU."
            )));
        }
        return Ok(());
    }
    if let Some(rest) = tier.strip_prefix("db-perf-optimized-N-") {
        let Some(cpus) = rest.parse::<u32>().ok().filter(|c| PERF_OPTIMIZED_CPUS.contains(c)) else {
            return Err(invalid_tier(tier));
        };
        let _ = cpus;
        return if edition == "ENTERPRISE_PLUS" { Ok(()) } else { Err(wrong_edition()) };
    }
    Err(invalid_tier(tier))
}

fn invalid_tier(tier: &str) -> ApiError {
    ApiError::invalid(format!("Invalid request: Invalid Tier ({tier})."))
}

/// `tiers.list`: the shared-core tiers, a few custom ones and the performance-optimized ones.
pub fn tiers(region: &str) -> Value {
    let mut items = vec![tier("db-f1-micro", 644_245_094, region), tier("db-g1-small", 1_825_361_101, region)];
    for (cpus, mb) in [(1u64, 3840u64), (2, 7680), (4, 15360), (8, 30720), (16, 61440)] {
        items.push(tier(&format!("db-custom-{cpus}-{mb}"), mb * 1024 * 1024, region));
    }
    for cpus in PERF_OPTIMIZED_CPUS {
        items.push(tier(&format!("db-perf-optimized-N-{cpus}"), u64::from(cpus) * 8 * 1024 * 1024 * 1024, region));
    }
    json!({"kind": "sql#tiersList", "items": items})
}

fn tier(name: &str, ram: u64, region: &str) -> Value {
    json!({"kind": "sql#tier", "tier": name, "RAM": ram.to_string(), "DiskQuota": "3006477107200", "region": [region]})
}

/// `flags.list`: common PostgreSQL flags with their documented types and ranges.
pub fn flags(database_version: Option<&str>) -> Value {
    let versions: Vec<&str> = crate::schema::enum_names("DatabaseInstance", "databaseVersion").into_iter().filter(|v| postgres_major(v).is_some()).collect();
    let applies = |v: &str| database_version.is_none_or(|want| want == v);
    let applies_to: Vec<&str> = versions.iter().copied().filter(|v| applies(v)).collect();
    if applies_to.is_empty() {
        return json!({"kind": "sql#flagsList", "items": []});
    }
    let int = |name: &str, min: i64, max: i64, restart: bool| {
        json!({"kind": "sql#flag", "name": name, "type": "INTEGER", "minValue": min.to_string(), "maxValue": max.to_string(),
               "requiresRestart": restart, "appliesTo": applies_to})
    };
    let boolean = |name: &str| json!({"kind": "sql#flag", "name": name, "type": "BOOLEAN", "requiresRestart": false, "appliesTo": applies_to});
    let string = |name: &str, allowed: &[&str]| json!({"kind": "sql#flag", "name": name, "type": "STRING", "allowedStringValues": allowed, "requiresRestart": false, "appliesTo": applies_to});
    let items = vec![
        int("max_connections", 14, 262_143, true),
        int("work_mem", 64, 2_147_483_647, false),
        int("maintenance_work_mem", 1024, 2_147_483_647, false),
        int("log_min_duration_statement", -1, 2_147_483_647, false),
        int("statement_timeout", 0, 2_147_483_647, false),
        int("idle_in_transaction_session_timeout", 0, 2_147_483_647, false),
        int("temp_file_limit", -1, 2_147_483_647, false),
        boolean("log_checkpoints"),
        boolean("log_connections"),
        boolean("log_disconnections"),
        boolean("log_lock_waits"),
        boolean("cloudsql.iam_authentication"),
        boolean("cloudsql.enable_pgaudit"),
        string("log_statement", &["none", "ddl", "mod", "all"]),
        string("timezone", &[]),
    ];
    json!({"kind": "sql#flagsList", "items": items})
}

/// The `flags.list` entry of a flag name.
pub fn flag(name: &str) -> Option<Value> {
    flags(None)["items"].as_array()?.iter().find(|f| f["name"] == name).cloned()
}

/// Checks a `databaseFlags` entry against its flag's type, range and allowed values.
pub fn check_flag(name: &str, value: &str) -> Result<(), ApiError> {
    let Some(def) = flag(name) else {
        return Err(ApiError::invalid(format!("Invalid request: Invalid flag name: {name}.")));
    };
    let bad = || ApiError::invalid(format!("Invalid request: Invalid flag value for {name}: {value}."));
    match def["type"].as_str() {
        Some("INTEGER") => {
            let n: i64 = value.parse().map_err(|_| bad())?;
            let min = def["minValue"].as_str().and_then(|m| m.parse::<i64>().ok()).unwrap_or(i64::MIN);
            let max = def["maxValue"].as_str().and_then(|m| m.parse::<i64>().ok()).unwrap_or(i64::MAX);
            if n < min || n > max {
                return Err(bad());
            }
        }
        Some("BOOLEAN") => {
            if !matches!(value, "on" | "off") {
                return Err(bad());
            }
        }
        _ => {
            let allowed: Vec<&str> = def["allowedStringValues"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            let plain = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '+' | '-' | '.'));
            if (!allowed.is_empty() && !allowed.contains(&value)) || !plain || value.contains("..") {
                return Err(bad());
            }
            // A time zone PostgreSQL does not know would keep the server from starting.
            if name == "timezone" && value != "UTC" && !Path::new("/usr/share/zoneinfo").join(value).is_file() {
                return Err(bad());
            }
        }
    }
    Ok(())
}

/// The flags that are PostgreSQL settings (not Cloud SQL's own `cloudsql.*`), as
/// `postgresql.conf` lines, and whether any of them needs a restart.
pub fn server_flags(settings: &Value) -> (String, Vec<String>) {
    let mut text = String::from("# written by cloudsql-emulator from settings.databaseFlags\n");
    let mut restart = Vec::new();
    for f in settings["databaseFlags"].as_array().into_iter().flatten() {
        let (Some(name), Some(value)) = (f["name"].as_str(), f["value"].as_str()) else { continue };
        if name.starts_with("cloudsql.") || check_flag(name, value).is_err() {
            continue;
        }
        text.push_str(&format!("{name} = '{}'\n", value.replace('\'', "''")));
        if flag(name).is_some_and(|d| d["requiresRestart"] == true) {
            restart.push(format!("{name}={value}"));
        }
    }
    (text, restart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_follow_the_documented_rules() {
        assert!(check_instance_name("attendee-prod-1").is_ok());
        for bad in ["", "1abc", "Abc", "a_b", "a.b", "abc-", &"a".repeat(99)] {
            assert!(check_instance_name(bad).is_err(), "{bad}");
        }
        assert!(check_instance_name(&"a".repeat(98)).is_ok());
    }

    #[test]
    fn tiers_follow_their_edition() {
        assert!(check_tier("db-f1-micro", "ENTERPRISE").is_ok());
        assert!(check_tier("db-f1-micro", "ENTERPRISE_PLUS").is_err());
        assert!(check_tier("db-custom-2-7680", "ENTERPRISE").is_ok());
        assert!(check_tier("db-custom-2-7680", "ENTERPRISE_PLUS").is_err());
        assert!(check_tier("db-custom-3-7680", "ENTERPRISE").is_err());
        assert!(check_tier("db-custom-2-1024", "ENTERPRISE").is_err());
        assert!(check_tier("db-custom-2-7700", "ENTERPRISE").is_err());
        assert!(check_tier("db-perf-optimized-N-8", "ENTERPRISE_PLUS").is_ok());
        assert!(check_tier("db-perf-optimized-N-8", "ENTERPRISE").is_err());
        assert!(check_tier("db-n1-standard-1", "ENTERPRISE").is_err());
    }

    #[test]
    fn flag_values_follow_their_type() {
        assert!(check_flag("max_connections", "42").is_ok());
        assert!(check_flag("max_connections", "1").is_err());
        assert!(check_flag("max_connections", "many").is_err());
        assert!(check_flag("log_connections", "on").is_ok());
        assert!(check_flag("log_connections", "yes").is_err());
        assert!(check_flag("log_statement", "ddl").is_ok());
        assert!(check_flag("log_statement", "x'; drop").is_err());
        assert!(check_flag("timezone", "UTC").is_ok());
        assert!(check_flag("timezone", "Nowhere/Atlantis").is_err());
        assert!(check_flag("no_such_flag", "1").is_err());
        let (text, restart) = server_flags(&json!({"databaseFlags": [{"name": "max_connections", "value": "42"},
            {"name": "cloudsql.iam_authentication", "value": "on"}, {"name": "work_mem", "value": "8192"}]}));
        assert_eq!(text.lines().skip(1).collect::<Vec<_>>(), ["max_connections = '42'", "work_mem = '8192'"]);
        assert_eq!(restart, ["max_connections=42"]);
    }

    #[test]
    fn postgres_versions_are_read() {
        assert_eq!(postgres_major("POSTGRES_16"), Some(16));
        assert_eq!(postgres_major("POSTGRES_9_6"), Some(9));
        assert_eq!(postgres_major("MYSQL_8_0"), None);
        assert!(check_database_version("POSTGRES_16").is_ok());
        assert!(check_database_version("MYSQL_8_0").is_err());
        assert!(check_database_version("POSTGRES_99").is_err());
        assert_eq!(default_edition("POSTGRES_16"), "ENTERPRISE_PLUS");
        assert_eq!(default_edition("POSTGRES_15"), "ENTERPRISE");
    }
}
