use std::process::ExitCode;

use strata_core::Result;

use super::Ctx;
use crate::output::bytes;

pub fn run(ctx: &Ctx<'_>, from: &str, to: &str) -> Result<ExitCode> {
    let d = ctx.engine.diff(from, to)?;
    ctx.emit(&d, || {
        let mut s = String::new();
        for e in &d.added {
            s.push_str(&format!("+ {} ({})\n", e.path, bytes(e.size)));
        }
        for e in &d.removed {
            s.push_str(&format!("- {} ({})\n", e.path, bytes(e.size)));
        }
        for m in &d.modified {
            s.push_str(&format!(
                "~ {} ({} → {})\n",
                m.path,
                bytes(m.old_size),
                bytes(m.new_size)
            ));
        }
        let t = &d.totals;
        s.push_str(&format!(
            "{} → {}: {} added ({}), {} removed ({}), {} modified ({}), {} unchanged\n",
            d.from.label(),
            d.to.label(),
            t.added,
            bytes(t.added_bytes),
            t.removed,
            bytes(t.removed_bytes),
            t.modified,
            bytes(t.modified_bytes),
            t.unchanged
        ));
        s
    });
    Ok(ExitCode::SUCCESS)
}
