//! `vps_certbot_certificate`: a TLS certificate under /etc/letsencrypt/live/NAME, obtained
//! with certbot's webroot method only when the host has none (the site serving
//! `/.well-known/acme-challenge/` from the webroot must be up first), or, with `self_signed`,
//! made with openssl for a host no certificate authority can reach (test hosts). `staging`
//! asks Let's Encrypt's staging authority (`--test-cert`). Read back from the certificate
//! itself: its names, its issuer (self-signed, staging) and its end date; renewals are
//! certbot's (`certbot renew`, as its package's timer or a cron job, with its own deploy hook).
//! The `reload_services` (nginx) are reloaded whenever infra obtains the certificate, so a
//! certificate made again (removed by hand, new domains) is the one served. New domains are obtained
//! in place under the same name; a new name (by default the first domain) is a new
//! certificate: with `create_before_destroy`, the sites move to it before the old one goes.

use super::*;
use crate::probe::Facts;
use crate::transport::quote;
use crate::VpsProvider;
use async_trait::async_trait;
use infra_provider::*;

pub struct CertbotCertificate;

const LIVE: &str = "/etc/letsencrypt/live";

fn live(name: &str) -> String {
    format!("{LIVE}/{name}")
}

/// A DNS name certbot's webroot method can prove: letters, digits, `-` and dots, no wildcard.
fn domain_ok(d: &str) -> bool {
    !d.is_empty() && d.len() <= 253 && !d.starts_with(['-', '.']) && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// The script that makes the certificate when `fullchain.pem` is missing (or `again`: for new
/// domains).
// `Diagnostic` is the provider interface's error: large, and rare.
#[allow(clippy::result_large_err)]
fn obtain(p: &Value, again: bool) -> Result<String, Diagnostic> {
    let name = attrs::req_string(p, "cert_name")?;
    let domains = attrs::strings(p, "domains");
    let first = domains.first().cloned().unwrap_or_else(|| name.clone());
    let make = if attrs::bool(p, "self_signed") == Some(true) {
        let san = domains.iter().map(|d| format!("DNS:{d}")).collect::<Vec<_>>().join(",");
        format!(
            "command -v openssl >/dev/null || {{ echo 'openssl is not installed on the host' >&2; exit 1; }}\nmkdir -p {LIVE}\ntmp=$(mktemp -d {LIVE}/.infra.XXXXXX)\ntrap 'rm -rf -- \"$tmp\"' EXIT\nif ! out=$(openssl req -x509 -newkey rsa:2048 -nodes -days 90 -subj {subj} -addext {san} -keyout \"$tmp/privkey.pem\" -out \"$tmp/fullchain.pem\" 2>&1); then printf '%s\\n' \"$out\" >&2; exit 1; fi\nchmod 0600 \"$tmp/privkey.pem\"\nchmod 0755 \"$tmp\"\ncp -- \"$tmp/fullchain.pem\" \"$tmp/cert.pem\"\nif [ -d \"$live\" ]; then\n  for f in privkey.pem fullchain.pem cert.pem; do mv -f -- \"$tmp/$f\" \"$live/$f\"; done\nelse\n  mv -- \"$tmp\" \"$live\"\nfi\ntrap - EXIT\n",
            subj = quote(&format!("/CN={first}")),
            san = quote(&format!("subjectAltName={san}")),
        )
    } else {
        let webroot = attrs::req_string(p, "webroot")?;
        let mut args = format!("certonly --webroot -w {} --cert-name {} --non-interactive --agree-tos --keep-until-expiring", quote(&webroot), quote(&name));
        for d in &domains {
            args.push_str(&format!(" -d {}", quote(d)));
        }
        match attrs::string(p, "email") {
            Some(e) => args.push_str(&format!(" -m {}", quote(&e))),
            None => args.push_str(" --register-unsafely-without-email"),
        }
        if attrs::bool(p, "staging") == Some(true) {
            args.push_str(" --test-cert");
        }
        format!(
            "command -v certbot >/dev/null || {{ echo 'certbot is not installed on the host (a vps_apt_package \"certbot\" installs it)' >&2; exit 1; }}\nmkdir -p -- {}\ncertbot {args}\n",
            quote(&webroot)
        )
    };
    // The services serving the old certificate (or none) read the new one; a stopped one stays
    // stopped.
    let reload: String = attrs::strings(p, "reload_services").iter().map(|s| format!("systemctl try-reload-or-restart -- {}\n", quote(s))).collect();
    let guard = if again { "true" } else { "[ ! -s \"$live/fullchain.pem\" ]" };
    Ok(format!("live={}\nif {guard}; then\n{make}{reload}fi\n", quote(&live(&name))))
}

#[async_trait]
impl ResourceType<VpsProvider> for CertbotCertificate {
    fn name(&self) -> &'static str {
        "vps_certbot_certificate"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", AttrSchema::computed(Type::String))
            .attr("domains", AttrSchema::required(Type::List(Box::new(Type::String))))
            .attr("cert_name", AttrSchema::optional_computed(Type::String).force_new())
            .attr("email", AttrSchema::optional(Type::String))
            .attr("webroot", AttrSchema::optional(Type::String).default(Value::string("/var/www/html")).force_new())
            .attr("staging", AttrSchema::optional(Type::Bool).default(Value::Bool(false)).force_new())
            .attr("self_signed", AttrSchema::optional(Type::Bool).default(Value::Bool(false)).force_new())
            .attr("reload_services", AttrSchema::optional(Type::List(Box::new(Type::String))))
            .attr("certificate_path", AttrSchema::computed(Type::String))
            .attr("private_key_path", AttrSchema::computed(Type::String))
            .attr("not_after", AttrSchema::computed(Type::String))
    }

    fn validate(&self, c: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let domains = attrs::strings(c, "domains");
        if c.get_attr("domains").is_some_and(Value::is_wholly_known) && domains.is_empty() {
            out.push(Diagnostic::error("No domains", "A certificate names at least one domain.").with_path(attrs::at("domains")));
        }
        for d in domains.iter().filter(|d| !domain_ok(d)) {
            out.push(
                Diagnostic::error(
                    "Invalid domain",
                    format!("{d:?}: a domain is letters, digits, - and dots (certbot's webroot method cannot prove a wildcard)."),
                )
                .with_path(attrs::at("domains")),
            );
        }
        if let Some(n) = attrs::string(c, "cert_name").filter(|n| !domain_ok(n)) {
            out.push(
                Diagnostic::error("Invalid cert_name", format!("{n:?}: a certificate name is letters, digits, - and dots.")).with_path(attrs::at("cert_name")),
            );
        }
        check_path(c, "webroot", &mut out);
        if attrs::string(c, "email").is_some_and(|e| e.contains(char::is_whitespace) || !e.contains('@')) {
            out.push(Diagnostic::error("Invalid email", "email is one address, such as admin@example.com.").with_path(attrs::at("email")));
        }
        if attrs::bool(c, "staging") == Some(true) && attrs::bool(c, "self_signed") == Some(true) {
            out.push(Diagnostic::error(
                "Conflicting certificate modes",
                "Set staging (Let's Encrypt's staging authority) or self_signed (no authority at all), not both.",
            ));
        }
        out
    }

    /// The name (the first domain unless given) is the id, and the paths nginx is given are
    /// known at plan time.
    fn plan(&self, _c: &VpsProvider, prior: Option<&Value>, config: &Value) -> PlanResponse {
        let mut cfg = config.clone();
        if let Value::Object(m) = &mut cfg {
            if m.get("cert_name").is_none_or(Value::is_null) {
                if let Some(first) = m.get("domains").and_then(|d| d.as_seq()).and_then(|l| l.first()).cloned() {
                    m.insert("cert_name".into(), first);
                }
            }
            if let Some(name) = m.get("cert_name").and_then(Value::as_str).map(str::to_string) {
                m.insert("certificate_path".into(), Value::string(format!("{}/fullchain.pem", live(&name))));
                m.insert("private_key_path".into(), Value::string(format!("{}/privkey.pem", live(&name))));
            } else if m.get("cert_name").is_some_and(Value::is_unknown) {
                m.insert("certificate_path".into(), Value::Unknown);
                m.insert("private_key_path".into(), Value::Unknown);
            }
        }
        plan_with_id(&self.schema(), prior, &cfg, "cert_name")
    }

    async fn create(&self, c: &VpsProvider, planned: &Value, _token: &str) -> Outcome<Value> {
        let name = attrs::req_string(planned, "cert_name")?;
        let script = obtain(planned, false)?;
        run(c.writing(self.name(), planned).await?, &format!("Obtaining the certificate {name}"), &script).await?;
        Ok(planned.clone())
    }

    async fn read_many(&self, c: &VpsProvider, objects: &[Value], _full: bool) -> Outcome<Vec<Option<Value>>> {
        c.read(self, objects).await
    }

    /// New domains: the certificate is obtained again under its name (certbot replaces the
    /// lineage's names). A new `email`: certbot's account gets the new address.
    async fn update(&self, c: &VpsProvider, prior: &Value, planned: &Value) -> Outcome<()> {
        if changed(Some(prior), planned, "domains") {
            let script = obtain(planned, true)?;
            run(c.writing(self.name(), planned).await?, "Obtaining the certificate for its new domains", &script).await?;
        }
        let certbot = attrs::bool(planned, "self_signed") != Some(true);
        if certbot && changed(Some(prior), planned, "email") {
            if let Some(e) = attrs::string(planned, "email") {
                let script = format!("certbot update_account --non-interactive -m {}\n", quote(&e));
                run(c.writing(self.name(), planned).await?, "Updating certbot's account", &script).await?;
            }
        }
        Ok(())
    }

    /// certbot forgets a certificate it obtained (`certbot delete`); a self-signed one is
    /// removed, with the directories it made when nothing else is left in them.
    async fn delete(&self, c: &VpsProvider, prior: &Value) -> Outcome<()> {
        let name = attrs::req_string(prior, "cert_name")?;
        let script = if attrs::bool(prior, "self_signed") == Some(true) {
            format!("rm -rf -- {}\nrmdir {LIVE} /etc/letsencrypt 2>/dev/null || true\n", quote(&live(&name)))
        } else {
            format!(
                "if [ -e {conf} ] && command -v certbot >/dev/null; then certbot delete --non-interactive --cert-name {n}; fi\n",
                conf = quote(&format!("/etc/letsencrypt/renewal/{name}.conf")),
                n = quote(&name)
            )
        };
        run(c.writing(self.name(), prior).await?, "Deleting vps_certbot_certificate", &script).await?;
        Ok(())
    }

    fn import_seed(&self, id: &str) -> Outcome<Value> {
        Ok(Value::object([("id", Value::string(id)), ("cert_name", Value::string(id))]))
    }
}

