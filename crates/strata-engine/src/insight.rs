//! `stats`: what a version holds, counted — its label source, classes per split, image sizes —
//! and, against another version, what moved. The counting is `strata-insight`'s; here is where
//! the bytes come from (the store, with label files fetched for a version pulled from a remote)
//! and the cache that makes asking twice free.
//!
//! Statistics are a function of a manifest and a label source, so they are cached by both under
//! `cache/insight/`. A cache file is local but can be cut short by a crash or a full disk: its
//! header carries the body's length and hash, and anything that does not check out is ignored and
//! recomputed.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use strata_core::{Cancel, Entry, Error, Hash, IoContext, Progress, Result, Version};
use strata_insight::{
    ClassStat, Comparison, Content, LabelSource, Preview, PreviewOptions, Stats, Warning,
};
use strata_store::{Location, Store};

use crate::Engine;

/// Bumped whenever what `strata-insight` computes changes meaning: older cache files are then
/// never read.
const CACHE_FORMAT: u32 = 1;
/// A cache body larger than this is not written (a version of millions of images has a per-file
/// table of hundreds of megabytes; recomputing it is cheaper than keeping it).
const MAX_CACHE_ENTRY: u64 = 128 << 20;
/// The whole `cache/insight/` folder is kept under this; least recently used files go first.
const MAX_CACHE_TOTAL: u64 = 512 << 20;
/// Extensions of files a label source can live in: fetched for stats of a version whose content
/// is on a remote (images are not: their sizes are skipped instead of downloading them all).
const LABEL_EXTENSIONS: [&str; 7] = ["csv", "tsv", "json", "xml", "yaml", "yml", "txt"];

/// What `stats` is asked: the label source (`None`: detect it) and a version to compare with.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatsRequest {
    pub labels: Option<LabelSource>,
    pub against: Option<String>,
}

/// Statistics of a version, and how they moved against another one.
#[derive(Clone, Debug, Serialize)]
pub struct StatsReport {
    /// `project/name@semver`.
    pub version: String,
    pub id: String,
    pub stats: Stats,
    /// True when every statistics used came from the cache (nothing was read).
    pub cached: bool,
    pub against: Option<AgainstReport>,
}

/// The other side of a comparison.
#[derive(Clone, Debug, Serialize)]
pub struct AgainstReport {
    pub version: String,
    pub id: String,
    /// This version minus the other.
    pub comparison: Comparison,
    /// The other version's classes and splits, to draw both side by side.
    pub classes: Vec<ClassStat>,
    pub splits: BTreeMap<String, Vec<ClassStat>>,
}

/// The store's bytes of a version's entries. Reads are bounded: a header read of a 10 GB loose
/// object opens it and reads `limit` bytes, and a packed object is read from its offset for at
/// most `limit` bytes.
struct StoreContent<'a> {
    store: &'a Store,
    /// Where each stored entry's content is, looked up once for all (a lookup per read would
    /// take the index's lock 20,000 times from four threads).
    places: HashMap<Hash, Location>,
    /// The version's content is on a remote and only partly here: what is not here was not
    /// fetched (images), rather than lost.
    partly_remote: bool,
    /// Reads refused because the content was not fetched: images whose size was not read.
    skipped: AtomicU64,
}

impl Content for StoreContent<'_> {
    fn read(&self, entry: &Entry, limit: u64) -> io::Result<Vec<u8>> {
        if entry.link.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a link: stats read only stored content and never follow links",
            ));
        }
        match self.places.get(&entry.hash) {
            Some(loc) => self.store.read_head(loc, limit).map_err(io::Error::other),
            None if self.partly_remote => {
                self.skipped.fetch_add(1, Ordering::Relaxed);
                Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "content not fetched from the remote",
                ))
            }
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                "content missing from the store (run `strata verify`)",
            )),
        }
    }
}

/// At most this many thumbnails in one call (a page of the grid, not a whole version).
const MAX_THUMBNAILS: usize = 500;
/// `cache/thumbs/` is kept under this; least recently used first out.
const MAX_THUMBS_TOTAL: u64 = 256 << 20;

