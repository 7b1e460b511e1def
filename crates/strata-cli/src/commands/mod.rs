//! One module per command; `run` opens the engine and dispatches.

mod annotate;
mod cache;
mod create;
mod delete;
mod diff;
mod draft;
mod finalize;
mod free;
mod gc;
mod get;
mod list;
mod log;
mod preview;
mod pull;
mod remote;
mod rename;
mod session;
mod show;
mod snapshot;
mod stats;
mod status;
mod unlock;
mod upload;
mod verify;
mod watch;

use std::path::Path;
use std::process::ExitCode;

use strata_core::{Cancel, Resolution, Result};
use strata_engine::{Change, CreateRequest, Engine};

use crate::args::{Cli, Command};
use crate::output::{bytes, Out};
use crate::progress::Bars;

/// What every command gets.
pub struct Ctx<'a> {
    pub engine: Engine,
    pub out: &'a Out,
    pub bars: Bars,
    pub cancel: &'a Cancel,
}

impl Ctx<'_> {
    /// The command's result (JSON or human text) with the warnings the engine gave meanwhile.
    pub fn emit<T: serde::Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        self.out.emit(value, self.engine.take_warnings(), human);
    }
}

pub fn run(cli: Cli, home: &Path, out: &Out, cancel: &Cancel) -> Result<ExitCode> {
    let mut engine = Engine::open(home)?;
    engine.set_offline(cli.global.offline);
    engine.set_resolution(if cli.global.published {
        Resolution::Published
    } else if cli.global.include_drafts {
        Resolution::IncludeDrafts
    } else {
        Resolution::Settled
    });
    // Warnings go to stderr as they happen (with `--json` too: stdout holds only the document),
    // and into the JSON document at the end. Bars that never draw print those of commands
    // without a progress bar.
    engine.set_notices(std::sync::Arc::new(Bars::new(false, out.quiet)));
    let mut ctx = Ctx {
        engine,
        out,
        bars: Bars::new(out.bars, out.quiet),
        cancel,
    };
    use Command as C;
    match cli.command {
        C::Create {
            dataset,
            version,
            parents,
            tags,
            description,
            output,
        } => create::run(
            &mut ctx,
            &dataset,
            CreateRequest {
                version,
                parents,
                tags,
                description,
                remote: output,
            },
        ),
        C::Add {
            reference,
            paths,
            to,
            globs,
            no_recursive,
        } => draft::add(
            &mut ctx,
            &reference,
            &paths,
            to.as_deref(),
            &globs,
            !no_recursive,
        ),
        C::AddLink {
            reference,
            urls,
            to,
        } => draft::add_link(&mut ctx, &reference, &urls, to.as_deref()),
        C::Remove {
            reference,
            patterns,
        } => draft::remove(&mut ctx, &reference, &patterns),
        C::Sync { reference, folder } => draft::sync(&mut ctx, &reference, &folder),
        C::Finalize {
            reference,
            upload,
            remote,
        } => finalize::finalize(&mut ctx, &reference, upload, remote.as_deref()),
        C::Publish { reference } => finalize::publish(&mut ctx, &reference),
        C::Snapshot {
            dataset,
            folder,
            tags,
            upload,
            remote,
        } => snapshot::run(&mut ctx, &dataset, &folder, &tags, upload.then_some(remote)),
        C::Status { folder, dataset } => status::run(&ctx, &folder, &dataset),
        C::List { filter, tags, all } => list::run(&ctx, filter.as_deref(), &tags, all),
        C::Show { reference } => show::show(&ctx, &reference),
        C::Files { reference, globs } => show::files(&ctx, &reference, &globs),
        C::Diff { from, to } => diff::run(&ctx, &from, &to),
        C::Stats {
            reference,
            labels,
            against,
            plot,
        } => stats::run(
            &mut ctx,
            &reference,
            &labels,
            against.as_deref(),
            plot.as_deref(),
        ),
        C::Preview(args) => preview::run(&mut ctx, args),
        C::Log { dataset } => log::run(&ctx, &dataset),
        C::Get(args) => get::run(&mut ctx, args),
        C::Squash {
            dataset,
            references,
        } => create::squash(&mut ctx, &dataset, &references),
        C::Delete {
            reference,
            force,
            all,
        } => delete::run(&mut ctx, &reference, force, all),
        C::Rename { dataset, new_name } => rename::rename(&mut ctx, &dataset, &new_name),
        C::Move {
            dataset,
            new_project,
        } => rename::relocate(&mut ctx, &dataset, &new_project),
        C::Meta {
            reference,
            assignments,
        } => annotate::meta(&mut ctx, &reference, &assignments),
        C::Tag { reference, changes } => annotate::tag(&mut ctx, &reference, &changes),
        C::Describe {
            reference,
            description,
        } => annotate::describe(&mut ctx, &reference, &description),
        C::Upload { reference, remote } => upload::upload(&mut ctx, &reference, remote.as_deref()),
        C::Push { remote } => upload::push(&mut ctx, remote.as_deref()),
        C::Pull { remote } => pull::pull(&mut ctx, remote.as_deref()),
        C::Export {
            what,
            output,
            since,
        } => session::export(&mut ctx, &what, &output, since.as_deref()),
        C::Import {
            file,
            upload,
            finalize,
            remote,
        } => session::import(&mut ctx, &file, upload, finalize, remote),
        C::Free { references } => free::run(&mut ctx, &references),
        C::Verify { reference, remote } => verify::verify(&ctx, &reference, remote.as_deref()),
        C::Gc {
            dry_run,
            remote,
            grace,
        } => match remote {
            Some(r) => gc::remote(&mut ctx, &r, dry_run, &grace),
            None => gc::local(&mut ctx, dry_run),
        },
        C::Cache { action } => cache::run(&mut ctx, action),
        C::Unlock { reference } => unlock::unlock(&ctx, &reference),
        C::Remote { action } => remote::run(&mut ctx, action),
        C::Watch { action, watch } => watch::run(&mut ctx, home, action, watch),
    }
}

/// "vision/cats@1.0.1 (draft): 3 added, 12 modified, 0 removed · 20000 files, 180.2 MB"
pub fn change_line(c: &Change) -> String {
    let v = &c.version;
    format!(
        "{} ({}): {} added, {} modified, {} removed · {} files, {}",
        v.label(),
        v.state.as_str(),
        c.changes.added,
        c.changes.modified,
        c.changes.removed,
        v.file_count,
        bytes(v.total_bytes)
    )
}
