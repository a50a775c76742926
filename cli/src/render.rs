//! Human output: diagnostics with file:line:col and the source line underlined, plans in
//! Terraform's shape, values as HCL, colors unless NO_COLOR is set.

use infra_core::plan::{Action, Plan, PlanMode, Reason, ResourceChange};
use infra_lang::diag::{Diagnostic, Severity};
use infra_lang::source::SourceMap;
use infra_lang::value::{format_number, Value};
use std::collections::BTreeSet;
use std::path::Path;

pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn from_env() -> Style {
        use std::io::IsTerminal;
        Style { color: std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal() }
    }
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
    pub fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    pub fn cyan(&self, s: &str) -> String {
        self.paint("36", s)
    }
}

pub fn diagnostic(d: &Diagnostic, sources: &SourceMap, base: &Path, st: &Style) -> String {
    let mut out = String::new();
    let head = match d.severity {
        Severity::Error => st.red(&st.bold("Error:")),
        Severity::Warning => st.yellow(&st.bold("Warning:")),
    };
    out.push_str(&format!("\n{head} {}\n", st.bold(&d.summary)));
    if let Some(span) = &d.subject {
        let pos = sources.pos(span.file, span.range.start);
        let end = sources.pos(span.file, span.range.end.max(span.range.start));
        out.push_str(&format!("\n  on {}", sources.location(span, Some(base))));
        if let Some(a) = &d.address {
            out.push_str(&format!(", in {a}"));
        }
        out.push_str(":\n");
        let line = sources.line(span.file, pos.line);
        let gutter = format!("{:>4}", pos.line);
        out.push_str(&format!("  {gutter}: {line}\n"));
        let width = if end.line == pos.line { (end.col.saturating_sub(pos.col)).max(1) } else { line.chars().count().saturating_sub(pos.col - 1).max(1) };
        out.push_str(&format!("  {}  {}{}\n", " ".repeat(gutter.len()), " ".repeat(pos.col - 1), st.red(&"^".repeat(width))));
    } else if let Some(a) = &d.address {
        out.push_str(&format!("\n  with {a}\n"));
    }
    if !d.detail.is_empty() {
        out.push_str(&format!("\n{}\n", d.detail));
    }
    out
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The text of a value that needs no layout, shared by both renderers.
fn scalar(v: &Value) -> Option<String> {
    Some(match v {
        Value::Sensitive(_) => "(sensitive value)".into(),
        Value::Unknown => "(known after apply)".into(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format_number(n),
        Value::String(s) if !s.contains('\n') => quote(s),
        _ => return None,
    })
}

/// A value as HCL, as Terraform shows it in plans.
pub fn value(v: &Value, indent: usize) -> String {
    if let Some(s) = scalar(v) {
        return s;
    }
    let pad = " ".repeat(indent);
    match v {
        Value::String(s) => {
            let mut out = String::from("<<-EOT\n");
            for l in s.trim_end_matches('\n').split('\n') {
                out.push_str(&format!("{pad}    {l}\n"));
            }
            out.push_str(&format!("{pad}EOT"));
            out
        }
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            if items.is_empty() {
                return "[]".into();
            }
            let mut out = String::from("[\n");
            for i in items {
                out.push_str(&format!("{pad}    {},\n", value(i, indent + 4)));
            }
            out.push_str(&format!("{pad}]"));
            out
        }
        Value::Map(m) | Value::Object(m) => {
            if m.is_empty() {
                return "{}".into();
            }
            let w = m.keys().map(|k| key_text(k).len()).max().unwrap_or(0);
            let mut out = String::from("{\n");
            for (k, i) in m {
                out.push_str(&format!("{pad}    {:<w$} = {}\n", key_text(k), value(i, indent + 4)));
            }
            out.push_str(&format!("{pad}}}"));
            out
        }
        _ => String::new(),
    }
}

fn key_text(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') && !k.starts_with(|c: char| c.is_ascii_digit()) {
        k.to_string()
    } else {
        quote(k)
    }
}

