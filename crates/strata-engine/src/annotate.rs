//! Metadata, tags and descriptions.

use serde_json::{Map, Value};
use strata_core::names::validate_tag;
use strata_core::{Error, Result, Version};

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
            return Err(Error::invalid(format!("'{arg}' has an empty key")));
        }
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
impl Engine {
    /// Applies metadata changes (drafts only) and returns the resulting metadata.
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn meta(&mut self, reference: &str, ops: &[MetaOp]) -> Result<Map<String, Value>> {
        if ops.is_empty() {
            return Ok(self.resolve_for_change(reference)?.metadata);
        }
        let (_lock, v) = self.lock_draft(reference, "meta", Wait::Short, None)?;
        self.catalog.write(|w| {
            let cur = w.version(&v.id)?;
            cur.ensure_draft()?;
            let mut m = cur.metadata;
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
            w.set_metadata(&v.id, &m)?;
            Ok(m)
        })
    }

    /// `+tag` adds, `-tag` removes (a bare tag adds). Tags may change in any state: they label
    /// versions, they are not content. Still serialized with the version's other writers.
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn tag(&mut self, reference: &str, changes: &[String]) -> Result<Version> {
        let mut parsed = Vec::new();
        for c in changes {
            let (add, t) = match c.strip_prefix('-') {
                Some(t) => (false, t),
                None => (true, c.strip_prefix('+').unwrap_or(c)),
            };
            validate_tag(t)?;
            parsed.push((add, t.to_string()));
        }
        let v = self.resolve_for_change(reference)?;
        let (_lock, v) = self.lock_version(&v.id, "tag", Wait::Short, None)?;
        self.catalog.write(|w| {
            for (add, t) in &parsed {
                if *add {
                    w.add_tag(&v.id, t)?;
                } else {
                    w.remove_tag(&v.id, t)?;
                }
            }
            Ok(())
        })?;
        self.catalog.version(&v.id)
    }

    /// Sets a draft's description.
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn describe(&mut self, reference: &str, description: &str) -> Result<Version> {
        let (_lock, v) = self.lock_draft(reference, "describe", Wait::Short, None)?;
        self.catalog.write(|w| {
            w.version(&v.id)?.ensure_draft()?;
            w.set_description(&v.id, description)
        })?;
        self.catalog.version(&v.id)
    }
}
