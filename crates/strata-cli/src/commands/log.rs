//! The lineage as a text graph: one column per line of descent, `*` marks the version.

use std::process::ExitCode;

use strata_core::time::format_ms;
use strata_core::{Result, Version};

use super::Ctx;
use crate::output::bytes;

pub fn run(ctx: &Ctx<'_>, dataset: &str) -> Result<ExitCode> {
    let versions = ctx.engine.log(dataset)?;
    // Marked so the reader sees which version a plain `project/name` gets under the flags given.
    let named = ctx.engine.newest_of(dataset)?.map(|v| v.id);
    ctx.emit(&versions, || render(&versions, named.as_deref()));
    Ok(ExitCode::SUCCESS)
}

/// `versions` newest first. Each lane waits for a version id; a version takes the lane that waits
/// for it (or a new one) and hands it to its first parent; further parents open new lanes.
/// `named` is the version `project/name` resolves to, marked `<- project/name`.
pub fn render(versions: &[Version], named: Option<&str>) -> String {
    let mut lanes: Vec<Option<String>> = Vec::new();
    let mut out = String::new();
    let label_of = |id: &str| {
        versions
            .iter()
            .find(|v| v.id == id)
            .map(|v| v.semver.clone())
            .unwrap_or_else(|| id[..id.len().min(12)].to_string())
    };
    for v in versions {
        let col = match lanes.iter().position(|l| l.as_deref() == Some(&v.id)) {
            Some(c) => c,
            None => match lanes.iter().position(Option::is_none) {
                Some(c) => c,
                None => {
                    lanes.push(None);
                    lanes.len() - 1
                }
            },
        };
        // Other lanes waiting for this version join here.
        for (i, l) in lanes.iter_mut().enumerate() {
            if i != col && l.as_deref() == Some(&v.id) {
                *l = None;
            }
        }
        let mut graph = String::new();
        for (i, l) in lanes.iter().enumerate() {
            graph.push(if i == col {
                '*'
            } else if l.is_some() {
                '|'
            } else {
                ' '
            });
            graph.push(' ');
        }
        if col >= lanes.len() {
            graph.push_str("* ");
        }
        let mut line = format!(
            "{graph} {}  {}  {:<9} {:<11} {} files, {}  {}",
            v.semver,
            v.short_id(),
            v.state.as_str(),
            super::upload::where_word(v),
            v.file_count,
            bytes(v.total_bytes),
            format_ms(v.created_at)
        );
        if !v.tags.is_empty() {
            line.push_str(&format!("  [{}]", v.tags.join(", ")));
        }
        if named == Some(v.id.as_str()) {
            line.push_str(&format!("  <- {}", v.full_name()));
        }
        if v.parents.len() > 1 {
            let ps: Vec<String> = v.parents.iter().map(|p| label_of(p)).collect();
            line.push_str(&format!("  (merge of {})", ps.join(", ")));
        }
        out.push_str(line.trim_end());
        out.push('\n');
        lanes[col] = v.parents.first().cloned();
        for p in v.parents.iter().skip(1) {
            if !lanes.iter().any(|l| l.as_deref() == Some(p)) {
                match lanes.iter().position(Option::is_none) {
                    Some(i) => lanes[i] = Some(p.clone()),
                    None => lanes.push(Some(p.clone())),
                }
            }
        }
        while lanes.last().is_some_and(Option::is_none) {
            lanes.pop();
        }
    }
    out
}
