//! remote add / list / remove / test.

use std::process::ExitCode;

use strata_core::{Error, RemoteSpec, Result};

use super::Ctx;
use crate::args::RemoteAction;

pub fn run(ctx: &mut Ctx<'_>, action: RemoteAction, offline: bool) -> Result<ExitCode> {
    match action {
        RemoteAction::Add {
            name,
            url,
            default,
            endpoint,
            region,
            allow_http,
        } => {
            let r = ctx.engine.remote_add(RemoteSpec {
                name,
                url,
                endpoint,
                region,
                allow_http,
                is_default: default,
            })?;
            ctx.out.emit(&r, || {
                format!(
                    "added remote {} → {}{}",
                    r.name,
                    r.url,
                    if r.is_default { " (default)" } else { "" }
                )
            });
        }
        RemoteAction::List => {
            let all = ctx.engine.remotes()?;
            ctx.out.emit(&all, || {
                if all.is_empty() {
                    return "no remotes: add one with `strata remote add NAME URL`".into();
                }
                all.iter()
                    .map(|r| {
                        let mut line = format!("{:<16} {}", r.name, r.url);
                        if let Some(e) = &r.endpoint {
                            line.push_str(&format!("  endpoint {e}"));
                        }
                        if r.is_default {
                            line.push_str("  (default)");
                        }
                        line
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        RemoteAction::Remove { name } => {
            ctx.engine.remote_remove(&name)?;
            let doc = serde_json::json!({ "removed": name });
            ctx.out.emit(&doc, || {
                format!("removed remote {name}; nothing in it was deleted")
            });
        }
        RemoteAction::Test { name } => {
            if offline {
                return Err(Error::invalid(
                    "--offline forbids network use, and testing a remote needs it",
                ));
            }
            let p = ctx.engine.remote_test(name.as_deref())?;
            ctx.out.emit(&p, || {
                format!(
                    "remote {} answers ({} ms){}",
                    p.remote,
                    p.millis,
                    if p.writable {
                        "; writes work"
                    } else {
                        "; read-only"
                    }
                )
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