fn action_line(c: &ResourceChange, st: &Style) -> String {
    let a = &c.addr;
    let verb = match (c.action, &c.reason) {
        (Action::Create, _) => "will be created".to_string(),
        (Action::Update, _) if c.importing.is_some() => "will be updated in-place (imported)".to_string(),
        (Action::Update, _) => "will be updated in-place".to_string(),
        (Action::Read, Reason::ReadBecauseDependencyPending) => {
            "will be read during apply\n  # (depends on a resource or a module with changes pending)".to_string()
        }
        (Action::Read, _) => "will be read during apply\n  # (config refers to values not yet known)".to_string(),
        (Action::Delete, Reason::DeleteBecauseNoResourceConfig) => format!("will be destroyed\n  # (because {} is not in configuration)", a.resource()),
        (Action::Delete, Reason::DeleteBecauseCountIndex) => {
            format!("will be destroyed\n  # (because index {} is out of range for count)", a.key.as_ref().map(|k| k.to_string()).unwrap_or_default())
        }
        (Action::Delete, Reason::DeleteBecauseEachKey) => {
            format!("will be destroyed\n  # (because key {} is not in for_each map)", a.key.as_ref().map(|k| k.to_string()).unwrap_or_default())
        }
        (Action::Delete, Reason::DeleteBecauseDeposed) => {
            return format!(
                "  {} (deposed object) will be destroyed\n  # (left by an interrupted create-before-destroy replacement)",
                st.bold(&format!("# {a}"))
            )
        }
        (Action::Delete, Reason::DeleteBecauseNoModule) => format!("will be destroyed\n  # (because {} is not in configuration)", a.module),
        (Action::Delete, _) => "will be destroyed".to_string(),
        (Action::DeleteThenCreate | Action::CreateThenDelete, Reason::ReplaceByRequest) => "will be replaced, as requested".to_string(),
        (Action::DeleteThenCreate | Action::CreateThenDelete, Reason::ReplaceByTriggers) => {
            "will be replaced due to changes in replace_triggered_by".to_string()
        }
        (Action::DeleteThenCreate | Action::CreateThenDelete, _) => "must be replaced".to_string(),
        (Action::NoOp, _) => match (&c.moved_from, &c.importing) {
            (Some(from), _) => return format!("  {} has moved to {}", st.bold(&format!("# {from}")), st.bold(&a.to_string())),
            (None, Some(id)) => return format!("  {} will be imported (id \"{id}\")", st.bold(&format!("# {a}"))),
            (None, None) => "is unchanged".to_string(),
        },
    };
    let mut out = format!("  {} {}", st.bold(&format!("# {a}")), verb);
    if let Some(from) = &c.moved_from {
        out.push_str(&format!("\n  # (moved from {from})"));
    }
    if let Some(id) = &c.importing {
        out.push_str(&format!("\n  # (imported from \"{id}\")"));
    }
    out
}

fn sym(a: Action, st: &Style) -> String {
    match a {
        Action::Create => st.green("+"),
        Action::Delete => st.red("-"),
        Action::Update => st.yellow("~"),
        Action::DeleteThenCreate => format!("{}/{}", st.red("-"), st.green("+")),
        Action::CreateThenDelete => format!("{}/{}", st.green("+"), st.red("-")),
        Action::Read => st.cyan("<="),
        Action::NoOp => " ".into(),
    }
}

/// Line diff of two multi-line texts (longest common subsequence).
pub fn line_diff(old: &str, new: &str, pad: &str, st: &Style) -> String {
    let a: Vec<&str> = old.trim_end_matches('\n').split('\n').collect();
    let b: Vec<&str> = new.trim_end_matches('\n').split('\n').collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!("{pad}      {}\n", a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str(&format!("{pad}    {} {}\n", st.red("-"), a[i]));
            i += 1;
        } else {
            out.push_str(&format!("{pad}    {} {}\n", st.green("+"), b[j]));
            j += 1;
        }
    }
    out
}

/// A JSON-encoded string, pretty-printed so it can be diffed key by key.
fn as_pretty_json(s: &str) -> Option<String> {
    let t = s.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    serde_json::from_str::<serde_json::Value>(s).ok().and_then(|j| serde_json::to_string_pretty(&j).ok())
}

fn attr_change(name: &str, w: usize, before: Option<&Value>, after: Option<&Value>, forces: bool, st: &Style) -> Option<String> {
    attr_change_at(name, w, before, after, forces, st, 4)
}

