//! `vps_user`: a local account made with useradd (its home made too unless it is a system
//! account), changed in place with usermod, read back from the passwd database. Deleting it
//! removes the account (and the group of its name useradd made with it) and its home only when
//! nothing but the skeleton files is left there: what the account's programs wrote is theirs.

use super::*;
use crate::probe::Facts;
use crate::transport::quote;
use crate::VpsProvider;
use async_trait::async_trait;
use infra_provider::*;

pub struct User;

/// The first uid (and gid) of a regular account on Debian (`UID_MIN` in /etc/login.defs): below
/// it, a system account.
pub const FIRST_REGULAR_ID: i64 = 1000;

/// `nobody` and `nogroup`: Debian's, whatever their number says.
pub const NOBODY: i64 = 65534;

/// The usermod / useradd options for what the configuration says of the account (what it
/// leaves unset, the host decides).
fn options(p: &Value) -> String {
    let mut o = String::new();
    if let Some(uid) = attrs::int(p, "uid") {
        o.push_str(&format!(" -u {uid}"));
    }
    if let Some(gid) = attrs::int(p, "gid") {
        o.push_str(&format!(" -g {gid}"));
    }
    if let Some(home) = attrs::string(p, "home") {
        o.push_str(&format!(" -d {}", quote(&home)));
    }
    if let Some(shell) = attrs::string(p, "shell") {
        o.push_str(&format!(" -s {}", quote(&shell)));
    }
    o.push_str(&format!(" -G {}", quote(&attrs::strings(p, "groups").join(","))));
    o
}

impl User {
    /// Makes the account, or brings the one of that name to the configuration (an apply
    /// stopped after useradd converges on the next run).
    async fn write(&self, c: &VpsProvider, p: &Value) -> Outcome<()> {
        let name = attrs::req_string(p, "name")?;
        let q = quote(&name);
        let system = attrs::bool(p, "system") == Some(true);
        let create = if system { "useradd -r" } else { "useradd -m" };
        // Without a gid, useradd makes a group of the account's name; one that exists already
        // (a vps_group of that name) becomes its primary group instead of an error.
        let group = if attrs::int(p, "gid").is_none() { format!("if getent group {q} >/dev/null; then set -- -g {q}; fi\n") } else { String::new() };
        let script = format!("if getent passwd {q} >/dev/null; then\n  usermod{o} {q}\nelse\n  {group}  {create}{o} \"$@\" {q}\nfi\n", o = options(p));
        run(c.writing(self.name(), p).await?, &format!("Creating the account {name}"), &script).await?;
        Ok(())
    }
}

#[async_trait]
impl ResourceType<VpsProvider> for User {
    fn name(&self) -> &'static str {
        "vps_user"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("name", AttrSchema::required(Type::String).force_new())
            .attr("system", AttrSchema::optional(Type::Bool).default(Value::Bool(false)).force_new())
            .attr("uid", AttrSchema::optional_computed(Type::Number))
            .attr("gid", AttrSchema::optional_computed(Type::Number))
            .attr("home", AttrSchema::optional_computed(Type::String))
            .attr("shell", AttrSchema::optional_computed(Type::String))
            .attr("groups", AttrSchema::optional(Type::Set(Box::new(Type::String))).default(Value::set(Vec::new())))
    }

    fn validate(&self, c: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        check_account_name(c, &mut out);
        check_path(c, "home", &mut out);
        check_path(c, "shell", &mut out);
        check_system_id(c, "uid", &mut out);
        for g in attrs::strings(c, "groups") {
            if !account_name_ok(&g) {
                out.push(Diagnostic::error("Invalid group name", format!("{g:?} is not a group name.")).with_path(attrs::at("groups")));
            }
        }
        out
    }

    fn plan(&self, _c: &VpsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        plan_with_id(&self.schema(), prior, config, "name")
    }

    async fn create(&self, c: &VpsProvider, planned: &Value, _token: &str) -> Outcome<Value> {
        self.write(c, planned).await?;
        Ok(planned.clone())
    }

    async fn read_many(&self, c: &VpsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        c.read(self, objects).await
    }

    async fn update(&self, c: &VpsProvider, _prior: &Value, planned: &Value) -> Outcome<()> {
        self.write(c, planned).await
    }

    async fn delete(&self, c: &VpsProvider, prior: &Value) -> Outcome<()> {
        let name = attrs::req_string(prior, "name")?;
        let q = quote(&name);
        let home = if attrs::bool(prior, "system") == Some(true) {
            String::new()
        } else {
            // The home useradd -m made: gone when only unchanged skeleton files are left.
            "if [ -d \"$home\" ] && [ \"$home\" != / ]; then\n  for f in /etc/skel/.[!.]* /etc/skel/*; do\n    [ -f \"$f\" ] || continue\n    n=${f##*/}\n    if cmp -s -- \"$f\" \"$home/$n\"; then rm -f -- \"$home/$n\"; fi\n  done\n  rmdir -- \"$home\" 2>/dev/null || true\nfi\n".to_string()
        };
        let script = format!("if getent passwd {q} >/dev/null; then\n  home=$(getent passwd {q} | cut -d: -f6)\n  userdel {q}\n{home}fi\n");
        run(c.writing(self.name(), prior).await?, "Deleting vps_user", &script).await?;
        Ok(())
    }

    /// Accounts people made (uid 1000 and up; see `crate::discover`).
    async fn discover(&self, c: &VpsProvider, filter: &std::collections::BTreeMap<String, String>) -> Outcome<Vec<Value>> {
        c.discovered(self.name(), filter).await
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id)), ("name", Value::string(id))]))
    }
}

