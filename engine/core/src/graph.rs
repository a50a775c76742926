//! The configuration graph: one node per variable, local, output, resource, module call and
//! provider configuration of every module, with edges from the references collected out of
//! the syntax tree plus `depends_on`. Cycles are reported as one error naming every member.

use infra_lang::config::{Expr, Module, ProviderRef, Resource};
use infra_lang::diag::{Diagnostic, Diagnostics};
use infra_lang::refs::{body_references, references, Reference};
use infra_lang::source::{SourceMap, Span};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    Var(String),
    Local(String),
    Output(String),
    /// `type.name` or `data.type.name`.
    Resource(String),
    ModuleCall(String),
    /// `aws` or `aws.west`; always declared at the root.
    Provider(ProviderRef),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub module: Vec<String>,
    pub kind: NodeKind,
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for m in &self.module {
            write!(f, "module.{m}.")?;
        }
        match &self.kind {
            NodeKind::Var(n) => write!(f, "var.{n}"),
            NodeKind::Local(n) => write!(f, "local.{n}"),
            NodeKind::Output(n) => write!(f, "output.{n}"),
            NodeKind::Resource(k) => write!(f, "{k}"),
            NodeKind::ModuleCall(n) => write!(f, "module.{n}"),
            NodeKind::Provider(p) => write!(f, "provider[\"{p}\"]"),
        }
    }
}

#[derive(Debug)]
pub struct ConfigGraph {
    pub nodes: Vec<NodeId>,
    pub spans: Vec<Option<Span>>,
    /// For each node, the nodes it depends on.
    pub deps: Vec<Vec<usize>>,
    /// A topological order: every node after its dependencies.
    pub order: Vec<usize>,
    pub index: BTreeMap<NodeId, usize>,
}

pub fn module_at<'a>(root: &'a Module, path: &[String]) -> Option<&'a Module> {
    let mut m = root;
    for name in path {
        m = &m.module_calls.get(name)?.module;
    }
    Some(m)
}

/// The root provider configuration a resource in module `path` uses.
pub fn resolve_provider(root: &Module, path: &[String], r: &Resource) -> ProviderRef {
    let mut key = r.provider_ref();
    for depth in (0..path.len()).rev() {
        let Some(parent) = module_at(root, &path[..depth]) else {
            break;
        };
        if let Some(call) = parent.module_calls.get(&path[depth]) {
            if let Some(target) = call.providers.get(&key.to_string()) {
                key = target.clone();
            }
        }
    }
    key
}

struct Builder<'a> {
    root: &'a Module,
    nodes: Vec<NodeId>,
    spans: Vec<Option<Span>>,
    index: BTreeMap<NodeId, usize>,
    edges: Vec<BTreeSet<usize>>,
}

