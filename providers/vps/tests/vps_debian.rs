//! The vps provider against a real systemd Debian booted with systemd-nspawn: units enabled and
//! running, an nginx site served and a broken one refused with the previous one still served,
//! UFW rules active, cron files in place, hand edits seen as drift, and a destroy that leaves
//! the host as it was. The root is built once per target directory with debootstrap.

use infra_test_harness::vps::*;

fn curl(host: &str, name: &str) -> String {
    let out = std::process::Command::new("curl").args(["-s", "-m", "5", "-H", &format!("Host: {name}"), &format!("http://{host}/")]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stack(debian: &Debian, site_body: &str, unit_description: &str) -> String {
    format!(
        r#"{}
resource "vps_systemd_unit" "app" {{
  name    = "infra-app.service"
  content = <<-EOT
    [Unit]
    Description={unit_description}

    [Service]
    ExecStart=/usr/bin/sleep infinity
    Restart=always

    [Install]
    WantedBy=multi-user.target
  EOT
}}

resource "vps_nginx_site" "app" {{
  name   = "app.conf"
  config = <<-EOT
    server {{
      listen 80;
      server_name app.test;
      location / {{
        {site_body}
      }}
    }}
  EOT
}}

resource "vps_ufw_rule" "ssh" {{
  port    = "22"
  comment = "infra session"
}}

resource "vps_ufw_rule" "http" {{
  port = "80"
}}

resource "vps_ufw" "main" {{
  depends_on = [vps_ufw_rule.ssh, vps_ufw_rule.http]
}}

resource "vps_cron_job" "backup" {{
  name     = "infra-backup"
  schedule = "0 2 * * 0"
  command  = "/usr/local/bin/backup.sh >> /var/log/backup.log 2>&1"
}}
"#,
        debian.provider_block("")
    )
}

#[test]
fn units_sites_firewall_and_cron_on_a_systemd_debian() {
    let debian = boot_debian();
    let host = debian.netns.ns_ip.clone();
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    std::fs::write(d.join("main.tf"), stack(&debian, "return 200 \"v1\\n\";", "infra test app")).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("systemctl is-active infra-app.service; systemctl is-enabled infra-app.service"), "active\nenabled\n");
    assert_eq!(curl(&host, "app.test"), "v1\n");
    let ufw = debian.ssh("ufw status");
    assert!(ufw.contains("Status: active") && ufw.contains("22/tcp") && ufw.contains("80/tcp") && ufw.contains("# infra session"), "{ufw}");
    assert!(debian.ssh("cat /etc/cron.d/infra-backup").contains("0 2 * * 0 root /usr/local/bin/backup.sh >> /var/log/backup.log 2>&1"));
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "the plan after apply is empty:\n{out}");

    // A broken site is refused by `nginx -t`; the previous one stays in place and served.
    std::fs::write(d.join("main.tf"), stack(&debian, "return 200 \"v2\\n\" oops;", "infra test app")).unwrap();
    let (code, out) = infra(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("nginx rejected the site") && out.contains("vps_nginx_site.app"), "{out}");
    assert_eq!(curl(&host, "app.test"), "v1\n", "the previous site is still served");
    assert!(debian.ssh("cat /etc/nginx/sites-available/app.conf").contains("\"v1\\n\""));
    // A good change is applied and reloaded; a unit change restarts the unit.
    std::fs::write(d.join("main.tf"), stack(&debian, "return 200 \"v2\\n\";", "infra test app, second edition")).unwrap();
    let pid = debian.ssh("systemctl show -p MainPID --value infra-app.service");
    let (code, out) = infra(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(curl(&host, "app.test"), "v2\n");
    assert_ne!(debian.ssh("systemctl show -p MainPID --value infra-app.service"), pid, "the unit was restarted");
    assert_eq!(debian.ssh("systemctl is-active infra-app.service"), "active\n");

    // `infra drift` on the host just applied: nothing, Debian's own files (nginx's default
    // site, cron's e2scrub_all) are not findings unless asked for.
    let (code, report) = drift(d, &[]);
    assert_eq!(code, 0, "{report}");
    let (code, report) = drift(d, &["--include-defaults"]);
    assert_eq!(code, 2, "{report}");
    let defaults = unmanaged(&report);
    assert!(
        defaults.contains(&("vps_nginx_site".into(), "default".into())) && defaults.contains(&("vps_cron_job".into(), "e2scrub_all".into())),
        "{defaults:?}"
    );

    // Hand edits are drift, named by drift detection, and apply puts things back.
    debian.ssh("sed -i 's/0 2/30 3/' /etc/cron.d/infra-backup && systemctl stop infra-app.service && ufw delete allow 80/tcp");
    // What infra did not make: a cron file, an nginx site and a firewall rule, by hand.
    debian.ssh(
        "echo '* * * * * root true' > /etc/cron.d/by-hand && echo 'server { listen 81; }' > /etc/nginx/sites-available/by-hand.conf && ln -s ../sites-available/by-hand.conf /etc/nginx/sites-enabled/by-hand.conf && ufw allow 8081/tcp",
    );
    let (code, report) = drift(d, &[]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(
        unmanaged(&report),
        [
            ("vps_cron_job".to_string(), "by-hand".to_string()),
            ("vps_nginx_site".into(), "by-hand.conf".into()),
            ("vps_ufw_rule".into(), "allow tcp 8081 any".into())
        ],
        "{report}"
    );
    let finding = |kind: &str, address: &str| {
        report["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["kind"] == kind && f["address"] == address))
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} {address}: {report}"))
    };
    let paths = |f: &serde_json::Value| -> Vec<String> {
        f["changes"].as_array().map(|c| c.iter().filter_map(|c| c["path"].as_str().map(String::from)).collect()).unwrap_or_default()
    };
    let cron = finding("changed", "vps_cron_job.backup");
    assert!(paths(&cron).contains(&"schedule".to_string()) && cron["id"] == "infra-backup", "{cron}");
    let unit = finding("changed", "vps_systemd_unit.app");
    assert!(paths(&unit).contains(&"active".to_string()) && unit["id"] == "infra-app.service", "{unit}");
    assert_eq!(finding("missing", "vps_ufw_rule.http")["id"], "allow tcp 80 any");
    assert_eq!(report["coverage"]["vps_cron_job"]["unmanaged"], 1, "{report}");
    let (code, out) = infra(d, &["plan", "--refresh-only", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_cron_job.backup") && out.contains("\"30 3 * * 0\""), "{out}");
    assert!(out.contains("vps_systemd_unit.app") && out.contains("active") && out.contains("vps_ufw_rule.http"), "{out}");
    let (code, out) = infra(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("systemctl is-active infra-app.service"), "active\n");
    assert!(debian.ssh("ufw status").contains("80/tcp"));
    assert!(debian.ssh("cat /etc/cron.d/infra-backup").contains("0 2 * * 0 root"));
    assert_eq!(infra(d, &["plan", "--detailed-exitcode"]).0, 0);
    // Apply leaves what it does not manage alone: still reported, until removed.
    assert_eq!(drift(d, &[]).0, 2);
    debian.ssh("rm /etc/cron.d/by-hand /etc/nginx/sites-enabled/by-hand.conf /etc/nginx/sites-available/by-hand.conf && ufw delete allow 8081/tcp");
    let (code, report) = drift(d, &[]);
    assert_eq!(code, 0, "{report}");

    // Destroy leaves the host as it was: no unit, no site, firewall off, no cron file.
    let (code, out) = infra(d, &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("test -e /etc/systemd/system/infra-app.service && echo left; systemctl is-active infra-app.service"), "inactive\n");
    assert_eq!(debian.ssh("ls /etc/nginx/sites-enabled /etc/nginx/sites-available | grep -c app.conf"), "0\n");
    assert!(debian.ssh("ufw status").contains("Status: inactive"));
    assert_eq!(debian.ssh("test -e /etc/cron.d/infra-backup && echo left"), "");
}

#[test]
fn a_unit_that_does_not_start_fails_the_apply_with_its_journal() {
    let debian = boot_debian();
    let work = tempfile::tempdir().unwrap();
    let stack = format!(
        "{}\nresource \"vps_systemd_unit\" \"broken\" {{\n  name    = \"infra-broken.service\"\n  content = \"[Service]\\nExecStart=/bin/sh -c 'echo starting the broken unit; exit 3'\\n\\n[Install]\\nWantedBy=multi-user.target\\n\"\n}}\n",
        debian.provider_block("")
    );
    std::fs::write(work.path().join("main.tf"), stack).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Unit failed to start") && out.contains("starting the broken unit"), "{out}");
}

#[test]
fn a_firewall_that_would_cut_the_ssh_session_is_refused_at_plan_time() {
    let debian = boot_debian();
    let work = tempfile::tempdir().unwrap();
    let stack = format!(
        "{}\nresource \"vps_ufw_rule\" \"web\" {{\n  port = \"443\"\n}}\n\nresource \"vps_ufw\" \"main\" {{\n  default_incoming = \"deny\"\n}}\n",
        debian.provider_block("")
    );
    std::fs::write(work.path().join("main.tf"), stack).unwrap();
    let (code, out) = infra(work.path(), &["plan"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Firewall would lock infra out") && out.contains("port 22/tcp") && out.contains("main.tf:"), "{out}");
    assert!(debian.ssh("ufw status").contains("Status: inactive"), "nothing was applied");
}

#[test]
fn an_apt_package_comes_from_a_local_repository_and_goes_on_destroy() {
    // The container has no route out: a repository on this machine's side of the veth serves
    // a real package, fetched here with apt-get download.
    ensure_package("/usr/bin/dpkg-scanpackages", "dpkg-dev");
    let debian = boot_debian();
    let repo = tempfile::tempdir().unwrap();
    sh(&format!("cd {} && apt-get download -q hello >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get download -q hello >/dev/null); dpkg-scanpackages -m . > Packages 2>/dev/null", repo.path().display()));
    let port = std::net::TcpListener::bind((debian.netns.host_ip.as_str(), 0)).unwrap().local_addr().unwrap().port();
    let mut server = std::process::Command::new("python3")
        .args(["-m", "http.server", &port.to_string(), "--bind", &debian.netns.host_ip, "--directory"])
        .arg(repo.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The server answers once it listens; apt in the container must not race its start.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect((debian.netns.host_ip.as_str(), port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "python3 -m http.server did not listen on {}:{port}", debian.netns.host_ip);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let work = tempfile::tempdir().unwrap();
    let stack = format!(
        "{}\nresource \"vps_file\" \"sources\" {{\n  path    = \"/etc/apt/sources.list\"\n  content = \"deb [trusted=yes] http://{}:{port}/ ./\\n\"\n}}\n\nresource \"vps_apt_package\" \"hello\" {{\n  name       = \"hello\"\n  depends_on = [vps_file.sources]\n}}\n",
        debian.provider_block(""),
        debian.netns.host_ip
    );
    std::fs::write(work.path().join("main.tf"), stack).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    let version = debian.ssh("dpkg-query -W -f='${Version}' hello");
    assert!(!version.is_empty());
    let (_, shown) = infra(work.path(), &["state", "show", "vps_apt_package.hello"]);
    assert!(shown.contains(&format!("\"{version}\"")), "{shown}");
    assert_eq!(infra(work.path(), &["plan", "--detailed-exitcode"]).0, 0);
    // Removed by hand: drift; apply installs it again.
    debian.ssh("apt-get remove -y -q hello >/dev/null 2>&1");
    let (code, out) = infra(work.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_apt_package.hello will be created"), "{out}");
    let (code, out) = infra(work.path(), &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("dpkg-query -W -f='${Status}' hello 2>/dev/null | grep -c ' installed'"), "0\n");
    let _ = server.kill();
    let _ = server.wait();
}

/// The variables every VPS example takes, for this container.
/// `infra drift --json` (and `extra`): the exit code and the report.
fn drift(d: &std::path::Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let out =
        std::process::Command::new(infra_test_harness::infra_bin()).args(["drift", "--json"]).args(extra).current_dir(d).env("NO_COLOR", "1").output().unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("drift --json printed no report ({e}):\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

/// The `(type, id)` of every unmanaged finding of a drift report, sorted.
fn unmanaged(report: &serde_json::Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["kind"] == "unmanaged")
        .map(|f| (f["type"].as_str().unwrap_or_default().to_string(), f["id"].as_str().unwrap_or_default().to_string()))
        .collect();
    v.sort();
    v
}

fn host_vars(debian: &Debian, extra: &[&str]) -> Vec<String> {
    let key: Vec<&str> = debian.host_key.split_whitespace().take(2).collect();
    let mut v =
        vec![format!("host={}", debian.netns.ns_ip), format!("private_key_file={}", debian.client_key.display()), format!("host_key={}", key.join(" "))];
    v.extend(extra.iter().map(|s| s.to_string()));
    v.into_iter().flat_map(|x| ["--var".to_string(), x]).collect()
}

fn run(d: &std::path::Path, verb: &[&str], vars: &[String]) -> (i32, String) {
    let mut args: Vec<&str> = verb.to_vec();
    args.extend(vars.iter().map(String::as_str));
    infra(d, &args)
}

/// One configuration of the gw2 example: what the backend runs and the site's domain.
struct Gw2 {
    command: &'static str,
    domain: &'static str,
}

const GW2: Gw2 = Gw2 { command: "/usr/bin/sleep infinity", domain: "gw2builder.example.com" };

impl Gw2 {
    /// The example's variables for this container: the stand-in backend, and a self-signed
    /// certificate (Let's Encrypt is out of reach); the account is the example's own, `roddy`.
    fn vars(&self, debian: &Debian) -> Vec<String> {
        host_vars(debian, &[&format!("backend_command={}", self.command), &format!("domain={}", self.domain), "certificate_self_signed=true"])
    }

    /// The stack at work as configured: the unit runs this command (its unit file loaded) with
    /// its limits as `roddy`, HTTP redirects to this domain, HTTPS is served with the
    /// certificate for this domain, `/health` reaches the backend port, cron and UFW are in
    /// place.
    fn serves(&self, debian: &Debian) -> Result<(), String> {
        let curl = |args: &[&str]| {
            let out = std::process::Command::new("curl").args(["-s", "-m", "5"]).args(args).output().map_err(|e| format!("curl: {e}"))?;
            Ok::<_, String>(String::from_utf8_lossy(&out.stdout).into_owned())
        };
        let check = |what: &str, got: String, ok: bool| if ok { Ok(()) } else { Err(format!("{what}: {got:?}")) };
        let unit = debian.ssh(
            "systemctl is-active gw2-backend.service; systemctl show -p MemoryMax -p NeedDaemonReload --value gw2-backend.service; tr '\\0' ' ' < /proc/$(systemctl show -p MainPID --value gw2-backend.service)/cmdline",
        );
        check("the unit runs the command, loaded, with MemoryMax=1G", unit.clone(), unit == format!("active\n1073741824\nno\n{} ", self.command))?;
        let user = debian.ssh("systemctl show -p User --value gw2-backend.service; ps -o user= -p $(systemctl show -p MainPID --value gw2-backend.service)");
        check("the unit runs as roddy", user.clone(), user == "roddy\nroddy\n")?;
        let (ip, host) = (&debian.netns.ns_ip, format!("Host: {}", self.domain));
        let redirect = curl(&["-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-H", &host, &format!("http://{ip}/")])?;
        check("HTTP redirects to HTTPS", redirect.clone(), redirect == format!("301 https://{}/", self.domain))?;
        // The certificate nginx presents for the domain is the stack's, for that domain.
        let presented = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "openssl s_client -connect {ip}:443 -servername {d} </dev/null 2>/dev/null | openssl x509 -noout -subject -ext subjectAltName -nameopt RFC2253",
                d = self.domain
            ))
            .output()
            .map_err(|e| format!("openssl: {e}"))?;
        let presented = String::from_utf8_lossy(&presented.stdout).into_owned();
        let fingerprint = |cmd: &str| debian.ssh(&format!("openssl x509 -noout -fingerprint -sha256 -in /etc/letsencrypt/live/{}/{cmd}", self.domain));
        check(
            "HTTPS is served with the certificate for the domain",
            presented.clone(),
            presented.contains(&format!("subject=CN={}", self.domain)) && presented.contains(&format!("DNS:{}", self.domain)),
        )?;
        let served = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("openssl s_client -connect {ip}:443 -servername {} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256", self.domain))
            .output()
            .map_err(|e| format!("openssl: {e}"))?;
        let served = String::from_utf8_lossy(&served.stdout).into_owned();
        check("the certificate served is the one on the host", served.clone(), !served.is_empty() && served == fingerprint("fullchain.pem"))?;
        let health = curl(&["-k", "-o", "/dev/null", "-w", "%{http_code}", "-H", &host, &format!("https://{ip}/health")])?;
        // The stand-in backend does not listen: the proxy answers 502.
        check("/health is proxied to the backend port", health.clone(), health == "502")?;
        let cron = debian.ssh("cat /etc/cron.d/gw2-backup");
        check(
            "the backup cron job",
            cron.clone(),
            cron.contains("0 2 * * 0 roddy /home/roddy/GW2_WvWbuilder/scripts/backup_database.sh >> /home/roddy/GW2_WvWbuilder/backups/cron.log 2>&1"),
        )?;
        let ufw = debian.ssh("ufw status");
        check("UFW allows SSH, HTTP, HTTPS", ufw.clone(), ["22/tcp", "80/tcp", "443/tcp"].iter().all(|p| ufw.contains(p)) && ufw.contains("Status: active"))
    }
}

/// What the gw2 stack puts on the host, as a listing to compare with the host before it: unit,
/// site, cron and logrotate files (temp files included), the homes, the account and its group,
/// the certificates, UFW's status, rules and default policies, the unit's state.
const GW2_FOOTPRINT: &str = "ls -A /etc/systemd/system /etc/systemd/system/multi-user.target.wants /etc/nginx/sites-enabled /etc/nginx/sites-available /etc/cron.d /etc/logrotate.d /home; getent passwd roddy; getent group roddy; ls -d /etc/letsencrypt 2>/dev/null; ufw status verbose; grep -c '^### tuple' /etc/ufw/user.rules /etc/ufw/user6.rules; grep '^DEFAULT_' /etc/default/ufw; systemctl is-active gw2-backend.service; systemctl is-enabled gw2-backend.service 2>&1";

#[test]
fn the_gw2_example_serves_restores_hand_edits_and_leaves_the_host_as_it_was() {
    let debian = boot_debian();
    let dir = example("gw2-wvw-builder");
    let d = dir.path();
    let v = GW2.vars(&debian);
    let before = debian.ssh(GW2_FOOTPRINT);
    // A fresh Debian: no account roddy, no certificate.
    assert_eq!(debian.ssh("getent passwd roddy; getent group roddy; ls /etc/letsencrypt 2>&1 >/dev/null | grep -c 'No such file'"), "1\n");
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &v).0, 0, "the plan after apply is empty");
    if let Err(e) = GW2.serves(&debian) {
        panic!("{e}");
    }
    // The account, its group and home, made by the stack; the app directories are its own.
    let account = debian.ssh("getent passwd roddy | cut -d: -f3,6,7; id -gn roddy; stat -c '%U:%G %a' /home/roddy/GW2_WvWbuilder/backend");
    let fields: Vec<&str> = account.lines().collect();
    assert_eq!(fields.get(1..), Some(&["roddy", "roddy:roddy 755"][..]), "{account}");
    let uid: Vec<&str> = fields[0].split(':').collect();
    assert!(uid[0].parse::<u32>().is_ok_and(|u| u >= 1000) && uid[1..] == ["/home/roddy", "/bin/bash"], "{account}");
    let (_, shown) = run(d, &["state", "show", "vps_user.app"], &[]);
    assert!(shown.lines().any(|l| l.trim_start().starts_with("uid ") && l.trim_end().ends_with(&format!("= {}", uid[0]))), "the uid is recorded: {shown}");

    // nginx (www-data) serves the frontend from the account's home.
    debian.ssh("echo gw2-frontend > /home/roddy/GW2_WvWbuilder/frontend/dist/index.html");
    let page = std::process::Command::new("curl")
        .args(["-sk", "-m", "5", "-H", "Host: gw2builder.example.com", &format!("https://{}/", debian.netns.ns_ip)])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&page.stdout), "gw2-frontend\n");
    debian.ssh("rm /home/roddy/GW2_WvWbuilder/frontend/dist/index.html");

    // A hand edit of a managed file is drift, named; apply puts it back.
    debian.ssh("echo 'rm -rf /' >> /home/roddy/GW2_WvWbuilder/scripts/backup_database.sh");
    let (code, out) = run(d, &["plan", "--refresh-only", "--detailed-exitcode"], &v);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_file.backup_script") && out.contains("rm -rf /"), "{out}");
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert!(!debian.ssh("cat /home/roddy/GW2_WvWbuilder/scripts/backup_database.sh").contains("rm -rf"));
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &v).0, 0);

    // A certificate removed by hand is made again (only then: the apply before kept it).
    debian.ssh("rm -r /etc/letsencrypt/live/gw2builder.example.com");
    let (code, out) = run(d, &["plan", "--detailed-exitcode"], &v);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_certbot_certificate.site will be created"), "{out}");
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    if let Err(e) = GW2.serves(&debian) {
        panic!("{e}");
    }

    // Destroy leaves the host as it was: no account, group, home or certificate.
    let (code, out) = run(d, &["destroy", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh(GW2_FOOTPRINT), before);
    assert_eq!(debian.ssh("getent passwd roddy; getent group roddy; ls -d /home/roddy /etc/letsencrypt 2>/dev/null"), "");
}

