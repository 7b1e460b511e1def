//! The remote catalog: an append-only log of events, one object each under `log/`, numbered from
//! one. An event is appended by creating the next number with create-if-absent; when someone
//! else took that number first, the writer reads what they wrote and tries the next one. Every
//! backend honours create-if-absent, so two workstations never overwrite each other's events.
//!
//! Anyone who can write the bucket can write the log, so everything read from it is checked
//! before use: every object is read with a size limit, every field of every event is validated
//! ([`decode`]), and an event that fails is handed back as [`Refused`] (with its number and a
//! one-line reason) instead of stopping the reader: one bad entry must not keep a team from the
//! rest of its log.

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::path::Path as StorePath;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};
use strata_core::names::{self, printable, DatasetName};
use strata_core::{Error, Hash, Result};

use crate::connect::Connected;
use crate::layout::Layout;

/// Largest log event read, in bytes. Strata's own events are a few KiB; the bound keeps a planted
/// giant from being read, let alone parsed.
pub const MAX_EVENT_BYTES: u64 = 1 << 20;
/// Events read and applied per round, and their total size: memory stays bounded however long
/// the log is.
pub const BATCH_EVENTS: usize = 1000;
pub const BATCH_BYTES: u64 = 64 << 20;
/// Events read at once.
const READ_PARALLEL: usize = 16;

/// Bounds on a version record's fields: generous for real use, small enough that no record can
/// make a catalog row or a listing unreasonably large.
pub const MAX_DESCRIPTION: usize = names::MAX_DESCRIPTION;
pub const MAX_METADATA_BYTES: usize = names::MAX_METADATA_BYTES;
pub const MAX_PARENTS: usize = 64;
pub const MAX_TAGS: usize = 256;
pub const MAX_WHO: usize = 256;
pub const MAX_FILES: u64 = 100_000_000;
/// The catalog stores sizes as signed 64-bit numbers.
pub const MAX_TOTAL_BYTES: u64 = i64::MAX as u64;
/// 9999-12-31T23:59:59.999Z in milliseconds: later (or negative) timestamps are not real.
pub const MAX_TIME_MS: i64 = 253_402_300_799_999;

/// A version as the remote catalog records it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RemoteVersion {
    pub id: String,
    /// `project/name`.
    pub dataset: String,
    pub semver: String,
    pub parents: Vec<String>,
    /// `final` or `published`; drafts are never shared.
    pub state: String,
    pub manifest: Hash,
    pub locator: Hash,
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

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A version whose content, manifest and locator are all in the bucket.
    Create {
        version: Box<RemoteVersion>,
    },
    Publish {
        id: String,
    },
    /// One version.
    Delete {
        id: String,
    },
    /// A whole dataset.
    DeleteDataset {
        dataset: String,
    },
    /// A dataset's new `project/name` (rename and move alike).
    Rename {
        from: String,
        to: String,
    },
    /// Tags added to and removed from a shared version.
    Tag {
        id: String,
        #[serde(default)]
        added: Vec<String>,
        #[serde(default)]
        removed: Vec<String>,
    },
    /// A shared version's new description.
    Describe {
        id: String,
        description: String,
    },
    /// Metadata keys of a shared version set (to their new values) or removed. Only the keys
    /// changed travel, so two people editing different keys both keep theirs; on the same key
    /// the later entry in the log wins.
    Meta {
        id: String,
        #[serde(default)]
        set: serde_json::Map<String, serde_json::Value>,
        #[serde(default)]
        removed: Vec<String>,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Record {
    pub seq: u64,
    /// Milliseconds since the Unix epoch, by the writer's clock.
    pub at: i64,
    pub by: String,
    #[serde(flatten)]
    pub event: Event,
}

/// A log entry (or the version it describes) left out, and why, in one line.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Refused {
    pub seq: u64,
    pub reason: String,
    /// Every content hash the entry names, when it is JSON at all: remote gc keeps what these
    /// name, since a refused entry may still describe a version someone relies on.
    #[serde(skip)]
    pub names: Vec<Hash>,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "log entry {}: {}", self.seq, self.reason)
    }
}

/// One numbered entry of the log, as read.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    Event(Record),
    Refused(Refused),
}

impl Entry {
    pub fn seq(&self) -> u64 {
        match self {
            Entry::Event(r) => r.seq,
            Entry::Refused(r) => r.seq,
        }
    }
}

