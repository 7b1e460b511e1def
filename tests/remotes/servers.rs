//! Real object-store servers on loopback, started by the tests: SeaweedFS (S3), Azurite (Azure
//! Blob) and fake-gcs-server (GCS reads). Each gets its own data folder and free ports. Servers are
//! started from one long-lived thread with a parent-death signal, so they end with the test
//! process even when it panics.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const S3_KEY: &str = "strata-test-key";
pub const S3_SECRET: &str = "strata-test-secret";
pub const S3_BUCKET: &str = "strata";
pub const AZ_ACCOUNT: &str = "devstoreaccount1";
pub const AZ_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
pub const AZ_CONTAINER: &str = "strata";

/// A program to run: the environment variable naming it, else the name on PATH.
fn program(var: &str, name: &str) -> PathBuf {
    if let Ok(p) = std::env::var(var) {
        return PathBuf::from(p);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "{name} is not installed: run scripts/test.sh (it installs the test servers), or set {var}"
    );
}

/// Spawns children from a thread that lives as long as the process: a parent-death signal is
/// tied to the spawning thread, and test threads end early.
fn spawn(cmd: Command) -> Child {
    type Req = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Req>>> = OnceLock::new();
    let tx = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Req>();
        std::thread::spawn(move || {
            for (mut cmd, reply) in rx {
                use std::os::unix::process::CommandExt;
                // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
                unsafe {
                    cmd.pre_exec(|| {
                        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                        Ok(())
                    });
                }
                let _ = reply.send(cmd.spawn());
            }
            // Keep the thread (and so the children) alive until the process ends.
            loop {
                std::thread::park();
            }
        });
        Mutex::new(tx)
    });
    let (rtx, rrx) = mpsc::channel();
    tx.lock()
        .expect("spawner")
        .send((cmd, rtx))
        .expect("spawner thread");
    rrx.recv().expect("spawner reply").expect("start server")
}

/// Ports handed out in this process: a server that is killed and restarted on its ports (the
/// fault tests) must not find them taken by a server another test started meanwhile.
fn handed_out() -> &'static Mutex<std::collections::HashSet<u16>> {
    static PORTS: OnceLock<Mutex<std::collections::HashSet<u16>>> = OnceLock::new();
    PORTS.get_or_init(Default::default)
}

/// A free port never handed out before in this process.
pub fn free_port() -> u16 {
    loop {
        let p = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        if handed_out().lock().expect("ports").insert(p) {
            return p;
        }
    }
}

/// A port `p` such that `p` and `p + 10000` (SeaweedFS's gRPC twin) are both free, and neither
/// was handed out before.
fn free_twin_port() -> u16 {
    for _ in 0..200 {
        let p = free_port();
        if p < 55000
            && TcpListener::bind(("127.0.0.1", p + 10000)).is_ok()
            && handed_out().lock().expect("ports").insert(p + 10000)
        {
            return p;
        }
    }
    panic!("no free port pair");
}

/// Starts `cmd` with its output in `log` and waits until it listens on `port`.
fn start_logged(mut cmd: Command, log: &Path, port: u16, what: &str) -> Child {
    let out = std::fs::File::create(log).expect("log");
    let err = out.try_clone().expect("log");
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    let mut child = spawn(cmd);
    wait_for_port(port, &mut child, what, log);
    child
}

pub fn wait_for_port(port: u16, child: &mut Child, what: &str, log: &Path) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{what} exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "{what} did not listen on {port} within 60 s: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// A SeaweedFS server with an S3 gateway and one bucket.
pub struct Seaweed {
    pub dir: PathBuf,
    pub s3_port: u16,
    ports: [u16; 5],
    child: Option<Child>,
}

impl Seaweed {
    pub fn start(dir: &Path) -> Seaweed {
        std::fs::create_dir_all(dir).expect("seaweed dir");
        let ports = [
            free_twin_port(),
            free_twin_port(),
            free_twin_port(),
            free_twin_port(),
            free_twin_port(),
        ];
        let mut s = Seaweed {
            dir: dir.to_path_buf(),
            s3_port: ports[0],
            ports,
            child: None,
        };
        s.restart();
        s
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }

