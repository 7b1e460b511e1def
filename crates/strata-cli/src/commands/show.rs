use std::process::ExitCode;

use strata_core::time::format_ms;
use strata_core::Result;

use super::Ctx;
use crate::output::bytes;

pub fn show(ctx: &Ctx<'_>, reference: &str) -> Result<ExitCode> {
    let detail = ctx.engine.show(reference)?;
    let v = &detail.version;
    ctx.emit(v, || {
        let mut parents: Vec<String> = detail
            .parent_versions
            .iter()
            .map(|p| format!("{} ({})", p.label(), p.short_id()))
            .collect();
        parents.extend(
            detail
                .missing_parents
                .iter()
                .map(|p| format!("{p} (deleted)")),
        );
        let meta = if v.metadata.is_empty() {
            "-".to_string()
        } else {
            serde_json::to_string(&v.metadata).unwrap_or_default()
        };
        [
            format!("version:      {}", v.label()),
            format!("id:           {}", v.id),
            format!("state:        {}", v.state.as_str()),
            format!("upload:       {}", super::upload::upload_state_words(v)),
            format!("files:        {}", v.file_count),
            format!(
                "size:         {} ({} bytes)",
                bytes(v.total_bytes),
                v.total_bytes
            ),
            format!(
                "parents:      {}",
                if parents.is_empty() {
                    "-".into()
                } else {
                    parents.join(", ")
                }
            ),
            format!(
                "tags:         {}",
                if v.tags.is_empty() {
                    "-".into()
                } else {
                    v.tags.join(", ")
                }
            ),
            format!(
                "description:  {}",
                if v.description.is_empty() {
                    "-"
                } else {
                    &v.description
                }
            ),
            format!("metadata:     {meta}"),
            format!(
                "created:      {} by {}",
                format_ms(v.created_at),
                v.created_by
            ),
            format!(
                "finalized:    {}",
                v.finalized_at.map(format_ms).unwrap_or_else(|| "-".into())
            ),
            format!("manifest:     {}", v.manifest),
        ]
        .join("\n")
    });
    Ok(ExitCode::SUCCESS)
}

pub fn files(ctx: &Ctx<'_>, reference: &str, globs: &[String]) -> Result<ExitCode> {
    let entries = ctx.engine.files(reference, globs)?;
    ctx.emit(&entries, || {
        let mut s = String::with_capacity(entries.len() * 100);
        for e in &entries {
            s.push_str(&format!("{}\t{}\t{}\n", e.path, e.size, e.hash));
        }
        s
    });
    Ok(ExitCode::SUCCESS)
}
