use std::path::Path;
use std::process::ExitCode;

use strata_core::Result;

use super::{change_line, Ctx};

/// `upload`: `Some(remote)` to upload the result (`Some(None)`: the usual remote).
pub fn run(
    ctx: &mut Ctx<'_>,
    dataset: &str,
    folder: &Path,
    tags: &[String],
    upload: Option<Option<String>>,
) -> Result<ExitCode> {
    let mut c = ctx
        .engine
        .snapshot(dataset, folder, tags, &ctx.bars, ctx.cancel)?;
    if let Some(remote) = upload {
        let (v, up) =
            ctx.engine
                .upload_or_queue(&c.version, remote.as_deref(), &ctx.bars, ctx.cancel)?;
        if let Some(u) = &up {
            ctx.out.note(&super::upload::upload_line(u));
        }
        c.version = v;
    }
    if c.created {
        ctx.out.note(&format!("created {}", change_line(&c)));
    } else {
        ctx.out.note(&format!(
            "no changes since {}; no new version",
            c.version.label()
        ));
    }
    ctx.emit(&c, || c.version.id.clone());
    Ok(ExitCode::SUCCESS)
}
