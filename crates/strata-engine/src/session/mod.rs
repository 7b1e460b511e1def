//! Offline sessions as one file: `export` writes versions (drafts included) with their lineage,
//! tags, metadata and content into a single file; `import` brings one into any home.
//!
//! # The file
//! A POSIX tar archive (`tar tvf` lists it), its members in this order:
//! 1. `strata-session.json`: the [`Header`]: format and its version, who made it and when, and
//!    the version records, parents before children;
//! 2. `manifests/<hash>`: each version's manifest (the list of paths, sizes and content hashes);
//! 3. `objects/<hash>`: each piece of content once, named by its BLAKE3 hash.
//!
//! Everything is content-addressed, so import checks every part against its name: a manifest or
//! object whose bytes do not hash to its name, a record that fails the checks a pulled version
//! gets (names, numbers, bounds, paths that could leave a folder), a member not in this list, or
//! a file that ends before every object a version needs arrived, stops the import with a one-line
//! reason and nothing imported. Objects land in the store first and the versions in one catalog
//! transaction last, so a killed import leaves no version behind (what it stored is reused by
//! the next attempt, or removed by `gc`).

mod archive;
mod export;
mod import;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use strata_core::names::printable;
use strata_core::{Hash, State, Version};
use strata_remote::log::VersionFields;

pub use export::ExportOutcome;
pub use import::{ImportOutcome, ImportRequest, ImportedVersion};

/// What `format` says in every session file.
pub const FORMAT: &str = "strata-session";
/// The newest layout read; a reader refuses a newer one instead of misreading it. 2: manifests
/// may hold files stored in pieces (their pieces travel as objects). A session without such files
/// is still written as 1, so a Strata from before pieces reads it.
pub const FORMAT_VERSION: u32 = 2;
/// The layout of a session none of whose files is stored in pieces.
pub const FORMAT_VERSION_WHOLE: u32 = 1;
/// The first member's name.
const HEADER_NAME: &str = "strata-session.json";
/// Largest header read: records are bounded (see [`SessionVersion::check`]), so this allows
/// thousands of versions with generous metadata while refusing a planted giant.
const MAX_HEADER_BYTES: u64 = 256 << 20;
/// Most versions one session carries.
const MAX_VERSIONS: usize = 100_000;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub created_at: i64,
    pub created_by: String,
    /// Parents first, so every version's parents are either earlier in the list or already in
    /// the receiving home.
    pub versions: Vec<SessionVersion>,
    /// Content objects in the file, and their bytes (progress and a plausibility check).
    pub objects: u64,
    pub object_bytes: u64,
}

/// One version as a session carries it: everything the catalog holds of it except where it is
/// shared (remote names are a home's own).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SessionVersion {
    pub id: String,
    /// `project/name`.
    pub dataset: String,
    pub semver: String,
    pub parents: Vec<String>,
    /// `draft`, `final` or `published`.
    pub state: String,
    pub manifest: Hash,
    pub file_count: u64,
    pub total_bytes: u64,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub created_at: i64,
    pub created_by: String,
    pub finalized_at: Option<i64>,
}

impl SessionVersion {
    fn of(v: &Version) -> Self {
        SessionVersion {
            id: v.id.clone(),
            dataset: v.full_name(),
            semver: v.semver.clone(),
            parents: v.parents.clone(),
            state: v.state.as_str().to_string(),
            manifest: v.manifest,
            file_count: v.file_count,
            total_bytes: v.total_bytes,
            tags: v.tags.clone(),
            description: v.description.clone(),
            metadata: v.metadata.clone(),
            created_at: v.created_at,
            created_by: v.created_by.clone(),
            finalized_at: v.finalized_at,
        }
    }

    fn label(&self) -> String {
        format!("{}@{}", printable(&self.dataset), printable(&self.semver))
    }

    /// Checks every field as a pulled version's are checked (the same checks): `Err` is a
    /// one-line reason. A session may carry drafts: any state this Strata knows.
    fn check(&self) -> std::result::Result<(), String> {
        VersionFields {
            id: &self.id,
            dataset: &self.dataset,
            semver: &self.semver,
            parents: &self.parents,
            file_count: self.file_count,
            total_bytes: self.total_bytes,
            tags: &self.tags,
            description: &self.description,
            metadata: &self.metadata,
            created_at: self.created_at,
            finalized_at: self.finalized_at,
            created_by: &self.created_by,
        }
        .check()?;
        State::parse(&self.state).map_err(|e| e.to_string())?;
        Ok(())
    }
}

