//! `infra import ADDR ID` without a terminal: checks the address against the state and the
//! configuration, plans the import of that one instance (the provider reads the object by its
//! id) and returns the state with the object recorded; and the file `plan
//! --generate-config-out` writes.

use super::Result;
use infra_core::addr::{parse_target, InstanceAddr, Target};
use infra_core::plan::{GeneratedConfig, PlanOptions};
use infra_core::state_io::Working;
use infra_core::walk::Ctx;
use infra_lang::config::Mode;
use infra_lang::diag::Diagnostic;
use infra_state::StateFile;
use std::path::Path;

/// The instance address `ADDR` names: a managed resource instance, with its key if any.
pub fn address(addr: &str) -> Result<InstanceAddr> {
    let t = parse_target(addr).map_err(|e| Diagnostic::error("Invalid address", format!("{e}.")))?;
    match t {
        Target { module, resource: Some((Mode::Managed, type_name, name)), key } => Ok(InstanceAddr { module, mode: Mode::Managed, type_name, name, key }),
        _ => Err(Diagnostic::error(
            "Invalid address",
            format!("{addr} is not a managed resource instance address such as aws_vpc.main or aws_subnet.private[0]."),
        )
        .into()),
    }
}

/// Imports the object `id` at `addr` and returns the state to write: `state` with that one
/// object added (the other objects are not refreshed into it). Refuses an address already in
/// state, one the configuration does not declare, and an object managed at another address.
pub fn import(rt: &tokio::runtime::Runtime, ctx: &Ctx, state: &StateFile, addr: &InstanceAddr, id: &str) -> Result<StateFile> {
    let mut working = Working::from_state(state).map_err(|e| Diagnostic::error("Invalid state", e))?;
    if working.instances.contains_key(addr) {
        return Err(Diagnostic::error(
            "Resource already managed by infra",
            format!("The state already records a remote object for {addr}. To import to this address you must first remove the existing object from the state (infra state rm {addr})."),
        )
        .into());
    }
    let resource = addr.resource();
    let declared = ctx.module(&addr.module.static_path()).and_then(|m| m.resources.get(&addr.resource_key()));
    let Some(r) = declared else {
        return Err(Diagnostic::error(
            "Configuration for import target does not exist",
            format!(
                "The resource address {resource} does not exist in the configuration. Before importing this object, create its configuration, for example:\n\nresource \"{}\" \"{}\" {{\n  # (resource arguments)\n}}",
                addr.type_name, addr.name
            ),
        )
        .into());
    };
    let keyed = r.count.is_some() || r.for_each.is_some();
    if keyed != addr.key.is_some() {
        let why = if keyed {
            format!("{resource} has count or for_each: name one instance, such as {resource}[0] or {resource}[\"key\"].")
        } else {
            format!("{resource} has neither count nor for_each: name it without an index.")
        };
        return Err(Diagnostic::error("Invalid import address", format!("{addr} cannot be imported: {why}")).with_subject(r.span.clone()).into());
    }
    let target = parse_target(&addr.to_string()).map_err(|e| Diagnostic::error("Invalid address", format!("{e}.")))?;
    let opts = PlanOptions { targets: vec![target], imports: vec![(addr.clone(), id.to_string())], ..PlanOptions::default() };
    let mut plan = super::plan::plan_with(rt, ctx, state, &opts)?;
    let imported = plan.change(addr).filter(|c| c.importing.is_some()).is_some();
    let Some(inst) = plan.prior.instances.remove(addr).filter(|_| imported) else {
        return Err(Diagnostic::error(
            "Configuration for import target does not exist",
            format!("The configuration declares {resource}, but no instance {addr} of it: check its count or for_each, and that its module instance exists."),
        )
        .with_subject(r.span.clone())
        .into());
    };
    working.instances.insert(addr.clone(), inst);
    working.serial += 1;
    Ok(working.to_state())
}

/// What `plan --generate-config-out` writes: a header, then one resource block per object.
pub fn generated_file(generated: &[GeneratedConfig]) -> String {
    let mut out = String::from("# __generated__ by infra\n# Please review these resources and move them into your main configuration files.\n");
    for g in generated {
        out.push_str(&format!("\n# __generated__ by infra from {}\nresource \"{}\" \"{}\" {{\n", infra_provider::hcl::quote(&g.id), g.type_name, g.name));
        if let Some(p) = &g.provider {
            out.push_str(&format!("  provider = {p}\n\n"));
        }
        out.push_str(&g.body);
        out.push_str("}\n");
    }
    // The canonical layout, so that `infra fmt --check` passes on what was written.
    infra_lang::format::format(&out).unwrap_or(out)
}

/// Where `--generate-config-out` may write: a new `.tf` file in the stack directory (the
/// plan that follows reads it with the rest of the stack).
pub fn check_generate_target(dir: &Path, file: &Path) -> Result<std::path::PathBuf> {
    let path = dir.join(file);
    if path.exists() {
        return Err(Diagnostic::error(
            "Target generated file already exists",
            format!(
                "Generated configuration goes only into a new file, and {} exists. Choose another file, or move its configuration out and delete it.",
                file.display()
            ),
        )
        .into());
    }
    let in_stack = path.parent().and_then(|p| p.canonicalize().ok()) == dir.canonicalize().ok();
    if !in_stack || path.extension().is_none_or(|e| e != "tf") {
        return Err(Diagnostic::error(
            "Invalid generated configuration file",
            format!(
                "--generate-config-out must name a new .tf file in the stack directory (the plan reads it with the rest of the stack), not {}.",
                file.display()
            ),
        )
        .into());
    }
    Ok(path)
}
