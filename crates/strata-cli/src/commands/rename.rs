use std::process::ExitCode;

use strata_core::Result;

use super::Ctx;

pub fn rename(ctx: &mut Ctx<'_>, dataset: &str, new_name: &str) -> Result<ExitCode> {
    let to = ctx.engine.rename(dataset, new_name)?;
    ctx.emit(&to, || format!("renamed {dataset} → {to}"));
    Ok(ExitCode::SUCCESS)
}

pub fn relocate(ctx: &mut Ctx<'_>, dataset: &str, new_project: &str) -> Result<ExitCode> {
    let to = ctx.engine.move_dataset(dataset, new_project)?;
    ctx.emit(&to, || format!("moved {dataset} → {to}"));
    Ok(ExitCode::SUCCESS)
}
