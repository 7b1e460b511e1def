//! Dropping the local copy of objects a remote holds (`strata free`). Like [`crate::gc`], it runs
//! under the store's exclusive lock and rewrites packs before the index switches to them, so a
//! kill at any point leaves every object either where the index says or absent (and fetched
//! again from the remote by the next `get`): never an index entry pointing at missing bytes.

use std::collections::HashSet;
use std::fs;

use serde::Serialize;
use strata_core::{Hash, IoContext, Progress, Result};

use crate::pack::PackWriter;
use crate::{Location, Store, LOOSE_MIN};

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Dropped {
    pub objects: u64,
    pub bytes: u64,
    pub packs_rewritten: u64,
}

/// Removes the objects of `doomed` the store holds: loose files deleted, packs that hold any of
/// them rewritten with the rest. The caller holds [`Store::gc_guard`] and has made sure each is
/// safely elsewhere.
pub fn drop_objects(
    store: &Store,
    doomed: &HashSet<(Hash, u64)>,
    progress: &dyn Progress,
) -> Result<Dropped> {
    let mut r = Dropped::default();
    progress.begin("freeing local content", doomed.len() as u64, 0);
    for (h, size) in doomed.iter().filter(|(_, s)| *s >= LOOSE_MIN) {
        let p = store.loose_path(h);
        match fs::remove_file(&p) {
            Ok(()) => {
                r.objects += 1;
                r.bytes += size;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).ctx("remove", &p),
        }
        progress.advance(1, *size);
    }
    let small: HashSet<Hash> = doomed
        .iter()
        .filter(|(_, s)| *s < LOOSE_MIN)
        .map(|(h, _)| *h)
        .collect();
    if small.is_empty() {
        progress.end();
        return Ok(r);
    }
    let mut writer = PackWriter::new(store.tmp_dir(), store.packs_dir(), true);
    let mut old_ids = Vec::new();
    let mut old_files = Vec::new();
    for p in store.index.packs()? {
        if !p.records.iter().any(|(h, _, _)| small.contains(h)) {
            continue;
        }
        for (h, off, len) in &p.records {
            if small.contains(h) {
                r.objects += 1;
                r.bytes += len;
                progress.advance(1, *len);
                continue;
            }
            let data = store.read(&Location::Packed {
                pack: p.name.as_str().into(),
                offset: *off,
                len: *len,
            })?;
            writer.append(*h, &data)?;
        }
        r.packs_rewritten += 1;
        old_ids.push(p.id);
        old_files.push(store.pack_path(&p.name));
    }
    // New packs are in place (synced) before the index names them; the old files go only after
    // the index stopped naming them. A kill between leaves unnamed packs, which `gc` removes.
    let new = writer.finish()?;
    store.index.replace_packs(&old_ids, &new)?;
    if let Ok(mut open) = store.packs.lock() {
        for f in &old_files {
            if let Some(stem) = f.file_stem().and_then(|s| s.to_str()) {
                open.remove(stem);
            }
        }
    }
    for f in old_files {
        let _ = fs::remove_file(&f);
    }
    progress.end();
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::NoProgress;

    #[test]
    fn dropped_objects_go_and_their_pack_neighbours_stay_readable() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let objects: Vec<(Hash, Vec<u8>)> = (0..10)
            .map(|i| {
                let b = format!("object {i}").into_bytes();
                (Hash::of(&b), b)
            })
            .collect();
        let mut import = store.small_import();
        for (h, b) in &objects {
            import.append(*h, b).unwrap();
        }
        import.commit().unwrap();
        let doomed: HashSet<(Hash, u64)> = objects
            .iter()
            .step_by(2)
            .map(|(h, b)| (*h, b.len() as u64))
            .collect();
        let r = drop_objects(&store, &doomed, &NoProgress).unwrap();
        assert_eq!((r.objects, r.packs_rewritten), (5, 1));
        for (i, (h, b)) in objects.iter().enumerate() {
            let loc = store.locate(h, b.len() as u64).unwrap();
            match loc {
                Some(loc) if i % 2 == 1 => assert_eq!(&store.read(&loc).unwrap(), b),
                None if i % 2 == 0 => {}
                other => panic!("object {i}: {other:?}"),
            }
        }
        let packs = fs::read_dir(store.packs_dir()).unwrap().count();
        assert_eq!(
            packs, 1,
            "the old pack is gone, the rewritten one holds the rest"
        );
    }
}