/// The entries after some position, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    pub entries: Vec<Entry>,
    /// The batch stopped at a size bound: read again from its last entry.
    pub more: bool,
    /// A later entry exists but this number does not: those after it wait until it appears
    /// (an append in flight, or a hole someone's next append fills).
    pub missing: Option<u64>,
    /// Where the next batch starts (after this number), when it is not simply the last entry's.
    pub resume: Option<u64>,
}

impl RemoteVersion {
    /// Checks every field against what Strata writes: `Err` is a one-line reason.
    pub fn check(&self) -> std::result::Result<(), String> {
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
        if !matches!(self.state.as_str(), "final" | "published") {
            return Err(format!(
                "state '{}' cannot be shared (final or published)",
                printable(&self.state)
            ));
        }
        Ok(())
    }
}

/// A version record from outside this home (a bucket's log, a session file), borrowed: one set
/// of checks for every way a version arrives. The state is the caller's to check: what a
/// record may be in depends on where it comes from (a bucket shares no drafts).
pub struct VersionFields<'a> {
    pub id: &'a str,
    pub dataset: &'a str,
    pub semver: &'a str,
    pub parents: &'a [String],
    pub file_count: u64,
    pub total_bytes: u64,
    pub tags: &'a [String],
    pub description: &'a str,
    pub metadata: &'a serde_json::Map<String, serde_json::Value>,
    pub created_at: i64,
    pub finalized_at: Option<i64>,
    pub created_by: &'a str,
}

impl VersionFields<'_> {
    /// Checks every field against what Strata writes (names and numbers in their one
    /// canonical form, bounds on every list and text): `Err` is a one-line reason.
    pub fn check(&self) -> std::result::Result<(), String> {
        id_ok(self.id)?;
        dataset_ok(self.dataset)?;
        let sv = names::parse_semver(self.semver).map_err(|e| e.to_string())?;
        if sv.to_string() != self.semver {
            return Err(format!(
                "semantic version '{}' is not in its usual form",
                printable(self.semver)
            ));
        }
        if self.parents.len() > MAX_PARENTS {
            return Err(format!(
                "{} parents; at most {MAX_PARENTS}",
                self.parents.len()
            ));
        }
        for (i, p) in self.parents.iter().enumerate() {
            id_ok(p).map_err(|e| format!("parent: {e}"))?;
            if p == self.id {
                return Err("the version names itself as its parent".into());
            }
            if self.parents[..i].contains(p) {
                return Err(format!("parent {p} is named twice"));
            }
        }
        if self.file_count > MAX_FILES {
            return Err(format!("{} files; at most {MAX_FILES}", self.file_count));
        }
        if self.total_bytes > MAX_TOTAL_BYTES {
            return Err(format!("total size {} is out of range", self.total_bytes));
        }
        if self.tags.len() > MAX_TAGS {
            return Err(format!("{} tags; at most {MAX_TAGS}", self.tags.len()));
        }
        for t in self.tags {
            names::validate_tag(t).map_err(|e| e.to_string())?;
        }
        if self.description.len() > MAX_DESCRIPTION {
            return Err(format!(
                "description of {} bytes; at most {MAX_DESCRIPTION}",
                self.description.len()
            ));
        }
        let meta = serde_json::to_vec(self.metadata).map_err(|e| format!("metadata: {e}"))?;
        if meta.len() > MAX_METADATA_BYTES {
            return Err(format!(
                "metadata of {} bytes; at most {MAX_METADATA_BYTES}",
                meta.len()
            ));
        }
        time_ok(self.created_at, "creation time")?;
        if let Some(t) = self.finalized_at {
            time_ok(t, "finalization time")?;
        }
        who_ok(self.created_by)
    }
}

