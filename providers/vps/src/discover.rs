//! Discovery for drift reports: what a managed host holds of each type, managed or not.
//!
//! The scope is the host itself (a provider instance is one host): as soon as a stack manages
//! any object there, `infra drift` lists the host's systemd units, nginx sites, cron files, UFW
//! rules and compose projects. One script reads them all in one round trip, kept for the
//! provider's lifetime, and each type's `discover` answers from it. Each object's `id` is the id
//! the type records in state (a unit, site or cron file by name, a rule as `allow tcp 22 any`, a
//! compose project by its directory), so the engine tells managed from unmanaged by id.
//!
//! What Debian packages ship (files `dpkg` owns: nginx's `default` site, cron's `e2scrub_all`,
//! `php`, `sysstat`; unit symlinks into /lib and /usr/lib, which are `systemctl enable` links or
//! aliases of packaged units) is left out unless `include_defaults`, and so are system accounts
//! and groups (ids below 1000, and `nobody`/`nogroup`: Debian's base and its packages make
//! those). The group useradd made with an account (its name and the account's primary gid) is
//! part of the account, never listed on its own: deleting the account deletes it.

use infra_provider::{DiscoverRequest, DiscoveryScopeRequest, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The types a host lists, in the order the scope asks for them.
pub const TYPES: &[&str] = &["vps_systemd_unit", "vps_nginx_site", "vps_cron_job", "vps_ufw_rule", "vps_compose_stack", "vps_user", "vps_group"];

/// One line per object, tab-separated and tagged by type; `owned` lines are the paths dpkg
/// installed under the directories listed. Exits 0 whatever is missing on the host.
pub const SCRIPT: &str = r#"export LC_ALL=C
find /etc/systemd/system -mindepth 1 -maxdepth 1 \( -type f -o -type l \) -printf 'unit\t%f\t%l\n' 2>/dev/null
find /etc/nginx/sites-available /etc/nginx/sites-enabled -mindepth 1 -maxdepth 1 \( -type f -o -type l \) -printf 'site\t%h\t%f\n' 2>/dev/null
find /etc/cron.d -mindepth 1 -maxdepth 1 -type f -printf 'cron\t%f\n' 2>/dev/null
grep -h '^### tuple ###' /etc/ufw/user.rules 2>/dev/null | sed 's/^/ufw\t/'
if command -v ufw >/dev/null 2>&1; then printf 'firewall\t%s\n' "$(grep -c '^ENABLED=yes' /etc/ufw/ufw.conf 2>/dev/null)"; fi
if command -v docker >/dev/null 2>&1; then
  docker ps -a --format '{{.Label "com.docker.compose.project.working_dir"}}	{{.Label "com.docker.compose.project"}}	{{.Label "com.docker.compose.project.config_files"}}' 2>/dev/null | sed 's/^/compose\t/'
fi
getent passwd | awk -F: '{ printf "user\t%s\t%s\t%s\n", $1, $3, $4 }'
getent group | awk -F: '{ printf "group\t%s\t%s\n", $1, $3 }'
cat /var/lib/dpkg/info/*.list 2>/dev/null | grep -E '^/etc/(systemd/system|nginx/sites-available|nginx/sites-enabled|cron\.d)/[^/]+$' | sed 's/^/owned\t/'
"#;

/// The listing script, with the files and directories under `paths` (regular files up to
/// 1 MiB, directories, one file system, no symlinks) when asked.
pub fn script(paths: &[String]) -> String {
    let mut s = SCRIPT.to_string();
    for p in paths {
        s.push_str(&format!(
            "find {} -xdev \\( -type d -o \\( -type f -size -1048577c \\) \\) -printf 'path\\t%y\\t%p\\n' 2>/dev/null\n",
            crate::transport::quote(p)
        ));
    }
    s.push_str("true\n");
    s
}

/// The `paths` of a discovery filter: the prefixes `infra discover vps --path` lists files
/// under, one a line.
pub fn paths(filter: &BTreeMap<String, String>) -> Vec<String> {
    filter.get("paths").map(|p| p.lines().map(str::trim).filter(|l| !l.is_empty()).map(|l| l.trim_end_matches('/').to_string()).collect()).unwrap_or_default()
}

/// Whether the listing is for an import (`infra discover vps`): only what can be imported as
/// it is (a site without its file in sites-available cannot).
pub fn for_import(filter: &BTreeMap<String, String>) -> bool {
    filter.get("for_import").is_some_and(|v| v == "true")
}

/// An object found on the host: its id, a name, whether a package ships it, and whether it
/// can be imported as it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub id: String,
    pub name: String,
    pub default: bool,
    pub importable: bool,
}

/// Everything the script listed, per type.
#[derive(Clone, Debug, Default)]
pub struct Inventory(pub BTreeMap<&'static str, Vec<Found>>);

pub fn scope(req: &DiscoveryScopeRequest) -> Vec<DiscoverRequest> {
    if req.managed.is_empty() {
        return Vec::new();
    }
    let mut filter = BTreeMap::new();
    if req.include_defaults {
        filter.insert("include_defaults".to_string(), "true".to_string());
    }
    TYPES.iter().map(|t| DiscoverRequest { type_name: t.to_string(), filter: filter.clone() }).collect()
}

pub fn include_defaults(filter: &BTreeMap<String, String>) -> bool {
    filter.get("include_defaults").is_some_and(|v| v == "true")
}

/// A UFW tuple line (`allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=…`) as the rule's id
/// (`allow tcp 22 any`), or `None` for a line that is not a port rule.
fn ufw_id(tuple: &str) -> Option<String> {
    let f: Vec<&str> = tuple.trim_start_matches("### tuple ###").split_whitespace().collect();
    let (action, proto, port, source) = (f.first()?, f.get(1)?, f.get(2)?, f.get(5)?);
    let from = if matches!(*source, "0.0.0.0/0" | "::/0") { "any" } else { source };
    Some(format!("{action} {proto} {port} {from}"))
}

/// The script's output, read into objects. Unknown or malformed lines are skipped.
pub fn parse(output: &str) -> Inventory {
    let mut owned = BTreeSet::new();
    let mut units = Vec::new();
    let mut sites = BTreeSet::new();
    let mut available = BTreeSet::new();
    let mut firewall = None;
    let mut files = BTreeSet::new();
    let mut dirs = BTreeSet::new();
    let mut crons = Vec::new();
    let mut rules = BTreeSet::new();
    let mut stacks: BTreeMap<String, (String, bool)> = BTreeMap::new();
    let mut users: Vec<(String, i64, i64)> = Vec::new();
    let mut groups: Vec<(String, i64)> = Vec::new();
    for line in output.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["owned", path] => {
                owned.insert(path.to_string());
            }
            ["unit", name, target] if !name.is_empty() => units.push((name.to_string(), target.to_string())),
            ["site", dir, name] if !name.is_empty() => {
                sites.insert(name.to_string());
                if *dir == "/etc/nginx/sites-available" {
                    available.insert(name.to_string());
                }
            }
            ["firewall", enabled] => firewall = Some(*enabled == "1"),
            ["path", "f", path] if path.starts_with('/') => {
                files.insert(path.to_string());
            }
            ["path", "d", path] if path.starts_with('/') => {
                dirs.insert(path.to_string());
            }
            ["cron", name] if !name.is_empty() && !name.starts_with('.') => crons.push(name.to_string()),
            ["ufw", tuple] => {
                if let Some(id) = ufw_id(tuple) {
                    rules.insert(id);
                }
            }
            ["user", name, uid, gid] if !name.is_empty() => {
                if let (Ok(uid), Ok(gid)) = (uid.parse(), gid.parse()) {
                    users.push((name.to_string(), uid, gid));
                }
            }
            ["group", name, gid] if !name.is_empty() => {
                if let Ok(gid) = gid.parse() {
                    groups.push((name.to_string(), gid));
                }
            }
            ["compose", dir, project, rest @ ..] if !dir.is_empty() => {
                // Importable when Compose read the one file it looks up in the directory
                // (what `vps_compose_stack` reads and writes), not files named with `-f`
                // elsewhere or several merged. Compose v2 records absolute paths, the
                // standalone docker-compose names relative to the directory.
                let files = rest.first().copied().unwrap_or("");
                let own = crate::kinds::COMPOSE_FILES.iter().any(|n| files == *n || files == format!("{}/{n}", dir.trim_end_matches('/')));
                let entry = stacks.entry(dir.to_string()).or_insert((project.to_string(), true));
                entry.1 &= own;
            }
            _ => {}
        }
    }
    let found = |id: &str, default: bool| Found { id: id.to_string(), name: id.to_string(), default, importable: true };
    let mut inv = BTreeMap::new();
    inv.insert(
        "vps_systemd_unit",
        units
            .iter()
            .map(|(name, target)| {
                // A symlink is an alias or an enable link of a packaged unit, a mask (to
                // /dev/null) or a `systemctl link` of a unit file kept elsewhere: not a unit
                // file of its own.
                let link = !target.is_empty();
                found(name, link || owned.contains(&format!("/etc/systemd/system/{name}")))
            })
            .collect(),
    );
    inv.insert(
        "vps_nginx_site",
        sites
            .iter()
            .map(|name| {
                let packaged = owned.contains(&format!("/etc/nginx/sites-available/{name}")) || owned.contains(&format!("/etc/nginx/sites-enabled/{name}"));
                Found { importable: available.contains(name), ..found(name, packaged) }
            })
            .collect(),
    );
    inv.insert("vps_cron_job", crons.iter().map(|name| found(name, owned.contains(&format!("/etc/cron.d/{name}")))).collect());
    inv.insert("vps_ufw_rule", rules.iter().map(|id| found(id, false)).collect());
    inv.insert(
        "vps_compose_stack",
        stacks
            .iter()
            .map(|(dir, (project, own))| Found {
                id: dir.clone(),
                name: if project.is_empty() { dir.clone() } else { project.clone() },
                default: false,
                importable: *own,
            })
            .collect(),
    );
    // The firewall itself, when it is on or holds rules (an idle, installed UFW is nothing
    // anyone configured).
    let configured = firewall == Some(true) || (firewall.is_some() && !rules.is_empty());
    inv.insert("vps_ufw", if configured { vec![found("ufw", false)] } else { Vec::new() });
    let system = crate::kinds::is_system_id;
    inv.insert("vps_user", users.iter().map(|(name, uid, _)| found(name, system(*uid))).collect());
    let private = |name: &str, gid: i64| users.iter().any(|(u, _, g)| u == name && *g == gid);
    inv.insert("vps_group", groups.iter().filter(|(name, gid)| !private(name, *gid)).map(|(name, gid)| found(name, system(*gid))).collect());
    inv.insert("vps_directory", dirs.iter().map(|p| found(p, false)).collect());
    inv.insert("vps_file", files.iter().map(|p| found(p, false)).collect());
    Inventory(inv)
}

impl Inventory {
    /// The objects of one type as discovery reports them: `id`, `name`, and what an import
    /// by that id starts from (the type's import seed), so that reading the objects listed
    /// (one `prefetch`) answers their imports; for an import, files with their content unknown.
    pub fn objects(&self, type_name: &str, include_defaults: bool, for_import: bool) -> Vec<Value> {
        let seed = |id: &str| crate::kinds::probed(type_name).and_then(|k| k.import_seed(id).ok()).unwrap_or(Value::Null);
        self.0
            .get(type_name)
            .map(|v| {
                v.iter()
                    .filter(|f| (include_defaults || !f.default) && (!for_import || f.importable))
                    .map(|f| {
                        let mut m = match seed(&f.id) {
                            Value::Object(m) => m,
                            _ => Default::default(),
                        };
                        m.insert("id".into(), Value::string(f.id.clone()));
                        m.insert("name".into(), Value::string(f.name.clone()));
                        if type_name == "vps_compose_stack" {
                            // The project as it runs, not the directory's default name.
                            m.insert("project_name".into(), Value::string(f.name.clone()));
                        }
                        if for_import && type_name == "vps_file" {
                            // Read for `infra discover vps`: a file that looks secret is
                            // recorded without its content (see `kinds::file`).
                            m.insert("content".into(), Value::Unknown);
                        }
                        Value::Object(m)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use infra_provider::attrs;

    fn ids(inv: &Inventory, t: &str, defaults: bool) -> Vec<String> {
        inv.objects(t, defaults, false).iter().filter_map(|o| attrs::string(o, "id")).collect()
    }

    const OUTPUT: &str = "unit\tinfra-app.service\t\n\
unit\tsshd.service\t/lib/systemd/system/ssh.service\n\
unit\tby-hand.service\t\n\
unit\tmasked.service\t/dev/null\n\
unit\tpackaged.service\t\n\
site\t/etc/nginx/sites-available\tdefault\n\
site\t/etc/nginx/sites-enabled\tdefault\n\
site\t/etc/nginx/sites-available\tapp.conf\n\
site\t/etc/nginx/sites-enabled\tapp.conf\n\
site\t/etc/nginx/sites-enabled\tonly-enabled\n\
cron\te2scrub_all\n\
cron\t.placeholder\n\
cron\tinfra-backup\n\
ufw\t### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=696e667261\n\
ufw\t### tuple ### deny udp 53 0.0.0.0/0 any 10.0.0.0/8 in\n\
ufw\t### tuple ### garbage\n\
compose\t/srv/web\tweb\t/srv/web/docker-compose.yml\n\
compose\t/srv/web\tweb\tdocker-compose.yml\n\
compose\t/srv/merged\tmerged\t/srv/merged/compose.yaml,/srv/merged/compose.override.yaml\n\
compose\t/srv/old\told\n\
compose\t\t\n\
user\troot\t0\t0\n\
user\tnobody\t65534\t65534\n\
user\troddy\t1001\t1001\n\
user\tdeploy\t1002\t27\n\
group\troot\t0\n\
group\tsudo\t27\n\
group\troddy\t1001\n\
group\tdeploy\t1003\n\
group\tnogroup\t65534\n\
owned\t/etc/systemd/system/packaged.service\n\
owned\t/etc/nginx/sites-available/default\n\
owned\t/etc/cron.d/e2scrub_all\n\
nonsense line\n\
unit\n";

    #[test]
    fn the_listing_is_read_into_ids_as_state_records_them_and_packaged_files_are_defaults() {
        let inv = parse(OUTPUT);
        assert_eq!(ids(&inv, "vps_systemd_unit", false), ["infra-app.service", "by-hand.service"]);
        assert_eq!(ids(&inv, "vps_systemd_unit", true).len(), 5);
        assert_eq!(ids(&inv, "vps_nginx_site", false), ["app.conf", "only-enabled"]);
        assert_eq!(ids(&inv, "vps_nginx_site", true), ["app.conf", "default", "only-enabled"]);
        assert_eq!(ids(&inv, "vps_cron_job", false), ["infra-backup"]);
        assert_eq!(ids(&inv, "vps_cron_job", true), ["e2scrub_all", "infra-backup"]);
        assert_eq!(ids(&inv, "vps_ufw_rule", false), ["allow tcp 22 any", "deny udp 53 10.0.0.0/8"]);
        let stacks = inv.objects("vps_compose_stack", false, false);
        assert_eq!(stacks.len(), 3, "drift lists every project");
        let importable = inv.objects("vps_compose_stack", false, true);
        assert_eq!(importable.len(), 1, "only a project read from its directory's own compose file is imported: {importable:?}");
        assert_eq!(attrs::string(&importable[0], "project_name").as_deref(), Some("web"));
        let stacks: Vec<Value> = stacks.into_iter().filter(|s| attrs::string(s, "id").as_deref() == Some("/srv/web")).collect();
        assert_eq!(attrs::string(&stacks[0], "id").as_deref(), Some("/srv/web"));
        assert_eq!(attrs::string(&stacks[0], "name").as_deref(), Some("web"));
        assert!(inv.objects("vps_file", true, false).is_empty());
        assert_eq!(ids(&inv, "vps_user", false), ["roddy", "deploy"], "not root nor nobody");
        assert_eq!(ids(&inv, "vps_user", true), ["root", "nobody", "roddy", "deploy"]);
        assert_eq!(ids(&inv, "vps_group", false), ["deploy"], "roddy's group is roddy's; deploy's primary group is sudo");
        assert_eq!(ids(&inv, "vps_group", true), ["sudo", "deploy", "nogroup"], "root's group is root's");
        assert!(parse("").objects("vps_cron_job", true, false).is_empty());
    }

    #[test]
    fn the_scope_is_the_host_when_the_stack_manages_anything_there() {
        assert!(scope(&DiscoveryScopeRequest::default()).is_empty());
        let req = DiscoveryScopeRequest { managed: vec![("vps_file".into(), Value::Null)], region: false, include_defaults: true };
        let s = scope(&req);
        assert_eq!(s.iter().map(|r| r.type_name.as_str()).collect::<Vec<_>>(), TYPES);
        assert!(s.iter().all(|r| include_defaults(&r.filter)));
    }
}
