//! infra's engine: loads a stack, builds the configuration graph, plans (refresh, diff, an
//! explicit execution graph as data) and applies with bounded parallelism, persisting state
//! after every finished object. It reports through [`hooks::Hook`] and never prints.

pub mod addr;
pub mod apply;
pub mod console;
pub mod drift;
pub mod graph;
pub mod hooks;
pub mod plan;
pub mod plan_types;
pub mod state_io;
pub mod walk;

use infra_lang::diag::Diagnostics;
use infra_lang::eval::Phase;
use infra_lang::source::SourceMap;
use infra_lang::value::Value;
use infra_provider::Registry;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Loads a stack directory into everything a plan or apply needs. Reports every error found
/// (syntax, unknown blocks, cycles), not only the first.
pub fn load(dir: &Path, registry: &Registry, input_vars: BTreeMap<String, Value>, phase: Phase, sources: &SourceMap) -> Result<walk::Ctx, Diagnostics> {
    let (module, diags) = infra_lang::config::load_module(sources, dir);
    from_module(module, diags, dir, registry, input_vars, phase, sources)
}

/// Like [`load`], for a module the caller has already read (with the diagnostics of reading it).
pub fn from_module(
    module: infra_lang::config::Module,
    mut diags: Diagnostics,
    dir: &Path,
    registry: &Registry,
    input_vars: BTreeMap<String, Value>,
    phase: Phase,
    sources: &SourceMap,
) -> Result<walk::Ctx, Diagnostics> {
    let mut schemas = BTreeMap::new();
    for name in registry.names() {
        if let Some(f) = registry.get(name) {
            schemas.insert(name.clone(), f().schema());
        }
    }
    // Schema errors do not stop the run: planning continues so that every error is reported.
    let mut schema_diags = Diagnostics::new();
    check_schemas(&module, &module, &[], &schemas, &mut schema_diags);
    check_providers(&module, &schemas, &mut schema_diags);
    let graph = match graph::build(&module, sources) {
        Ok(g) => Some(g),
        Err(d) => {
            diags.extend(d);
            None
        }
    };
    if diags.has_errors() {
        diags.extend(schema_diags);
        return Err(diags);
    }
    let Some(graph) = graph else {
        return Err(diags);
    };
    diags.extend(schema_diags);
    Ok(walk::Ctx {
        preflight: diags,
        config: Arc::new(module),
        sources: sources.clone(),
        graph,
        root_dir: dir.to_path_buf(),
        registry: registry.clone(),
        phase,
        input_vars,
        schemas,
        file_reads: Arc::default(),
        workspace: "default".into(),
    })
}

/// Evaluates every node without calling providers beyond their schemas: `infra validate`.
pub fn validate(ctx: &walk::Ctx) -> Diagnostics {
    let mut v = Validation { ctx, store: walk::Store::default(), diags: ctx.preflight.clone() };
    walk::run_to_end(walk::walk(ctx, |_| true, &mut v));
    v.diags
}

struct Validation<'a> {
    ctx: &'a walk::Ctx,
    store: walk::Store,
    diags: Diagnostics,
}

impl walk::Visitor for Validation<'_> {
    fn with_store<R>(&mut self, f: impl FnOnce(&mut walk::Store) -> R) -> R {
        f(&mut self.store)
    }

    fn report(&mut self, diags: Diagnostics) {
        self.diags.extend(diags);
    }

    fn expands_resources(&self) -> bool {
        false
    }

    async fn resource(
        &mut self,
        _node: usize,
        mi: &addr::ModuleInstance,
        config: &infra_lang::config::Module,
        r: &infra_lang::config::Resource,
        _expansion: Option<&walk::Expansion>,
    ) -> bool {
        let ctx = self.ctx;
        // Validation does not know count/for_each values: check one instance shape.
        let s = walk::scope(ctx, &self.store, mi, config);
        let s = walk::NodeScope {
            each: r.for_each.as_ref().map(|_| (Value::Unknown, Value::Unknown)),
            count: r.count.as_ref().map(|_| 0),
            ctx: s.ctx,
            store: s.store,
            module: s.module,
            config: s.config,
        };
        let addr = if mi.is_root() { r.key() } else { format!("{mi}.{}", r.key()) };
        if let Err(d) = walk::decode_resource(ctx, &s, r, &addr) {
            self.diags.extend(d);
        }
        // Instances are not known without evaluating count/for_each; references to the
        // resource see an unknown value.
        self.store.module_mut(mi).resources.insert(r.key(), (walk::Expansion::Single, BTreeMap::from([(None, Value::Unknown)])));
        true
    }
}

