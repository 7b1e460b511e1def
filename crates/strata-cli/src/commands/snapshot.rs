use std::path::Path;
use std::process::ExitCode;

use strata_core::Result;

use super::{change_line, Ctx};

pub fn run(ctx: &mut Ctx<'_>, dataset: &str, folder: &Path, tags: &[String]) -> Result<ExitCode> {
    let c = ctx
        .engine
        .snapshot(dataset, folder, tags, &ctx.bars, ctx.cancel)?;
    if c.created {
        ctx.out.note(&format!("created {}", change_line(&c)));
    } else {
        ctx.out.note(&format!(
            "no changes since {}; no new version",
            c.version.label()
        ));
    }
    ctx.out.emit(&c, || c.version.id.clone());
    Ok(ExitCode::SUCCESS)
}