#[test]
fn the_finaiflow_example_without_its_compose_stack_on_a_systemd_debian() {
    // This container has no Docker: the stack's compose part is tested on the local engine by
    // vps_ssh.rs (the_finaiflow_compose_stack_runs_on_the_local_engine).
    let debian = boot_debian();
    let dir = example("finaiflow");
    let d = dir.path();
    let v = host_vars(&debian, &["run_compose=false"]);
    let before = debian.ssh("ls /etc/fail2ban/jail.d /etc/cron.d; ufw status");
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &v).0, 0);
    assert!(debian.ssh("fail2ban-client status").contains("nginx-limit-req"), "the jail is loaded");
    assert!(debian.ssh("cat /etc/cron.d/finaiflow-backup").contains("0 2 * * * root /opt/finaiflow/scripts/database_backup.sh"));
    assert!(debian.ssh("cat /etc/cron.d/finaiflow-backup-cleanup").contains("0 3 * * * root find /opt/finaiflow/backups -name '*.sql' -mtime +30 -delete"));
    debian.ssh("sed -i 's/maxretry = 10/maxretry = 1000/' /etc/fail2ban/jail.d/finaiflow.local");
    let (code, out) = run(d, &["plan", "--refresh-only", "--detailed-exitcode"], &v);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_file.fail2ban_jail") && out.contains("maxretry = 1000"), "{out}");
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert!(debian.ssh("cat /etc/fail2ban/jail.d/finaiflow.local").contains("maxretry = 10\n"));
    let (code, out) = run(d, &["destroy", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("ls /etc/fail2ban/jail.d /etc/cron.d; ufw status"), before);
    assert_eq!(debian.ssh("test -e /opt/finaiflow && echo left"), "");
}

