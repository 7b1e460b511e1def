//! `gc`: content no version needs removed, locally or from a remote's bucket.

use std::process::ExitCode;

use strata_core::{Error, Result};

use super::Ctx;
use crate::output::bytes;

pub fn local(ctx: &mut Ctx<'_>, dry_run: bool) -> Result<ExitCode> {
    let r = ctx.engine.gc(dry_run, &ctx.bars)?;
    ctx.emit(&r, || {
        format!(
            "{} {} objects ({}), {} packs rewritten, {} manifests, {} cached files",
            if dry_run { "would remove" } else { "removed" },
            r.objects_removed,
            bytes(r.bytes_removed),
            r.packs_rewritten,
            r.manifests_removed,
            r.cache_files_removed
        )
    });
    Ok(ExitCode::SUCCESS)
}

pub fn remote(ctx: &mut Ctx<'_>, remote: &str, dry_run: bool, grace: &str) -> Result<ExitCode> {
    let grace = humantime::parse_duration(grace)
        .map_err(|e| Error::invalid(format!("invalid --grace '{grace}': {e} (e.g. 24h, 30m)")))?;
    let r = ctx
        .engine
        .gc_remote(Some(remote), dry_run, grace, &ctx.bars)?;
    ctx.emit(&r, || {
        let mut s = format!(
            "{} {} objects ({}) from {}; {} live versions; {} unreferenced objects kept (younger than the grace period)",
            if dry_run { "would remove" } else { "removed" },
            r.objects_removed,
            bytes(r.bytes_removed),
            r.remote,
            r.live_versions,
            r.kept_young
        );
        if !r.refused.is_empty() {
            s.push_str(&format!(
                "; kept what {} unreadable log entries name",
                r.refused.len()
            ));
        }
        s
    });
    Ok(ExitCode::SUCCESS)
}
