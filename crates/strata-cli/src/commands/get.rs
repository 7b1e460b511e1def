use std::process::ExitCode;

use strata_core::{Error, Result};
use strata_engine::GetRequest;

use super::Ctx;
use crate::args::GetArgs;
use crate::output::bytes;

impl GetArgs {
    /// The engine's request: the one mapping of these flags (the app sends the request itself).
    fn request(self) -> Result<(String, GetRequest)> {
        if let Some(f) = self.fraction {
            if !(f > 0.0 && f <= 1.0) {
                return Err(Error::invalid(format!(
                    "--fraction must be in (0, 1], got {f}"
                )));
            }
        }
        let request = GetRequest {
            to: self.to,
            overwrite: self.overwrite,
            mutable: self.mutable,
            include: self.include,
            exclude: self.exclude,
            fraction: self.fraction,
            seed: self.seed,
            jobs: self.jobs,
        };
        Ok((self.reference, request))
    }
}

pub fn run(ctx: &mut Ctx<'_>, args: GetArgs) -> Result<ExitCode> {
    let (reference, opts) = args.request()?;
    let g = ctx.engine.get(&reference, &opts, &ctx.bars, ctx.cancel)?;
    ctx.out.note(&format!(
        "{} {}: {} files, {}{}{}",
        if g.reused {
            "up to date".to_string()
        } else if g.healed > 0 {
            format!("restored {} edited file(s) of", g.healed)
        } else if g.unchanged > 0 || g.removed > 0 {
            // Switched in place: only the files that differed were touched.
            format!(
                "switched ({} written, {} removed, {} unchanged) to",
                g.written, g.removed, g.unchanged
            )
        } else {
            "copied".to_string()
        },
        g.version,
        g.files,
        bytes(g.bytes),
        if g.mutable {
            " (mutable)"
        } else {
            " (read-only)"
        },
        if g.fetched_objects > 0 {
            format!(
                "; fetched {} objects ({})",
                g.fetched_objects,
                bytes(g.fetched_bytes)
            )
        } else {
            String::new()
        }
    ));
    ctx.emit(&g, || g.path.display().to_string());
    Ok(ExitCode::SUCCESS)
}
