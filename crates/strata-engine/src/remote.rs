//! Remotes in the catalog: add, list, remove, log in and out, test, choose the default or a
//! dataset's own.

use strata_core::error::Remedy;
use strata_core::remote::validate_remote_name;
use strata_core::{DatasetName, Error, RemoteSpec, Result};
use strata_remote::{connect, keychain, probe, Location, Probe};

use crate::runtime::block_on;

/// What `remote login` did: which keychain holds the credentials now, and the connection test
/// (none when offline).
#[derive(Clone, Debug)]
pub struct Login {
    pub keychain: keychain::Backend,
    pub probe: Option<Probe>,
}
use crate::Engine;

impl Engine {
    /// Records a remote after checking its URL; the first one added becomes the default.
    #[tracing::instrument(skip_all)]
    pub fn remote_add(&mut self, spec: RemoteSpec) -> Result<RemoteSpec> {
        validate_remote_name(&spec.name)?;
        Location::parse(&spec.url)?;
        if let Some(e) = &spec.endpoint {
            strata_remote::refuse_userinfo(e)?;
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                return Err(Error::invalid(format!(
                    "endpoint '{e}' must start with http:// or https://"
                )));
            }
            if e.starts_with("http://") && !spec.allow_http {
                return Err(Error::invalid(format!(
                    "endpoint '{e}' is plain HTTP, which was not allowed"
                ))
                .with_remedy(Remedy::AllowHttp));
            }
        }
        self.catalog.write(|w| w.add_remote(&spec))?;
        Ok(self.remote(Some(&spec.name))?.redacted())
    }

    /// Remotes as they may be shown: never a credential, even one stored in a URL long ago.
    pub fn remotes(&self) -> Result<Vec<RemoteSpec>> {
        Ok(self
            .catalog
            .remotes()?
            .iter()
            .map(RemoteSpec::redacted)
            .collect())
    }

    /// Whether links that arrive from `name`'s bucket may reach loopback, link-local and private
    /// addresses (`remote add --allow-private-links`).
    pub fn remote_allows_private_links(&self, name: &str) -> Result<bool> {
        self.remote(Some(name))?;
        self.catalog.remote_allows_private_links(name)
    }

    /// Lets links from `name`'s bucket reach private addresses, or stops them.
    pub fn set_remote_private_links(&mut self, name: &str, allow: bool) -> Result<()> {
        self.remote(Some(name))?;
        self.catalog
            .write(|w| w.set_remote_private_links(name, allow))
    }

    /// A remote by name, or the default one.
    pub fn remote(&self, name: Option<&str>) -> Result<RemoteSpec> {
        let all = self.catalog.remotes()?;
        match name {
            Some(n) => all
                .into_iter()
                .find(|r| r.name == n)
                .ok_or_else(|| Error::not_found("remote", n)),
            None => all
                .into_iter()
                .find(|r| r.is_default)
                .ok_or_else(|| Error::invalid("no remote yet").with_remedy(Remedy::AddRemote)),
        }
    }

    #[tracing::instrument(skip_all, fields(name = %name))]
    pub fn remote_remove(&mut self, name: &str) -> Result<()> {
        self.catalog.write(|w| w.remove_remote(name))?;
        keychain::forget(name)?;
        Ok(())
    }

    /// The credentials `remote login` asks for: (key, prompt, secret?).
    pub fn login_fields(&self, name: &str) -> Result<Vec<(&'static str, &'static str, bool)>> {
        let spec = self.remote(Some(name))?;
        Ok(match Location::parse(&spec.url)? {
            Location::S3 { .. } => vec![
                ("ACCESS_KEY_ID", "Access key id", false),
                ("SECRET_ACCESS_KEY", "Secret access key", true),
            ],
            Location::Azure { .. } => vec![
                ("ACCOUNT_NAME", "Storage account name", false),
                ("ACCOUNT_KEY", "Storage account key", true),
            ],
            Location::Gcs { .. } => vec![("SERVICE_ACCOUNT", "Service account JSON file", false)],
            Location::Folder(_) | Location::Http(_) => {
                return Err(Error::invalid(format!(
                    "remote '{name}' ({}) needs no credentials",
                    spec.redacted().url
                )))
            }
        })
    }

    /// Stores credentials in the OS keychain, then checks them with a test write unless offline;
    /// credentials the remote refuses are not kept.
    #[tracing::instrument(skip_all, fields(name = %name))]
    pub fn remote_login(&self, name: &str, values: &[(&str, String)]) -> Result<Login> {
        self.remote(Some(name))?;
        let mut keychain = keychain::backend();
        for (k, v) in values {
            keychain = keychain::save(name, k, v.trim())?;
        }
        if self.offline {
            return Ok(Login {
                keychain,
                probe: None,
            });
        }
        match self.remote_test(Some(name)) {
            Ok(p) => Ok(Login {
                keychain,
                probe: Some(p),
            }),
            Err(e) => {
                keychain::forget(name)?;
                Err(e)
            }
        }
    }

    /// Removes a remote's credentials from the OS keychain; returns how many there were.
    #[tracing::instrument(skip_all, fields(name = %name))]
    pub fn remote_logout(&self, name: &str) -> Result<usize> {
        self.remote(Some(name))?;
        keychain::forget(name)
    }

    /// Makes `name` the default remote.
    pub fn set_default_remote(&mut self, name: &str) -> Result<()> {
        self.remote(Some(name))?;
        self.catalog.write(|w| w.set_default_remote(name))
    }

    /// Connects and writes, reads back and removes a test object.
    #[tracing::instrument(skip_all, fields(name = ?name))]
    pub fn remote_test(&self, name: Option<&str>) -> Result<Probe> {
        let connected = self.connect_to(name, None)?;
        block_on(probe(&connected))?
    }

    /// Whether the default remote answers now, for the app's "unreachable" badge: one HEAD of
    /// the bucket's Strata folder (nothing written, unlike `remote_test`), given up after
    /// `within` so a dead network costs seconds, not the transfer retries. `Ok(None)`: no remote,
    /// or offline (the switch forbids the network, probes included).
    pub fn default_remote_answers(
        &self,
        within: std::time::Duration,
    ) -> Result<Option<(String, Result<u64>)>> {
        let Ok(spec) = self.remote(None) else {
            return Ok(None);
        };
        if self.offline {
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let answer = connect(&spec).and_then(|c| {
            let key = strata_remote::Layout::new(&c.prefix).dir("log");
            block_on(async {
                match tokio::time::timeout(within, c.size_of(&key)).await {
                    Ok(r) => r.map(|_| ()),
                    Err(_) => Err(Error::remote_failure(
                        &spec.name,
                        strata_core::error::Kind::Unavailable,
                        format!("no answer within {} s", within.as_secs()),
                    )),
                }
            })?
        });
        Ok(Some((
            spec.name.clone(),
            answer.map(|_| started.elapsed().as_millis() as u64),
        )))
    }

    /// The remote a dataset is shared through when it is not the default one.
    pub fn dataset_remote(&self, dataset: &str) -> Result<Option<String>> {
        self.catalog.dataset_remote(&DatasetName::parse(dataset)?)
    }

    /// Shares a dataset through `remote` instead of the default (`None`: back to the default).
    pub fn set_dataset_remote(&mut self, dataset: &str, remote: Option<&str>) -> Result<()> {
        let d = DatasetName::parse(dataset)?;
        if let Some(r) = remote {
            self.remote(Some(r))?;
        }
        self.catalog.write(|w| w.set_dataset_remote(&d, remote))
    }
}