impl Builder<'_> {
    fn add(&mut self, id: NodeId, span: Option<Span>) -> usize {
        if let Some(&i) = self.index.get(&id) {
            return i;
        }
        let i = self.nodes.len();
        self.index.insert(id.clone(), i);
        self.nodes.push(id);
        self.spans.push(span);
        self.edges.push(BTreeSet::new());
        i
    }

    fn declare(&mut self, path: &[String], m: &Module) {
        let id = |kind| NodeId { module: path.to_vec(), kind };
        for (n, v) in &m.variables {
            self.add(id(NodeKind::Var(n.clone())), v.span.clone());
        }
        for (n, l) in &m.locals {
            self.add(id(NodeKind::Local(n.clone())), l.span.clone());
        }
        for (n, o) in &m.outputs {
            self.add(id(NodeKind::Output(n.clone())), o.span.clone());
        }
        for (k, r) in &m.resources {
            self.add(id(NodeKind::Resource(k.clone())), r.span.clone());
            let p = resolve_provider(self.root, path, r);
            self.add(NodeId { module: Vec::new(), kind: NodeKind::Provider(p) }, None);
        }
        for (n, c) in &m.module_calls {
            self.add(id(NodeKind::ModuleCall(n.clone())), c.span.clone());
            let mut child = path.to_vec();
            child.push(n.clone());
            self.declare(&child, &c.module);
        }
        if path.is_empty() {
            // An import block's id, for_each and index are evaluated when its target is planned:
            // what they reference comes first.
            for imp in &m.imports {
                let Ok(crate::addr::Target { module, resource: Some((mode, ty, name)), .. }) = crate::addr::parse_target(&imp.to) else { continue };
                let key = if mode == infra_lang::config::Mode::Data { format!("data.{ty}.{name}") } else { format!("{ty}.{name}") };
                let Some(&i) = self.index.get(&NodeId { module: module.static_path(), kind: NodeKind::Resource(key) }) else { continue };
                let exprs: Vec<&Expr> = std::iter::once(&imp.id).chain(imp.for_each.iter()).chain(imp.to_index.iter()).collect();
                self.link_exprs(i, path, m, exprs);
            }
            for p in &m.providers {
                let key = ProviderRef { name: p.name.clone(), alias: p.alias.clone() };
                let i = self.add(NodeId { module: Vec::new(), kind: NodeKind::Provider(key) }, p.span.clone());
                self.spans[i] = p.span.clone();
            }
        }
    }

    /// The nodes a reference points at, if it points at a node.
    fn targets(&self, path: &[String], m: &Module, r: &Reference) -> Vec<usize> {
        let id = |kind| NodeId { module: path.to_vec(), kind };
        let found = |b: &Self, n: NodeId| b.index.get(&n).copied().into_iter().collect::<Vec<_>>();
        let a0 = r.attrs.first().cloned().unwrap_or_default();
        match r.root.as_str() {
            "var" => found(self, id(NodeKind::Var(a0))),
            "local" => found(self, id(NodeKind::Local(a0))),
            "module" => {
                let mut child = path.to_vec();
                child.push(a0.clone());
                match (r.attrs.get(1), m.module_calls.get(&a0)) {
                    (Some(out), _) => found(self, NodeId { module: child, kind: NodeKind::Output(out.clone()) }),
                    (None, Some(call)) => {
                        call.module.outputs.keys().flat_map(|o| found(self, NodeId { module: child.clone(), kind: NodeKind::Output(o.clone()) })).collect()
                    }
                    _ => Vec::new(),
                }
            }
            "data" => match r.attrs.get(1) {
                Some(name) => found(self, id(NodeKind::Resource(format!("data.{a0}.{name}")))),
                None => Vec::new(),
            },
            "each" | "count" | "path" | "self" | "terraform" => Vec::new(),
            ty => found(self, id(NodeKind::Resource(format!("{ty}.{a0}")))),
        }
    }

    fn link_exprs<'e>(&mut self, from: usize, path: &[String], m: &Module, exprs: impl IntoIterator<Item = &'e Expr>) {
        for e in exprs {
            for r in references(e) {
                for t in self.targets(path, m, &r) {
                    self.edges[from].insert(t);
                }
            }
        }
    }

    fn link_refs(&mut self, from: usize, path: &[String], m: &Module, refs: Vec<Reference>) {
        for r in refs {
            for t in self.targets(path, m, &r) {
                self.edges[from].insert(t);
            }
        }
    }

    fn link(&mut self, path: &[String], m: &Module) {
        let idx = |b: &Self, kind| b.index[&NodeId { module: path.to_vec(), kind }];
        for (n, l) in &m.locals {
            let i = idx(self, NodeKind::Local(n.clone()));
            self.link_exprs(i, path, m, [&l.expr]);
        }
        for (n, v) in &m.variables {
            let i = idx(self, NodeKind::Var(n.clone()));
            // Validation conditions may only use the variable itself; an input comes from the call.
            if let Some((call_name, parent)) = path.split_last() {
                if let Some(&c) = self.index.get(&NodeId { module: parent.to_vec(), kind: NodeKind::ModuleCall(call_name.clone()) }) {
                    self.edges[i].insert(c);
                }
            }
            let _ = v;
        }
        for (n, o) in &m.outputs {
            let i = idx(self, NodeKind::Output(n.clone()));
            self.link_exprs(i, path, m, std::iter::once(&o.value).chain(o.depends_on.iter()));
        }
        for (k, r) in &m.resources {
            let i = idx(self, NodeKind::Resource(k.clone()));
            let mut refs = body_references(&r.body);
            for e in r.count.iter().chain(r.for_each.iter()).chain(r.depends_on.iter()).chain(r.lifecycle.replace_triggered_by.iter()) {
                refs.extend(references(e));
            }
            self.link_refs(i, path, m, refs);
            let p = resolve_provider(self.root, path, r);
            let pi = self.index[&NodeId { module: Vec::new(), kind: NodeKind::Provider(p) }];
            self.edges[i].insert(pi);
        }
        for (n, c) in &m.module_calls {
            let i = idx(self, NodeKind::ModuleCall(n.clone()));
            let exprs: Vec<&Expr> = c.inputs.values().map(|a| &a.expr).chain(c.count.iter()).chain(c.for_each.iter()).chain(c.depends_on.iter()).collect();
            self.link_exprs(i, path, m, exprs);
            let mut child = path.to_vec();
            child.push(n.clone());
            self.link(&child, &c.module);
        }
        if path.is_empty() {
            // An import block's id, for_each and index are evaluated when its target is planned:
            // what they reference comes first.
            for imp in &m.imports {
                let Ok(crate::addr::Target { module, resource: Some((mode, ty, name)), .. }) = crate::addr::parse_target(&imp.to) else { continue };
                let key = if mode == infra_lang::config::Mode::Data { format!("data.{ty}.{name}") } else { format!("{ty}.{name}") };
                let Some(&i) = self.index.get(&NodeId { module: module.static_path(), kind: NodeKind::Resource(key) }) else { continue };
                let exprs: Vec<&Expr> = std::iter::once(&imp.id).chain(imp.for_each.iter()).chain(imp.to_index.iter()).collect();
                self.link_exprs(i, path, m, exprs);
            }
            for p in &m.providers {
                let key = ProviderRef { name: p.name.clone(), alias: p.alias.clone() };
                let i = self.index[&NodeId { module: Vec::new(), kind: NodeKind::Provider(key) }];
                let refs = body_references(&p.body);
                self.link_refs(i, path, m, refs);
            }
        }
    }
}

