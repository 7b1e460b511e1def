//! The offline laptop in the window: work made offline waits, and one action finalizes the
//! drafts the user ticks and uploads everything; a version's local content is freed and comes
//! back on Get; a default remote that does not answer shows as "Unreachable" until it does.

use std::time::Duration;

use crate::driver::{self, Session, Shot};
use crate::{no_progress, remote, stalled_server, tree, write};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_work_waits_then_one_action_finalizes_and_uploads_it() {
    let _one = driver::one_window().await;
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path().join("bucket");
    let home = dir.path().join("home");
    let cells = dir.path().join("cells");
    let scans = dir.path().join("scans");
    for i in 0..40 {
        write(
            &cells,
            &format!("img/{i:03}.png"),
            format!("cell {i}").as_bytes(),
        );
        write(
            &scans,
            &format!("s/{i:03}.dat"),
            format!("scan {i} {}", "z".repeat(i * 50)).as_bytes(),
        );
    }
    write(&scans, "big.bin", &vec![9u8; 2 << 20]);
    let (h, b, c2, s2) = (home.clone(), bucket.clone(), cells.clone(), scans.clone());
    std::thread::spawn(move || {
        let (p, c) = no_progress();
        let mut e = strata_engine::Engine::open(&h).unwrap();
        e.remote_add(remote(&b)).unwrap();
        e.snapshot("lab/cells", &c2, &[], &p, &c).unwrap();
        e.upload("lab/cells", None, &p, &c).unwrap();
        e.snapshot("lab/scans", &s2, &[], &p, &c).unwrap();
        e.upload("lab/scans", None, &p, &c).unwrap();
    })
    .join()
    .unwrap();

    let s = Session::start(&home).await;
    let shot = Shot::new();
    s.wait_text("[data-test=open-waiting]", "(0)").await;

    // Offline: a new draft, and a publish that waits to be shared.
    s.click("[data-test=offline-toggle]").await;
    s.wait_text("[data-test=offline-toggle]", "Offline").await;
    s.click("[data-test='dataset-lab/cells']").await;
    s.click("[data-test='version-1.0.0']").await;
    s.wait_text("[data-test=upload-state]", "uploaded").await;
    s.click("[data-test=publish]").await;
    s.wait_text("h1", "published").await;
    // The publish is queued, and says so in a notice over the page: wait for it, or the page
    // moves down under the next click.
    s.wait_text("[data-test=notice]", "waits to be pushed")
        .await;
    s.click("[data-test=new-child]").await;
    s.wait_text("h1", "1.0.1").await;
    s.wait_text("h1", "draft").await;
    s.wait_text("[data-test=open-waiting]", "(1)").await;

    // Online again: the dialog lists what waits; the draft is offered, unticked.
    s.click("[data-test=offline-toggle]").await;
    s.wait_text("[data-test=offline-toggle]", "Online").await;
    s.click("[data-test=open-waiting]").await;
    s.wait_text("[data-test=waiting-events]", "1 catalog change")
        .await;
    s.wait_text("[data-test=waiting-go]", "Send 1 catalog change")
        .await;
    s.click("[data-test='waiting-draft-lab/cells@1.0.1']").await;
    s.wait_text(
        "[data-test=waiting-go]",
        "Finalize 1 draft, upload 1 version, send 1 catalog change",
    )
    .await;
    shot.take(&s, "11-waiting").await;
    s.click("[data-test=waiting-go]").await;
    s.wait_text("[data-test=transfer-done]", "1 version uploaded")
        .await;
    s.wait_text("h1", "final").await;
    s.wait_text("[data-test=upload-state]", "uploaded").await;
    s.wait_text("[data-test=open-waiting]", "(0)").await;

    // Free the local space of an uploaded version, then get it back.
    s.click("[data-test='dataset-lab/scans']").await;
    s.click("[data-test='version-1.0.0']").await;
    s.wait_text("[data-test=local-content]", "All here").await;
    s.click("[data-test=free-space]").await;
    s.wait_text(
        "[data-test=free-question]",
        "Drop the local content of lab/scans@1.0.0 (up to",
    )
    .await;
    s.click("[data-test=free-go]").await;
    s.wait_text(
        "[data-test=local-content]",
        "On remote only ('team') — fetched on Get",
    )
    .await;
    s.wait_gone("[data-test=free-space]").await;
    shot.take(&s, "12-freed").await;
    s.click("[data-test=get-copy]").await;
    let copy = dir.path().join("copy");
    s.type_into("input[name=target]", copy.to_str().unwrap())
        .await;
    s.click("[data-test=get-copy-go]").await;
    s.wait_text("[data-test=copy-result]", "Copied: 41 files")
        .await;
    s.close().await;
    assert_eq!(
        tree(&copy),
        tree(&scans),
        "the copy is the version, fetched back"
    );

    // What the remote now says, as a teammate sees it.
    let mate = dir.path().join("mate");
    std::thread::spawn(move || {
        let (p, _) = no_progress();
        let mut m = strata_engine::Engine::open(&mate).unwrap();
        m.remote_add(remote(&bucket)).unwrap();
        m.pull(None, &p).unwrap();
        let v = m.resolve("lab/cells@1.0.1").unwrap();
        assert_eq!(
            v.state,
            strata_core::State::Final,
            "the draft was finalized"
        );
        let v = m.resolve("lab/cells@1.0.0").unwrap();
        assert_eq!(
            v.state,
            strata_core::State::Published,
            "the queued publish was sent"
        );
    })
    .join()
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_default_remote_shows_until_it_answers() {
    let _one = driver::one_window().await;
    let dir = tempfile::tempdir().unwrap();
    let (port, _held) = stalled_server();
    let home = dir.path().join("home");
    let (h, bucket) = (home.clone(), dir.path().join("bucket"));
    std::thread::spawn(move || {
        let mut e = strata_engine::Engine::open(&h).unwrap();
        e.remote_add(remote(&bucket)).unwrap();
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
    s.wait_text(
        "[data-test=unreachable]",
        "default remote 'slow' unreachable — changes wait",
    )
    .await;
    // Not forced offline: the switch still says online.
    s.wait_text("[data-test=offline-toggle]", "Online").await;
    // The team's remote answers once it is the default again.
    let h = home.clone();
    std::thread::spawn(move || {
        let mut e = strata_engine::Engine::open(&h).unwrap();
        e.set_default_remote("team").unwrap();
    })
    .join()
    .unwrap();
    s.click("[data-test=offline-toggle]").await;
    s.wait_text("[data-test=offline-toggle]", "Offline").await;
    s.wait_gone("[data-test=unreachable]").await;
    s.click("[data-test=offline-toggle]").await;
    s.wait_text("[data-test=offline-toggle]", "Online").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    s.wait_gone("[data-test=unreachable]").await;
    s.close().await;
}