/// Checks argument and block names of every resource against its schema before anything is
/// evaluated, so that these errors are reported together with graph errors.
fn check_schemas(
    root: &infra_lang::config::Module,
    m: &infra_lang::config::Module,
    path: &[String],
    schemas: &BTreeMap<String, infra_provider::ProviderSchema>,
    diags: &mut Diagnostics,
) {
    use infra_lang::config::Mode;
    use infra_lang::diag::{suggestion, Diagnostic};
    fn check_body(body: &infra_lang::config::Body, schema: &infra_lang::schema::Schema, what: &str, top: bool, diags: &mut Diagnostics) {
        let meta_attrs: &[&str] = if top { &["count", "for_each", "depends_on", "provider"] } else { &[] };
        let meta_blocks: &[&str] = if top { &["lifecycle", "dynamic"] } else { &["dynamic"] };
        for a in &body.attrs {
            if let Some(spec) = schema.attributes.get(&a.name) {
                if !spec.required && !spec.optional {
                    diags.push(
                        Diagnostic::error(
                            "Invalid or unknown key",
                            format!("The argument \"{}\" of {what} is computed by the provider and cannot be set. Remove it.", a.name),
                        )
                        .with_subject(a.span.clone())
                        .with_address(what),
                    );
                }
                continue;
            }
            // A block written as one argument (`ingress = []`): decoded against the block's schema.
            if schema.attr_blocks.contains(&a.name) {
                continue;
            }
            {
                let settable: Vec<&str> =
                    schema.attributes.iter().filter(|(_, s)| s.required || s.optional).map(|(n, _)| n.as_str()).chain(meta_attrs.iter().copied()).collect();
                let hint = if schema.blocks.contains_key(&a.name) {
                    format!(" Did you mean to define a block of type \"{}\"?", a.name)
                } else {
                    suggestion(&a.name, settable)
                };
                diags.push(
                    Diagnostic::error("Unsupported argument", format!("An argument named \"{}\" is not expected here.{hint}", a.name))
                        .with_subject(a.span.clone())
                        .with_address(what),
                );
            }
        }
        for b in &body.blocks {
            let (kind, inner) = if b.kind == "dynamic" {
                match b.labels.first() {
                    Some(l) => (l.clone(), b.body.blocks.iter().find(|c| c.kind == "content").map(|c| &c.body)),
                    None => continue,
                }
            } else {
                (b.kind.clone(), Some(&b.body))
            };
            match schema.blocks.get(&kind) {
                Some(bs) => {
                    if let Some(inner) = inner {
                        check_body(inner, &bs.schema, what, false, diags);
                    }
                }
                None => {
                    let hint = if schema.attributes.contains_key(&kind) {
                        format!(" Did you mean to set the argument \"{kind}\" with an equals sign?")
                    } else {
                        suggestion(&kind, schema.blocks.keys().map(String::as_str).chain(meta_blocks.iter().copied()))
                    };
                    diags.push(
                        Diagnostic::error("Unsupported block type", format!("Blocks of type \"{kind}\" are not expected here.{hint}"))
                            .with_subject(b.span.clone())
                            .with_address(what),
                    );
                }
            }
        }
    }
    for r in m.resources.values() {
        let key = graph::resolve_provider(root, path, r);
        let family = key.name.as_str();
        let Some(ps) = schemas.get(family) else {
            let known: Vec<&String> = schemas.keys().collect();
            diags.push(
                Diagnostic::error(
                    "Provider not available",
                    format!(
                        "{} needs the provider \"{family}\", which this build of infra does not include (it has {}).",
                        r.key(),
                        known.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
                .with_subject(r.span.clone()),
            );
            continue;
        };
        let table = if r.mode == Mode::Managed { &ps.resources } else { &ps.data_sources };
        match table.get(&r.ty) {
            Some(s) => check_body(&r.body, s, &r.key(), true, diags),
            None => {
                let kind = if r.mode == Mode::Data { "data source" } else { "resource type" };
                diags.push(
                    Diagnostic::error(
                        format!("Invalid {kind}"),
                        format!("The provider \"{family}\" does not support {kind} \"{}\".{}", r.ty, suggestion(&r.ty, table.keys())),
                    )
                    .with_subject(r.span.clone()),
                );
            }
        }
    }
    for (name, call) in &m.module_calls {
        let mut child = path.to_vec();
        child.push(name.clone());
        check_schemas(root, &call.module, &child, schemas, diags);
    }
}

/// Provider blocks against their provider schemas.
fn check_providers(root: &infra_lang::config::Module, schemas: &BTreeMap<String, infra_provider::ProviderSchema>, diags: &mut Diagnostics) {
    use infra_lang::diag::{suggestion, Diagnostic};
    for p in &root.providers {
        let Some(ps) = schemas.get(&p.name) else {
            let known = schemas.keys().cloned().collect::<Vec<_>>().join(", ");
            diags.push(
                Diagnostic::error("Provider not available", format!("This build of infra does not include the provider \"{}\" (it has {known}).", p.name))
                    .with_subject(p.span.clone()),
            );
            continue;
        };
        for a in &p.body.attrs {
            if !ps.provider.attributes.contains_key(&a.name) {
                let hint = suggestion(&a.name, ps.provider.attributes.keys());
                diags.push(
                    Diagnostic::error(
                        "Unsupported argument",
                        format!("An argument named \"{}\" is not expected in a provider \"{}\" block.{hint}", a.name, p.name),
                    )
                    .with_subject(a.span.clone()),
                );
            }
        }
    }
}
