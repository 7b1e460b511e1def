//! Everything the CLI prints: human text, or one JSON document with `--json`.

use std::cell::Cell;
use std::io::{IsTerminal, Write};

use serde::Serialize;
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

    /// The JSON document (with `--json`) or the human text.
    pub fn emit<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        self.emitted.set(true);
        let mut stdout = std::io::stdout().lock();
        let text = if self.json {
            serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
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

    pub fn error(&self, e: &Error) {
        let msg = e.to_string().replace('\n', " ");
        eprintln!("error: {msg}");
        if self.json && !self.emitted.get() {
            let doc = serde_json::json!({"error": {"code": e.code(), "message": msg}});
            println!("{doc}");
        }
    }
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