#[test]
fn the_attendee_example_without_its_compose_stack_on_a_systemd_debian() {
    // No Docker in this container: the compose part runs on the local engine in vps_ssh.rs.
    let debian = boot_debian();
    let dir = example("attendee-ems-vps");
    let d = dir.path();
    let v = host_vars(&debian, &["run_compose=false", "certificate_self_signed=true"]);
    let footprint = "ls /etc/fail2ban/jail.d /etc/cron.d /etc/nginx/sites-enabled /usr/local/bin; ls -d /etc/letsencrypt 2>/dev/null; ufw status";
    let before = debian.ssh(footprint);
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert_eq!(run(d, &["plan", "--detailed-exitcode"], &v).0, 0);
    let jails = debian.ssh("fail2ban-client status");
    assert!(jails.contains("sshd") && jails.contains("nginx-http-auth"), "{jails}");
    // The site proxies /api/ and /socket.io/ to the backend port (nothing listens: 502).
    for path in ["/api/events", "/socket.io/?EIO=4"] {
        let code = std::process::Command::new("curl")
            .args(["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: attendee.example.com", &format!("https://{}{path}", debian.netns.ns_ip)])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&code.stdout), "502", "{path}");
    }
    assert!(debian.ssh("cat /etc/cron.d/certbot-renew").contains("0 3 * * * root certbot renew --quiet --post-hook \"systemctl reload nginx\""));
    // HTTPS with the certificate the stack made for the domain and www.
    let presented = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl s_client -connect {}:443 -servername www.attendee.example.com </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName",
            debian.netns.ns_ip
        ))
        .output()
        .unwrap();
    let presented = String::from_utf8_lossy(&presented.stdout);
    assert!(presented.contains("DNS:attendee.example.com, DNS:www.attendee.example.com"), "{presented}");
    debian.ssh("sed -i 's/attendee_backend/elsewhere/' /etc/nginx/sites-available/attendee.conf");
    let (code, out) = run(d, &["plan", "--refresh-only", "--detailed-exitcode"], &v);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_nginx_site.attendee") && out.contains("elsewhere"), "{out}");
    let (code, out) = run(d, &["apply", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert!(!debian.ssh("cat /etc/nginx/sites-available/attendee.conf").contains("elsewhere"));
    let (code, out) = run(d, &["destroy", "--auto-approve"], &v);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh(footprint), before);
}