/// One attribute's line, `indent` columns in (4 for a resource's own attributes, 4 more per
/// nested block).
fn attr_change_at(name: &str, w: usize, before: Option<&Value>, after: Option<&Value>, forces: bool, st: &Style, indent: usize) -> Option<String> {
    let pad = &" ".repeat(indent);
    let vi = indent + 4;
    let note = if forces { st.red(" # forces replacement") } else { String::new() };
    match (before, after) {
        (None | Some(Value::Null), Some(a)) if !a.is_null() => Some(format!("{pad}  {} {:<w$} = {}{note}\n", st.green("+"), name, value(a, vi))),
        (Some(b), None | Some(Value::Null)) if !b.is_null() => Some(format!("{pad}  {} {:<w$} = {} -> null{note}\n", st.red("-"), name, value(b, vi))),
        (Some(b), Some(a)) if !b.deep_unmark().equals(&a.deep_unmark()) || (a.is_unknown() && !b.is_unknown()) => {
            if let (Value::String(x), Value::String(y)) = (b, a) {
                let (x2, y2) = match (as_pretty_json(x), as_pretty_json(y)) {
                    (Some(p), Some(q)) => (p, q),
                    _ => (x.clone(), y.clone()),
                };
                if x2.contains('\n') || y2.contains('\n') {
                    return Some(format!("{pad}  {} {:<w$} = <<-EOT{note}\n{}{pad}      EOT\n", st.yellow("~"), name, line_diff(&x2, &y2, pad, st)));
                }
            }
            if b.is_sensitive() || a.is_sensitive() {
                return Some(format!("{pad}  {} {:<w$} = (sensitive value){note}\n", st.yellow("~"), name));
            }
            Some(format!("{pad}  {} {:<w$} = {} -> {}{note}\n", st.yellow("~"), name, value(b, vi), value(a, vi)))
        }
        _ => None,
    }
}

/// The elements of a list or set of nested blocks (objects), if `v` is one.
fn block_seq(v: Option<&Value>) -> Option<Vec<Value>> {
    let items = v?.unmark().0.as_seq()?;
    (!items.is_empty() && items.iter().all(|i| matches!(i.unmark().0, Value::Object(_) | Value::Map(_)))).then(|| items.to_vec())
}

/// A list or set of nested blocks, block by block as Terraform shows it: blocks found on both
/// sides are hidden, the others are paired in order and shown with only their changed
/// attributes marked; `None` when nothing changed.
fn block_list_change(name: &str, before: Option<&Value>, after: Option<&Value>, forces: bool, st: &Style, indent: usize) -> Option<String> {
    let mut old = block_seq(before).unwrap_or_default();
    let mut new = block_seq(after).unwrap_or_default();
    let mut unchanged = 0;
    old.retain(|b| match new.iter().position(|a| a.deep_unmark().equals(&b.deep_unmark())) {
        Some(i) => {
            new.remove(i);
            unchanged += 1;
            false
        }
        None => true,
    });
    if old.is_empty() && new.is_empty() {
        return None;
    }
    let mut out = String::new();
    let n = old.len().max(new.len());
    for i in 0..n {
        let (b, a) = (old.get(i), new.get(i));
        let sym = match (b, a) {
            (Some(_), Some(_)) => st.yellow("~"),
            (Some(_), None) => st.red("-"),
            _ => st.green("+"),
        };
        out.push_str(&block_body(name, &sym, b, a, forces, st, indent));
    }
    if unchanged > 0 && before.is_some() && after.is_some() {
        out.push_str(&format!("{}    # ({unchanged} unchanged block{} hidden)\n", " ".repeat(indent), if unchanged == 1 { "" } else { "s" }));
    }
    Some(out)
}

/// One nested block: `~ volume {`, its changed attributes (and nested blocks), `}`.
fn block_body(name: &str, sym: &str, before: Option<&Value>, after: Option<&Value>, forces: bool, st: &Style, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let note = if forces { st.red(" # forces replacement") } else { String::new() };
    let mut out = format!("{pad}  {sym} {name} {{{note}\n");
    let bm = before.and_then(Value::as_map).cloned().unwrap_or_default();
    let am = after.and_then(Value::as_map).cloned().unwrap_or_default();
    let keys: BTreeSet<&String> = bm.keys().chain(am.keys()).collect();
    let w = keys.iter().filter(|k| block_seq(bm.get(**k)).is_none() && block_seq(am.get(**k)).is_none()).map(|k| k.len()).max().unwrap_or(0);
    let mut unchanged = 0;
    for k in keys {
        let (b, a) = (before.and(bm.get(k)), after.and(am.get(k)));
        let line = if block_seq(b).is_some() || block_seq(a).is_some() {
            block_list_change(k, b, a, false, st, indent + 4)
        } else {
            attr_change_at(k, w, b, a, false, st, indent + 4)
        };
        match line {
            Some(l) => out.push_str(&l),
            None => unchanged += 1,
        }
    }
    if unchanged > 0 && before.is_some() && after.is_some() {
        out.push_str(&format!("{pad}        # ({unchanged} unchanged attribute{} hidden)\n", if unchanged == 1 { "" } else { "s" }));
    }
    out.push_str(&format!("{pad}    }}\n"));
    out
}

