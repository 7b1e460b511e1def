//! `upload` and `push`, and how an upload and a version's place on a remote are told.

use std::process::ExitCode;

use strata_core::{Result, UploadState, Version};
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