/// One thumbnail of [`Engine::thumbnails`]: the PNG, or why there is none.
#[derive(Clone, Debug, Serialize)]
pub struct ThumbnailResult {
    pub path: String,
    /// PNG bytes, base64 in JSON.
    #[serde(serialize_with = "base64_png")]
    pub png: Option<Vec<u8>>,
    pub error: Option<String>,
}

impl ThumbnailResult {
    fn made(path: &str, png: Vec<u8>) -> Self {
        Self {
            path: path.to_string(),
            png: Some(png),
            error: None,
        }
    }

    fn failed(path: &str, error: String) -> Self {
        Self {
            path: path.to_string(),
            png: None,
            error: Some(error),
        }
    }
}

fn base64_png<S: serde::Serializer>(
    png: &Option<Vec<u8>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use base64::Engine as _;
    match png {
        Some(b) => s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b)),
        None => s.serialize_none(),
    }
}

/// The first line of a cache file: what it is of, and how to tell its body is whole.
#[derive(Serialize, Deserialize)]
struct CacheHeader {
    format: u32,
    manifest: String,
    source: String,
    len: u64,
    hash: String,
}

fn is_label_file_entry(e: &Entry) -> bool {
    is_label_file(&e.path)
}

fn is_label_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && LABEL_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext))
    })
}

/// How a label source is spelled in cache keys: `auto` when detected.
fn source_key(labels: Option<&LabelSource>) -> String {
    labels.map_or_else(|| "auto".to_string(), |s| s.to_string())
}

impl Engine {
    fn insight_dir(&self) -> PathBuf {
        self.cache_dir().join("insight")
    }

    fn insight_cache_path(&self, manifest: &Hash, source: &str) -> PathBuf {
        let mut h = blake3::Hasher::new();
        h.update(format!("strata stats {CACHE_FORMAT}\n").as_bytes());
        h.update(source.as_bytes());
        let key = &h.finalize().to_hex()[..16];
        self.insight_dir()
            .join(format!("{}-{key}.json", manifest.to_hex()))
    }

