//! The log: `<home>/logs/strata.log`, shared by every front end (the CLI, the desktop app) and
//! every process of them, plus stderr with `-v`.
//!
//! One line per event: UTC time, level, process id, front end, span path, target, message and
//! fields. Spans print a `close` line with `time.busy` / `time.idle` when they end, so each
//! operation's duration is in the file.
//!
//! The file is bounded by size, not time: a line that would take `strata.log` past
//! [`DEFAULT_MAX_BYTES`] (or `STRATA_LOG_MAX_BYTES`, for tests) first renames it to
//! `strata.log.1` (`.1` → `.2` → `.3`; the oldest is overwritten), so the folder holds at most
//! [`KEPT`] + 1 files. Processes write at once: the file is opened for appending, each line goes
//! out in one `write`, rotation happens under an `flock` on `logs/.rotate.lock`, and a process
//! whose file was renamed under it reopens the name. Each file stays within the bound, plus one
//! line per process writing at the very moment of a rotation.
//!
//! `STRATA_LOG` (an `EnvFilter` directive such as `debug` or `strata_remote=trace`) replaces the
//! levels `-v` picks. A log that cannot be written never stops the program: without a usable
//! `logs/` folder there is no file log (said once on stderr with `-v`), and failed writes are
//! dropped.
//!
//! **Credentials.** The rule is at the call site: log only redacted text (a remote's
//! `redacted()` URL, an error's message), never a request, a header, a credential value or an
//! environment variable's value. As a last line of defence everything written, to the file and
//! to stderr, passes through a filter that cuts what looks like a secret: the userinfo of a URL
//! (`scheme://user:pass@`), a URL's query and fragment (presigned signatures), PEM blocks, the
//! values of fields named like secrets (`password=`, `"private_key": "…"`, `Authorization: …`),
//! the values of environment variables whose names look secret (read once by [`init`]), and
//! values handed to [`conceal`].

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, RwLock};

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{FmtSpan, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::{LookupSpan, Registry};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The log file's name inside `<home>/logs/`.
pub const FILE_NAME: &str = "strata.log";
/// Size at which `strata.log` is rotated.
pub const DEFAULT_MAX_BYTES: u64 = 5 << 20;
/// Rotated files kept (`strata.log.1` … `strata.log.3`): the folder stays under 20 MiB.
pub const KEPT: usize = 3;
/// An `EnvFilter` directive replacing the levels `-v` picks.
pub const FILTER_ENV: &str = "STRATA_LOG";
/// The rotation size in bytes, for tests.
pub const MAX_BYTES_ENV: &str = "STRATA_LOG_MAX_BYTES";

/// Strata's own crates (`strata`, `strata_engine`, …): a filter's target matches by prefix.
/// `-v` makes them chattier than their dependencies.
const OURS: &str = "strata";

/// Parts of environment variable names whose values are treated as secrets.
const SECRET_NAMES: [&str; 9] = [
    "SECRET",
    "KEY",
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "SAS",
    "CREDENTIAL",
    "SERVICE_ACCOUNT",
    "PRIVATE",
];

/// Parts of field names whose values are cut (`secret_access_key=…`, `"private_key": "…"`).
/// Not plain `key`: object keys are paths worth seeing.
const SECRET_FIELDS: [&str; 14] = [
    "secret",
    "password",
    "passwd",
    "token",
    "credential",
    "signature",
    "private_key",
    "privatekey",
    "account_key",
    "accountkey",
    "access_key",
    "api_key",
    "apikey",
    "authorization",
];

const CUT: &str = "***";

/// Values cut from every line: secret-looking environment values and [`conceal`]ed ones,
/// longest first.
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// What [`init`] set up. Lines are written as they happen (nothing is buffered), so there is
/// nothing to flush: keeping it is optional, it only tells where the log went.
#[derive(Debug)]
pub struct Logging {
    file: Option<PathBuf>,
}

impl Logging {
    /// `<home>/logs/strata.log`, or `None` when the folder could not be made.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }
}

/// Starts logging for this process: the file under `home` and, with `verbosity` > 0, stderr.
///
/// | verbosity | file | stderr |
/// |---|---|---|
/// | 0 | INFO | nothing |
/// | 1 (`-v`) | INFO, Strata's crates DEBUG | INFO |
/// | 2 (`-vv`) | same | INFO, Strata's crates DEBUG |
/// | 3+ | DEBUG, Strata's crates TRACE | same |
///
/// `front_end` (`cli`, `app`) is written on every line. Calling it again in the same process
/// changes nothing.
pub fn init(home: &Path, verbosity: u8, front_end: &str) -> Logging {
    remember_env_secrets(std::env::vars_os());
    let settings = Settings {
        verbosity,
        front_end: front_end.to_string(),
        directive: std::env::var(FILTER_ENV)
            .ok()
            .filter(|d| !d.trim().is_empty()),
        max_bytes: std::env::var(MAX_BYTES_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(DEFAULT_MAX_BYTES),
    };
    let (subscriber, file) = subscriber(home, &settings);
    // Already set (a second call): the first one stays.
    let _ = subscriber.try_init();
    Logging { file }
}

/// Adds a value (a credential typed at a prompt, say) to what the filter cuts from every line.
/// Values shorter than 4 characters are ignored: they would cut ordinary words.
pub fn conceal(secret: &str) {
    let secret = secret.trim();
    if secret.chars().count() < 4 {
        return;
    }
    let mut all = SECRETS.write().unwrap_or_else(PoisonError::into_inner);
    if !all.iter().any(|s| s == secret) {
        all.push(secret.to_string());
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

struct Settings {
    verbosity: u8,
    front_end: String,
    directive: Option<String>,
    max_bytes: u64,
}

impl Settings {
    /// The directive for a sink at `step` (0 INFO, 1 ours DEBUG, 2 DEBUG and ours TRACE), or
    /// `STRATA_LOG`'s (checked by [`subscriber`]).
    fn filter(&self, step: u8) -> EnvFilter {
        if let Some(f) = self
            .directive
            .as_ref()
            .and_then(|d| EnvFilter::try_new(d).ok())
        {
            return f;
        }
        let (base, ours) = match step {
            0 => ("info", "info"),
            1 => ("info", "debug"),
            _ => ("debug", "trace"),
        };
        EnvFilter::new(format!("{base},{OURS}={ours}"))
    }
}

/// The registry with its file and stderr layers, and the file it writes to.
fn subscriber(home: &Path, s: &Settings) -> (impl Subscriber + Send + Sync, Option<PathBuf>) {
    if let Some(Err(e)) = s.directive.as_ref().map(EnvFilter::try_new) {
        // Said on every run: the user asked for something and does not get it.
        eprintln!("strata: {FILTER_ENV} ignored ({e})");
    }
    let dir = home.join("logs");
    let file = match RotatingFile::open(&dir, s.max_bytes) {
        Ok(f) => Some(f),
        Err(e) => {
            if s.verbosity > 0 {
                eprintln!(
                    "strata: no log file: cannot write in {}: {e}",
                    dir.display()
                );
            }
            None
        }
    };
    let path = file.as_ref().map(|f| f.path.clone());
    let file_step = match s.verbosity {
        0 => 0,
        v => (v - 1).clamp(1, 2),
    };
    let layer = |sink, filter| -> Box<dyn Layer<Registry> + Send + Sync> {
        tracing_subscriber::fmt::layer()
            .with_span_events(FmtSpan::CLOSE)
            .event_format(Line::new(&s.front_end))
            .with_writer(sink)
            .log_internal_errors(false)
            .with_filter(filter)
            .boxed()
    };
    let mut layers = Vec::new();
    if let Some(f) = file {
        layers.push(layer(Sink::File(f), s.filter(file_step)));
    }
    if s.verbosity > 0 {
        layers.push(layer(Sink::Stderr, s.filter((s.verbosity - 1).min(2))));
    }
    (tracing_subscriber::registry().with(layers), path)
}

/// `2025-01-02T03:04:05.678901Z  INFO 4242 cli run{command=snapshot}: strata: close time.busy=…`
struct Line {
    pid: u32,
    front_end: String,
}

impl Line {
    fn new(front_end: &str) -> Self {
        Line {
            pid: std::process::id(),
            front_end: front_end.to_string(),
        }
    }
}

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        SystemTime.format_time(&mut w)?;
        let meta = event.metadata();
        write!(w, " {:>5} {} {} ", meta.level(), self.pid, self.front_end)?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                w.write_str(span.name())?;
                let ext = span.extensions();
                if let Some(fields) = ext.get::<FormattedFields<N>>() {
                    if !fields.is_empty() {
                        write!(w, "{{{fields}}}")?;
                    }
                }
                w.write_char(':')?;
            }
            w.write_char(' ')?;
        }
        write!(w, "{}: ", meta.target())?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// Where lines go. Each event is collected whole by a [`LineWriter`], then redacted and written
/// in one call when it is dropped.
enum Sink {
    File(RotatingFile),
    Stderr,
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            sink: self,
            buf: Vec::with_capacity(256),
        }
    }
}

