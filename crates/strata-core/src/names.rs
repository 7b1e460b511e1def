//! Dataset names (`project/name`, projects may nest) and references to versions.

use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::version::State;

/// `team/vision/cats` → project `team/vision`, name `cats`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct DatasetName {
    pub project: String,
    pub name: String,
}

/// Longest `project/name` accepted, in bytes: names become folder names and catalog keys.
pub const MAX_DATASET_NAME: usize = 255;
/// Longest single segment (a project level or the name), in bytes.
pub const MAX_SEGMENT: usize = 100;
/// Deepest project nesting (`a/b/c/.../name`).
pub const MAX_DEPTH: usize = 16;

impl DatasetName {
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim_matches('/');
        if s.len() > MAX_DATASET_NAME {
            return Err(Error::invalid(format!(
                "dataset name is {} bytes long; at most {MAX_DATASET_NAME} are allowed",
                s.len()
            )));
        }
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
    if project.split('/').count() >= MAX_DEPTH {
        return Err(Error::invalid(format!(
            "project '{}' is nested too deep; at most {} levels",
            printable(project),
            MAX_DEPTH - 1
        )));
    }
    for seg in project.split('/') {
        validate_segment(seg, "project name")?;
    }
    Ok(())
}

/// Letters, digits, `-`, `_`, `.` and spaces; not starting with `.` so names never look like
/// relative paths (`..` included), and short enough to be a folder name everywhere.
pub fn validate_segment(seg: &str, what: &str) -> Result<()> {
    let ok = !seg.is_empty()
        && seg.len() <= MAX_SEGMENT
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
            "invalid {what} '{}': use up to {MAX_SEGMENT} letters, digits, '-', '_', '.' (not first) or spaces",
            printable(seg)
        )))
    }
}

/// Length of a version id: 128 random bits in lowercase hex, as Strata makes them.
pub const VERSION_ID_LEN: usize = 32;

/// Checks that `id` has exactly the shape Strata gives version ids. Ids name cache folders and
/// lock files, so one read from elsewhere must never be able to say `..` or `/`: call this
/// wherever an id that did not come from this machine is used, and before an id becomes a path.
pub fn validate_version_id(id: &str) -> Result<()> {
    let ok = id.len() == VERSION_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "'{}' is not a version id (expected {VERSION_ID_LEN} lowercase hex characters)",
            printable(id)
        )))
    }
}

/// Longest tag, in bytes.
pub const MAX_TAG: usize = 128;

/// Up to 128 printable characters, no commas (tags are listed comma-separated).
/// A name the home turns into a file or folder name (a lock, a cached copy): letters, digits,
/// `-` and `_` only, so that nothing read from a catalog, a bucket or a session can name a path
/// outside its folder.
pub fn validate_file_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= 200
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "'{}' cannot name a file in the home",
            printable(key)
        )))
    }
}

pub fn validate_tag(t: &str) -> Result<()> {
    if t.is_empty() || t.chars().any(|c| c.is_control() || c == ',') || t.len() > MAX_TAG {
        return Err(Error::invalid(format!(
            "invalid tag '{}': use up to {MAX_TAG} printable characters, no commas",
            printable(t)
        )));
    }
    Ok(())
}

/// Longest metadata key, in bytes.
pub const MAX_META_KEY: usize = 256;
/// Largest metadata object of one version (as JSON) and longest description, in bytes: generous
/// for real use, small enough that no version makes a catalog row or a listing unreasonably large.
pub const MAX_METADATA_BYTES: usize = 256 << 10;
pub const MAX_DESCRIPTION: usize = 64 << 10;

/// A metadata key as `strata meta KEY=VALUE` can write it: up to 256 bytes, no control
/// characters, no `=` (it ends the key), no spaces around it (they are trimmed off).
pub fn validate_meta_key(k: &str) -> Result<()> {
    let ok = !k.is_empty()
        && k.len() <= MAX_META_KEY
        && k.trim() == k
        && !k.chars().any(|c| c.is_control() || c == '=');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "invalid metadata key '{}': use up to {MAX_META_KEY} printable characters, no '='",
            printable(k)
        )))
    }
}

pub fn validate_description(d: &str) -> Result<()> {
    if d.len() > MAX_DESCRIPTION {
        return Err(Error::invalid(format!(
            "description of {} bytes; at most {MAX_DESCRIPTION}",
            d.len()
        )));
    }
    Ok(())
}