pub fn build(root: &Module, sources: &SourceMap) -> Result<ConfigGraph, Diagnostics> {
    let mut b = Builder { root, nodes: Vec::new(), spans: Vec::new(), index: BTreeMap::new(), edges: Vec::new() };
    b.declare(&[], root);
    b.link(&[], root);
    // Everything in a child module waits for its module call, which expands the instances.
    for i in 0..b.nodes.len() {
        if let Some((call, parent)) = b.nodes[i].module.split_last() {
            let call_id = NodeId { module: parent.to_vec(), kind: NodeKind::ModuleCall(call.clone()) };
            if let Some(&c) = b.index.get(&call_id) {
                b.edges[i].insert(c);
            }
        }
    }
    let mut g: DiGraph<usize, ()> = DiGraph::new();
    let ids: Vec<NodeIndex> = (0..b.nodes.len()).map(|i| g.add_node(i)).collect();
    for (from, tos) in b.edges.iter().enumerate() {
        for &to in tos {
            g.add_edge(ids[to], ids[from], ());
        }
    }
    let mut diags = Diagnostics::new();
    for scc in petgraph::algo::tarjan_scc(&g) {
        let is_cycle = scc.len() > 1 || b.edges[g[scc[0]]].contains(&g[scc[0]]);
        if !is_cycle {
            continue;
        }
        let mut members: Vec<usize> = scc.iter().map(|n| g[*n]).collect();
        members.sort();
        let listed: Vec<String> = members
            .iter()
            .map(|&m| match &b.spans[m] {
                Some(s) => format!("{} ({})", b.nodes[m], sources.location(s, Some(&root.dir))),
                None => b.nodes[m].to_string(),
            })
            .collect();
        diags.push(
            Diagnostic::error(
                "Cycle in configuration",
                format!("These objects refer to each other in a loop: {}. Break the loop by removing one of the references.", listed.join(", ")),
            )
            .with_subject(members.iter().find_map(|&m| b.spans[m].clone())),
        );
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let order: Vec<usize> = petgraph::algo::toposort(&g, None)
        .map_err(|_| Diagnostics::from(Diagnostic::error("Cycle in configuration", "The configuration graph has a cycle.")))?
        .into_iter()
        .map(|n| g[n])
        .collect();
    Ok(ConfigGraph { deps: b.edges.into_iter().map(|s| s.into_iter().collect()).collect(), nodes: b.nodes, spans: b.spans, order, index: b.index })
}

impl ConfigGraph {
    /// Graphviz DOT text of the graph.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph {\n  compound = \"true\"\n  newrank = \"true\"\n");
        for (i, n) in self.nodes.iter().enumerate() {
            out.push_str(&format!("  \"{}\"\n", n.to_string().replace('"', "\\\"")));
            for &d in &self.deps[i] {
                out.push_str(&format!("  \"{}\" -> \"{}\"\n", n.to_string().replace('"', "\\\""), self.nodes[d].to_string().replace('"', "\\\"")));
            }
        }
        out.push_str("}\n");
        out
    }

    /// Every node that `targets` depend on, transitively, plus the targets.
    pub fn ancestors(&self, targets: &[usize]) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<usize> = targets.to_vec();
        while let Some(n) = stack.pop() {
            if seen.insert(n) {
                stack.extend(self.deps[n].iter().copied());
            }
        }
        seen
    }
}
