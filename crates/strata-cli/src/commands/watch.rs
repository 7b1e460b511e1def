//! `watch`: a folder becomes the next version of a dataset each time writing in it goes quiet;
//! `watch add|list|pause|resume|remove|run` for the watches kept in the catalog.

use std::path::Path;
use std::process::ExitCode;

use strata_core::{Error, Result};
use strata_engine::{
    default_max_wait, Engine, WatchEvents, WatchInfo, WatchRequest, WatchState, WatchVersion,
};

use super::Ctx;
use crate::args::{ServiceAction, WatchAction, WatchArgs};

impl WatchArgs {
    /// The engine's request: the one mapping of these flags.
    fn request(self) -> Result<WatchRequest> {
        let folder = self
            .folder
            .ok_or_else(|| Error::invalid("which folder? give FOLDER"))?;
        let dataset = self
            .dataset
            .ok_or_else(|| Error::invalid("which dataset? give --dataset PROJECT/NAME"))?;
        Ok(WatchRequest {
            folder,
            dataset,
            quiet_for: self.quiet_for,
            max_wait: self
                .max_wait
                .unwrap_or_else(|| default_max_wait(self.quiet_for)),
            poll: self.poll,
            upload: self.upload,
        })
    }
}

/// Versions on stdout (a JSON object a line with `--json`), states on stderr.
struct Printed {
    json: bool,
    quiet: bool,
}

impl WatchEvents for Printed {
    fn state(&self, folder: &Path, state: &WatchState) {
        if self.quiet {
            return;
        }
        let words = match state {
            // Shown by the version line that follows, or too frequent to print.
            WatchState::Idle | WatchState::Pending { .. } | WatchState::Versioning { .. } => return,
            WatchState::Waiting { reason, .. } => format!("waiting: {reason}"),
            WatchState::Failed {
                reason, retry_in, ..
            } => format!("error: {reason} (trying again in {} s)", retry_in.as_secs()),
            WatchState::Missing { reason, .. } => format!("error: {reason}"),
            WatchState::Polling { reason, interval } => {
                format!("polling every {} ms: {reason}", interval.as_millis())
            }
        };
        eprintln!("{}: {words}", folder.display());
    }

    fn version(&self, _folder: &Path, v: &WatchVersion) {
        if self.json {
            if let Ok(line) = serde_json::to_string(v) {
                println!("{line}");
            }
        } else {
            let held = if v.held_back > 0 {
                format!(" ({} still being written, left for the next)", v.held_back)
            } else {
                String::new()
            };
            println!(
                "{}@{}: {} added, {} modified, {} removed{held}",
                v.dataset, v.semver, v.added, v.modified, v.removed
            );
        }
    }
}

fn line(w: &WatchInfo) -> String {
    let r = &w.watch;
    let state = match (&w.running, r.paused) {
        (_, true) => "paused".to_string(),
        (None, false) => "not running".to_string(),
        (Some(_), false) => match &r.reason {
            Some(why) => format!("{}: {why}", r.state),
            None => match w.changes {
                Some(c) => format!(
                    "{} ({} added, {} modified, {} removed)",
                    r.state, c.added, c.modified, c.removed
                ),
                None if r.pending > 0 => format!("{} ({} events)", r.state, r.pending),
                None => r.state.clone(),
            },
        },
    };
    format!(
        "{:>3}  {}  → {}  [{state}]  last: {}",
        r.id,
        r.folder,
        r.dataset,
        r.last_version.as_deref().unwrap_or("-")
    )
}

pub fn run(
    ctx: &mut Ctx<'_>,
    home: &Path,
    action: Option<WatchAction>,
    args: WatchArgs,
) -> Result<ExitCode> {
    let printed = Printed {
        json: ctx.out.json,
        quiet: ctx.out.quiet,
    };
    match action {
        None => {
            let request = args.request()?;
            ctx.engine
                .watch_folder(&request, None, ctx.cancel, &printed)?;
        }
        Some(WatchAction::Add { watch }) => {
            let w = ctx.engine.watch_add(&watch.request()?)?;
            ctx.emit(&w, || {
                format!(
                    "watching {} for {} (run it with `strata watch run`)",
                    w.watch.folder, w.watch.dataset
                )
            });
        }
        Some(WatchAction::List) => {
            let mut all = ctx.engine.watches()?;
            // A running watch with changes pending: what its next version would record.
            for w in all
                .iter_mut()
                .filter(|w| w.running.is_some() && !w.watch.paused && w.watch.state == "pending")
            {
                w.changes = ctx.engine.watch_changes(&w.watch, ctx.cancel);
            }
            ctx.emit(&all, || {
                if all.is_empty() {
                    "no watches".into()
                } else {
                    all.iter().map(line).collect::<Vec<_>>().join("\n")
                }
            });
        }
        Some(WatchAction::Pause { watch }) => {
            let w = ctx.engine.watch_pause(&watch, true)?;
            ctx.emit(&w, || format!("paused {}", w.watch.folder));
        }
        Some(WatchAction::Resume { watch }) => {
            let w = ctx.engine.watch_pause(&watch, false)?;
            ctx.emit(&w, || format!("resumed {}", w.watch.folder));
        }
        Some(WatchAction::Remove { watch }) => {
            let w = ctx.engine.watch_remove(&watch)?;
            ctx.emit(&w, || format!("no longer watching {}", w.folder));
        }
        Some(WatchAction::Run) => Engine::run_watches(home, ctx.cancel, &printed)?,
        Some(WatchAction::Service { action }) => {
            let r = match action {
                ServiceAction::Install => {
                    let exe = std::env::current_exe()
                        .map_err(|e| Error::Internal(format!("where is strata? {e}")))?;
                    ctx.engine.watch_service_install(&exe)?
                }
                ServiceAction::Uninstall => ctx.engine.watch_service_uninstall()?,
            };
            ctx.emit(&r, || {
                let done = if r.applied { "done" } else { "written" };
                match &r.note {
                    Some(n) => format!("{}: {done}; {n}", r.unit.display()),
                    None => format!("{}: {done}", r.unit.display()),
                }
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