/// `s` made safe to quote in a one-line message: control characters escaped, long input cut.
pub fn printable(s: &str) -> String {
    const SHOWN: usize = 80;
    let mut out: String = s
        .chars()
        .take(SHOWN)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if s.chars().nth(SHOWN).is_some() {
        out.push('…');
    }
    out
}

/// What a REF on the command line or in the app points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    /// A version id or a unique prefix of one (at least 4 hex characters).
    Id(String),
    /// The newest version of a dataset that the [`Resolution`] in force admits.
    Latest(DatasetName),
    /// One semantic version of a dataset.
    Exact(DatasetName, semver::Version),
    /// The newest version of a dataset carrying a tag.
    Tagged(DatasetName, String),
}

/// Which versions `project/name` may stand for. A training job that says `vision/cats` must
/// never read a draft someone is still editing, so the default passes drafts over; reaching one
/// takes an explicit choice (its id, `@SEMVER`, a tag, or [`Resolution::IncludeDrafts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The newest final or published version.
    #[default]
    Settled,
    /// The newest version in any state, drafts included.
    IncludeDrafts,
    /// The newest published version.
    Published,
}

impl Resolution {
    /// Whether a version in `state` may be what `project/name` stands for.
    pub fn admits(self, state: State) -> bool {
        match self {
            Resolution::Settled => state != State::Draft,
            Resolution::IncludeDrafts => true,
            Resolution::Published => state == State::Published,
        }
    }

    /// Whether a version in `state` may be what `project/name:TAG` stands for: a tag is an
    /// explicit choice, so it reaches a draft too, unless only published versions count.
    pub fn admits_tagged(self, state: State) -> bool {
        match self {
            Resolution::Published => state == State::Published,
            _ => true,
        }
    }
}

impl Reference {
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        // Dataset names hold no ':', so the first one ends the name; the tag may hold anything
        // a tag may (an '@' included).
        if let Some((name, tag)) = s.split_once(':') {
            if name.contains('/') {
                validate_tag(tag)?;
                return Ok(Reference::Tagged(
                    DatasetName::parse(name)?,
                    tag.to_string(),
                ));
            }
        }
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
            "'{}' is not a reference; use a version id (or 4+ of its first characters), \
             PROJECT/NAME, PROJECT/NAME@X.Y.Z or PROJECT/NAME:TAG",
            printable(s)
        )))
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Id(id) => f.write_str(id),
            Reference::Latest(d) => write!(f, "{d}"),
            Reference::Exact(d, v) => write!(f, "{d}@{v}"),
            Reference::Tagged(d, t) => write!(f, "{d}:{t}"),
        }
    }
}

/// Longest semantic version accepted, in bytes (pre-release and build labels included).
pub const MAX_SEMVER: usize = 64;
/// Highest major, minor or patch number: far above any real use, and far enough below
/// `u64::MAX` that the next number always exists.
pub const MAX_SEMVER_PART: u64 = u32::MAX as u64;