pub fn change(c: &ResourceChange, st: &Style) -> String {
    let mut out = action_line(c, st);
    out.push('\n');
    if c.action == Action::NoOp {
        return out;
    }
    let kw = if c.addr.mode == infra_lang::config::Mode::Data { "data" } else { "resource" };
    out.push_str(&format!("  {} {kw} \"{}\" \"{}\" {{\n", sym(c.action, st), c.addr.type_name, c.addr.name));
    let before = c.before.as_ref().and_then(Value::as_map).cloned().unwrap_or_default();
    let after = c.after.as_ref().and_then(Value::as_map).cloned().unwrap_or_default();
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let w = keys.iter().map(|k| k.len()).max().unwrap_or(0);
    let mut unchanged = 0;
    for k in keys {
        let forces = c.replace_paths.contains(k);
        let (b, a) = match c.action {
            Action::Create | Action::Read => (None, after.get(k)),
            Action::Delete => (before.get(k), None),
            _ => (before.get(k), after.get(k)),
        };
        let line =
            if block_seq(b).is_some() || block_seq(a).is_some() { block_list_change(k, b, a, forces, st, 4) } else { attr_change(k, w, b, a, forces, st) };
        match line {
            Some(line) => out.push_str(&line),
            None => unchanged += 1,
        }
    }
    if unchanged > 0 && matches!(c.action, Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete) {
        out.push_str(&format!("        # ({unchanged} unchanged attribute{} hidden)\n", if unchanged == 1 { "" } else { "s" }));
    }
    out.push_str("    }\n");
    out
}

pub fn plan(p: &Plan, st: &Style) -> String {
    let mut out = String::new();
    if !p.drift.is_empty() {
        out.push_str(&format!(
            "\n{}\n\ninfra detected the following changes made outside of infra since the last apply:\n\n",
            st.bold("Note: Objects have changed outside of infra")
        ));
        for d in &p.drift {
            let mut c = d.clone();
            if c.action == Action::Delete {
                out.push_str(&format!("  {} has been deleted\n", st.bold(&format!("# {}", c.addr))));
                continue;
            }
            c.action = Action::Update;
            out.push_str(&change(&c, st).replacen("will be updated in-place", "has changed", 1));
            out.push('\n');
        }
    }
    let visible: Vec<&ResourceChange> = p.changes.iter().filter(|c| c.action != Action::NoOp || c.moved_from.is_some() || c.importing.is_some()).collect();
    let mut visible = visible;
    visible.sort_by(|a, b| a.addr.cmp(&b.addr));
    visible.extend(p.deposed.iter());
    if p.mode == PlanMode::RefreshOnly {
        if p.drift.is_empty() {
            out.push_str("\nNo changes. Your infrastructure still matches the configuration.\n");
        } else {
            out.push_str("\nThis is a refresh-only plan, so infra will not take any actions to undo these. Applying it updates the state to match.\n");
        }
        return out;
    }
    for a in &p.adopted {
        // Adoption only reads: what the interrupted run did not finish is an ordinary update.
        let completes = visible.iter().any(|c| &c.addr == a && c.action == Action::Update);
        let tail = if completes { ", and the update below completes it" } else { "" };
        out.push_str(&format!("\n  {} was created by an interrupted run and will be recorded in state{tail}\n", st.bold(&format!("# {a}"))));
    }
    if p.dropped_intents > 0 {
        out.push_str(&format!("\n  {} interrupted create(s) left nothing behind; their intents will be dropped from state\n", p.dropped_intents));
    }
    if visible.is_empty() && !p.outputs_changed() && p.adopted.is_empty() && p.dropped_intents == 0 {
        out.push_str("\nNo changes. Your infrastructure matches the configuration.\n");
        return out;
    }
    if !visible.is_empty() {
        out.push_str("\ninfra will perform the following actions:\n\n");
        for c in &visible {
            out.push_str(&change(c, st));
            out.push('\n');
        }
    }
    let add = visible.iter().filter(|c| matches!(c.action, Action::Create | Action::DeleteThenCreate | Action::CreateThenDelete)).count();
    let chg = visible.iter().filter(|c| c.action == Action::Update).count();
    let del = visible.iter().filter(|c| matches!(c.action, Action::Delete | Action::DeleteThenCreate | Action::CreateThenDelete)).count();
    let imp = visible.iter().filter(|c| c.importing.is_some()).count();
    let imp_text = if imp > 0 { format!("{imp} to import, ") } else { String::new() };
    out.push_str(&format!("{} {imp_text}{add} to add, {chg} to change, {del} to destroy.\n", st.bold("Plan:")));
    let changed_outputs: Vec<_> = p
        .outputs
        .iter()
        .filter(|(_, o)| o.before.as_ref().is_none_or(|b| !b.deep_unmark().equals(&o.after.deep_unmark())) || !o.after.is_wholly_known())
        .collect();
    if !changed_outputs.is_empty() {
        out.push_str("\nChanges to Outputs:\n");
        for (k, o) in changed_outputs {
            let after = if o.sensitive { "(sensitive value)".to_string() } else { value(&o.after, 4) };
            match &o.before {
                None => out.push_str(&format!("  {} {k} = {after}\n", st.green("+"))),
                Some(_) if o.after.is_null() => out.push_str(&format!(
                    "  {} {k} = {} -> null\n",
                    st.red("-"),
                    if o.sensitive { "(sensitive value)".into() } else { value(o.before.as_ref().unwrap_or(&Value::Null), 4) }
                )),
                Some(b) => {
                    out.push_str(&format!("  {} {k} = {} -> {after}\n", st.yellow("~"), if o.sensitive { "(sensitive value)".into() } else { value(b, 4) }))
                }
            }
        }
    }
    out
}

