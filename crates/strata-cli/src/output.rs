//! Everything the CLI prints: human text, or one JSON document with `--json`.

use std::cell::Cell;
use std::io::{IsTerminal, Write};

use serde::Serialize;
use strata_core::error::Remedy;
use strata_core::Error;

use crate::args::Global;

pub struct Out {
    pub json: bool,
    pub quiet: bool,
    pub bars: bool,
    /// A document went to stdout already: an error after it (verify's mismatches) must not add a
    /// second one.
    emitted: Cell<bool>,
}

impl Out {
    pub fn new(g: &Global) -> Self {
        Out {
            json: g.json,
            quiet: g.quiet,
            bars: !g.json && !g.quiet && std::io::stderr().is_terminal(),
            emitted: Cell::new(false),
        }
    }

    /// The JSON document (with `--json`) or the human text. The engine's warnings (already
    /// shown on stderr as they happened) go into an object document as `warnings`, unless the
    /// document has its own.
    pub fn emit<T: Serialize>(
        &self,
        value: &T,
        warnings: Vec<String>,
        human: impl FnOnce() -> String,
    ) {
        self.emitted.set(true);
        let mut stdout = std::io::stdout().lock();
        let text = if self.json {
            let mut doc = match serde_json::to_value(value) {
                Ok(d) => d,
                Err(e) => {
                    serde_json::json!({"error": {"code": "internal", "kind": "internal", "message": e.to_string()}})
                }
            };
            if let (serde_json::Value::Object(map), false) = (&mut doc, warnings.is_empty()) {
                map.entry("warnings").or_insert_with(|| warnings.into());
            }
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        } else {
            human()
        };
        if !text.is_empty() {
            let _ = writeln!(stdout, "{}", text.trim_end_matches('\n'));
        }
    }

    /// A remark for people (stderr), silent with `-q` or `--json`.
    pub fn note(&self, msg: &str) {
        if !self.quiet && !self.json {
            eprintln!("{msg}");
        }
    }

    /// One line on stderr: what went wrong, then how to act on it here (the flag or command);
    /// with `--json`, the same as a document on stdout (unless one went there already).
    pub fn error(&self, e: &Error) {
        let msg = e.to_string().replace('\n', " ");
        let hint = hint(e);
        match &hint {
            Some(h) => eprintln!("error: {msg}; {h}"),
            None => eprintln!("error: {msg}"),
        }
        if self.json && !self.emitted.get() {
            println!("{}", error_document(e));
        }
    }
}

/// The `--json` form of an error: `code` (fine-grained), `kind` (what to do about it), the
/// message, the remote that failed, the remedy and the CLI's way to apply it.
pub fn error_document(e: &Error) -> serde_json::Value {
    serde_json::json!({"error": {
        "code": e.code(),
        "kind": e.kind(),
        "message": e.to_string().replace('\n', " "),
        "remote": e.remote(),
        "remedy": e.remedy(),
        "hint": hint(e),
    }})
}

/// How to act on an error from the command line: the engine names the problem, the CLI its
/// flag or command.
pub fn hint(e: &Error) -> Option<String> {
    let remote = e.remote().unwrap_or("NAME");
    Some(match e.remedy()? {
        Remedy::Force => "pass --force to delete it anyway".into(),
        Remedy::Overwrite => "pass --overwrite to replace it".into(),
        Remedy::Push => "`strata push` sends it once the remote can be reached".into(),
        Remedy::Login => format!(
            "run `strata remote login {remote}`, or set the remote's credentials in the environment"
        ),
        Remedy::Verify => "run `strata verify REF` (with --remote NAME for a remote's copy)".into(),
        Remedy::Pull => "run `strata pull`, or upload it from the machine that made it".into(),
        Remedy::Finalize => "finalize it first (`strata finalize REF --upload` does both)".into(),
        Remedy::Unlock => "wait for it, or run `strata unlock REF` if that process is gone".into(),
        Remedy::AllowHttp => "pass --allow-http if that is intended".into(),
        Remedy::AllowPrivateLinks => {
            "allow it with `strata remote set NAME --allow-private-links true`".into()
        }
        Remedy::AddRemote => "add one with `strata remote add NAME URL`".into(),
        Remedy::GiveVersion => "choose the version with --version X.Y.Z".into(),
        Remedy::GoOnline => "drop --offline (and STRATA_OFFLINE)".into(),
        Remedy::ChooseFolder => "add --to DIR".into(),
        Remedy::IncludeDrafts => "pass --include-drafts to reach drafts too".into(),
    })
}

pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `500MB`, `2GiB`, `1.5G`, `1024` (bytes).
pub fn parse_size(s: &str) -> Result<u64, Error> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| Error::invalid(format!("invalid size '{s}': e.g. 500MB or 2GiB")))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024f64.powi(4),
        _ => return Err(Error::invalid(format!("invalid size unit in '{s}'"))),
    };
    Ok((n * mult) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("500MB").unwrap(), 500_000_000);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("0").unwrap(), 0);
        assert!(parse_size("ten").is_err());
        assert_eq!(bytes(180_200_000), "180.2 MB");
    }
}
