//! `snapshot`: a folder becomes the next final version of a dataset in one step.

use std::borrow::Cow;

use strata_core::manifest::EncodedEntries;
use strata_core::names::validate_tag;
use strata_core::{
    Cancel, Chunks, DatasetName, Diff, DiffTotals, Entry, Error, Hash, Manifest, Progress,
    Resolution, Result,
};
use strata_store::{ingest, Scan, Source, StatCache};

use crate::draft::Change;
use crate::naming::next_semver;
use crate::Engine;

/// What a watch's snapshot leaves out: files written after `settled_before` (ns since the
/// epoch), and the whole version when the folder holds exactly `placed`.
pub(crate) struct Watched {
    pub settled_before: i64,
    pub placed: Option<strata_core::Hash>,
}

impl Engine {
    /// One step: the folder becomes a final child of the dataset's newest final or published
    /// version (or its first version). Nothing is created when the folder equals that version.
    #[tracing::instrument(skip_all, fields(dataset = %dataset))]
    pub fn snapshot(
        &mut self,
        dataset: &str,
        folder: &std::path::Path,
        tags: &[String],
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Change> {
        match self.snapshot_settled(dataset, folder, tags, None, progress, cancel)? {
            (Some(change), _) => Ok(change),
            // Only files still being written are held back, and nothing is without a cutoff.
            (None, _) => Err(Error::Internal("a snapshot held every change back".into())),
        }
    }

    /// [`Engine::snapshot`] of what has settled: a file written or changed after
    /// `settled_before` (ns since the epoch) is held back, its previous content (if any) kept,
    /// and counted in the second value, for the next version to take. What a watch versions.
    /// `None` when every change is still being written: no version is made of what has not
    /// changed yet (not even a dataset's empty first version); `None` too when the folder holds
    /// exactly `placed` (what a `get --to` switched it to: a version that exists already).
    pub(crate) fn snapshot_settled(
        &mut self,
        dataset: &str,
        folder: &std::path::Path,
        tags: &[String],
        watched: Option<Watched>,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<(Option<Change>, u64)> {
        let d = DatasetName::parse(dataset)?;
        for t in tags {
            validate_tag(t)?;
        }
        let key = format!(
            "ds-{}",
            &blake3::hash(d.to_string().as_bytes()).to_hex()[..16]
        );
        let _lock = self.lock(&key, "snapshot", progress)?;
        let _guard = self.store.writer_guard()?;
        // The base is what `project/name` stands for by default (never a draft someone is
        // editing); the number follows the highest taken, drafts included, so none collides.
        let versions = self.catalog.versions_of(&d)?;
        let highest = versions.last().cloned();
        let latest = versions
            .into_iter()
            .rfind(|v| Resolution::Settled.admits(v.state));
        let (mut scan, held, mut cache) =
            self.scan_with_cache(folder, watched.as_ref().map(|w| w.settled_before), progress)?;
        let placed = watched.as_ref().and_then(|w| w.placed);
        // The newest version stays encoded (about 45 bytes a file) and is read one entry at a
        // time: decoded, a version of a million files would be a million `Entry`s held beside
        // the scan, the stat cache and the new entries, the largest part of a watch's peak.
        let base_bytes = match &latest {
            Some(l) => {
                let bytes = self.store.manifest_bytes(&l.manifest)?;
                if held.is_empty() && ingest::matches_encoded(&scan, &mut cache, &bytes)? {
                    // The folder is the newest version, file for file: nothing to read, store,
                    // build or encode.
                    cache.save(scan.complete)?;
                    let unchanged_files = scan.files.len() as u64;
                    scan.drop_aside();
                    if placed == Some(l.manifest) {
                        return Ok((None, 0));
                    }
                    let changes = DiffTotals {
                        unchanged: unchanged_files,
                        ..DiffTotals::default()
                    };
                    return Ok((Some(unchanged(l, changes)), 0));
                }
                Some(bytes)
            }
            None => None,
        };
        let complete = scan.complete;
        let held_n = held.len() as u64;
        let (new, got) = match &base_bytes {
            Some(bytes) => {
                let mut split = split_against(&mut scan, &held, &mut cache, bytes)?;
                drop(held);
                // Only what the base could not vouch for is left in the scan: read and stored.
                let mut got = ingest::ingest(
                    &self.store,
                    &mut scan,
                    &mut cache,
                    &std::mem::take(&mut split.rest_base),
                    progress,
                    cancel,
                )?;
                drop(scan);
                // Ingest returns one entry per file it was given, in their order: the order the
                // slots were taken in.
                for (slot, e) in split.slots.iter().zip(std::mem::take(&mut got.entries)) {
                    split.entries[*slot] = e;
                }
                (Manifest::from_sorted(split.entries), got)
            }
            None => {
                // A first version: every file is new to the dataset, and nothing is held back
                // but left out (there is no earlier content to keep for it).
                let mut got = ingest::ingest(
                    &self.store,
                    &mut scan,
                    &mut cache,
                    &Manifest::default(),
                    progress,
                    cancel,
                )?;
                drop(scan);
                // In the scan's order, which is path order: no sort (a stable sort of a
                // million entries takes a scratch copy of half of them).
                (Manifest::from_sorted(std::mem::take(&mut got.entries)), got)
            }
        };
        let new = match new {
            Ok(n) => n,
            Err(e) => {
                got.abort();
                return Err(e);
            }
        };
        // Saved now, not after the version is made: its rows (about 90 bytes a file) need not
        // sit beside the new manifest while it is encoded. Safe whatever follows: a cached hash
        // is trusted only for content the store holds, so a hash recorded for content a failure
        // then throws away is read again by the next ingest.
        if let Err(e) = cache.save(complete) {
            got.abort();
            return Err(e);
        }
        let held = held_n;
        let totals = match totals_against(base_bytes.as_deref(), &new) {
            Ok(t) => t,
            Err(e) => {
                got.abort();
                return Err(e);
            }
        };
        drop(base_bytes);
        // Encoding a manifest to hash it costs as much as the manifest is long: once each. The
        // base's hash is its version's manifest id (the empty manifest's when there is none).
        let new_hash = new.hash();
        let base_hash = latest
            .as_ref()
            .map_or_else(|| Manifest::default().hash(), |l| l.manifest);
        if (held > 0 && new_hash == base_hash) || placed == Some(new_hash) {
            got.abort();
            return Ok((None, held));
        }
        if let Some(l) = &latest {
            if new_hash == l.manifest {
                got.abort();
                let changes = Diff::default().totals(new.len());
                return Ok((Some(unchanged(l, changes)), held));
            }
        }
        let semver = match next_semver(highest.as_ref()) {
            Ok(s) => s,
            Err(e) => {
                got.abort();
                return Err(e);
            }
        };
        let parents: Vec<String> = latest.iter().map(|v| v.id.clone()).collect();
        let stats = (got.hashed_files, got.hashed_bytes, got.stored_bytes);
        let id = self.insert_final(
            &d,
            &semver,
            &parents,
            tags,
            "",
            &new,
            Some(got),
            Default::default(),
        )?;
        Ok((
            Some(Change {
                version: self.catalog.version(&id)?,
                created: true,
                changes: totals,
                hashed_files: stats.0,
                hashed_bytes: stats.1,
                stored_bytes: stats.2,
            }),
            held,
        ))
    }
}

/// The answer of a snapshot that made no version: the folder is `v`.
fn unchanged(v: &strata_core::Version, changes: DiffTotals) -> Change {
    Change {
        version: v.clone(),
        created: false,
        changes,
        hashed_files: 0,
        hashed_bytes: 0,
        stored_bytes: 0,
    }
}

/// A snapshot's entries as far as the base version vouches for them, and the files it cannot.
struct Split {
    /// One entry per settled file and per held-back file the base holds, in path order. The
    /// entries at `slots` are placeholders for the files left in the scan.
    entries: Vec<Entry>,
    /// Where the entries of the files left in the scan go, in the scan's order.
    slots: Vec<usize>,
    /// The base's entries at the paths of the files left in the scan (few: what changed).
    rest_base: Manifest,
}

/// Walks the scan, the held-back files and `base` (an encoded manifest) together in path order.
/// A file whose stat the cache vouches for and whose cached hash is the one `base` records at
/// its path (no link) keeps that entry, and its path moves from the scan into the entry; every
/// other file stays in `scan.files`, to be ingested, its entry left as a placeholder. A held-back
/// file keeps its entry in `base`, if it has one.
///
/// What ingest with `base` decoded would do, file for file (a file the base does not vouch for
/// is looked up in the store by ingest, as it would be there), without holding the base decoded
/// nor the scan's paths twice.
fn split_against(
    scan: &mut Scan,
    held: &[Source],
    cache: &mut StatCache,
    base: &[u8],
) -> Result<Split> {
    let files = std::mem::take(&mut scan.files);
    let mut base = BaseCursor::new(base)?;
    let mut held = held.iter().map(|f| scan.dataset_path(f)).peekable();
    let mut entries = Vec::with_capacity(files.len() + held.len());
    let mut slots = Vec::new();
    let mut rest = Vec::new();
    let mut rest_entries = Vec::new();
    cache.reserve(files.len());
    for f in files {
        let path = scan.dataset_path(&f);
        base.keep_held_before(Some(&path), &mut held, &mut entries)?;
        let at_path = base.cur.as_ref().filter(|b| b.path == path);
        let known = at_path
            .filter(|b| b.link.is_none())
            .filter(|b| cache.lookup(&f.rel, &f.stat) == Some(b.hash))
            .map(|b| (b.hash, b.chunks.clone()));
        // The base's entry of a file left to ingest goes with it: what ingest compares with (a
        // large file stored whole keeps its object if it reads the same).
        let rest_base = match (&known, at_path) {
            (None, Some(b)) => Some(Entry {
                link: b.link.as_deref().map(Box::from),
                chunks: b.chunks.clone(),
                ..Entry::new(b.path.clone(), b.size, b.hash)
            }),
            _ => None,
        };
        if at_path.is_some() {
            base.advance()?;
        }
        drop(path);
        match known {
            Some((hash, chunks)) => {
                cache.record(&f.rel, f.stat, hash, scan.started_ns);
                let path = if scan.prefix.is_empty() {
                    f.rel
                } else {
                    scan.dataset_path(&f).into_owned()
                };
                entries.push(Entry {
                    chunks,
                    ..Entry::new(path, f.stat.size, hash)
                });
            }
            None => {
                slots.push(entries.len());
                entries.push(Entry::new(String::new(), 0, Hash([0; 32])));
                rest.push(f);
                rest_entries.extend(rest_base);
            }
        }
    }
    base.keep_held_before(None, &mut held, &mut entries)?;
    scan.files = rest;
    Ok(Split {
        entries,
        slots,
        rest_base: Manifest::from_sorted(rest_entries)?,
    })
}

/// One entry of an encoded manifest, owned: its buffers are reused from entry to entry.
struct BaseEntry {
    path: String,
    size: u64,
    hash: Hash,
    link: Option<String>,
    chunks: Option<Chunks>,
}

/// The entries of an encoded manifest in order, the current one at hand.
struct BaseCursor<'a> {
    entries: EncodedEntries<'a>,
    cur: Option<BaseEntry>,
    /// The last entry's buffers, for the next one.
    spare: Option<BaseEntry>,
}

impl<'a> BaseCursor<'a> {
    fn new(bytes: &'a [u8]) -> Result<Self> {
        let mut c = BaseCursor {
            entries: EncodedEntries::new(bytes)?,
            cur: None,
            spare: None,
        };
        c.advance()?;
        Ok(c)
    }

