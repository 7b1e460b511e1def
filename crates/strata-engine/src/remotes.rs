//! Remotes in the catalog: add, list, remove, and test a connection.

use strata_core::remote::validate_remote_name;
use strata_core::{Error, RemoteSpec, Result};
use strata_remote::{connect, probe, Location, Probe};

use crate::Engine;

impl Engine {
    /// Records a remote after checking its URL; the first one added becomes the default.
    pub fn remote_add(&mut self, spec: RemoteSpec) -> Result<RemoteSpec> {
        validate_remote_name(&spec.name)?;
        Location::parse(&spec.url)?;
        if let Some(e) = &spec.endpoint {
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                return Err(Error::invalid(format!(
                    "endpoint '{e}' must start with http:// or https://"
                )));
            }
            if e.starts_with("http://") && !spec.allow_http {
                return Err(Error::invalid(format!(
                    "endpoint '{e}' is plain HTTP: pass --allow-http if that is intended"
                )));
            }
        }
        self.catalog.write(|w| w.add_remote(&spec))?;
        self.remote(Some(&spec.name))
    }

    pub fn remotes(&self) -> Result<Vec<RemoteSpec>> {
        self.catalog.remotes()
    }

    /// A remote by name, or the default one.
    pub fn remote(&self, name: Option<&str>) -> Result<RemoteSpec> {
        let all = self.catalog.remotes()?;
        match name {
            Some(n) => all
                .into_iter()
                .find(|r| r.name == n)
                .ok_or_else(|| Error::not_found("remote", n)),
            None => all.into_iter().find(|r| r.is_default).ok_or_else(|| {
                Error::invalid("no remote yet: add one with `strata remote add NAME URL`")
            }),
        }
    }

    pub fn remote_remove(&mut self, name: &str) -> Result<()> {
        self.catalog.write(|w| w.remove_remote(name))
    }

    /// Connects and writes, reads back and removes a test object.
    pub fn remote_test(&self, name: Option<&str>) -> Result<Probe> {
        let spec = self.remote(name)?;
        let connected = connect(&spec)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("async runtime: {e}")))?;
        rt.block_on(probe(&connected))
    }
}