impl Kind for User {
    fn probe(&self, v: &Value) -> String {
        format!("user '' {}", quote(&attrs::string(v, "name").unwrap_or_default()))
    }

    fn read(&self, known: &Value, facts: &Facts) -> Option<Value> {
        if !exists(facts, "") {
            return None;
        }
        let entry: Vec<&str> = facts.get("passwd").map(|p| p.split(':').collect()).unwrap_or_default();
        let field = |i: usize| entry.get(i).copied().unwrap_or_default();
        let number = |i: usize| field(i).parse::<i64>().ok();
        let primary = facts.get("primary").map(String::as_str).unwrap_or_default();
        let groups: Vec<Value> = facts.get("groups").map(|g| g.split_whitespace().filter(|g| *g != primary).map(Value::string).collect()).unwrap_or_default();
        let uid = number(2);
        Some(with(
            known,
            vec![
                ("id", Value::string(attrs::string(known, "name").unwrap_or_default())),
                ("uid", uid.map(Value::int).unwrap_or(Value::Null)),
                ("gid", number(3).map(Value::int).unwrap_or(Value::Null)),
                ("home", Value::string(field(5))),
                ("shell", Value::string(field(6))),
                ("system", Value::Bool(uid.is_some_and(is_system_id))),
                ("groups", Value::set(groups)),
            ],
        ))
    }
}

/// Whether a uid or gid is one Debian gives system accounts and groups.
pub fn is_system_id(id: i64) -> bool {
    id < FIRST_REGULAR_ID || id == NOBODY
}

/// An account or group name as useradd takes it: a lowercase letter or `_` first, then
/// lowercase letters, digits, `_` and `-`, at most 32 (so never a number, which getent would
/// read as an id).
pub fn account_name_ok(n: &str) -> bool {
    n.len() <= 32
        && n.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

pub fn check_account_name(c: &Value, out: &mut Vec<Diagnostic>) {
    if let Some(n) = attrs::string(c, "name").filter(|n| !account_name_ok(n)) {
        out.push(
            Diagnostic::error(
                "Invalid name",
                format!("{n:?}: an account or group name is a lowercase letter or _, then lowercase letters, digits, _ and -, at most 32."),
            )
            .with_path(attrs::at("name")),
        );
    }
}

/// A given id agrees with `system` (Debian gives system accounts ids below 1000), or every
/// read would plan a replacement.
pub fn check_system_id(c: &Value, key: &str, out: &mut Vec<Diagnostic>) {
    if let Some(id) = attrs::int(c, key) {
        let system = attrs::bool(c, "system") == Some(true);
        if !(0..=4_294_967_294).contains(&id) {
            out.push(Diagnostic::error(format!("Invalid {key}"), format!("{id} is not a {key}.")).with_path(attrs::at(key)));
        } else if system != is_system_id(id) {
            let what = if system { "a system one needs one below 1000" } else { "below 1000 it is a system one: set system = true" };
            out.push(Diagnostic::error(format!("Invalid {key}"), format!("{key} {id} does not fit the account: {what}.")).with_path(attrs::at(key)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passwd_entry_reads_into_the_account_without_its_primary_group() {
        let mut facts = Facts::new();
        facts.insert("exists".into(), "1".into());
        facts.insert("passwd".into(), "roddy:x:1001:1002:Roddy,,,:/home/roddy:/bin/bash".into());
        facts.insert("primary".into(), "roddy".into());
        facts.insert("groups".into(), "roddy adm www-data".into());
        let v = User.read(&User.import_seed("roddy").unwrap(), &facts).unwrap();
        assert_eq!((attrs::int(&v, "uid"), attrs::int(&v, "gid")), (Some(1001), Some(1002)));
        assert_eq!(attrs::string(&v, "home").as_deref(), Some("/home/roddy"));
        assert_eq!(attrs::string(&v, "shell").as_deref(), Some("/bin/bash"));
        assert_eq!(attrs::bool(&v, "system"), Some(false));
        assert_eq!(attrs::strings(&v, "groups"), ["adm", "www-data"]);
        facts.insert("exists".into(), "0".into());
        assert!(User.read(&v, &facts).is_none());
    }

    #[test]
    fn names_and_ids_are_checked() {
        let cfg = |name: &str, uid: Option<i64>, system: bool| {
            let mut v = vec![("name", Value::string(name)), ("system", Value::Bool(system))];
            if let Some(u) = uid {
                v.push(("uid", Value::int(u)));
            }
            User.validate(&Value::object(v))
        };
        assert!(cfg("roddy", None, false).is_empty());
        assert!(cfg("_svc-1", Some(999), true).is_empty());
        assert_eq!(cfg("1000", None, false).len(), 1, "a number is read as an id");
        assert_eq!(cfg("Roddy", None, false).len(), 1);
        assert_eq!(cfg("roddy;rm", None, false).len(), 1);
        assert_eq!(cfg("roddy", Some(500), false).len(), 1);
        assert_eq!(cfg("roddy", Some(1500), true).len(), 1);
    }

    #[test]
    fn options_say_only_what_is_configured() {
        let v = Value::object([("name", Value::string("roddy")), ("shell", Value::string("/bin/bash")), ("groups", Value::set(vec![Value::string("adm")]))]);
        assert_eq!(options(&v), " -s '/bin/bash' -G 'adm'");
    }
}
