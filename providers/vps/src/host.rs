//! The `vps_host` data source: what the host is (OS release, hostname, architecture, kernel,
//! init system), read in one round trip.

use crate::transport::Connection;
use infra_provider::*;
use std::collections::BTreeMap;

pub fn schemas() -> BTreeMap<String, Schema> {
    let c = || AttrSchema::computed(Type::String);
    let host = Schema::new()
        .attr("id", c())
        .attr("hostname", c())
        .attr("os_id", c())
        .attr("os_version_id", c())
        .attr("os_pretty_name", c())
        .attr("architecture", c())
        .attr("kernel", c())
        .attr("init_system", c());
    BTreeMap::from([("vps_host".to_string(), host)])
}

const SCRIPT: &str = r#". /etc/os-release 2>/dev/null || true
echo "hostname $(cat /proc/sys/kernel/hostname)"
echo "os_id ${ID:-}"
echo "os_version_id ${VERSION_ID:-}"
echo "os_pretty_name ${PRETTY_NAME:-}"
echo "architecture $(uname -m)"
echo "kernel $(uname -r)"
if [ -d /run/systemd/system ]; then echo "init_system systemd"; else echo "init_system $(cat /proc/1/comm 2>/dev/null)"; fi
"#;

pub async fn read(conn: &Connection, req: &ReadDataRequest) -> ReadDataResponse {
    if req.type_name != "vps_host" {
        return ReadDataResponse {
            state: Value::Null,
            diagnostics: vec![Diagnostic::error("Unknown data source", format!("The vps provider has no data source {}.", req.type_name))],
        };
    }
    match conn.run(SCRIPT).await {
        Ok(out) if out.status == 0 => {
            let facts: BTreeMap<String, String> =
                out.stdout_text().lines().filter_map(|l| l.split_once(' ')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let get = |k: &str| Value::string(facts.get(k).cloned().unwrap_or_default());
            let mut fields: Vec<(&str, Value)> =
                ["hostname", "os_id", "os_version_id", "os_pretty_name", "architecture", "kernel", "init_system"].iter().map(|k| (*k, get(k))).collect();
            fields.push(("id", get("hostname")));
            ReadDataResponse { state: Value::object(fields), diagnostics: Vec::new() }
        }
        Ok(out) => ReadDataResponse { state: Value::Null, diagnostics: vec![Diagnostic::error("Reading the host failed", out.stderr_text())] },
        Err(d) => ReadDataResponse { state: Value::Null, diagnostics: vec![d] },
    }
}