struct LineWriter<'a> {
    sink: &'a Sink,
    buf: Vec<u8>,
}

impl io::Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter<'_> {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.buf);
        let line = {
            let secrets = SECRETS.read().unwrap_or_else(PoisonError::into_inner);
            one_line(&redact(&text, &secrets))
        };
        // A log that cannot be written is dropped, never an error of the operation.
        match self.sink {
            Sink::File(f) => f.append(line.as_bytes()),
            // Unit tests: through the harness, which captures `eprint!` only.
            #[cfg(test)]
            Sink::Stderr => eprint!("{line}"),
            #[cfg(not(test))]
            Sink::Stderr => {
                let _ = io::stderr().lock().write_all(line.as_bytes());
            }
        }
    }
}

/// One record per line: inner line breaks (a multi-line error) are written as `\n`.
fn one_line(text: &str) -> String {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut out = body.replace('\r', "\\r").replace('\n', "\\n");
    out.push('\n');
    out
}

/// `logs/strata.log`, appended to by any number of processes, rotated by size.
struct RotatingFile {
    dir: PathBuf,
    path: PathBuf,
    max_bytes: u64,
    /// The open file, reopened when another process has rotated it away.
    file: Mutex<Option<File>>,
}

impl RotatingFile {
    /// Makes the folder and opens the file, so that a home where nothing can be written shows
    /// at start rather than on the first line. Permissions are the umask's, as for the rest of
    /// the home: a home shared by a team is logged to by all of it.
    fn open(dir: &Path, max_bytes: u64) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let path = dir.join(FILE_NAME);
        let file = open_append(&path)?;
        Ok(RotatingFile {
            dir: dir.to_path_buf(),
            path,
            max_bytes,
            file: Mutex::new(Some(file)),
        })
    }

    fn append(&self, line: &[u8]) {
        let mut slot = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        if self.append_locked(&mut slot, line).is_err() {
            // Try the name afresh next time (the folder may have been removed and come back).
            *slot = None;
        }
    }

    fn append_locked(&self, slot: &mut Option<File>, line: &[u8]) -> io::Result<()> {
        let file = match slot.take() {
            Some(f) if names(&f, &self.path) => f,
            _ => open_append(&self.path)?,
        };
        let size = file.metadata()?.len();
        let file = if size > 0 && size + line.len() as u64 > self.max_bytes {
            self.rotate(line.len() as u64)?;
            open_append(&self.path)?
        } else {
            file
        };
        // O_APPEND and one write: lines of several processes never interleave.
        (&file).write_all(line)?;
        *slot = Some(file);
        Ok(())
    }

    /// Shifts `strata.log` → `.1` → … → `.KEPT` (the oldest is replaced) under the rotation
    /// lock, unless another process did so while we waited for it.
    fn rotate(&self, incoming: u64) -> io::Result<()> {
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(".rotate.lock"))?;
        // SAFETY: flock on a descriptor we own; closing `lock` releases it.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io::Error::last_os_error());
        }
        match fs::metadata(&self.path) {
            Ok(m) if m.len() > 0 && m.len() + incoming > self.max_bytes => {}
            _ => return Ok(()),
        }
        for i in (1..KEPT).rev() {
            match fs::rename(self.rotated(i), self.rotated(i + 1)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        fs::rename(&self.path, self.rotated(1))
    }

    fn rotated(&self, n: usize) -> PathBuf {
        self.dir.join(format!("{FILE_NAME}.{n}"))
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Whether `path` still names the file we hold open.
fn names(file: &File, path: &Path) -> bool {
    match (file.metadata(), fs::metadata(path)) {
        (Ok(ours), Ok(now)) => ours.dev() == now.dev() && ours.ino() == now.ino(),
        _ => false,
    }
}

/// Reads the environment once: values of variables named like secrets, and the string values
/// of JSON documents among them (a service account's), join [`SECRETS`].
fn remember_env_secrets(vars: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>) {
    for (name, value) in vars {
        let (Some(name), Some(value)) = (name.to_str(), value.to_str()) else {
            continue;
        };
        let upper = name.to_ascii_uppercase();
        if !SECRET_NAMES.iter().any(|s| upper.contains(s)) {
            continue;
        }
        let v = value.trim();
        if matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "none" | "null" | "unset"
        ) {
            continue;
        }
        conceal(v);
        if let Ok(doc) = serde_json::from_str::<serde_json::Value>(v) {
            conceal_json(&doc);
        }
    }
}

fn conceal_json(doc: &serde_json::Value) {
    match doc {
        serde_json::Value::String(s) if s.len() >= 8 => conceal(s),
        serde_json::Value::Array(a) => a.iter().for_each(conceal_json),
        serde_json::Value::Object(o) => o.values().for_each(conceal_json),
        _ => {}
    }
}

/// The last line of defence: `text` with whatever looks like a credential cut out.
fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), CUT);
        }
    }
    let out = cut_pem(&out);
    let out = cut_urls(&out);
    cut_secret_fields(&out)
}

