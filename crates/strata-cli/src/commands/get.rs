use std::process::ExitCode;

use strata_core::Result;
use strata_engine::GetOptions;

use super::Ctx;
use crate::args::GetArgs;
use crate::output::bytes;

pub fn run(ctx: &mut Ctx<'_>, args: GetArgs) -> Result<ExitCode> {
    let opts = GetOptions {
        to: args.to,
        overwrite: args.overwrite,
        mutable: args.mutable,
        include: args.include,
        exclude: args.exclude,
        fraction: args.fraction,
        seed: args.seed,
        jobs: args.jobs,
    };
    let g = ctx
        .engine
        .get(&args.reference, &opts, &ctx.bars, ctx.cancel)?;
    ctx.out.note(&format!(
        "{} {}: {} files, {}{}{}",
        if g.reused {
            "up to date".to_string()
        } else if g.healed > 0 {
            format!("restored {} edited file(s) of", g.healed)
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
    ctx.out.emit(&g, || g.path.display().to_string());
    Ok(ExitCode::SUCCESS)
}
