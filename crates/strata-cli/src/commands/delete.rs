use std::process::ExitCode;

use strata_core::{Error, Result};

use super::Ctx;

pub fn run(ctx: &mut Ctx<'_>, reference: &str, force: bool, all: bool) -> Result<ExitCode> {
    if all {
        if reference.contains('@') {
            return Err(Error::invalid(
                "--all deletes a whole dataset: give PROJECT/NAME without @VERSION",
            ));
        }
        let gone = ctx.engine.delete_dataset(reference)?;
        ctx.emit(&gone, || {
            format!(
                "deleted dataset {reference} ({} versions); `strata gc` frees their content",
                gone.len()
            )
        });
    } else {
        let v = ctx.engine.delete(reference, force)?;
        ctx.emit(&v, || {
            format!("deleted {}; `strata gc` frees its content", v.label())
        });
    }
    Ok(ExitCode::SUCCESS)
}