/// `-----BEGIN X-----…-----END X-----` → `-----BEGIN X----- *** -----END X-----`; a block
/// without its end is cut to the end of the text.
fn cut_pem(text: &str) -> String {
    const BEGIN: &str = "-----BEGIN ";
    const END: &str = "-----END ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(b) = rest.find(BEGIN) {
        out.push_str(&rest[..b]);
        let block = &rest[b..];
        let header_end = block[BEGIN.len()..]
            .find("-----")
            .map(|i| BEGIN.len() + i + 5)
            .unwrap_or(BEGIN.len());
        out.push_str(&block[..header_end]);
        out.push(' ');
        out.push_str(CUT);
        match block[header_end..].find(END) {
            Some(e) => {
                let footer = header_end + e;
                let footer_end = block[footer + END.len()..]
                    .find("-----")
                    .map(|i| footer + END.len() + i + 5)
                    .unwrap_or(block.len());
                out.push(' ');
                out.push_str(&block[footer..footer_end]);
                rest = &block[footer_end..];
            }
            None => {
                if text.ends_with('\n') {
                    out.push('\n');
                }
                return out;
            }
        }
    }
    out.push_str(rest);
    out
}

/// In every `scheme://…` the userinfo becomes `***@` and the query and fragment `?***`.
fn cut_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    let mut search = 0;
    while let Some(i) = text[search..].find("://").map(|i| search + i) {
        let scheme_start = text[..i]
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
            .map_or(0, |(p, c)| p + c.len_utf8());
        let start = i + 3;
        let end = text[start..]
            .find(|c: char| c.is_whitespace() || "\"'<>`\\".contains(c))
            .map(|p| start + p)
            .unwrap_or(text.len());
        search = end.max(start);
        if !text[scheme_start..i].starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        out.push_str(&text[done..start]);
        let mut url = &text[start..end];
        if let Some(at) = url.rfind('@') {
            let userinfo = &url[..at];
            let before_path = userinfo.split('/').next().unwrap_or("");
            // `user:pass@host`, or a password holding an unescaped `/` (`AKIA:ab/cd@bucket`).
            if !userinfo.contains('/') || before_path.contains(':') {
                out.push_str(CUT);
                out.push('@');
                url = &url[at + 1..];
            }
        }
        match url.find(['?', '#']) {
            Some(q) => {
                out.push_str(&url[..q]);
                out.push('?');
                out.push_str(CUT);
            }
            None => out.push_str(url),
        }
        done = end;
    }
    out.push_str(&text[done..]);
    out
}

