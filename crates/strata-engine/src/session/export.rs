//! `export`: versions, their lineage and the content they need, into one session file.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use serde::Serialize;
use strata_core::error::Remedy;
use strata_core::names::DatasetName;
use strata_core::{Cancel, Error, Hash, IoContext, Progress, Result, Version};
use strata_store::Location;

use super::archive::TarWriter;
use super::{Header, SessionVersion, FORMAT, FORMAT_VERSION, FORMAT_VERSION_WHOLE, HEADER_NAME};
use crate::Engine;

#[derive(Clone, Debug, Serialize)]
pub struct ExportOutcome {
    pub path: PathBuf,
    /// `project/name@semver` of every version in the file, parents first.
    pub versions: Vec<String>,
    /// Content objects in the file and their bytes.
    pub objects: u64,
    pub object_bytes: u64,
    /// The file's size.
    pub bytes: u64,
}

impl Engine {
    /// Writes `what` (each a dataset `project/name`, meaning all its versions, drafts
    /// included, or a reference, meaning that version and its ancestors) into a session file at
    /// `out`. With `since`, that version and its ancestors are left out, and so is their content:
    /// the receiving home already has them. The file appears whole or not at all.
    #[tracing::instrument(skip_all, fields(out = %out.display()))]
    pub fn export(
        &mut self,
        what: &[String],
        since: Option<&str>,
        out: &Path,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<ExportOutcome> {
        if what.is_empty() {
            return Err(Error::invalid(
                "name at least one dataset or version to export",
            ));
        }
        let mut chosen: Vec<Version> = Vec::new();
        for w in what {
            if is_dataset_name(w) {
                let d = DatasetName::parse(w)?;
                self.catalog.require_dataset(&d)?;
                chosen.extend(self.catalog.versions_of(&d)?);
            } else {
                chosen.push(self.resolve(w)?);
            }
        }
        let known = match since {
            Some(r) => {
                let base = self.resolve(r)?;
                self.with_ancestors(vec![base])?
            }
            None => Vec::new(),
        };
        let known_ids: HashSet<&str> = known.iter().map(|v| v.id.as_str()).collect();
        let versions: Vec<Version> = self
            .with_ancestors(chosen)?
            .into_iter()
            .filter(|v| !known_ids.contains(v.id.as_str()))
            .collect();
        if versions.is_empty() {
            return Err(Error::invalid(format!(
                "nothing to export: {} already holds everything named",
                since.unwrap_or_default()
            )));
        }

        // The content the receiving side may lack: what these versions hold, less what the
        // versions it has hold. Links are references, not content.
        let mut have: HashSet<Hash> = HashSet::new();
        for v in &known {
            for e in self.manifest_of(v)?.entries() {
                have.extend(e.objects().map(|(h, _)| h));
            }
        }
        let mut objects: BTreeMap<Hash, u64> = BTreeMap::new();
        let mut manifests = Vec::new();
        // Whether any file travels as pieces: the layout a reader must know (FORMAT_VERSION).
        let mut pieces = false;
        // Which version brought each object first: the one to fetch it for, when it is missing.
        let mut first_in: Vec<(usize, Vec<strata_core::Entry>)> = Vec::new();
        for (i, v) in versions.iter().enumerate() {
            let m = self.manifest_of(v)?;
            let mut new = Vec::new();
            for e in m.entries() {
                // A file stored in pieces travels as its pieces: those the other side has are
                // left out like any object.
                let mut brings = false;
                pieces |= e.chunks.is_some();
                for (h, size) in e.objects() {
                    if !have.contains(&h) && !objects.contains_key(&h) {
                        objects.insert(h, size);
                        brings = true;
                    }
                }
                if brings {
                    new.push(e.clone());
                }
            }
            first_in.push((i, new));
            manifests.push((v.manifest, m.encode()));
        }
        // One index lookup for all of them (a query per object costs more than the copy).
        let mut places = self
            .store
            .locate_all(objects.iter().map(|(h, s)| (h, *s)))?;
        if places.len() < objects.len() {
            for (i, entries) in first_in {
                let lacking: Vec<_> = entries
                    .into_iter()
                    .filter(|e| e.objects().any(|(h, _)| !places.contains_key(&h)))
                    .collect();
                if lacking.is_empty() {
                    continue;
                }
                let v = &versions[i];
                self.online("export").map_err(|_| {
                    Error::Unavailable(format!(
                        "the content of {} is not on this machine ({} files were pulled, not \
                         fetched), and it is offline",
                        v.label(),
                        lacking.len()
                    ))
                    .with_remedy(Remedy::GoOnline)
                })?;
                self.fetch_missing(v, &lacking, false, progress, cancel)?;
            }
            places = self
                .store
                .locate_all(objects.iter().map(|(h, s)| (h, *s)))?;
        }
        // Read packs front to back: the order they were written in.
        let mut order: Vec<(&Hash, &Location)> = Vec::with_capacity(objects.len());
        for h in objects.keys() {
            let loc = places.get(h).ok_or_else(|| Error::Corrupt {
                what: "store".into(),
                detail: format!("object {h} is missing; run strata verify"),
            })?;
            order.push((h, loc));
        }
        order.sort_by(|a, b| location_key(a.1).cmp(&location_key(b.1)));

        let header = Header {
            format: FORMAT.into(),
            version: if pieces {
                FORMAT_VERSION
            } else {
                FORMAT_VERSION_WHOLE
            },
            created_at: strata_core::time::now_ms(),
            created_by: crate::naming::who(),
            versions: versions.iter().map(SessionVersion::of).collect(),
            objects: objects.len() as u64,
            object_bytes: objects.values().sum(),
        };
        let header_json = serde_json::to_vec_pretty(&header)
            .map_err(|e| Error::Internal(format!("session header: {e}")))?;

        let tmp = partial_path(out)?;
        let written = (|| -> Result<u64> {
            let f = File::create(&tmp).ctx("create", &tmp)?;
            let mut tar = TarWriter::new(
                BufWriter::with_capacity(1 << 22, f),
                (header.created_at / 1000).max(0) as u64,
            );
            tar.bytes(HEADER_NAME, &header_json).ctx("write", &tmp)?;
            let mut done = HashSet::new();
            for (h, bytes) in &manifests {
                if done.insert(*h) {
                    tar.bytes(&super::manifest_member(h), bytes)
                        .ctx("write", &tmp)?;
                }
            }
            progress.begin("exporting", header.objects, header.object_bytes);
            for (h, loc) in &order {
                cancel.check()?;
                let size = objects[*h];
                let name = super::object_member(h);
                match loc {
                    Location::Packed { .. } | Location::Chunked(_) => {
                        let bytes = self.store.read(loc)?;
                        tar.bytes(&name, &bytes).ctx("write", &tmp)?;
                    }
                    Location::Loose(p) => {
                        let f = File::open(p).ctx("read", p)?;
                        tar.copy(&name, size, f).ctx("write", &tmp)?;
                    }
                }
                progress.advance(1, size);
            }
            progress.end();
            let w = tar.written();
            // Not synced: like `tar`, the file is left to the page cache. A file a power cut
            // leaves short or empty is refused whole by import (its end marker and every
            // object are checked), so syncing would only make every export slower.
            tar.finish()
                .ctx("write", &tmp)?
                .into_inner()
                .map_err(|e| e.into_error())
                .ctx("write", &tmp)?;
            Ok(w + 1024)
        })();
        let bytes = match written {
            Ok(b) => b,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        fs::rename(&tmp, out).ctx("rename into place", out)?;
        Ok(ExportOutcome {
            path: out.to_path_buf(),
            versions: versions.iter().map(Version::label).collect(),
            objects: header.objects,
            object_bytes: header.object_bytes,
            bytes,
        })
    }

    /// `versions` and every ancestor of theirs this home has, parents before children, each once.
    fn with_ancestors(&self, versions: Vec<Version>) -> Result<Vec<Version>> {
        let mut by_id: HashMap<String, Version> = HashMap::new();
        let mut todo: Vec<Version> = versions;
        while let Some(v) = todo.pop() {
            if by_id.contains_key(&v.id) {
                continue;
            }
            for p in &v.parents {
                if !by_id.contains_key(p) {
                    // A parent deleted here (delete --force) is simply not carried.
                    if let Ok(pv) = self.catalog.version(p) {
                        todo.push(pv);
                    }
                }
            }
            by_id.insert(v.id.clone(), v);
        }
        // Parents first: a depth-first walk in creation order.
        let mut ids: Vec<&Version> = by_id.values().collect();
        ids.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let mut out = Vec::with_capacity(ids.len());
        let mut placed: HashSet<&str> = HashSet::new();
        for v in ids {
            place(v, &by_id, &mut placed, &mut out);
        }
        Ok(out)
    }
}

/// Puts `v` in `out` after its parents (iteratively: lineages can be long).
fn place<'a>(
    v: &'a Version,
    by_id: &'a HashMap<String, Version>,
    placed: &mut HashSet<&'a str>,
    out: &mut Vec<Version>,
) {
    let mut stack: Vec<(&Version, usize)> = vec![(v, 0)];
    while let Some((cur, next)) = stack.pop() {
        if stack.len() > by_id.len() + 1 {
            break; // a lineage loop, which the catalog's parent rules never make
        }
        if placed.contains(cur.id.as_str()) {
            continue;
        }
        if let Some(p) = cur.parents.get(next) {
            stack.push((cur, next + 1));
            if let Some(pv) = by_id.get(p) {
                if !placed.contains(pv.id.as_str()) {
                    stack.push((pv, 0));
                }
            }
            continue;
        }
        placed.insert(cur.id.as_str());
        out.push(cur.clone());
    }
}

/// `project/name` alone names a whole dataset; anything with `@`, `:` or no `/` is a reference.
fn is_dataset_name(s: &str) -> bool {
    s.contains('/') && !s.contains('@') && !s.contains(':')
}

fn location_key(l: &Location) -> (u8, &str, u64) {
    match l {
        Location::Packed { pack, offset, .. } => (0, &**pack, *offset),
        Location::Loose(p) => (1, p.to_str().unwrap_or_default(), 0),
        Location::Chunked(_) => (2, "", 0),
    }
}

/// Where the file is written before it is renamed into place: beside it, so the rename is atomic.
fn partial_path(out: &Path) -> Result<PathBuf> {
    let name = out
        .file_name()
        .ok_or_else(|| Error::invalid(format!("{} is not a file name", out.display())))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let tmp = format!(
        ".{}.partial-{}-{nanos}",
        name.to_string_lossy(),
        std::process::id()
    );
    Ok(out.with_file_name(tmp))
}
