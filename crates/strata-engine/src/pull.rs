//! `pull`: bringing a remote's catalog log into the local catalog. Manifests and locators come
//! along (they are small and make `files`, `diff` and `get` work without asking again); content
//! does not. A version made here that a team member's version took the number of is renumbered
//! here, before it is ever shared, and the caller is told.

use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use strata_core::catalog::Writer;
use strata_core::{
    semver, DatasetName, Error, Hash, Manifest, NewVersion, Progress, Result, State, UploadState,
};
use strata_remote::log::{self, Event, Record, RemoteVersion};
use strata_remote::{Connected, Layout, Locator, Place};
use strata_store::RemotePlace;

use crate::remotes::block_on;
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
    /// Events read this time.
    pub events: u64,
    /// The log's last event number now applied here.
    pub position: u64,
    /// `project/name@semver` of versions new here.
    pub new_versions: Vec<String>,
    pub renumbered: Vec<Renumbered>,
    pub deleted: u64,
    /// Versions left out because their description was missing, damaged or unsafe.
    pub refused: Vec<String>,
}

const FETCH_PARALLEL: usize = 16;

impl Engine {
    pub fn pull(&mut self, remote: Option<&str>, progress: &dyn Progress) -> Result<PullOutcome> {
        let c = self.connect_to(remote, None)?;
        block_on(self.pull_from(&c, progress))?
    }

    /// Applies every event of `c`'s log not applied yet.
    pub(crate) async fn pull_from(
        &mut self,
        c: &Connected,
        progress: &dyn Progress,
    ) -> Result<PullOutcome> {
        let (after, _) = self.catalog.log_position(&c.name)?;
        let records = log::read_since(c, after).await?;
        let mut out = PullOutcome {
            remote: c.name.clone(),
            events: records.len() as u64,
            position: after,
            ..Default::default()
        };
        // Versions deleted further down the log are skipped: a remote gc may have removed them.
        let doomed = log::doomed(&records);
        let mut skipped = doomed.clone();
        let unknown: Vec<&RemoteVersion> = records
            .iter()
            .filter_map(|r| match &r.event {
                Event::Create { version } if !doomed.contains(&version.id) => Some(&**version),
                _ => None,
            })
            .filter(|v| self.catalog.version(&v.id).is_err())
            .collect();
        if !unknown.is_empty() {
            progress.begin("reading the remote catalog", unknown.len() as u64, 0);
            for (id, why) in self.fetch_descriptions(c, &unknown, progress).await? {
                progress.warn(&why);
                out.refused.push(why);
                skipped.insert(id);
            }
            progress.end();
        }
        let now = strata_core::time::now_ms();
        for rec in &records {
            self.catalog
                .write(|w| apply(w, &c.name, rec, now, &skipped, &mut out))?;
            out.position = rec.seq;
        }
        if records.is_empty() {
            self.catalog
                .write(|w| w.set_log_position(&c.name, after, now))?;
        }
        for r in &out.renumbered {
            progress.warn(&format!(
                "{} {} is now {}: a team member's version took {} first",
                r.dataset, r.from, r.to, r.from
            ));
        }
        Ok(out)
    }

    /// Fetches and checks the manifests and locators of versions new here. A version whose
    /// description is missing, damaged or unsafe is refused (returned with the reason) instead
    /// of stopping the pull: one bad entry must not keep a team from the rest of its log.
    async fn fetch_descriptions(
        &self,
        c: &Connected,
        versions: &[&RemoteVersion],
        progress: &dyn Progress,
    ) -> Result<Vec<(String, String)>> {
        let layout = Layout::new(&c.prefix);
        let store = &self.store;
        let checked = |v: &RemoteVersion, m: &[u8], l: &[u8]| -> Result<()> {
            if Hash::of(m) != v.manifest || Hash::of(l) != v.locator {
                return Err(Error::Corrupt {
                    what: "description".into(),
                    detail: "the manifest or locator does not match its hash".into(),
                });
            }
            let manifest = Manifest::decode(m)?;
            // Paths from elsewhere must never lead a copy out of its folder.
            manifest.check_paths()?;
            let locator = Locator::decode(l)?;
            store.put_manifest(&manifest)?;
            store.record_remote(&c.name, &places_of(&locator))
        };
        futures::stream::iter(versions.iter().map(|v| {
            let layout = &layout;
            async move {
                let m = c.get_bytes(&layout.manifest(&v.manifest)).await;
                let l = c.get_bytes(&layout.locator(&v.locator)).await;
                (v, m, l)
            }
        }))
        .buffer_unordered(FETCH_PARALLEL)
        .map(|(v, m, l)| {
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
                    v.id.clone(),
                    format!("{}@{} from '{}' refused: {e}", v.dataset, v.semver, c.name),
                ))),
                Err(e) => Err(e),
            }
        })
        .try_filter_map(|r| async move { Ok(r) })
        .try_collect()
        .await
    }
}

