//! `add-link`: files that stay where they are (a bucket, an https server, a shared folder),
//! recorded in a draft by size and hash. `get` fetches them from there, checking the hash;
//! `verify` reports those that changed at the source.

use futures::{StreamExt, TryStreamExt};
use strata_core::{Cancel, Entry, Error, Hash, Progress, Result};
use strata_remote::Link;
use strata_store::verify::Mismatch;
use strata_store::LOOSE_MIN;

use crate::remotes::block_on;
use crate::{Change, Engine};

const LINKS_IN_FLIGHT: usize = 4;

impl Engine {
    /// Records external files in a draft, under `to` (their file names kept).
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
        let v = self.resolve(reference)?;
        v.ensure_draft()?;
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
            links.push((path, Link::open(url, &remotes)?));
        }
        self.online("reading linked files")?;
        let _lock = self.lock(&v.id, "add-link", progress)?;
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
                path,
                size,
                hash,
                link: Some(url),
            });
        }
        let _guard = self.store.writer_guard()?;
        let old = self.manifest_of(&v)?;
        let mut new = old.clone();
        new.upsert(entries);
        self.commit_content(&v, &old, new, Vec::new(), Vec::new(), (0, 0, 0))
    }

    /// Fetches linked files the store lacks into it, every byte checked against its hash.
    pub(crate) fn fetch_links(
        &self,
        entries: &[&Entry],
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<(u64, u64)> {
        if entries.is_empty() {
            return Ok((0, 0));
        }
        self.online("fetching linked files")?;
        let remotes = self.catalog.remotes()?;
        let total: u64 = entries.iter().map(|e| e.size).sum();
        progress.begin("fetching linked files", entries.len() as u64, total);
        for e in entries {
            cancel.check()?;
            let url = e.link.as_deref().unwrap_or_default();
            let link = Link::open(url, &remotes)?;
            let tmp = self.store.tmp_path("k-");
            let got = block_on(
                link.at
                    .get_to_file(&link.key, &tmp, &e.hash, progress, cancel),
            )?;
            let res = got.and_then(|_| {
                if e.size >= LOOSE_MIN {
                    self.store.import_loose(&e.hash, &tmp)
                } else {
                    let bytes = std::fs::read(&tmp).map_err(|err| Error::Io {
                        action: "read",
                        path: tmp.clone(),
                        source: err,
                    })?;
                    let mut imp = self.store.small_import();
                    imp.append(e.hash, &bytes)?;
                    imp.commit()
                }
            });
            let _ = std::fs::remove_file(&tmp);
            res.map_err(|err| match err {
                Error::Corrupt { .. } => Error::Corrupt {
                    what: format!("linked file {}", e.path),
                    detail: format!("{url} changed at the source since it was linked"),
                },
                other => other,
            })?;
            progress.advance(1, 0);
        }
        progress.end();
        Ok((entries.len() as u64, total))
    }

    /// Re-reads linked files at their source; lists those that changed or are gone.
    pub(crate) fn verify_links(
        &self,
        entries: &[&Entry],
        cancel: &Cancel,
    ) -> Result<Vec<Mismatch>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        self.online("checking linked files")?;
        let remotes = self.catalog.remotes()?;
        let mut out = Vec::new();
        for e in entries {
            let url = e.link.as_deref().unwrap_or_default();
            let problem = match Link::open(url, &remotes)
                .and_then(|l| block_on(async { l.measure(cancel).await })?)
            {
                Ok((_, h)) if h == e.hash => continue,
                Ok((size, h)) => {
                    out.push(Mismatch {
                        path: e.path.clone(),
                        expected: e.hash,
                        actual: Some(h),
                        problem: format!("changed at the source ({url}, now {size} bytes)"),
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
