//! What a plan is, as data: the action per instance and why it was chosen, the execution graph
//! apply runs, and the plan itself. Hooks, renderers and the saved plan file read these
//! without depending on how planning works.

use crate::addr::{InstanceAddr, Target};
use crate::state_io::Working;
use infra_lang::diag::Diagnostics;
use infra_lang::value::Value;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    NoOp,
    Create,
    Read,
    Update,
    DeleteThenCreate,
    CreateThenDelete,
    Delete,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Read => "<=",
            Action::Update => "~",
            Action::DeleteThenCreate => "-/+",
            Action::CreateThenDelete => "+/-",
            Action::Delete => "-",
        }
    }

    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }

    pub fn verb(self) -> &'static str {
        match self {
            Action::NoOp => "no-op",
            Action::Create => "create",
            Action::Read => "read",
            Action::Update => "update",
            Action::DeleteThenCreate | Action::CreateThenDelete => "replace",
            Action::Delete => "delete",
        }
    }
}

/// Why an action was chosen: only the UI reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    None,
    ReplaceBecauseCannotUpdate,
    ReplaceByRequest,
    ReplaceByTriggers,
    DeleteBecauseNoResourceConfig,
    DeleteBecauseCountIndex,
    DeleteBecauseEachKey,
    DeleteBecauseNoModule,
    DeleteBecauseDestroyMode,
    /// A superseded object left by an interrupted create-before-destroy replacement.
    DeleteBecauseDeposed,
    ReadBecauseConfigUnknown,
    ReadBecauseDependencyPending,
}

impl Reason {
    /// Every reason, for readers that map names back and for checks that each is documented.
    pub const ALL: [Reason; 12] = [
        Reason::None,
        Reason::ReplaceBecauseCannotUpdate,
        Reason::ReplaceByRequest,
        Reason::ReplaceByTriggers,
        Reason::DeleteBecauseNoResourceConfig,
        Reason::DeleteBecauseCountIndex,
        Reason::DeleteBecauseEachKey,
        Reason::DeleteBecauseNoModule,
        Reason::DeleteBecauseDestroyMode,
        Reason::DeleteBecauseDeposed,
        Reason::ReadBecauseConfigUnknown,
        Reason::ReadBecauseDependencyPending,
    ];
}

#[derive(Clone, Debug)]
pub struct ResourceChange {
    pub addr: InstanceAddr,
    pub provider: String,
    pub action: Action,
    pub reason: Reason,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// Attributes whose change forced the replacement.
    pub replace_paths: Vec<String>,
    pub importing: Option<String>,
    pub moved_from: Option<String>,
    pub dependencies: Vec<String>,
    /// The configuration had values known only after apply (from objects not yet created or
    /// changed): apply evaluates it again, plans the instance once more, and the result must
    /// agree with every value `after` knew. Otherwise apply sends `after` as it is.
    pub config_unknown: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanMode {
    Normal,
    Destroy,
    RefreshOnly,
}

#[derive(Clone, Debug)]
pub enum ExecNode {
    /// Evaluate one configuration graph node (applying its resource changes).
    Config(usize),
    /// Delete one instance (an orphan or the old half of a replacement).
    Delete(InstanceAddr),
    /// Delete the deposed object `Plan::deposed[i]`.
    DeleteDeposed(usize),
}

/// The execution graph apply runs: nodes and, per node, the nodes it waits for.
#[derive(Clone, Debug, Default)]
pub struct ExecGraph {
    pub nodes: Vec<ExecNode>,
    pub deps: Vec<Vec<usize>>,
}

impl ExecGraph {
    /// Names the nodes of a loop, if there is one.
    pub fn check_acyclic(&self) -> Result<(), String> {
        let mut g: petgraph::graph::DiGraph<usize, ()> = petgraph::graph::DiGraph::new();
        let ids: Vec<_> = (0..self.nodes.len()).map(|i| g.add_node(i)).collect();
        for (i, ds) in self.deps.iter().enumerate() {
            for &d in ds {
                g.add_edge(ids[d], ids[i], ());
            }
        }
        match petgraph::algo::toposort(&g, None) {
            Ok(_) => Ok(()),
            Err(c) => Err(format!("{:?} is part of it", self.nodes[g[c.node_id()]])),
        }
    }
}

#[derive(Clone, Debug)]
pub struct OutputChange {
    pub before: Option<Value>,
    pub after: Value,
    pub sensitive: bool,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub mode: PlanMode,
    /// Every planned instance change, no-ops included (renderers skip them).
    pub changes: Vec<ResourceChange>,
    /// Objects that changed outside infra, found by refresh.
    pub drift: Vec<ResourceChange>,
    pub outputs: BTreeMap<String, OutputChange>,
    /// The state apply starts from: refreshed, with moves, imports and adoptions applied.
    pub prior: Working,
    /// Lineage and serial of the state file the plan was made from.
    pub lineage: String,
    pub serial: u64,
    pub variables: BTreeMap<String, Value>,
    pub targets: Vec<Target>,
    pub exec: ExecGraph,
    pub warnings: Diagnostics,
    /// Position of each instance's change in `changes`.
    pub index: BTreeMap<InstanceAddr, usize>,
    /// Deletions of deposed objects (several may share an instance address).
    pub deposed: Vec<ResourceChange>,
    /// Objects an interrupted run created, found again by their create intent; applying the
    /// plan records them.
    pub adopted: Vec<InstanceAddr>,
    /// Create intents with nothing behind them; applying the plan drops them.
    pub dropped_intents: usize,
    /// Data sources read while planning, with what they read: apply uses these values and
    /// reads again only the data sources planned as `Read`.
    pub data: BTreeMap<InstanceAddr, Value>,
    /// Resource blocks written for import blocks that had none (`PlanOptions::generate_config`).
    pub generated: Vec<GeneratedConfig>,
}

/// The resource block a person would write for an imported object that has no configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratedConfig {
    pub type_name: String,
    pub name: String,
    /// The import id, for the comment above the block.
    pub id: String,
    /// The block's body (arguments and nested blocks), indented two spaces.
    pub body: String,
    /// The provider configuration, when not the type's default one (`aws.west`).
    pub provider: Option<String>,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        match self.mode {
            PlanMode::RefreshOnly => !self.drift.is_empty() || self.outputs_changed(),
            _ => {
                self.changes.iter().any(|c| c.action != Action::NoOp || c.moved_from.is_some() || c.importing.is_some())
                    || !self.deposed.is_empty()
                    || !self.adopted.is_empty()
                    || self.dropped_intents > 0
                    || self.outputs_changed()
            }
        }
    }

    pub fn outputs_changed(&self) -> bool {
        self.outputs.values().any(|o| match &o.before {
            Some(b) => !b.deep_unmark().equals(&o.after.deep_unmark()) || !o.after.is_wholly_known(),
            None => true,
        })
    }

    pub fn change(&self, addr: &InstanceAddr) -> Option<&ResourceChange> {
        self.index.get(addr).and_then(|&i| self.changes.get(i))
    }
}