    /// Starts the server again on the same ports and data (after [`Seaweed::kill`]).
    pub fn restart(&mut self) {
        let config = self.dir.join("s3.json");
        std::fs::write(
            &config,
            format!(
                r#"{{"identities":[{{"name":"admin","credentials":[{{"accessKey":"{S3_KEY}","secretKey":"{S3_SECRET}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}]}}"#
            ),
        )
        .expect("s3.json");
        let log = self.dir.join("weed.log");
        let [s3, master, volume, filer, admin] = self.ports;
        let mut cmd = Command::new(program("STRATA_TEST_WEED", "weed"));
        cmd.arg("mini")
            .arg(format!("-dir={}", self.dir.join("data").display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
            .arg(format!("-s3.port={s3}"))
            .arg(format!("-master.port={master}"))
            .arg(format!("-volume.port={volume}"))
            .arg(format!("-filer.port={filer}"))
            .arg(format!("-admin.port={admin}"))
            .arg(format!("-s3.config={}", config.display()))
            .args([
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                "-webdav=false",
                "-admin.ui=false",
                "-master.telemetry=false",
            ])
            .arg(format!("-bucket={S3_BUCKET}"));
        self.child = Some(start_logged(cmd, &log, s3, "SeaweedFS"));
        self.wait_for_bucket();
    }

    /// The S3 port answers before the bucket exists; wait until a write goes through.
    fn wait_for_bucket(&self) {
        let store = crate::backend::s3_store(&self.endpoint(), "");
        let start = Instant::now();
        loop {
            let r = crate::backend::block(async {
                use strata_remote::object_store::ObjectStoreExt;
                store
                    .put(
                        &"ready".into(),
                        strata_remote::object_store::PutPayload::from_static(b"ok"),
                    )
                    .await
            });
            match r {
                Ok(_) => return,
                Err(e) if start.elapsed() > Duration::from_secs(60) => {
                    panic!("SeaweedFS bucket never became writable: {e}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        // Its other ports must be free before it starts again.
        std::thread::sleep(Duration::from_millis(300));
    }
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Azurite's blob service with one container.
pub struct Azurite {
    pub port: u16,
    _child: Child,
}

impl Azurite {
    pub fn start(dir: &Path) -> Azurite {
        std::fs::create_dir_all(dir).expect("azurite dir");
        let port = free_port();
        let log = dir.join("azurite.log");
        let mut cmd = Command::new(program("STRATA_TEST_AZURITE", "azurite-blob"));
        cmd.args(["--blobHost", "127.0.0.1", "--blobPort"])
            .arg(port.to_string())
            .arg("--location")
            .arg(dir)
            .args(["--skipApiVersionCheck", "--disableTelemetry", "--silent"]);
        let child = start_logged(cmd, &log, port, "Azurite");
        create_container(port, AZ_CONTAINER);
        Azurite {
            port,
            _child: child,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{AZ_ACCOUNT}", self.port)
    }
}

/// Creates a container with a Shared Key signed request (object_store has no call for it).
fn create_container(port: u16, container: &str) {
    use base64::Engine as _;
    use std::io::{Read, Write};
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let version = "2021-08-06";
    let to_sign = format!(
        "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{AZ_ACCOUNT}/{AZ_ACCOUNT}/{container}\nrestype:container"
    );
    let key = base64::engine::general_purpose::STANDARD
        .decode(AZ_KEY)
        .expect("key");
    let sig =
        base64::engine::general_purpose::STANDARD.encode(hmac_sha256(&key, to_sign.as_bytes()));
    let req = format!(
        "PUT /{AZ_ACCOUNT}/{container}?restype=container HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         x-ms-date: {date}\r\nx-ms-version: {version}\r\nContent-Length: 0\r\n\
         Authorization: SharedKey {AZ_ACCOUNT}:{sig}\r\nConnection: close\r\n\r\n"
    );
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("azurite");
    s.write_all(req.as_bytes()).expect("send");
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    assert!(
        resp.starts_with("HTTP/1.1 201") || resp.contains(" 409 "),
        "creating the Azurite container failed: {resp}"
    );
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// fake-gcs-server, in memory. It serves reads the way GCS does; uploads go through its JSON API.
pub struct FakeGcs {
    pub port: u16,
    _child: Child,
}

impl FakeGcs {
    pub fn start(dir: &Path) -> FakeGcs {
        std::fs::create_dir_all(dir).expect("gcs dir");
        let port = free_port();
        let log = dir.join("gcs.log");
        let mut cmd = Command::new(program("STRATA_TEST_FAKE_GCS", "fake-gcs-server"));
        cmd.args(["-scheme", "http", "-host", "127.0.0.1", "-port"])
            .arg(port.to_string())
            .args(["-backend", "memory", "-public-host"])
            .arg(format!("localhost:{port}"));
        let child = start_logged(cmd, &log, port, "fake-gcs-server");
        FakeGcs {
            port,
            _child: child,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    fn request(&self, head: &str, body: &[u8]) -> String {
        use std::io::{Read, Write};
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("gcs");
        s.write_all(head.as_bytes()).expect("send");
        s.write_all(body).expect("send");
        let mut resp = Vec::new();
        let _ = s.read_to_end(&mut resp);
        String::from_utf8_lossy(&resp).to_string()
    }

    pub fn create_bucket(&self, bucket: &str) {
        let body = format!(r#"{{"name":"{bucket}"}}"#);
        let r = self.request(
            &format!(
                "POST /storage/v1/b HTTP/1.1\r\nHost: localhost:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                self.port,
                body.len()
            ),
            body.as_bytes(),
        );
        assert!(r.starts_with("HTTP/1.1 200"), "create bucket: {r}");
    }

    /// Uploads one object through the JSON API's media upload.
    pub fn upload(&self, bucket: &str, name: &str, body: &[u8]) {
        let enc: String = name
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let r = self.request(
            &format!(
                "POST /upload/storage/v1/b/{bucket}/o?uploadType=media&name={enc} HTTP/1.1\r\nHost: localhost:{}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                self.port,
                body.len()
            ),
            body,
        );
        assert!(r.starts_with("HTTP/1.1 200"), "upload {name}: {r}");
    }
}

/// Servers shared by every test of this process (each test uses its own prefix).
pub struct Shared {
    pub seaweed: Seaweed,
    pub azurite: Azurite,
    _dir: tempfile::TempDir,
}

pub fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let dir = tempfile::tempdir().expect("server dir");
        Shared {
            seaweed: Seaweed::start(&dir.path().join("seaweed")),
            azurite: Azurite::start(&dir.path().join("azurite")),
            _dir: dir,
        }
    })
}