#[test]
fn a_non_root_user_works_through_sudo() {
    let debian = boot_debian();
    debian.ssh("useradd -m -s /bin/sh deploy && usermod -p '*' deploy && mkdir -p ~deploy/.ssh && cp /root/.ssh/authorized_keys ~deploy/.ssh/ && chown -R deploy: ~deploy/.ssh && echo 'deploy ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/deploy && chmod 0440 /etc/sudoers.d/deploy");
    let work = tempfile::tempdir().unwrap();
    let stack = |sudo: bool| {
        format!(
            "{}\nresource \"vps_file\" \"privileged\" {{\n  path    = \"/etc/infra-sudo-test.conf\"\n  content = \"written through sudo\\n\"\n  mode    = \"0600\"\n}}\n",
            debian.provider_block(&format!("  sudo = {sudo}\n")).replace("user             = \"root\"", "user             = \"deploy\"")
        )
    };
    // Without sudo the deploy user cannot write there: the host's refusal is the diagnostic.
    std::fs::write(work.path().join("main.tf"), stack(false)).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Permission denied"), "{out}");
    std::fs::write(work.path().join("main.tf"), stack(true)).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("stat -c '%U %a' /etc/infra-sudo-test.conf; cat /etc/infra-sudo-test.conf"), "root 600\nwritten through sudo\n");
    assert_eq!(infra(work.path(), &["plan", "--detailed-exitcode"]).0, 0);
}

#[test]
fn objects_made_by_hand_import_by_name_with_an_empty_plan() {
    let debian = boot_debian();
    let unit = "[Unit]\nDescription=made by hand\n\n[Service]\nExecStart=/usr/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n";
    let site = "server {\n  listen 8081;\n  location / { return 200 \"hand\\n\"; }\n}\n";
    debian.ssh(&format!(
        "printf '%s' '{unit}' > /etc/systemd/system/hand.service && systemctl daemon-reload && systemctl enable --now hand.service && printf '%s' '{site}' > /etc/nginx/sites-available/hand.conf && ln -s /etc/nginx/sites-available/hand.conf /etc/nginx/sites-enabled/hand.conf && systemctl reload nginx && echo '15 4 * * * root /usr/bin/true' > /etc/cron.d/hand-job && ufw allow 8081/tcp >/dev/null"
    ));
    let work = tempfile::tempdir().unwrap();
    let stack = format!(
        r#"{}
import {{
  to = vps_systemd_unit.hand
  id = "hand.service"
}}

import {{
  to = vps_nginx_site.hand
  id = "hand.conf"
}}

import {{
  to = vps_cron_job.hand
  id = "hand-job"
}}

import {{
  to = vps_ufw_rule.hand
  id = "allow tcp 8081 any"
}}

resource "vps_systemd_unit" "hand" {{
  name    = "hand.service"
  content = {unit:?}
}}

resource "vps_nginx_site" "hand" {{
  name   = "hand.conf"
  config = {site:?}
}}

resource "vps_cron_job" "hand" {{
  name     = "hand-job"
  schedule = "15 4 * * *"
  command  = "/usr/bin/true"
}}

resource "vps_ufw_rule" "hand" {{
  port = "8081"
}}
"#,
        debian.provider_block("")
    );
    std::fs::write(work.path().join("main.tf"), stack).unwrap();
    let (code, out) = infra(work.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Plan: 4 to import, 0 to add, 0 to change, 0 to destroy."), "{out}");
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(infra(work.path(), &["plan", "--detailed-exitcode"]).0, 0);
}

#[test]
fn a_changed_file_restarts_the_services_it_names() {
    let debian = boot_debian();
    let work = tempfile::tempdir().unwrap();
    let stack = |value: &str| {
        format!(
            "{}\nresource \"vps_file\" \"env\" {{\n  path             = \"/etc/infra-app.env\"\n  content          = \"MODE={value}\\n\"\n  restart_services = [\"infra-app.service\"]\n}}\n\nresource \"vps_systemd_unit\" \"app\" {{\n  name    = \"infra-app.service\"\n  content = \"[Service]\\nEnvironmentFile=/etc/infra-app.env\\nExecStart=/usr/bin/sleep infinity\\n\\n[Install]\\nWantedBy=multi-user.target\\n\"\n  depends_on = [vps_file.env]\n}}\n",
            debian.provider_block("")
        )
    };
    std::fs::write(work.path().join("main.tf"), stack("one")).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    let pid = debian.ssh("systemctl show -p MainPID --value infra-app.service");
    std::fs::write(work.path().join("main.tf"), stack("two")).unwrap();
    let (code, out) = infra(work.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_ne!(debian.ssh("systemctl show -p MainPID --value infra-app.service"), pid, "the unit was restarted");
    assert_eq!(debian.ssh("cat /proc/$(systemctl show -p MainPID --value infra-app.service)/environ | tr '\\0' '\\n' | grep MODE"), "MODE=two\n");
}

// Issue 9, crash safety on a real host: `infra` killed while it applies, updates or destroys
// the gw2 example, at every resource's create, before deletes, and at random moments (inside a
// resource's steps), converges.

/// Where a campaign kills `infra`.
enum Kill {
    /// Right after the provider's create of this address returned (the CLI's test hook aborts
    /// the process), before anything about it is in state.
    AfterCreate(String),
    /// Right before the provider's delete of this address.
    BeforeDelete(String),
    /// SIGKILL this long after the process started: anywhere, a step half done on the host.
    After(std::time::Duration),
}

impl Kill {
    /// SIGKILL after a random time from 50 ms to `max_ms`.
    fn random(rng: &mut u64, max_ms: u64) -> Kill {
        Kill::After(std::time::Duration::from_millis(50 + next_random(rng) % (max_ms - 49)))
    }
}

impl std::fmt::Display for Kill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kill::AfterCreate(a) => write!(f, "abort after the create of {a}"),
            Kill::BeforeDelete(a) => write!(f, "abort before the delete of {a}"),
            Kill::After(t) => write!(f, "kill -9 after {} ms", t.as_millis()),
        }
    }
}

