//! verify, gc, unlock.
//!
//! `verify REF` checks the stored content and the version's read-only cached copies. A cached
//! copy edited through one of its files (root ignores read-only; an owner can `chmod u+w`) is
//! reported file by file and makes verify fail like a store mismatch, since a program reading
//! that copy now reads other bytes; the store is intact and the next `strata get` restores it.

use std::process::ExitCode;

use strata_core::{Error, Result};

use super::Ctx;
use crate::output::bytes;

pub fn verify(ctx: &Ctx<'_>, reference: &str, remote: Option<&str>) -> Result<ExitCode> {
    let r = match remote {
        Some(name) => ctx
            .engine
            .verify_remote(reference, Some(name), &ctx.bars, ctx.cancel)?,
        None => ctx.engine.verify(reference, &ctx.bars, ctx.cancel)?,
    };
    ctx.emit(&r, || {
        let mut s = String::new();
        for m in &r.mismatches {
            s.push_str(&format!("MISMATCH {}: {}\n", m.path, m.problem));
        }
        for m in &r.edited_copies {
            s.push_str(&format!("EDITED {}: {}\n", m.path, m.problem));
        }
        if r.mismatches.is_empty() && r.edited_copies.is_empty() {
            s.push_str(&format!(
                "ok: {} files ({}) of {} match their hashes\n",
                r.files,
                bytes(r.bytes),
                r.version
            ));
        }
        s
    });
    if r.mismatches.is_empty() && r.edited_copies.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else if r.mismatches.is_empty() {
        Err(Error::Corrupt {
            what: r.version.clone(),
            detail: format!(
                "{} file(s) of its cached copies were edited; the store is intact and `strata get {}` restores them",
                r.edited_copies.len(),
                r.version
            ),
        })
    } else {
        Err(Error::Corrupt {
            what: r.version.clone(),
            detail: format!(
                "{} of {} files failed verification",
                r.mismatches.len(),
                r.files
            ),
        })
    }
}

pub fn gc(ctx: &mut Ctx<'_>, dry_run: bool) -> Result<ExitCode> {
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

pub fn unlock(ctx: &Ctx<'_>, reference: &str) -> Result<ExitCode> {
    let who = ctx.engine.unlock(reference)?;
    let doc = serde_json::json!({ "released": who });
    ctx.emit(&doc, || match &who {
        Some(w) => format!("released the lock held by {w}"),
        None => "no lock was held".into(),
    });
    Ok(ExitCode::SUCCESS)
}
