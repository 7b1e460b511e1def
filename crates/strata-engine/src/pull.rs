//! `pull`: bringing a remote's catalog log into the local catalog. Manifests and locators come
//! along (they are small and make `files`, `diff` and `get` work without asking again); content
//! does not. A version made here that a team member's version took the number of is renumbered
//! here, before it is ever shared, and the caller is told.
//!
//! The log is written by every teammate, so nothing in it is trusted: entries are read with size
//! limits and checked field by field ([`log::decode`]); a bad entry is skipped, reported once
//! (its number and why) and the rest applies. A teammate's delete, rename or move reaches only
//! versions shared on that remote: work here that was never shared there stays, and the user is
//! told.

use std::collections::HashSet;

use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use strata_core::catalog::Writer;
use strata_core::names::validate_version_id;
use strata_core::{
    semver, DatasetName, Error, Hash, NewVersion, Progress, Result, State, UploadState, Version,
};
use strata_remote::log::{Entry, Event, Record, Refused, RemoteVersion};
use strata_remote::{log, Connected, Layout, Locator};
use strata_store::{ListedPlace, PlaceList};

use crate::annotate::{apply_meta, MetaOp};
use crate::runtime::block_on;
use crate::Engine;

#[derive(Clone, Debug, Serialize)]
pub struct Renumbered {
    pub id: String,
    pub dataset: String,
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PullOutcome {
    pub remote: String,
    /// Log entries read this time (refused ones included).
    pub events: u64,
    /// The log's last entry number now applied here.
    pub position: u64,
    /// `project/name@semver` of versions new here.
    pub new_versions: Vec<String>,
    pub renumbered: Vec<Renumbered>,
    pub deleted: u64,
    /// Log entries skipped, each with its number and a one-line reason: malformed or invalid
    /// entries, and versions whose description was missing, damaged or unsafe. Each is reported
    /// by the pull that reads it, and not again.
    pub refused: Vec<Refused>,
    /// `project/name@semver` of versions here that a team member's delete, rename or move did
    /// not touch because they are not shared on this remote.
    pub kept_local: Vec<String>,
    /// Everything the user should know, one line each (also passed to the progress reporter).
    pub warnings: Vec<String>,
}

const FETCH_PARALLEL: usize = 16;

impl Engine {
    #[tracing::instrument(skip_all, fields(remote = ?remote))]
    pub fn pull(&mut self, remote: Option<&str>, progress: &dyn Progress) -> Result<PullOutcome> {
        let c = self.connect_to(remote, None)?;
        block_on(self.pull_from(&c, progress))?
    }

    /// Applies every entry of `c`'s log not applied yet, a bounded batch at a time.
    pub(crate) async fn pull_from(
        &mut self,
        c: &Connected,
        progress: &dyn Progress,
    ) -> Result<PullOutcome> {
        let (after, _) = self.catalog.log_position(&c.name)?;
        let mut out = PullOutcome {
            remote: c.name.clone(),
            position: after,
            ..Default::default()
        };
        loop {
            let batch = log::read_batch(c, out.position, log::Holes::Stop).await?;
            let read_all = !batch.more || batch.entries.is_empty();
            if let (Some(n), true) = (batch.missing, read_all) {
                warn(
                    self,
                    &mut out,
                    progress,
                    format!(
                        "the log of '{}' has no entry {n} but has later ones; they wait until it \
                         appears (the next change shared there fills it)",
                        c.name
                    ),
                );
            }
            self.apply_batch(c, batch.entries, &mut out, progress)
                .await?;
            if read_all {
                break;
            }
        }
        if out.events == 0 {
            let now = strata_core::time::now_ms();
            self.catalog
                .write(|w| w.set_log_position(&c.name, after, now))?;
        }
        for r in &out.renumbered {
            self.warn(
                Some(progress),
                format!(
                    "{} {} is now {}: a team member's version took {} first",
                    r.dataset, r.from, r.to, r.from
                ),
            );
        }
        Ok(out)
    }

