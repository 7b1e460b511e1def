//! The app's commands without a display: a mock runtime, real engine, real files.

use std::sync::{Arc, Mutex};

use strata_app::commands;
use strata_app::dto::ProgressDto;
use strata_app::tasks::AppState;
use strata_engine::GetRequest;
use tauri::async_runtime::block_on;
use tauri::ipc::{CallbackFn, Channel, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::Manager;

fn app(home: &std::path::Path) -> tauri::App<tauri::test::MockRuntime> {
    mock_builder()
        .manage(AppState::new(home.to_path_buf()))
        .invoke_handler(strata_app::handlers!())
        .build(mock_context(noop_assets()))
        .expect("mock app")
}

fn folder(root: &std::path::Path, n: usize) {
    for i in 0..n {
        let p = root.join(format!("c{}/{i}.txt", i % 3));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, format!("file {i}")).unwrap();
    }
}

fn recorder() -> (Channel<ProgressDto>, Arc<Mutex<Vec<ProgressDto>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let ch = Channel::new(move |body| {
        if let tauri::ipc::InvokeResponseBody::Json(j) = body {
            if let Ok(p) = serde_json::from_str::<serde_json::Value>(&j) {
                s.lock().unwrap().push(ProgressDto {
                    phase: p["phase"].as_str().unwrap_or_default().into(),
                    files: p["files"].as_u64().unwrap_or(0),
                    total_files: p["totalFiles"].as_u64().unwrap_or(0),
                    bytes: p["bytes"].as_u64().unwrap_or(0),
                    total_bytes: p["totalBytes"].as_u64().unwrap_or(0),
                    rate: 0.0,
                    warning: None,
                });
            }
        }
        Ok(())
    });
    (ch, seen)
}

#[test]
fn snapshot_browse_diff_and_copy_through_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    folder(&data, 30);
    let app = app(&dir.path().join("home"));
    let h = app.handle().clone();

    let (ch, seen) = recorder();
    let first = block_on(commands::snapshot_folder(
        h.clone(),
        app.state(),
        1,
        "p/d".into(),
        data.display().to_string(),
        ch,
    ))
    .unwrap();
    assert!(first.created);
    assert_eq!(first.version.file_count, 30);
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .any(|p| p.phase == "hashing" && p.total_files == 30));

    let cat = block_on(commands::catalog(app.state())).unwrap();
    assert_eq!(cat.datasets.len(), 1);
    let page = block_on(commands::version_files(
        app.state(),
        "p/d".into(),
        Some("c1/*".into()),
        0,
        5,
    ))
    .unwrap();
    assert_eq!(page.total, 10);
    assert_eq!(page.files.len(), 5);

    std::fs::write(data.join("c0/new.txt"), "new").unwrap();
    let (ch, _) = recorder();
    let second = block_on(commands::snapshot_folder(
        h.clone(),
        app.state(),
        2,
        "p/d".into(),
        data.display().to_string(),
        ch,
    ))
    .unwrap();
    assert_eq!(second.changes.added, 1);
    let detail = block_on(commands::version_detail(
        app.state(),
        second.version.id.clone(),
    ))
    .unwrap();
    assert_eq!(detail.against_parent.unwrap().added, 1);
    let diff = block_on(commands::diff_versions(
        app.state(),
        first.version.id.clone(),
        second.version.id.clone(),
        10,
    ))
    .unwrap();
    assert_eq!(diff.added[0].path, "c0/new.txt");

    let out = dir.path().join("copy");
    let (ch, _) = recorder();
    let req = GetRequest {
        to: Some(out.clone()),
        mutable: true,
        ..Default::default()
    };
    let copy = block_on(commands::get_copy(app.state(), 3, "p/d".into(), req, ch)).unwrap();
    assert_eq!(copy.files, 31);
    assert_eq!(
        std::fs::read_to_string(out.join("c0/new.txt")).unwrap(),
        "new"
    );
}

#[test]
fn errors_cross_as_code_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir.path().join("home"));
    let err = block_on(commands::version_detail(app.state(), "nope/none".into())).unwrap_err();
    assert_eq!(err.code, "not_found");
    assert!(err.message.contains("nope/none"));
    let json = serde_json::to_value(&err).unwrap();
    // The exact shape the UI branches on (ui/src/bindings/ApiError.ts).
    assert_eq!(
        json,
        serde_json::json!({
            "code": "not_found",
            "kind": "not_found",
            "message": "dataset not found: nope/none",
            "remote": null,
            "remedy": null,
        })
    );
}

