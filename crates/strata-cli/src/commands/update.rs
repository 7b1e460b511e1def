//! add, remove, sync, finalize, publish.

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

pub fn finalize(
    ctx: &mut Ctx<'_>,
    reference: &str,
    upload: bool,
    remote: Option<&str>,
) -> Result<ExitCode> {
    if !upload {
        let v = ctx.engine.finalize(reference)?;
        ctx.emit(&v, || format!("{} is {}", v.label(), v.state.as_str()));
        return Ok(ExitCode::SUCCESS);
    }
    let (v, up) = ctx
        .engine
        .finalize_and_upload(reference, remote, &ctx.bars, ctx.cancel)?;
    if let Some(u) = &up {
        ctx.out.note(&super::share::upload_line(u));
    }
    ctx.emit(&v, || {
        format!(
            "{} is {}, {}",
            v.label(),
            v.state.as_str(),
            super::share::upload_state_words(&v)
        )
    });
    Ok(ExitCode::SUCCESS)
}

pub fn publish(ctx: &mut Ctx<'_>, reference: &str) -> Result<ExitCode> {
    let v = ctx.engine.publish(reference)?;
    ctx.emit(&v, || format!("{} is {}", v.label(), v.state.as_str()));
    Ok(ExitCode::SUCCESS)
}
