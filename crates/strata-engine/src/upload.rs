//! `upload` and `push`: sending a version's content to a remote and then, last, its catalog entry.
//!
//! Order matters, because the bucket is shared: content first (small objects in new packs, large
//! ones in parts, several at once), then the manifest and the locator, and only then the `create`
//! event in the log. Nobody can see a version before everything it names is there. Each finished
//! pack or object is recorded here at once, so an interrupted upload resumes where it stopped.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use strata_core::error::{Kind, Remedy};
use strata_core::{Cancel, Error, Hash, Progress, Result, State, UploadState, Version};
use strata_remote::log::{Event, RemoteVersion};
use strata_remote::{Connected, Layout};
use strata_store::{PlaceList, RemotePlace, LOOSE_MIN};

use crate::runtime::block_on;
use crate::Engine;

/// Small objects travel in packs of about this size: few requests, and little lost when one
/// has to be sent again.
const PACK_SIZE: u64 = 8 << 20;
const PACKS_IN_FLIGHT: usize = 6;
const LARGE_IN_FLIGHT: usize = 2;
const CHECKS_IN_FLIGHT: usize = 16;

#[derive(Clone, Debug, Default, Serialize)]
pub struct UploadOutcome {
    pub remote: String,
    /// `project/name@semver` of every version uploaded, ancestors first.
    pub uploaded: Vec<String>,
    pub id: String,
    pub version: String,
    /// Objects and bytes sent this time.
    pub sent_objects: u64,
    pub sent_bytes: u64,
    /// Objects the remote already had.
    pub skipped_objects: u64,
    pub skipped_bytes: u64,
    /// When a team member took this version's number first: what it was.
    pub renumbered_from: Option<String>,
    pub already_uploaded: bool,
}