/// `password=x`, `"secret_access_key": "x"`, `password: Some("x")`, `Authorization: …`: the
/// value of a field named like a secret becomes `***`.
fn cut_secret_fields(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.';
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    let mut i = 0;
    while i < bytes.len() {
        let Some((word, at)) = SECRET_FIELDS
            .iter()
            .filter_map(|w| lower[i..].find(w).map(|p| (*w, i + p)))
            .min_by_key(|&(_, p)| p)
        else {
            break;
        };
        // The end of the identifier holding the word, then the separator.
        let mut j = at + word.len();
        while j < bytes.len() && is_ident(bytes[j]) {
            j += 1;
        }
        i = j;
        if bytes.get(j) == Some(&b'"') {
            j += 1;
        }
        while bytes.get(j) == Some(&b' ') {
            j += 1;
        }
        let colon = match bytes.get(j) {
            Some(b'=') => false,
            Some(b':') => true,
            _ => continue,
        };
        j += 1;
        while bytes.get(j) == Some(&b' ') {
            j += 1;
        }
        if text[j..].starts_with("Some(") {
            j += 5;
        }
        // After `:` only a quoted value (JSON, Debug) or a header: prose such as
        // "no credentials: set …" keeps its words.
        if colon && word != "authorization" && !matches!(bytes.get(j), Some(b'"' | b'\'')) {
            continue;
        }
        let value_end = match bytes.get(j) {
            Some(&q @ (b'"' | b'\'')) => {
                j += 1;
                // Up to the closing quote that is not escaped.
                let mut k = j;
                while k < bytes.len() && !(bytes[k] == q && bytes[k - 1] != b'\\') {
                    k += 1;
                }
                k
            }
            // `Authorization: AWS4-HMAC-SHA256 Credential=…, Signature=…`: to the line's end.
            _ if word == "authorization" => text[j..].find('\n').map_or(text.len(), |p| j + p),
            _ => text[j..]
                .find(|c: char| c.is_whitespace() || ",;&)}]".contains(c))
                .map_or(text.len(), |p| j + p),
        };
        if value_end > j {
            out.push_str(&text[done..j]);
            out.push_str(CUT);
            done = value_end;
        }
        i = value_end.max(i);
    }
    out.push_str(&text[done..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn url_userinfo_query_and_fragment_are_cut() {
        for (input, want) in [
            (
                "remote s3://AKIA:hunter2@bucket/strata refused",
                "remote s3://***@bucket/strata refused",
            ),
            (
                "GET https://user:p%40ss@data.example.com:8443/x.csv done",
                "GET https://***@data.example.com:8443/x.csv done",
            ),
            ("token url https://ghp_abc123@github.com/o/r", "token url https://***@github.com/o/r"),
            (
                "s3://AKIA:wJalr/K7MDENG@bucket/p",
                "s3://***@bucket/p",
            ),
            (
                "error sending request for url (https://b.s3.amazonaws.com/k/obj?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA) after 3 retries",
                "error sending request for url (https://b.s3.amazonaws.com/k/obj?***",
            ),
            (
                "url=\"https://acct.blob.core.windows.net/c/b?sv=2022&sig=abc%2F\" next",
                "url=\"https://acct.blob.core.windows.net/c/b?***\" next",
            ),
            ("https://h/cb#access_token=xyz", "https://h/cb?***"),
        ] {
            let got = redact(input, &[]);
            assert!(got.starts_with(want), "{input}\n -> {got}\n want {want}");
            for leak in ["hunter2", "p%40ss", "ghp_abc123", "K7MDENG", "deadbeef", "sig=abc", "xyz"] {
                assert!(!got.contains(leak), "{leak} leaked: {got}");
            }
        }
    }

    #[test]
    fn ordinary_urls_and_paths_are_kept() {
        for text in [
            "file:///data/images/cat@2x.png",
            "s3://bucket/strata/p/d@1.0.0",
            "https://data.example.com/strata/manifest",
            "snapshot p/d@1.0.2 of /home/me/data: 12 files",
            "close time.busy=1.2ms time.idle=30µs",
            "key=p/d/images/cat.jpg",
        ] {
            assert_eq!(redact(text, &[]), text);
        }
    }

    #[test]
    fn text_beyond_ascii_is_cut_on_character_boundaries() {
        let got = redact(
            "café://x → https://ü:pässwörd@höst/ä?q=ö «password=geheimnis» ok",
            &[],
        );
        assert_eq!(got, "café://x → https://***@höst/ä?*** «password=*** ok");
    }

    #[test]
    fn pem_blocks_are_cut_with_or_without_their_end() {
        let escaped = "doc {\"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADAN\\n-----END PRIVATE KEY-----\\n\"} after";
        let got = redact(escaped, &[]);
        assert!(!got.contains("MIIEvQIBADAN"), "{got}");
        assert!(got.ends_with("after"), "{got}");

        let real = "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\nrest";
        assert_eq!(
            redact(real, &[]),
            "key:\n-----BEGIN RSA PRIVATE KEY----- *** -----END RSA PRIVATE KEY-----\nrest"
        );

        let cut_short = "x -----BEGIN CERTIFICATE-----\\nMIIBszCCAV\n";
        assert_eq!(
            redact(cut_short, &[]),
            "x -----BEGIN CERTIFICATE----- ***\n"
        );
    }

    #[test]
    fn values_of_secret_named_fields_are_cut() {
        for (input, leak) in [
            ("secret_access_key=abcd1234 next", "abcd1234"),
            (
                "{\"client_secret\": \"s3cr3tvalue\", \"x\": 1}",
                "s3cr3tvalue",
            ),
            (
                "Config { password: Some(\"pa55word\"), user: \"me\" }",
                "pa55word",
            ),
            (
                "Authorization: AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=f00d",
                "f00d",
            ),
            ("authorization=\"Bearer eyJhbGciOi\"", "eyJhbGciOi"),
            (
                "STRATA_REMOTE_X_SESSION_TOKEN='tok-en-value'",
                "tok-en-value",
            ),
        ] {
            let got = redact(input, &[]);
            assert!(!got.contains(leak), "{input} -> {got}");
            assert!(got.contains(CUT), "{got}");
        }
        assert_eq!(
            redact("secret_access_key=abcd1234 next", &[]),
            "secret_access_key=*** next"
        );
        // A secret-named word that is no field keeps its text.
        for prose in [
            "credentials for lake are in the OS keychain",
            "remote 'lake' has no S3 credentials: set STRATA_REMOTE_LAKE_ACCESS_KEY_ID",
        ] {
            assert_eq!(redact(prose, &[]), prose);
        }
    }

    #[test]
    fn known_secret_values_are_cut_wherever_they_appear() {
        let s = secrets(&["sentinel-abcdef-longer", "sentinel-abcdef"]);
        assert_eq!(
            redact("a sentinel-abcdef-longer b sentinel-abcdef c", &s),
            "a *** b *** c"
        );
    }

    #[test]
    fn secret_looking_environment_values_are_remembered() {
        let vars = [
            ("AWS_SECRET_ACCESS_KEY", "env-secret-one"),
            ("STRATA_REMOTE_TEAM_ACCOUNT_KEY", "env-secret-two"),
            ("MY_PASSWORD", "abc"), // too short to cut safely
            ("SOME_TOKEN", "true"),
            ("HOME", "/root-not-secret"),
            (
                "STRATA_REMOTE_GCS_SERVICE_ACCOUNT",
                "{\"type\": \"service_account\", \"private_key_id\": \"env-secret-three\"}",
            ),
        ];
        remember_env_secrets(vars.iter().map(|(k, v)| (k.into(), v.into())));
        let all = SECRETS.read().unwrap().clone();
        for want in ["env-secret-one", "env-secret-two", "env-secret-three"] {
            assert!(all.iter().any(|s| s == want), "{want} not remembered");
        }
        for not in ["abc", "true", "/root-not-secret"] {
            assert!(!all.iter().any(|s| s == not), "{not} remembered");
        }
        assert!(
            all.windows(2).all(|w| w[0].len() >= w[1].len()),
            "longest first, so a value inside another is not left half cut"
        );
    }

    #[test]
    fn records_stay_on_one_line() {
        assert_eq!(one_line("a\nb\r\nc\n"), "a\\nb\\r\\nc\n");
        assert_eq!(one_line("a"), "a\n");
    }

    fn files_in(dir: &Path) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(FILE_NAME))
            .map(|e| {
                (
                    e.file_name().to_string_lossy().to_string(),
                    e.metadata().unwrap().len(),
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn rotation_keeps_the_folder_bounded() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("logs");
        let max = 1000;
        let log = RotatingFile::open(&dir, max).unwrap();
        for i in 0..500 {
            log.append(format!("line {i:05} {}\n", "x".repeat(40)).as_bytes());
        }
        let files = files_in(&dir);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["strata.log", "strata.log.1", "strata.log.2", "strata.log.3"]
        );
        for (name, len) in &files {
            assert!(*len <= max, "{name} has {len} bytes, over {max}");
        }
        let newest = fs::read_to_string(dir.join(FILE_NAME)).unwrap();
        assert!(newest.ends_with(&format!("line 00499 {}\n", "x".repeat(40))));
        let oldest = fs::read_to_string(dir.join("strata.log.3")).unwrap();
        let last_in_oldest: u32 = oldest.lines().last().unwrap()[5..10].parse().unwrap();
        let first_in_newer: u32 = fs::read_to_string(dir.join("strata.log.2"))
            .unwrap()
            .lines()
            .next()
            .unwrap()[5..10]
            .parse()
            .unwrap();
        assert_eq!(
            last_in_oldest + 1,
            first_in_newer,
            "no line lost between files"
        );
    }

    #[test]
    fn a_line_longer_than_the_limit_gets_a_file_of_its_own() {
        let tmp = tempfile::tempdir().unwrap();
        let log = RotatingFile::open(tmp.path(), 100).unwrap();
        log.append(b"short\n");
        let long = format!("{}\n", "y".repeat(300));
        log.append(long.as_bytes());
        log.append(b"after\n");
        assert_eq!(
            fs::read_to_string(tmp.path().join("strata.log.2")).unwrap(),
            "short\n"
        );
        assert_eq!(
            fs::read_to_string(tmp.path().join("strata.log.1")).unwrap(),
            long
        );
        assert_eq!(
            fs::read_to_string(tmp.path().join(FILE_NAME)).unwrap(),
            "after\n"
        );
    }

    #[test]
    fn writers_that_share_the_folder_stay_within_the_bound_and_keep_lines_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let (writers, max, line_len) = (4, 2000u64, 64);
        // One RotatingFile each, as separate processes would have.
        std::thread::scope(|s| {
            for w in 0..writers {
                let dir = &dir;
                s.spawn(move || {
                    let log = RotatingFile::open(dir, max).unwrap();
                    for i in 0..400 {
                        let head = format!("w{w} {i:05} ");
                        let line = format!("{head}{}\n", "z".repeat(line_len - head.len() - 1));
                        log.append(line.as_bytes());
                    }
                });
            }
        });
        let files = files_in(&dir);
        assert!(files.len() <= KEPT + 1, "{files:?}");
        for (name, len) in &files {
            assert!(
                *len <= max + (writers * line_len) as u64,
                "{name} has {len} bytes"
            );
            let body = fs::read_to_string(dir.join(name)).unwrap();
            for l in body.lines() {
                assert_eq!(l.len(), line_len - 1, "a torn line in {name}: {l:?}");
            }
        }
    }

    #[test]
    fn a_folder_that_cannot_be_made_means_no_file_log() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        fs::write(&home, b"a file where the home should be").unwrap();
        let settings = Settings {
            verbosity: 0,
            front_end: "test".into(),
            directive: None,
            max_bytes: DEFAULT_MAX_BYTES,
        };
        let (subscriber, file) = subscriber(&home, &settings);
        assert_eq!(file, None);
        // Logging through it is harmless.
        tracing::subscriber::with_default(subscriber, || tracing::info!("nowhere to go"));
    }

    #[test]
    fn verbose_adds_debug_lines_of_strata_crates_only() {
        let tmp = tempfile::tempdir().unwrap();
        let settings = Settings {
            verbosity: 1,
            front_end: "test".into(),
            directive: None,
            max_bytes: DEFAULT_MAX_BYTES,
        };
        let (subscriber, file) = subscriber(tmp.path(), &settings);
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!("ours at debug");
            tracing::debug!(target: "hyper_util::pool", "theirs at debug");
            tracing::info!(target: "hyper_util::pool", "theirs at info");
        });
        let text = fs::read_to_string(file.unwrap()).unwrap();
        assert!(text.contains("ours at debug"), "{text}");
        assert!(!text.contains("theirs at debug"), "{text}");
        assert!(text.contains("theirs at info"), "{text}");
    }

    #[test]
    fn lines_carry_pid_front_end_span_path_and_timings_and_no_secret() {
        let tmp = tempfile::tempdir().unwrap();
        let settings = Settings {
            verbosity: 0,
            front_end: "test".into(),
            directive: None,
            max_bytes: DEFAULT_MAX_BYTES,
        };
        let (subscriber, file) = subscriber(tmp.path(), &settings);
        let file = file.unwrap();
        assert_eq!(file, tmp.path().join("logs").join(FILE_NAME));
        tracing::subscriber::with_default(subscriber, || {
            let _op = tracing::info_span!("snapshot", dataset = "p/d").entered();
            tracing::info!(
                url = "https://me:hunter2@h/x?sig=abc",
                "uploading\nsecond line"
            );
            tracing::debug!("not at INFO");
        });
        let text = fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        let pid = format!(" {} test snapshot{{dataset=\"p/d\"}}: ", std::process::id());
        assert!(
            lines[0].contains(" INFO ") && lines[0].contains(&pid),
            "{text}"
        );
        assert!(lines[0].contains("uploading\\nsecond line"), "{text}");
        assert!(
            !text.contains("hunter2") && !text.contains("sig=abc"),
            "{text}"
        );
        assert!(lines[1].contains("close time.busy="), "{text}");
        assert!(!text.contains("not at INFO"), "{text}");
    }
}
