use std::process::ExitCode;

use strata_core::time::format_ms;
use strata_core::Result;

use super::Ctx;
use crate::args::CacheAction;
use crate::output::{bytes, parse_size};

pub fn run(ctx: &mut Ctx<'_>, action: Option<CacheAction>) -> Result<ExitCode> {
    match action.unwrap_or(CacheAction::List) {
        CacheAction::List => {
            let r = ctx.engine.cache_list_versions()?;
            ctx.emit(&r, || {
                let mut s = String::new();
                for v in &r.versions {
                    let held = &v.holdings;
                    s.push_str(&format!(
                        "{:<32} {:<8} {:>6}/{} files {:>10}/{}{}{}\n",
                        v.version,
                        held.local,
                        held.local_files,
                        held.files,
                        bytes(held.local_bytes),
                        bytes(held.bytes),
                        match (&v.remote, held.local.as_str()) {
                            (Some(r), "complete") => format!("  also on '{r}'"),
                            (Some(r), _) => format!("  rest on '{r}' (fetched on get)"),
                            (None, _) => "  only here".into(),
                        },
                        if v.copies.is_empty() {
                            String::new()
                        } else {
                            format!("  {} read-only copies", v.copies.len())
                        }
                    ));
                }
                if !r.versions.is_empty() {
                    s.push('\n');
                }
                for c in &r.copies {
                    s.push_str(&format!(
                        "{:<32} {:>8} files {:>10}  used {}{}\n   {}\n",
                        c.meta.label,
                        c.meta.files,
                        bytes(c.meta.bytes),
                        format_ms(c.last_used),
                        if c.pinned { "  pinned" } else { "" },
                        c.path.display()
                    ));
                }
                s.push_str(&format!(
                    "{} cached copies; the cache takes {} on disk\n",
                    r.copies.len(),
                    bytes(r.disk_bytes)
                ));
                s
            });
        }
        CacheAction::Evict { max_size } => {
            let max = parse_size(&max_size)?;
            let r = ctx.engine.cache_evict(max)?;
            ctx.emit(&r, || {
                format!(
                    "evicted {} copies; the cache takes {} on disk",
                    r.evicted.len(),
                    bytes(r.disk_bytes)
                )
            });
        }
        CacheAction::Pin { reference } => {
            let v = ctx.engine.cache_pin(&reference, true)?;
            ctx.emit(&v, || format!("pinned {}", v.label()));
        }
        CacheAction::Unpin { reference } => {
            let v = ctx.engine.cache_pin(&reference, false)?;
            ctx.emit(&v, || format!("unpinned {}", v.label()));
        }
    }
    Ok(ExitCode::SUCCESS)
}
