//! Metadata, tags and descriptions.

use serde_json::{Map, Value};
use strata_core::names::{
    printable, validate_description, validate_meta_key, validate_tag, MAX_METADATA_BYTES,
};
use strata_core::{Error, Result, Version};
use strata_remote::log::Event;

use crate::writers::Wait;
use crate::Engine;

/// One `KEY[=JSON]` argument of `strata meta`.
#[derive(Clone, Debug, PartialEq)]
pub enum MetaOp {
    Set(String, Value),
    Remove(String),
}

impl MetaOp {
    /// `key=json` sets (a value that is not JSON is taken as a string), `key=` removes.
    pub fn parse(arg: &str) -> Result<Self> {
        let Some((k, v)) = arg.split_once('=') else {
            return Err(Error::invalid(format!("'{arg}' is not KEY=VALUE")));
        };
        let k = k.trim();
        if k.is_empty() {
            return Err(Error::invalid(format!(
                "'{}' has an empty key",
                printable(arg)
            )));
        }
        validate_meta_key(k)?;
        if v.is_empty() {
            return Ok(MetaOp::Remove(k.into()));
        }
        let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.into()));
        Ok(MetaOp::Set(k.into(), value))
    }
}

// Each change below is short: it waits up to `SHORT_WAIT` for another writer of the version, so
// many of them at once (a script setting keys in parallel) all land instead of mostly failing.
// Each re-reads the version under the lock and applies its change to what the catalog holds at
// that moment, inside the write transaction, so no one's key or tag is lost.
//
// Metadata, descriptions and tags describe a version; they are not its content (the manifest
// never changes once final), so they may change in any state. A change to a version shared on a
// remote is shared too (queued for `push` when the remote is out of reach), so the team sees it
// after `pull`.
impl Engine {
    /// Applies metadata changes and returns the resulting metadata.
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn meta(&mut self, reference: &str, ops: &[MetaOp]) -> Result<Map<String, Value>> {
        // Read or written, the same version: the one a change would reach.
        let v = self.resolve_for_change(reference)?;
        if ops.is_empty() {
            return Ok(v.metadata);
        }
        let (_lock, v) = self.lock_version(&v.id, "meta", Wait::Short, None)?;
        let m = self.catalog.write(|w| {
            let mut m = w.version(&v.id)?.metadata;
            apply_meta(&mut m, ops)?;
            w.set_metadata(&v.id, &m)?;
            Ok(m)
        })?;
        if let Some(remote) = Engine::shared_on(&v) {
            let mut set = Map::new();
            let mut removed = Vec::new();
            for op in ops {
                match op {
                    MetaOp::Set(k, val) => {
                        removed.retain(|r| r != k);
                        set.insert(k.clone(), val.clone());
                    }
                    MetaOp::Remove(k) => {
                        set.remove(k);
                        if !removed.contains(k) {
                            removed.push(k.clone());
                        }
                    }
                }
            }
            let id = v.id.clone();
            self.share(&remote, Event::Meta { id, set, removed })?;
        }
        Ok(m)
    }

    /// `+tag` adds, `-tag` removes (a bare tag adds). Still serialized with the version's other
    /// writers.
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn tag(&mut self, reference: &str, changes: &[String]) -> Result<Version> {
        let mut added: Vec<String> = Vec::new();
        let mut removed: Vec<String> = Vec::new();
        for c in changes {
            let (add, t) = match c.strip_prefix('-') {
                Some(t) => (false, t),
                None => (true, c.strip_prefix('+').unwrap_or(c)),
            };
            validate_tag(t)?;
            // The last word on a tag wins, as it would applied in order.
            added.retain(|a| a != t);
            removed.retain(|r| r != t);
            if add {
                added.push(t.to_string());
            } else {
                removed.push(t.to_string());
            }
        }
        let v = self.resolve_for_change(reference)?;
        let (_lock, v) = self.lock_version(&v.id, "tag", Wait::Short, None)?;
        self.catalog.write(|w| {
            for t in &added {
                w.add_tag(&v.id, t)?;
            }
            for t in &removed {
                w.remove_tag(&v.id, t)?;
            }
            Ok(())
        })?;
        if let Some(remote) = Engine::shared_on(&v).filter(|_| !changes.is_empty()) {
            let id = v.id.clone();
            self.share(&remote, Event::Tag { id, added, removed })?;
        }
        self.catalog.version(&v.id)
    }

    /// Sets a version's description.
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn describe(&mut self, reference: &str, description: &str) -> Result<Version> {
        validate_description(description)?;
        let v = self.resolve_for_change(reference)?;
        let (_lock, v) = self.lock_version(&v.id, "describe", Wait::Short, None)?;
        self.catalog
            .write(|w| w.set_description(&v.id, description))?;
        if let Some(remote) = Engine::shared_on(&v) {
            let event = Event::Describe {
                id: v.id.clone(),
                description: description.to_string(),
            };
            self.share(&remote, event)?;
        }
        self.catalog.version(&v.id)
    }
}

/// Applies `ops` to `m` in order; the result must stay within the size every catalog accepts.
pub(crate) fn apply_meta(m: &mut Map<String, Value>, ops: &[MetaOp]) -> Result<()> {
    for op in ops {
        match op {
            MetaOp::Set(k, val) => {
                m.insert(k.clone(), val.clone());
            }
            MetaOp::Remove(k) => {
                m.remove(k);
            }
        }
    }
    let size = serde_json::to_vec(&*m)
        .map_err(|e| Error::Internal(format!("metadata: {e}")))?
        .len();
    if size > MAX_METADATA_BYTES {
        return Err(Error::invalid(format!(
            "metadata of {size} bytes; at most {MAX_METADATA_BYTES}"
        )));
    }
    Ok(())
}