/// Parses a semantic version. `1` and `1.0` (how ClearML users type versions) mean `1.0.0`;
/// anything else must be a full `X.Y.Z` (pre-release and build labels allowed).
pub fn parse_semver(s: &str) -> Result<semver::Version> {
    let shown = printable(s);
    if s.len() > MAX_SEMVER {
        return Err(Error::invalid(format!(
            "invalid semantic version '{shown}': longer than {MAX_SEMVER} characters"
        )));
    }
    let t = s.trim();
    let parts = t.split('.').count();
    let short = parts < 3
        && t.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let full = if short {
        format!("{t}{}", ".0".repeat(3 - parts))
    } else {
        t.to_string()
    };
    let v = semver::Version::parse(&full).map_err(|e| {
        Error::invalid(format!(
            "invalid semantic version '{shown}': {e} (expected X.Y.Z, e.g. 1.2.0; 1.2 and 1 mean \
             1.2.0 and 1.0.0)"
        ))
    })?;
    if [v.major, v.minor, v.patch]
        .iter()
        .any(|n| *n > MAX_SEMVER_PART)
    {
        return Err(Error::invalid(format!(
            "invalid semantic version '{shown}': numbers above {MAX_SEMVER_PART} are not supported"
        )));
    }
    Ok(v)
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
        assert_eq!(
            Reference::parse("v/c@1.2").unwrap(),
            Reference::Exact(
                DatasetName::parse("v/c").unwrap(),
                semver::Version::new(1, 2, 0)
            )
        );
        assert!(Reference::parse("abc").is_err());
        assert!(Reference::parse("cats").is_err());
        assert!(DatasetName::parse("v/../x").is_err());
    }

    #[test]
    fn names_that_could_leave_a_folder_are_refused() {
        for bad in [
            "../x",
            "a/..",
            "/../../etc/passwd",
            "a/b\u{0}c",
            "a/b\nc",
            "a/\u{1b}[2Jx",
            "a/b/../../c",
            "a/.hidden",
        ] {
            assert!(DatasetName::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("p/{}", "x".repeat(MAX_SEGMENT + 1));
        assert!(DatasetName::parse(&long).is_err());
        let deep = format!("{}x", "a/".repeat(MAX_DEPTH));
        assert!(DatasetName::parse(&deep).is_err());
        assert!(DatasetName::parse("team/vision/cats v2").is_ok());
    }

    #[test]
    fn version_ids_are_exactly_32_lowercase_hex() {
        assert!(validate_version_id("0123456789abcdef0123456789abcdef").is_ok());
        for bad in [
            "",
            "../../x",
            "/etc/passwd",
            "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            "0123456789abcdef0123456789abcdeg",
            "0123456789abcdef/123456789abcdef",
        ] {
            assert!(validate_version_id(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn semvers_are_bounded_so_the_next_one_exists() {
        assert!(parse_semver("1.0.18446744073709551615").is_err());
        assert!(parse_semver("1.0.99999999999999999999999").is_err());
        assert!(parse_semver(&format!("1.0.0-{}", "a".repeat(80))).is_err());
        assert_eq!(parse_semver("4294967295.0.1").unwrap().major, 4294967295);
        assert!(parse_semver("1.2.3-rc.1").is_ok());
    }

    #[test]
    fn messages_quote_hostile_text_on_one_line() {
        assert_eq!(printable("a\nb"), "a\\nb");
        assert!(printable(&"x".repeat(500)).chars().count() <= 81);
    }

    #[test]
    fn file_keys_never_name_another_folder() {
        for good in ["0123456789abcdef0123456789abcdef", "ds-7f3a", "a_b-c"] {
            assert!(validate_file_key(good).is_ok(), "{good}");
        }
        for bad in ["", "../x", "/etc/x", "a/b", "a.b", "a\nb", &"k".repeat(201)] {
            assert!(validate_file_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_tag_follows_the_first_colon() {
        let cats = DatasetName::parse("vision/cats").unwrap();
        assert_eq!(
            Reference::parse("vision/cats:best").unwrap(),
            Reference::Tagged(cats.clone(), "best".into())
        );
        // A tag may hold ':' and '@'; the name before it never does.
        assert_eq!(
            Reference::parse("vision/cats:run:7@night").unwrap(),
            Reference::Tagged(cats.clone(), "run:7@night".into())
        );
        assert_eq!(
            Reference::parse("vision/cats:best").unwrap().to_string(),
            "vision/cats:best"
        );
        for bad in [
            "vision/cats:",
            "vision/cats:a,b",
            "vision/cats:a\nb",
            &format!("vision/cats:{}", "t".repeat(MAX_TAG + 1)),
            "vision/../cats:best",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} was accepted");
        }
        // No '/' before the colon: not a dataset name, so not a tagged reference either.
        assert!(Reference::parse("cats:best").is_err());
    }

    #[test]
    fn short_versions_mean_their_zero_padded_form() {
        assert_eq!(parse_semver("1").unwrap(), semver::Version::new(1, 0, 0));
        assert_eq!(parse_semver("2.1").unwrap(), semver::Version::new(2, 1, 0));
        assert_eq!(
            parse_semver(" 3.4 ").unwrap(),
            semver::Version::new(3, 4, 0)
        );
        assert_eq!(
            parse_semver("1.2.3").unwrap(),
            semver::Version::new(1, 2, 3)
        );
        for bad in [
            "", "1.", ".1", "1..2", "v1", "1.x", "1.0-rc", "one", "1.2.3.4", "-1",
        ] {
            let e = parse_semver(bad).expect_err(bad);
            assert!(
                e.to_string().contains("invalid semantic version"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn the_default_resolution_never_reaches_a_draft() {
        use State::*;
        assert!(!Resolution::Settled.admits(Draft));
        assert!(Resolution::Settled.admits(Final) && Resolution::Settled.admits(Published));
        assert!(Resolution::IncludeDrafts.admits(Draft));
        assert!(!Resolution::Published.admits(Final));
        assert!(Resolution::Settled.admits_tagged(Draft));
        assert!(!Resolution::Published.admits_tagged(Draft));
    }
}
