use std::process::ExitCode;

use strata_core::Result;
use strata_engine::CreateRequest;

use super::Ctx;

pub fn run(ctx: &mut Ctx<'_>, dataset: &str, request: CreateRequest) -> Result<ExitCode> {
    let v = ctx.engine.create(dataset, &request)?;
    ctx.out.note(&format!(
        "created draft {} with {} files",
        v.label(),
        v.file_count
    ));
    ctx.emit(&v, || v.id.clone());
    Ok(ExitCode::SUCCESS)
}

pub fn squash(ctx: &mut Ctx<'_>, dataset: &str, references: &[String]) -> Result<ExitCode> {
    let v = ctx.engine.squash(dataset, references)?;
    ctx.out.note(&format!(
        "squashed {} versions into {} ({} files)",
        references.len(),
        v.label(),
        v.file_count
    ));
    ctx.emit(&v, || v.id.clone());
    Ok(ExitCode::SUCCESS)
}
