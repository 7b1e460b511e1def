//! Chaos: real `strata` processes killed with SIGKILL at random moments across snapshot, add, get,
//! upload, pull and gc, with two homes sharing a bucket. After every kill the same command must
//! run to completion, every version must verify, and every final version must still give back
//! exactly the files it was made from.
//!
//! `STRATA_CHAOS_KILLS` sets how many kills to aim for (30 here; `bench/chaos.sh` asks for 300),
//! `STRATA_CHAOS_SEED` replays a run. A failure names the seed, the step and the command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::{tree, Env};

/// A small deterministic generator, so a seed replays the same run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What a final version must give back: each path with the blake3 of its bytes.
type Expected = Vec<(String, String)>;

fn digest(root: &Path) -> Expected {
    tree(root)
        .into_iter()
        .map(|(p, body)| (p, blake3::hash(&body).to_hex().to_string()))
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Snapshot,
    Add,
    GetMutable,
    GetCache,
    Upload,
    Pull,
    FetchOther,
    Gc,
}

const OPS: [Op; 8] = [
    Op::Snapshot,
    Op::Add,
    Op::GetMutable,
    Op::GetCache,
    Op::Upload,
    Op::Pull,
    Op::FetchOther,
    Op::Gc,
];

struct Chaos {
    rng: Rng,
    seed: u64,
    /// The working home: makes versions, uploads them.
    a: Env,
    /// A teammate: pulls and fetches what `a` shared.
    b: Env,
    /// Final versions made by `a`, with the files each must give back.
    finals: BTreeMap<String, Expected>,
    /// The draft `add` writes into, and what it must hold once every add has completed.
    draft: Option<(String, BTreeMap<String, String>)>,
    round: u64,
    kills: u64,
    operations: BTreeMap<String, (u64, u64)>,
    /// How long each operation takes when left alone (ms, a moving average), so kills land
    /// inside it rather than after it.
    durations: BTreeMap<String, f64>,
    checks: u64,
}

impl Chaos {
    fn fail(&self, step: &str, what: String) -> ! {
        panic!(
            "chaos failed (seed {}, round {}, {step}): {what}",
            self.seed, self.round
        )
    }

    /// Changes the working folder a little: new files, edits, removals, now and then a large file
    /// so that a hash or a transfer is long enough to be killed in the middle.
    fn churn(&mut self) {
        let data = self.a.path("data");
        let r = self.round;
        for i in 0..(5 + self.rng.below(40)) {
            let class = self.rng.below(4);
            let name = format!("data/class{class}/r{r}-{i}.jpg");
            let body = format!(
                "round {r} file {i} {}",
                "y".repeat(self.rng.below(4000) as usize)
            );
            self.a.write(&name, body.as_bytes());
        }
        if self.rng.below(3) == 0 {
            let size = (2 + self.rng.below(10)) << 20;
            let fill = self.rng.next();
            let body: Vec<u8> = (0..size)
                .map(|i| (i.wrapping_mul(fill | 1) >> 7) as u8)
                .collect();
            self.a
                .write(&format!("data/blobs/b{}.bin", self.rng.below(3)), &body);
        }
        // Remove a few earlier files.
        let mut files: Vec<PathBuf> = tree(&data).into_iter().map(|(p, _)| data.join(p)).collect();
        for _ in 0..self.rng.below(6) {
            if files.len() > 20 {
                let k = self.rng.below(files.len() as u64) as usize;
                let _ = std::fs::remove_file(files.swap_remove(k));
            }
        }
    }

    fn spawn(&self, env: &Env, args: &[String]) -> Child {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        env.cmd(&a)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn strata")
    }

    /// Runs `args` and kills it after a random delay within its usual duration; returns whether
    /// it was still running.
    fn kill_at_random(&mut self, env_is_a: bool, args: &[String], name: &str) -> bool {
        let usual = self.durations.get(name).copied().unwrap_or(300.0);
        let ms = self.rng.below((usual * 1.2) as u64 + 5);
        let env = if env_is_a { &self.a } else { &self.b };
        let mut child = self.spawn(env, args);
        let deadline = Instant::now() + Duration::from_millis(ms);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let running = matches!(child.try_wait(), Ok(None));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        running
    }

