//! Metadata, tags and descriptions.

use serde_json::{Map, Value};
use strata_core::{Error, Result, Version};

use crate::versions::validate_tag;
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

impl Engine {
    /// Applies metadata changes (drafts only) and returns the resulting metadata.
    pub fn meta(&mut self, reference: &str, ops: &[MetaOp]) -> Result<Map<String, Value>> {
        let v = self.resolve(reference)?;
        if ops.is_empty() {
            return Ok(v.metadata);
        }
        v.ensure_draft()?;
        let mut m = v.metadata.clone();
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
        self.catalog.write(|w| w.set_metadata(&v.id, &m))?;
        Ok(m)
    }

    /// `+tag` adds, `-tag` removes (a bare tag adds). Tags may change in any state: they label
    /// versions, they are not content.
    pub fn tag(&mut self, reference: &str, changes: &[String]) -> Result<Version> {
        let v = self.resolve(reference)?;
        let mut parsed = Vec::new();
        for c in changes {
            let (add, t) = match c.strip_prefix('-') {
                Some(t) => (false, t),
                None => (true, c.strip_prefix('+').unwrap_or(c)),
            };
            validate_tag(t)?;
            parsed.push((add, t.to_string()));
        }
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

    pub fn describe(&mut self, reference: &str, description: &str) -> Result<Version> {
        let v = self.resolve(reference)?;
        v.ensure_draft()?;
        self.catalog
            .write(|w| w.set_description(&v.id, description))?;
        self.catalog.version(&v.id)
    }
}
