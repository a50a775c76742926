//! The real PostgreSQL behind each instance: `initdb`, `pg_ctl` and `psql` from Debian's
//! PostgreSQL (run as the `postgres` OS user through `runuser` when the emulator runs as root,
//! since PostgreSQL refuses to run as root), the server certificate made with `openssl`, and
//! the `pg_hba.conf` the instance's SSL mode asks for.
//!
//! Each server listens on its own loopback address and no Unix socket (socket paths are limited
//! to about 100 bytes, data directories are not). The emulator administers it over TCP as the
//! hidden superuser `cloudsqladmin`, as Cloud SQL does.

use crate::util::{ident, literal};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const ADMIN_USER: &str = "cloudsqladmin";

pub struct Postgres {
    bin: PathBuf,
    /// The `postgres` OS user's uid and gid when the emulator runs as root.
    run_as: Option<(u32, u32)>,
    /// The installed version, in `databaseInstalledVersion`'s form (`POSTGRES_15_14`).
    pub installed_version: String,
}

impl Postgres {
    /// Finds the binaries in `bin`, or the newest `/usr/lib/postgresql/*/bin`.
    pub fn find(bin: Option<PathBuf>) -> Result<Postgres, String> {
        let bin = match bin {
            Some(b) => b,
            None => newest_install().ok_or_else(|| {
                "PostgreSQL is not installed: no /usr/lib/postgresql/*/bin/initdb (install it with `apt-get install -y postgresql`, or pass --pg-bin)"
                    .to_string()
            })?,
        };
        if !bin.join("initdb").exists() {
            return Err(format!("{} has no initdb", bin.display()));
        }
        // SAFETY-free root check: the effective uid of this process is what /proc reports.
        let root = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0")))
            .unwrap_or(false);
        let run_as = if root { Some(postgres_ids().ok_or("running as root, but there is no `postgres` OS user to run PostgreSQL as")?) } else { None };
        let out = Command::new(bin.join("postgres")).arg("--version").output().map_err(|e| format!("cannot run {}/postgres: {e}", bin.display()))?;
        // "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)"
        let text = String::from_utf8_lossy(&out.stdout);
        let number = text.split_whitespace().nth(2).unwrap_or("0");
        let installed_version = format!("POSTGRES_{}", number.replace('.', "_"));
        Ok(Postgres { bin, run_as, installed_version })
    }

    /// The major version of the local binaries.
    pub fn major(&self) -> String {
        self.installed_version.trim_start_matches("POSTGRES_").split('_').next().unwrap_or("").to_string()
    }

    fn command(&self, prog: &str) -> Command {
        let path = self.bin.join(prog);
        let mut c = if self.run_as.is_some() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        c.stdin(Stdio::null());
        c
    }

