//! Moving bytes: whole small objects, large files in parts, ranges back, and large objects
//! streamed to disk. Callers decide what to move; these only move it and say how much went by.

use std::io::{Read, Write};
use std::ops::Range;
use std::path::Path;

use bytes::Bytes;
use futures::StreamExt;
use object_store::path::Path as StorePath;
use object_store::{GetOptions, GetRange, ObjectStoreExt, PutPayload, WriteMultipart};
use strata_core::{Cancel, Error, Hash, IoContext, Progress, Result};

use crate::connect::Connected;
use crate::layout::max_size_of;

/// Never reserve more than this up front for a download: an announced size is only a claim.
const PREALLOC_MAX: u64 = 8 << 20;

/// Parts of a large upload; several are in flight at once.
pub const PART_SIZE: usize = 16 << 20;
const PARTS_IN_FLIGHT: usize = 4;

impl Connected {
    pub fn err(&self, e: object_store::Error) -> Error {
        match e {
            object_store::Error::NotFound { path, .. } => Error::NotFound {
                what: "remote object",
                name: format!("{path} on remote '{}'", self.name),
            },
            e => crate::connect::failure(&self.name, e),
        }
    }

    /// A download that is not what was expected, named by its key.
    fn oversized(&self, key: &StorePath, detail: String) -> Error {
        Error::Corrupt {
            what: format!("remote '{}'", self.name),
            detail: format!("{key} {detail}; refused"),
        }
    }

    /// Writes an object whose name is its content; a second write of it changes nothing.
    pub async fn put_bytes(&self, key: &StorePath, bytes: Bytes) -> Result<()> {
        self.store
            .put(key, PutPayload::from(bytes))
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The size of an object, or `None` when it is not there.
    pub async fn size_of(&self, key: &StorePath) -> Result<Option<u64>> {
        match self.store.head(key).await {
            Ok(m) => Ok(Some(m.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err(e)),
        }
    }

    /// A whole metadata object (manifest, locator, log event), at most the size its kind may
    /// have ([`max_size_of`]).
    pub async fn get_bytes(&self, key: &StorePath) -> Result<Bytes> {
        self.get_limited(key, max_size_of(key)).await
    }

    /// A whole object of at most `max` bytes. The announced size is checked first, then the
    /// bytes are counted as they arrive: a server that sends more than it announced, or more
    /// than `max`, is refused without reading on.
    pub async fn get_limited(&self, key: &StorePath, max: u64) -> Result<Bytes> {
        let got = self.store.get(key).await.map_err(|e| self.err(e))?;
        let announced = got.meta.size;
        if announced > max {
            return Err(self.oversized(
                key,
                format!("is {announced} bytes, more than the {max} expected"),
            ));
        }
        self.collect(key, got.into_stream(), announced, announced)
            .await
    }

    /// A range of an object, exactly `range.end - range.start` bytes.
    pub async fn get_range(&self, key: &StorePath, range: Range<u64>) -> Result<Bytes> {
        let want = range
            .end
            .checked_sub(range.start)
            .ok_or_else(|| self.oversized(key, format!("range {range:?} is backwards")))?;
        if want == 0 {
            return Ok(Bytes::new());
        }
        let opts = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..Default::default()
        };
        let got = self
            .store
            .get_opts(key, opts)
            .await
            .map_err(|e| self.err(e))?;
        self.collect(key, got.into_stream(), want, want).await
    }

    /// Reads a body of exactly `expect` bytes, refusing as soon as it goes past `max`.
    async fn collect(
        &self,
        key: &StorePath,
        mut stream: futures::stream::BoxStream<'static, object_store::Result<Bytes>>,
        expect: u64,
        max: u64,
    ) -> Result<Bytes> {
        let mut buf = Vec::with_capacity(expect.min(PREALLOC_MAX) as usize);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.err(e))?;
            if buf.len() as u64 + chunk.len() as u64 > max {
                return Err(self.oversized(key, format!("sent more than the {max} bytes expected")));
            }
            buf.extend_from_slice(&chunk);
        }
        if buf.len() as u64 != expect {
            return Err(self.oversized(
                key,
                format!("is shorter than expected ({} of {expect} bytes)", buf.len()),
            ));
        }
        Ok(Bytes::from(buf))
    }

    /// Uploads a local file in parts, reading it a part at a time so memory stays bounded.
    pub async fn put_file(
        &self,
        key: &StorePath,
        file: &Path,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<()> {
        let size = std::fs::metadata(file).ctx("read", file)?.len();
        if size <= PART_SIZE as u64 {
            let bytes = std::fs::read(file).ctx("read", file)?;
            self.put_bytes(key, Bytes::from(bytes)).await?;
            progress.advance(0, size);
            return Ok(());
        }
        let upload = self
            .store
            .put_multipart(key)
            .await
            .map_err(|e| self.err(e))?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut f = std::fs::File::open(file).ctx("open", file)?;
        let mut buf = vec![0u8; PART_SIZE];
        let outcome: Result<()> = async {
            loop {
                cancel.check()?;
                w.wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(|e| self.err(e))?;
                let n = read_full(&mut f, &mut buf).ctx("read", file)?;
                if n == 0 {
                    return Ok(());
                }
                w.write(&buf[..n]);
                progress.advance(0, n as u64);
            }
        }
        .await;
        match outcome {
            Ok(()) => {
                w.finish().await.map_err(|e| self.err(e))?;
                Ok(())
            }
            Err(e) => {
                let _ = w.abort().await;
                Err(e)
            }
        }
    }

    /// Streams an object of `size` bytes into `dest`, hashing as it goes; fails unless it is
    /// that size and hashes to `expect`. A larger object, announced or sent, is refused before
    /// more than `size` bytes are written.
    pub async fn get_to_file(
        &self,
        key: &StorePath,
        dest: &Path,
        size: u64,
        expect: &Hash,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<u64> {
        let got = self.store.get(key).await.map_err(|e| self.err(e))?;
        if got.meta.size != size {
            return Err(self.oversized(
                key,
                format!("is {} bytes, not the {size} expected", got.meta.size),
            ));
        }
        let mut stream = got.into_stream();
        let mut out = std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(dest).ctx("create", dest)?,
        );
        let mut hasher = blake3::Hasher::new();
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            cancel.check()?;
            let chunk = chunk.map_err(|e| self.err(e))?;
            total += chunk.len() as u64;
            if total > size {
                return Err(
                    self.oversized(key, format!("sent more than the {size} bytes expected"))
                );
            }
            hasher.update(&chunk);
            out.write_all(&chunk).ctx("write", dest)?;
            progress.advance(0, chunk.len() as u64);
        }
        out.flush().ctx("write", dest)?;
        if total != size {
            return Err(self.oversized(
                key,
                format!("is shorter than expected ({total} of {size} bytes)"),
            ));
        }
        let got = Hash::from(hasher.finalize());
        if got != *expect {
            return Err(Error::Corrupt {
                what: format!("remote '{}'", self.name),
                detail: format!("{key} does not match its hash (expected {expect}, got {got})"),
            });
        }
        Ok(total)
    }
}

fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