/// xorshift64*: random kill delays, reproducible from the seed printed with the results.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// How a run of `infra` ended: its exit code (none when a signal ended it) and its output.
struct Ran {
    code: Option<i32>,
    out: String,
}

impl Ran {
    /// The plan's summary line (`Plan: 1 to add, …` or `No changes.`).
    fn summary(&self) -> &str {
        self.out.lines().find(|l| l.starts_with("Plan:") || l.starts_with("No changes")).unwrap_or("no summary")
    }
}

/// Runs `infra` in `d`, killed as `kill` says; a run that takes over three minutes is killed
/// and reported as hung.
fn infra_run(d: &std::path::Path, args: &[&str], vars: &[String], kill: Option<&Kill>) -> Ran {
    use std::io::{Read, Seek};
    let mut log = tempfile::tempfile().unwrap();
    let mut cmd = std::process::Command::new(infra_test_harness::infra_bin());
    cmd.args(args).args(vars).current_dir(d).env("NO_COLOR", "1").stdin(std::process::Stdio::null());
    let mut kill_after = None;
    match kill {
        Some(Kill::AfterCreate(a)) => drop(cmd.env("INFRA_TEST_ABORT_AFTER_CREATE", a)),
        Some(Kill::BeforeDelete(a)) => drop(cmd.env("INFRA_TEST_ABORT_BEFORE_DELETE", a)),
        Some(Kill::After(t)) => kill_after = Some(*t),
        None => {}
    }
    let mut child = cmd.stdout(log.try_clone().unwrap()).stderr(log.try_clone().unwrap()).spawn().unwrap();
    let start = std::time::Instant::now();
    let mut hung = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if kill_after.is_some_and(|k| start.elapsed() >= k) || start.elapsed() > std::time::Duration::from_secs(180) {
            hung = kill_after.is_none();
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    let mut out = String::new();
    log.rewind().unwrap();
    log.read_to_string(&mut out).unwrap();
    if hung {
        out.push_str("\n[hung: killed after 180 s]");
    }
    Ran { code: status.code(), out }
}

/// A failure at one kill point: what went wrong (one of [`FAILURES`]) and the details.
#[derive(Debug)]
struct Failure {
    kind: &'static str,
    detail: String,
}

/// What can go wrong at a kill point: the hook's address never came (the point was not
/// covered); the lock left by the killed process could not be cleared; `plan` changed the host
/// or did not show what was left; the apply after the kill failed or left something to do;
/// converged in state but the stack does not work as configured; destroy failed or left
/// something on the host.
const FAILURES: [&str; 7] = ["not reached", "lock", "plan wrote", "plan wrong", "stuck", "not serving", "leftovers"];

fn failure(kind: &'static str, detail: String) -> Failure {
    Failure { kind, detail }
}

/// How a kill point went: whether the process was killed (a random kill may come after it
/// finished) and what the plan after it had left to do.
struct Converged {
    killed: bool,
    left: String,
}

/// The pieces of host state a plan must not change: every path the stack writes under (with
/// mode, owner, size and mtime, so a rewrite shows), the unit's state and main PID, UFW, and
/// nginx's worker PIDs (a reload replaces them). It waits first for the steps a killed process
/// left running on the host (`sh -s` scripts) to end.
const GW2_SNAPSHOT: &str = "i=0; while pgrep -x -f 'sh -s' >/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; sleep 0.2
find /home /etc/systemd/system /etc/nginx /etc/cron.d /etc/logrotate.d /etc/ufw /etc/default/ufw /etc/letsencrypt -printf '%p %y %m %u %g %s %T@ %l\\n' 2>/dev/null | sort
getent passwd roddy; getent group roddy
systemctl is-enabled gw2-backend.service 2>&1; systemctl is-active gw2-backend.service; systemctl show -p MainPID --value gw2-backend.service
ufw status verbose; pgrep -f '^nginx: worker' | sort";

/// Puts the host back by hand after a failed kill point, so the next one starts clean.
const GW2_RESET: &str = "systemctl disable --now gw2-backend.service 2>/dev/null; rm -f /etc/systemd/system/gw2-backend.service /etc/systemd/system/.infra.*; systemctl daemon-reload; systemctl reset-failed 2>/dev/null
rm -f /etc/nginx/sites-enabled/gw2-wvwbuilder.conf /etc/nginx/sites-available/gw2-wvwbuilder.conf /etc/nginx/sites-enabled/gw2-wvwbuilder-http.conf /etc/nginx/sites-available/gw2-wvwbuilder-http.conf /etc/nginx/sites-available/.infra.*; systemctl reload nginx
rm -f /etc/cron.d/gw2-backup /etc/cron.d/certbot-renew /etc/cron.d/.infra.* /etc/logrotate.d/gw2-backend /etc/logrotate.d/.infra.*
userdel roddy 2>/dev/null; groupdel roddy 2>/dev/null; rm -rf /home/roddy /etc/letsencrypt
ufw --force reset >/dev/null; true";

struct Campaign<'a> {
    debian: &'a Debian,
    d: &'a std::path::Path,
    /// The host before the stack.
    before: String,
}