type Window = tauri::WebviewWindow<tauri::test::MockRuntime>;

fn window(app: &tauri::App<tauri::test::MockRuntime>) -> Window {
    tauri::WebviewWindowBuilder::new(app, "main", Default::default())
        .build()
        .unwrap()
}

fn invoke(webview: &Window, cmd: &str) -> Result<serde_json::Value, serde_json::Value> {
    get_ipc_response(
        webview,
        tauri::webview::InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::default(),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<serde_json::Value>().unwrap())
}

#[test]
fn the_window_may_call_exactly_the_commands_its_capability_allows() {
    let dir = tempfile::tempdir().unwrap();
    // With the app's real configuration and capability file.
    let app = mock_builder()
        .manage(AppState::new(dir.path().join("home")))
        .invoke_handler(strata_app::handlers!())
        .build(tauri::generate_context!("tauri.conf.json"))
        .expect("app with the real capability");
    let w = window(&app);
    let v = invoke(&w, "catalog").expect("catalog is allowed");
    assert_eq!(v["datasets"], serde_json::json!([]));
    // Core abilities the capability does not grant stay closed, and no file access exists.
    for cmd in [
        "plugin:window|close",
        "plugin:webview|create_webview_window",
        "plugin:fs|read_file",
    ] {
        let refused = invoke(&w, cmd).unwrap_err();
        assert!(
            refused.to_string().contains("not allowed"),
            "{cmd}: {refused}"
        );
    }
}

/// The `strata` binary of this build, to run the CLI beside the app on one home.
fn strata_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let mut candidates = vec![];
    if let Ok(p) = std::env::var("STRATA_TEST_CLI") {
        candidates.push(std::path::PathBuf::from(p));
    }
    if let Some(t) = option_env!("CARGO_TARGET_DIR") {
        candidates.push(std::path::Path::new(t).join("debug/strata"));
    }
    if let Some(debug) = exe.parent().and_then(|deps| deps.parent()) {
        candidates.push(debug.join("strata"));
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    candidates.push(root.join("target/debug/strata"));
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .expect("the strata binary: build it first (cargo build -p strata-cli)")
}

#[test]
fn the_app_and_the_cli_writing_one_draft_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let app = app(&home);
    let h = app.handle().clone();
    let draft = block_on(commands::create_version(
        h.clone(),
        app.state(),
        "p/d".into(),
        vec![],
        None,
        None,
    ))
    .unwrap();
    let id = draft.id.clone();
    let cli = strata_binary();
    // Ten CLI processes and ten app calls set one key each, all at the same time.
    let children: Vec<std::process::Child> = (0..10)
        .map(|i| {
            std::process::Command::new(&cli)
                .args(["meta", &id, &format!("cli{i}={i}")])
                .env("STRATA_HOME", &home)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn strata")
        })
        .collect();
    std::thread::scope(|s| {
        for i in 0..10 {
            let (h, id) = (h.clone(), id.clone());
            s.spawn(move || {
                block_on(commands::set_metadata(
                    h.clone(),
                    h.state(),
                    id,
                    format!("app{i}"),
                    Some(i.to_string()),
                ))
                .unwrap_or_else(|e| panic!("app call {i} failed: {}", e.message))
            });
        }
    });
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a CLI writer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v = block_on(commands::version_detail(app.state(), id)).unwrap();
    let keys: Vec<&String> = v.version.metadata.keys().collect();
    assert_eq!(keys.len(), 20, "every writer's key is kept: {keys:?}");
}

#[test]
fn a_remote_without_credentials_says_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut e = strata_engine::Engine::open(&home).unwrap();
    e.remote_add(strata_core::RemoteSpec {
        name: "nocreds".into(),
        url: "s3://bucket".into(),
        endpoint: Some("http://127.0.0.1:9".into()),
        region: Some("us-east-1".into()),
        allow_http: true,
        is_default: true,
    })
    .unwrap();
    drop(e);
    // This process must not find credentials anywhere (the tests of this binary share it).
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ] {
        std::env::remove_var(k);
    }
    std::env::set_var("STRATA_KEYCHAIN", "kernel-keyring");
    let app = app(&home);
    let err = block_on(commands_remote_test(&app, "nocreds")).unwrap_err();
    let mut json = serde_json::to_value(&err).unwrap();
    let message = json["message"].take();
    assert_eq!(
        json,
        serde_json::json!({
            "code": "remote",
            "kind": "unauthorized",
            "message": null,
            "remote": "nocreds",
            "remedy": "login",
        })
    );
    let message = message.as_str().unwrap();
    assert!(
        message.starts_with("remote 'nocreds': no S3 credentials") && !message.contains("strata "),
        "the message names the problem, not a CLI command: {message}"
    );
}

