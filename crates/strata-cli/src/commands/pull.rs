//! `pull`: the remote catalog brought up to date.

use std::process::ExitCode;

use strata_core::Result;

use super::Ctx;

/// Skipped log entries and kept local versions were already reported on stderr, one warning
/// line each, as the pull met them; the summary only counts them.
pub fn pull(ctx: &mut Ctx<'_>, remote: Option<&str>) -> Result<ExitCode> {
    let p = ctx.engine.pull(remote, &ctx.bars)?;
    ctx.emit(&p, || {
        let mut s = format!(
            "pulled {} events from {}: {} new versions, {} deleted",
            p.events,
            p.remote,
            p.new_versions.len(),
            p.deleted
        );
        if !p.refused.is_empty() {
            s.push_str(&format!(", {} skipped", p.refused.len()));
        }
        if !p.kept_local.is_empty() {
            s.push_str(&format!(
                ", {} local versions kept (not shared there)",
                p.kept_local.len()
            ));
        }
        for v in &p.new_versions {
            s.push_str(&format!("\n  + {v}"));
        }
        for r in &p.renumbered {
            s.push_str(&format!(
                "\nnote: your {} {} is now {}: a team member's version took {} first",
                r.dataset, r.from, r.to, r.from
            ));
        }
        s
    });
    Ok(ExitCode::SUCCESS)
}
