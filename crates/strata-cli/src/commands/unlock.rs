//! `unlock`: a writer lock released by hand.

use std::process::ExitCode;

use strata_core::Result;

use super::Ctx;

pub fn unlock(ctx: &Ctx<'_>, reference: &str) -> Result<ExitCode> {
    let who = ctx.engine.unlock(reference)?;
    let doc = serde_json::json!({ "released": who });
    ctx.emit(&doc, || match &who {
        Some(w) => format!("released the lock held by {w}"),
        None => "no lock was held".into(),
    });
    Ok(ExitCode::SUCCESS)
}