    /// The same command, this time to completion: it must succeed.
    fn complete(&self, env_is_a: bool, args: &[String], step: &str) -> crate::support::Run {
        let env = if env_is_a { &self.a } else { &self.b };
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = env.run(&a);
        if !r.out.status.success() {
            self.fail(
                step,
                format!(
                    "`strata {}` after a kill failed: {}",
                    args.join(" "),
                    r.stderr()
                ),
            );
        }
        r
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn step(&mut self, op: Op) {
        let data = self.a.path("data").display().to_string();
        let round = self.round;
        let (in_a, args): (bool, Vec<String>) = match op {
            Op::Snapshot => {
                self.churn();
                (true, Self::args(&["snapshot", "d/x", &data]))
            }
            Op::Add => {
                if self.draft.is_none() {
                    let id = self
                        .complete(true, &Self::args(&["create", "d/draft"]), "create")
                        .line();
                    self.draft = Some((id, BTreeMap::new()));
                }
                let dir = self.a.path(&format!("adds/r{round}"));
                for i in 0..(10 + self.rng.below(60)) {
                    let body = format!(
                        "add {round} {i} {}",
                        "z".repeat(self.rng.below(3000) as usize)
                    );
                    self.a
                        .write(&format!("adds/r{round}/f{i}.txt"), body.as_bytes());
                }
                if self.rng.below(3) == 0 {
                    let size = (1 + self.rng.below(6)) << 20;
                    self.a.write(
                        &format!("adds/r{round}/big.bin"),
                        &vec![round as u8; size as usize],
                    );
                }
                let id = self.draft.as_ref().map(|d| d.0.clone()).unwrap_or_default();
                let to = format!("r{round}");
                let expected = digest(&dir);
                if let Some((_, files)) = self.draft.as_mut() {
                    for (p, h) in expected {
                        files.insert(format!("{to}/{p}"), h);
                    }
                }
                (
                    true,
                    Self::args(&["add", &id, &dir.display().to_string(), "--to", &to]),
                )
            }
            Op::GetMutable => {
                let out = self.a.path(&format!("copies/m{round}"));
                (
                    true,
                    Self::args(&[
                        "get",
                        "d/x",
                        "--to",
                        &out.display().to_string(),
                        "--mutable",
                    ]),
                )
            }
            Op::GetCache => {
                let frac = format!("0.{}", 1 + self.rng.below(9));
                (true, Self::args(&["get", "d/x", "--fraction", &frac]))
            }
            Op::Upload => (true, Self::args(&["upload", "d/x"])),
            Op::Pull => (false, Self::args(&["pull"])),
            Op::FetchOther => (false, Self::args(&["get", "d/x"])),
            Op::Gc => (self.rng.below(2) == 0, Self::args(&["gc"])),
        };
        // Some operations need something to work on first.
        let has_final = !self.finals.is_empty();
        let ready = match op {
            Op::GetMutable | Op::GetCache | Op::Upload => has_final,
            Op::FetchOther => self.b.run(&["show", "d/x"]).out.status.success(),
            _ => true,
        };
        if !ready {
            return;
        }
        let name = format!("{op:?}");
        let killed = self.kill_at_random(in_a, &args, &name);
        let entry = self.operations.entry(name.clone()).or_default();
        entry.0 += 1;
        if killed {
            entry.1 += 1;
            self.kills += 1;
        }
        let t = Instant::now();
        let done = self.complete(in_a, &args, &name);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let d = self.durations.entry(name.clone()).or_insert(ms);
        *d = 0.7 * *d + 0.3 * ms;
        match op {
            Op::Snapshot => {
                let id = done.line();
                let want = digest(&self.a.path("data"));
                self.finals.insert(id, want);
            }
            Op::GetMutable => {
                let out = self.a.path(&format!("copies/m{round}"));
                let latest = self.latest_final();
                let got = digest(&out);
                if got != self.finals[&latest] {
                    self.fail(
                        &name,
                        format!("the copy of {latest} differs from its files"),
                    );
                }
                let _ = std::fs::remove_dir_all(out);
            }
            _ => {}
        }
    }

    fn latest_final(&self) -> String {
        let v = self.a.json(&["show", "d/x"]);
        v["id"].as_str().unwrap_or_default().to_string()
    }

    /// After every step: every version of `a` verifies, one random final version (and, now and
    /// then, all of them) gives back exactly its files, the draft holds every completed add, and
    /// the teammate's copy of the newest shared version is whole.
    fn check(&mut self) {
        self.checks += 1;
        let all = self.a.json(&["list", "--all"]);
        let every = self.round % 10 == 9; // every tenth round
        let versions = all.as_array().cloned().unwrap_or_default();
        let n = versions.len();
        for (i, v) in versions.into_iter().enumerate() {
            // Each round the two newest versions and the draft; every tenth round all of them.
            if !every && i + 3 < n && v["state"] != "draft" {
                continue;
            }
            let id = v["id"].as_str().unwrap_or_default().to_string();
            let r = self.a.run(&["verify", &id]);
            if !r.out.status.success() {
                self.fail(
                    "verify",
                    format!("{} does not verify: {}{}", id, r.stdout(), r.stderr()),
                );
            }
        }
        let ids: Vec<String> = self.finals.keys().cloned().collect();
        let picked: Vec<String> = if every {
            ids
        } else if ids.is_empty() {
            vec![]
        } else {
            vec![ids[self.rng.below(ids.len() as u64) as usize].clone()]
        };
        for id in picked {
            let out = self.a.path("check-copy");
            let _ = std::fs::remove_dir_all(&out);
            let o = out.display().to_string();
            let r = self.a.run(&["get", &id, "--to", &o, "--mutable"]);
            if !r.out.status.success() {
                self.fail(
                    "check",
                    format!("final version {id} cannot be got: {}", r.stderr()),
                );
            }
            if digest(&out) != self.finals[&id] {
                self.fail(
                    "check",
                    format!("final version {id} lost or changed content"),
                );
            }
            let _ = std::fs::remove_dir_all(&out);
        }
        if let Some((id, files)) = &self.draft {
            let listed = self.a.json(&["files", id]);
            let have: BTreeMap<String, String> = listed
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|e| {
                    (
                        e["path"].as_str().unwrap_or_default().to_string(),
                        e["hash"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            for (p, h) in files {
                if have.get(p) != Some(h) {
                    self.fail("check", format!("the draft lost {p} of a completed add"));
                }
            }
        }
        // The teammate: whatever it has pulled and fetched is exactly what was shared.
        let shown = self.b.run(&["show", "d/x", "--json"]);
        if shown.out.status.success() {
            let v = shown.json();
            let id = v["id"].as_str().unwrap_or_default().to_string();
            if v["upload_state"] != "remote" {
                let got = self.b.json(&["get", &id]);
                let path = PathBuf::from(got["path"].as_str().unwrap_or_default());
                match self.finals.get(&id) {
                    Some(want) if &digest(&path) != want => {
                        self.fail("check", format!("the teammate's copy of {id} differs"))
                    }
                    _ => {}
                }
            }
        }
    }
}

fn setup_remote(env: &Env, bucket: &Path) {
    env.ok(&[
        "remote",
        "add",
        "team",
        &format!("file://{}", bucket.display()),
    ]);
}

#[test]
fn random_kills_lose_nothing() {
    let target: u64 = std::env::var("STRATA_CHAOS_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let seed: u64 = std::env::var("STRATA_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(42)
        })
        | 1;
    let a = Env::new();
    let b = Env::new();
    let bucket = a.path("bucket");
    std::fs::create_dir_all(&bucket).expect("bucket");
    setup_remote(&a, &bucket);
    setup_remote(&b, &bucket);
    a.images("data", 4, 300);
    let mut c = Chaos {
        rng: Rng(seed),
        seed,
        a,
        b,
        finals: BTreeMap::new(),
        draft: None,
        round: 0,
        kills: 0,
        operations: BTreeMap::new(),
        durations: BTreeMap::new(),
        checks: 0,
    };
    let started = Instant::now();
    // A first version so every operation has something to work on.
    c.step(Op::Snapshot);
    // Bounded: far more rounds than the kills asked for ever need.
    while c.kills < target && c.round < target * 20 {
        c.round += 1;
        let op = OPS[c.rng.below(OPS.len() as u64) as usize];
        c.step(op);
        c.check();
        // Keep the catalog small enough that a check stays cheap: drop old versions now and then.
        if c.finals.len() > 12 {
            let oldest = c.finals.keys().next().cloned().unwrap_or_default();
            let r = c.a.run(&["delete", &oldest, "--force"]);
            if !r.out.status.success() {
                c.fail("delete", r.stderr());
            }
            c.finals.remove(&oldest);
        }
        if c.round.is_multiple_of(25) {
            if let Some((id, _)) = c.draft.take() {
                c.a.ok(&["finalize", &id]);
            }
        }
    }
    c.round += 1;
    c.check();
    let ops: Vec<String> = c
        .operations
        .iter()
        .map(|(k, (n, killed))| format!("{k} {killed}/{n}"))
        .collect();
    println!(
        "chaos: {} kills in {} operations ({}), {} checks, 0 failures, seed {}, {:.0} s",
        c.kills,
        c.operations.values().map(|(n, _)| n).sum::<u64>(),
        ops.join(", "),
        c.checks,
        seed,
        started.elapsed().as_secs_f64()
    );
    assert!(
        c.kills >= target,
        "only {} of {} kills landed in {} rounds (seed {seed})",
        c.kills,
        target,
        c.round
    );
}