    pub(crate) async fn apply_batch(
        &mut self,
        c: &Connected,
        entries: Vec<Entry>,
        out: &mut PullOutcome,
        progress: &dyn Progress,
    ) -> Result<()> {
        // From the first manifest written until the catalog names it: a `gc` running meanwhile
        // would otherwise see a manifest nothing refers to yet and remove it.
        let _guard = self.store.writer_guard()?;
        let records: Vec<&Record> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Event(r) => Some(r),
                Entry::Refused(_) => None,
            })
            .collect();
        // Versions deleted further down the log are skipped: a remote gc may have removed them.
        let doomed = log::doomed(records.iter().copied());
        let mut skipped = doomed.clone();
        let unknown: Vec<(u64, &RemoteVersion)> = records
            .iter()
            .filter_map(|r| match &r.event {
                Event::Create { version } if !doomed.contains(&version.id) => {
                    Some((r.seq, &**version))
                }
                _ => None,
            })
            .filter(|(_, v)| self.catalog.version(&v.id).is_err())
            .collect();
        let mut refused_descriptions = std::collections::HashMap::new();
        if !unknown.is_empty() {
            progress.begin("reading the remote catalog", unknown.len() as u64, 0);
            for (seq, id, why) in self.fetch_descriptions(c, &unknown, progress).await? {
                skipped.insert(id);
                refused_descriptions.insert(seq, why);
            }
            progress.end();
        }
        let now = strata_core::time::now_ms();
        for entry in entries {
            let seq = entry.seq();
            out.events += 1;
            let refused = match entry {
                Entry::Refused(r) => Some(r),
                Entry::Event(rec) => match refused_descriptions.remove(&seq) {
                    Some(reason) => Some(Refused {
                        seq,
                        reason,
                        names: Vec::new(),
                    }),
                    None => self.apply_one(&c.name, &rec, now, &skipped, out, progress)?,
                },
            };
            if let Some(r) = refused {
                self.catalog
                    .write(|w| w.set_log_position(&c.name, seq, now))?;
                self.warn(Some(progress), format!("skipped {r}"));
                out.refused.push(r);
            }
            out.position = seq;
        }
        Ok(())
    }

    /// Applies one event in its own transaction. An event the catalog cannot take (it names a
    /// version id already used here for something else, say) comes back refused instead of
    /// stopping the pull; a failure of the catalog itself is an error.
    pub(crate) fn apply_one(
        &mut self,
        remote: &str,
        rec: &Record,
        now: i64,
        skipped: &HashSet<String>,
        out: &mut PullOutcome,
        progress: &dyn Progress,
    ) -> Result<Option<Refused>> {
        let applied = self.catalog.write(|w| {
            let mut changes = PullOutcome::default();
            apply(w, remote, rec, now, skipped, &mut changes)?;
            Ok(changes)
        });
        match applied {
            Ok(changes) => {
                out.new_versions.extend(changes.new_versions);
                out.renumbered.extend(changes.renumbered);
                out.deleted += changes.deleted;
                out.kept_local.extend(changes.kept_local);
                for w in changes.warnings {
                    warn(self, out, progress, w);
                }
                Ok(None)
            }
            Err(e) if event_at_fault(&e) => Ok(Some(Refused {
                seq: rec.seq,
                reason: e.to_string().replace(['\n', '\r'], " "),
                names: Vec::new(),
            })),
            Err(e) => Err(e),
        }
    }

    /// Fetches and checks the manifests and locators of versions new here. A version whose
    /// description is missing, damaged, too large or unsafe is refused (returned with its log
    /// entry number, id and the reason) instead of stopping the pull.
    pub(crate) async fn fetch_descriptions(
        &self,
        c: &Connected,
        versions: &[(u64, &RemoteVersion)],
        progress: &dyn Progress,
    ) -> Result<Vec<(u64, String, String)>> {
        let layout = Layout::new(&c.prefix);
        let store = &self.store;
        let checked = |v: &RemoteVersion, m: &[u8], l: &[u8]| -> Result<()> {
            if Hash::of(m) != v.manifest || Hash::of(l) != v.locator {
                return Err(Error::Corrupt {
                    what: "description".into(),
                    detail: "the manifest or locator does not match its hash".into(),
                });
            }
            // Checked entry by entry and kept as it arrived, never decoded whole: a version of
            // a million files would be 110 MB of entries here. Paths from elsewhere must never
            // lead a copy out of its folder.
            strata_core::manifest::check_encoded(m)?;
            // The locator's places with each pack's name once (a name per object was the
            // largest part of pulling a million objects).
            let mut list = PlaceList::default();
            list.packs = Locator::decode_each(l, |_, hash, pack, offset, len| {
                list.places.push(ListedPlace {
                    hash,
                    pack,
                    offset,
                    len,
                })
            })?;
            store.put_manifest_bytes(&v.manifest, m)?;
            store.record_remote_list(&c.name, &list)
        };
        futures::stream::iter(versions.iter().map(|(seq, v)| {
            let layout = &layout;
            async move {
                // Each read is bounded by what its kind of object may be (`max_size_of`).
                let m = c.get_bytes(&layout.manifest(&v.manifest)).await;
                let l = c.get_bytes(&layout.locator(&v.locator)).await;
                (*seq, *v, m, l)
            }
        }))
        .buffer_unordered(FETCH_PARALLEL)
        .map(|(seq, v, m, l)| {
            let outcome = match (m, l) {
                (Ok(m), Ok(l)) => {
                    progress.advance(1, (m.len() + l.len()) as u64);
                    checked(v, &m, &l)
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
            match outcome {
                Ok(()) => Ok(None),
                Err(e @ (Error::Corrupt { .. } | Error::NotFound { .. })) => Ok(Some((
                    seq,
                    v.id.clone(),
                    format!("{}@{} refused: {e}", v.dataset, v.semver).replace(['\n', '\r'], " "),
                ))),
                Err(e) => Err(e),
            }
        })
        .try_filter_map(|r| async move { Ok(r) })
        .try_collect()
        .await
    }
}

/// Errors that say the event cannot apply here, as opposed to the catalog failing.
fn event_at_fault(e: &Error) -> bool {
    match e.inner() {
        Error::Invalid(_)
        | Error::Conflict(_)
        | Error::NotFound { .. }
        | Error::Corrupt { .. }
        | Error::Immutable { .. } => true,
        e => strata_core::catalog::is_constraint(e),
    }
}

/// A pull's warning: shown as it happens, kept by the engine, and in the outcome.
fn warn(engine: &Engine, out: &mut PullOutcome, progress: &dyn Progress, message: String) {
    engine.warn(Some(progress), message.clone());
    out.warnings.push(message);
}

/// Whether `v` is shared on `remote`: only such versions answer to that remote's log.
fn shared_here(v: &Version, remote: &str) -> bool {
    Engine::shared_on(v).as_deref() == Some(remote)
}

/// Shared anywhere: others may know it by its number.
fn shared_anywhere(v: &Version) -> bool {
    matches!(v.upload_state, UploadState::Uploaded | UploadState::Remote)
}

fn dataset_of(v: &Version) -> DatasetName {
    DatasetName {
        project: v.project.clone(),
        name: v.dataset.clone(),
    }
}

fn labels(vs: &[&Version]) -> String {
    vs.iter()
        .map(|v| match v.state {
            State::Draft => format!("{} (draft)", v.semver),
            _ => v.semver.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One event into the local catalog. Events about things this catalog never had are skipped.
fn apply(
    w: &Writer<'_>,
    remote: &str,
    rec: &Record,
    now: i64,
    skipped: &HashSet<String>,
    out: &mut PullOutcome,
) -> Result<()> {
    match &rec.event {
        Event::Create { version: rv } if skipped.contains(&rv.id) && w.version(&rv.id).is_err() => {
        }
        Event::Create { version: rv } => create(w, remote, rv, out)?,
        Event::Publish { id } => {
            // Only a final version shared there: a draft here is nobody else's to publish.
            if let Ok(v) = w.version(id) {
                if shared_here(&v, remote) && v.state == State::Final {
                    w.set_state(id, State::Published, rec.at)?;
                }
            }
        }
        Event::Delete { id } => {
            if let Ok(v) = w.version(id) {
                if shared_here(&v, remote) {
                    w.delete_version(id)?;
                    out.deleted += 1;
                } else {
                    out.kept_local.push(v.label());
                    out.warnings.push(format!(
                        "kept {}: deleted on '{remote}', but the version here is not shared there",
                        v.label()
                    ));
                }
            }
        }
        Event::DeleteDataset { dataset } => delete_dataset(w, remote, dataset, out)?,
        Event::Rename { from, to } => rename(w, remote, from, to, now, out)?,
        Event::Tag { .. } | Event::Describe { .. } | Event::Meta { .. } => {
            annotate(w, remote, &rec.event)?
        }
    }
    w.set_log_position(remote, rec.seq, now)
}

/// A tag, description or metadata change to a version shared on `remote`. It reaches only
/// versions shared there, like a publish: a version here that is not shared there is nobody
/// else's to change. Applied in log order, so on a metadata key the later entry wins; a change
/// that cannot apply whole (metadata grown past its bound) fails whole.
pub(crate) fn annotate(w: &Writer<'_>, remote: &str, event: &Event) -> Result<()> {
    let shared = |id: &str| w.version(id).ok().filter(|v| shared_here(v, remote));
    match event {
        Event::Tag { id, added, removed } if shared(id).is_some() => {
            for t in added {
                w.add_tag(id, t)?;
            }
            for t in removed {
                w.remove_tag(id, t)?;
            }
        }
        Event::Describe { id, description } if shared(id).is_some() => {
            w.set_description(id, description)?;
        }
        Event::Meta { id, set, removed } => {
            if let Some(v) = shared(id) {
                let mut m = v.metadata;
                let ops: Vec<MetaOp> = set
                    .iter()
                    .map(|(k, val)| MetaOp::Set(k.clone(), val.clone()))
                    .chain(removed.iter().map(|k| MetaOp::Remove(k.clone())))
                    .collect();
                apply_meta(&mut m, &ops)?;
                w.set_metadata(id, &m)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A team member deleted a dataset: its versions shared on `remote` go; the rest stays.
fn delete_dataset(
    w: &Writer<'_>,
    remote: &str,
    dataset: &str,
    out: &mut PullOutcome,
) -> Result<()> {
    let d = DatasetName::parse(dataset)?;
    if w.dataset_id(&d)?.is_none() {
        return Ok(());
    }
    let versions = w.versions_of(&d)?;
    let (shared, local): (Vec<&Version>, Vec<&Version>) =
        versions.iter().partition(|v| shared_here(v, remote));
    for v in &shared {
        w.delete_version(&v.id)?;
    }
    out.deleted += shared.len() as u64;
    if local.is_empty() {
        return w.delete_dataset(&d);
    }
    out.kept_local.extend(local.iter().map(|v| v.label()));
    out.warnings.push(format!(
        "kept {} version(s) of {d} not shared on '{remote}' ({}); a team member deleted the \
         dataset there",
        local.len(),
        labels(&local)
    ));
    Ok(())
}

/// A team member renamed or moved a dataset: its versions shared on `remote` follow; versions
/// not shared there stay under the old name (the team cannot have meant work it never saw).
fn rename(
    w: &Writer<'_>,
    remote: &str,
    from: &str,
    to: &str,
    now: i64,
    out: &mut PullOutcome,
) -> Result<()> {
    let (from, to) = (DatasetName::parse(from)?, DatasetName::parse(to)?);
    if w.dataset_id(&from)?.is_none() {
        return Ok(());
    }
    let versions = w.versions_of(&from)?;
    let (shared, local): (Vec<&Version>, Vec<&Version>) =
        versions.iter().partition(|v| shared_here(v, remote));
    if local.is_empty() && w.dataset_id(&to)?.is_none() {
        return w.relocate_dataset(&from, &to);
    }
    for v in &shared {
        let sv = make_room(w, &to, v.semver(), out)?;
        w.move_version(&v.id, &to, &sv, now)?;
    }
    if local.is_empty() {
        return w.delete_dataset(&from);
    }
    out.kept_local.extend(local.iter().map(|v| v.label()));
    out.warnings.push(format!(
        "{from} became {to} on '{remote}'; {} version(s) here not shared there stay under {from} \
         ({})",
        local.len(),
        labels(&local)
    ));
    Ok(())
}

fn create(w: &Writer<'_>, remote: &str, rv: &RemoteVersion, out: &mut PullOutcome) -> Result<()> {
    // The log's checks already ran; ids become folder and file names, so once more right here.
    validate_version_id(&rv.id)?;
    let d = DatasetName::parse(&rv.dataset)?;
    let sv = strata_core::names::parse_semver(&rv.semver)?;
    if let Ok(mine) = w.version(&rv.id) {
        return known(w, remote, &mine, rv, &sv);
    }
    let sv = make_room(w, &d, sv, out)?;
    let state = State::parse(&rv.state)?;
    w.insert_version(&NewVersion {
        id: &rv.id,
        dataset: &d,
        semver: &sv,
        parents: &rv.parents,
        state,
        tags: &rv.tags,
        description: &rv.description,
        metadata: &rv.metadata,
        manifest: rv.manifest,
        file_count: rv.file_count,
        total_bytes: rv.total_bytes,
        created_at: rv.created_at,
        created_by: &rv.created_by,
    })?;
    w.set_remote(&rv.id, Some(remote), UploadState::Remote)?;
    out.new_versions.push(format!("{}@{}", rv.dataset, sv));
    Ok(())
}

/// A `create` for an id this catalog has: usually our own upload (the log has it now, under the
/// number the log gave it). An id names one version everywhere, so a different version claiming
/// it is refused, and a draft here is never taken over.
fn known(
    w: &Writer<'_>,
    remote: &str,
    mine: &Version,
    rv: &RemoteVersion,
    sv: &semver::Version,
) -> Result<()> {
    if mine.manifest != rv.manifest || mine.state == State::Draft {
        return Err(Error::Conflict(format!(
            "version id {} is already used here by {}, a different version",
            rv.id,
            mine.label()
        )));
    }
    if shared_anywhere(mine) && mine.remote.as_deref() != Some(remote) {
        // Shared on another remote already: that remote's log speaks for it.
        return Ok(());
    }
    if mine.semver != rv.semver {
        let taken = w
            .versions_of(&dataset_of(mine))?
            .iter()
            .any(|v| v.semver == rv.semver);
        if !taken {
            w.set_semver(&mine.id, sv)?;
        }
    }
    let state = if mine.upload_state == UploadState::Remote {
        UploadState::Remote
    } else {
        UploadState::Uploaded
    };
    w.set_remote(&mine.id, Some(remote), state)
}

/// The number a shared version gets in `d`: its own, unless a version here holds it. A version
/// never shared yields the number (no one else knows it by it) and is renumbered; a shared one
/// keeps it and the newcomer takes the next free number.
fn make_room(
    w: &Writer<'_>,
    d: &DatasetName,
    sv: semver::Version,
    out: &mut PullOutcome,
) -> Result<semver::Version> {
    let versions = w.versions_of(d)?;
    let wanted = sv.to_string();
    let Some(clash) = versions.iter().find(|v| v.semver == wanted) else {
        return Ok(sv);
    };
    let next = next_free(&versions, &sv)?;
    if shared_anywhere(clash) {
        // Two shared versions with one number cannot come from Strata's own writers; keep
        // both, the later one under the next free number.
        return Ok(next);
    }
    w.set_semver(&clash.id, &next)?;
    out.renumbered.push(Renumbered {
        id: clash.id.clone(),
        dataset: d.to_string(),
        from: clash.semver.clone(),
        to: next.to_string(),
    });
    Ok(sv)
}

/// The patch after the highest version of the dataset (and after `taken`).
fn next_free(versions: &[Version], taken: &semver::Version) -> Result<semver::Version> {
    let top = versions
        .iter()
        .map(|v| v.semver())
        .chain(std::iter::once(taken.clone()))
        .max()
        .unwrap_or_else(|| taken.clone());
    // Stays a number `parse_semver` accepts, so the renumbered version can still be named.
    let patch = (top.patch < strata_core::names::MAX_SEMVER_PART)
        .then_some(top.patch + 1)
        .ok_or_else(|| Error::invalid(format!("no version number after {top} is left")))?;
    Ok(semver::Version::new(top.major, top.minor, patch))
}
