//! Dataset names (`project/name`, projects may nest) and references to versions.

use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};

/// `team/vision/cats` → project `team/vision`, name `cats`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct DatasetName {
    pub project: String,
    pub name: String,
}

impl DatasetName {
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim_matches('/');
        let Some((project, name)) = s.rsplit_once('/') else {
            return Err(Error::invalid(format!(
                "'{s}' is not a dataset name; use PROJECT/NAME, e.g. vision/cats"
            )));
        };
        validate_project(project)?;
        validate_segment(name, "dataset name")?;
        Ok(DatasetName {
            project: project.to_string(),
            name: name.to_string(),
        })
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.project, self.name)
    }
}

pub fn validate_project(project: &str) -> Result<()> {
    if project.is_empty() {
        return Err(Error::invalid("project name is empty"));
    }
    for seg in project.split('/') {
        validate_segment(seg, "project name")?;
    }
    Ok(())
}

/// Letters, digits, `-`, `_`, `.` and spaces; not starting with `.` so names never look like
/// relative paths.
pub fn validate_segment(seg: &str, what: &str) -> Result<()> {
    let ok = !seg.is_empty()
        && !seg.starts_with('.')
        && !seg.starts_with(' ')
        && !seg.ends_with(' ')
        && seg
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "invalid {what} '{seg}': use letters, digits, '-', '_', '.' (not first) or spaces"
        )))
    }
}

/// What a REF on the command line or in the app points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    /// A version id or a unique prefix of one (at least 4 hex characters).
    Id(String),
    /// The highest semantic version of a dataset.
    Latest(DatasetName),
    /// One semantic version of a dataset.
    Exact(DatasetName, semver::Version),
}

impl Reference {
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if let Some((name, ver)) = s.split_once('@') {
            return Ok(Reference::Exact(
                DatasetName::parse(name)?,
                parse_semver(ver)?,
            ));
        }
        if s.contains('/') {
            return Ok(Reference::Latest(DatasetName::parse(s)?));
        }
        let lower = s.to_ascii_lowercase();
        if lower.len() >= 4 && lower.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(Reference::Id(lower));
        }
        Err(Error::invalid(format!(
            "'{s}' is not a reference; use a version id (or 4+ of its first characters), \
             PROJECT/NAME or PROJECT/NAME@X.Y.Z"
        )))
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Id(id) => f.write_str(id),
            Reference::Latest(d) => write!(f, "{d}"),
            Reference::Exact(d, v) => write!(f, "{d}@{v}"),
        }
    }
}

pub fn parse_semver(s: &str) -> Result<semver::Version> {
    semver::Version::parse(s.trim()).map_err(|e| {
        Error::invalid(format!(
            "invalid semantic version '{s}': {e} (expected X.Y.Z, e.g. 1.2.0)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_projects_split_at_the_last_slash() {
        let d = DatasetName::parse("team/vision/cats").unwrap();
        assert_eq!(d.project, "team/vision");
        assert_eq!(d.name, "cats");
    }

    #[test]
    fn references_parse_by_shape() {
        assert!(matches!(
            Reference::parse("a1b2c3").unwrap(),
            Reference::Id(_)
        ));
        assert!(matches!(
            Reference::parse("v/c").unwrap(),
            Reference::Latest(_)
        ));
        assert!(matches!(
            Reference::parse("v/c@1.2.3").unwrap(),
            Reference::Exact(..)
        ));
        assert!(Reference::parse("v/c@1.2").is_err());
        assert!(Reference::parse("abc").is_err());
        assert!(Reference::parse("cats").is_err());
        assert!(DatasetName::parse("v/../x").is_err());
    }
}
