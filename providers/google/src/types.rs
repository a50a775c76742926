//! The one table of the google provider: every resource type it offers. Adding a type is its
//! file under its service plus one line here.

use crate::{data, sql, GoogleProvider};
use infra_provider::{DataSource, ResourceType};

pub static RESOURCES: &[&dyn ResourceType<GoogleProvider>] = &[&sql::database_instance::DatabaseInstance, &sql::database::Database, &sql::user::User];

pub static DATA_SOURCES: &[&dyn DataSource<GoogleProvider>] = &[&data::sql_database_instance::SqlDatabaseInstance, &data::sql_tiers::SqlTiers];

#[cfg(test)]
mod tests {
    use super::*;
    use infra_provider::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_name_is_listed_once_with_a_computed_id() {
        let mut seen = BTreeSet::new();
        for t in RESOURCES {
            assert!(seen.insert(t.name()), "{} is listed twice", t.name());
            assert!(t.schema().attributes.get("id").is_some_and(|a| a.computed), "{} has no computed id", t.name());
        }
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn an_unknown_type_is_an_error() {
        let p = Typed(GoogleProvider::default());
        let d = p.validate(&ValidateRequest { type_name: "google_sql_ssl_cert".into(), config: Value::Null, data_source: false });
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].summary, "Unsupported resource type");
    }
}