async fn commands_remote_test(
    app: &tauri::App<tauri::test::MockRuntime>,
    name: &str,
) -> Result<strata_app::dto::ProbeDto, strata_app::dto::ApiError> {
    strata_app::remote_commands::remote_test(app.state(), name.into()).await
}

#[test]
fn warnings_of_short_commands_reach_the_window_as_notices() {
    use tauri::Listener;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let data = dir.path().join("data");
    folder(&data, 3);
    let bucket = dir.path().join("bucket");
    let mut e = strata_engine::Engine::open(&home).unwrap();
    e.remote_add(strata_core::RemoteSpec {
        name: "team".into(),
        url: format!("file://{}", bucket.display()),
        endpoint: None,
        region: None,
        allow_http: false,
        is_default: true,
    })
    .unwrap();
    let (p, c) = (strata_core::NoProgress, strata_core::Cancel::new());
    e.snapshot("p/d", &data, &[], &p, &c).unwrap();
    e.upload("p/d", None, &p, &c).unwrap();
    drop(e);

    let app = app(&home);
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let s = seen.clone();
    app.listen_any("strata://notice", move |event| {
        let v: serde_json::Value = serde_json::from_str(event.payload()).unwrap();
        s.lock()
            .unwrap()
            .push(v["message"].as_str().unwrap().to_string());
    });
    assert!(block_on(commands::set_offline_mode(app.state(), true)).unwrap());
    let v = block_on(commands::publish_version(
        app.handle().clone(),
        app.state(),
        "p/d".into(),
    ))
    .unwrap();
    assert_eq!(v.state, "published");
    assert_eq!(
        *seen.lock().unwrap(),
        ["not yet shared on remote 'team' (offline); it waits to be pushed"]
    );
}

