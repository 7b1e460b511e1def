//! Starts tauri-driver on free ports, connects a WebDriver session to the app, and offers the
//! few actions the tests need, each waiting (polling) for the DOM state it expects.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

const PATIENCE: Duration = Duration::from_secs(30);

/// One app window at a time: several apps at once on a 2-core machine turn every wait into a
/// race with the others' disk and CPU.
pub async fn one_window() -> tokio::sync::MutexGuard<'static, ()> {
    static ONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    ONE.lock().await
}

pub struct Session {
    client: Client,
    driver: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn tauri_driver() -> PathBuf {
    if let Ok(p) = std::env::var("TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let cargo_bin = Path::new(&home).join(".cargo/bin/tauri-driver");
    if cargo_bin.exists() {
        cargo_bin
    } else {
        PathBuf::from("tauri-driver")
    }
}

impl Session {
    pub async fn start(home: &Path) -> Session {
        Session::start_with_env(home, &[]).await
    }

    /// The app with extra environment (credentials of a remote, say).
    pub async fn start_with_env(home: &Path, env: &[(&str, &str)]) -> Session {
        // On a loaded machine the WebKit driver behind tauri-driver has been seen never to
        // answer at all: a fresh pair of drivers is tried before the test gives up.
        let mut last = String::new();
        for _ in 0..3 {
            match Session::try_start(home, env).await {
                Ok(session) => return session,
                Err(e) => last = e,
            }
        }
        panic!("a WebDriver session with the app: {last}");
    }

    async fn try_start(home: &Path, env: &[(&str, &str)]) -> Result<Session, String> {
        let (port, native) = (free_port(), free_port());
        let mut driver = Command::new(tauri_driver())
            .envs(env.iter().copied())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("STRATA_HOME", home)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tauri-driver must be installed (scripts/test.sh installs it)");
        let start = Instant::now();
        let mut client = Err(fantoccini::error::NewSessionError::Lost(
            std::io::Error::other("tauri-driver did not start"),
        ));
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
            && start.elapsed() < PATIENCE
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let app = PathBuf::from(env!("CARGO_BIN_EXE_strata-app"));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app }),
        );
        caps.insert("browserName".into(), serde_json::json!("wry"));
        // tauri-driver listens before the WebKit driver behind it does: on a loaded machine the
        // first session request can find nobody there, so it is asked again for a while.
        while start.elapsed() < PATIENCE {
            client = ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await;
            if client.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        match client {
            Ok(client) => Ok(Session { client, driver }),
            Err(e) => {
                // Left running, the driver would hold the test run's output open.
                let _ = driver.kill();
                let _ = driver.wait();
                Err(e.to_string())
            }
        }
    }

    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        let start = Instant::now();
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                return e;
            }
            assert!(start.elapsed() < PATIENCE, "'{css}' never appeared");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element's text contains `text`.
    pub async fn wait_text(&self, css: &str, text: &str) {
        let start = Instant::now();
        let mut last = String::new();
        loop {
            if let Ok(els) = self.client.find_all(Locator::Css(css)).await {
                for e in els {
                    if let Ok(t) = e.text().await {
                        if t.contains(text) {
                            return;
                        }
                        last = t;
                    }
                }
            }
            if start.elapsed() > PATIENCE {
                let err = match self.client.find(Locator::Css("[data-test=error]")).await {
                    Ok(e) => e.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                panic!("'{css}' never showed '{text}' (last: '{last}'; error shown: '{err}')");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until no element matches `css`.
    pub async fn wait_gone(&self, css: &str) {
        let start = Instant::now();
        while self.client.find(Locator::Css(css)).await.is_ok() {
            assert!(start.elapsed() < PATIENCE, "'{css}' never went away");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        let e = self.wait_for(css).await;
        e.click()
            .await
            .unwrap_or_else(|err| panic!("click {css}: {err}"));
    }

    /// Clicks `css` until `expect` appears: a click landing while the window is still starting
    /// (a loaded machine) can be lost, and a test should not fail on it.
    pub async fn click_until(&self, css: &str, expect: &str) {
        let start = Instant::now();
        loop {
            self.click(css).await;
            let tried = Instant::now();
            while tried.elapsed() < Duration::from_secs(5) {
                if self.client.find(Locator::Css(expect)).await.is_ok() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(start.elapsed() < PATIENCE, "'{expect}' never appeared");
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait_for(css).await;
        e.send_keys(text)
            .await
            .unwrap_or_else(|err| panic!("type into {css}: {err}"));
    }

    /// Replaces what a text field holds, keystroke by keystroke as a person would (a
    /// WebDriver "clear" bypasses the page's own input handling).
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.wait_for(css).await;
        let old = e.prop("value").await.ok().flatten().unwrap_or_default();
        let backspaces = "\u{E003}".repeat(old.chars().count());
        e.send_keys(&format!("{backspaces}{text}"))
            .await
            .unwrap_or_else(|err| panic!("fill {css}: {err}"));
    }

    /// Chooses the option of a `<select>` with this value.
    pub async fn select(&self, css: &str, value: &str) {
        let e = self.wait_for(css).await;
        e.select_by_value(value)
            .await
            .unwrap_or_else(|err| panic!("select {value} in {css}: {err}"));
    }

    /// Scrolls the page so that `css` is at the top of the window (a section below the fold).
    pub async fn scroll_to(&self, css: &str) {
        self.wait_for(css).await;
        let script = format!(
            "document.querySelector({}).scrollIntoView({{block: 'start'}})",
            serde_json::to_string(css).unwrap()
        );
        self.client
            .execute(&script, vec![])
            .await
            .unwrap_or_else(|err| panic!("scroll to {css}: {err}"));
    }

    pub async fn screenshot(&self) -> Vec<u8> {
        self.client.screenshot().await.expect("screenshot")
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.stop_driver();
    }

    fn stop_driver(&mut self) {
        if let Ok(Some(_)) = self.driver.try_wait() {
            return; // Already stopped (and reaped): its pid may belong to someone else now.
        }
        // SIGTERM lets tauri-driver stop WebKitWebDriver too (SIGKILL would orphan it).
        // SAFETY: signalling our own child process, not yet reaped.
        unsafe {
            libc::kill(self.driver.id() as libc::pid_t, libc::SIGTERM);
        }
        let _ = self.driver.wait();
    }
}

/// A test that fails stops its driver too: left running, it would keep the app and the test
/// run's output open.
impl Drop for Session {
    fn drop(&mut self) {
        self.stop_driver();
    }
}

/// Screenshots for the README, written to docs/screenshots.
pub struct Shot {
    dir: PathBuf,
}

impl Shot {
    pub fn new() -> Shot {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&dir).expect("docs/screenshots");
        Shot { dir }
    }

    /// A screenshot of the window scrolled to `css`.
    pub async fn take_at(&self, s: &Session, css: &str, name: &str) {
        s.scroll_to(css).await;
        self.take(s, name).await;
    }

    pub async fn take(&self, s: &Session, name: &str) {
        // Let transitions and late renders settle, as a person would see it.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let png = s.screenshot().await;
        std::fs::write(self.dir.join(format!("{name}.png")), png).expect("write screenshot");
    }
}
