//! The `vps_host` data source: what the host is (OS release, hostname, architecture, kernel,
//! init system), read in one round trip.

use crate::VpsProvider;
use async_trait::async_trait;
use infra_provider::*;
use std::collections::BTreeMap;

pub static DATA_SOURCES: &[&dyn DataSource<VpsProvider>] = &[&Host];

pub struct Host;

const SCRIPT: &str = r#". /etc/os-release 2>/dev/null || true
echo "hostname $(cat /proc/sys/kernel/hostname)"
echo "os_id ${ID:-}"
echo "os_version_id ${VERSION_ID:-}"
echo "os_pretty_name ${PRETTY_NAME:-}"
echo "architecture $(uname -m)"
echo "kernel $(uname -r)"
if [ -d /run/systemd/system ]; then echo "init_system systemd"; else echo "init_system $(cat /proc/1/comm 2>/dev/null)"; fi
"#;

const FIELDS: [&str; 7] = ["hostname", "os_id", "os_version_id", "os_pretty_name", "architecture", "kernel", "init_system"];

#[async_trait]
impl DataSource<VpsProvider> for Host {
    fn name(&self) -> &'static str {
        "vps_host"
    }

    fn schema(&self) -> Schema {
        FIELDS.iter().fold(Schema::new().attr("id", AttrSchema::computed(Type::String)), |s, k| s.attr(k, AttrSchema::computed(Type::String)))
    }

    async fn read(&self, c: &VpsProvider, _config: &Value) -> Outcome<Value> {
        let out = c.connection().await?.run(SCRIPT).await?;
        if out.status != 0 {
            return Err(Diagnostic::error("Reading the host failed", out.stderr_text()).into());
        }
        let facts: BTreeMap<String, String> =
            out.stdout_text().lines().filter_map(|l| l.split_once(' ')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let get = |k: &str| Value::string(facts.get(k).cloned().unwrap_or_default());
        let mut fields: Vec<(&str, Value)> = FIELDS.iter().map(|k| (*k, get(k))).collect();
        fields.push(("id", get("hostname")));
        Ok(Value::object(fields))
    }
}
