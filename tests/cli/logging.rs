//! The log file under the home: one line per event with timings, rotated by size, `-v` on
//! stderr, and never a credential.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::support::{Env, Run};

fn log_dir(env: &Env) -> PathBuf {
    env.home().join("logs")
}

fn log_text(env: &Env) -> String {
    std::fs::read_to_string(log_dir(env).join("strata.log")).expect("the log file exists")
}

/// The log files (`strata.log`, `strata.log.N`) with their sizes.
fn log_files(dir: &Path) -> Vec<(String, u64)> {
    let mut files: Vec<(String, u64)> = std::fs::read_dir(dir)
        .expect("logs folder")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("strata.log"))
        .map(|e| {
            let len = e.metadata().expect("stat").len();
            (e.file_name().to_string_lossy().to_string(), len)
        })
        .collect();
    files.sort();
    files
}

/// A value no one else would write, so finding it anywhere means it leaked.
fn sentinel(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    format!("sentinel-{what}-{}-{nanos}", std::process::id())
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[test]
fn operations_are_logged_with_their_duration_and_failures_with_their_code() {
    let env = Env::new();
    let data = env.images("data", 2, 6);
    env.ok(&["snapshot", "p/d", data.to_str().unwrap()]);
    let r = env.run(&["show", "p/missing"]).fails();
    assert!(r.error().contains("not found"), "{}", r.error());
    assert!(
        !r.stderr().contains(" INFO "),
        "no log lines on stderr without -v: {}",
        r.stderr()
    );

    let log = log_text(&env);
    let pid_and_front = |l: &&str| l.split_whitespace().nth(3) == Some("cli");
    let snapshot: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("run{command=snapshot}"))
        .collect();
    assert!(
        snapshot.iter().any(|l| l.contains(" start")),
        "a start line for the snapshot:\n{log}"
    );
    assert!(
        snapshot
            .iter()
            .any(|l| l.contains("close time.busy=") && l.contains("time.idle=")),
        "the snapshot's duration:\n{log}"
    );
    assert!(
        snapshot.iter().all(pid_and_front),
        "time, level, pid and front end lead each line:\n{log}"
    );
    assert!(
        !log.contains(data.to_str().unwrap()),
        "arguments are not logged:\n{log}"
    );
    let failure: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("run{command=show}") && l.contains("failed"))
        .collect();
    assert_eq!(failure.len(), 1, "one line for the failure:\n{log}");
    assert!(
        failure[0].contains(" WARN ") && failure[0].contains("code=\"not_found\""),
        "{}",
        failure[0]
    );
    assert!(
        log.lines()
            .any(|l| l.contains("run{command=show}") && l.contains("close time.busy=")),
        "a failed command's duration too:\n{log}"
    );
}

#[test]
fn no_credential_reaches_the_log_or_stderr() {
    let env = Env::new();
    let name = format!("lg{}", std::process::id());
    let upper = name.to_uppercase();
    let aws = sentinel("aws");
    let team = sentinel("team");
    let token = sentinel("token");
    let in_url = sentinel("url");
    let typed = sentinel("typed");
    let pem = sentinel("pem");
    let service_account = format!(
        "{{\"type\": \"service_account\", \"client_email\": \"x@y.iam.gserviceaccount.com\", \
         \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{pem}\\n-----END PRIVATE KEY-----\\n\"}}"
    );
    let env_secrets = [
        (
            "AWS_ACCESS_KEY_ID".to_string(),
            "AKIDSENTINELLOG".to_string(),
        ),
        ("AWS_SECRET_ACCESS_KEY".to_string(), aws.clone()),
        (
            format!("STRATA_REMOTE_{upper}_ACCESS_KEY_ID"),
            "AKIDTEAM".to_string(),
        ),
        (
            format!("STRATA_REMOTE_{upper}_SECRET_ACCESS_KEY"),
            team.clone(),
        ),
        (
            format!("STRATA_REMOTE_{upper}_SESSION_TOKEN"),
            token.clone(),
        ),
        (
            "STRATA_REMOTE_GCS_SERVICE_ACCOUNT".to_string(),
            service_account,
        ),
    ];
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let data = env.images("data", 2, 4);
    env.ok(&[
        "remote",
        "add",
        &name,
        "s3://bucket/strata",
        "--endpoint",
        &endpoint,
        "--allow-http",
    ]);
    env.ok(&["remote", "add", "gcs", "gs://bucket/strata"]);

    let mut stderr = String::new();
    for verbosity in [None, Some("-v"), Some("-vvv")] {
        let with = |args: &[&str]| -> Vec<String> {
            let mut a: Vec<String> = verbosity.into_iter().map(String::from).collect();
            a.extend(args.iter().map(|s| s.to_string()));
            a
        };
        let runs: Vec<(Vec<String>, bool)> = vec![
            (
                with(&["snapshot", "p/d", data.to_str().unwrap(), "--tag", "t"]),
                true,
            ),
            // Refused, and its message must not carry the password either.
            (
                with(&[
                    "remote",
                    "add",
                    "leak",
                    &format!("s3://AKIA:{in_url}@bucket/x"),
                ]),
                false,
            ),
            (
                with(&[
                    "remote",
                    "add",
                    "leak",
                    "s3://bucket/x",
                    "--endpoint",
                    &format!("http://admin:{in_url}@127.0.0.1:9"),
                    "--allow-http",
                ]),
                false,
            ),
            // A connection error with credentials in the environment.
            (with(&["remote", "test", &name]), false),
            (with(&["upload", "p/d", "--remote", &name]), false),
            (with(&["remote", "test", "gcs"]), false),
        ];
        for (args, succeeds) in runs {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut cmd = env.cmd(&args);
            // Everything the dependencies have to say, too.
            cmd.env("STRATA_LOG", "trace");
            for (k, v) in &env_secrets {
                cmd.env(k, v);
            }
            let r = Run {
                out: cmd.output().expect("run strata"),
            };
            assert_eq!(r.out.status.success(), succeeds, "{args:?}: {}", r.stderr());
            stderr.push_str(&r.stderr());
        }

        // `remote login` reads the secret from stdin, stores it in the OS keychain (when there
        // is one) and fails its test write: nothing answers at the endpoint.
        let mut login = env
            .cmd(
                &with(&["remote", "login", &name])
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
            )
            .env("STRATA_LOG", "trace")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn login");
        writeln!(login.stdin.as_mut().expect("stdin"), "AKIDTYPED\n{typed}").expect("write");
        let out = login.wait_with_output().expect("login");
        assert!(
            !out.status.success(),
            "nothing listens: the login's test fails"
        );
        stderr.push_str(&String::from_utf8_lossy(&out.stderr));
    }

    let log = log_text(&env);
    assert!(
        log.contains("run{command=remote test}") && log.contains("code=\"remote\""),
        "the connection error is logged:\n{log}"
    );
    assert!(
        log.contains("run{command=remote login}") && log.contains("failed"),
        "the failed login is logged:\n{log}"
    );
    assert!(
        stderr.contains("run{command=remote test}"),
        "-v puts the log on stderr"
    );
    for secret in [&aws, &team, &token, &in_url, &typed, &pem] {
        let holding = files_holding(&log_dir(&env), secret);
        assert!(holding.is_empty(), "{secret} is in {holding:?}");
        assert!(!stderr.contains(secret.as_str()), "{secret} is on stderr");
    }
}