    fn advance(&mut self) -> Result<()> {
        if let Some(old) = self.cur.take() {
            self.spare = Some(old);
        }
        if let Some(e) = self.entries.next_entry()? {
            let mut b = self.spare.take().unwrap_or(BaseEntry {
                path: String::new(),
                size: 0,
                hash: Hash([0; 32]),
                link: None,
                chunks: None,
            });
            b.path.clear();
            b.path.push_str(e.path);
            b.size = e.size;
            b.hash = *e.hash;
            b.link = e.link.map(str::to_string);
            b.chunks = match e.chunks {
                Some(c) => Some(Chunks::new(c.to_vec())?),
                None => None,
            };
            self.cur = Some(b);
        }
        Ok(())
    }

    /// Passes the entries before `limit` (all that are left without one): those of held-back
    /// files are kept in `out`, the others are files gone from the folder.
    fn keep_held_before<'h>(
        &mut self,
        limit: Option<&str>,
        held: &mut std::iter::Peekable<impl Iterator<Item = Cow<'h, str>>>,
        out: &mut Vec<Entry>,
    ) -> Result<()> {
        while let Some(b) = &self.cur {
            if limit.is_some_and(|l| b.path.as_str() >= l) {
                break;
            }
            while held.next_if(|h| h.as_ref() < b.path.as_str()).is_some() {}
            if held.next_if(|h| h.as_ref() == b.path.as_str()).is_some() {
                out.push(Entry {
                    link: b.link.as_deref().map(Box::from),
                    chunks: b.chunks.clone(),
                    ..Entry::new(b.path.clone(), b.size, b.hash)
                });
            }
            self.advance()?;
        }
        Ok(())
    }
}

