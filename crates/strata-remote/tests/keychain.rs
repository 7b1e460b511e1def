//! The OS keychain for real: the kernel keyring, and the Secret Service of a running
//! gnome-keyring-daemon (this test's own, under `dbus-run-session`, where there is no desktop
//! session). Where credentials go is decided once per process, so every keychain call runs in a
//! child process: this test binary again, running `child_process` with an operation in its
//! environment. What the children stored is then checked from outside Strata: the kernel keyring
//! through keyutils, the Secret Service through libsecret's `secret-tool`.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use linux_keyutils::{KeyRing, KeyRingIdentifier};
use strata_remote::keychain::{self, KEYCHAIN_VAR};

/// Set in a child: the operation `child_process` runs.
const CHILD_OP: &str = "STRATA_KEYCHAIN_TEST_OP";
const CHILD_REMOTE: &str = "STRATA_KEYCHAIN_TEST_REMOTE";
/// `KEY=value` (save) or `KEY` (load), one a line.
const CHILD_ARGS: &str = "STRATA_KEYCHAIN_TEST_ARGS";
/// Set when this binary runs inside the private D-Bus session that `secret_service_round_trip`
/// starts, so that it requires the Secret Service instead of starting another session.
const IN_SESSION: &str = "STRATA_KEYCHAIN_TEST_SESSION";
const SECRET_SERVICE_TEST: &str = "secret_service_round_trip";

/// Not a test on its own: the body of the child processes the tests start (it does nothing when
/// run without [`CHILD_OP`]). Prints one `@@ ` line per result.
#[test]
fn child_process() {
    let Ok(op) = std::env::var(CHILD_OP) else {
        return;
    };
    let remote = std::env::var(CHILD_REMOTE).unwrap();
    let args = std::env::var(CHILD_ARGS).unwrap_or_default();
    let args = args.lines().filter(|l| !l.is_empty());
    let show = |r: strata_core::Result<String>| match r {
        Ok(s) => s,
        Err(e) => format!("error {}: {e}", e.code()),
    };
    match op.as_str() {
        "backend" => println!("@@ {}", keychain::backend().code()),
        "save" => {
            for a in args {
                let (k, v) = a.split_once('=').unwrap();
                let r = keychain::save(&remote, k, v).map(|b| format!("saved {}", b.code()));
                println!("@@ {}", show(r));
            }
        }
        "load" => {
            for k in args {
                println!("@@ {}", keychain::load(&remote, k).unwrap_or("-".into()));
            }
        }
        "forget" => {
            let r = keychain::forget(&remote).map(|n| format!("forgot {n}"));
            println!("@@ {}", show(r));
        }
        other => panic!("unknown operation {other}"),
    }
}

/// An environment change for a child: set or remove a variable.
#[derive(Clone, Copy)]
enum Var<'a> {
    Set(&'a str, &'a str),
    Unset(&'a str),
}

/// Forces the kernel keyring.
const KERNEL: Var = Var::Set(KEYCHAIN_VAR, "kernel-keyring");

/// Runs one keychain operation in a new process; returns its result lines.
fn child(op: &str, remote: &str, args: &[&str], vars: &[Var]) -> Vec<String> {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_process",
        "--nocapture",
        "--test-threads=1",
    ])
    .env_remove(KEYCHAIN_VAR)
    .env(CHILD_OP, op)
    .env(CHILD_REMOTE, remote)
    .env(CHILD_ARGS, args.join("\n"));
    for v in vars {
        match *v {
            Var::Set(k, val) => cmd.env(k, val),
            Var::Unset(k) => cmd.env_remove(k),
        };
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{op} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = stdout
        .lines()
        // The harness may print "test child_process ... " on the same line first.
        .filter_map(|l| l.split_once("@@ "))
        .map(|(_, r)| r.to_string())
        .collect();
    assert!(!lines.is_empty(), "{op} printed no result: {stdout}");
    lines
}

