//! `verify`: re-hash a version's content (local or on a remote) and its read-only cached
//! copies, and report every mismatch.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use strata_core::{Cancel, Error, Hash, Progress, Result, UploadState};
use strata_remote::Layout;
use strata_store::verify::{verify, Mismatch};

use crate::fetch::Sink;
use crate::runtime::block_on;
use crate::Engine;

#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    pub version: String,
    pub id: String,
    pub files: u64,
    pub bytes: u64,
    pub mismatches: Vec<Mismatch>,
    /// Files of this version's read-only cached copies that differ from their content (edited
    /// through the copy) or are missing. The store is fine; `strata get` restores them.
    pub edited_copies: Vec<Mismatch>,
}

impl VerifyReport {
    pub(crate) fn new(
        v: &strata_core::Version,
        m: &strata_core::Manifest,
        mismatches: Vec<Mismatch>,
    ) -> Self {
        VerifyReport {
            version: v.label(),
            id: v.id.clone(),
            files: m.len() as u64,
            bytes: m.total_bytes(),
            mismatches,
            edited_copies: Vec::new(),
        }
    }
}

impl Engine {
    /// Re-hashes every stored file of a version; lists every mismatch.
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn verify(
        &self,
        reference: &str,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<VerifyReport> {
        let v = self.resolve(reference)?;
        if v.upload_state == strata_core::UploadState::Remote {
            return Err(strata_core::Error::invalid(format!(
                "{} is remote-only: nothing here to check (verify it on remote '{}', or get it \
                 first)",
                v.label(),
                v.remote.as_deref().unwrap_or("?")
            )));
        }
        // Content missing from a version only here is a finding (below); from one its remote
        // holds, it was freed.
        let held = self.holdings(&v)?;
        if crate::free::may_be_elsewhere(&v) && held.local_files < held.files {
            return Err(strata_core::Error::invalid(format!(
                "{} has {} of its {} stored files here; the rest was freed and is on \
                 remote '{}' only (verify it there with --remote, or get it first)",
                v.label(),
                held.local_files,
                held.files,
                v.remote.as_deref().unwrap_or("?")
            )));
        }
        let m = self.manifest_of(&v)?;
        let (linked, stored): (Vec<&strata_core::Entry>, Vec<&strata_core::Entry>) =
            m.entries().iter().partition(|e| e.link.is_some());
        let stored: Vec<strata_core::Entry> = stored.into_iter().cloned().collect();
        let mut mismatches = verify(&self.store, &stored, progress, cancel)?;
        mismatches.extend(self.verify_links(&v, &linked, cancel)?);
        let mut report = VerifyReport::new(&v, &m, mismatches);
        report.edited_copies = self.verify_cached_copies(&v, progress, cancel)?;
        Ok(report)
    }

    /// Re-hashes every file of the version's read-only cached copies (those `get` would hand
    /// out: a draft's copies of an earlier content are never served again).
    pub(crate) fn verify_cached_copies(
        &self,
        v: &strata_core::Version,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Vec<Mismatch>> {
        let mut out = Vec::new();
        for c in self.cache_list()?.copies {
            if c.meta.version_id != v.id || !c.path.is_dir() {
                continue;
            }
            let opts = crate::GetRequest {
                include: c.meta.include.clone(),
                exclude: c.meta.exclude.clone(),
                fraction: c.meta.fraction,
                seed: c.meta.seed.unwrap_or_default(),
                ..Default::default()
            };
            if crate::get::view_key(v, &opts) != c.meta.key {
                continue;
            }
            let (_, entries) = self.select(&v.id, &opts)?;
            out.extend(strata_store::verify::verify_copy(
                &c.path, &entries, progress, cancel,
            )?);
        }
        Ok(out)
    }

    /// Reads back every object of a version from the remote and checks it against its hash.
    #[tracing::instrument(skip_all, fields(reference = %reference, remote = ?remote))]
    pub fn verify_remote(
        &self,
        reference: &str,
        remote: Option<&str>,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<VerifyReport> {
        let v = self.resolve(reference)?;
        let name = remote
            .map(str::to_string)
            .or_else(|| v.remote.clone())
            .map_or_else(|| self.remote(None).map(|r| r.name), Ok)?;
        if v.remote.as_deref() != Some(name.as_str())
            || !matches!(v.upload_state, UploadState::Uploaded | UploadState::Remote)
        {
            return Err(Error::invalid(format!(
                "{} is not on remote '{name}'; upload it first",
                v.label()
            )));
        }
        let c = self.connect_to(Some(&name), None)?;
        let m = self.manifest_of(&v)?;
        let hashes: HashSet<Hash> = m
            .entries()
            .iter()
            .flat_map(|e| e.objects().map(|(h, _)| h))
            .collect();
        let mut places = self
            .store
            .remote_places_listed(&name, hashes.iter().copied())?;
        let recorded: HashSet<Hash> = places.places.iter().map(|p| p.hash).collect();
        let layout = Layout::new(&c.prefix);
        let bad = self.fetch_places(&c, &mut places, Sink::Check, progress, cancel)?;
        let manifest_there = block_on(c.size_of(&layout.manifest(&v.manifest)))??.is_some();
        let mut problems: BTreeMap<Hash, String> = bad
            .into_iter()
            .map(|b| {
                (
                    b.hash,
                    format!(
                        "the remote copy ({}) is missing or does not match its hash",
                        b.key
                    ),
                )
            })
            .collect();
        for h in &hashes {
            if !recorded.contains(h) {
                problems.insert(*h, "not recorded on the remote".into());
            }
        }
        let mut mismatches: Vec<Mismatch> = m
            .entries()
            .iter()
            .filter_map(|e| {
                let mut objects = e.objects();
                objects
                    .find_map(|(h, _)| problems.get(&h))
                    .map(|p| Mismatch {
                        path: e.path.clone(),
                        expected: e.hash,
                        actual: None,
                        problem: p.clone(),
                    })
            })
            .collect();
        if !manifest_there {
            mismatches.push(Mismatch {
                path: "(manifest)".into(),
                expected: v.manifest,
                actual: None,
                problem: "the version's manifest is missing on the remote".into(),
            });
        }
        Ok(VerifyReport::new(&v, &m, mismatches))
    }
}