/// A value as `terraform console` prints it: two-space indentation, quoted keys, and the
/// collection type named where it is not a tuple or object.
pub fn console_value(v: &Value, indent: usize) -> String {
    let pad = "  ".repeat(indent);
    let inner = "  ".repeat(indent + 1);
    let seq = |items: &[Value], open: &str, close: &str| -> String {
        if items.is_empty() {
            return format!("{open}{close}");
        }
        let mut out = format!("{open}\n");
        for i in items {
            out.push_str(&format!("{inner}{},\n", console_value(i, indent + 1)));
        }
        out.push_str(&format!("{pad}{close}"));
        out
    };
    let map = |m: &std::collections::BTreeMap<String, Value>, open: &str, close: &str| -> String {
        if m.is_empty() {
            return format!("{open}{close}");
        }
        let w = m.keys().map(|k| quote(k).chars().count()).max().unwrap_or(0);
        let mut out = format!("{open}\n");
        for (k, i) in m {
            out.push_str(&format!("{inner}{:<w$} = {}\n", quote(k), console_value(i, indent + 1)));
        }
        out.push_str(&format!("{pad}{close}"));
        out
    };
    if let Some(s) = scalar(v) {
        return s;
    }
    match v {
        Value::String(s) => format!("<<EOT\n{}\nEOT", s.strip_suffix('\n').unwrap_or(s)),
        Value::Tuple(items) => seq(items, "[", "]"),
        Value::List(items) => seq(items, "tolist([", "])"),
        Value::Set(items) => seq(items, "toset([", "])"),
        Value::Object(m) => map(m, "{", "}"),
        Value::Map(m) => map(m, "tomap({", "})"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod block_tests {
    use super::*;
    use infra_lang::value::Map;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<Map>())
    }

    #[test]
    fn a_changed_nested_block_shows_only_its_changed_attributes() {
        // Terraform marks an attribute set to null `-` inside the `~` block.
        let vol = |root: Value| obj(&[("name", Value::string("data")), ("root_directory", root)]);
        let other = obj(&[("name", Value::string("logs")), ("root_directory", Value::string("/logs"))]);
        let before = Value::Set(vec![vol(Value::string("/")), other.clone()]);
        let after = Value::Set(vec![vol(Value::Null), other]);
        let st = Style { color: false };
        let text = block_list_change("volume", Some(&before), Some(&after), false, &st, 4).unwrap_or_default();
        assert_eq!(
            text,
            "      ~ volume {\n          - root_directory = \"/\" -> null\n            # (1 unchanged attribute hidden)\n        }\n        # (1 unchanged block hidden)\n"
        );
        assert!(block_list_change("volume", Some(&before), Some(&before), false, &st, 4).is_none());
    }
}
