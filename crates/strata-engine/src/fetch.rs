//! Fetching content the local store lacks from the remote that has it, before `get` writes a
//! copy; and checking a remote's copy of a version (`verify --remote`).
//!
//! Small objects are read by range out of the remote's packs (neighbouring ranges merged into one
//! request); large ones are downloaded several at once, each on a thread that hashes and writes
//! it in large buffers. Every object is hashed and compared before the store takes it. What
//! arrived is committed in batches (small objects) or one by one (large ones), so an interrupted
//! fetch resumes.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use strata_core::error::{Kind, Remedy};
use strata_core::{Cancel, Entry, Error, Hash, Progress, Result, UploadState, Version};
use strata_remote::{Buffers, Connected, Layout};
use strata_store::{ListedPlace, PlaceList, SmallImport};
use tokio::sync::Semaphore;

use crate::runtime::{block_on, runtime_handle};
use crate::Engine;

const RANGES_IN_FLIGHT: usize = 8;
const LARGE_IN_FLIGHT: usize = 4;
/// Ranges closer than this are fetched as one request (the gap is read and dropped): on S3
/// servers a request costs more than a few hundred kilobytes (measured in bench/remote.py).
const MERGE_GAP: u64 = 256 << 10;
/// One request reads at most about this much.
const MAX_RANGE: u64 = 8 << 20;
/// Bytes asked for and not yet stored, at most (in KiB, a semaphore's permits). A folder remote
/// answers faster than the store takes what it reads: with only the count of requests bounded,
/// eight full ranges waited their turn, 64 MB of a million-file get's peak.
const KIB_IN_FLIGHT: u32 = 32 << 10;
/// Fetched small objects are committed to the store every this many bytes.
const COMMIT_EVERY: u64 = 64 << 20;

/// One request: a range of a pack and the objects in it, `objects` indexing the place list
/// (sorted by pack and offset): a million objects' requests hold no copy of their places.
struct RangeRead {
    pack: u32,
    start: u64,
    end: u64,
    objects: Range<usize>,
}

/// What to do with fetched bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sink {
    /// Keep them in the local store.
    Store,
    /// Only check them (verify).
    Check,
}

/// A remote object that is not what its hash says.
pub(crate) struct BadObject {
    pub hash: Hash,
    pub key: String,
    /// What was wrong with it, when more is known than "does not match its hash".
    pub why: Option<String>,
}

