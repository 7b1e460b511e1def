//! `finalize` (with `--upload`) and `publish`.

use std::process::ExitCode;

use strata_core::Result;

use super::Ctx;

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
        ctx.out.note(&super::upload::upload_line(u));
    }
    ctx.emit(&v, || {
        format!(
            "{} is {}, {}",
            v.label(),
            v.state.as_str(),
            super::upload::upload_state_words(&v)
        )
    });
    Ok(ExitCode::SUCCESS)
}

pub fn publish(ctx: &mut Ctx<'_>, reference: &str) -> Result<ExitCode> {
    let v = ctx.engine.publish(reference)?;
    ctx.emit(&v, || format!("{} is {}", v.label(), v.state.as_str()));
    Ok(ExitCode::SUCCESS)
}
