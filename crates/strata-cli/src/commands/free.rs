//! `free`: local content of versions a remote holds, dropped to make room.

use std::process::ExitCode;

use strata_core::Result;

use super::Ctx;
use crate::output::bytes;

pub fn run(ctx: &mut Ctx<'_>, references: &[String]) -> Result<ExitCode> {
    let r = ctx.engine.free(references, &ctx.bars, ctx.cancel)?;
    ctx.emit(&r, || {
        let mut s = String::new();
        for f in &r.freed {
            s.push_str(&format!(
                "freed {} ({} files, {}): on '{}', fetched back on get{}\n",
                f.version,
                f.files,
                bytes(f.bytes),
                f.remote,
                if f.shared_kept_bytes > 0 {
                    format!(
                        "; {} kept, shared with versions that stay here",
                        bytes(f.shared_kept_bytes)
                    )
                } else {
                    String::new()
                }
            ));
        }
        // The kept ones went to stderr as warnings already.
        s.push_str(&format!(
            "{} freed ({} of store content, {} of cached copies)\n",
            bytes(r.freed_bytes),
            bytes(r.store_bytes),
            bytes(r.cache_bytes)
        ));
        s
    });
    Ok(ExitCode::SUCCESS)
}
