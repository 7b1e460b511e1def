//! `verify`: a version's content re-hashed, locally or on a remote.

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
