//! `import`: a session file into this home, checked part by part, committed at once; then,
//! when asked, its drafts finalized and everything uploaded through the normal upload.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use strata_core::catalog::NewVersion;
use strata_core::names::{self, DatasetName};
use strata_core::{Cancel, Error, Hash, IoContext, Manifest, Progress, Result, State, UploadState};
use strata_store::LOOSE_MIN;

use super::archive::{ReadError, TarReader};
use super::{member_kind, Header, MemberKind, SessionVersion, HEADER_NAME, MAX_HEADER_BYTES};
use crate::Engine;

#[derive(Clone, Debug, Default)]
pub struct ImportRequest {
    /// Finalize the session's drafts once imported.
    pub finalize: bool,
    /// Upload every final version of the session (to this remote, or each dataset's own or the
    /// default); offline, they wait for `push`.
    pub upload: bool,
    pub remote: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ImportedVersion {
    pub id: String,
    pub dataset: String,
    /// The number it has here now.
    pub semver: String,
    /// The number it had in the session, when it had to change (this home, or the team's
    /// bucket, already used it for another version).
    pub renumbered_from: Option<String>,
    pub state: String,
    /// Already in this home before the import (an earlier import of the same session).
    pub already_here: bool,
    pub uploaded: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportOutcome {
    pub path: PathBuf,
    pub versions: Vec<ImportedVersion>,
    /// Content objects stored, and those this home already had.
    pub new_objects: u64,
    pub new_bytes: u64,
    pub present_objects: u64,
    pub finalized: Vec<String>,
}

/// A checked version of the session and what this home does with it.
struct Planned {
    rec: SessionVersion,
    /// The version is already here (same id, same content).
    here: bool,
}

impl Engine {
    /// Imports a session file (see [`super`] for its layout and checks). Nothing of it is
    /// visible until every part has arrived and matched its hash; importing it again changes
    /// nothing.
    #[tracing::instrument(skip_all, fields(file = %file.display()))]
    pub fn import(
        &mut self,
        file: &Path,
        req: &ImportRequest,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<ImportOutcome> {
        let damaged = |why: String| Error::Corrupt {
            what: format!("session {}", file.display()),
            detail: format!("{why}; nothing was imported"),
        };
        let f = File::open(file).ctx("open", file)?;
        let file_len = f.metadata().ctx("read", file)?.len();
        let mut tar = TarReader::new(BufReader::with_capacity(1 << 20, f));
        let bad = |e: ReadError| match e {
            ReadError::Bad(why) => damaged(why),
            ReadError::Io(source) => Error::Io {
                action: "read",
                path: file.to_path_buf(),
                source,
            },
        };

        // 1. The header: every record checked, every outside parent present here.
        let first = tar.next_member().map_err(|e| match e {
            ReadError::Bad(_) if file_len < 512 => damaged(format!(
                "it is not a Strata session file, or it was cut short ({file_len} bytes)"
            )),
            ReadError::Bad(why) => damaged(format!(
                "it is not a Strata session file, or its start is damaged ({why})"
            )),
            e => bad(e),
        })?;
        let first = first.ok_or_else(|| damaged("it is empty".into()))?;
        if first.name != HEADER_NAME {
            return Err(damaged(format!(
                "it is not a Strata session file (it starts with '{}', not {HEADER_NAME})",
                names::printable(&first.name)
            )));
        }
        if first.size > MAX_HEADER_BYTES {
            return Err(damaged(format!(
                "its header is {} bytes; at most {MAX_HEADER_BYTES}",
                first.size
            )));
        }
        let mut buf = vec![0u8; first.size as usize];
        tar.read_exact(&mut buf).map_err(bad)?;
        let header: Header = serde_json::from_slice(&buf)
            .map_err(|e| damaged(format!("its header is not readable: {e}")))?;
        drop(buf);
        let outside = header.check().map_err(damaged)?;
        for p in &outside {
            if self.catalog.version(p).is_err() {
                let child = header
                    .versions
                    .iter()
                    .find(|v| v.parents.contains(p))
                    .map(SessionVersion::label)
                    .unwrap_or_default();
                return Err(Error::not_found(
                    "parent version",
                    format!(
                        "{p} (of {child}): the session builds on a version this home does not \
                         have; import the session that carries it first, or pull it"
                    ),
                ));
            }
        }
        if req.upload {
            // A missing remote is said before anything is imported, not after.
            for rec in &header.versions {
                let d = DatasetName::parse(&rec.dataset)?;
                self.remote_for(req.remote.as_deref(), Some(&d))?;
            }
        }
        let mut plan = Vec::with_capacity(header.versions.len());
        for rec in header.versions {
            let here = match self.catalog.version(&rec.id) {
                Ok(mine) if mine.manifest == rec.manifest => true,
                // A draft changed on either side since an earlier import: the copy here is
                // someone's work, so it stays as it is.
                Ok(mine) if mine.state == State::Draft => {
                    self.warn(
                        Some(progress),
                        format!(
                            "{} is a draft here with other content than the session's; kept as it \
                             is here",
                            mine.label()
                        ),
                    );
                    true
                }
                Ok(mine) => {
                    return Err(Error::Conflict(format!(
                        "version {} of the session is here as {} with other content; an id \
                         names one version, so nothing was imported",
                        rec.label(),
                        mine.label()
                    )))
                }
                Err(_) => false,
            };
            plan.push(Planned { rec, here });
        }

        // 2. Manifests: hashed, decoded with their bounds, paths checked as a pull checks them.
        let mut wanted_manifests: HashMap<Hash, Vec<usize>> = HashMap::new();
        for (i, p) in plan.iter().enumerate() {
            if !p.here {
                wanted_manifests.entry(p.rec.manifest).or_default().push(i);
            }
        }
        // Every object a new version needs, with its size; and all the session may carry.
        let mut needed: HashMap<Hash, u64> = HashMap::new();
        let mut member = tar.next_member().map_err(bad)?;
        while let Some(m) = &member {
            let Some(MemberKind::Manifest(h)) = member_kind(&m.name) else {
                break;
            };
            if m.size > strata_core::manifest::MAX_MANIFEST_BYTES {
                return Err(damaged(format!("{} is too large", m.name)));
            }
            if let Some(users) = wanted_manifests.remove(&h) {
                let mut bytes = vec![0u8; m.size as usize];
                tar.read_exact(&mut bytes).map_err(bad)?;
                if Hash::of(&bytes) != h {
                    return Err(damaged(format!("{} does not match its hash", m.name)));
                }
                let manifest = Manifest::decode(&bytes)
                    .and_then(|mf| mf.check_paths().map(|()| mf))
                    .map_err(|e| damaged(format!("{}: {e}", m.name)))?;
                for &i in &users {
                    let r = &plan[i].rec;
                    if manifest.len() as u64 != r.file_count
                        || manifest.total_bytes() != r.total_bytes
                    {
                        return Err(damaged(format!(
                            "version {} does not match its manifest's counts",
                            r.label()
                        )));
                    }
                }
                collect_objects(&manifest, &mut needed).map_err(damaged)?;
                let stored = self.store.put_manifest(&manifest)?;
                if stored != h {
                    return Err(damaged(format!("{} is not in its usual encoding", m.name)));
                }
            }
            cancel.check()?;
            member = tar.next_member().map_err(bad)?;
        }
        // Manifests this home already has (a version imported before under another id).
        for (h, users) in std::mem::take(&mut wanted_manifests) {
            let manifest = self.store.manifest(&h).map_err(|_| {
                let who = plan[users[0]].rec.label();
                damaged(format!("the manifest of {who} is missing"))
            })?;
            collect_objects(&manifest, &mut needed).map_err(damaged)?;
        }
        let local = self.store.locate_all(needed.iter().map(|(h, s)| (h, *s)))?;
        let present = local.len() as u64;
        needed.retain(|h, _| !local.contains_key(h));
        drop(local);

        // 3. Objects: each checked against its name before the store takes it.
        let _guard = self.store.writer_guard()?;
        let mut small = self.store.small_import();
        let mut out = ImportOutcome {
            path: file.to_path_buf(),
            present_objects: present,
            ..ImportOutcome::default()
        };
        let to_read: u64 = needed.values().sum();
        progress.begin("importing", needed.len() as u64, to_read);
        let mut chunk = vec![0u8; 1 << 20];
        while let Some(m) = member.take() {
            cancel.check()?;
            let h = match member_kind(&m.name) {
                Some(MemberKind::Object(h)) => h,
                Some(MemberKind::Manifest(_)) => {
                    return Err(damaged(format!("{} comes after the content", m.name)))
                }
                None => {
                    return Err(damaged(format!(
                        "it holds '{}', which is not part of a session",
                        names::printable(&m.name)
                    )))
                }
            };
            if let Some(size) = needed.get(&h).copied() {
                if m.size != size {
                    return Err(damaged(format!(
                        "{} is {} bytes where its versions say {size}",
                        m.name, m.size
                    )));
                }
                if size < LOOSE_MIN {
                    let mut bytes = vec![0u8; size as usize];
                    tar.read_exact(&mut bytes).map_err(bad)?;
                    if Hash::of(&bytes) != h {
                        return Err(damaged(format!("{} does not match its hash", m.name)));
                    }
                    small.append(h, &bytes)?;
                } else {
                    let tmp = self.store.tmp_path("import");
                    let stored = (|| -> Result<()> {
                        let mut w = File::create(&tmp).ctx("create", &tmp)?;
                        let mut hasher = blake3::Hasher::new();
                        let mut left = size;
                        while left > 0 {
                            let n = chunk.len().min(left as usize);
                            tar.read_exact(&mut chunk[..n]).map_err(bad)?;
                            hasher.update(&chunk[..n]);
                            w.write_all(&chunk[..n]).ctx("write", &tmp)?;
                            left -= n as u64;
                            progress.advance(0, n as u64);
                            if left > 0 {
                                cancel.check()?;
                            }
                        }
                        if Hash::from(hasher.finalize()) != h {
                            return Err(damaged(format!("{} does not match its hash", m.name)));
                        }
                        drop(w);
                        self.store.import_loose(&h, &tmp)
                    })();
                    if let Err(e) = stored {
                        let _ = std::fs::remove_file(&tmp);
                        return Err(e);
                    }
                }
                needed.remove(&h);
                out.new_objects += 1;
                out.new_bytes += size;
                progress.advance(1, if size < LOOSE_MIN { size } else { 0 });
            }
            // An object this home has, or one no new version needs: skipped unread.
            member = tar.next_member().map_err(bad)?;
        }
        progress.end();
        if let Some((h, _)) = needed.iter().next() {
            return Err(damaged(format!(
                "{} objects the versions need are not in it (objects/{} among them): it was \
                 cut short or made incomplete",
                needed.len(),
                h.to_hex()
            )));
        }
        small.commit()?;

        // 4. The versions, in one transaction: all of them or none.
        let now = strata_core::time::now_ms();
        out.versions = self.catalog.write(|w| {
            let mut done = Vec::with_capacity(plan.len());
            for p in &plan {
                let r = &p.rec;
                let state = State::parse(&r.state)?;
                if p.here {
                    let mine = w.version(&r.id)?;
                    // The exporter finalized it since it was last imported: follow.
                    if mine.state == State::Draft && state != State::Draft {
                        w.set_state(&r.id, state, r.finalized_at.unwrap_or(now))?;
                    }
                    let mine = w.version(&r.id)?;
                    done.push(ImportedVersion {
                        id: r.id.clone(),
                        dataset: mine.full_name(),
                        semver: mine.semver.clone(),
                        renumbered_from: None,
                        state: mine.state.as_str().to_string(),
                        already_here: true,
                        uploaded: matches!(
                            mine.upload_state,
                            UploadState::Uploaded | UploadState::Remote
                        ),
                    });
                    continue;
                }
                let d = DatasetName::parse(&r.dataset)?;
                let wanted = names::parse_semver(&r.semver)?;
                let versions = w.versions_of(&d)?;
                let semver = if versions.iter().any(|v| v.semver == r.semver) {
                    crate::naming::next_semver(versions.iter().max_by_key(|v| v.semver()))?
                } else {
                    wanted
                };
                w.insert_version(&NewVersion {
                    id: &r.id,
                    dataset: &d,
                    semver: &semver,
                    parents: &r.parents,
                    state,
                    tags: &r.tags,
                    description: &r.description,
                    metadata: &r.metadata,
                    manifest: r.manifest,
                    file_count: r.file_count,
                    total_bytes: r.total_bytes,
                    created_at: r.created_at,
                    created_by: &r.created_by,
                })?;
                let renumbered = semver.to_string() != r.semver;
                done.push(ImportedVersion {
                    id: r.id.clone(),
                    dataset: r.dataset.clone(),
                    semver: semver.to_string(),
                    renumbered_from: renumbered.then(|| r.semver.clone()),
                    state: r.state.clone(),
                    already_here: false,
                    uploaded: false,
                });
            }
            Ok(done)
        })?;
        for v in &out.versions {
            if let Some(from) = &v.renumbered_from {
                let msg = format!(
                    "{}@{from} is {}@{} here: this home already numbered another version {from}",
                    v.dataset, v.dataset, v.semver
                );
                self.warn(Some(progress), msg);
            }
        }

        // 5. What was asked on top: finalize the drafts, upload.
        if req.finalize {
            for v in out.versions.iter_mut() {
                if v.state == State::Draft.as_str() {
                    let f = self.finalize(&v.id)?;
                    v.state = f.state.as_str().to_string();
                    out.finalized.push(f.label());
                }
            }
        }
        if req.upload {
            let before: Vec<String> = out.versions.iter().map(|v| v.semver.clone()).collect();
            let mut drafts = 0;
            for i in 0..out.versions.len() {
                cancel.check()?;
                let v = self.catalog.version(&out.versions[i].id)?;
                if v.state == State::Draft {
                    drafts += 1;
                    continue;
                }
                let (after, up) =
                    self.upload_or_queue(&v, req.remote.as_deref(), progress, cancel)?;
                let iv = &mut out.versions[i];
                if let Some(o) = up {
                    if let Some(from) = o.renumbered_from {
                        iv.renumbered_from.get_or_insert(from);
                    }
                }
                iv.semver = after.semver.clone();
                iv.uploaded = matches!(
                    after.upload_state,
                    UploadState::Uploaded | UploadState::Remote
                );
            }
            // An upload pulls first, and what it pulls can renumber any of the session's
            // versions not shared yet: read the numbers again.
            for (iv, was) in out.versions.iter_mut().zip(before) {
                let v = self.catalog.version(&iv.id)?;
                if v.semver != was && iv.renumbered_from.is_none() {
                    iv.renumbered_from = Some(was);
                }
                iv.semver = v.semver.clone();
                iv.uploaded = matches!(v.upload_state, UploadState::Uploaded | UploadState::Remote);
            }
            if drafts > 0 {
                let msg = format!(
                    "{drafts} draft{} of the session stay local: finalize them to upload them",
                    if drafts == 1 { "" } else { "s" }
                );
                self.warn(Some(progress), msg);
            }
        }
        Ok(out)
    }
}

/// Adds a manifest's stored content (whole files and pieces; links are references, not
/// content) to `needed`.
fn collect_objects(
    m: &Manifest,
    needed: &mut HashMap<Hash, u64>,
) -> std::result::Result<(), String> {
    for (h, len) in m.entries().iter().flat_map(|e| e.objects()) {
        match needed.insert(h, len) {
            Some(size) if size != len => {
                return Err(format!("content {h} is given two sizes ({size} and {len})"))
            }
            _ => {}
        }
    }
    Ok(())
}
