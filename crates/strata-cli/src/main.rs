//! `strata`: the command line over the engine.

mod args;
mod commands;
mod output;
mod progress;

use std::process::ExitCode;
use std::sync::OnceLock;

use clap::Parser;
use strata_core::Cancel;

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
    let cli = Cli::parse_from(hoist_global_flags(std::env::args_os().collect()));
    let cancel = CANCEL.get_or_init(Cancel::new).clone();
    // SAFETY: installing a handler that only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
    let out = Out::new(&cli.global);
    match commands::run(cli, &out, &cancel) {
        Ok(code) => code,
        Err(e) => {
            out.error(&e);
            ExitCode::FAILURE
        }
    }
}

/// `strata tag REF -old` takes values that look like flags, so a global flag written after them
/// (`strata tag REF -old --json`) would be read as a tag. Global flags are moved to the front.
fn hoist_global_flags(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    const GLOBAL: [&str; 4] = ["--json", "-q", "--quiet", "--offline"];
    if !args.iter().any(|a| a == "tag") {
        return args;
    }
    let mut front = Vec::with_capacity(args.len());
    let mut rest = Vec::new();
    for (i, a) in args.into_iter().enumerate() {
        if i == 0 || a.to_str().is_some_and(|s| GLOBAL.contains(&s)) {
            front.push(a);
        } else {
            rest.push(a);
        }
    }
    front.extend(rest);
    front
}
