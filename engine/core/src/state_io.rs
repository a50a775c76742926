//! Between the on-disk state schema and the engine's working view of it: instances keyed by
//! address, values with their sensitive marks restored.

use crate::addr::{parse_target, InstanceAddr, InstanceKey, Target};
use infra_lang::config::Mode;
use infra_lang::value::{apply_sensitive_paths, from_json, sensitive_paths, to_json, Value};
use infra_state::{DeposedObject, InstanceState, JournalRecord, OutputState, PendingCreate, ResourceState, StateFile};

fn deposed_to_state(values: &[Value]) -> Vec<DeposedObject> {
    values.iter().map(|v| DeposedObject { attributes: to_json(v).into(), sensitive_attributes: sensitive_paths(v) }).collect()
}
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct Instance {
    pub provider: String,
    pub value: Value,
    pub dependencies: Vec<String>,
    pub create_before_destroy: bool,
    /// Replaced objects still to delete (create-before-destroy).
    pub deposed: Vec<Value>,
}

#[derive(Clone, Debug, Default)]
pub struct Working {
    pub lineage: String,
    pub serial: u64,
    pub instances: BTreeMap<InstanceAddr, Instance>,
    pub outputs: BTreeMap<String, (Value, bool)>,
    pub pending: Vec<PendingCreate>,
}

/// What a move does with an instance that already exists at its destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnExisting {
    /// Leave both where they are (`moved` blocks: the move already happened).
    Skip,
    /// Move nothing at all (`state mv`).
    Fail,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoveError {
    /// The destination names a module, not a resource.
    NotAResource,
    DestinationExists(InstanceAddr),
}

impl Working {
    /// Moves every stored instance `from` matches to `to`, the one rule `moved` blocks and
    /// `state mv` share: an instance key given on either side is the new key, else each
    /// instance keeps its own. Answers the moves made, in address order (none when nothing
    /// matched).
    pub fn move_instances(&mut self, from: &Target, to: &Target, existing: OnExisting) -> Result<Vec<(InstanceAddr, InstanceAddr)>, MoveError> {
        let Some((mode, ty, name)) = to.resource.clone() else {
            return Err(MoveError::NotAResource);
        };
        let moving: Vec<(InstanceAddr, InstanceAddr)> = self
            .instances
            .keys()
            .filter(|a| from.matches(a))
            .map(|old| {
                let key = if from.key.is_some() || to.key.is_some() { to.key.clone() } else { old.key.clone() };
                let new = InstanceAddr { module: to.module.clone(), mode, type_name: ty.clone(), name: name.clone(), key };
                (old.clone(), new)
            })
            .collect();
        if existing == OnExisting::Fail {
            if let Some((_, new)) = moving.iter().find(|(_, new)| self.instances.contains_key(new)) {
                return Err(MoveError::DestinationExists(new.clone()));
            }
        }
        let mut done = Vec::new();
        for (old, new) in moving {
            if self.instances.contains_key(&new) {
                continue;
            }
            if let Some(inst) = self.instances.remove(&old) {
                self.instances.insert(new.clone(), inst);
                done.push((old, new));
            }
        }
        Ok(done)
    }

    pub fn from_state(s: &StateFile) -> Result<Working, String> {
        let mut w = Working { lineage: s.lineage.clone(), serial: s.serial, pending: s.pending.clone(), ..Default::default() };
        for r in &s.resources {
            let module = if r.module.is_empty() {
                crate::addr::ModuleInstance::root()
            } else {
                parse_target(&r.module).map_err(|e| format!("state has an invalid module path: {e}"))?.module
            };
            let mode = if r.mode == "data" { Mode::Data } else { Mode::Managed };
            for i in &r.instances {
                let key = i.index_key.as_ref().and_then(InstanceKey::from_json);
                let addr = InstanceAddr { module: module.clone(), mode, type_name: r.type_name.clone(), name: r.name.clone(), key };
                let value = apply_sensitive_paths(from_json(&i.attributes.value()), &i.sensitive_attributes);
                let deposed = i.deposed.iter().map(|d| apply_sensitive_paths(from_json(&d.attributes.value()), &d.sensitive_attributes)).collect();
                w.instances.insert(
                    addr,
                    Instance {
                        provider: r.provider.clone(),
                        value,
                        dependencies: i.dependencies.clone(),
                        create_before_destroy: i.create_before_destroy,
                        deposed,
                    },
                );
            }
        }
        for (k, o) in &s.outputs {
            let v = from_json(&o.value);
            w.outputs.insert(k.clone(), (if o.sensitive { v.sensitive() } else { v }, o.sensitive));
        }
        Ok(w)
    }

    pub fn to_state(&self) -> StateFile {
        let mut s = StateFile::new();
        s.lineage = self.lineage.clone();
        s.serial = self.serial;
        s.pending = self.pending.clone();
        let mut by_resource: BTreeMap<(String, String, String), ResourceState> = BTreeMap::new();
        for (addr, inst) in &self.instances {
            let module = addr.module.to_string();
            let entry = by_resource.entry((module.clone(), addr.resource_key(), inst.provider.clone())).or_insert_with(|| ResourceState {
                module,
                mode: mode_text(addr),
                type_name: addr.type_name.clone(),
                name: addr.name.clone(),
                provider: inst.provider.clone(),
                instances: Vec::new(),
            });
            entry.instances.push(instance_state(addr, inst));
        }
        s.resources = by_resource.into_values().collect();
        s.outputs = self.outputs.iter().map(|(k, (v, sens))| (k.clone(), OutputState { value: to_json(v), sensitive: *sens })).collect();
        s
    }
}

fn mode_text(addr: &InstanceAddr) -> String {
    if addr.mode == Mode::Data {
        "data".into()
    } else {
        "managed".into()
    }
}

/// The journal record for an instance now holding `inst`.
pub fn upsert_record(addr: &InstanceAddr, inst: &Instance) -> JournalRecord {
    JournalRecord::Upsert {
        module: addr.module.to_string(),
        mode: mode_text(addr),
        type_name: addr.type_name.clone(),
        name: addr.name.clone(),
        provider: inst.provider.clone(),
        instance: instance_state(addr, inst),
    }
}

/// One instance in the state schema.
fn instance_state(addr: &InstanceAddr, inst: &Instance) -> InstanceState {
    InstanceState {
        index_key: addr.key.as_ref().map(InstanceKey::to_json),
        attributes: to_json(&inst.value).into(),
        sensitive_attributes: sensitive_paths(&inst.value),
        dependencies: inst.dependencies.clone(),
        create_before_destroy: inst.create_before_destroy,
        deposed: deposed_to_state(&inst.deposed),
    }
}

/// The journal record for an instance that is gone.
pub fn remove_record(addr: &InstanceAddr) -> JournalRecord {
    JournalRecord::Remove {
        module: addr.module.to_string(),
        mode: mode_text(addr),
        type_name: addr.type_name.clone(),
        name: addr.name.clone(),
        index_key: addr.key.as_ref().map(InstanceKey::to_json),
    }
}