impl Header {
    /// Checks the header as a whole: its format, every record, no id or number twice, and
    /// parents before children (so there is no cycle). Parents outside the session are
    /// returned: the receiving home must already have them.
    fn check(&self) -> std::result::Result<Vec<String>, String> {
        if self.format != FORMAT {
            return Err("it is not a Strata session file".into());
        }
        if self.version > FORMAT_VERSION {
            return Err(format!(
                "it was written in session format {}, newer than this Strata reads ({FORMAT_VERSION}); update Strata",
                self.version
            ));
        }
        if self.versions.len() > MAX_VERSIONS {
            return Err(format!(
                "{} versions; at most {MAX_VERSIONS}",
                self.versions.len()
            ));
        }
        let all: HashSet<&str> = self.versions.iter().map(|v| v.id.as_str()).collect();
        let mut seen = HashSet::new();
        let mut numbers = HashSet::new();
        let mut outside = Vec::new();
        for v in &self.versions {
            v.check()
                .map_err(|e| format!("version {}: {e}", printable(&v.id)))?;
            for p in &v.parents {
                if !seen.contains(p.as_str()) && !outside.contains(p) {
                    if all.contains(p.as_str()) {
                        return Err(format!("version {} comes before its parent {p}", v.label()));
                    }
                    outside.push(p.clone());
                }
            }
            if !seen.insert(v.id.as_str()) {
                return Err(format!("version {} is listed twice", v.id));
            }
            if !numbers.insert((v.dataset.as_str(), v.semver.as_str())) {
                return Err(format!("two versions are numbered {}", v.label()));
            }
        }
        Ok(outside)
    }
}

/// A member's name → what it holds.
enum MemberKind {
    Manifest(Hash),
    Object(Hash),
}

fn member_kind(name: &str) -> Option<MemberKind> {
    let hash = |hex: &str| {
        (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Hash::from_hex(hex).ok())
            .flatten()
    };
    if let Some(hex) = name.strip_prefix("manifests/") {
        return hash(hex).map(MemberKind::Manifest);
    }
    name.strip_prefix("objects/")
        .and_then(hash)
        .map(MemberKind::Object)
}

fn manifest_member(h: &Hash) -> String {
    format!("manifests/{}", h.to_hex())
}

fn object_member(h: &Hash) -> String {
    format!("objects/{}", h.to_hex())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: char, parents: &[char]) -> SessionVersion {
        SessionVersion {
            id: id.to_string().repeat(32),
            dataset: "p/d".into(),
            semver: format!("1.0.{}", id as u32 - 'a' as u32),
            parents: parents.iter().map(|c| c.to_string().repeat(32)).collect(),
            state: "final".into(),
            manifest: Hash::of(b""),
            file_count: 0,
            total_bytes: 0,
            tags: vec![],
            description: String::new(),
            metadata: Default::default(),
            created_at: 1,
            created_by: "me@here".into(),
            finalized_at: None,
        }
    }

    fn header(versions: Vec<SessionVersion>) -> Header {
        Header {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            created_at: 1,
            created_by: "me@here".into(),
            versions,
            objects: 0,
            object_bytes: 0,
        }
    }

    #[test]
    fn parents_outside_the_session_are_what_the_home_must_have() {
        let h = header(vec![record('a', &['f']), record('b', &['a', 'e'])]);
        let outside = h.check().unwrap();
        assert_eq!(outside, vec!["f".repeat(32), "e".repeat(32)]);
    }

    #[test]
    fn a_child_before_its_parent_or_a_cycle_is_refused() {
        let h = header(vec![record('b', &['a']), record('a', &[])]);
        assert!(h.check().unwrap_err().contains("before its parent"));
        let h = header(vec![record('a', &['b']), record('b', &['a'])]);
        assert!(h.check().is_err());
    }

    #[test]
    fn bad_records_are_refused_with_their_reason() {
        let mut r = record('a', &[]);
        r.dataset = "../x".into();
        assert!(header(vec![r]).check().is_err());
        let mut r = record('a', &[]);
        r.semver = "01.0.0".into();
        assert!(header(vec![r]).check().is_err());
        let mut r = record('a', &[]);
        r.state = "shipped".into();
        assert!(header(vec![r]).check().is_err());
        let mut r = record('a', &[]);
        r.tags = vec!["a,b".into()];
        assert!(header(vec![r]).check().is_err());
        let mut h = header(vec![]);
        h.version = FORMAT_VERSION + 1;
        assert!(h.check().unwrap_err().contains("update Strata"));
        let h = header(vec![record('a', &[]), record('a', &[])]);
        assert!(h.check().is_err());
    }

    #[test]
    fn member_names_are_exact() {
        let hex = Hash::of(b"x").to_hex();
        assert!(matches!(
            member_kind(&format!("objects/{hex}")),
            Some(MemberKind::Object(_))
        ));
        assert!(member_kind(&format!("objects/{}", hex.to_uppercase())).is_none());
        assert!(member_kind(&format!("objects/../{hex}")).is_none());
        assert!(member_kind("objects/").is_none());
        assert!(member_kind(&format!("manifests/{hex}x")).is_none());
    }
}
