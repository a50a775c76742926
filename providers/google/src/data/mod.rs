//! Data sources: read-only lookups, one call per configuration.

pub mod sql_database_instance;
pub mod sql_tiers;
