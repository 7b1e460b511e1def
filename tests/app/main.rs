//! The desktop app in a real window (Xvfb), driven through WebDriver (tauri-driver +
//! WebKitWebDriver) as a user would: make a dataset from a folder, browse it, make a second
//! version, see what changed, get a copy, cancel a long add; and share through a remote: the
//! team's version appears on its own at start, is downloaded, a local one is uploaded, and the
//! Remotes page tests a connection; a remote that never answers leaves the window responsive; a
//! watched folder becomes versions on its own while the app is open, and stops when paused.

mod desktop;
mod driver;
mod offline;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use driver::{Session, Shot};

fn write(root: &Path, rel: &str, body: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_versions_a_folder_and_gets_it_back() {
    let _one = driver::one_window().await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let pets = dir.path().join("pets");
    for i in 0..120 {
        let class = ["cat", "dog", "bird"][i % 3];
        write(
            &pets,
            &format!("train/{class}/{i:04}.jpg"),
            format!("{class} image {i} {}", "x".repeat(i)).as_bytes(),
        );
    }
    write(&pets, "labels.csv", b"path,label\n");

    let s = Session::start(&home).await;
    let shot = Shot::new();

    // An empty catalog greets with one obvious action.
    s.wait_text("[data-test=welcome-new]", "New dataset from folder")
        .await;
    shot.take(&s, "01-empty-catalog").await;
    s.click("[data-test=welcome-new]").await;
    s.type_into("input[name=folder]", pets.to_str().unwrap())
        .await;
    s.click("[data-test=create-dataset]").await;

    // The new version, its files, and the file browser.
    s.wait_text("[data-test=file-total]", "121").await;
    s.wait_text("[data-test=file-count]", "121 files").await;
    s.type_into("[data-test=file-filter]", "*.csv").await;
    s.wait_text("[data-test=file-count]", "1 file").await;
    shot.take(&s, "02-first-version").await;

    // Change the folder, make the next version from the dataset page.
    write(&pets, "train/cat/new-1.jpg", b"new cat");
    write(&pets, "train/dog/new-2.jpg", b"new dog");
    write(&pets, "train/cat/0000.jpg", b"relabelled");
    std::fs::remove_file(pets.join("train/dog/0001.jpg")).unwrap();
    s.click("[data-test='dataset-datasets/pets']").await;
    s.wait_text("[data-test='version-1.0.0']", "1.0.0").await;
    s.click("[data-test=new-version]").await;
    s.type_into("input[name=folder]", pets.to_str().unwrap())
        .await;
    s.click("[data-test=create-dataset]").await;
    s.wait_text("[data-test=parent-changes]", "+2 ~1 −1").await;

    // What changed, in detail.
    s.click("[data-test=parent-diff]").await;
    s.wait_text("[data-test=diff-added]", "2").await;
    s.wait_text("[data-test=diff-modified]", "1").await;
    s.wait_text("[data-test=diff-removed]", "1").await;
    shot.take(&s, "03-diff").await;

    // The lineage on the dataset page.
    s.click("[data-test='dataset-datasets/pets']").await;
    s.wait_text("[data-test='version-1.0.1']", "1.0.1").await;
    shot.take(&s, "04-lineage").await;

    // A writable copy of 1.0.1 on disk, equal to the folder.
    s.click("[data-test='version-1.0.1']").await;
    s.click("[data-test=get-copy]").await;
    let copy = dir.path().join("copy");
    s.type_into("input[name=target]", copy.to_str().unwrap())
        .await;
    s.click("[data-test=get-copy-go]").await;
    s.wait_text("[data-test=copy-result]", "Copied: 122 files")
        .await;
    assert_eq!(
        tree(&copy),
        tree(&pets),
        "the copy holds exactly the version's files"
    );
    assert!(!std::fs::metadata(copy.join("labels.csv"))
        .unwrap()
        .permissions()
        .readonly());

    // A long add, cancelled: nothing half-made remains. The draft is made before the 1.15 GB
    // to add are written: the draft's catalog commit would otherwise wait on the disk flushing
    // them, which is not what this step is about.
    s.click("[data-test=new-child]").await;
    s.wait_text("h1", "1.0.2").await;
    let big = dir.path().join("big");
    for i in 0..24 {
        write(&big, &format!("shard{i}.bin"), &vec![i as u8; 48 << 20]);
    }
    s.click("[data-test=add-files]").await;
    s.type_into("input[name=source]", big.to_str().unwrap())
        .await;
    s.click("[data-test=folder-go]").await;
    s.wait_for("[data-test=cancel-task]").await;
    shot.take(&s, "05-progress").await;
    s.click("[data-test=cancel-task]").await;
    s.wait_text("[data-test=notice]", "Cancelled; nothing was changed.")
        .await;
    s.wait_text("[data-test=file-total]", "122").await;
    s.close().await;

    let engine = strata_engine::Engine::open(&home).unwrap();
    let draft = engine.resolve("datasets/pets@1.0.2").unwrap();
    assert_eq!(draft.file_count, 122, "the cancelled add changed nothing");
    let tmp: Vec<_> = std::fs::read_dir(home.join("store/tmp"))
        .unwrap()
        .flatten()
        .collect();
    assert!(tmp.is_empty(), "no half-written files: {tmp:?}");
    let report = engine
        .verify(
            "datasets/pets@1.0.2",
            &strata_core::NoProgress,
            &strata_core::Cancel::new(),
        )
        .unwrap();
    assert!(report.mismatches.is_empty());
    let _ = Duration::from_secs(0);
}

fn no_progress() -> (strata_core::NoProgress, strata_core::Cancel) {
    (strata_core::NoProgress, strata_core::Cancel::new())
}

fn remote(bucket: &Path) -> strata_core::RemoteSpec {
    strata_core::RemoteSpec {
        name: "team".into(),
        url: format!("file://{}", bucket.display()),
        endpoint: None,
        region: None,
        allow_http: false,
        is_default: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_shares_datasets_through_a_remote() {
    let _one = driver::one_window().await;
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path().join("bucket");

    // A teammate's workstation uploads a version.
    let pets = dir.path().join("pets");
    for i in 0..60 {
        let class = ["cat", "dog"][i % 2];
        write(
            &pets,
            &format!("{class}/{i:03}.jpg"),
            format!("{class} {i}").as_bytes(),
        );
    }
    // This workstation knows the remote and has a version of its own, not yet shared.
    let home = dir.path().join("home");
    let notes = dir.path().join("notes");
    write(&notes, "a.txt", b"mine");
    // The engine runs its own transfers: call it from a plain thread, not from this test's runtime.
    let (mate_home, b2, h2, n2, pets2) = (
        dir.path().join("mate"),
        bucket.clone(),
        home.clone(),
        notes.clone(),
        pets.clone(),
    );
    std::thread::spawn(move || {
        let (p, c) = no_progress();
        let mut mate = strata_engine::Engine::open(&mate_home).unwrap();
        mate.remote_add(remote(&b2)).unwrap();
        mate.snapshot("team/pets", &pets2, &[], &p, &c).unwrap();
        mate.upload("team/pets", None, &p, &c).unwrap();
        let mut me = strata_engine::Engine::open(&h2).unwrap();
        me.remote_add(remote(&b2)).unwrap();
        me.snapshot("mine/notes", &n2, &[], &p, &c).unwrap();
    })
    .join()
    .unwrap();

    // Someone else wrote garbage into the bucket's log: the pull skips it, says so, and goes on.
    write(&bucket, "strata/log/000000000002.json", b"{ not an event");

    let s = Session::start(&home).await;
    let shot = Shot::new();
    s.wait_text(
        "[data-test=transfer-done]",
        "skipped 1 bad log entry: log entry 2",
    )
    .await;
    // Pulled at start: the team's dataset shows up, remote-only.
    s.click("[data-test='dataset-team/pets']").await;
    s.click("[data-test='version-1.0.0']").await;
    s.wait_text("[data-test=upload-state]", "remote-only").await;
    s.click("[data-test=download]").await;
    s.wait_text("[data-test=transfer-done]", "60 objects").await;
    s.wait_text("[data-test=upload-state]", "uploaded").await;
    // Two classes of 30 images: balanced, so no imbalance warning (it once read "Imbalanced: dog
    // has 1× the instances of cat").
    s.wait_for("[data-test=insight-class-dog]").await;
    s.wait_gone("[data-test=insight-imbalance]").await;
    shot.take(&s, "06-downloaded").await;

    // Upload this workstation's version from its page.
    s.click("[data-test='dataset-mine/notes']").await;
    s.click("[data-test='version-1.0.0']").await;
    s.click("[data-test=upload]").await;
    s.wait_text("[data-test=upload-state]", "uploaded").await;
    // A child draft, finalized and uploaded in one action.
    s.click("[data-test=new-child]").await;
    s.wait_text("h1", "1.0.1").await;
    s.click("[data-test=finalize-upload]").await;
    s.wait_text("[data-test=upload-state]", "uploaded").await;

    // The Remotes page: test the connection; a bad address is refused with a clear message.
    s.click("[data-test=open-remotes]").await;
    s.click("[data-test=test-remote]").await;
    s.wait_text("[data-test=remote-test-result]", "writes work")
        .await;
    s.click("[data-test=add-remote]").await;
    s.type_into("[data-test=remote-name]", "lake").await;
    s.type_into("[data-test=remote-url]", "ftp://nowhere").await;
    s.click("[data-test=remote-add-submit]").await;
    s.wait_text("[data-test=remote-add-error]", "unsupported remote URL")
        .await;
    shot.take(&s, "07-remotes").await;
    s.close().await;

    let (p, c) = no_progress();
    // The content is here, checked; the upload reached the bucket for the teammate to see.
    let mate_home = dir.path().join("mate");
    std::thread::spawn(move || {
        let me = strata_engine::Engine::open(&home).unwrap();
        let r = me.verify("team/pets", &p, &c).unwrap();
        assert!(r.mismatches.is_empty(), "downloaded content verifies");
        let mut mate = strata_engine::Engine::open(&mate_home).unwrap();
        let pulled = mate.pull(None, &p).unwrap();
        assert_eq!(
            pulled.new_versions,
            ["mine/notes@1.0.0", "mine/notes@1.0.1"]
        );
    })
    .join()
    .unwrap();
}

/// A server that accepts connections and never answers: every request to it hangs until the
/// client's own timeout (minutes). Returns its port and how many connections it holds.
fn stalled_server() -> (u16, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = Arc::new(AtomicUsize::new(0));
    let count = held.clone();
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for s in listener.incoming().flatten() {
            open.push(s);
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    (port, held)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_remote_never_freezes_the_window() {
    let _one = driver::one_window().await;
    let dir = tempfile::tempdir().unwrap();
    let (port, held) = stalled_server();
    let home = dir.path().join("home");
    let (h, data) = (home.clone(), dir.path().join("data"));
    write(&data, "a.txt", b"a");
    std::thread::spawn(move || {
        let (p, c) = no_progress();
        let mut e = strata_engine::Engine::open(&h).unwrap();
        e.snapshot("p/alpha", &data, &[], &p, &c).unwrap();
        e.snapshot("p/beta", &data, &[], &p, &c).unwrap();
        e.remote_add(strata_core::RemoteSpec {
            name: "slow".into(),
            url: "s3://bucket".into(),
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            region: Some("us-east-1".into()),
            allow_http: true,
            is_default: true,
        })
        .unwrap();
    })
    .join()
    .unwrap();

    let s = Session::start_with_env(
        &home,
        &[
            ("STRATA_REMOTE_SLOW_ACCESS_KEY_ID", "stalled-key-id"),
            ("STRATA_REMOTE_SLOW_SECRET_ACCESS_KEY", "stalled-secret"),
        ],
    )
    .await;
    // The pull at start and a connection test both wait on the silent server...
    s.click_until("[data-test=open-remotes]", "[data-test=test-remote]")
        .await;
    s.click("[data-test=test-remote]").await;
    let start = Instant::now();
    while held.load(Ordering::SeqCst) < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the app never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // ...and meanwhile the window answers at once: pages change, the catalog is read.
    let clicked = Instant::now();
    s.click("[data-test='dataset-p/beta']").await;
    s.wait_text("h1", "beta").await;
    s.click("[data-test='dataset-p/alpha']").await;
    s.wait_text("h1", "alpha").await;
    let took = clicked.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "the window took {took:?} to change pages while a remote stalled"
    );
    s.close().await;
}

/// The versions of `dataset`, oldest first, read by the engine on a plain thread.
fn semvers(home: &Path, dataset: &str) -> Vec<String> {
    let (home, dataset) = (home.to_path_buf(), dataset.to_string());
    std::thread::spawn(move || {
        let e = strata_engine::Engine::open(&home).unwrap();
        // No dataset yet: no versions.
        let mut v: Vec<String> = e
            .log(&dataset)
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.semver)
            .collect();
        v.sort_by_key(|s| semver_key(s));
        v
    })
    .join()
    .unwrap()
}

fn semver_key(s: &str) -> Vec<u64> {
    s.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_folder_becomes_versions_while_the_app_is_open() {
    let _one = driver::one_window().await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let shots = dir.path().join("shots");
    write(
        &shots,
        "README.txt",
        b"microscope shots, one folder per plate",
    );

    let s = Session::start(&home).await;
    let shot = Shot::new();

    // Watch the folder from the Watched folders page, with a quiet window of 1 s.
    // The sidebar's bottom buttons move once at start (the waiting count arrives): click until
    // the page shows.
    s.click_until("[data-test=open-watches]", "[data-test=add-watch]")
        .await;
    s.type_into("[data-test=watch-folder]", shots.to_str().unwrap())
        .await;
    s.type_into("[data-test=watch-dataset]", "lab/shots").await;
    s.fill("[data-test=watch-quiet]", "1").await;
    s.click("[data-test=watch-add-submit]").await;
    // Within seconds the app's runner starts it and versions what is there.
    s.wait_text("[data-test='dataset-lab/shots']", "1.0.0")
        .await;
    s.wait_text("[data-test=watch-last-version]", "lab/shots@1.0.0")
        .await;

    // On the dataset's page, the folder changes and the next version appears on its own.
    s.click("[data-test='dataset-lab/shots']").await;
    s.wait_for("[data-test='version-1.0.0']").await;
    write(&shots, "plate-1/a01.tif", b"a01");
    write(&shots, "plate-1/a02.tif", b"a02");
    write(&shots, "plate-2/b01.tif", b"b01");
    s.wait_text("[data-test='version-1.0.1']", "1.0.1").await;
    s.wait_text("[data-test='dataset-lab/shots']", "1.0.1")
        .await;
    s.wait_text(
        "[data-test=notice]",
        "lab/shots@1.0.1: 3 added (watched folder)",
    )
    .await;
    assert_eq!(semvers(&home, "lab/shots"), ["1.0.0", "1.0.1"]);

    // Paused, the folder's changes make no version.
    s.click("[data-test=open-watches]").await;
    s.wait_text("[data-test=watch-last-version]", "lab/shots@1.0.1")
        .await;
    s.wait_text("[data-test=watch-state]", "Idle").await;
    s.click("[data-test=watch-pause]").await;
    // "Paused" once the runner has let go of it ("Pausing…" until then).
    s.wait_text("[data-test=watch-state]", "Paused").await;
    write(&shots, "plate-2/b02.tif", b"b02");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        semvers(&home, "lab/shots"),
        ["1.0.0", "1.0.1"],
        "a paused watch made a version"
    );

    // Version now still works, and the watch's row links the new version.
    s.click("[data-test=watch-version-now]").await;
    s.wait_text("[data-test=transfer-done]", "lab/shots 1.0.2: 1 added")
        .await;
    s.wait_text("[data-test=watch-last-version]", "lab/shots@1.0.2")
        .await;

    // Resumed, it runs again; the folder is as its newest version, so nothing new is made.
    s.click("[data-test=watch-resume]").await;
    s.wait_text("[data-test=watch-state]", "Idle").await;
    shot.take(&s, "08-watched-folders").await;
    s.click("[data-test=watch-last-version]").await;
    s.wait_text("h1", "1.0.2").await;
    s.close().await;

    assert_eq!(semvers(&home, "lab/shots"), ["1.0.0", "1.0.1", "1.0.2"]);
    let h = home.clone();
    std::thread::spawn(move || {
        let e = strata_engine::Engine::open(&h).unwrap();
        assert_eq!(e.resolve("lab/shots@1.0.2").unwrap().file_count, 5);
        let w = e.watches().unwrap();
        assert_eq!(w.len(), 1);
        assert!(!w[0].watch.paused, "resumed");
        assert_eq!(w[0].watch.last_version.as_deref(), Some("lab/shots@1.0.1"));
    })
    .join()
    .unwrap();
}

/// Polls the catalog until `dataset` has exactly `want` versions.
async fn wait_semvers(home: &Path, dataset: &str, want: &[&str]) {
    let start = Instant::now();
    loop {
        let now = semvers(home, dataset);
        if now == want {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "versions of {dataset}: {now:?}, expected {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn watch_paused(home: &Path) -> bool {
    let home = home.to_path_buf();
    std::thread::spawn(move || {
        let e = strata_engine::Engine::open(&home).unwrap();
        e.watches().unwrap()[0].watch.paused
    })
    .join()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_to_the_tray_the_app_keeps_versioning_watched_folders() {
    let _one = driver::one_window().await;
    let desktop = desktop::Desktop::start().await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    // The user's home, where the login item is written.
    let user = dir.path().join("user");
    std::fs::create_dir_all(&user).unwrap();
    let shots = dir.path().join("shots");
    write(&shots, "README.txt", b"microscope shots");
    let (h, folder) = (home.clone(), shots.clone());
    std::thread::spawn(move || {
        let mut e = strata_engine::Engine::open(&h).unwrap();
        e.watch_add(&strata_engine::WatchRequest {
            folder,
            dataset: "lab/shots".into(),
            quiet_for: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
            poll: None,
            upload: false,
        })
        .unwrap();
    })
    .join()
    .unwrap();

    let s = Session::start_with_env(
        &home,
        &[
            ("DBUS_SESSION_BUS_ADDRESS", desktop.address.as_str()),
            ("HOME", user.to_str().unwrap()),
        ],
    )
    .await;
    // The app's runner catches up with the folder; the tray says how the watches are doing.
    wait_semvers(&home, "lab/shots", &["1.0.0"]).await;
    let status = desktop.menu_item("1 watched folder").await;
    assert!(!status.enabled, "the status line is not an action");

    // "Pause all" in the tray pauses the watch, and the item then offers to resume.
    desktop.click("Pause all").await;
    desktop.menu_item("1 paused").await;
    assert!(watch_paused(&home));
    desktop.click("Resume all").await;
    desktop.menu_item("Pause all").await;
    assert!(!watch_paused(&home));

    // Start at login writes the login item, which starts the app in the tray; and takes it away.
    let item = user.join(".config/autostart/Strata.desktop");
    s.click("[data-test=open-watches]").await;
    s.click("[data-test=start-at-login]").await;
    // The file appears, then its content: wait for both.
    let start = Instant::now();
    let mut entry = String::new();
    while !entry.contains("Exec=") {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no login item ({entry:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        entry = std::fs::read_to_string(&item).unwrap_or_default();
    }
    assert!(entry.contains("strata-app --hidden"), "{entry}");
    s.click("[data-test=start-at-login]").await;
    let start = Instant::now();
    while item.exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "login item left");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Closing the window hides it: the app goes on in the tray and says so.
    desktop::close_like_a_user("Strata");
    let told = desktop.notification("Strata keeps watching").await;
    assert!(told.contains("1 watched folder is"), "{told}");
    assert!(desktop.tray_alive().await);

    // With the window closed, a change in the folder still becomes a version, and the desktop
    // is told.
    write(&shots, "plate-1/a01.tif", b"a01");
    let news = desktop
        .notification("New version from a watched folder")
        .await;
    assert_eq!(news, "lab/shots@1.0.1: 1 added (watched folder)");
    wait_semvers(&home, "lab/shots", &["1.0.0", "1.0.1"]).await;

    // "Quit Strata" in the tray ends the app.
    desktop.click("Quit Strata").await;
    let start = Instant::now();
    while desktop.tray_alive().await {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the app did not quit"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.close().await;
}

/// A small real picture of one colour (each class its own).
fn picture(root: &Path, rel: &str, rgb: [u8; 3], width: u32) {
    let img = image::RgbImage::from_pixel(width, 24, image::Rgb(rgb));
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    img.save(&p).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_shows_its_classes_how_they_moved_and_its_pictures() {
    let _one = driver::one_window().await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let pets = dir.path().join("pets");
    let (cat, dog, fox) = ([200, 120, 40], [60, 90, 200], [220, 90, 20]);
    for i in 0..4 {
        picture(&pets, &format!("train/cat/c{i}.png"), cat, 32 + i);
    }
    for i in 0..3 {
        picture(&pets, &format!("train/dog/d{i}.png"), dog, 40);
    }
    picture(&pets, "val/cat/c9.png", cat, 32);
    picture(&pets, "val/dog/d9.png", dog, 40);
    write(&pets, "notes.txt", b"shot on the balcony\nsecond line\n");
    let snapshot = |home: PathBuf, pets: PathBuf| {
        std::thread::spawn(move || {
            let mut e = strata_engine::Engine::open(&home).unwrap();
            let (p, c) = no_progress();
            e.snapshot("zoo/pets", &pets, &[], &p, &c).unwrap();
        })
        .join()
        .unwrap()
    };
    snapshot(home.clone(), pets.clone());
    // Relabelling: two cats were dogs; a fox appears.
    for i in 0..2 {
        std::fs::rename(
            pets.join(format!("train/cat/c{i}.png")),
            pets.join(format!("train/dog/c{i}.png")),
        )
        .unwrap();
    }
    picture(&pets, "train/fox/f0.png", fox, 48);
    snapshot(home.clone(), pets.clone());

    let s = Session::start(&home).await;
    let shot = Shot::new();
    s.click_until(
        "[data-test='dataset-zoo/pets']",
        "[data-test='version-1.0.1']",
    )
    .await;
    s.click("[data-test='version-1.0.1']").await;

    // The label source is detected and the classes counted, per split.
    s.wait_text("[data-test=insight-source]", "ImageFolder")
        .await;
    s.wait_text(
        "[data-test=insight-totals]",
        "10 images · 3 classes · 10 instances",
    )
    .await;
    // A row's cells read as one string: class, images, instances, share, train, val.
    s.wait_text("[data-test=insight-class-dog]", "dog6660.0 %51")
        .await;
    s.wait_text("[data-test=insight-class-cat]", "cat3330.0 %21")
        .await;
    s.wait_text("[data-test=insight-class-fox]", "fox1110.0 %10")
        .await;
    s.wait_for("[data-test=insight-chart]").await;
    // A pointer on a bar shows its counts.
    s.wait_for("[data-test=chart-region][title='dog: 6 (train 5 \u{b7} val 1)']")
        .await;
    shot.take_at(&s, "[data-test=insight]", "09-insight").await;

    // Against its parent: which files changed class, and the counts' deltas.
    let parent = {
        let h = home.clone();
        std::thread::spawn(move || {
            strata_engine::Engine::open(&h)
                .unwrap()
                .resolve("zoo/pets@1.0.0")
                .unwrap()
                .id
        })
        .join()
        .unwrap()
    };
    s.select("[data-test=insight-against]", &parent).await;
    s.wait_text(
        "[data-test=insight-summary]",
        "relabelling moved 2 images from cat to dog",
    )
    .await;
    s.wait_text("[data-test=insight-delta]", "dog+2+2").await;
    s.wait_text("[data-test=insight-delta]", "cat\u{2212}2\u{2212}2")
        .await;
    s.wait_text("[data-test=insight-moved]", "2 files changed class")
        .await;
    s.wait_for("[data-test=insight-compare-chart]").await;
    s.wait_for("[data-test=chart-region][title^='cat: '][title$=' 3 (\u{2212}2 (\u{2212}40 %))']")
        .await;
    shot.take_at(&s, "[data-test=insight-compare]", "10-insight-compare")
        .await;

    // The pictures as thumbnails; one opened; a text file previewed.
    s.click("[data-test=file-grid-toggle]").await;
    // The grid's thumbnails load in after the toggle and move the cells: a click landing during
    // that is lost (seen once under a full run), so it is repeated until the preview opens.
    s.click_until(
        "[data-test='thumb-train/fox/f0.png']",
        "[data-test=preview-image]",
    )
    .await;
    s.wait_text("[data-test=file-preview]", "PNG, 48 × 24 px")
        .await;
    s.click("button[aria-label=Close]").await;
    s.click("[data-test=file-grid-toggle]").await;
    s.click("[data-test='file-notes.txt']").await;
    s.wait_text("[data-test=preview-text]", "shot on the balcony")
        .await;
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_exported_and_imported_through_the_dialogs() {
    let _one = driver::one_window().await;
    let dir = tempfile::tempdir().unwrap();
    let laptop = dir.path().join("laptop");
    let desk = dir.path().join("desk");
    let shots = dir.path().join("shots");
    for i in 0..12 {
        write(
            &shots,
            &format!("bird/{i:02}.jpg"),
            format!("bird {i}").as_bytes(),
        );
    }
    // The laptop's day: a version, and a draft on top of it with one more picture.
    let (l2, s2) = (laptop.clone(), shots.clone());
    std::thread::spawn(move || {
        let (p, c) = no_progress();
        let mut e = strata_engine::Engine::open(&l2).unwrap();
        e.snapshot("field/birds", &s2, &[], &p, &c).unwrap();
        let d = e
            .create(
                "field/birds",
                &strata_engine::CreateRequest {
                    version: None,
                    parents: vec!["field/birds@1.0.0".into()],
                    tags: vec![],
                    description: "seen on the train".into(),
                    ..Default::default()
                },
            )
            .unwrap();
        std::fs::write(s2.join("heron.jpg"), b"a heron").unwrap();
        e.add(
            &d.id,
            &[s2.join("heron.jpg")],
            &strata_engine::AddRequest {
                to: Some("bird".into()),
                ..Default::default()
            },
            &p,
            &c,
        )
        .unwrap();
        std::fs::remove_file(s2.join("heron.jpg")).unwrap();
    })
    .join()
    .unwrap();
    let file = dir.path().join("day.strata");

    let s = Session::start(&laptop).await;
    s.click_until("[data-test=open-export]", "[data-test=export-path]")
        .await;
    s.wait_for("[data-test='export-field/birds']").await;
    s.type_into("[data-test=export-path]", file.to_str().unwrap())
        .await;
    s.click("[data-test=export-run]").await;
    s.wait_text("[data-test=transfer-done]", "2 versions").await;
    s.close().await;
    assert!(file.exists());

    let s = Session::start(&desk).await;
    let shot = Shot::new();
    s.click_until("[data-test=open-import]", "[data-test=import-path]")
        .await;
    s.type_into("[data-test=import-path]", file.to_str().unwrap())
        .await;
    s.click("[data-test=import-finalize]").await;
    shot.take(&s, "13-import-session").await;
    s.click("[data-test=import-run]").await;
    s.wait_text(
        "[data-test=transfer-done]",
        "2 new versions; finalized field/birds@1.0.1",
    )
    .await;
    // The import opens the dataset it brought.
    s.wait_for("[data-test='version-1.0.1']").await;
    s.close().await;

    let (laptop2, desk2) = (laptop.clone(), desk.clone());
    let (got, want) = std::thread::spawn(move || {
        let (p, c) = no_progress();
        let mut d = strata_engine::Engine::open(&desk2).unwrap();
        let v = d.resolve("field/birds@1.0.1").unwrap();
        assert_eq!(v.state, strata_core::State::Final);
        assert_eq!(v.description, "seen on the train");
        let mut l = strata_engine::Engine::open(&laptop2).unwrap();
        let req = |to: PathBuf| strata_engine::GetRequest {
            to: Some(to),
            ..Default::default()
        };
        let a = d.get(&v.id, &req(desk2.join("copy")), &p, &c).unwrap();
        let b = l.get(&v.id, &req(laptop2.join("copy")), &p, &c).unwrap();
        (tree(&a.path), tree(&b.path))
    })
    .join()
    .unwrap();
    assert_eq!(got.len(), 13);
    assert_eq!(got, want);
}