impl Record {
    /// Checks every field of the event (see [`RemoteVersion::check`]).
    pub fn check(&self) -> std::result::Result<(), String> {
        time_ok(self.at, "event time")?;
        who_ok(&self.by)?;
        match &self.event {
            Event::Create { version } => version.check(),
            Event::Publish { id } | Event::Delete { id } => id_ok(id),
            Event::DeleteDataset { dataset } => dataset_ok(dataset),
            Event::Rename { from, to } => {
                dataset_ok(from)?;
                dataset_ok(to)?;
                if from == to {
                    return Err(format!("renames {from} to itself"));
                }
                Ok(())
            }
            Event::Tag { id, added, removed } => {
                id_ok(id)?;
                if added.len() + removed.len() > MAX_TAGS {
                    return Err(format!(
                        "{} tag changes; at most {MAX_TAGS}",
                        added.len() + removed.len()
                    ));
                }
                for t in added.iter().chain(removed) {
                    names::validate_tag(t).map_err(|e| e.to_string())?;
                }
                if let Some(t) = added.iter().find(|t| removed.contains(t)) {
                    return Err(format!("tag '{t}' is both added and removed"));
                }
                Ok(())
            }
            Event::Describe { id, description } => {
                id_ok(id)?;
                names::validate_description(description).map_err(|e| e.to_string())
            }
            Event::Meta { id, set, removed } => {
                id_ok(id)?;
                for k in set.keys().chain(removed) {
                    names::validate_meta_key(k).map_err(|e| e.to_string())?;
                }
                if let Some(k) = removed.iter().find(|k| set.contains_key(*k)) {
                    return Err(format!("metadata key '{k}' is both set and removed"));
                }
                if removed.len() > MAX_METADATA_BYTES / 2 {
                    return Err(format!("{} metadata keys removed", removed.len()));
                }
                let size = serde_json::to_vec(set)
                    .map_err(|e| format!("metadata: {e}"))?
                    .len();
                if size > MAX_METADATA_BYTES {
                    return Err(format!(
                        "metadata of {size} bytes; at most {MAX_METADATA_BYTES}"
                    ));
                }
                Ok(())
            }
        }
    }
}

fn id_ok(id: &str) -> std::result::Result<(), String> {
    names::validate_version_id(id).map_err(|e| e.to_string())
}

/// A dataset name as Strata writes it: valid, and in its one canonical spelling.
fn dataset_ok(s: &str) -> std::result::Result<(), String> {
    let d = DatasetName::parse(s).map_err(|e| e.to_string())?;
    if d.to_string() != s {
        return Err(format!(
            "dataset name '{}' is not in its usual form",
            printable(s)
        ));
    }
    Ok(())
}

fn time_ok(t: i64, what: &str) -> std::result::Result<(), String> {
    if (0..=MAX_TIME_MS).contains(&t) {
        Ok(())
    } else {
        Err(format!("{what} {t} is out of range"))
    }
}

fn who_ok(s: &str) -> std::result::Result<(), String> {
    if s.len() > MAX_WHO || s.chars().any(char::is_control) {
        return Err(format!(
            "author '{}' is not a short printable name",
            printable(s)
        ));
    }
    Ok(())
}

/// Decodes and checks log entry `seq`. Never panics; input longer than [`MAX_EVENT_BYTES`] is
/// refused before any parsing.
pub fn decode(bytes: &[u8], seq: u64) -> std::result::Result<Record, Refused> {
    let refuse = |reason: String, names: Vec<Hash>| Refused { seq, reason, names };
    if bytes.len() as u64 > MAX_EVENT_BYTES {
        return Err(refuse(
            format!("larger than {MAX_EVENT_BYTES} bytes"),
            Vec::new(),
        ));
    }
    let rec: Record = match serde_json::from_slice(bytes) {
        Ok(r) => r,
        Err(e) => {
            return Err(refuse(
                format!("not a Strata log event: {e}"),
                hashes_in(bytes),
            ))
        }
    };
    if rec.seq != seq {
        return Err(refuse(
            format!("says it is number {}", rec.seq),
            hashes_in(bytes),
        ));
    }
    match rec.check() {
        Ok(()) => Ok(rec),
        Err(why) => Err(refuse(one_line(&why), hashes_in(bytes))),
    }
}

/// Decodes and checks one version record on its own (as carried by a `create` event).
pub fn decode_version(bytes: &[u8]) -> std::result::Result<RemoteVersion, String> {
    if bytes.len() as u64 > MAX_EVENT_BYTES {
        return Err(format!("larger than {MAX_EVENT_BYTES} bytes"));
    }
    let v: RemoteVersion =
        serde_json::from_slice(bytes).map_err(|e| format!("not a version record: {e}"))?;
    v.check().map_err(|e| one_line(&e))?;
    Ok(v)
}

