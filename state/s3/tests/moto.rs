//! The S3 backend against moto's S3, which enforces `If-None-Match` and `If-Match` on PutObject:
//! a writer that lost a race is refused and nothing is lost; the lock is created once; its lease
//! expires when its holder stops renewing it; a journal left by a killed apply is replayed.

use infra_state::{Backend, JournalRecord, LockOptions, StateError, StateFile};
use infra_state_s3::{S3Backend, S3Config};
use infra_test_harness::moto::{start_moto, Moto};
use std::collections::BTreeMap;
use std::time::Duration;

fn config(moto: &Moto, lease: &str) -> S3Config {
    moto.call("s3", "PUT", "/tfstate-race", &[], "");
    let settings: BTreeMap<String, String> = [
        ("bucket", "tfstate-race"),
        ("key", "app/state.json"),
        ("region", "us-east-1"),
        ("endpoints.s3", moto.url.as_str()),
        ("use_path_style", "true"),
        ("use_lockfile", "true"),
        ("access_key", "test"),
        ("secret_key", "test"),
        ("lock_lease", lease),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    S3Config::from_settings(&settings).unwrap()
}

#[test]
fn a_writer_that_lost_the_race_is_refused_and_nothing_is_lost() {
    let moto = start_moto();
    let cfg = config(&moto, "30s");
    let (a, b) = (S3Backend::new(cfg.clone(), "default").unwrap(), S3Backend::new(cfg, "default").unwrap());
    // Both find no state; the first write wins (If-None-Match: *), the second is refused.
    assert!(a.read().unwrap().is_none() && b.read().unwrap().is_none());
    let mut first = StateFile::new();
    first.serial = 1;
    b.write(&first).unwrap();
    let err = a.write(&StateFile::new()).unwrap_err();
    assert!(matches!(err, StateError::Conflict { .. }) && err.to_string().contains("If-None-Match"), "{err}");
    // Both read serial 1; b writes serial 2; a's write (If-Match on the ETag it read) is refused.
    assert_eq!(a.read().unwrap().unwrap().serial, 1);
    assert_eq!(b.read().unwrap().unwrap().serial, 1);
    let mut by_b = first.clone();
    by_b.serial = 2;
    b.write(&by_b).unwrap();
    let mut by_a = first.clone();
    by_a.serial = 7;
    let err = a.write(&by_a).unwrap_err();
    assert!(matches!(err, StateError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("ETag changed") && err.to_string().contains("s3://tfstate-race/app/state.json"), "{err}");
    let now = S3Backend::new(a.config().clone(), "default").unwrap().read().unwrap().unwrap();
    assert_eq!((now.serial, &now.lineage), (2, &first.lineage), "b's write stands");
    // After reading again, a writes on top of it.
    assert_eq!(a.read().unwrap().unwrap().serial, 2);
    a.write(&by_a).unwrap();
}

#[test]
fn the_lock_is_taken_once_and_renewed_and_a_silent_one_goes_stale() {
    let moto = start_moto();
    let cfg = config(&moto, "2s");
    let a = S3Backend::new(cfg.clone(), "default").unwrap();
    let b = S3Backend::new(cfg, "default").unwrap();
    let held = a.try_lock("apply", LockOptions::default()).unwrap().expect("the first run takes the lock");
    assert!(b.try_lock("plan", LockOptions::default()).unwrap().is_none());
    // The heartbeat renews the lease: well past the lease, the lock is still live.
    std::thread::sleep(Duration::from_secs(4));
    let seen = b.lock_holder().unwrap().unwrap();
    assert_eq!(seen.id, held.info.id);
    assert!(b.stale_reason(&seen).is_none(), "renewed: {:?}", seen.renewed);
    assert!(b.try_lock("plan", LockOptions { force_stale: true }).unwrap().is_none(), "a live lease is never taken over");
    // A holder that stops renewing (its heartbeat gone, as when killed): stale after the lease.
    std::mem::forget(held.release);
    infra_state_s3::stop_heartbeats_for_tests();
    std::thread::sleep(Duration::from_secs(3));
    let seen = b.lock_holder().unwrap().unwrap();
    let reason = b.stale_reason(&seen).expect("stale");
    assert!(reason.contains("stopped renewing it"), "{reason}");
    assert!(b.try_lock("plan", LockOptions::default()).unwrap().is_none(), "not without --force-stale");
    let taken = b.try_lock("plan", LockOptions { force_stale: true }).unwrap().expect("--force-stale takes it over");
    assert_eq!(taken.took_over.map(|t| t.id), Some(seen.id));
}

#[test]
fn a_journal_left_by_a_killed_apply_is_replayed_by_the_next_reader() {
    let moto = start_moto();
    let cfg = config(&moto, "30s");
    let a = S3Backend::new(cfg.clone(), "default").unwrap();
    let base = StateFile::new();
    let mut j = a.begin_journal(&base).unwrap();
    let instance = |v: i64| infra_state::InstanceState {
        index_key: None,
        attributes: serde_json::json!({"id": v}).into(),
        sensitive_attributes: vec![],
        dependencies: vec![],
        create_before_destroy: false,
        deposed: vec![],
    };
    for (name, v) in [("a", 1), ("b", 2)] {
        j.append(&JournalRecord::Upsert {
            module: String::new(),
            mode: "managed".into(),
            type_name: "terraform_data".into(),
            name: name.into(),
            provider: "provider[\"terraform.io/builtin/terraform\"]".into(),
            instance: instance(v),
        })
        .unwrap();
        j.sync().unwrap();
    }
    // No finish: the run "died". Another machine reads both objects.
    let b = S3Backend::new(cfg, "default").unwrap();
    let s = b.read().unwrap().unwrap();
    assert_eq!(s.resources.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(s.serial, base.serial + 1);
    b.finish_journal(&s).unwrap();
    assert_eq!(b.read().unwrap().unwrap(), s);
}
