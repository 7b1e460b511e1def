//! `add-link`: files that stay where they are (a bucket, an https server, a shared folder),
//! recorded in a draft by size and hash. `get` fetches them from there, checking the hash;
//! `verify` reports those that changed at the source.

use std::collections::{HashMap, HashSet};

use futures::{StreamExt, TryStreamExt};
use strata_core::{Cancel, Entry, Error, Hash, Progress, Result, UploadState, Version};
use strata_remote::{Link, Trust};
use strata_store::verify::Mismatch;
use strata_store::LOOSE_MIN;

use crate::draft::Change;
use crate::runtime::block_on;
use crate::writers::Wait;
use crate::Engine;

const LINKS_IN_FLIGHT: usize = 4;
/// Ancestors looked at to find where a link came from; beyond this a lineage is not walked.
const MAX_ANCESTORS: usize = 10_000;

impl Engine {
    /// Records external files in a draft, under `to` (their file names kept).
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn add_link(
        &mut self,
        reference: &str,
        urls: &[String],
        to: Option<&str>,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Change> {
        if urls.is_empty() {
            return Err(Error::invalid("nothing to link: give one or more URLs"));
        }
        // Refuse a final version before any link is read; the draft is read again under its lock.
        self.resolve_for_change(reference)?.ensure_draft()?;
        let dir = strata_store::scan::dataset_dir(to.unwrap_or(""))?;
        let mut entries = Vec::with_capacity(urls.len());
        let remotes = self.catalog.remotes()?;
        let mut links = Vec::with_capacity(urls.len());
        for url in urls {
            let name = url
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .filter(|n| !n.is_empty() && *n != ".." && *n != ".")
                .ok_or_else(|| Error::invalid(format!("link '{url}' names no file")))?;
            let path = if dir.is_empty() {
                name.to_string()
            } else {
                format!("{dir}/{name}")
            };
            strata_core::manifest::validate_path(&path)?;
            links.push((path, Link::open(url, &remotes, &Trust::Own)?));
        }
        self.online("reading linked files")?;
        let (_lock, v) = self.lock_draft(reference, "add-link", Wait::No, Some(progress))?;
        progress.begin("reading linked files", links.len() as u64, 0);
        let measured: Vec<(String, String, u64, Hash)> = block_on(
            futures::stream::iter(links.iter().map(|(path, link)| async move {
                let (size, hash) = link.measure(cancel).await?;
                progress.advance(1, size);
                Ok::<_, Error>((path.clone(), link.url.clone(), size, hash))
            }))
            .buffer_unordered(LINKS_IN_FLIGHT)
            .try_collect(),
        )??;
        progress.end();
        for (path, url, size, hash) in measured {
            entries.push(Entry {
                link: Some(url.into()),
                ..Entry::new(path, size, hash)
            });
        }
        // Recorded before the version names them: a link marked as this machine's own with no
        // version yet is harmless, the other order could leave a link of ours treated as foreign.
        let urls: Vec<String> = entries
            .iter()
            .filter_map(|e| e.link.as_deref().map(str::to_string))
            .collect();
        self.catalog.write(|w| w.add_own_links(&urls))?;
        let _guard = self.store.writer_guard()?;
        let old = self.manifest_of(&v)?;
        let mut new = old.clone();
        new.upsert(entries);
        self.commit_content(&v, &old, new, Vec::new(), Vec::new(), (0, 0, 0))
    }

    /// Fetches linked files the store lacks into it, every byte checked against its size and
    /// hash. Links that came from a bucket follow its rules ([`Trust`]); one that breaks them
    /// fails the whole fetch before anything of it is read, naming the entry and the link.
    pub(crate) fn fetch_links(
        &self,
        v: &Version,
        entries: &[&Entry],
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<(u64, u64)> {
        if entries.is_empty() {
            return Ok((0, 0));
        }
        let trust = self.link_trust(v)?;
        let remotes = self.catalog.remotes()?;
        // Every link is checked before any is read: a refused one leaves nothing behind.
        let links = entries
            .iter()
            .map(|e| {
                let url = e.link.as_deref().unwrap_or_default();
                Link::open(url, &remotes, &trust.of(url))
                    .map(|l| (*e, l))
                    .map_err(|err| about(e, err))
            })
            .collect::<Result<Vec<_>>>()?;
        self.online("fetching linked files")?;
        let total = entries.iter().fold(0u64, |a, e| a.saturating_add(e.size));
        progress.begin("fetching linked files", entries.len() as u64, total);
        for (e, link) in links {
            cancel.check()?;
            let res = if e.size >= LOOSE_MIN {
                let tmp = self.store.tmp_path("k-");
                let got = block_on(link.fetch_to_file(&tmp, e.size, &e.hash, progress, cancel))
                    .and_then(|r| r)
                    .and_then(|_| self.store.import_loose(&e.hash, &tmp));
                let _ = std::fs::remove_file(&tmp);
                got
            } else {
                // Small: read into memory, never more than the size the manifest recorded.
                block_on(link.fetch_bytes(e.size, &e.hash, cancel))
                    .and_then(|r| r)
                    .and_then(|bytes| {
                        progress.advance(0, e.size);
                        let mut imp = self.store.small_import();
                        imp.append(e.hash, &bytes)?;
                        imp.commit()
                    })
            };
            res.map_err(|err| about(e, err))?;
            progress.advance(1, 0);
        }
        progress.end();
        Ok((entries.len() as u64, total))
    }

    /// The rules each link of `v` follows. A link is this machine's own only when `add-link`
    /// made it here ([`Catalog::own_links`]); every other one is a bucket's. The lineage only
    /// says *which* remote's rules apply (a version pulled from a remote, or an ancestor that
    /// was): a link whose pulled ancestor has since been deleted or squashed away still gets the
    /// strictest ones.
    ///
    /// [`Catalog::own_links`]: strata_core::Catalog::own_links
    pub(crate) fn link_trust(&self, v: &Version) -> Result<LinkTrust> {
        let own = self.catalog.own_links()?;
        let remote_trust = |remote: &Option<String>| -> Result<Trust> {
            Ok(Trust::Bucket {
                remote: remote.clone().unwrap_or_default(),
                allow_private: match remote {
                    Some(r) => self.catalog.remote_allows_private_links(r)?,
                    None => false,
                },
            })
        };
        // A link not made here follows the rules of the remote the version is shared on (a pulled
        // version stays that remote's after it is fetched), or the strictest when it has none.
        let foreign = remote_trust(&v.remote)?;
        if v.upload_state == UploadState::Remote {
            return Ok(LinkTrust {
                all: Some(foreign),
                own,
                inherited: HashMap::new(),
                foreign: Trust::Own,
            });
        }
        let mut inherited = HashMap::new();
        for (p, url) in self.pulled_ancestor_links(v)? {
            if let std::collections::hash_map::Entry::Vacant(slot) = inherited.entry(url) {
                slot.insert(remote_trust(&p)?);
            }
        }
        Ok(LinkTrust {
            all: None,
            own,
            inherited,
            foreign,
        })
    }

    /// Every link that an ancestor of `v` pulled from a remote has, with that remote.
    pub(crate) fn pulled_ancestor_links(
        &self,
        v: &Version,
    ) -> Result<Vec<(Option<String>, String)>> {
        let mut out = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut queue: Vec<String> = v.parents.clone();
        while let Some(id) = queue.pop() {
            if seen.len() >= MAX_ANCESTORS || !seen.insert(id.clone()) {
                continue;
            }
            let Ok(p) = self.catalog.version(&id) else {
                continue;
            };
            if p.upload_state == UploadState::Remote {
                for e in self.manifest_of(&p)?.into_entries() {
                    if let Some(url) = e.link {
                        out.push((p.remote.clone(), url.into()));
                    }
                }
            }
            queue.extend(p.parents.iter().cloned());
        }
        Ok(out)
    }

    /// Once per catalog: links of versions made here before own links were recorded count as
    /// this machine's own, unless a pulled ancestor has them (the rule those versions were made
    /// under). Without this, a link a user added to a local server before the upgrade would be
    /// refused as a bucket's.
    pub(crate) fn record_links_made_before_own_links(&mut self) -> Result<()> {
        const DONE: &str = "own_links_recorded";
        if self.catalog.setting(DONE)?.is_some() {
            return Ok(());
        }
        let mut urls = Vec::new();
        for v in self.catalog.all_versions()? {
            if v.upload_state == UploadState::Remote {
                continue;
            }
            let foreign: HashSet<String> = self
                .pulled_ancestor_links(&v)?
                .into_iter()
                .map(|(_, u)| u)
                .collect();
            for e in self.manifest_of(&v)?.into_entries() {
                if let Some(url) = e.link {
                    if !foreign.contains(&*url) {
                        urls.push(url.into());
                    }
                }
            }
        }
        self.catalog.write(|w| {
            w.add_own_links(&urls)?;
            w.set_setting(DONE, "1")
        })
    }

    /// Re-reads linked files at their source; lists those that changed or are gone.
    pub(crate) fn verify_links(
        &self,
        v: &Version,
        entries: &[&Entry],
        cancel: &Cancel,
    ) -> Result<Vec<Mismatch>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        self.online("checking linked files")?;
        let trust = self.link_trust(v)?;
        let remotes = self.catalog.remotes()?;
        let mut out = Vec::new();
        for e in entries {
            let url = e.link.as_deref().unwrap_or_default();
            let problem = match Link::open(url, &remotes, &trust.of(url))
                .and_then(|l| block_on(async { l.measure(cancel).await })?)
            {
                Ok((_, h)) if h == e.hash => continue,
                Ok((size, h)) => {
                    out.push(Mismatch {
                        path: e.path.clone(),
                        expected: e.hash,
                        actual: Some(h),
                        problem: format!(
                            "changed at the source ({}, now {size} bytes)",
                            strata_remote::redact_url(url.split('?').next().unwrap_or_default())
                        ),
                    });
                    continue;
                }
                Err(Error::Cancelled) => return Err(Error::Cancelled),
                Err(err) => format!("cannot read the source: {err}"),
            };
            out.push(Mismatch {
                path: e.path.clone(),
                expected: e.hash,
                actual: None,
                problem,
            });
        }
        Ok(out)
    }
}

/// The rules each link of one version follows.
pub(crate) struct LinkTrust {
    /// Every link of a version pulled from a bucket.
    all: Option<Trust>,
    /// Links added on this machine.
    own: HashSet<String>,
    /// Links a version made here inherited from a pulled ancestor, with that remote's rules.
    inherited: HashMap<String, Trust>,
    /// The rules for any other link (unused when `all` is set).
    foreign: Trust,
}

impl LinkTrust {
    fn of(&self, url: &str) -> Trust {
        if let Some(t) = &self.all {
            return t.clone();
        }
        if let Some(t) = self.inherited.get(url) {
            return t.clone();
        }
        if self.own.contains(url) {
            return Trust::Own;
        }
        // Not made here, and no pulled ancestor (left) to name its remote.
        self.foreign.clone()
    }
}

/// An error about one linked entry, on one line naming the entry.
fn about(e: &Entry, err: Error) -> Error {
    match err {
        Error::Corrupt { what, detail } => Error::Corrupt {
            what: format!("{what} {}", e.path),
            detail,
        },
        Error::Invalid(m) => Error::Invalid(format!("{}: {m}", e.path)),
        Error::WithRemedy { error, remedy } => about(e, *error).with_remedy(remedy),
        other => other,
    }
}