/// Reasons are quoted on one line of a terminal: no control characters, bounded length.
fn one_line(s: &str) -> String {
    const MAX: usize = 300;
    let p: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX)
        .collect();
    if s.chars().nth(MAX).is_some() {
        format!("{p}…")
    } else {
        p
    }
}

/// Every string in `bytes` (when it is JSON) that spells a content hash.
fn hashes_in(bytes: &[u8]) -> Vec<Hash> {
    fn walk(v: &serde_json::Value, out: &mut Vec<Hash>) {
        match v {
            serde_json::Value::String(s) if s.len() == 64 => {
                if let Ok(h) = Hash::from_hex(s) {
                    out.push(h);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(m) => m.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        walk(&v, &mut out);
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn remote_err(c: &Connected, e: object_store::Error) -> Error {
    crate::connect::failure(&c.name, e)
}

/// Reads a whole object of at most `limit` bytes. A larger one is refused (`Corrupt`) after
/// reading at most `limit` bytes of it, whatever size the server announces.
async fn get_bounded(c: &Connected, key: &StorePath, limit: u64) -> Result<Bytes> {
    let got = c.store.get(key).await.map_err(|e| c.err(e))?;
    let too_big = || Error::Corrupt {
        what: format!("remote '{}'", c.name),
        detail: format!("{key} is larger than {limit} bytes"),
    };
    if got.meta.size > limit {
        return Err(too_big());
    }
    collect_bounded(got.into_stream().map_err(|e| c.err(e)), limit)
        .await?
        .ok_or_else(too_big)
}

/// The stream's bytes, or `None` as soon as they pass `limit`.
async fn collect_bounded(
    stream: impl Stream<Item = Result<Bytes>>,
    limit: u64,
) -> Result<Option<Bytes>> {
    let mut stream = std::pin::pin!(stream);
    let mut buf = BytesMut::new();
    while let Some(chunk) = stream.try_next().await? {
        if (buf.len() + chunk.len()) as u64 > limit {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Some(buf.freeze()))
}

/// What a reader does at a missing number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holes {
    /// Stop before it: entries are applied in order, and the next append fills it (`pull`).
    Stop,
    /// Read on past it: what must be kept depends on every entry there is (remote `gc`).
    Skip,
}

/// The entries after `after`, in order, at most a batch of them. An entry that is too large,
/// not JSON, or not valid comes back refused, while a failure to reach the remote is an error
/// (a refused entry is not read again, a failed read is).
pub async fn read_batch(c: &Connected, after: u64, holes: Holes) -> Result<Batch> {
    let layout = Layout::new(&c.prefix);
    let dir = layout.dir("log");
    let offset = layout.event(after);
    let window_end = after.saturating_add(BATCH_EVENTS as u64);
    // Only numbers inside the window are kept: a listing of a million planted names, or one
    // absurdly high number, costs a pass over the listing and no memory.
    let (mut seqs, beyond) = c
        .store
        .list_with_offset(Some(&dir), &offset)
        .map_err(|e| remote_err(c, e))
        .try_fold((Vec::new(), None::<u64>), |(mut seqs, mut beyond), m| {
            if let Some(s) = layout.seq_of(&m.location).filter(|s| *s > after) {
                if s <= window_end {
                    seqs.push(s);
                } else {
                    beyond = Some(beyond.map_or(s, |b| b.min(s)));
                }
            }
            async move { Ok((seqs, beyond)) }
        })
        .await?;
    seqs.sort_unstable();
    seqs.dedup();
    let mut batch = Batch::default();
    let wanted: Vec<u64> = match holes {
        Holes::Stop => {
            let contiguous: Vec<u64> = (after + 1..)
                .zip(&seqs)
                .take_while(|(want, got)| want == *got)
                .map(|(want, _)| want)
                .collect();
            let next = after + 1 + contiguous.len() as u64;
            if contiguous.len() < seqs.len() || (beyond.is_some() && next <= window_end) {
                batch.missing = Some(next);
            }
            batch.more = next > window_end;
            contiguous
        }
        Holes::Skip => {
            if seqs.is_empty() {
                // Nothing in this window: go on from the next number there is.
                batch.resume = beyond.map(|b| b - 1);
                batch.more = beyond.is_some();
                return Ok(batch);
            }
            batch.more = beyond.is_some();
            seqs
        }
    };
    let layout = &layout;
    let mut reads = std::pin::pin!(futures::stream::iter(wanted.iter().copied())
        .map(|seq| async move { (seq, read_entry(c, layout, seq).await) })
        .buffered(READ_PARALLEL));
    let mut bytes = 0u64;
    while let Some((seq, read)) = reads.next().await {
        let Some((entry, n)) = read? else {
            if holes == Holes::Skip {
                continue;
            }
            // Listed a moment ago, gone now: a hole like any other.
            batch.missing = Some(seq);
            batch.more = false;
            break;
        };
        batch.entries.push(entry);
        bytes += n;
        if bytes > BATCH_BYTES {
            batch.more = true;
            break;
        }
    }
    batch.resume = batch.entries.last().map(Entry::seq).or(batch.resume);
    if batch.resume.is_none() && holes == Holes::Skip && batch.more {
        // Every listed entry vanished: go on after the window.
        batch.resume = Some(window_end);
    }
    Ok(batch)
}

/// One entry and its size; `None` when it is not there (any more).
async fn read_entry(c: &Connected, layout: &Layout, seq: u64) -> Result<Option<(Entry, u64)>> {
    match get_bounded(c, &layout.event(seq), MAX_EVENT_BYTES).await {
        Ok(bytes) => {
            let entry = match decode(&bytes, seq) {
                Ok(r) => Entry::Event(r),
                Err(r) => Entry::Refused(r),
            };
            Ok(Some((entry, bytes.len() as u64)))
        }
        Err(Error::NotFound { .. }) => Ok(None),
        Err(Error::Corrupt { .. }) => Ok(Some((
            Entry::Refused(Refused {
                seq,
                reason: format!("larger than {MAX_EVENT_BYTES} bytes"),
                names: Vec::new(),
            }),
            0,
        ))),
        Err(e) => Err(e),
    }
}

/// Tries to write `event` as number `seq`. `Ok(false)`: someone else has that number.
pub async fn try_append(c: &Connected, seq: u64, at: i64, by: &str, event: &Event) -> Result<bool> {
    let layout = Layout::new(&c.prefix);
    let rec = Record {
        seq,
        at,
        by: by.to_string(),
        event: event.clone(),
    };
    // Never write what every reader would refuse.
    rec.check()
        .map_err(|e| Error::invalid(format!("cannot share this change: {e}")))?;
    let body = serde_json::to_vec_pretty(&rec)
        .map_err(|e| Error::Internal(format!("event encoding: {e}")))?;
    if body.len() as u64 > MAX_EVENT_BYTES {
        return Err(Error::invalid(format!(
            "cannot share this change: its log entry would be larger than {MAX_EVENT_BYTES} bytes"
        )));
    }
    let opts = PutOptions {
        mode: PutMode::Create,
        ..Default::default()
    };
    match c
        .store
        .put_opts(&layout.event(seq), PutPayload::from(body), opts)
        .await
    {
        Ok(_) => Ok(true),
        Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
        // Some servers answer a lost create race with a failed precondition.
        Err(object_store::Error::Precondition { .. }) => Ok(false),
        Err(e) => Err(remote_err(c, e)),
    }
}

/// The versions a log leaves alive, fed its events in order.
#[derive(Debug, Default)]
pub struct Live {
    versions: std::collections::BTreeMap<String, RemoteVersion>,
}

impl Live {
    pub fn apply(&mut self, r: &Record) {
        match &r.event {
            // The first create of an id wins, as in `pull`: a later one claiming the same id with
            // other content is refused there, so it must not make gc forget the real one's objects.
            Event::Create { version } => {
                self.versions
                    .entry(version.id.clone())
                    .or_insert_with(|| (**version).clone());
            }
            Event::Delete { id } => {
                self.versions.remove(id);
            }
            Event::DeleteDataset { dataset } => self.versions.retain(|_, v| &v.dataset != dataset),
            Event::Rename { from, to } => {
                for v in self.versions.values_mut().filter(|v| &v.dataset == from) {
                    v.dataset = to.clone();
                }
            }
            Event::Publish { .. }
            | Event::Tag { .. }
            | Event::Describe { .. }
            | Event::Meta { .. } => {}
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.versions.contains_key(id)
    }

    pub fn into_versions(self) -> Vec<RemoteVersion> {
        self.versions.into_values().collect()
    }
}

/// The versions `records` leave alive, applying deletes and renames in order.
pub fn live(records: &[Record]) -> Vec<RemoteVersion> {
    let mut live = Live::default();
    records.iter().for_each(|r| live.apply(r));
    live.into_versions()
}

/// Ids of versions created in `records` and deleted later in them (their content may be gone).
pub fn doomed<'a>(
    records: impl IntoIterator<Item = &'a Record> + Clone,
) -> std::collections::HashSet<String> {
    let mut live = Live::default();
    records.clone().into_iter().for_each(|r| live.apply(r));
    records
        .into_iter()
        .filter_map(|r| match &r.event {
            Event::Create { version } if !live.contains(&version.id) => Some(version.id.clone()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version() -> RemoteVersion {
        RemoteVersion {
            id: "0123456789abcdef0123456789abcdef".into(),
            dataset: "vision/cats".into(),
            semver: "1.0.0".into(),
            parents: vec!["fedcba9876543210fedcba9876543210".into()],
            state: "final".into(),
            manifest: Hash::of(b"m"),
            locator: Hash::of(b"l"),
            file_count: 3,
            total_bytes: 30,
            tags: vec!["train".into()],
            description: "cats".into(),
            metadata: Default::default(),
            created_at: 1_700_000_000_000,
            created_by: "ana@ws1".into(),
            finalized_at: Some(1_700_000_000_001),
        }
    }

    fn encoded(seq: u64, event: Event) -> Vec<u8> {
        serde_json::to_vec(&Record {
            seq,
            at: 1_700_000_000_000,
            by: "ana@ws1".into(),
            event,
        })
        .unwrap()
    }

    fn reason(bytes: &[u8], seq: u64) -> String {
        decode(bytes, seq).unwrap_err().reason
    }

    #[test]
    fn a_second_create_of_an_id_never_replaces_the_first() {
        let record = |seq, v: RemoteVersion| Record {
            seq,
            at: 0,
            by: "x".into(),
            event: Event::Create {
                version: Box::new(v),
            },
        };
        let real = version();
        let mut forged = version();
        forged.manifest = Hash::of(b"other");
        let mut live = Live::default();
        live.apply(&record(1, real.clone()));
        live.apply(&record(2, forged));
        assert_eq!(live.into_versions(), vec![real]);
    }

    #[test]
    fn a_valid_event_decodes() {
        let e = Event::Create {
            version: Box::new(version()),
        };
        assert_eq!(decode(&encoded(4, e.clone()), 4).unwrap().event, e);
    }

    #[test]
    fn every_field_is_checked() {
        let with = |f: fn(&mut RemoteVersion)| {
            let mut v = version();
            f(&mut v);
            encoded(
                1,
                Event::Create {
                    version: Box::new(v),
                },
            )
        };
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (with(|v| v.id = "../../x".into()), "not a version id"),
            (with(|v| v.id = "/etc/passwd".into()), "not a version id"),
            (
                with(|v| v.id = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz".into()),
                "not a version id",
            ),
            (
                with(|v| v.dataset = "a/../b".into()),
                "invalid project name",
            ),
            (
                with(|v| v.dataset = "a/b\u{7}".into()),
                "invalid dataset name",
            ),
            (with(|v| v.dataset = "/a/b/".into()), "usual form"),
            (
                with(|v| v.semver = "1.0.18446744073709551615".into()),
                "not supported",
            ),
            (
                with(|v| v.semver = "one".into()),
                "invalid semantic version",
            ),
            (with(|v| v.parents = vec!["..".into()]), "parent"),
            (with(|v| v.parents = vec![v.id.clone()]), "its parent"),
            (with(|v| v.state = "draft".into()), "cannot be shared"),
            (with(|v| v.file_count = u64::MAX), "files"),
            (with(|v| v.total_bytes = u64::MAX), "total size"),
            (with(|v| v.tags = vec!["a,b".into()]), "invalid tag"),
            (
                with(|v| v.description = "x".repeat(MAX_DESCRIPTION + 1)),
                "description",
            ),
            (with(|v| v.created_at = -1), "creation time"),
            (
                with(|v| v.finalized_at = Some(i64::MAX)),
                "finalization time",
            ),
            (with(|v| v.created_by = "a\nb".into()), "author"),
            (
                encoded(1, Event::Delete { id: "../x".into() }),
                "not a version id",
            ),
            (
                encoded(1, Event::Publish { id: "ABC".into() }),
                "not a version id",
            ),
            (
                encoded(
                    1,
                    Event::DeleteDataset {
                        dataset: "..".into(),
                    },
                ),
                "not a dataset name",
            ),
            (
                encoded(
                    1,
                    Event::Rename {
                        from: "a/b".into(),
                        to: "a/b".into(),
                    },
                ),
                "to itself",
            ),
            (
                encoded(
                    1,
                    Event::Tag {
                        id: version().id,
                        added: vec!["t".repeat(names::MAX_TAG + 1)],
                        removed: vec![],
                    },
                ),
                "invalid tag",
            ),
            (
                encoded(
                    1,
                    Event::Tag {
                        id: version().id,
                        added: vec!["a".into()],
                        removed: vec!["a".into()],
                    },
                ),
                "both added and removed",
            ),
            (
                encoded(
                    1,
                    Event::Describe {
                        id: version().id,
                        description: "x".repeat(MAX_DESCRIPTION + 1),
                    },
                ),
                "description",
            ),
            (
                encoded(
                    1,
                    Event::Meta {
                        id: version().id,
                        set: [("a\nb".to_string(), serde_json::Value::Null)]
                            .into_iter()
                            .collect(),
                        removed: vec![],
                    },
                ),
                "invalid metadata key",
            ),
            (
                encoded(
                    1,
                    Event::Meta {
                        id: version().id,
                        set: Default::default(),
                        removed: vec!["k=v".into()],
                    },
                ),
                "invalid metadata key",
            ),
            (
                encoded(
                    1,
                    Event::Meta {
                        id: "ABC".into(),
                        set: Default::default(),
                        removed: vec![],
                    },
                ),
                "not a version id",
            ),
            (b"{not json".to_vec(), "not a Strata log event"),
            (
                br#"{"seq":1,"at":0,"by":"x","kind":"explode"}"#.to_vec(),
                "unknown variant",
            ),
            (
                encoded(2, Event::Delete { id: version().id }),
                "says it is number 2",
            ),
        ];
        for (bytes, want) in cases {
            let got = reason(&bytes, 1);
            assert!(got.contains(want), "wanted '{want}', got '{got}'");
            assert!(!got.contains('\n'), "{got}");
        }
    }

    #[test]
    fn an_oversized_event_is_refused_before_parsing() {
        let big = vec![b' '; MAX_EVENT_BYTES as usize + 1];
        assert!(reason(&big, 1).contains("larger than"));
    }

    #[test]
    fn a_refused_entry_still_names_the_content_it_points_at() {
        let mut v = version();
        v.dataset = "../escape".into();
        let r = decode(
            &encoded(
                1,
                Event::Create {
                    version: Box::new(v.clone()),
                },
            ),
            1,
        )
        .unwrap_err();
        assert!(r.names.contains(&v.manifest) && r.names.contains(&v.locator));
    }

    #[test]
    fn a_bounded_read_stops_at_the_limit_even_when_the_stream_never_ends() {
        let endless = futures::stream::repeat_with(|| Ok(Bytes::from(vec![0u8; 64 << 10])));
        let got = futures::executor::block_on(collect_bounded(endless, MAX_EVENT_BYTES)).unwrap();
        assert!(got.is_none());
        let short = futures::stream::iter(vec![
            Ok(Bytes::from_static(b"ab")),
            Ok(Bytes::from_static(b"c")),
        ]);
        let got = futures::executor::block_on(collect_bounded(short, 3)).unwrap();
        assert_eq!(got.as_deref(), Some(&b"abc"[..]));
    }

    #[test]
    fn deletes_and_renames_decide_what_is_live() {
        let v = version();
        let rec = |seq, event| Record {
            seq,
            at: 0,
            by: String::new(),
            event,
        };
        let records = vec![
            rec(
                1,
                Event::Create {
                    version: Box::new(v.clone()),
                },
            ),
            rec(
                2,
                Event::Rename {
                    from: "vision/cats".into(),
                    to: "vision/felines".into(),
                },
            ),
        ];
        assert_eq!(live(&records)[0].dataset, "vision/felines");
        let mut gone = records.clone();
        gone.push(rec(
            3,
            Event::DeleteDataset {
                dataset: "vision/felines".into(),
            },
        ));
        assert!(live(&gone).is_empty());
        assert!(doomed(&gone).contains(&v.id));
    }
}