impl Kind for CertbotCertificate {
    fn probe(&self, v: &Value) -> String {
        let name = attrs::string(v, "cert_name").unwrap_or_default();
        format!(
            "cert '' {}\nprintf 'webroot %s\\n' \"$(sed -n 's/^webroot_path *= *\\([^,]*\\),*$/\\1/p' {} 2>/dev/null | head -n1)\"",
            quote(&format!("{}/fullchain.pem", live(&name))),
            quote(&format!("/etc/letsencrypt/renewal/{name}.conf"))
        )
    }

    fn read(&self, known: &Value, facts: &Facts) -> Option<Value> {
        if !exists(facts, "") {
            return None;
        }
        let name = attrs::string(known, "cert_name").unwrap_or_default();
        let g = |k: &str| facts.get(k).map(String::as_str).unwrap_or_default();
        let names: Vec<String> = g("names").split(',').filter_map(|n| n.strip_prefix("DNS:")).map(str::to_string).collect();
        let recorded = attrs::strings(known, "domains");
        let same = |a: &[String], b: &[String]| {
            let (mut a, mut b) = (a.to_vec(), b.to_vec());
            a.sort();
            b.sort();
            a == b
        };
        // The configured order stands when the certificate names the same domains.
        let domains = if same(&names, &recorded) { recorded } else { names };
        let mut fields = vec![
            ("id", Value::string(name.clone())),
            ("domains", Value::List(domains.into_iter().map(Value::string).collect())),
            ("certificate_path", Value::string(format!("{}/fullchain.pem", live(&name)))),
            ("private_key_path", Value::string(format!("{}/privkey.pem", live(&name)))),
            ("not_after", Value::string(g("not_after"))),
            ("self_signed", Value::Bool(!g("issuer").is_empty() && g("issuer") == g("subject"))),
            ("staging", Value::Bool(g("issuer").contains("(STAGING)"))),
        ];
        if !g("webroot").is_empty() {
            fields.push(("webroot", Value::string(g("webroot"))));
        }
        Some(with(known, fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(pairs: &[(&str, &str)]) -> Facts {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_certificate_is_read_from_its_names_and_issuer() {
        let known = Value::object([
            ("cert_name", Value::string("gw2.example.com")),
            ("domains", Value::List(vec![Value::string("www.gw2.example.com"), Value::string("gw2.example.com")])),
        ]);
        let self_signed = facts(&[
            ("exists", "1"),
            ("issuer", "CN=gw2.example.com"),
            ("subject", "CN=gw2.example.com"),
            ("names", "DNS:gw2.example.com,DNS:www.gw2.example.com"),
            ("not_after", "Mar  1 16:00:00 2027 GMT"),
        ]);
        let v = CertbotCertificate.read(&known, &self_signed).unwrap();
        assert_eq!(attrs::strings(&v, "domains"), ["www.gw2.example.com", "gw2.example.com"], "the configured order stands");
        assert_eq!((attrs::bool(&v, "self_signed"), attrs::bool(&v, "staging")), (Some(true), Some(false)));
        assert_eq!(attrs::string(&v, "certificate_path").as_deref(), Some("/etc/letsencrypt/live/gw2.example.com/fullchain.pem"));
        let staging = facts(&[
            ("exists", "1"),
            ("issuer", "CN=(STAGING) Pseudo Plumbus R11,O=(STAGING) Let's Encrypt,C=US"),
            ("subject", "CN=gw2.example.com"),
            ("names", "DNS:gw2.example.com"),
            ("webroot", "/srv/acme"),
        ]);
        let v = CertbotCertificate.read(&known, &staging).unwrap();
        assert_eq!(attrs::strings(&v, "domains"), ["gw2.example.com"], "a certificate for other names is drift");
        assert_eq!((attrs::bool(&v, "self_signed"), attrs::bool(&v, "staging")), (Some(false), Some(true)));
        assert_eq!(attrs::string(&v, "webroot").as_deref(), Some("/srv/acme"));
        assert!(CertbotCertificate.read(&known, &facts(&[("exists", "0")])).is_none());
    }

    #[test]
    fn the_name_and_paths_are_known_at_plan_time_and_certbot_runs_only_when_missing() {
        let cfg = Value::object([
            ("domains", Value::List(vec![Value::string("a.example")])),
            ("email", Value::string("ops@a.example")),
            ("reload_services", Value::List(vec![Value::string("nginx")])),
        ]);
        assert!(CertbotCertificate.validate(&cfg).is_empty());
        let planned = CertbotCertificate.plan(&VpsProvider::unconfigured(), None, &cfg).planned;
        assert_eq!(attrs::string(&planned, "id").as_deref(), Some("a.example"));
        assert_eq!(attrs::string(&planned, "private_key_path").as_deref(), Some("/etc/letsencrypt/live/a.example/privkey.pem"));
        let script = obtain(&planned, false).unwrap();
        assert!(script.starts_with("live='/etc/letsencrypt/live/a.example'\nif [ ! -s \"$live/fullchain.pem\" ]; then\n"), "{script}");
        assert!(
            script.contains("certbot certonly --webroot -w '/var/www/html' --cert-name 'a.example'") && script.contains(" -d 'a.example' -m 'ops@a.example'"),
            "{script}"
        );
        assert!(!script.contains("--test-cert") && !script.contains("openssl"), "{script}");
        assert!(script.ends_with("systemctl try-reload-or-restart -- 'nginx'\nfi\n"), "nginx reloads only when a certificate was obtained: {script}");
        let bad =
            Value::object([("domains", Value::List(vec![Value::string("*.a.example")])), ("staging", Value::Bool(true)), ("self_signed", Value::Bool(true))]);
        assert_eq!(CertbotCertificate.validate(&bad).len(), 2);
    }
}
