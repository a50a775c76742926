//! The three printers of a drift report: human (grouped by kind, colored unless NO_COLOR),
//! `--json` (its own versioned shape, `docs/drift-json.md`) and `--markdown` (a pull request
//! comment or issue body under GitHub's 65,536-character limit).

use crate::render::Style;
use infra_core::drift::{AttrChange, Finding, Kind, Report};
use infra_lang::value::{to_json, Value};
use serde::Serialize;
use std::collections::BTreeMap;

pub const FORMAT_VERSION: &str = "1.0";

/// GitHub refuses comments and issue bodies longer than this.
pub const MARKDOWN_LIMIT: usize = 65_536;

const KINDS: [Kind; 3] = [Kind::Changed, Kind::Missing, Kind::Unmanaged];

fn compact(v: Option<&Value>, sensitive: bool) -> String {
    if sensitive {
        return "(sensitive value)".into();
    }
    match v {
        None => "(absent)".into(),
        Some(v) => serde_json::to_string(&to_json(v)).unwrap_or_default(),
    }
}

fn who(f: &Finding) -> String {
    match &f.address {
        Some(a) => a.clone(),
        None => format!("{} {}", f.type_name, f.id.as_deref().unwrap_or("?")),
    }
}

fn extra(f: &Finding) -> String {
    let mut parts = Vec::new();
    if f.address.is_some() {
        parts.extend(f.id.clone());
    }
    parts.extend(f.name.as_ref().map(|n| format!("{n:?}")));
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

fn summary(r: &Report) -> String {
    let counts: Vec<String> = KINDS.iter().map(|k| format!("{} {}", r.count(*k), k.name())).collect();
    counts.join(", ")
}

/// Rules that hid something, with how much and why.
fn rules_used(r: &Report) -> Vec<(usize, usize)> {
    let mut used: BTreeMap<usize, usize> = BTreeMap::new();
    for f in &r.findings {
        match f.ignored_by {
            Some(i) => *used.entry(i).or_default() += 1,
            None => {
                for c in f.changes.iter().filter_map(|c| c.ignored_by) {
                    *used.entry(c).or_default() += 1;
                }
            }
        }
    }
    used.into_iter().collect()
}

/// Human output.
pub fn human(r: &Report, st: &Style, show_ignored: bool) -> String {
    let mut out = String::new();
    let line = |c: &AttrChange, st: &Style| -> String {
        let mut s = format!("      {}: {} -> {}", c.path, compact(c.before.as_ref(), c.sensitive), compact(c.after.as_ref(), c.sensitive));
        if c.before.is_none() && !c.sensitive {
            s = format!("      {} {}: {}", st.green("+"), c.path, compact(c.after.as_ref(), false));
        } else if c.after.is_none() && !c.sensitive {
            s = format!("      {} {}: {}", st.red("-"), c.path, compact(c.before.as_ref(), false));
        }
        s
    };
    for kind in KINDS {
        let fs: Vec<&Finding> = r.shown().filter(|f| f.kind == kind).collect();
        if fs.is_empty() {
            continue;
        }
        let (title, sym) = match kind {
            Kind::Changed => (st.yellow(&format!("Changed outside infra ({})", fs.len())), st.yellow("~")),
            Kind::Missing => (st.red(&format!("Missing: in state, gone in reality ({})", fs.len())), st.red("-")),
            Kind::Unmanaged => (st.cyan(&format!("Unmanaged: exists, in no state ({})", fs.len())), st.cyan("?")),
        };
        out.push_str(&format!("{}\n", st.bold(&title)));
        for f in fs {
            out.push_str(&format!("  {sym} {}{}\n", st.bold(&who(f)), extra(f)));
            for c in f.shown_changes() {
                out.push_str(&line(c, st));
                out.push('\n');
            }
        }
        out.push('\n');
    }
    if !r.coverage.is_empty() {
        out.push_str(&format!("{}\n", st.bold("Coverage (managed / all objects found in scope)")));
        let w = r.coverage.keys().map(String::len).max().unwrap_or(0);
        for (ty, c) in &r.coverage {
            out.push_str(&format!("  {ty:w$}  {:>3} managed  {:>3} unmanaged  {:5.1}%\n", c.managed, c.unmanaged, c.percent()));
        }
        out.push('\n');
    }
    for (i, n) in rules_used(r) {
        if let Some(rule) = r.rules.get(i) {
            out.push_str(&format!("Ignored {n} by `{}` ({}): {}\n", rule.text(), rule.origin, rule.reason));
        }
    }
    if show_ignored {
        for f in &r.findings {
            let hidden: Vec<&AttrChange> =
                if f.ignored_by.is_some() { f.changes.iter().collect() } else { f.changes.iter().filter(|c| c.ignored_by.is_some()).collect() };
            if f.ignored_by.is_none() && hidden.is_empty() {
                continue;
            }
            let rule = f.ignored_by.or(hidden.first().and_then(|c| c.ignored_by)).and_then(|i| r.rules.get(i));
            out.push_str(&format!(
                "  {} {} {}{} [{}]\n",
                st.yellow("ignored"),
                f.kind.name(),
                who(f),
                extra(f),
                rule.map(|x| format!("{}: {}", x.text(), x.reason)).unwrap_or_default()
            ));
            for c in hidden {
                out.push_str(&line(c, st));
                out.push('\n');
            }
        }
    }
    if r.has_drift() {
        out.push_str(&format!("{} {}.\n", st.bold(&st.yellow("Drift found:")), summary(r)));
    } else {
        out.push_str(&format!(
            "{} infra's state matches reality{}.\n",
            st.bold(&st.green("No drift:")),
            if r.ignored() > 0 { " (apart from what the ignore rules hide)" } else { "" }
        ));
    }
    out
}

#[derive(Serialize)]
pub struct DriftJson {
    pub coverage: BTreeMap<String, CoverageJson>,
    pub drift: bool,
    pub findings: Vec<FindingJson>,
    pub format_version: &'static str,
    pub infra_version: &'static str,
    pub listings: usize,
    pub summary: SummaryJson,
}

#[derive(Serialize)]
pub struct SummaryJson {
    pub changed: usize,
    pub ignored: usize,
    pub missing: usize,
    pub unmanaged: usize,
}

#[derive(Serialize)]
pub struct CoverageJson {
    pub managed: usize,
    pub percent: f64,
    pub unmanaged: usize,
}

#[derive(Serialize)]
pub struct FindingJson {
    pub address: Option<String>,
    pub changes: Vec<ChangeJson>,
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored_by: Option<RuleJson>,
    pub kind: &'static str,
    pub name: Option<String>,
    pub provider: String,
    #[serde(rename = "type")]
    pub type_name: String,
}

#[derive(Serialize)]
pub struct ChangeJson {
    pub after: serde_json::Value,
    pub after_present: bool,
    pub before: serde_json::Value,
    pub before_present: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored_by: Option<RuleJson>,
    pub path: String,
    pub sensitive: bool,
}

#[derive(Serialize)]
pub struct RuleJson {
    pub origin: String,
    pub reason: String,
    pub rule: String,
}

fn rule_json(r: &Report, i: Option<usize>) -> Option<RuleJson> {
    let rule = r.rules.get(i?)?;
    Some(RuleJson { origin: rule.origin.clone(), reason: rule.reason.clone(), rule: rule.text() })
}

/// `--json`: shown findings, and with `show_ignored` the hidden ones with the rule that hid them.
pub fn json(r: &Report, show_ignored: bool) -> DriftJson {
    let findings = r
        .findings
        .iter()
        .filter(|f| show_ignored || f.ignored_by.is_none())
        .map(|f| FindingJson {
            address: f.address.clone(),
            changes: f
                .changes
                .iter()
                .filter(|c| show_ignored || c.ignored_by.is_none())
                .map(|c| ChangeJson {
                    after: if c.sensitive { serde_json::Value::String("(sensitive value)".into()) } else { c.after.as_ref().map(to_json).unwrap_or_default() },
                    after_present: c.after.is_some() || c.sensitive,
                    before: if c.sensitive {
                        serde_json::Value::String("(sensitive value)".into())
                    } else {
                        c.before.as_ref().map(to_json).unwrap_or_default()
                    },
                    before_present: c.before.is_some() || c.sensitive,
                    ignored_by: rule_json(r, c.ignored_by),
                    path: c.path.clone(),
                    sensitive: c.sensitive,
                })
                .collect(),
            id: f.id.clone(),
            ignored_by: rule_json(r, f.ignored_by),
            kind: f.kind.name(),
            name: f.name.clone(),
            provider: f.provider.clone(),
            type_name: f.type_name.clone(),
        })
        .collect();
    DriftJson {
        coverage: r
            .coverage
            .iter()
            .map(|(t, c)| (t.clone(), CoverageJson { managed: c.managed, percent: (c.percent() * 10.0).round() / 10.0, unmanaged: c.unmanaged }))
            .collect(),
        drift: r.has_drift(),
        findings,
        format_version: FORMAT_VERSION,
        infra_version: env!("CARGO_PKG_VERSION"),
        listings: r.listings,
        summary: SummaryJson { changed: r.count(Kind::Changed), ignored: r.ignored(), missing: r.count(Kind::Missing), unmanaged: r.count(Kind::Unmanaged) },
    }
}

/// A table cell: one line, no pipes, code spans closed.
fn cell(s: &str) -> String {
    let s: String = s.replace('|', "\\|").replace(['\n', '\r'], " ").replace('`', "'");
    if s.chars().count() > 200 {
        format!("{}…", s.chars().take(200).collect::<String>())
    } else {
        s
    }
}

/// `--markdown`: a summary line, a table per kind, attribute changes collapsed in
/// `<details>`; rows stop before `limit` characters with a count of what was left out.
pub fn markdown(r: &Report, stack: &str, show_ignored: bool, limit: usize) -> String {
    let mut out = format!("## Drift report: `{}`\n\n", cell(stack));
    if r.has_drift() {
        out.push_str(&format!("**Drift found: {}.**", summary(r)));
    } else {
        out.push_str("**No drift:** infra's state matches reality.");
    }
    if r.ignored() > 0 {
        out.push_str(&format!(" {} hidden by ignore rules.", r.ignored()));
    }
    out.push_str("\n\n");
    // Leave room for the closing lines and the truncation note.
    let budget = limit.saturating_sub(600);
    let mut left_out = 0usize;
    let push = |out: &mut String, s: String, left_out: &mut usize| {
        if out.len() + s.len() > budget {
            *left_out += 1;
            false
        } else {
            out.push_str(&s);
            true
        }
    };
    for kind in KINDS {
        let fs: Vec<&Finding> = r.shown().filter(|f| f.kind == kind).collect();
        if fs.is_empty() {
            continue;
        }
        let title = match kind {
            Kind::Changed => "Changed outside infra",
            Kind::Missing => "Missing (in state, gone in reality)",
            Kind::Unmanaged => "Unmanaged (exists, in no state)",
        };
        push(&mut out, format!("### {title} ({})\n\n", fs.len()), &mut left_out);
        let head = match kind {
            Kind::Unmanaged => "| Type | Id | Name |\n|---|---|---|\n",
            Kind::Changed => "| Address | Id | Attributes |\n|---|---|---|\n",
            Kind::Missing => "| Address | Type | Id |\n|---|---|---|\n",
        };
        push(&mut out, head.to_string(), &mut left_out);
        for f in &fs {
            let row = match kind {
                Kind::Unmanaged => {
                    format!("| `{}` | `{}` | {} |\n", cell(&f.type_name), cell(f.id.as_deref().unwrap_or("")), cell(f.name.as_deref().unwrap_or("")))
                }
                Kind::Changed => {
                    let paths: Vec<String> = f.shown_changes().map(|c| format!("`{}`", cell(&c.path))).collect();
                    let mut paths = paths;
                    paths.dedup();
                    format!("| `{}` | `{}` | {} |\n", cell(f.address.as_deref().unwrap_or("")), cell(f.id.as_deref().unwrap_or("")), paths.join(", "))
                }
                Kind::Missing => {
                    format!("| `{}` | `{}` | `{}` |\n", cell(f.address.as_deref().unwrap_or("")), cell(&f.type_name), cell(f.id.as_deref().unwrap_or("")))
                }
            };
            push(&mut out, row, &mut left_out);
        }
        out.push('\n');
        if kind == Kind::Changed {
            push(
                &mut out,
                "<details><summary>Attribute changes (recorded → real)</summary>\n\n| Address | Path | Recorded | Real |\n|---|---|---|---|\n".into(),
                &mut left_out,
            );
            for f in &fs {
                for c in f.shown_changes() {
                    let row = format!(
                        "| `{}` | `{}` | `{}` | `{}` |\n",
                        cell(f.address.as_deref().unwrap_or("")),
                        cell(&c.path),
                        cell(&compact(c.before.as_ref(), c.sensitive)),
                        cell(&compact(c.after.as_ref(), c.sensitive))
                    );
                    push(&mut out, row, &mut left_out);
                }
            }
            out.push_str("\n</details>\n\n");
        }
    }
    if !r.coverage.is_empty() {
        push(&mut out, "<details><summary>Coverage per type</summary>\n\n| Type | Managed | Unmanaged | Coverage |\n|---|---|---|---|\n".into(), &mut left_out);
        for (ty, c) in &r.coverage {
            push(&mut out, format!("| `{}` | {} | {} | {:.1}% |\n", cell(ty), c.managed, c.unmanaged, c.percent()), &mut left_out);
        }
        out.push_str("\n</details>\n\n");
    }
    let used = rules_used(r);
    if !used.is_empty() {
        push(&mut out, "<details><summary>Ignore rules used</summary>\n\n| Rule | Where | Hid | Reason |\n|---|---|---|---|\n".into(), &mut left_out);
        for (i, n) in used {
            if let Some(rule) = r.rules.get(i) {
                push(&mut out, format!("| `{}` | {} | {n} | {} |\n", cell(&rule.text()), cell(&rule.origin), cell(&rule.reason)), &mut left_out);
            }
        }
        out.push_str("\n</details>\n\n");
    }
    if show_ignored {
        let hidden: Vec<&Finding> = r.findings.iter().filter(|f| f.ignored_by.is_some()).collect();
        if !hidden.is_empty() {
            push(&mut out, "<details><summary>Ignored findings</summary>\n\n| Kind | Object | Rule |\n|---|---|---|\n".into(), &mut left_out);
            for f in hidden {
                let rule = f.ignored_by.and_then(|i| r.rules.get(i)).map(|x| x.text()).unwrap_or_default();
                push(&mut out, format!("| {} | `{}` | `{}` |\n", f.kind.name(), cell(&who(f)), cell(&rule)), &mut left_out);
            }
            out.push_str("\n</details>\n\n");
        }
    }
    if left_out > 0 {
        out.push_str(&format!("_Truncated: {left_out} more rows did not fit GitHub's comment limit; run `infra drift --json` for everything._\n"));
    }
    out
}
