//! Glob patterns over dataset paths. A pattern with no `/` matches a file name anywhere
//! (`*.jpg`), like .gitignore; one with `/` matches the whole path (`train/**`).

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct PathFilter {
    whole: GlobSet,
    names: GlobSet,
    empty: bool,
}

impl PathFilter {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self> {
        let mut whole = GlobSetBuilder::new();
        let mut names = GlobSetBuilder::new();
        for p in patterns {
            let p = p.as_ref().trim_start_matches("./");
            let glob = GlobBuilder::new(p.trim_start_matches('/'))
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| Error::invalid(format!("invalid glob '{p}': {}", e.kind())))?;
            if p.contains('/') {
                whole.add(glob);
            } else {
                names.add(glob);
            }
        }
        let build = |b: GlobSetBuilder| b.build().map_err(|e| Error::invalid(e.to_string()));
        Ok(PathFilter {
            whole: build(whole)?,
            names: build(names)?,
            empty: patterns.is_empty(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.empty
    }

    pub fn matches(&self, path: &str) -> bool {
        if self.whole.is_match(path) {
            return true;
        }
        if self.names.is_empty() {
            return false;
        }
        // A name pattern also matches a directory on the way, so `remove REF cats` drops `cats/**`.
        let mut rest = path;
        loop {
            let (head, tail) = match rest.split_once('/') {
                Some((h, t)) => (h, Some(t)),
                None => (rest, None),
            };
            if self.names.is_match(head) {
                return true;
            }
            match tail {
                Some(t) => rest = t,
                None => return false,
            }
        }
    }
}

/// An include list (empty = everything) minus an exclude list.
#[derive(Clone, Debug)]
pub struct Selection {
    include: PathFilter,
    exclude: PathFilter,
}

impl Selection {
    pub fn new<S: AsRef<str>>(include: &[S], exclude: &[S]) -> Result<Self> {
        Ok(Selection {
            include: PathFilter::new(include)?,
            exclude: PathFilter::new(exclude)?,
        })
    }

    pub fn everything() -> Self {
        Selection::new::<&str>(&[], &[]).expect("empty pattern lists always build")
    }

    pub fn matches(&self, path: &str) -> bool {
        (self.include.is_empty() || self.include.matches(path)) && !self.exclude.matches(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_patterns_match_anywhere_and_path_patterns_match_whole() {
        let f = PathFilter::new(&["*.jpg"]).unwrap();
        assert!(f.matches("train/cat/1.jpg"));
        assert!(!f.matches("train/cat/1.png"));
        let f = PathFilter::new(&["train/**"]).unwrap();
        assert!(f.matches("train/cat/1.jpg"));
        assert!(!f.matches("val/cat/1.jpg"));
        let f = PathFilter::new(&["train/*.csv"]).unwrap();
        assert!(f.matches("train/a.csv"));
        assert!(!f.matches("train/x/a.csv"));
        let f = PathFilter::new(&["cat"]).unwrap();
        assert!(f.matches("train/cat/1.jpg"));
    }

    #[test]
    fn bad_glob_is_an_error() {
        assert!(PathFilter::new(&["a[b"]).is_err());
    }
}