    /// Lets the `postgres` OS user own `path` (when the emulator runs as root).
    pub fn give(&self, path: &Path) -> Result<(), String> {
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| format!("cannot chown {}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// Makes a directory the `postgres` OS user can pass through.
    pub fn searchable_dir(&self, path: &Path) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        if self.run_as.is_some() {
            let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).unwrap_or(0o700);
            if mode & 0o001 == 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode | 0o011))
                    .map_err(|e| format!("cannot make {} searchable: {e}", path.display()))?;
            }
        }
        Ok(())
    }

    /// Whether the `postgres` OS user can reach `dir` (every parent must be searchable).
    pub fn can_reach(&self, dir: &Path) -> bool {
        if self.run_as.is_none() {
            return true;
        }
        Command::new("runuser").args(["-u", "postgres", "--", "test", "-x"]).arg(dir).status().is_ok_and(|s| s.success())
    }

    /// `initdb` into `pgdata` with `cloudsqladmin` as the bootstrap superuser, a self-signed
    /// server certificate, and the server settings every instance shares.
    pub fn init(&self, pgdata: &Path, admin_password: &str) -> Result<(), String> {
        std::fs::create_dir_all(pgdata).map_err(|e| format!("cannot create {}: {e}", pgdata.display()))?;
        self.give(pgdata)?;
        let pwfile = pgdata.with_extension("pw");
        write_private(&pwfile, admin_password)?;
        self.give(&pwfile)?;
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(pgdata)
            .args(["-U", ADMIN_USER, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output();
        let _ = std::fs::remove_file(&pwfile);
        check("initdb", out)?;
        let cert = Command::new(if self.run_as.is_some() { "runuser" } else { "openssl" })
            .args(if self.run_as.is_some() { vec!["-u", "postgres", "--", "openssl"] } else { vec![] })
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-set_serial", "0"])
            .args(["-subj", "/CN=Google Cloud SQL Server CA/O=Google, Inc/C=US", "-keyout"])
            .arg(pgdata.join("server.key"))
            .arg("-out")
            .arg(pgdata.join("server.crt"))
            .stdin(Stdio::null())
            .output();
        check("openssl req", cert)?;
        {
            use std::os::unix::fs::PermissionsExt;
            let key = pgdata.join("server.key");
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).map_err(|e| format!("cannot protect {}: {e}", key.display()))?;
        }
        let conf = "\n# cloudsql-emulator\nunix_socket_directories = ''\nfsync = off\nshared_buffers = 32MB\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\npassword_encryption = 'scram-sha-256'\ninclude_if_exists = 'cloudsql-flags.conf'\n";
        append(&pgdata.join("postgresql.conf"), conf)?;
        self.write_hba(pgdata, false)
    }

    /// `pg_hba.conf`: the admin over plain TCP from loopback; everyone else by password, over
    /// SSL only when `ssl_only` (Cloud SQL's `ENCRYPTED_ONLY` and stricter modes).
    pub fn write_hba(&self, pgdata: &Path, ssl_only: bool) -> Result<(), String> {
        let kind = if ssl_only { "hostssl" } else { "host" };
        let text = format!(
            "# written by cloudsql-emulator\nhost all {ADMIN_USER} 127.0.0.0/8 scram-sha-256\nhost replication {ADMIN_USER} 127.0.0.0/8 scram-sha-256\n{kind} all all 0.0.0.0/0 scram-sha-256\n{kind} all all ::/0 scram-sha-256\n"
        );
        let path = pgdata.join("pg_hba.conf");
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.give(&path)
    }

    /// A standby's data directory: `pg_basebackup` of the server at `primary`, with `-R`
    /// (standby.signal and the primary's connection in postgresql.auto.conf).
    pub fn base_backup(&self, primary: &str, port: u16, admin_password: &str, pgdata: &Path) -> Result<(), String> {
        let out = self
            .command("pg_basebackup")
            .args(["-h", primary, "-p", &port.to_string(), "-U", ADMIN_USER, "-X", "stream", "-R", "-w", "-D"])
            .arg(pgdata)
            .env("PGPASSWORD", admin_password)
            .output();
        check("pg_basebackup", out)
    }

    /// Writes the instance's database flags where `postgresql.conf` includes them.
    pub fn write_flags(&self, pgdata: &Path, text: &str) -> Result<(), String> {
        let path = pgdata.join("cloudsql-flags.conf");
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.give(&path)
    }

    pub fn start(&self, pgdata: &Path, address: &str, port: u16) -> Result<(), String> {
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(pgdata)
            .arg("-l")
            .arg(pgdata.join("server.log"))
            .args(["-w", "-t", "60", "-o"])
            .arg(format!("-c listen_addresses={address} -p {port}"))
            .arg("start")
            .output();
        check("pg_ctl start", out).map_err(|e| {
            let log = std::fs::read_to_string(pgdata.join("server.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            format!("{e}; server log: {}", tail.into_iter().rev().collect::<Vec<_>>().join(" | "))
        })
    }

    pub fn stop(&self, pgdata: &Path) -> Result<(), String> {
        if !self.running(pgdata) {
            return Ok(());
        }
        let out = self.command("pg_ctl").arg("-D").arg(pgdata).args(["-m", "fast", "-w", "-t", "60", "stop"]).output();
        check("pg_ctl stop", out)
    }

    pub fn reload(&self, pgdata: &Path) -> Result<(), String> {
        let out = self.command("pg_ctl").arg("-D").arg(pgdata).arg("reload").output();
        check("pg_ctl reload", out)
    }

    pub fn running(&self, pgdata: &Path) -> bool {
        pgdata.join("postmaster.pid").exists()
            && self.command("pg_ctl").arg("-D").arg(pgdata).arg("status").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    }

    /// Runs SQL as `cloudsqladmin` in database `db`; returns the rows, fields split.
    pub fn sql(&self, address: &str, port: u16, admin_password: &str, db: &str, sql: &str) -> Result<Vec<Vec<String>>, String> {
        use std::io::Write;
        let conninfo = format!("host={address} port={port} user={ADMIN_USER} dbname={} sslmode=disable connect_timeout=10", conninfo_value(db));
        let mut child = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-F", "\u{1f}"])
            .arg(conninfo)
            .env("PGPASSWORD", admin_password)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(sql.as_bytes()).map_err(|e| format!("cannot send SQL to psql: {e}"))?;
        }
        let out = child.wait_with_output().map_err(|e| format!("psql failed: {e}"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(err.trim().trim_start_matches("psql:<stdin>:").to_string());
        }
        Ok(String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty()).map(|l| l.split('\u{1f}').map(str::to_string).collect()).collect())
    }

    /// The first SQL run on a new instance: Cloud SQL's roles. `postgres` is a member of
    /// `cloudsqlsuperuser` (not a real superuser), with the root password when one was given.
    pub fn bootstrap_sql(root_password: Option<&str>) -> String {
        let password = root_password.map(|p| format!(" PASSWORD {}", literal(p))).unwrap_or_default();
        format!(
            "CREATE ROLE cloudsqlsuperuser NOLOGIN CREATEDB CREATEROLE;\n\
             CREATE ROLE postgres LOGIN CREATEDB CREATEROLE IN ROLE cloudsqlsuperuser{password};\n\
             ALTER DATABASE postgres OWNER TO cloudsqlsuperuser;\n\
             GRANT ALL ON SCHEMA public TO cloudsqlsuperuser;\n"
        )
    }

    pub fn create_user_sql(name: &str, password: Option<&str>) -> String {
        let password = password.map(|p| format!(" PASSWORD {}", literal(p))).unwrap_or_default();
        format!("CREATE ROLE {} LOGIN CREATEDB CREATEROLE IN ROLE cloudsqlsuperuser{password};\n", ident(name))
    }

    /// The server certificate as the API's `SslCert`.
    pub fn server_ca_cert(pgdata: &Path, instance: &str) -> Value {
        let cert = std::fs::read_to_string(pgdata.join("server.crt")).unwrap_or_default();
        let info = Command::new("openssl")
            .args(["x509", "-noout", "-fingerprint", "-sha1", "-startdate", "-enddate", "-dateopt", "iso_8601", "-in"])
            .arg(pgdata.join("server.crt"))
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let field =
            |prefix: &str| info.lines().find_map(|l| l.split_once('=').filter(|(k, _)| k.eq_ignore_ascii_case(prefix)).map(|(_, v)| v.trim().to_string()));
        let iso = |v: Option<String>| v.map(|d| format!("{}.000Z", d.trim_end_matches('Z').replace(' ', "T")));
        json!({
            "kind": "sql#sslCert",
            "certSerialNumber": "0",
            "cert": cert,
            "commonName": "C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA",
            "sha1Fingerprint": field("sha1 Fingerprint").unwrap_or_default().replace(':', "").to_lowercase(),
            "instance": instance,
            "createTime": iso(field("notBefore")),
            "expirationTime": iso(field("notAfter")),
        })
    }
}

/// The newest `/usr/lib/postgresql/*/bin` holding `initdb` (Debian's layout).
pub fn newest_install() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn postgres_ids() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.starts_with("postgres:"))?;
    let mut f = line.split(':').skip(2);
    Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
}

fn conninfo_value(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn check(what: &str, out: std::io::Result<std::process::Output>) -> Result<(), String> {
    let out = out.map_err(|e| format!("cannot run {what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn append(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    f.write_all(text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
