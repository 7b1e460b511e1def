//! The remote catalog: an append-only log of events, one object each under `log/`, numbered from
//! one. An event is appended by creating the next number with create-if-absent; when someone
//! else took that number first, the writer reads what they wrote and tries the next one. Every
//! backend honours create-if-absent, so two workstations never overwrite each other's events.

use futures::TryStreamExt;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};
use strata_core::{Error, Hash, Result};

use crate::connect::Connected;
use crate::layout::Layout;

/// A version as the remote catalog records it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RemoteVersion {
    pub id: String,
    /// `project/name`.
    pub dataset: String,
    pub semver: String,
    pub parents: Vec<String>,
    /// `final` or `published`; drafts are never shared.
    pub state: String,
    pub manifest: Hash,
    pub locator: Hash,
    pub file_count: u64,
    pub total_bytes: u64,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub created_at: i64,
    pub created_by: String,
    pub finalized_at: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A version whose content, manifest and locator are all in the bucket.
    Create {
        version: Box<RemoteVersion>,
    },
    Publish {
        id: String,
    },
    /// One version.
    Delete {
        id: String,
    },
    /// A whole dataset.
    DeleteDataset {
        dataset: String,
    },
    /// A dataset's new `project/name` (rename and move alike).
    Rename {
        from: String,
        to: String,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Record {
    pub seq: u64,
    /// Milliseconds since the Unix epoch, by the writer's clock.
    pub at: i64,
    pub by: String,
    #[serde(flatten)]
    pub event: Event,
}

fn remote_err(c: &Connected, e: object_store::Error) -> Error {
    Error::Remote {
        remote: c.name.clone(),
        message: e.to_string(),
    }
}

/// Every event after `after`, in order. Stops at a gap (an event being written right now shows
/// up on the next pull).
pub async fn read_since(c: &Connected, after: u64) -> Result<Vec<Record>> {
    let layout = Layout::new(&c.prefix);
    let dir = layout.dir("log");
    let offset = layout.event(after);
    let mut seqs: Vec<u64> = c
        .store
        .list_with_offset(Some(&dir), &offset)
        .map_err(|e| remote_err(c, e))
        .try_filter_map(|m| {
            let seq = layout.seq_of(&m.location).filter(|s| *s > after);
            async move { Ok(seq) }
        })
        .try_collect()
        .await?;
    seqs.sort_unstable();
    let mut out = Vec::with_capacity(seqs.len());
    for (expect, seq) in (after + 1..).zip(seqs) {
        if seq != expect {
            break;
        }
        out.push(read_one(c, &layout, seq).await?);
    }
    Ok(out)
}

async fn read_one(c: &Connected, layout: &Layout, seq: u64) -> Result<Record> {
    let bytes = c
        .store
        .get(&layout.event(seq))
        .await
        .map_err(|e| remote_err(c, e))?
        .bytes()
        .await
        .map_err(|e| remote_err(c, e))?;
    let rec: Record = serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
        what: format!("remote '{}' log", c.name),
        detail: format!("event {seq}: {e}"),
    })?;
    if rec.seq != seq {
        return Err(Error::Corrupt {
            what: format!("remote '{}' log", c.name),
            detail: format!("event {seq} says it is number {}", rec.seq),
        });
    }
    Ok(rec)
}

/// Tries to write `event` as number `seq`. `Ok(false)`: someone else has that number.
pub async fn try_append(c: &Connected, seq: u64, at: i64, by: &str, event: &Event) -> Result<bool> {
    let layout = Layout::new(&c.prefix);
    let rec = Record {
        seq,
        at,
        by: by.to_string(),
        event: event.clone(),
    };
    let body = serde_json::to_vec_pretty(&rec)
        .map_err(|e| Error::Internal(format!("event encoding: {e}")))?;
    let opts = PutOptions {
        mode: PutMode::Create,
        ..Default::default()
    };
    match c
        .store
        .put_opts(&layout.event(seq), PutPayload::from(body), opts)
        .await
    {
        Ok(_) => Ok(true),
        Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
        // Some servers answer a lost create race with a failed precondition.
        Err(object_store::Error::Precondition { .. }) => Ok(false),
        Err(e) => Err(remote_err(c, e)),
    }
}

/// The versions `records` leave alive, applying deletes and renames in order.
pub fn live(records: &[Record]) -> Vec<RemoteVersion> {
    let mut live: std::collections::BTreeMap<String, RemoteVersion> = Default::default();
    for r in records {
        match &r.event {
            Event::Create { version } => {
                live.insert(version.id.clone(), (**version).clone());
            }
            Event::Delete { id } => {
                live.remove(id);
            }
            Event::DeleteDataset { dataset } => live.retain(|_, v| &v.dataset != dataset),
            Event::Rename { from, to } => {
                for v in live.values_mut().filter(|v| &v.dataset == from) {
                    v.dataset = to.clone();
                }
            }
            Event::Publish { .. } => {}
        }
    }
    live.into_values().collect()
}

/// Ids of versions created in `records` and deleted later in them (their content may be gone).
pub fn doomed(records: &[Record]) -> std::collections::HashSet<String> {
    let alive: std::collections::HashSet<String> =
        live(records).into_iter().map(|v| v.id).collect();
    records
        .iter()
        .filter_map(|r| match &r.event {
            Event::Create { version } if !alive.contains(&version.id) => Some(version.id.clone()),
            _ => None,
        })
        .collect()
}