/// A child that sees no D-Bus session bus: no address, no `$XDG_RUNTIME_DIR/bus`, no display to
/// autolaunch one on.
fn no_dbus(empty_dir: &Path) -> [Var<'_>; 3] {
    [
        Var::Unset("DBUS_SESSION_BUS_ADDRESS"),
        Var::Set("XDG_RUNTIME_DIR", empty_dir.to_str().unwrap()),
        Var::Unset("DISPLAY"),
    ]
}

fn user_keyring() -> KeyRing {
    KeyRing::from_special_id(KeyRingIdentifier::User, false).unwrap()
}

/// What the kernel keyring holds for a credential, read with keyutils (not through Strata).
fn in_kernel(remote: &str, key: &str) -> Option<String> {
    let k = user_keyring()
        .search(&keychain::description(remote, key))
        .ok()?;
    Some(String::from_utf8(k.read_to_vec().unwrap()).unwrap())
}

/// Stores a credential the way Strata did before it knew the Secret Service.
fn put_in_kernel(remote: &str, key: &str, value: &str) {
    user_keyring()
        .add_key(&keychain::description(remote, key), value.as_bytes())
        .unwrap();
}

/// Removes what a test left, even when it fails half-way.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Ok(r) = KeyRing::from_special_id(KeyRingIdentifier::User, false) {
            for key in keychain::KEYS {
                if let Ok(k) = r.search(&keychain::description(&self.0, key)) {
                    let _ = k.invalidate();
                }
            }
        }
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
            let _ = Command::new("secret-tool")
                .args(["clear", "service", "strata", "remote", &self.0])
                .output();
        }
    }
}

fn remote(tag: &str) -> (String, Cleanup) {
    let name = format!("kc-{tag}-{}", std::process::id());
    (name.clone(), Cleanup(name))
}

