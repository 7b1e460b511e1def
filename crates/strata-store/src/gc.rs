//! Removing content no version refers to. Runs under the store's exclusive lock, so no writer is
//! mid-ingest. Packs with dead objects are rewritten with the live ones; the index switches to
//! the new packs in one transaction before the old files go, so a kill at any point leaves every
//! live object reachable.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use serde::Serialize;
use strata_core::{Hash, IoContext, Progress, Result};

use crate::pack::PackWriter;
use crate::{Location, Store};

#[derive(Clone, Debug, Default, Serialize)]
pub struct GcReport {
    pub dry_run: bool,
    pub objects_removed: u64,
    pub bytes_removed: u64,
    pub packs_rewritten: u64,
    pub manifests_removed: u64,
    pub cache_files_removed: u64,
}

pub fn collect(
    store: &Store,
    live: &HashSet<Hash>,
    live_manifests: &HashSet<Hash>,
    pool: &Path,
    dry_run: bool,
    progress: &dyn Progress,
) -> Result<GcReport> {
    let mut r = GcReport {
        dry_run,
        ..Default::default()
    };
    progress.begin("collecting", 0, 0);
    if !dry_run {
        clear_dir(&store.tmp_dir())?;
        clear_dir(&pool.join("tmp"))?;
    }

    if !dry_run {
        store.index.prune_pieces(live)?;
    }

    // Loose objects.
    for (path, h) in hashed_files(&store.root().join("objects"))? {
        if !live.contains(&h) {
            r.objects_removed += 1;
            r.bytes_removed += fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if !dry_run {
                fs::remove_file(&path).ctx("remove", &path)?;
            }
        }
    }

    // Packs.
    let packs = store.index.packs()?;
    let mut known_packs = HashSet::new();
    let mut old_ids = Vec::new();
    let mut old_files = Vec::new();
    let mut writer = PackWriter::new(store.tmp_dir(), store.packs_dir(), true);
    for crate::index::IndexedPack {
        id,
        name,
        records: recs,
    } in &packs
    {
        known_packs.insert(format!("{name}.pack"));
        let dead: Vec<_> = recs.iter().filter(|(h, _, _)| !live.contains(h)).collect();
        if dead.is_empty() {
            continue;
        }
        r.objects_removed += dead.len() as u64;
        r.bytes_removed += dead.iter().map(|(_, _, l)| l).sum::<u64>();
        r.packs_rewritten += 1;
        if dry_run {
            continue;
        }
        for (h, off, len) in recs.iter().filter(|(h, _, _)| live.contains(h)) {
            let data = store.read(&Location::Packed {
                pack: name.as_str().into(),
                offset: *off,
                len: *len,
            })?;
            writer.append(*h, &data)?;
        }
        old_ids.push(*id);
        old_files.push(store.pack_path(name));
    }
    if !dry_run {
        let new = writer.finish()?;
        store.index.replace_packs(&old_ids, &new)?;
        for f in old_files {
            let _ = fs::remove_file(&f);
        }
        // Packs the index never learned about: left by a killed ingest.
        for item in fs::read_dir(store.packs_dir()).ctx("read", &store.packs_dir())? {
            let item = item.ctx("read", &store.packs_dir())?;
            let name = item.file_name().to_string_lossy().to_string();
            let fresh = new.iter().any(|p| format!("{}.pack", p.name) == name);
            if !known_packs.contains(&name) && !fresh {
                r.bytes_removed += item.metadata().map(|m| m.len()).unwrap_or(0);
                let _ = fs::remove_file(item.path());
            }
        }
    }

    // Manifests.
    for (path, h) in hashed_files(&store.root().join("manifests"))? {
        if !live_manifests.contains(&h) {
            r.manifests_removed += 1;
            if !dry_run {
                fs::remove_file(&path).ctx("remove", &path)?;
            }
        }
    }

    // Extracted copies in the read-only cache pool no version needs, and files a killed
    // extraction left beside them (under the exclusive lock no extraction is running): one walk.
    for (path, name) in bucket_files(pool)? {
        let dead = name.starts_with(crate::pool::TMP_PREFIX)
            || Hash::from_hex(&name).is_ok_and(|h| !live.contains(&h));
        if dead {
            r.cache_files_removed += 1;
            if !dry_run {
                fs::remove_file(&path).ctx("remove", &path)?;
            }
        }
    }
    progress.end();
    Ok(r)
}

/// Every file under `root/ab/`, with its name (names that are not UTF-8 are left out: none of
/// ours is).
fn bucket_files(root: &Path) -> Result<Vec<(std::path::PathBuf, String)>> {
    let mut out = Vec::new();
    let Ok(top) = fs::read_dir(root) else {
        return Ok(out);
    };
    for d in top.flatten() {
        if d.file_name().len() != 2 || !d.path().is_dir() {
            continue;
        }
        for f in fs::read_dir(d.path()).ctx("read", &d.path())?.flatten() {
            if let Ok(name) = f.file_name().into_string() {
                out.push((f.path(), name));
            }
        }
    }
    Ok(out)
}

/// Files named by their hash under `root/ab/<hex>`.
pub fn hashed_files(root: &Path) -> Result<Vec<(std::path::PathBuf, Hash)>> {
    Ok(bucket_files(root)?
        .into_iter()
        .filter_map(|(path, name)| Some((path, Hash::from_hex(&name).ok()?)))
        .collect())
}

fn clear_dir(dir: &Path) -> Result<()> {
    let Ok(items) = fs::read_dir(dir) else {
        return Ok(());
    };
    for item in items.flatten() {
        let p = item.path();
        if p.is_dir() {
            crate::fsutil::remove_tree(&p)?;
        } else {
            let _ = fs::remove_file(&p);
        }
    }
    Ok(())
}