    /// Class statistics of a version (a draft's too), and with `against` how they moved.
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn stats(
        &mut self,
        reference: &str,
        req: &StatsRequest,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<StatsReport> {
        let v = self.resolve(reference)?;
        let other = req
            .against
            .as_deref()
            .map(|r| self.resolve(r))
            .transpose()?;
        let (stats, mut cached) = self.version_stats(&v, req.labels.as_ref(), progress, cancel)?;
        let against = match other {
            None => None,
            Some(o) => {
                let (old, old_cached) =
                    self.version_stats(&o, req.labels.as_ref(), progress, cancel)?;
                cached &= old_cached;
                Some(AgainstReport {
                    version: o.label(),
                    id: o.id.clone(),
                    comparison: strata_insight::compare(&stats, &old),
                    classes: old.classes,
                    splits: old.splits,
                })
            }
        };
        Ok(StatsReport {
            version: v.label(),
            id: v.id.clone(),
            stats,
            cached,
            against,
        })
    }

    /// One version's statistics, from the cache or computed (and then cached when complete).
    fn version_stats(
        &mut self,
        v: &Version,
        labels: Option<&LabelSource>,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<(Stats, bool)> {
        let source = source_key(labels);
        let path = self.insight_cache_path(&v.manifest, &source);
        if let Some(stats) = read_cache(&path, &v.manifest, &source) {
            return Ok((stats, true));
        }
        let entries = self.manifest_of(v)?.into_entries();
        let places = self.place_content(v, &entries, is_label_file_entry, progress, cancel)?;
        let content = StoreContent {
            store: &self.store,
            places,
            partly_remote: crate::free::may_be_elsewhere(v),
            skipped: AtomicU64::new(0),
        };
        let mut stats = strata_insight::stats(&entries, &content, labels, progress, cancel)?;
        let skipped = content.skipped.load(Ordering::Relaxed);
        note_links(&mut stats, &entries);
        if skipped > 0 {
            // Depends on what is here now: a later `get` brings the images, so this result is
            // not cached.
            note_skipped_sizes(&mut stats, v, skipped);
        } else {
            self.write_cache(&path, &v.manifest, &source, &stats);
        }
        Ok((stats, false))
    }

    /// Where the content of a version's stored entries is. For a version whose content is on a
    /// remote (pulled, not fetched), the missing entries `fetch` picks are fetched first, through
    /// the same fetch as `get`: stats take only the files a label source can be in (images' sizes
    /// are skipped instead), previews the entries asked for. Offline, missing content is the
    /// usual "needs the network" error: classes counted without their labels would be wrong, not
    /// partial.
    fn place_content(
        &mut self,
        v: &Version,
        entries: &[Entry],
        fetch: fn(&Entry) -> bool,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<HashMap<Hash, Location>> {
        let places = self.store.locate_entries(entries)?;
        if !crate::free::may_be_elsewhere(v) {
            return Ok(places);
        }
        let missing: Vec<Entry> = entries
            .iter()
            .filter(|e| e.link.is_none() && !places.contains_key(&e.hash) && fetch(e))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(places);
        }
        self.fetch_missing(v, &missing, false, progress, cancel)?;
        self.store.locate_entries(entries)
    }

    /// A preview of one entry of a version: a thumbnail, the first rows of a table, the head of
    /// a text, or why not. Content a pulled version has only on its remote is fetched for this
    /// entry alone; links are never followed (their preview says so).
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn preview(
        &mut self,
        reference: &str,
        path: &str,
        opts: &PreviewOptions,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Preview> {
        let v = self.resolve(reference)?;
        let manifest = self.manifest_of(&v)?;
        let entry = manifest
            .get(path)
            .cloned()
            .ok_or_else(|| Error::not_found("file", format!("{}/{path}", v.label())))?;
        let content = self.content_of(&v, std::slice::from_ref(&entry), progress, cancel)?;
        Ok(strata_insight::preview(&entry, &content, opts))
    }

    /// Thumbnails of some of a version's files (a page of the app's grid), in the order asked,
    /// each the image's or why there is none. Made once per content and size: kept in
    /// `cache/thumbs/` by content hash, so the same picture in another version, or the page seen
    /// again, costs a file read.
    #[tracing::instrument(skip_all, fields(reference = %reference, files = paths.len()))]
    pub fn thumbnails(
        &mut self,
        reference: &str,
        paths: &[String],
        max_side: u32,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Vec<ThumbnailResult>> {
        if paths.len() > MAX_THUMBNAILS {
            return Err(Error::invalid(format!(
                "at most {MAX_THUMBNAILS} thumbnails at a time, not {}",
                paths.len()
            )));
        }
        let max_side = max_side.clamp(16, 1024);
        let v = self.resolve(reference)?;
        let manifest = self.manifest_of(&v)?;
        let dir = self.cache_dir().join("thumbs");
        let cached = |e: &Entry| dir.join(format!("{}-{max_side}.png", e.hash.to_hex()));
        let mut out: Vec<ThumbnailResult> = Vec::with_capacity(paths.len());
        let mut todo: Vec<Entry> = Vec::new();
        for path in paths {
            let r = match manifest.get(path) {
                None => ThumbnailResult::failed(path, format!("no file '{path}' in {}", v.label())),
                Some(e) => match fs::read(cached(e)) {
                    Ok(png) => ThumbnailResult::made(path, png),
                    Err(_) => {
                        todo.push(e.clone());
                        ThumbnailResult::failed(path, String::new())
                    }
                },
            };
            out.push(r);
        }
        if todo.is_empty() {
            return Ok(out);
        }
        let content = self.content_of(&v, &todo, progress, cancel)?;
        let opts = PreviewOptions {
            max_side,
            ..PreviewOptions::default()
        };
        let made = strata_insight::thumbnails(&todo, &content, &opts, progress, cancel);
        cancel.check()?;
        let _ = fs::create_dir_all(&dir);
        let mut by_path: HashMap<String, ThumbnailResult> = HashMap::new();
        for (entry, (path, r)) in todo.iter().zip(made) {
            let r = match r {
                Ok(t) => {
                    // Best effort, atomic: a thumbnail not kept is made again next time.
                    let tmp = dir.join(strata_store::unique_name(".tmp-"));
                    if fs::write(&tmp, &t.png)
                        .and_then(|_| fs::rename(&tmp, cached(entry)))
                        .is_err()
                    {
                        let _ = fs::remove_file(&tmp);
                    }
                    ThumbnailResult::made(&path, t.png)
                }
                Err(e) => ThumbnailResult::failed(&path, e.to_string()),
            };
            by_path.insert(path, r);
        }
        trim_cache(&dir, MAX_THUMBS_TOTAL);
        for r in out.iter_mut() {
            if let Some(made) = by_path.remove(&r.path) {
                *r = made;
            }
        }
        Ok(out)
    }

    /// The bytes of `entries` of `v`, fetched first where a pulled version has them only on its
    /// remote.
    fn content_of(
        &mut self,
        v: &Version,
        entries: &[Entry],
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<StoreContent<'_>> {
        let places = self.place_content(v, entries, |_| true, progress, cancel)?;
        Ok(StoreContent {
            store: &self.store,
            places,
            partly_remote: false,
            skipped: AtomicU64::new(0),
        })
    }

    /// Writes a cache file atomically (a temporary file renamed over it); best effort: a cache
    /// that cannot be written costs only the next call's time.
    fn write_cache(&self, path: &Path, manifest: &Hash, source: &str, stats: &Stats) {
        let written = (|| -> std::result::Result<(), String> {
            let body = serde_json::to_vec(stats).map_err(|e| e.to_string())?;
            if body.len() as u64 > MAX_CACHE_ENTRY {
                return Err(format!("{} bytes: too large to cache", body.len()));
            }
            let header = CacheHeader {
                format: CACHE_FORMAT,
                manifest: manifest.to_hex(),
                source: source.to_string(),
                len: body.len() as u64,
                hash: Hash::of(&body).to_hex(),
            };
            let mut doc = serde_json::to_vec(&header).map_err(|e| e.to_string())?;
            doc.push(b'\n');
            doc.extend_from_slice(&body);
            let dir = self.insight_dir();
            fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let tmp = dir.join(strata_store::unique_name(".tmp-"));
            fs::write(&tmp, &doc)
                .and_then(|_| fs::rename(&tmp, path))
                .map_err(|e| {
                    let _ = fs::remove_file(&tmp);
                    e.to_string()
                })?;
            trim_cache(&dir, MAX_CACHE_TOTAL);
            Ok(())
        })();
        if let Err(e) = written {
            tracing::debug!(error = %e, path = %path.display(), "stats not cached");
        }
    }

    /// Removes the statistics cache (`cache/insight/`): every later `stats` computes afresh.
    pub fn stats_cache_clear(&self) -> Result<()> {
        let dir = self.insight_dir();
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e).ctx("remove", &dir),
            _ => Ok(()),
        }
    }
}

/// A cache file's statistics, if it is whole and of this manifest and source. Anything else
/// (missing, cut short, edited, of an older format) is `None`, and the caller recomputes.
fn read_cache(path: &Path, manifest: &Hash, source: &str) -> Option<Stats> {
    let bytes = fs::read(path).ok()?;
    let checked = (|| {
        let nl = bytes.iter().position(|&b| b == b'\n')?;
        let header: CacheHeader = serde_json::from_slice(&bytes[..nl]).ok()?;
        let body = &bytes[nl + 1..];
        let whole = header.format == CACHE_FORMAT
            && header.manifest == manifest.to_hex()
            && header.source == source
            && header.len == body.len() as u64
            && header.hash == Hash::of(body).to_hex();
        if !whole {
            return None;
        }
        serde_json::from_slice::<Stats>(body).ok()
    })();
    match &checked {
        // Its mtime is its last use, for trimming least recently used files first.
        Some(_) => {
            let _ = File::options()
                .write(true)
                .open(path)
                .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        }
        None => tracing::warn!(path = %path.display(), "stats cache file unreadable; recomputing"),
    }
    checked
}

/// Removes least recently used cache files until the folder holds at most `max` bytes, and
/// temporary files a crash left behind.
fn trim_cache(dir: &Path, max: u64) {
    let Ok(items) = fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = Vec::new();
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for item in items.flatten() {
        let Ok(meta) = item.metadata() else { continue };
        let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
        let p = item.path();
        if item.file_name().to_string_lossy().starts_with(".tmp-") {
            // Another process may be writing it now; only old ones are leftovers.
            if modified < an_hour_ago {
                let _ = fs::remove_file(&p);
            }
            continue;
        }
        files.push((modified, meta.len(), p));
    }
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    files.sort();
    for (_, len, p) in files {
        if total <= max {
            break;
        }
        if fs::remove_file(&p).is_ok() {
            total -= len;
        }
    }
}

/// Stats never follow links: say so once, naming the first.
fn note_links(stats: &mut Stats, entries: &[Entry]) {
    let mut linked = entries.iter().filter(|e| e.link.is_some());
    if let Some(first) = linked.next() {
        let n = 1 + linked.count();
        stats.warnings.push(Warning {
            file: first.path.clone(),
            line: None,
            message: format!(
                "{n} linked {} not read: stats read only stored content (this is the first)",
                if n == 1 { "entry" } else { "entries" }
            ),
        });
    }
}

/// Images of a remote version whose content is not here were not opened: their sizes are left
/// out of the summary (not counted as unreadable), and a warning says how to include them.
fn note_skipped_sizes(stats: &mut Stats, v: &Version, skipped: u64) {
    if let Some(d) = stats.dimensions.as_mut() {
        d.unreadable = d.unreadable.saturating_sub(skipped);
        if d.unreadable == 0 {
            stats
                .warnings
                .retain(|w| !w.message.starts_with("image size unreadable"));
        }
        if d.read == 0 && d.unreadable == 0 {
            stats.dimensions = None;
        }
    }
    stats.warnings.push(Warning {
        file: String::new(),
        line: None,
        message: format!(
            "image sizes not read for {skipped} images of {} whose content is only on remote \
             '{}' (stats fetch label files, not images); `strata get {}` brings them",
            v.label(),
            v.remote.as_deref().unwrap_or("?"),
            v.label()
        ),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_files_are_told_by_extension() {
        for p in [
            "labels.csv",
            "a/b/instances_val.JSON",
            "data.yaml",
            "labels/train/x.txt",
        ] {
            assert!(is_label_file(p), "{p}");
        }
        for p in ["img.jpg", "csv", ".txt", "a/.json", "shard.bin"] {
            assert!(!is_label_file(p), "{p}");
        }
    }

    #[test]
    fn a_cache_file_cut_short_or_edited_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.json");
        let m = Hash::of(b"manifest");
        let stats = Stats {
            totals: strata_insight::Totals {
                images: 3,
                ..Default::default()
            },
            ..Default::default()
        };
        let body = serde_json::to_vec(&stats).unwrap();
        let header = CacheHeader {
            format: CACHE_FORMAT,
            manifest: m.to_hex(),
            source: "auto".into(),
            len: body.len() as u64,
            hash: Hash::of(&body).to_hex(),
        };
        let mut doc = serde_json::to_vec(&header).unwrap();
        doc.push(b'\n');
        doc.extend_from_slice(&body);
        fs::write(&p, &doc).unwrap();
        assert_eq!(read_cache(&p, &m, "auto"), Some(stats.clone()));
        assert_eq!(read_cache(&p, &m, "imagefolder"), None, "another source");
        assert_eq!(
            read_cache(&p, &Hash::of(b"x"), "auto"),
            None,
            "another manifest"
        );
        fs::write(&p, &doc[..doc.len() - 3]).unwrap();
        assert_eq!(read_cache(&p, &m, "auto"), None, "cut short");
        let edited = String::from_utf8(doc.clone())
            .unwrap()
            .replace("\"images\":3", "\"images\":4");
        fs::write(&p, edited).unwrap();
        assert_eq!(read_cache(&p, &m, "auto"), None, "edited");
        fs::write(&p, b"garbage").unwrap();
        assert_eq!(read_cache(&p, &m, "auto"), None, "garbage");
    }

    #[test]
    fn trimming_removes_the_least_recently_used_first() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.json");
        let new = dir.path().join("new.json");
        fs::write(&old, vec![0u8; 600]).unwrap();
        fs::write(&new, vec![0u8; 600]).unwrap();
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(past)
            .unwrap();
        trim_cache(dir.path(), 1000);
        assert!(!old.exists() && new.exists());
    }
}