/// A locator's places as the store records them, and back ([`to_locator`]).
pub(crate) fn places_of(l: &Locator) -> Vec<(Hash, RemotePlace)> {
    l.places
        .iter()
        .map(|(h, p)| {
            (
                *h,
                match p {
                    Place::Packed { pack, offset, len } => RemotePlace {
                        pack: Some(pack.clone()),
                        offset: *offset,
                        len: *len,
                    },
                    Place::Loose { len } => RemotePlace {
                        pack: None,
                        offset: 0,
                        len: *len,
                    },
                },
            )
        })
        .collect()
}

pub(crate) fn to_locator(places: &std::collections::HashMap<Hash, RemotePlace>) -> Locator {
    Locator {
        places: places
            .iter()
            .map(|(h, p)| {
                let place = match &p.pack {
                    Some(pack) => Place::Packed {
                        pack: pack.clone(),
                        offset: p.offset,
                        len: p.len,
                    },
                    None => Place::Loose { len: p.len },
                };
                (*h, place)
            })
            .collect(),
    }
}

/// One event into the local catalog. Events about things this catalog never had are skipped.
fn apply(
    w: &Writer<'_>,
    remote: &str,
    rec: &Record,
    now: i64,
    skipped: &std::collections::HashSet<String>,
    out: &mut PullOutcome,
) -> Result<()> {
    match &rec.event {
        Event::Create { version: rv } if skipped.contains(&rv.id) && w.version(&rv.id).is_err() => {
        }
        Event::Create { version: rv } => create(w, remote, rv, out)?,
        Event::Publish { id } => {
            if w.version(id).is_ok() {
                w.set_state(id, State::Published, rec.at)?;
            }
        }
        Event::Delete { id } => {
            if w.version(id).is_ok() {
                w.delete_version(id)?;
                out.deleted += 1;
            }
        }
        Event::DeleteDataset { dataset } => {
            let d = DatasetName::parse(dataset)?;
            if w.dataset_id(&d)?.is_some() {
                out.deleted += w.versions_of(&d)?.len() as u64;
                w.delete_dataset(&d)?;
            }
        }
        Event::Rename { from, to } => {
            let (from, to) = (DatasetName::parse(from)?, DatasetName::parse(to)?);
            if w.dataset_id(&from)?.is_some() && w.dataset_id(&to)?.is_none() {
                w.relocate_dataset(&from, &to)?;
            }
        }
    }
    w.set_log_position(remote, rec.seq, now)
}

fn create(w: &Writer<'_>, remote: &str, rv: &RemoteVersion, out: &mut PullOutcome) -> Result<()> {
    let d = DatasetName::parse(&rv.dataset)?;
    let mut sv = strata_core::names::parse_semver(&rv.semver)?;
    if let Ok(mine) = w.version(&rv.id) {
        // Our own upload: the log has it now (its number is the one the log gave it).
        if mine.semver != rv.semver {
            w.set_semver(&mine.id, &sv)?;
        }
        let state = if mine.upload_state == UploadState::Remote {
            UploadState::Remote
        } else {
            UploadState::Uploaded
        };
        return w.set_remote(&mine.id, Some(remote), state);
    }
    let versions = w.versions_of(&d).unwrap_or_default();
    if let Some(clash) = versions.iter().find(|v| v.semver == rv.semver) {
        let next = next_free(&versions, &sv);
        let shared = matches!(
            clash.upload_state,
            UploadState::Uploaded | UploadState::Remote
        );
        if shared {
            // Two shared versions with one number cannot come from Strata's own writers; keep
            // both, the later one under the next free number.
            sv = next;
        } else {
            w.set_semver(&clash.id, &next)?;
            out.renumbered.push(Renumbered {
                id: clash.id.clone(),
                dataset: rv.dataset.clone(),
                from: clash.semver.clone(),
                to: next.to_string(),
            });
        }
    }
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

/// The patch after the highest version of the dataset (and after `taken`).
fn next_free(versions: &[strata_core::Version], taken: &semver::Version) -> semver::Version {
    let top = versions
        .iter()
        .map(|v| v.semver())
        .chain(std::iter::once(taken.clone()))
        .max()
        .unwrap_or_else(|| taken.clone());
    semver::Version::new(top.major, top.minor, top.patch + 1)
}
