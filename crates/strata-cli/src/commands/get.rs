use std::process::ExitCode;

use strata_core::Result;
use strata_engine::GetOptions;

use super::Ctx;
use crate::output::bytes;

pub fn run(ctx: &mut Ctx<'_>, reference: &str, opts: &GetOptions) -> Result<ExitCode> {
    let g = ctx.engine.get(reference, opts, &ctx.bars, ctx.cancel)?;
    ctx.out.note(&format!(
        "{} {}: {} files, {}{}",
        if g.reused { "up to date" } else { "copied" },
        g.version,
        g.files,
        bytes(g.bytes),
        if g.mutable {
            " (mutable)"
        } else {
            " (read-only)"
        }
    ));
    ctx.out.emit(&g, || g.path.display().to_string());
    Ok(ExitCode::SUCCESS)
}