/// Events the window would hear, as (event name, payload).
fn heard(
    app: &tauri::App<tauri::test::MockRuntime>,
    names: &[&'static str],
) -> Arc<Mutex<Vec<(String, serde_json::Value)>>> {
    use tauri::Listener;
    let seen = Arc::new(Mutex::new(Vec::new()));
    for &name in names {
        let s = seen.clone();
        app.listen_any(name, move |event| {
            let v: serde_json::Value = serde_json::from_str(event.payload()).unwrap();
            s.lock().unwrap().push((name.to_string(), v));
        });
    }
    seen
}

fn wait_until(what: &str, patience: std::time::Duration, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(start.elapsed() < patience, "{what} within {patience:?}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn a_watch_a_service_runs_is_shown_running_elsewhere_quietly_and_taken_over_when_it_stops() {
    use std::time::Duration;
    use strata_app::dto::{WatchAddRequest, WatchPhase};
    use strata_app::watch_commands;
    use strata_app::watches::WatchRunner;

    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let data = dir.path().join("data");
    folder(&data, 3);
    let app = app(&home);
    let h = app.handle().clone();
    let added = block_on(watch_commands::watch_add(
        h.clone(),
        app.state(),
        WatchAddRequest {
            folder: data.display().to_string(),
            dataset: "lab/w".into(),
            quiet_ms: 500,
            ..Default::default()
        },
    ))
    .unwrap();
    assert_eq!((added.paused, added.running), (false, false));

    // A service (`strata watch run`) runs the watch before the app starts its own runner.
    let service = std::process::Command::new(strata_binary())
        .args(["watch", "run"])
        .env("STRATA_HOME", &home)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn strata watch run");
    let list = || block_on(watch_commands::watches(app.state())).unwrap();
    wait_until(
        "the service runs the watch",
        Duration::from_secs(20),
        || list()[0].running,
    );

    let seen = heard(
        &app,
        &["watch://state", "strata://notice", "catalog://changed"],
    );
    let state: tauri::State<'_, AppState> = app.state();
    let runner = WatchRunner::start(h.clone(), home.clone(), state.watch_board());
    // The runner is refused and tries again every few seconds: the window hears it once.
    std::thread::sleep(Duration::from_secs(8));
    {
        let seen = seen.lock().unwrap();
        let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["watch://state"], "{seen:?}");
        assert_eq!(seen[0].1["state"], "elsewhere");
    }
    let w = &list()[0];
    assert!(w
        .elsewhere
        .as_deref()
        .is_some_and(|who| who.contains("watch")));
    assert_ne!(w.state, WatchPhase::Error);

    // The service stops; the app's runner takes the watch over and versions changes itself.
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(service.id() as libc::pid_t, libc::SIGINT);
    }
    let out = service.wait_with_output().unwrap();
    assert!(out.status.success());
    wait_until(
        "the app's runner takes over",
        Duration::from_secs(20),
        || {
            let w = &list()[0];
            w.running && w.elsewhere.is_none()
        },
    );
    std::fs::write(data.join("new.txt"), b"new").unwrap();
    let news = || {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|(n, v)| n == "strata://notice" && v["tone"] == "info")
            .map(|(_, v)| v["message"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    wait_until(
        "a notice of the new version",
        Duration::from_secs(20),
        || !news().is_empty(),
    );
    assert_eq!(news(), ["lab/w@1.0.1: 1 added (watched folder)"]);
    let seen_now = seen.lock().unwrap().clone();
    assert!(
        seen_now
            .iter()
            .any(|(n, v)| n == "catalog://changed" && v["dataset"] == "lab/w"),
        "{seen_now:?}"
    );
    assert!(
        !seen_now
            .iter()
            .any(|(n, v)| n == "strata://notice" && v["tone"] == "warning"),
        "no warnings: {seen_now:?}"
    );
    runner.stop(Duration::from_secs(5));
    let w = &list()[0];
    assert!(
        !w.running,
        "the runner lets go of the watch when the app closes"
    );
    assert_eq!(w.last_version.as_deref(), Some("lab/w@1.0.1"));
}

#[test]
fn listings_and_diffs_hand_out_pages() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    folder(&data, 30);
    let app = app(&dir.path().join("home"));
    let h = app.handle().clone();
    let (ch, _) = recorder();
    let first = block_on(commands::snapshot_folder(
        h.clone(),
        app.state(),
        1,
        "p/d".into(),
        data.display().to_string(),
        ch,
    ))
    .unwrap();

    // The pages of a filtered listing follow each other, none missing, none twice.
    let mut listed = Vec::new();
    for offset in [0, 4, 8] {
        let p = block_on(commands::version_files(
            app.state(),
            first.version.id.clone(),
            Some("c2/*".into()),
            offset,
            4,
        ))
        .unwrap();
        assert_eq!((p.total, p.offset), (10, offset));
        listed.extend(p.files.into_iter().map(|f| f.path));
    }
    let mut want: Vec<String> = (0..30)
        .filter(|i| i % 3 == 2)
        .map(|i| format!("c2/{i}.txt"))
        .collect();
    want.sort();
    assert_eq!(listed, want);

    // A diff sends the first `limit` paths of each kind, and the totals of all.
    for i in 0..12 {
        std::fs::write(data.join(format!("c0/new-{i}.txt")), format!("new {i}")).unwrap();
    }
    let (ch, _) = recorder();
    let second = block_on(commands::snapshot_folder(
        h.clone(),
        app.state(),
        2,
        "p/d".into(),
        data.display().to_string(),
        ch,
    ))
    .unwrap();
    let diff = block_on(commands::diff_versions(
        app.state(),
        first.version.id.clone(),
        second.version.id.clone(),
        5,
    ))
    .unwrap();
    assert_eq!(diff.added.len(), 5);
    assert_eq!(diff.totals.added, 12);
    assert_eq!(diff.totals.unchanged, 30);
    assert!(diff.removed.is_empty() && diff.modified.is_empty());

    // A draft listed, then changed: the next page is of what it holds now.
    let draft = block_on(commands::create_version(
        h.clone(),
        app.state(),
        "p/d".into(),
        vec![second.version.id.clone()],
        None,
        None,
    ))
    .unwrap();
    let files = |reference: &str| {
        block_on(commands::version_files(
            app.state(),
            reference.into(),
            None,
            0,
            100,
        ))
        .unwrap()
        .total
    };
    assert_eq!(files(&draft.id), 42);
    let extra = dir.path().join("extra.txt");
    std::fs::write(&extra, "extra").unwrap();
    let (ch, _) = recorder();
    block_on(commands::add_paths(
        h.clone(),
        app.state(),
        3,
        draft.id.clone(),
        vec![extra.display().to_string()],
        None,
        ch,
    ))
    .unwrap();
    assert_eq!(files(&draft.id), 43);
}
