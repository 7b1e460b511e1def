//! --json gives one document on stdout; piped output has no progress bars.

use crate::support::Env;

#[test]
fn json_is_one_document_and_pipes_get_no_bars() {
    let env = Env::new();
    env.images("data", 2, 400);
    let r = env.run(&["snapshot", "d/x", "data", "--json"]).ok();
    let doc = r.json();
    assert_eq!(doc["version"]["file_count"], 400);
    assert!(r.stderr().is_empty(), "nothing but JSON: {}", r.stderr());
    let r = env.run(&["get", "d/x"]).ok();
    assert!(
        !r.stderr().contains('\r') && !r.stderr().contains("ETA"),
        "{}",
        r.stderr()
    );
    for args in [
        vec!["list"],
        vec!["list", "--all"],
        vec!["show", "d/x"],
        vec!["files", "d/x"],
        vec!["log", "d/x"],
        vec!["diff", "d/x", "d/x"],
        vec!["verify", "d/x"],
        vec!["cache", "list"],
        vec!["gc", "--dry-run"],
        vec!["meta", "d/x"],
    ] {
        env.json(&args);
    }
    let q = env.run(&["snapshot", "d/x", "data", "-q"]).ok();
    assert!(q.stderr().is_empty());
}
