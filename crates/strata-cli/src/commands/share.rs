//! upload, push, pull, and gc on a remote.

use std::process::ExitCode;

use strata_core::{Error, Result, UploadState, Version};
use strata_engine::UploadOutcome;

use super::Ctx;
use crate::output::bytes;

/// "uploaded vision/cats@1.0.1 to team: 12 objects (3.1 MB) sent, 20000 (180 MB) already there"
pub fn upload_line(u: &UploadOutcome) -> String {
    if u.already_uploaded {
        return format!("{} is already on {}", u.version, u.remote);
    }
    let mut s = format!(
        "uploaded {} to {}: {} objects ({}) sent, {} ({}) already there",
        u.uploaded.join(", "),
        u.remote,
        u.sent_objects,
        bytes(u.sent_bytes),
        u.skipped_objects,
        bytes(u.skipped_bytes)
    );
    if let Some(from) = &u.renumbered_from {
        s.push_str(&format!(
            "\nnote: {from} was taken on {} meanwhile; this version is now {}",
            u.remote, u.version
        ));
    }
    s
}

/// A short column for listings: where the version is.
pub fn where_word(v: &Version) -> &'static str {
    match v.upload_state {
        UploadState::Local => "local",
        UploadState::Pending => "pending",
        UploadState::Uploading => "uploading",
        UploadState::Uploaded => "uploaded",
        UploadState::Remote => "remote-only",
    }
}

pub fn upload_state_words(v: &Version) -> String {
    let on = v.remote.as_deref().unwrap_or("its remote");
    match v.upload_state {
        UploadState::Local => "local only".into(),
        UploadState::Pending => format!("waiting to be uploaded to {on} (`strata push`)"),
        UploadState::Uploading => format!("upload to {on} interrupted (`strata upload` resumes)"),
        UploadState::Uploaded => format!("uploaded to {on}"),
        UploadState::Remote => format!("remote-only on {on} (`strata get` fetches it)"),
    }
}

pub fn upload(ctx: &mut Ctx<'_>, reference: &str, remote: Option<&str>) -> Result<ExitCode> {
    let u = ctx
        .engine
        .upload(reference, remote, &ctx.bars, ctx.cancel)?;
    ctx.emit(&u, || upload_line(&u));
    Ok(ExitCode::SUCCESS)
}

pub fn push(ctx: &mut Ctx<'_>, remote: Option<&str>) -> Result<ExitCode> {
    let p = ctx.engine.push(remote, &ctx.bars, ctx.cancel)?;
    ctx.emit(&p, || {
        let mut s = if p.uploaded.is_empty() && p.events == 0 {
            "nothing waiting to be pushed".to_string()
        } else {
            format!(
                "pushed {} versions ({} sent) and {} catalog changes{}{}",
                p.uploaded.len(),
                bytes(p.sent_bytes),
                p.events,
                if p.uploaded.is_empty() { "" } else { ": " },
                p.uploaded.join(", ")
            )
        };
        for r in &p.renumbered {
            s.push_str(&format!(
                "\nnote: {} {} was taken meanwhile; yours is now {}",
                r.dataset, r.from, r.to
            ));
        }
        s
    });
    Ok(ExitCode::SUCCESS)
}

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

pub fn gc(ctx: &mut Ctx<'_>, remote: &str, dry_run: bool, grace: &str) -> Result<ExitCode> {
    let grace = humantime::parse_duration(grace)
        .map_err(|e| Error::invalid(format!("invalid --grace '{grace}': {e} (e.g. 24h, 30m)")))?;
    let r = ctx
        .engine
        .gc_remote(Some(remote), dry_run, grace, &ctx.bars)?;
    ctx.emit(&r, || {
        let mut s = format!(
            "{} {} objects ({}) from {}; {} live versions; {} unreferenced objects kept (younger than the grace period)",
            if dry_run { "would remove" } else { "removed" },
            r.objects_removed,
            bytes(r.bytes_removed),
            r.remote,
            r.live_versions,
            r.kept_young
        );
        if !r.refused.is_empty() {
            s.push_str(&format!(
                "; kept what {} unreadable log entries name",
                r.refused.len()
            ));
        }
        s
    });
    Ok(ExitCode::SUCCESS)
}