/// Every file under `dir` (recursively) that holds `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files_holding(&p, needle));
        } else if std::fs::read(&p)
            .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .unwrap_or(false)
        {
            out.push(p.display().to_string());
        }
    }
    out
}

#[test]
fn verbose_logs_on_stderr_and_json_stays_alone_on_stdout() {
    let env = Env::new();
    let data = env.images("data", 2, 4);
    for flags in [vec!["-v"], vec!["-vv"], vec!["--verbose"]] {
        let mut args = flags.clone();
        args.extend(["snapshot", "p/d", data.to_str().unwrap(), "--json"]);
        let r = env.ok(&args);
        let doc = r.json();
        assert!(doc.is_object(), "{doc}");
        let err = r.stderr();
        assert!(
            err.lines()
                .any(|l| l.contains(" INFO ") && l.contains("run{command=snapshot}: ")),
            "{flags:?}: log lines on stderr: {err}"
        );
        assert!(
            err.contains("close time.busy="),
            "{flags:?}: with the duration: {err}"
        );
    }
    // `-vv` adds DEBUG for Strata's crates; `-v` does not.
    let one = env.ok(&["-v", "list"]).stderr();
    assert!(!one.contains(" DEBUG "), "{one}");
    // A global flag after a tag's `-T` is still a global flag.
    env.ok(&["tag", "p/d", "+keep"]);
    let tagged = env.ok(&["tag", "p/d", "-keep", "-v", "--json"]);
    tagged.json();
    assert!(
        tagged.stderr().contains("run{command=tag}"),
        "{}",
        tagged.stderr()
    );
}

#[test]
fn a_home_without_room_for_logs_still_works() {
    let env = Env::new();
    std::fs::create_dir_all(env.home()).unwrap();
    std::fs::write(log_dir(&env), b"a file where the logs folder would be").unwrap();
    let quiet = env.ok(&["list", "--json"]);
    assert_eq!(quiet.stderr(), "", "nothing said without -v");
    let told = env.ok(&["-v", "list"]).stderr();
    let notes: Vec<&str> = told.lines().filter(|l| l.contains("no log file")).collect();
    assert_eq!(notes.len(), 1, "said once with -v: {told}");
}

#[test]
fn the_log_folder_stays_bounded() {
    let mut env = Env::new();
    let max = 2000u64;
    env.vars
        .push(("STRATA_LOG_MAX_BYTES".into(), max.to_string()));
    env.vars.push(("STRATA_LOG".into(), "debug".into()));
    let data = env.images("data", 2, 4);
    env.ok(&["snapshot", "p/d", data.to_str().unwrap()]);
    for i in 0..30 {
        if i % 3 == 0 {
            env.run(&["show", "p/missing"]).fails();
        } else {
            env.ok(&["list", "--all"]);
        }
    }
    let dir = log_dir(&env);
    let longest_line = ["strata.log", "strata.log.1", "strata.log.2", "strata.log.3"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(dir.join(f)).ok())
        .flat_map(|t| t.lines().map(|l| l.len() as u64 + 1).collect::<Vec<_>>())
        .max()
        .expect("log lines");
    let files = log_files(&dir);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["strata.log", "strata.log.1", "strata.log.2", "strata.log.3"],
        "rotated, three old files kept"
    );
    for (name, len) in &files {
        assert!(
            *len <= max + longest_line,
            "{name}: {len} bytes, over {max} + one line"
        );
    }

    // Processes writing at once: still four files, each within a line per writer.
    let children: Vec<_> = (0..4)
        .map(|_| {
            env.cmd(&["list", "--all"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().expect("wait").success());
    }
    let files = log_files(&dir);
    assert!(files.len() <= 4, "{files:?}");
    for (name, len) in &files {
        assert!(*len <= max + 4 * longest_line, "{name}: {len} bytes");
    }
}
