//! A fresh home and helpers to run `strata` in it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub struct Env {
    pub dir: tempfile::TempDir,
    /// Extra environment for every command (credentials, for instance).
    pub vars: Vec<(String, String)>,
}

pub struct Run {
    pub out: Output,
}

impl Run {
    pub fn ok(self) -> Self {
        assert!(
            self.out.status.success(),
            "strata failed ({:?}):\nstdout: {}\nstderr: {}",
            self.out.status,
            self.stdout(),
            self.stderr()
        );
        self
    }

    pub fn fails(self) -> Self {
        assert!(
            !self.out.status.success(),
            "strata should have failed:\nstdout: {}\nstderr: {}",
            self.stdout(),
            self.stderr()
        );
        self
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).to_string()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).to_string()
    }

    pub fn line(&self) -> String {
        self.stdout().trim().to_string()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", self.stdout()))
    }

    /// The error line: exactly one line on stderr, starting with `error:`.
    pub fn error(&self) -> String {
        let err = self.stderr();
        let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(lines.len(), 1, "expected one error line, got: {err}");
        lines[0].to_string()
    }
}

impl Env {
    pub fn new() -> Self {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
            vars: Vec::new(),
        }
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_strata"));
        c.args(args)
            .env("STRATA_HOME", self.home())
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run {
            out: self.cmd(args).output().expect("run strata"),
        }
    }

    pub fn ok(&self, args: &[&str]) -> Run {
        self.run(args).ok()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        self.ok(&a).json()
    }

    /// Writes a file (creating folders) under the test dir.
    pub fn write(&self, rel: &str, content: &[u8]) -> PathBuf {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(&p, content).expect("write");
        p
    }

    /// A folder of `n` small files over `classes` class folders, with distinct content.
    pub fn images(&self, rel: &str, classes: usize, n: usize) -> PathBuf {
        for i in 0..n {
            let c = i % classes;
            let body = format!("class {c} image {i} {}", "x".repeat(i % 97));
            self.write(&format!("{rel}/class{c}/img{i:05}.jpg"), body.as_bytes());
        }
        self.path(rel)
    }

    /// The catalog as the CLI sees it: every version, with content ids.
    pub fn catalog_state(&self) -> Value {
        self.json(&["list", "--all"])
    }

    /// The store's files (packs, objects, manifests), to prove a failed command wrote nothing.
    pub fn store_files(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["packs", "objects", "manifests"] {
            let root = self.home().join("store").join(sub);
            if root.exists() {
                walk(&root, &mut out);
            }
        }
        out.sort();
        out
    }
}

fn walk(p: &Path, out: &mut Vec<String>) {
    for e in fs::read_dir(p).expect("read dir").flatten() {
        let path = e.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path.display().to_string());
        }
    }
}

/// Every file below `root`, relative, sorted, with its content.
pub fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    walk(root, &mut files);
    let mut out: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .map(|f| {
            let rel = Path::new(&f)
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .to_string();
            let body = fs::read(&f).expect("read");
            (rel, body)
        })
        .collect();
    out.sort();
    out
}

/// `n` bytes that look random (content-defined cut points need content, not a repeating
/// pattern, to fall where real data puts them); the same seed gives the same bytes.
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
