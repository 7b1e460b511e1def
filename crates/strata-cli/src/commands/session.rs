//! `export` and `import`: offline sessions carried between homes as one file.

use std::path::Path;
use std::process::ExitCode;

use strata_core::Result;
use strata_engine::ImportRequest;

use super::Ctx;
use crate::output::bytes as human_bytes;

pub fn export(
    ctx: &mut Ctx<'_>,
    what: &[String],
    output: &Path,
    since: Option<&str>,
) -> Result<ExitCode> {
    let o = ctx
        .engine
        .export(what, since, output, &ctx.bars, ctx.cancel)?;
    ctx.emit(&o, || {
        let mut s = format!(
            "exported {} versions ({} objects, {}) to {}",
            o.versions.len(),
            o.objects,
            human_bytes(o.object_bytes),
            o.path.display()
        );
        for v in &o.versions {
            s.push_str(&format!("\n  {v}"));
        }
        s
    });
    Ok(ExitCode::SUCCESS)
}

pub fn import(
    ctx: &mut Ctx<'_>,
    file: &Path,
    upload: bool,
    finalize: bool,
    remote: Option<String>,
) -> Result<ExitCode> {
    let req = ImportRequest {
        finalize,
        upload,
        remote,
    };
    let o = ctx.engine.import(file, &req, &ctx.bars, ctx.cancel)?;
    ctx.emit(&o, || {
        let new = o.versions.iter().filter(|v| !v.already_here).count();
        let mut s = if new == 0 {
            format!(
                "nothing new in {}: its {} versions are already here",
                file.display(),
                o.versions.len()
            )
        } else {
            format!(
                "imported {new} versions from {} ({} objects, {} new)",
                file.display(),
                o.new_objects,
                human_bytes(o.new_bytes)
            )
        };
        for v in &o.versions {
            let mut line = format!("\n  {}@{} {}", v.dataset, v.semver, v.state);
            if let Some(from) = &v.renumbered_from {
                line.push_str(&format!(" (was {from})"));
            }
            if v.uploaded {
                line.push_str(", uploaded");
            }
            if v.already_here {
                line.push_str(", already here");
            }
            s.push_str(&line);
        }
        s
    });
    Ok(ExitCode::SUCCESS)
}