impl Campaign<'_> {
    fn infra(&self, stack: &Gw2, args: &[&str], kill: Option<&Kill>) -> Ran {
        infra_run(self.d, args, &stack.vars(self.debian), kill)
    }

    /// `infra ARGS` killed as `kill` says, then the lock it left cleared. Whether it was killed:
    /// a random kill may come after the run finished.
    fn killed(&self, stack: &Gw2, args: &[&str], kill: &Kill, point: &str) -> Result<bool, Failure> {
        let ran = self.infra(stack, args, Some(kill));
        match (kill, ran.code) {
            (Kill::After(_), Some(0)) | (_, None) => {}
            (Kill::After(_), Some(c)) => {
                return Err(failure("stuck", format!("{point}: {args:?} finished before the kill, and failed (exit {c}):\n{}", ran.out)))
            }
            (_, Some(_)) => return Err(failure("not reached", format!("{point}: {args:?} ended without reaching it:\n{}", ran.out))),
        }
        self.clear_lock(point)?;
        Ok(ran.code.is_none())
    }

    /// Clears the lock a killed process left (`infra force-unlock` with the ID it recorded).
    fn clear_lock(&self, point: &str) -> Result<(), Failure> {
        let Ok(bytes) = std::fs::read(self.d.join("infra.tfstate.lock.info")) else {
            return Ok(());
        };
        let id = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["ID"].as_str().map(str::to_string))
            .ok_or_else(|| failure("lock", format!("{point}: the lock left behind has no ID: {:?}", String::from_utf8_lossy(&bytes))))?;
        let r = infra_run(self.d, &["force-unlock", &id], &[], None);
        if r.code != Some(0) {
            return Err(failure("lock", format!("{point}: force-unlock {id} failed:\n{}", r.out)));
        }
        Ok(())
    }

    /// The plan after a kill: it changes nothing on the host, and shows what is left (exit 2
    /// and `expect` in its output when given; else exit 0 or 2).
    fn plan_after_kill(&self, stack: &Gw2, expect: Option<&str>, point: &str) -> Result<String, Failure> {
        let host = self.debian.ssh(GW2_SNAPSHOT);
        let plan = self.infra(stack, &["plan", "--detailed-exitcode"], None);
        let after = self.debian.ssh(GW2_SNAPSHOT);
        if after != host {
            return Err(failure("plan wrote", format!("{point}: plan changed the host:\n{}\n{}", diff(&host, &after), plan.out)));
        }
        let shows = match expect {
            Some(e) => plan.code == Some(2) && plan.out.contains(e),
            None => matches!(plan.code, Some(0 | 2)),
        };
        if !shows {
            return Err(failure("plan wrong", format!("{point}: the plan after the kill (exit {:?}) does not show {expect:?}:\n{}", plan.code, plan.out)));
        }
        Ok(plan.summary().to_string())
    }

    /// Apply succeeds, the plan after it is empty, and the stack works as configured.
    fn converge(&self, stack: &Gw2, point: &str) -> Result<(), Failure> {
        let apply = self.infra(stack, &["apply", "--auto-approve"], None);
        if apply.code != Some(0) {
            return Err(failure("stuck", format!("{point}: the apply after the kill failed (exit {:?}):\n{}", apply.code, apply.out)));
        }
        let plan = self.infra(stack, &["plan", "--detailed-exitcode"], None);
        if plan.code != Some(0) {
            return Err(failure("stuck", format!("{point}: the plan after the converging apply is not empty (exit {:?}):\n{}", plan.code, plan.out)));
        }
        stack.serves(self.debian).map_err(|e| failure("not serving", format!("{point}: {e}")))
    }

    /// Destroy (first killed as `kill` says, when given) leaves the host as it was.
    fn destroy(&self, kill: Option<&Kill>, point: &str) -> Result<(), Failure> {
        if let Some(k) = kill {
            self.killed(&GW2, &["destroy", "--auto-approve"], k, &format!("{point}, destroy: {k}"))?;
        }
        let destroy = self.infra(&GW2, &["destroy", "--auto-approve"], None);
        if destroy.code != Some(0) {
            return Err(failure("leftovers", format!("{point}: destroy failed (exit {:?}):\n{}", destroy.code, destroy.out)));
        }
        let now = self.debian.ssh(GW2_FOOTPRINT);
        if now != self.before {
            return Err(failure("leftovers", format!("{point}: destroy left the host changed:\n{}", diff(&self.before, &now))));
        }
        Ok(())
    }

    /// A kill while applying the stack from nothing: the plan after it shows what is left and
    /// changes nothing, an apply converges, and a destroy (killed as `destroy_kill` says) leaves
    /// the host as it was.
    fn create_point(&self, kill: &Kill, destroy_kill: Option<&Kill>) -> Result<Converged, Failure> {
        let point = kill.to_string();
        let killed = self.killed(&GW2, &["apply", "--auto-approve"], kill, &point)?;
        let expect = match kill {
            Kill::AfterCreate(addr) => Some(format!("{addr} will be created")),
            _ => None,
        };
        let left = self.plan_after_kill(&GW2, expect.as_deref(), &point)?;
        if expect.is_some() && !left.contains(" 0 to change, 0 to destroy") {
            return Err(failure("plan wrong", format!("{point}: what was made before the kill needs changes: {left}")));
        }
        self.converge(&GW2, &point)?;
        self.destroy(destroy_kill, &point)?;
        Ok(Converged { killed, left })
    }

    /// A kill while updating the converged stack `from` to `to` (a new unit command: the unit
    /// rewritten and restarted; a new domain: the site rewritten and nginx reloaded).
    fn update_point(&self, to: &Gw2, kill: &Kill) -> Result<Converged, Failure> {
        let point = format!("update to {}: {kill}", to.domain);
        let killed = self.killed(to, &["apply", "--auto-approve"], kill, &point)?;
        let left = self.plan_after_kill(to, None, &point)?;
        self.converge(to, &point)?;
        Ok(Converged { killed, left })
    }

    /// Destroy right after an apply stopped once it had enabled the firewall (not in state): the
    /// rule that lets SSH in is kept, so the host stays reachable; an apply then records the
    /// firewall and destroy leaves the host as it was.
    fn destroy_after_the_firewall_point(&self) -> Result<Converged, Failure> {
        let kill = Kill::AfterCreate("vps_ufw.firewall".into());
        let point = format!("{kill}, then destroy");
        self.killed(&GW2, &["apply", "--auto-approve"], &kill, &point)?;
        let destroy = self.infra(&GW2, &["destroy", "--auto-approve"], None);
        let banner = (|| {
            use std::io::Read;
            let addr = std::net::SocketAddr::new(self.debian.netns.ns_ip.parse().ok()?, 22);
            let mut s = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(3)).ok()?;
            s.set_read_timeout(Some(std::time::Duration::from_secs(3))).ok()?;
            let mut b = [0u8; 4];
            s.read_exact(&mut b).ok().map(|()| b)
        })();
        // Nothing can put a host that drops SSH back: the campaign ends here.
        assert_eq!(banner, Some(*b"SSH-"), "{point}: destroy cut the host off (exit {:?}):\n{}", destroy.code, destroy.out);
        if destroy.code != Some(1) || !destroy.out.contains("Rule would lock infra out") || !destroy.out.contains("vps_ufw_rule.allowed[\"ssh\"]") {
            return Err(failure(
                "stuck",
                format!("{point}: destroy did not keep the SSH rule of a firewall it does not know (exit {:?}):\n{}", destroy.code, destroy.out),
            ));
        }
        self.converge(&GW2, &point)?;
        self.destroy(None, &point)?;
        Ok(Converged { killed: true, left: "destroy kept the SSH rule".into() })
    }

    /// After a failed point: destroy what the state knows, clean the rest by hand, forget the
    /// state, so the next point starts from the host as it was.
    fn reset(&self) {
        let _ = self.clear_lock("reset");
        // A firewall the state does not know would stay on while destroy deletes its rules.
        self.debian.ssh("ufw --force disable");
        let _ = self.infra(&GW2, &["destroy", "--auto-approve"], None);
        let _ = self.clear_lock("reset");
        self.debian.ssh(GW2_RESET);
        for f in ["infra.tfstate", "infra.tfstate.backup", "infra.tfstate.journal", "infra.tfstate.lock.info"] {
            let _ = std::fs::remove_file(self.d.join(f));
        }
        let now = self.debian.ssh(GW2_FOOTPRINT);
        assert_eq!(now, self.before, "the host could not be put back by hand; the campaign cannot go on:\n{}", diff(&self.before, &now));
    }
}

/// The lines only in `a` (`-`) and only in `b` (`+`).
fn diff(a: &str, b: &str) -> String {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut out: Vec<String> = la.iter().filter(|l| !lb.contains(l)).map(|l| format!("- {l}")).collect();
    out.extend(lb.iter().filter(|l| !la.contains(l)).map(|l| format!("+ {l}")));
    out.join("\n")
}

