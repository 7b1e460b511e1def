//! One writer per draft; stale locks are detected; readers never wait.

use crate::support::Env;

fn write_lock(env: &Env, id: &str, pid: u32) {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();
    let body = serde_json::json!({"pid": pid, "host": host, "user": "someone", "since": 0, "operation": "add"});
    std::fs::create_dir_all(env.home().join("locks")).unwrap();
    std::fs::write(
        env.home().join("locks").join(format!("{id}.lock")),
        body.to_string(),
    )
    .unwrap();
}

#[test]
fn a_second_writer_is_told_who_holds_the_draft() {
    let env = Env::new();
    env.write("f.txt", b"x");
    let id = env.ok(&["create", "d/x"]).line();
    // A live process (this test) holds it.
    write_lock(&env, &id, std::process::id());
    let r = env.run(&["add", &id, "f.txt"]).fails();
    let line = r.error();
    assert!(
        line.contains("is being written by 'add'")
            && line.contains(&std::process::id().to_string()),
        "{line}"
    );
    // Readers do not wait.
    env.ok(&["show", &id]);
    env.ok(&["files", &id]);
    env.ok(&["get", &id]);
    // The user can release it.
    assert!(env.ok(&["unlock", &id]).line().contains("released"));
    env.ok(&["add", &id, "f.txt"]);
}

#[test]
fn a_stale_lock_is_released_with_a_warning() {
    let env = Env::new();
    env.write("f.txt", b"x");
    let id = env.ok(&["create", "d/x"]).line();
    // A pid that cannot exist.
    write_lock(&env, &id, 4_000_000_000);
    let r = env.ok(&["add", &id, "f.txt"]);
    assert!(r.stderr().contains("stale lock"), "{}", r.stderr());
    assert_eq!(env.json(&["show", &id])["file_count"], 1);
}
