//! `add`, `add-link`, `remove`, `sync`: a draft's content.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use strata_core::Result;
use strata_engine::AddRequest;

use super::{change_line, Ctx};

pub fn add(
    ctx: &mut Ctx<'_>,
    reference: &str,
    paths: &[PathBuf],
    to: Option<&str>,
    globs: &[String],
    recursive: bool,
) -> Result<ExitCode> {
    let opts = AddRequest {
        to: to.map(str::to_string),
        globs: globs.to_vec(),
        recursive,
    };
    let c = ctx
        .engine
        .add(reference, paths, &opts, &ctx.bars, ctx.cancel)?;
    ctx.emit(&c, || change_line(&c));
    Ok(ExitCode::SUCCESS)
}

pub fn add_link(
    ctx: &mut Ctx<'_>,
    reference: &str,
    urls: &[String],
    to: Option<&str>,
) -> Result<ExitCode> {
    let c = ctx
        .engine
        .add_link(reference, urls, to, &ctx.bars, ctx.cancel)?;
    ctx.emit(&c, || change_line(&c));
    Ok(ExitCode::SUCCESS)
}

pub fn remove(ctx: &mut Ctx<'_>, reference: &str, patterns: &[String]) -> Result<ExitCode> {
    let c = ctx.engine.remove(reference, patterns)?;
    ctx.emit(&c, || change_line(&c));
    Ok(ExitCode::SUCCESS)
}

pub fn sync(ctx: &mut Ctx<'_>, reference: &str, folder: &Path) -> Result<ExitCode> {
    let c = ctx.engine.sync(reference, folder, &ctx.bars, ctx.cancel)?;
    ctx.emit(&c, || change_line(&c));
    Ok(ExitCode::SUCCESS)
}
