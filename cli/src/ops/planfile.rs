//! Saved plans (`plan --out`, `apply FILE`, `show FILE`): building the file from a plan,
//! writing and reading it, and the checks that refuse a plan the state has moved past.

use super::plan::Request;
use super::Result;
use infra_core::plan::{Action, Plan, PlanMode};
use infra_lang::diag::Diagnostic;
use infra_lang::value::{from_json, to_json, Value};
use infra_state::planfile::{PlanFile, PlanFileMode, PlannedAction, PLAN_FORMAT_VERSION};
use infra_state::StateFile;
use std::collections::BTreeMap;
use std::path::Path;

/// The actions a plan takes (no-ops left out), as the file records them.
pub fn actions(p: &Plan) -> Vec<PlannedAction> {
    p.changes.iter().filter(|c| c.action != Action::NoOp).map(|c| PlannedAction(c.addr.to_string(), c.action.verb().to_string())).collect()
}

pub fn from_plan(p: &Plan, r: &Request) -> PlanFile {
    PlanFile {
        actions: actions(p),
        format_version: PLAN_FORMAT_VERSION,
        lineage: p.lineage.clone(),
        mode: match p.mode {
            PlanMode::Normal => PlanFileMode::Normal,
            PlanMode::Destroy => PlanFileMode::Destroy,
            PlanMode::RefreshOnly => PlanFileMode::RefreshOnly,
        },
        refresh: r.refresh,
        refresh_full: r.refresh_full,
        replace: r.replace.clone(),
        serial: p.serial,
        targets: r.targets.clone(),
        variables: p.variables.iter().map(|(k, v)| (k.clone(), to_json(v))).collect(),
    }
}

/// The request that re-plans what the file recorded.
pub fn request(doc: &PlanFile) -> Request {
    Request {
        mode: match doc.mode {
            PlanFileMode::Normal => PlanMode::Normal,
            PlanFileMode::Destroy => PlanMode::Destroy,
            PlanFileMode::RefreshOnly => PlanMode::RefreshOnly,
        },
        // The saved plan already refreshed; applying it compares against that result.
        refresh: doc.refresh,
        refresh_full: doc.refresh_full,
        targets: doc.targets.clone(),
        replace: doc.replace.clone(),
    }
}

pub fn variables(doc: &PlanFile) -> BTreeMap<String, Value> {
    doc.variables.iter().map(|(k, j)| (k.clone(), from_json(j))).collect()
}

/// Writes the file atomically (temp file, rename), readable only by its owner: it holds the
/// input variables.
pub fn save(file: &Path, doc: &PlanFile) -> Result<()> {
    let tmp = file.with_extension("tmp");
    let written = std::fs::write(&tmp, doc.to_bytes()).and_then(|_| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        std::fs::rename(&tmp, file)
    });
    written.map_err(|e| Diagnostic::error("Cannot save plan", format!("Writing {} failed: {e}.", file.display())).into())
}

pub fn read_text(file: &Path) -> Result<String> {
    std::fs::read_to_string(file).map_err(|e| Diagnostic::error("Cannot read plan file", format!("Reading {} failed: {e}.", file.display())).into())
}

pub fn parse(file: &Path, bytes: &[u8]) -> Result<PlanFile> {
    PlanFile::from_bytes(bytes)
        .map_err(|e| Diagnostic::error("Invalid plan file", format!("{} is not a plan file saved by infra: {e}.", file.display())).into())
}

pub fn read(file: &Path) -> Result<PlanFile> {
    let bytes = std::fs::read(file).map_err(|e| Diagnostic::error("Cannot read plan file", format!("Reading {} failed: {e}.", file.display())))?;
    parse(file, &bytes)
}

/// The state a saved plan applies to when no state exists yet. A plan made before the first
/// apply is bound to the lineage of a state nobody wrote (a new random one each run, so such a
/// plan was always refused as stale): while there is still no state, the apply starts the
/// plan's lineage instead.
pub fn fresh_state(doc: &PlanFile) -> StateFile {
    let mut state = StateFile::new();
    if doc.serial == state.serial {
        state.lineage = doc.lineage.clone();
    }
    state
}

/// A saved plan applies only to the state version it was made on.
pub fn check_state(doc: &PlanFile, state: &StateFile) -> Result<()> {
    if doc.lineage != state.lineage || doc.serial != state.serial {
        return Err(Diagnostic::error(
            "Saved plan is stale",
            format!(
                "The plan was made against state lineage {} serial {}, but the state is now lineage {} serial {}. Create a new plan.",
                doc.lineage, doc.serial, state.lineage, state.serial
            ),
        )
        .into());
    }
    Ok(())
}

/// Re-planning with the file's inputs must give the actions it showed.
pub fn check_actions(doc: &PlanFile, p: &Plan) -> Result<()> {
    if doc.actions != actions(p) {
        return Err(Diagnostic::error(
            "Saved plan is stale",
            "The objects changed since the plan was made, so applying it would not do what it showed. Create a new plan.",
        )
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_plan_round_trips_its_request() {
        let r = Request { mode: PlanMode::Destroy, refresh: false, refresh_full: true, targets: vec!["a.b".into()], replace: vec!["c.d".into()] };
        let doc = PlanFile {
            actions: vec![PlannedAction("a.b".into(), "delete".into())],
            format_version: PLAN_FORMAT_VERSION,
            lineage: "l".into(),
            mode: PlanFileMode::Destroy,
            refresh: r.refresh,
            refresh_full: r.refresh_full,
            replace: r.replace.clone(),
            serial: 4,
            targets: r.targets.clone(),
            variables: BTreeMap::new(),
        };
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("tf.plan");
        assert!(save(&file, &doc).is_ok());
        let back = read(&file).map_err(|d| d.0[0].summary.clone());
        assert_eq!(back.as_ref().map(request), Ok(r));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).map(|m| m.permissions().mode() & 0o777).ok(), Some(0o600));
        let mut state = StateFile::new();
        state.lineage = "l".into();
        state.serial = 4;
        assert!(check_state(&doc, &state).is_ok());
        state.serial = 5;
        assert_eq!(check_state(&doc, &state).err().map(|d| d.0[0].summary.clone()).as_deref(), Some("Saved plan is stale"));
    }

    #[test]
    fn a_plan_made_before_any_state_applies_to_the_first_one() {
        let doc = PlanFile {
            actions: vec![],
            format_version: PLAN_FORMAT_VERSION,
            lineage: "made-on-nothing".into(),
            mode: PlanFileMode::Normal,
            refresh: true,
            refresh_full: false,
            replace: vec![],
            serial: StateFile::new().serial,
            targets: vec![],
            variables: BTreeMap::new(),
        };
        assert!(check_state(&doc, &fresh_state(&doc)).is_ok());
        let later = PlanFile { serial: doc.serial + 1, ..doc };
        assert!(check_state(&later, &fresh_state(&later)).is_err());
    }

    #[test]
    fn a_file_that_is_not_a_plan_is_refused() {
        let err = parse(Path::new("x.plan"), b"{\"state\": 1}").err().map(|d| d.0[0].summary.clone());
        assert_eq!(err.as_deref(), Some("Invalid plan file"));
    }
}
