//! `cloudsql-emulator` as a library: the local Cloud SQL Admin API (v1 REST) whose instances
//! are real PostgreSQL servers. The binary (`main.rs`) parses its arguments and serves it; the
//! test harness finds PostgreSQL the way the emulator does ([`newest_postgres`]).

pub mod api;
pub mod app;
pub mod catalog;
pub mod databases;
pub mod error;
pub mod instances;
pub mod operations;
pub mod pg;
pub mod schema;
pub mod store;
pub mod users;
pub mod util;

pub use pg::newest_install as newest_postgres;
