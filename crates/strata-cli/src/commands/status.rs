use std::path::Path;
use std::process::ExitCode;

use strata_core::Result;
use strata_engine::STATUS_PATHS;

use super::Ctx;

/// Exits 0 whether or not the folder has changes: a change is not a failure.
pub fn run(ctx: &Ctx<'_>, folder: &Path, dataset: &str) -> Result<ExitCode> {
    let s = ctx.engine.status(dataset, folder, &ctx.bars, ctx.cancel)?;
    ctx.emit(&s, || {
        let mut out = format!(
            "{} added, {} modified, {} removed against {}\n",
            s.added,
            s.modified,
            s.removed,
            s.against.as_deref().unwrap_or("no version yet"),
        );
        for (tag, paths) in [
            ("A", &s.added_paths),
            ("M", &s.modified_paths),
            ("D", &s.removed_paths),
        ] {
            for p in paths {
                out.push_str(&format!("{tag} {p}\n"));
            }
        }
        if s.truncated {
            out.push_str(&format!("(each list stops at {STATUS_PATHS} paths)\n"));
        }
        out
    });
    Ok(ExitCode::SUCCESS)
}
