use std::process::ExitCode;

use strata_core::time::format_ms;
use strata_core::Result;

use super::Ctx;
use crate::output::bytes;

pub fn run(ctx: &Ctx<'_>, filter: Option<&str>, tags: &[String], all: bool) -> Result<ExitCode> {
    if all {
        let vs = ctx.engine.list_versions(filter, tags)?;
        ctx.emit(&vs, || {
            let mut s = String::new();
            for v in &vs {
                s.push_str(&format!(
                    "{}  {:<32} {:<9} {:<11} {:>8} files {:>10}  {}  {}\n",
                    v.short_id(),
                    v.label(),
                    v.state.as_str(),
                    super::upload::where_word(v),
                    v.file_count,
                    bytes(v.total_bytes),
                    format_ms(v.created_at),
                    v.tags.join(",")
                ));
            }
            if vs.is_empty() {
                s.push_str("no versions\n");
            }
            s
        });
    } else {
        let ds = ctx.engine.list(filter, tags)?;
        ctx.emit(&ds, || {
            let mut s = String::new();
            for d in &ds {
                let latest = d
                    .latest
                    .as_ref()
                    .map(|v| {
                        format!(
                            "{:<9} {:<9} {:<11} {:>8} files {:>10}  {}",
                            v.semver,
                            v.state.as_str(),
                            super::upload::where_word(v),
                            v.file_count,
                            bytes(v.total_bytes),
                            v.tags.join(",")
                        )
                    })
                    .unwrap_or_else(|| "(no versions)".into());
                s.push_str(&format!(
                    "{:<32} {:>3} version{}  {latest}\n",
                    format!("{}/{}", d.project, d.name),
                    d.version_count,
                    if d.version_count == 1 { " " } else { "s" }
                ));
            }
            if ds.is_empty() {
                s.push_str("no datasets yet: try `strata snapshot PROJECT/NAME FOLDER`\n");
            }
            s
        });
    }
    Ok(ExitCode::SUCCESS)
}