#[test]
fn kernel_keyring_round_trip() {
    let (r, _cleanup) = remote("kernel");
    let id = format!("AKID{}", std::process::id());
    let secret = format!("kernel-secret-{}", std::process::id());
    assert_eq!(child("backend", &r, &[], &[KERNEL]), ["kernel-keyring"]);
    assert_eq!(
        child(
            "save",
            &r,
            &[
                &format!("ACCESS_KEY_ID={id}"),
                &format!("SECRET_ACCESS_KEY={secret}"),
                "SESSION_TOKEN=",
            ],
            &[KERNEL],
        ),
        [
            "saved kernel-keyring",
            "saved kernel-keyring",
            &format!("error invalid: empty SESSION_TOKEN for remote '{r}'"),
        ]
    );
    // In the user keyring, under the name Strata has always used.
    assert_eq!(in_kernel(&r, "SECRET_ACCESS_KEY"), Some(secret.clone()));
    assert_eq!(in_kernel(&r, "SESSION_TOKEN"), None);
    // Another process finds them, forced or not.
    let keys = ["ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "SESSION_TOKEN"];
    let want = [id.as_str(), secret.as_str(), "-"];
    assert_eq!(child("load", &r, &keys, &[KERNEL]), want);
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(child("load", &r, &keys, &no_dbus(empty.path())), want);
    // Saving again replaces.
    assert_eq!(
        child("save", &r, &["SECRET_ACCESS_KEY=rotated"], &[KERNEL]),
        ["saved kernel-keyring"]
    );
    assert_eq!(
        child("load", &r, &["SECRET_ACCESS_KEY"], &[KERNEL]),
        ["rotated"]
    );
    assert_eq!(child("forget", &r, &[], &[KERNEL]), ["forgot 2"]);
    assert_eq!(in_kernel(&r, "ACCESS_KEY_ID"), None);
    assert_eq!(in_kernel(&r, "SECRET_ACCESS_KEY"), None);
    assert_eq!(child("load", &r, &keys, &[KERNEL]), ["-", "-", "-"]);
    assert_eq!(child("forget", &r, &[], &[KERNEL]), ["forgot 0"]);
}

#[test]
fn without_dbus_the_kernel_keyring_is_chosen() {
    let (r, _cleanup) = remote("nodbus");
    let empty = tempfile::tempdir().unwrap();
    let no_bus = no_dbus(empty.path());
    assert_eq!(child("backend", &r, &[], &no_bus), ["kernel-keyring"]);
    assert_eq!(
        child("save", &r, &["ACCOUNT_KEY=k1"], &no_bus),
        ["saved kernel-keyring"]
    );
    assert_eq!(in_kernel(&r, "ACCOUNT_KEY").as_deref(), Some("k1"));
    // A bus address that leads nowhere is no bus either.
    let nowhere = format!("unix:path={}/no-bus", empty.path().display());
    let dead_bus = [
        Var::Set("DBUS_SESSION_BUS_ADDRESS", &nowhere),
        Var::Unset("DISPLAY"),
    ];
    assert_eq!(child("backend", &r, &[], &dead_bus), ["kernel-keyring"]);
    assert_eq!(child("load", &r, &["ACCOUNT_KEY"], &dead_bus), ["k1"]);
    assert_eq!(child("forget", &r, &[], &no_bus), ["forgot 1"]);
    assert_eq!(in_kernel(&r, "ACCOUNT_KEY"), None);
}

#[test]
fn credentials_saved_before_the_upgrade_are_still_found() {
    let (r, _cleanup) = remote("legacy");
    put_in_kernel(&r, "ACCESS_KEY_ID", "old-id");
    put_in_kernel(&r, "SECRET_ACCESS_KEY", "old-secret");
    let empty = tempfile::tempdir().unwrap();
    let nowhere = format!("unix:path={}/no-bus", empty.path().display());
    // Even where the Secret Service is chosen (forced here, and unreachable): the kernel keyring
    // is looked in next.
    let forced_ss = [
        Var::Set(KEYCHAIN_VAR, "secret-service"),
        Var::Set("DBUS_SESSION_BUS_ADDRESS", &nowhere),
    ];
    let keys = ["ACCESS_KEY_ID", "SECRET_ACCESS_KEY"];
    assert_eq!(
        child("load", &r, &keys, &forced_ss),
        ["old-id", "old-secret"]
    );
    assert_eq!(
        child("load", &r, &keys, &no_dbus(empty.path())),
        ["old-id", "old-secret"]
    );
    assert_eq!(
        child("forget", &r, &[], &no_dbus(empty.path())),
        ["forgot 2"]
    );
    assert_eq!(in_kernel(&r, "ACCESS_KEY_ID"), None);
}

#[test]
fn keychain_errors_are_clear_and_never_show_the_secret() {
    let (r, _cleanup) = remote("errors");
    let secret = format!("never-shown-{}", std::process::id());
    let save = format!("SECRET_ACCESS_KEY={secret}");
    // An unknown STRATA_KEYCHAIN is refused, naming the variable.
    let gnome = [Var::Set(KEYCHAIN_VAR, "gnome")];
    let refused = child("save", &r, &[&save], &gnome);
    assert!(refused[0].starts_with("error invalid: STRATA_KEYCHAIN=gnome"));
    assert!(refused[0].contains("secret-service") && refused[0].contains("kernel-keyring"));
    assert!(child("forget", &r, &[], &gnome)[0].starts_with("error invalid: STRATA_KEYCHAIN"));
    // A forced Secret Service that is not there: the error says which and what else to do.
    let empty = tempfile::tempdir().unwrap();
    let nowhere = format!("unix:path={}/no-bus", empty.path().display());
    let forced_ss = [
        Var::Set(KEYCHAIN_VAR, "secret-service"),
        Var::Set("DBUS_SESSION_BUS_ADDRESS", &nowhere),
    ];
    assert_eq!(child("backend", &r, &[], &forced_ss), ["secret-service"]);
    let failed = &child("save", &r, &[&save], &forced_ss)[0];
    assert!(
        failed.starts_with(
            "error invalid: STRATA_KEYCHAIN=secret-service but no Secret Service answers: "
        ) && failed.contains("STRATA_KEYCHAIN=kernel-keyring"),
        "{failed}"
    );
    assert!(!failed.contains(&secret), "{failed}");
    let forget = &child("forget", &r, &[], &forced_ss)[0];
    assert!(forget.starts_with("error invalid: STRATA_KEYCHAIN=secret-service"));
    assert_eq!(in_kernel(&r, "SECRET_ACCESS_KEY"), None);
}

/// Whether this process's own session has a Secret Service (a desktop, or the private session).
fn secret_service_here() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        && child("backend", "probe", &[], &[]) == ["secret-service"]
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

/// Runs the Secret Service test again in a D-Bus session of its own with an unlocked
/// gnome-keyring-daemon whose keyrings live in a temporary folder.
fn rerun_in_private_session() {
    let missing: Vec<&str> = [
        "dbus-run-session",
        "dbus-send",
        "gnome-keyring-daemon",
        "secret-tool",
    ]
    .into_iter()
    .filter(|t| !on_path(t))
    .collect();
    if !missing.is_empty() {
        let msg = format!(
            "the Secret Service test needs {} (Debian: apt-get install gnome-keyring dbus \
             libsecret-tools dbus-x11; scripts/setup.sh installs them)",
            missing.join(", ")
        );
        assert!(std::env::var_os("CI").is_none(), "{msg}");
        eprintln!("skipped: {msg}");
        return;
    }
    eprintln!("no Secret Service in this session: running {SECRET_SERVICE_TEST} in one of its own");
    let dir = tempfile::tempdir().unwrap();
    let run: PathBuf = dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
    // The daemon registers on the bus a moment after `--unlock` returns: wait for the name
    // (asking for it could start a second, locked, daemon through D-Bus activation).
    let script = r#"
echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>"$XDG_RUNTIME_DIR/daemon.log" \
  || { echo "gnome-keyring-daemon failed:" >&2; cat "$XDG_RUNTIME_DIR/daemon.log" >&2; exit 97; }
for _ in $(seq 100); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true; then
    exec "$0" --exact "$1" --nocapture --test-threads=1
  fi
  sleep 0.1
done
echo "gnome-keyring-daemon did not take org.freedesktop.secrets on the bus:" >&2
cat "$XDG_RUNTIME_DIR/daemon.log" >&2
exit 98
"#;
    let out: Output = Command::new("timeout")
        .args([
            "-k",
            "10",
            "300",
            "dbus-run-session",
            "--",
            "bash",
            "-c",
            script,
        ])
        .arg(std::env::current_exe().unwrap())
        .arg(SECRET_SERVICE_TEST)
        .env(IN_SESSION, "1")
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env("XDG_RUNTIME_DIR", &run)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .env_remove(KEYCHAIN_VAR)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "in a private D-Bus session ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "the test did not run in the private session:\n{stdout}\n{stderr}"
    );
}