/// The campaign of issue 9 on one booted Debian: every resource address of the gw2 stack is a
/// kill point (abort right after its create), and so are random SIGKILLs while applying (50 ms
/// to 2.5 s: on this machine the apply's first steps start at about 30 ms, the unit's at 0.4 s,
/// the firewall's at 1 s, and it ends after 2.5 s), destroying (to 1.5 s) and updating it (to
/// 0.6 s: its two steps start first); each is followed by a plan that shows what is left
/// without changing the host, an apply that converges, an empty plan and the stack serving, and
/// each apply point by a destroy that leaves the host as it was. `INFRA_KILL_SEED` replays the
/// random delays, `INFRA_KILL_RANDOM` sets how many of each random kind (default 5 and 4).
#[test]
fn a_killed_apply_of_the_gw2_example_converges_at_every_kill_point() {
    let started = std::time::Instant::now();
    let debian = boot_debian();
    let dir = example("gw2-wvw-builder");
    let campaign = Campaign { debian: &debian, d: dir.path(), before: debian.ssh(GW2_FOOTPRINT) };
    const NEXT: Gw2 = Gw2 { command: "/usr/bin/sleep 86400", domain: "gw2.example.org" };

    // Every resource address of the stack, from the first plan.
    let plan = campaign.infra(&GW2, &["plan", "--json"], None);
    assert_eq!(plan.code, Some(0), "{}", plan.out);
    let json: serde_json::Value =
        serde_json::from_str(plan.out.get(plan.out.find('{').unwrap_or(0)..).unwrap_or_default()).unwrap_or_else(|e| panic!("plan --json: {e}\n{}", plan.out));
    let addresses: Vec<String> = json["resource_changes"].as_array().into_iter().flatten().filter_map(|c| c["address"].as_str().map(str::to_string)).collect();
    assert_eq!(addresses.len(), 20, "{addresses:?}");

    let seed = std::env::var("INFRA_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1) | 1);
    let randoms: Option<usize> = std::env::var("INFRA_KILL_RANDOM").ok().and_then(|s| s.parse().ok());
    let mut rng = seed;
    // Destroys killed before deleting what holds the others, or at random.
    let before_deletes = [
        "vps_systemd_unit.backend",
        "vps_ufw.firewall",
        "vps_directory.app[\"/home/roddy/GW2_WvWbuilder\"]",
        "vps_nginx_site.gw2",
        "vps_file.backup_script",
        "vps_user.app",
        "vps_certbot_certificate.site",
    ];
    let mut points: Vec<(Kill, Option<Kill>)> = addresses
        .iter()
        .enumerate()
        .map(|(i, a)| (Kill::AfterCreate(a.clone()), (i % 3 == 1).then(|| Kill::BeforeDelete(before_deletes[(i / 3) % before_deletes.len()].to_string()))))
        .collect();
    for _ in 0..randoms.unwrap_or(5) {
        points.push((Kill::random(&mut rng, 2500), Some(Kill::random(&mut rng, 1500))));
    }

    let mut results: Vec<Result<Converged, Failure>> = Vec::new();
    let mut report = |name: String, t: std::time::Instant, r: Result<Converged, Failure>| {
        let how = match &r {
            Ok(c) => format!("converged{} (the plan after it: {})", if c.killed { "" } else { " (finished before the kill)" }, c.left),
            Err(f) => format!("[{}] {}", f.kind, f.detail),
        };
        eprintln!("{:>5.1} s  {name}: {how}", t.elapsed().as_secs_f64());
        let failed = r.is_err();
        results.push(r);
        failed
    };
    for (kill, destroy_kill) in &points {
        let t = std::time::Instant::now();
        let name = format!("{kill}{}", destroy_kill.as_ref().map(|k| format!(", destroy: {k}")).unwrap_or_default());
        if report(name, t, campaign.create_point(kill, destroy_kill.as_ref())) {
            campaign.reset();
        }
    }

    // Updates killed at random: the unit's command and the site's domain change, back and forth.
    if let Err(f) = campaign.converge(&GW2, "before the updates") {
        panic!("[{}] {}", f.kind, f.detail);
    }
    for i in 0..randoms.unwrap_or(4) {
        let to = if i % 2 == 0 { &NEXT } else { &GW2 };
        let (t, kill) = (std::time::Instant::now(), Kill::random(&mut rng, 600));
        if report(format!("update to {}: {kill}", to.domain), t, campaign.update_point(to, &kill)) {
            campaign.reset();
            let _ = campaign.converge(to, "after a reset");
        }
    }
    let last = campaign.destroy(None, "the last destroy");
    let t = std::time::Instant::now();
    if last.is_ok() && report("abort after the create of vps_ufw.firewall, then destroy".into(), t, campaign.destroy_after_the_firewall_point()) {
        campaign.reset();
    }

    let failed = |kind: &str| results.iter().filter(|r| r.as_ref().is_err_and(|f| f.kind == kind)).count();
    let summary = format!(
        "seed {seed}: {} kill points ({} random kills came after the run finished), {} converged; failed: {}; {:.0} s",
        results.len(),
        results.iter().filter(|r| r.as_ref().is_ok_and(|c| !c.killed)).count(),
        results.iter().filter(|r| r.is_ok()).count(),
        FAILURES.iter().map(|k| format!("{k} {}", failed(k))).collect::<Vec<_>>().join(", "),
        started.elapsed().as_secs_f64()
    );
    eprintln!("{summary}");
    results.push(last.map(|()| Converged { killed: true, left: String::new() }));
    let failures: Vec<String> = results.iter().filter_map(|r| r.as_ref().err()).map(|f| format!("[{}] {}", f.kind, f.detail)).collect();
    assert!(failures.is_empty(), "{summary}\n\n{}", failures.join("\n\n"));
}

/// `infra discover vps` on a Debian configured by hand with the usual commands (a unit
/// running a script under /opt/app with its secrets in a 0600 .env, an nginx site serving a
/// directory there, a cron file with a `MAILTO=` line and a command holding `=`, UFW rules
/// made with `ufw allow`): the stack written holds
/// exactly those objects (none of what Debian's packages ship), references the script,
/// directory and unit instead of repeating their names, never the secret, and plans as
/// imports only; applied, the next plan is empty, and it is formatted.
#[test]
fn a_host_configured_by_hand_is_discovered_into_a_stack_that_plans_as_imports_only() {
    let debian = boot_debian();
    let secret = "DB_PASSWORD=hunter2-do-not-leak";
    let unit = "[Unit]\nDescription=app made by hand\nAfter=network.target\n\n[Service]\nEnvironmentFile=/opt/app/.env\nExecStart=/opt/app/run.sh\n\n[Install]\nWantedBy=multi-user.target\n";
    let site = "server {\n  listen 8081;\n  root /opt/app/static;\n}\n";
    debian.ssh(&format!(
        "set -e
mkdir -p /opt/app/static
printf '#!/bin/sh\\nexec sleep infinity\\n' > /opt/app/run.sh && chmod 755 /opt/app/run.sh
printf '%s\\n' '{secret}' > /opt/app/.env && chmod 600 /opt/app/.env
printf 'hello\\n' > /opt/app/static/index.html
printf '%s' '{unit}' > /etc/systemd/system/app.service
systemctl daemon-reload && systemctl enable --now app.service
printf '%s' '{site}' > /etc/nginx/sites-available/app.conf
ln -s /etc/nginx/sites-available/app.conf /etc/nginx/sites-enabled/app.conf
nginx -t 2>/dev/null && systemctl reload nginx
printf 'MAILTO=ops@example.com\\n30 3 * * * root systemctl restart app.service && logger -t app restarted=1\\n' > /etc/cron.d/app-restart
ufw allow 22/tcp >/dev/null
ufw allow from 10.0.0.0/8 to any port 5432 >/dev/null
ufw --force enable >/dev/null"
    ));
    assert_eq!(debian.ssh("systemctl is-active app.service").trim(), "active");
    let work = tempfile::tempdir().unwrap();
    let key = debian.client_key.display().to_string();
    let args =
        ["discover", "vps", "--host", &debian.netns.ns_ip, "--private-key-file", &key, "--host-key", &debian.host_key, "--path", "/opt/app", "--out", "stack"];
    let (code, out) = infra(work.path(), &args);
    assert_eq!(code, 0, "{out}");
    let dir = work.path().join("stack");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["cron.tf", "files.tf", "firewall.tf", "imports.tf", "nginx.tf", "provider.tf", "services.tf"]);
    for n in &names {
        eprintln!("--- {n}\n{}", read(n));
    }
    // Compared with spaces squashed: the alignment is fmt's business.
    let read = |f: &str| read(f).split_whitespace().collect::<Vec<_>>().join(" ");
    let all: String = names.iter().map(|n| read(n)).collect();
    let blocks = |kind: &str| all.matches(&format!("resource \"{kind}\" ")).count();
    // Only what was configured by hand: ssh, nginx's default site, cron's e2scrub_all and the
    // enable links and masks under /etc/systemd/system are Debian's.
    assert_eq!(
        [
            blocks("vps_systemd_unit"),
            blocks("vps_nginx_site"),
            blocks("vps_cron_job"),
            blocks("vps_ufw"),
            blocks("vps_ufw_rule"),
            blocks("vps_directory"),
            blocks("vps_file")
        ],
        [1, 1, 1, 1, 2, 2, 3],
        "{all}"
    );
    let services = read("services.tf");
    assert!(services.contains("resource \"vps_systemd_unit\" \"app\""), "{services}");
    assert!(services.contains("EnvironmentFile=${vps_file.app_env.path}") && services.contains("ExecStart=${vps_file.app_run_sh.path}"), "{services}");
    assert!(services.contains("<<-EOT"), "a unit file reads as a heredoc: {services}");
    let nginx = read("nginx.tf");
    assert!(nginx.contains("resource \"vps_nginx_site\" \"app\"") && nginx.contains("root ${vps_directory.app_static.path};"), "{nginx}");
    assert!(!nginx.contains("\"default\""), "{nginx}");
    let cron = read("cron.tf");
    assert!(cron.contains("resource \"vps_cron_job\" \"app_restart\"") && cron.contains("systemctl restart ${vps_systemd_unit.app.name}"), "{cron}");
    // The file's variable line is the job's environment; the `=` in the command stays in it.
    assert!(cron.contains("environment = { MAILTO = \"ops@example.com\" }") && cron.contains("&& logger -t app restarted=1\""), "{cron}");
    let firewall = read("firewall.tf");
    assert!(firewall.contains("resource \"vps_ufw\" \"this\""), "{firewall}");
    assert!(
        firewall.contains("resource \"vps_ufw_rule\" \"port_22_tcp\"") && firewall.contains("resource \"vps_ufw_rule\" \"port_5432_from_10_0_0_0_8\""),
        "{firewall}"
    );
    assert!(firewall.contains("from = \"10.0.0.0/8\"") && firewall.contains("protocol = \"any\""), "{firewall}");
    let files = read("files.tf");
    assert!(files.contains("path = \"${vps_directory.app.path}/run.sh\"") && files.contains("mode = \"0755\""), "{files}");
    assert!(files.contains("sensitive_content = null # sensitive"), "the .env's content is left out: {files}");
    let imports = read("imports.tf");
    assert!(imports.contains("id = \"allow any 5432 10.0.0.0/8\"") && imports.contains("id = \"/opt/app/.env\""), "{imports}");
    assert!(!all.contains("hunter2"), "the secret is never written: {all}");
    let (code, out) = infra(&dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Plan: 11 to import, 0 to add, 0 to change, 0 to destroy."), "{out}");
    let (code, out) = infra(&dir, &["apply", "-auto-approve"]);
    assert_eq!(code, 0, "{out}");
    let state = std::fs::read_to_string(dir.join("infra.tfstate")).unwrap();
    assert!(state.contains("\"/opt/app/.env\""), "{state}");
    let (code, out) = infra(&dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = infra(&dir, &["fmt", "-check"]);
    assert_eq!(code, 0, "{out}");
    // The host is as it was made: the import changed nothing.
    assert_eq!(debian.ssh("cat /opt/app/.env").trim(), secret);
    assert_eq!(debian.ssh("systemctl is-active app.service").trim(), "active");
}

/// Accounts and groups made by hand: drift lists them (not Debian's own), `infra discover vps`
/// writes them as a stack that plans as imports only (the group useradd made with an account is
/// the account's), an import block by name plans clean, a change of shell or groups is made in
/// place with usermod, and destroy removes the account, its group and its (untouched) home.
#[test]
fn accounts_made_by_hand_are_discovered_imported_changed_and_deleted() {
    let debian = boot_debian();
    debian.ssh("groupadd team && useradd -m -s /bin/sh -G team,adm alice");
    let before = debian.ssh("getent passwd alice; getent group alice team");
    let work = tempfile::tempdir().unwrap();
    let key = debian.client_key.display().to_string();
    let args = ["discover", "vps", "--host", &debian.netns.ns_ip, "--private-key-file", &key, "--host-key", &debian.host_key, "--out", "stack"];
    let (code, out) = infra(work.path(), &args);
    assert_eq!(code, 0, "{out}");
    let dir = work.path().join("stack");
    let users = std::fs::read_to_string(dir.join("users.tf")).unwrap_or_else(|e| panic!("users.tf: {e}\n{out}"));
    let squashed = users.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(squashed.contains("resource \"vps_user\" \"alice\"") && squashed.contains("resource \"vps_group\" \"team\""), "{users}");
    assert!(!squashed.contains("resource \"vps_group\" \"alice\""), "alice's own group is alice's: {users}");
    assert!(squashed.contains("shell = \"/bin/sh\"") && squashed.contains("\"adm\"") && squashed.contains("\"team\""), "{users}");
    assert!(!squashed.contains("\"root\"") && !squashed.contains("nobody"), "Debian's own accounts are not listed: {users}");
    let (code, out) = infra(&dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Plan: 2 to import, 0 to add, 0 to change, 0 to destroy."), "{out}");
    let (code, out) = infra(&dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(infra(&dir, &["plan", "--detailed-exitcode"]).0, 0);
    assert_eq!(debian.ssh("getent passwd alice; getent group alice team"), before, "the import changed nothing");

    // A stack of its own: an import block by name, then changes in place, then destroy.
    let stack = |shell: &str, groups: &str| {
        format!(
            "{}\nimport {{\n  to = vps_user.alice\n  id = \"alice\"\n}}\n\nresource \"vps_user\" \"alice\" {{\n  name   = \"alice\"\n  shell  = \"{shell}\"\n  groups = [{groups}]\n}}\n\nresource \"vps_group\" \"ops\" {{\n  name   = \"ops\"\n  system = true\n}}\n",
            debian.provider_block("")
        )
    };
    let own = tempfile::tempdir().unwrap();
    let d = own.path();
    std::fs::write(d.join("main.tf"), stack("/bin/sh", "\"adm\", \"team\"")).unwrap();
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Plan: 1 to import, 1 to add, 0 to change, 0 to destroy."), "{out}");
    let (code, out) = infra(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    let gid: u32 = debian.ssh("getent group ops | cut -d: -f3").trim().parse().unwrap();
    assert!(gid < 1000, "a system group: {gid}");
    std::fs::write(d.join("main.tf"), stack("/bin/bash", "\"ops\"").replace("import {\n  to = vps_user.alice\n  id = \"alice\"\n}\n", "")).unwrap();
    let (code, out) = infra(d, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_user.alice will be updated in-place") && out.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{out}");
    let uid = debian.ssh("id -u alice");
    let (code, out) = infra(d, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("getent passwd alice | cut -d: -f7; id -Gn alice; id -u alice"), format!("/bin/bash\nalice ops\n{uid}"));
    assert_eq!(infra(d, &["plan", "--detailed-exitcode"]).0, 0);
    // Drift lists the accounts and groups this stack does not manage, never Debian's own (but
    // when asked), nor the group useradd made with alice.
    let (code, report) = drift(d, &[]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(unmanaged(&report), [("vps_group".to_string(), "team".to_string())], "{report}");
    let (_, report) = drift(d, &["--include-defaults"]);
    let defaults = unmanaged(&report);
    assert!(defaults.contains(&("vps_user".into(), "www-data".into())) && defaults.contains(&("vps_group".into(), "adm".into())), "{defaults:?}");
    assert!(!defaults.iter().any(|(t, id)| (t == "vps_user" || t == "vps_group") && id == "alice"), "{defaults:?}");
    // By hand again: drift, named.
    debian.ssh("usermod -s /bin/sh alice");
    let (code, out) = infra(d, &["plan", "--refresh-only", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("vps_user.alice") && out.contains("/bin/sh"), "{out}");
    let (code, out) = infra(d, &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(debian.ssh("getent passwd alice; getent group alice ops; ls -d /home/alice 2>/dev/null"), "", "account, groups and home are gone");
    assert!(!debian.ssh("getent group team").is_empty(), "team is not this stack's");
}