impl Engine {
    /// Uploads a final version (and any of its ancestors not yet shared).
    #[tracing::instrument(skip_all, fields(reference = %reference, remote = ?remote))]
    pub fn upload(
        &mut self,
        reference: &str,
        remote: Option<&str>,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<UploadOutcome> {
        let v = self.resolve(reference)?;
        if v.state == State::Draft {
            return Err(Error::invalid(format!(
                "{} is a draft; only a final version is uploaded",
                v.label()
            ))
            .with_remedy(Remedy::Finalize));
        }
        let dataset = strata_core::DatasetName::parse(&v.full_name())?;
        let c = self.connect_writable(remote, Some(&dataset))?;
        block_on(self.upload_to(&c, &v.id, progress, cancel))?
    }

    pub(crate) async fn upload_to(
        &mut self,
        c: &Connected,
        id: &str,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<UploadOutcome> {
        // Its number before this upload's first pull: a teammate's version may take it in that
        // pull already, and the outcome must still say it was renumbered.
        let before = self.catalog.version(id)?.semver;
        self.pull_from(c, progress).await?;
        let mut out = UploadOutcome {
            remote: c.name.clone(),
            ..Default::default()
        };
        // Ancestors first, so the lineage is whole on every machine.
        for a in self.unshared_lineage(id, &c.name)? {
            cancel.check()?;
            self.upload_one(c, &a, &mut out, progress, cancel).await?;
        }
        let v = self.catalog.version(id)?;
        if v.semver != before && out.renumbered_from.is_none() {
            out.renumbered_from = Some(before);
        }
        out.id = v.id.clone();
        out.version = v.label();
        out.already_uploaded = out.uploaded.is_empty();
        Ok(out)
    }

    /// `id` and its ancestors that `remote` does not have yet, oldest first.
    pub(crate) fn unshared_lineage(&self, id: &str, remote: &str) -> Result<Vec<String>> {
        let mut order = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![(id.to_string(), false)];
        while let Some((cur, expanded)) = stack.pop() {
            if expanded {
                order.push(cur);
                continue;
            }
            if !seen.insert(cur.clone()) {
                continue;
            }
            let Ok(v) = self.catalog.version(&cur) else {
                continue;
            };
            let shared = v.remote.as_deref() == Some(remote)
                && matches!(v.upload_state, UploadState::Uploaded | UploadState::Remote);
            if shared || v.state == State::Draft {
                continue;
            }
            stack.push((cur, true));
            for p in v.parents.iter().rev() {
                stack.push((p.clone(), false));
            }
        }
        Ok(order)
    }

    pub(crate) async fn upload_one(
        &mut self,
        c: &Connected,
        id: &str,
        out: &mut UploadOutcome,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<()> {
        let v = self.catalog.version(id)?;
        // Every other home checks the record it reads; find out now, before sending anything,
        // if they would refuse this one (a description too long for the log, say).
        remote_version(&v, v.manifest)
            .check()
            .map_err(|e| Error::invalid(format!("{} cannot be shared: {e}", v.label())))?;
        // An interrupted upload may have packs on the remote it never got to record.
        let resuming =
            v.upload_state == UploadState::Uploading && v.remote.as_deref() == Some(&c.name);
        self.catalog
            .write(|w| w.set_remote(&v.id, Some(&c.name), UploadState::Uploading))?;
        // The manifest as stored: its objects are read from it one entry at a time and its
        // bytes go to the remote as they are (a million entries decoded were 110 MB, and
        // encoded again another 45).
        let manifest = self.store.manifest_bytes(&v.manifest)?;
        let mut sizes: BTreeMap<Hash, u64> = BTreeMap::new();
        let mut entries = strata_core::manifest::EncodedEntries::new(&manifest)?;
        while let Some(e) = entries.next_entry()? {
            // Files stored in pieces are sent as pieces: those the remote holds (the unchanged
            // parts of an edited shard) are skipped like any object it holds.
            sizes.extend(e.objects());
        }
        // Two rounds at most: the second re-sends anything the remote lost meanwhile (a gc).
        let mut locator = None;
        for _ in 0..2 {
            self.send_content(c, &sizes, resuming, out, progress, cancel)
                .await?;
            // In hash order, as `sizes` is: the locator's order.
            let places = self
                .store
                .remote_places_listed(&c.name, sizes.keys().copied())?;
            if places.places.len() != sizes.len() {
                return Err(Error::Internal("uploaded content is not recorded".into()));
            }
            if self.confirm_present(c, &places).await? {
                locator = Some(strata_remote::locator::encode_sorted(
                    places
                        .places
                        .iter()
                        .map(|p| (&p.hash, places.pack_of(p), p.offset, p.len)),
                ));
                break;
            }
        }
        drop(sizes);
        let locator_bytes = locator.ok_or_else(|| {
            Error::remote_failure(
                &c.name,
                Kind::Unavailable,
                "content disappeared while it was being uploaded (a remote gc at the same time?)",
            )
        })?;
        let layout = Layout::new(&c.prefix);
        let locator_hash = Hash::of(&locator_bytes);
        c.put_bytes(&layout.locator(&locator_hash), Bytes::from(locator_bytes))
            .await?;
        c.put_bytes(&layout.manifest(&v.manifest), Bytes::from(manifest))
            .await?;
        self.append_create(c, &v.id, locator_hash, out, progress)
            .await
    }

    /// Sends what the remote is not known to hold: small objects packed, large ones whole.
    ///
    /// Packs are grouped deterministically (sorted hashes, cut at `PACK_SIZE`), and removing
    /// whole groups leaves the others unchanged, so when `resuming`, a pack that landed but was
    /// never recorded has the same name again and is found with one HEAD instead of re-sent.
    pub(crate) async fn send_content(
        &self,
        c: &Connected,
        sizes: &BTreeMap<Hash, u64>,
        resuming: bool,
        out: &mut UploadOutcome,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<()> {
        let known = self.store.remote_places(&c.name, sizes.keys().copied())?;
        let mut small: Vec<(Hash, u64)> = Vec::new();
        let mut large: Vec<(Hash, u64)> = Vec::new();
        for (h, size) in sizes {
            if let Some(p) = known.get(h) {
                out.skipped_objects += 1;
                out.skipped_bytes += p.len;
            } else if *size >= LOOSE_MIN {
                large.push((*h, *size));
            } else {
                small.push((*h, *size));
            }
        }
        let groups = pack_groups(&small);
        let total: u64 = small.iter().chain(&large).map(|(_, s)| s).sum();
        progress.begin(
            &format!("uploading to {}", c.name),
            (small.len() + large.len()) as u64,
            total,
        );
        let layout = Layout::new(&c.prefix);
        let store = &self.store;
        let small = &small;
        let sent = futures::stream::iter(groups.into_iter().map(|range| {
            let layout = &layout;
            async move {
                let group = &small[range];
                cancel.check()?;
                let mut buf = Vec::with_capacity(group.iter().map(|(_, s)| *s as usize).sum());
                let mut places = Vec::with_capacity(group.len());
                for (h, size) in group {
                    let loc = store.locate(h, *size)?.ok_or_else(|| {
                        Error::Corrupt {
                            what: "store".into(),
                            detail: format!("object {h} is missing"),
                        }
                        .with_remedy(Remedy::Verify)
                    })?;
                    let bytes = store.read(&loc)?;
                    places.push((
                        *h,
                        RemotePlace {
                            pack: None,
                            offset: buf.len() as u64,
                            len: bytes.len() as u64,
                        },
                    ));
                    buf.extend_from_slice(&bytes);
                }
                let name = Hash::of(&buf).to_hex()[..32].to_string();
                for (_, p) in &mut places {
                    p.pack = Some(name.clone());
                }
                let n = buf.len() as u64;
                let key = layout.pack(&name);
                let landed = resuming && c.size_of(&key).await? == Some(n);
                if !landed {
                    c.put_bytes(&key, Bytes::from(buf)).await?;
                }
                store.record_remote(&c.name, &places)?;
                progress.advance(places.len() as u64, n);
                Ok::<_, Error>((places.len() as u64, n, !landed))
            }
        }))
        .buffer_unordered(PACKS_IN_FLIGHT)
        .try_fold([0u64; 4], |mut acc, (o, b, sent)| async move {
            let i = if sent { 0 } else { 2 };
            acc[i] += o;
            acc[i + 1] += b;
            Ok(acc)
        })
        .await?;
        out.sent_objects += sent[0];
        out.sent_bytes += sent[1];
        out.skipped_objects += sent[2];
        out.skipped_bytes += sent[3];
        let sent = futures::stream::iter(large.into_iter().map(|(h, size)| {
            let layout = &layout;
            async move {
                cancel.check()?;
                let key = layout.object(&h);
                // Someone else may have sent the same file.
                let there = c.size_of(&key).await? == Some(size);
                if !there {
                    let path = store.loose_path(&h);
                    if !path.exists() {
                        return Err(Error::Corrupt {
                            what: "store".into(),
                            detail: format!("object {h} is missing"),
                        }
                        .with_remedy(Remedy::Verify));
                    }
                    c.put_file(&key, &path, progress, cancel).await?;
                } else {
                    progress.advance(0, size);
                }
                let place = RemotePlace {
                    pack: None,
                    offset: 0,
                    len: size,
                };
                store.record_remote(&c.name, &[(h, place)])?;
                progress.advance(1, 0);
                Ok::<_, Error>(if there { (0, 0) } else { (1, size) })
            }
        }))
        .buffer_unordered(LARGE_IN_FLIGHT)
        .try_fold((0u64, 0u64), |(o, b), (o2, b2)| async move {
            Ok((o + o2, b + b2))
        })
        .await?;
        out.sent_objects += sent.0;
        out.sent_bytes += sent.1;
        progress.end();
        Ok(())
    }

    /// Checks that every pack and large object the locator will name is on the remote; forgets
    /// those that are not (so the next round sends them) and says whether all were there.
    pub(crate) async fn confirm_present(&self, c: &Connected, places: &PlaceList) -> Result<bool> {
        let layout = Layout::new(&c.prefix);
        let mut keys: Vec<(
            Option<String>,
            strata_remote::object_store::path::Path,
            Option<Hash>,
        )> = places
            .packs
            .iter()
            .map(|name| (Some(name.clone()), layout.pack(name), None))
            .collect();
        for p in places.places.iter().filter(|p| p.pack.is_none()) {
            keys.push((None, layout.object(&p.hash), Some(p.hash)));
        }
        let missing: Vec<(Option<String>, Option<Hash>)> =
            futures::stream::iter(keys.into_iter().map(|(pack, key, h)| async move {
                Ok::<_, Error>(c.size_of(&key).await?.is_none().then_some((pack, h)))
            }))
            .buffer_unordered(CHECKS_IN_FLIGHT)
            .try_filter_map(|m| async move { Ok(m) })
            .try_collect()
            .await?;
        for (pack, h) in &missing {
            match (pack, h) {
                (Some(p), _) => self.store.forget_remote_pack(&c.name, p)?,
                (None, Some(h)) => self.store.forget_remote_object(&c.name, h)?,
                _ => {}
            }
        }
        Ok(missing.is_empty())
    }

    /// Appends the version's `create` event, reading and applying whatever others appended
    /// first; a number taken meanwhile is given up for the next free one.
    pub(crate) async fn append_create(
        &mut self,
        c: &Connected,
        id: &str,
        locator: Hash,
        out: &mut UploadOutcome,
        progress: &dyn Progress,
    ) -> Result<()> {
        // Held until the catalog says `uploaded`: a `delete` meanwhile would see the version
        // still uploading, share no Delete event, and the create landing after it would bring
        // the version back on every home.
        let (_lock, v) =
            self.lock_version(id, "upload", crate::writers::Wait::Short, Some(progress))?;
        let original = v.semver;
        let appended = self
            .append_with(c, progress, |engine| {
                let v = engine.catalog.version(id)?;
                // Uploaded already: an earlier run appended it and stopped before noting so.
                Ok(
                    (v.upload_state != UploadState::Uploaded).then(|| Event::Create {
                        version: Box::new(remote_version(&v, locator)),
                    }),
                )
            })
            .await?;
        if appended.is_some() {
            self.catalog
                .write(|w| w.set_remote(id, Some(&c.name), UploadState::Uploaded))?;
        }
        let v = self.catalog.version(id)?;
        if v.semver != original {
            out.renumbered_from = Some(original);
        }
        out.uploaded.push(v.label());
        Ok(())
    }
}

/// Splits small objects into runs of about `PACK_SIZE` bytes, as ranges of `small` (a copy of
/// a million objects' hashes and sizes would be 40 MB).
fn pack_groups(small: &[(Hash, u64)]) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let mut start = 0;
    let mut cur_bytes = 0;
    for (i, &(_, s)) in small.iter().enumerate() {
        cur_bytes += s;
        if cur_bytes >= PACK_SIZE {
            groups.push(start..i + 1);
            start = i + 1;
            cur_bytes = 0;
        }
    }
    if start < small.len() {
        groups.push(start..small.len());
    }
    groups
}

fn remote_version(v: &Version, locator: Hash) -> RemoteVersion {
    RemoteVersion {
        id: v.id.clone(),
        dataset: v.full_name(),
        semver: v.semver.clone(),
        parents: v.parents.clone(),
        state: v.state.as_str().into(),
        manifest: v.manifest,
        locator,
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

impl Engine {
    /// Uploads a final version, or marks it pending when offline.
    #[tracing::instrument(skip_all, fields(remote = ?remote))]
    pub fn upload_or_queue(
        &mut self,
        v: &Version,
        remote: Option<&str>,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<(Version, Option<crate::UploadOutcome>)> {
        if matches!(v.upload_state, UploadState::Uploaded | UploadState::Remote) {
            return Ok((v.clone(), None));
        }
        let d = strata_core::DatasetName::parse(&v.full_name())?;
        let spec = self.remote_for(remote, Some(&d))?;
        if self.offline {
            self.catalog
                .write(|w| w.set_remote(&v.id, Some(&spec.name), UploadState::Pending))?;
            self.warn(
                Some(progress),
                format!(
                    "offline: {} waits to be pushed to '{}'",
                    v.label(),
                    spec.name
                ),
            );
            return Ok((self.catalog.version(&v.id)?, None));
        }
        let up = self.upload(&v.id, Some(&spec.name), progress, cancel);
        match up {
            Ok(o) => Ok((self.catalog.version(&v.id)?, Some(o))),
            Err(e @ Error::Cancelled) => Err(e),
            Err(e) => {
                // Keep the finalized version and its place in the queue.
                self.catalog
                    .write(|w| w.set_remote(&v.id, Some(&spec.name), UploadState::Pending))?;
                let kind = e.kind();
                let err = Error::remote_failure(
                    &spec.name,
                    kind,
                    format!(
                        "{} is final but not uploaded ({e}); it waits to be pushed",
                        v.label()
                    ),
                );
                // Refused credentials are fixed by logging in; anything else by pushing later.
                Err(if kind == Kind::Unauthorized {
                    err
                } else {
                    err.with_remedy(Remedy::Push)
                })
            }
        }
    }
}
