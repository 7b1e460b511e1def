//! `strata`: the command line over the engine.

mod args;
mod commands;
mod files;
mod output;
mod progress;

use std::process::ExitCode;
use std::sync::OnceLock;

use clap::{CommandFactory, FromArgMatches};
use strata_core::error::Kind;
use strata_core::{Cancel, Error};
use strata_engine::Engine;

use crate::args::Cli;
use crate::output::Out;

static CANCEL: OnceLock<Cancel> = OnceLock::new();

extern "C" fn on_signal(_: libc::c_int) {
    if let Some(c) = CANCEL.get() {
        // Only an atomic store: safe in a signal handler. A second signal kills as usual.
        c.cancel();
    }
    // SAFETY: restoring the default disposition is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    let matches =
        Cli::command().get_matches_from(hoist_global_flags(std::env::args_os().collect()));
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let home = Engine::home_from(cli.global.home.clone());
    strata_engine::logging::init(&home, cli.global.verbose, "cli");
    let cancel = CANCEL.get_or_init(Cancel::new).clone();
    // SAFETY: installing a handler that only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
    let out = Out::new(&cli.global);
    // The subcommand's name only: its arguments may hold URLs.
    let _run = tracing::info_span!("run", command = %subcommand(&matches)).entered();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "start");
    match commands::run(cli, &home, &out, &cancel) {
        Ok(code) => {
            tracing::info!(success = code == ExitCode::SUCCESS, "end");
            code
        }
        Err(e) => {
            log_failure(&e);
            out.error(&e);
            ExitCode::FAILURE
        }
    }
}

/// `remote add`, `cache evict`, …
fn subcommand(matches: &clap::ArgMatches) -> String {
    let mut names = Vec::new();
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        names.push(name);
        m = sub;
    }
    names.join(" ")
}

/// What the user can fix (a wrong name, a held lock) is a warning; the rest an error.
fn log_failure(e: &Error) {
    let (code, message) = (e.code(), e.to_string());
    match e.kind() {
        Kind::Internal | Kind::Corrupt | Kind::Unavailable => {
            tracing::error!(code, kind = e.kind().as_str(), "failed: {message}")
        }
        _ => tracing::warn!(code, kind = e.kind().as_str(), "failed: {message}"),
    }
}

/// `strata tag REF -old` takes values that look like flags, so a global flag written after them
/// (`strata tag REF -old --json`) would be read as a tag. Global flags are moved to the front.
fn hoist_global_flags(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    const GLOBAL: [&str; 7] = [
        "--json",
        "-q",
        "--quiet",
        "--offline",
        "--verbose",
        "--include-drafts",
        "--published",
    ];
    let global = |s: &str| {
        GLOBAL.contains(&s)
            || (s.len() > 1 && s.starts_with('-') && s[1..].bytes().all(|b| b == b'v'))
    };
    if !args.iter().any(|a| a == "tag") {
        return args;
    }
    let mut front = Vec::with_capacity(args.len());
    let mut rest = Vec::new();
    for (i, a) in args.into_iter().enumerate() {
        if i == 0 || a.to_str().is_some_and(global) {
            front.push(a);
        } else {
            rest.push(a);
        }
    }
    front.extend(rest);
    front
}