impl Engine {
    /// Makes sure the store has the content of `entries`, fetching what it lacks from the remote
    /// the version came from. Returns how many objects and bytes were fetched.
    pub(crate) fn fetch_missing(
        &mut self,
        v: &Version,
        entries: &[Entry],
        whole: bool,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<(u64, u64)> {
        let mut links: Vec<&Entry> = Vec::new();
        let mut linked = HashSet::new();
        // Every object the entries need, sorted by hash, once each. A file stored in pieces
        // needs only the pieces the store lacks: after an edit to a shard, the one or two that
        // changed.
        let mut missing: Vec<(Hash, u64)> = Vec::new();
        for e in entries {
            if e.link.is_some() {
                if !linked.contains(&e.hash) && self.store.locate(&e.hash, e.size)?.is_none() {
                    linked.insert(e.hash);
                    links.push(e);
                }
                continue;
            }
            missing.extend(e.objects());
        }
        crate::free::once_each(&mut missing);
        // Asked of the store in one pass, and kept in place: a fresh home's get of a million
        // files spent 5 s asking one object at a time.
        let held = self.store.holds_each(&missing)?;
        let mut held = held.into_iter();
        missing.retain(|_| !held.next().unwrap_or(false));
        let from_links = self.fetch_links(v, &links, progress, cancel)?;
        if missing.is_empty() {
            self.mark_fetched(v, whole)?;
            return Ok(from_links);
        }
        let Some(remote) = v
            .remote
            .clone()
            .or_else(|| self.remote(None).ok().map(|r| r.name))
        else {
            return Err(Error::Corrupt {
                what: "store".into(),
                detail: format!(
                    "{} objects of {} are missing and no remote is set up to fetch them from",
                    missing.len(),
                    v.label()
                ),
            });
        };
        self.online(&format!(
            "fetching {} missing objects of {}",
            missing.len(),
            v.label()
        ))?;
        let c = self.connect_to(Some(&remote), None)?;
        // A list with each pack's name once, not a map with a name per object: for a million
        // objects the difference is most of a fetch's memory.
        let mut places = self
            .store
            .remote_places_listed(&c.name, missing.iter().map(|o| o.0))?;
        if places.places.len() != missing.len() {
            return Err(Error::remote_failure(
                &c.name,
                Kind::NotFound,
                format!(
                    "{} objects of {} are not known to be there (not pulled yet, or not uploaded \
                     from the machine that made it)",
                    missing.len() - places.places.len(),
                    v.label()
                ),
            )
            .with_remedy(Remedy::Pull));
        }
        // The manifest says how big each object is; a locator that says otherwise (or names a
        // range out of bounds) is not believed, and nothing is asked of the remote for it.
        for p in &places.places {
            let h = &p.hash;
            let size = missing
                .binary_search_by_key(h, |o| o.0)
                .map(|i| missing[i].1)
                .unwrap_or_default();
            let pack = places.pack_of(p);
            let in_bounds = match pack {
                Some(_) => strata_remote::locator::packed_range(p.offset, p.len).map(|_| ()),
                None => Ok(()),
            };
            if p.len != size || in_bounds.is_err() {
                return Err(Error::Corrupt {
                    what: format!("remote '{}'", c.name),
                    detail: format!(
                        "its locator puts object {h} of {} at {} bytes{} but the manifest says {size} bytes; nothing was fetched",
                        v.label(),
                        p.len,
                        pack.map(|pack| format!(" from offset {} of pack {pack}", p.offset))
                            .unwrap_or_default(),
                    ),
                });
            }
        }
        let n = missing.len() as u64;
        drop(missing);
        let bytes = places
            .places
            .iter()
            .fold(0u64, |a, p| a.saturating_add(p.len));
        let bad = self.fetch_places(&c, &mut places, Sink::Store, progress, cancel)?;
        if let Some(b) = bad.first() {
            let what = b
                .why
                .clone()
                .unwrap_or_else(|| format!("{} does not match its hash {}", b.key, b.hash));
            return Err(Error::Corrupt {
                what: format!("remote '{}'", c.name),
                detail: format!(
                    "{what} ({} bad objects of {}); nothing was used",
                    bad.len(),
                    v.label(),
                ),
            }
            .with_remedy(Remedy::Verify));
        }
        self.mark_fetched(v, whole)?;
        Ok((n + from_links.0, bytes + from_links.1))
    }

    /// A remote-only version whose whole content is here is now an ordinary uploaded one.
    pub(crate) fn mark_fetched(&mut self, v: &Version, whole: bool) -> Result<()> {
        if whole && v.upload_state == UploadState::Remote {
            self.catalog
                .write(|w| w.set_remote(&v.id, v.remote.as_deref(), UploadState::Uploaded))?;
        }
        Ok(())
    }

    /// Reads every object in `places`, checks it, and keeps it (or not). Returns bad objects.
    /// The list is left sorted by pack and offset (the order it is read in).
    pub(crate) fn fetch_places(
        &self,
        c: &Connected,
        places: &mut PlaceList,
        sink: Sink,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Vec<BadObject>> {
        let total = places
            .places
            .iter()
            .fold(0u64, |a, p| a.saturating_add(p.len));
        progress.begin(
            &format!("downloading from {}", c.name),
            places.places.len() as u64,
            total,
        );
        let mut bad = block_on(self.fetch_packed(c, places, sink, progress, cancel))??;
        let large = places
            .places
            .iter()
            .filter(|p| p.pack.is_none())
            .map(|p| (p.hash, p.len))
            .collect();
        bad.extend(self.fetch_large(c, large, sink, progress, cancel)?);
        progress.end();
        Ok(bad)
    }

    /// The objects of `places` that live in packs, read by range.
    async fn fetch_packed(
        &self,
        c: &Connected,
        places: &mut PlaceList,
        sink: Sink,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Vec<BadObject>> {
        let layout = Layout::new(&c.prefix);
        let reads = plan_ranges(&mut places.places)?;
        let places = &*places;
        let mut bad = Vec::new();
        let mut import: Option<SmallImport<'_>> = None;
        let mut pending_bytes = 0u64;
        let budget = Arc::new(Semaphore::new(KIB_IN_FLIGHT as usize));
        let buffers = Buffers::default();
        let mut stream = futures::stream::iter(reads.into_iter().map(|r| {
            let layout = &layout;
            let budget = budget.clone();
            let buffers = &buffers;
            async move {
                // Held until the range's objects are stored (dropped with the item below).
                let kib = u32::try_from(r.end.saturating_sub(r.start).div_ceil(1024))
                    .unwrap_or(u32::MAX)
                    .clamp(1, KIB_IN_FLIGHT);
                let held = budget
                    .acquire_many_owned(kib)
                    .await
                    .map_err(|_| Error::Internal("the fetch's byte budget was closed".into()))?;
                cancel.check()?;
                let pack = places.packs.get(r.pack as usize).ok_or_else(|| {
                    Error::Internal("a planned range names a pack not in the list".into())
                })?;
                let key = layout.pack(pack);
                let bytes = match c.get_range(&key, r.start..r.end, buffers).await {
                    Ok(b) => Some(b),
                    // Checking: a missing or short pack is a finding, not a failure.
                    Err(Error::NotFound { .. } | Error::Corrupt { .. }) if sink == Sink::Check => {
                        None
                    }
                    Err(e) => return Err(e),
                };
                Ok::<_, Error>((r, key, bytes, held))
            }
        }))
        .buffer_unordered(RANGES_IN_FLIGHT);
        while let Some(item) = stream.next().await {
            let (r, key, bytes, _held) = item?;
            let in_range = places.places.get(r.objects.clone()).unwrap_or_default();
            let Some(bytes) = bytes else {
                bad.extend(in_range.iter().map(|p| BadObject {
                    hash: p.hash,
                    key: key.to_string(),
                    why: None,
                }));
                continue;
            };
            let mut seen = HashSet::new();
            // In range by construction (plan_ranges); checked anyway, never sliced blindly.
            let objects: Vec<Option<&[u8]>> = in_range
                .iter()
                .map(|p| {
                    p.offset
                        .checked_sub(r.start)
                        .and_then(|s| Some(s as usize..(s.checked_add(p.len)?) as usize))
                        .and_then(|range| bytes.get(range))
                })
                .collect();
            // A range holds up to 8 MB of objects (a large file's pieces, say): hashed on every
            // core, not one after the other on this thread.
            let intact: Vec<bool> = {
                use rayon::prelude::*;
                objects
                    .par_iter()
                    .zip(in_range.par_iter())
                    .map(|(obj, p)| obj.is_some_and(|o| Hash::of(o) == p.hash))
                    .collect()
            };
            for ((p, obj), intact) in in_range.iter().zip(&objects).zip(intact) {
                let (h, len) = (&p.hash, &p.len);
                let Some(obj) = *obj else {
                    bad.push(BadObject {
                        hash: *h,
                        key: key.to_string(),
                        why: Some(format!("{key} is shorter than its locator says")),
                    });
                    continue;
                };
                if !intact {
                    bad.push(BadObject {
                        hash: *h,
                        key: key.to_string(),
                        why: None,
                    });
                    continue;
                }
                if sink == Sink::Store && seen.insert(*h) {
                    import
                        .get_or_insert_with(|| self.store.small_import())
                        .append(*h, obj)?;
                    pending_bytes += len;
                }
                progress.advance(1, *len);
            }
            if pending_bytes >= COMMIT_EVERY {
                if let Some(i) = import.take() {
                    i.commit()?;
                }
                pending_bytes = 0;
            }
        }
        if let Some(i) = import.take() {
            i.commit()?;
        }
        Ok(bad)
    }

    /// Fetches large objects, [`LARGE_IN_FLIGHT`] at a time, each on a thread of its own that
    /// hashes and writes what it reads (see [`Connected::download`]); the runtime's workers only
    /// carry the connections. Each object is in the store, durable, as soon as it is checked,
    /// so an interrupted fetch resumes with the objects that were not finished.
    fn fetch_large(
        &self,
        c: &Connected,
        large: Vec<(Hash, u64)>,
        sink: Sink,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Vec<BadObject>> {
        if large.is_empty() {
            return Ok(Vec::new());
        }
        let rt = runtime_handle()?;
        let store = &self.store;
        let layout = Layout::new(&c.prefix);
        let threads = LARGE_IN_FLIGHT.min(large.len());
        let queue = Mutex::new(large.into_iter());
        // Set by the first thread that fails, so the others take no new object.
        let failed = AtomicBool::new(false);
        let one = |h: Hash, len: u64| -> Result<Option<BadObject>> {
            let key = layout.object(&h);
            let tmp = (sink == Sink::Store).then(|| store.tmp_path("f-"));
            let got = c.download(&rt, &key, tmp.as_deref(), len, &h, progress, cancel);
            let bad = |why| {
                Some(BadObject {
                    hash: h,
                    key: key.to_string(),
                    why,
                })
            };
            let outcome = match got {
                Ok(_) => {
                    if let Some(tmp) = &tmp {
                        store.import_loose(&h, tmp)?;
                    }
                    progress.advance(1, 0);
                    return Ok(None);
                }
                Err(Error::Corrupt { detail, .. }) => Ok(bad(Some(detail))),
                Err(Error::NotFound { .. }) if sink == Sink::Check => Ok(bad(None)),
                Err(e) => Err(e),
            };
            if let Some(tmp) = &tmp {
                let _ = std::fs::remove_file(tmp);
            }
            outcome
        };
        let per_thread: Vec<Result<Vec<BadObject>>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut bad = Vec::new();
                        while !failed.load(Ordering::Relaxed) {
                            let next = match queue.lock() {
                                Ok(mut q) => q.next(),
                                Err(_) => None,
                            };
                            let Some((h, len)) = next else { break };
                            match one(h, len) {
                                Ok(b) => bad.extend(b),
                                Err(e) => {
                                    failed.store(true, Ordering::Relaxed);
                                    return Err(e);
                                }
                            }
                        }
                        Ok(bad)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| {
                    w.join().unwrap_or_else(|_| {
                        Err(Error::Internal("a download thread panicked".into()))
                    })
                })
                .collect()
        });
        let mut bad = Vec::new();
        for r in per_thread {
            bad.extend(r?);
        }
        Ok(bad)
    }
}

/// Sorts the places by pack and offset (loose objects last) and merges neighbours in a pack
/// into requests. A range whose end overflows or lies past any pack's size is refused
/// ([`packed_range`]).
///
/// [`packed_range`]: strata_remote::locator::packed_range
fn plan_ranges(places: &mut [ListedPlace]) -> Result<Vec<RangeRead>> {
    places.sort_unstable_by_key(|p| (p.pack.is_none(), p.pack, p.offset));
    let mut reads = Vec::new();
    let mut cur: Option<RangeRead> = None;
    for (i, p) in places.iter().enumerate() {
        let Some(pack) = p.pack else { break };
        let end = strata_remote::locator::packed_range(p.offset, p.len)?.end;
        match cur.as_mut() {
            // Offsets and ends are below MAX_PACK_BYTES, so none of this overflows.
            Some(r)
                if r.pack == pack
                    && p.offset <= r.end + MERGE_GAP
                    && end.max(r.end) - r.start <= MAX_RANGE =>
            {
                r.end = r.end.max(end);
                r.objects.end = i + 1;
            }
            _ => {
                reads.extend(cur.take());
                cur = Some(RangeRead {
                    pack,
                    start: p.offset,
                    end,
                    objects: i..i + 1,
                });
            }
        }
    }
    reads.extend(cur);
    Ok(reads)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(name: &[u8], pack: Option<u32>, offset: u64, len: u64) -> ListedPlace {
        ListedPlace {
            hash: Hash::of(name),
            pack,
            offset,
            len,
        }
    }

    #[test]
    fn neighbouring_ranges_merge_and_far_ones_do_not() {
        let mut places = vec![
            place(b"c", Some(0), 10 << 20, 5),
            place(b"a", Some(0), 0, 100),
            place(b"b", Some(0), 100, 50),
        ];
        let reads = plan_ranges(&mut places).unwrap();
        assert_eq!(reads.len(), 2);
        assert_eq!((reads[0].start, reads[0].end), (0, 150));
        let first: Vec<Hash> = places[reads[0].objects.clone()]
            .iter()
            .map(|p| p.hash)
            .collect();
        assert_eq!(first, vec![Hash::of(b"a"), Hash::of(b"b")]);
        assert_eq!((reads[1].start, reads[1].end), (10 << 20, (10 << 20) + 5));
        assert_eq!(places[reads[1].objects.clone()][0].hash, Hash::of(b"c"));
    }

    #[test]
    fn ranges_never_span_two_packs_and_loose_objects_are_not_planned() {
        let mut places = vec![
            place(b"loose", None, 0, 1 << 30),
            place(b"b0", Some(1), 0, 100),
            place(b"a100", Some(0), 100, 50),
            place(b"a0", Some(0), 0, 100),
            place(b"b100", Some(1), 100, 50),
        ];
        let reads = plan_ranges(&mut places).unwrap();
        let planned: Vec<(u32, Vec<Hash>)> = reads
            .iter()
            .map(|r| {
                let hashes = places[r.objects.clone()].iter().map(|p| p.hash).collect();
                (r.pack, hashes)
            })
            .collect();
        let h = |b: &[u8]| Hash::of(b);
        assert_eq!(
            planned,
            vec![
                (0, vec![h(b"a0"), h(b"a100")]),
                (1, vec![h(b"b0"), h(b"b100")])
            ]
        );
        assert_eq!(places[4].hash, h(b"loose"), "loose objects sort last");
    }

    #[test]
    fn a_range_that_overflows_or_runs_past_a_pack_is_refused() {
        for (off, len) in [(u64::MAX - 1, 10), (1 << 30, 1), (0, u64::MAX)] {
            let mut places = vec![place(b"x", Some(0), off, len)];
            let err = plan_ranges(&mut places)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("reaches past"), "{off}+{len}: {err}");
        }
    }
}
