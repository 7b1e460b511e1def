//! remote add / list / remove / test / default / login / logout.

use std::process::ExitCode;

use strata_core::{Error, RemoteSpec, Result};

use super::Ctx;
use crate::args::RemoteAction;

pub fn run(ctx: &mut Ctx<'_>, action: RemoteAction) -> Result<ExitCode> {
    match action {
        RemoteAction::Add {
            name,
            url,
            default,
            endpoint,
            region,
            allow_http,
            allow_private_links,
        } => {
            let r = ctx.engine.remote_add(RemoteSpec {
                name,
                url,
                endpoint,
                region,
                allow_http,
                is_default: default,
            })?;
            if allow_private_links {
                ctx.engine.set_remote_private_links(&r.name, true)?;
            }
            let shown = Shown {
                spec: r,
                allow_private_links,
            };
            ctx.emit(&shown, || {
                format!(
                    "added remote {} → {}{}{}",
                    shown.spec.name,
                    shown.spec.url,
                    if shown.spec.is_default {
                        " (default)"
                    } else {
                        ""
                    },
                    if allow_private_links {
                        "; its links may reach private addresses"
                    } else {
                        ""
                    }
                )
            });
        }
        RemoteAction::Set {
            name,
            allow_private_links,
        } => {
            let Some(allow) = allow_private_links else {
                return Err(Error::invalid(
                    "nothing to change: give --allow-private-links true|false",
                ));
            };
            ctx.engine.set_remote_private_links(&name, allow)?;
            let doc = serde_json::json!({ "remote": name, "allow_private_links": allow });
            ctx.emit(&doc, || {
                if allow {
                    format!("links in versions from {name} may reach private addresses")
                } else {
                    format!("links in versions from {name} may reach public addresses only")
                }
            });
        }
        RemoteAction::List => {
            let all = ctx
                .engine
                .remotes()?
                .into_iter()
                .map(|spec| {
                    let allow_private_links = ctx.engine.remote_allows_private_links(&spec.name)?;
                    Ok(Shown {
                        spec,
                        allow_private_links,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            ctx.emit(&all, || {
                if all.is_empty() {
                    return "no remotes: add one with `strata remote add NAME URL`".into();
                }
                all.iter()
                    .map(|r| {
                        let mut line = format!("{:<16} {}", r.spec.name, r.spec.url);
                        if let Some(e) = &r.spec.endpoint {
                            line.push_str(&format!("  endpoint {e}"));
                        }
                        if r.allow_private_links {
                            line.push_str("  (links may reach private addresses)");
                        }
                        if r.spec.is_default {
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
            ctx.emit(&doc, || {
                format!("removed remote {name}; nothing in it was deleted")
            });
        }
        RemoteAction::Test { name } => {
            let p = ctx.engine.remote_test(name.as_deref())?;
            ctx.emit(&p, || {
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
        RemoteAction::Default { name, dataset } => {
            match &dataset {
                Some(d) => ctx.engine.set_dataset_remote(d, Some(&name))?,
                None => ctx.engine.set_default_remote(&name)?,
            }
            let doc = serde_json::json!({ "remote": name, "dataset": dataset });
            ctx.emit(&doc, || match &dataset {
                Some(d) => format!("{d} is shared through remote {name}"),
                None => format!("{name} is the default remote"),
            });
        }
        RemoteAction::Login { name } => {
            let fields = ctx.engine.login_fields(&name)?;
            let mut values = Vec::new();
            for (key, prompt, secret) in fields {
                values.push((key, read_value(prompt, secret)?));
            }
            let login = ctx.engine.remote_login(&name, &values)?;
            let kc = login.keychain;
            let doc = serde_json::json!({
                "remote": name,
                "stored": values.len(),
                "tested": login.probe.is_some(),
                "keychain": kc.code(),
            });
            ctx.emit(&doc, || {
                let tested = match &login.probe {
                    Some(p) => format!("the remote answers ({} ms)", p.millis),
                    None => "not tested: offline".into(),
                };
                format!(
                    "credentials for {name} are in the {} ({}); {tested}",
                    kc.name(),
                    kc.explain()
                )
            });
        }
        RemoteAction::Logout { name } => {
            let n = ctx.engine.remote_logout(&name)?;
            let doc = serde_json::json!({ "remote": name, "removed": n });
            ctx.emit(&doc, || {
                format!("removed {n} credentials of {name} from the OS keychain")
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A remote as `remote add` and `remote list` show it (credentials never included).
#[derive(serde::Serialize)]
struct Shown {
    #[serde(flatten)]
    spec: RemoteSpec,
    allow_private_links: bool,
}

/// One line from standard input; on a terminal, with a prompt and, for secrets, without echo.
fn read_value(prompt: &str, secret: bool) -> Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    let tty = std::io::stdin().is_terminal();
    if tty {
        eprint!("{prompt}: ");
        let _ = std::io::stderr().flush();
    }
    let _echo = (tty && secret).then(NoEcho::new);
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::invalid(format!("cannot read {prompt}: {e}")))?;
    if tty && secret {
        eprintln!();
    }
    let v = line.trim().to_string();
    if v.is_empty() {
        return Err(Error::invalid(format!(
            "no {prompt} given (one value per line on standard input)"
        )));
    }
    Ok(v)
}

/// Turns terminal echo off while it lives.
struct NoEcho(Option<libc::termios>);

impl NoEcho {
    fn new() -> Self {
        // SAFETY: tcgetattr/tcsetattr on fd 0 with a zeroed termios the call fills in.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return NoEcho(None);
            }
            let saved = t;
            t.c_lflag &= !libc::ECHO;
            libc::tcsetattr(0, libc::TCSANOW, &t);
            NoEcho(Some(saved))
        }
    }
}

impl Drop for NoEcho {
    fn drop(&mut self) {
        if let Some(t) = self.0 {
            // SAFETY: restores the settings read in `new`.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &t);
            }
        }
    }
}