/// [`Diff::totals_between`] of `base` (an encoded manifest; `None` for none) and `new`, reading
/// the base one entry at a time.
fn totals_against(base: Option<&[u8]>, new: &Manifest) -> Result<DiffTotals> {
    let mut t = DiffTotals::default();
    let mut next = new.entries().iter().peekable();
    let added = |t: &mut DiffTotals, e: &Entry| {
        t.added += 1;
        t.added_bytes = t.added_bytes.saturating_add(e.size);
    };
    if let Some(bytes) = base {
        let mut old = EncodedEntries::new(bytes)?;
        while let Some(o) = old.next_entry()? {
            while let Some(e) = next.next_if(|e| e.path.as_str() < o.path) {
                added(&mut t, e);
            }
            match next.next_if(|e| e.path == o.path) {
                Some(e) => {
                    if e.hash != *o.hash || e.size != o.size || e.link.as_deref() != o.link {
                        t.modified += 1;
                        t.modified_bytes = t.modified_bytes.saturating_add(e.size);
                    }
                }
                None => {
                    t.removed += 1;
                    t.removed_bytes = t.removed_bytes.saturating_add(o.size);
                }
            }
        }
    }
    for e in next {
        added(&mut t, e);
    }
    t.unchanged = (new.len() as u64).saturating_sub(t.added + t.modified);
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use strata_store::scan::{now_ns, stat_of};

    fn entry(path: &str, b: u8, link: Option<&str>) -> Entry {
        Entry {
            link: link.map(Box::from),
            ..Entry::new(path.into(), u64::from(b), Hash([b; 32]))
        }
    }

    /// A file of `b` bytes written long ago (the stat type is only had from a real one).
    fn source(rel: &str, b: u8) -> Source {
        let mut stat = stat_of(&std::fs::metadata(std::env::temp_dir()).unwrap());
        stat.size = u64::from(b);
        stat.mtime_ns = 1_000;
        stat.ctime_ns = 1_000;
        stat.ino = u64::from(b);
        Source {
            rel: rel.into(),
            stat,
        }
    }

    /// The split keeps what the base vouches for, leaves the rest to ingest, keeps a held-back
    /// file's previous content, and the totals read from the encoded base are those of the
    /// decoded one.
    #[test]
    fn the_base_vouches_only_for_unchanged_files_and_keeps_held_ones() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Path::new("/data/cats");
        let base = Manifest::from_entries(vec![
            entry("a", 1, None),
            entry("b", 2, None),
            entry("c", 3, None),
            entry("d", 4, None),
            entry("e", 5, Some("https://host/e")),
        ]);
        let mut cache = StatCache::load(dir.path(), folder);
        // `a` unchanged; `b` read since with other content; `e` a link in the base.
        for (rel, b, h) in [("a", 1, 1), ("b", 2, 9), ("e", 5, 5)] {
            cache.record(rel, source(rel, b).stat, Hash([h; 32]), 10_000_000_000);
        }
        let mut scan = Scan {
            root: folder.to_path_buf(),
            prefix: String::new(),
            files: vec![
                source("a", 1),
                source("b", 2),
                source("e", 5),
                source("f", 6),
            ],
            complete: false,
            started_ns: now_ns(),
        };
        let held = vec![source("c", 7), source("g", 8)];
        let bytes = base.encode();
        let mut split = split_against(&mut scan, &held, &mut cache, &bytes).unwrap();
        let paths: Vec<&str> = split.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a", "", "c", "", ""]);
        assert_eq!(split.entries[0], entry("a", 1, None));
        assert_eq!(
            split.entries[2],
            entry("c", 3, None),
            "held back: kept as it was"
        );
        assert_eq!(split.slots, [1, 3, 4]);
        let left: Vec<&str> = scan.files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(left, ["b", "e", "f"]);
        // What ingest would make of the files left.
        for (slot, e) in split.slots.iter().zip([
            entry("b", 9, None),
            entry("e", 5, None),
            entry("f", 6, None),
        ]) {
            split.entries[*slot] = e;
        }
        let new = Manifest::from_sorted(split.entries).unwrap();
        let totals = totals_against(Some(&bytes), &new).unwrap();
        assert_eq!(totals, Diff::totals_between(&base, &new));
        assert_eq!(
            (
                totals.added,
                totals.modified,
                totals.removed,
                totals.unchanged
            ),
            (1, 2, 1, 2)
        );
        assert_eq!(
            totals_against(None, &new).unwrap(),
            Diff::totals_between(&Manifest::default(), &new)
        );
    }
}