/// `secret-tool` (libsecret, not Strata) on the session's Secret Service: whether it succeeded,
/// its standard output, and its standard error (where `search` prints the attributes).
fn secret_tool(args: &[&str]) -> (bool, String, String) {
    let out = Command::new("secret-tool").args(args).output().unwrap();
    let text = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .trim_end_matches('\n')
            .to_string()
    };
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn secret_service_round_trip() {
    if std::env::var_os(IN_SESSION).is_none() && !secret_service_here() {
        return rerun_in_private_session();
    }
    assert_eq!(
        child("backend", "probe", &[], &[]),
        ["secret-service"],
        "a Secret Service answers on this session bus, but Strata does not use it"
    );
    let (r, _cleanup) = remote("ss");
    let id = format!("AKID{}", std::process::id());
    let secret = format!("ss-secret-{}", std::process::id());
    let lookup = |key: &str| {
        let (ok, value, _) = secret_tool(&[
            "lookup",
            "service",
            "strata",
            "username",
            &keychain::user(&r, key),
        ]);
        (ok, value)
    };
    let items = || {
        let (_, items, attributes) =
            secret_tool(&["search", "--all", "service", "strata", "remote", &r]);
        format!("{items}\n{attributes}")
    };

    assert_eq!(
        child(
            "save",
            &r,
            &[
                &format!("ACCESS_KEY_ID={id}"),
                &format!("SECRET_ACCESS_KEY={secret}")
            ],
            &[]
        ),
        ["saved secret-service", "saved secret-service"]
    );
    // libsecret finds them under the documented attributes, labelled for Seahorse.
    assert_eq!(lookup("SECRET_ACCESS_KEY"), (true, secret.clone()));
    assert_eq!(lookup("ACCESS_KEY_ID"), (true, id.clone()));
    let listed = items();
    assert_eq!(listed.matches("label = ").count(), 2, "{listed}");
    assert!(
        listed.contains(&format!("label = Strata remote '{r}': SECRET_ACCESS_KEY")),
        "{listed}"
    );
    assert!(listed.contains("attribute.key = ACCESS_KEY_ID"), "{listed}");
    assert!(
        listed.contains("attribute.application = strata"),
        "{listed}"
    );
    // Only there: nothing in the kernel keyring.
    assert_eq!(in_kernel(&r, "SECRET_ACCESS_KEY"), None);
    assert_eq!(in_kernel(&r, "ACCESS_KEY_ID"), None);
    // A new process reads them back.
    assert_eq!(
        child("load", &r, &["ACCESS_KEY_ID", "SECRET_ACCESS_KEY"], &[]),
        [id.as_str(), secret.as_str()]
    );
    // Saving again replaces the item rather than adding one.
    assert_eq!(
        child("save", &r, &["SECRET_ACCESS_KEY=rotated"], &[]),
        ["saved secret-service"]
    );
    assert_eq!(lookup("SECRET_ACCESS_KEY"), (true, "rotated".to_string()));
    assert_eq!(items().matches("label = ").count(), 2);

    // Kept in the kernel keyring by an earlier Strata: still found.
    put_in_kernel(&r, "SESSION_TOKEN", "old-token");
    assert_eq!(child("load", &r, &["SESSION_TOKEN"], &[]), ["old-token"]);
    // Saved with the kernel keyring forced, then saved again normally: one place holds it.
    assert_eq!(
        child("save", &r, &["ACCOUNT_NAME=in-kernel"], &[KERNEL]),
        ["saved kernel-keyring"]
    );
    assert_eq!(in_kernel(&r, "ACCOUNT_NAME").as_deref(), Some("in-kernel"));
    assert!(!lookup("ACCOUNT_NAME").0);
    assert_eq!(
        child("save", &r, &["ACCOUNT_NAME=in-keychain"], &[]),
        ["saved secret-service"]
    );
    assert_eq!(in_kernel(&r, "ACCOUNT_NAME"), None);
    assert_eq!(lookup("ACCOUNT_NAME"), (true, "in-keychain".to_string()));
    // With the kernel keyring forced, the Secret Service is still read.
    assert_eq!(
        child("load", &r, &["ACCESS_KEY_ID"], &[KERNEL]),
        [id.as_str()]
    );

    // A process that cannot see the session bus falls back to the kernel keyring.
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(
        child("backend", &r, &[], &no_dbus(empty.path())),
        ["kernel-keyring"]
    );

    // Forget removes from both places and counts each credential once.
    assert_eq!(child("forget", &r, &[], &[]), ["forgot 4"]);
    assert_eq!(items().matches("label = ").count(), 0);
    assert!(!lookup("SECRET_ACCESS_KEY").0);
    assert_eq!(in_kernel(&r, "SESSION_TOKEN"), None);
    assert_eq!(
        child(
            "load",
            &r,
            &[
                "ACCESS_KEY_ID",
                "SECRET_ACCESS_KEY",
                "SESSION_TOKEN",
                "ACCOUNT_NAME"
            ],
            &[]
        ),
        ["-", "-", "-", "-"]
    );
    assert_eq!(child("forget", &r, &[], &[]), ["forgot 0"]);
}
