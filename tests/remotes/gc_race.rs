//! `gc` never races a writer: a home pulling many versions while `gc` runs over and over (and
//! while it snapshots and fetches at the same time) ends with every manifest in place. Each gc
//! either finishes or steps aside because a writer holds the store; neither it nor anything
//! after it ever finds a manifest missing.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::backend::{Backend, Kind};
use crate::support::Env;

const VERSIONS: usize = 60;

/// One `gc` in `home`: `Ok(true)` when it ran, `Ok(false)` when a writer held the store.
fn gc_once(home: &Env) -> Result<bool, String> {
    let r = home.run(&["gc"]);
    if r.out.status.success() {
        return Ok(true);
    }
    let err = r.stderr();
    if err.contains("another strata process is writing to the store") {
        Ok(false)
    } else {
        Err(err)
    }
}

/// Stops the gc loop when the rest of the test ends, failing included (a loop left running
/// would hang the test instead of failing it).
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[test]
fn gc_looping_while_a_pull_writes_manifests_leaves_every_version_whole() {
    let b = Backend::new(Kind::Folder, "gc-race");
    let mate = b.home();
    for i in 0..VERSIONS {
        let dir = format!("src/d{}", i % 4);
        mate.write(&format!("{dir}/f{i}.txt"), format!("file {i}").as_bytes());
        let dir = mate.path(&dir);
        let dataset = format!("p/d{}", i % 4);
        mate.ok(&[
            "--offline",
            "snapshot",
            &dataset,
            dir.to_str().unwrap(),
            "--upload",
        ]);
    }
    assert_eq!(
        mate.json(&["push"])["uploaded"].as_array().unwrap().len(),
        VERSIONS
    );

    let home = b.home();
    home.images("local", 2, 8);
    let done = AtomicBool::new(false);
    let (ran, failures) = std::thread::scope(|s| {
        let gc = s.spawn(|| {
            let (mut ran, mut failures) = (0, Vec::new());
            while !done.load(Ordering::Relaxed) {
                match gc_once(&home) {
                    Ok(true) => ran += 1,
                    Ok(false) => {}
                    Err(e) => failures.push(e),
                }
            }
            (ran, failures)
        });
        let stop = StopOnDrop(&done);
        let snapshots = s.spawn(|| {
            for i in 0..6 {
                home.write("local/changing.txt", format!("round {i}").as_bytes());
                home.ok(&["snapshot", "p/local", home.path("local").to_str().unwrap()]);
            }
        });
        for _ in 0..3 {
            home.ok(&["pull"]);
        }
        for i in (0..VERSIONS).step_by(7) {
            let dataset = format!("p/d{}@1.0.{}", i % 4, i / 4);
            home.ok(&["get", &dataset]);
        }
        snapshots.join().expect("snapshots");
        drop(stop);
        gc.join().expect("gc loop")
    });
    assert!(
        failures.is_empty(),
        "gc failed while others wrote: {failures:?}"
    );
    assert!(ran > 0, "gc never got to run");

    let all = home.json(&["list", "--all"]);
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), VERSIONS + 6, "{all}");
    home.ok(&["gc"]);
    for id in &ids {
        home.ok(&["files", id]);
        home.ok(&["get", id]);
        let verified = home.json(&["verify", id]);
        assert_eq!(verified["mismatches"], serde_json::json!([]), "{id}");
    }
    home.ok(&["gc"]);
}
