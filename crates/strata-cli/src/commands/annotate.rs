//! meta, tag, describe.

use std::process::ExitCode;

use strata_core::{Error, Result};
use strata_engine::MetaOp;

use super::Ctx;

pub fn meta(ctx: &mut Ctx<'_>, reference: &str, args: &[String]) -> Result<ExitCode> {
    // Bare KEYs read; KEY=VALUE writes.
    let (reads, writes): (Vec<&String>, Vec<&String>) = args.iter().partition(|a| !a.contains('='));
    let ops = writes
        .iter()
        .map(|a| MetaOp::parse(a))
        .collect::<Result<Vec<_>>>()?;
    let all = ctx.engine.meta(reference, &ops)?;
    if reads.is_empty() {
        ctx.emit(&all, || {
            serde_json::to_string_pretty(&all).unwrap_or_default()
        });
        return Ok(ExitCode::SUCCESS);
    }
    let mut picked = serde_json::Map::new();
    for k in reads {
        let v = all
            .get(k.as_str())
            .ok_or_else(|| Error::not_found("metadata key", k.clone()))?;
        picked.insert(k.clone(), v.clone());
    }
    ctx.emit(&picked, || {
        if picked.len() == 1 {
            picked
                .values()
                .next()
                .map(|v| v.to_string())
                .unwrap_or_default()
        } else {
            serde_json::to_string_pretty(&picked).unwrap_or_default()
        }
    });
    Ok(ExitCode::SUCCESS)
}

pub fn tag(ctx: &mut Ctx<'_>, reference: &str, changes: &[String]) -> Result<ExitCode> {
    let v = ctx.engine.tag(reference, changes)?;
    ctx.emit(&v.tags, || {
        if v.tags.is_empty() {
            format!("{}: no tags", v.label())
        } else {
            format!("{}: {}", v.label(), v.tags.join(", "))
        }
    });
    Ok(ExitCode::SUCCESS)
}

pub fn describe(ctx: &mut Ctx<'_>, reference: &str, description: &str) -> Result<ExitCode> {
    let v = ctx.engine.describe(reference, description)?;
    ctx.emit(&v, || format!("{}: {}", v.label(), v.description));
    Ok(ExitCode::SUCCESS)
}
