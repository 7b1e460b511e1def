//! Moving bytes: whole small objects, large files in parts, ranges back, and large objects
//! streamed to disk. Callers decide what to move; these only move it and say how much went by.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path as StorePath;
use object_store::{
    GetOptions, GetRange, GetResult, GetResultPayload, ObjectStoreExt, PutPayload, WriteMultipart,
};
use strata_core::{Cancel, Error, Hash, IoContext, Progress, Result};
use tokio::runtime::Handle;

use crate::connect::Connected;
use crate::layout::max_size_of;

/// Never reserve more than this up front for a download: an announced size is only a claim.
const PREALLOC_MAX: u64 = 8 << 20;

/// Parts of a large upload; several are in flight at once.
pub const PART_SIZE: usize = 16 << 20;
/// Parts of one upload in flight at once. Each is a `PART_SIZE` buffer until the server has it,
/// so this times the large uploads a caller runs at once is what uploading holds in memory.
pub const PARTS_IN_FLIGHT: usize = 3;

/// A large download is hashed and written this much at a time, not a network chunk (8–16 KB)
/// at a time: a thousand handovers per GB instead of a hundred thousand. Larger buffers fall out
/// of the CPU's cache between hashing and writing: 8 MiB made a folder fetch half as fast again.
const IO_BUF: usize = 1 << 20;
/// A folder remote's file is copied by the kernel this much at a time, between cancel checks.
const COPY_PIECE: u64 = 64 << 20;

/// Buffers that downloads are read into, each handed back to the set when the bytes read into
/// it are dropped: a fetch of a gigabyte reads into the same few blocks of memory, where a
/// fresh 8 MB block per range had the kernel fault in and zero each of its pages (a third of
/// the CPU time of a fetch from a folder remote). A buffer comes back only while the set is
/// alive, so the set a fetch makes is freed with it; a default set that nobody keeps lends
/// nothing back.
#[derive(Clone, Default)]
pub struct Buffers(Arc<Mutex<Vec<Vec<u8>>>>);

/// Buffers a set keeps for reuse: the ranges a fetch has in flight, and one being stored.
const BUFFERS_KEPT: usize = 4;

impl Buffers {
    /// An empty buffer with room for `capacity` bytes.
    fn take(&self, capacity: usize) -> Vec<u8> {
        match self.0.lock().ok().and_then(|mut spare| spare.pop()) {
            Some(mut buf) => {
                buf.clear();
                buf.reserve(capacity);
                buf
            }
            None => Vec::with_capacity(capacity),
        }
    }

    /// `buf` as bytes that return it to the set when the last of them is dropped.
    fn lend(&self, buf: Vec<u8>) -> Bytes {
        Bytes::from_owner(Lent {
            buf,
            home: Arc::downgrade(&self.0),
        })
    }
}

struct Lent {
    buf: Vec<u8>,
    home: Weak<Mutex<Vec<Vec<u8>>>>,
}

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let Some(home) = self.home.upgrade() else {
            return;
        };
        if let Ok(mut spare) = home.lock() {
            if spare.len() < BUFFERS_KEPT {
                spare.push(std::mem::take(&mut self.buf));
            }
        };
    }
}

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
        // No set to lend from: the buffer is the caller's to keep.
        self.body(key, got, announced, announced, &Buffers::default())
            .await
    }

    /// A range of an object, exactly `range.end - range.start` bytes, read into one of
    /// `buffers`.
    pub async fn get_range(
        &self,
        key: &StorePath,
        range: Range<u64>,
        buffers: &Buffers,
    ) -> Result<Bytes> {
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
        self.body(key, got, want, want, buffers).await
    }

    /// The body of a response, exactly `expect` bytes (see [`Self::collect`]), read into one of
    /// `buffers`. A folder remote's file is read in one go: its stream would hand it over 8 KB
    /// at a time, each read a task of its own.
    async fn body(
        &self,
        key: &StorePath,
        got: GetResult,
        expect: u64,
        max: u64,
        buffers: &Buffers,
    ) -> Result<Bytes> {
        let range = got.range.clone();
        let (file, path) = match got.payload {
            GetResultPayload::File(file, path) => (file, path),
            _ => {
                return self
                    .collect(key, got.into_stream(), expect, max, buffers)
                    .await
            }
        };
        let len = range.end.saturating_sub(range.start);
        if len > max {
            return Err(self.longer(key, max));
        }
        let mut buf = buffers.take(len as usize);
        let read = tokio::task::spawn_blocking(move || {
            let mut file = file;
            file.seek(std::io::SeekFrom::Start(range.start))
                .and_then(|_| file.take(len).read_to_end(&mut buf))
                .ctx("read", &path)
                .map(|_| buf)
        })
        .await
        .map_err(|e| Error::Internal(format!("reading {key}: {e}")))??;
        if read.len() as u64 != expect {
            return Err(self.shorter(key, read.len() as u64, expect));
        }
        Ok(buffers.lend(read))
    }

    /// Reads a body of exactly `expect` bytes into one of `buffers`, refusing as soon as it goes
    /// past `max`.
    async fn collect(
        &self,
        key: &StorePath,
        mut stream: futures::stream::BoxStream<'static, object_store::Result<Bytes>>,
        expect: u64,
        max: u64,
        buffers: &Buffers,
    ) -> Result<Bytes> {
        let mut buf = buffers.take(expect.min(PREALLOC_MAX) as usize);
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
        Ok(buffers.lend(buf))
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
        let f = File::open(file).ctx("open", file)?;
        let outcome: Result<()> = async {
            loop {
                cancel.check()?;
                w.wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(|e| self.err(e))?;
                // Each part is read into a buffer of its own that goes to the request as it is
                // (no second copy), and is freed when the server has it.
                let mut part = Vec::with_capacity(PART_SIZE);
                let n = (&f)
                    .take(PART_SIZE as u64)
                    .read_to_end(&mut part)
                    .ctx("read", file)?;
                if n == 0 {
                    return Ok(());
                }
                w.put(Bytes::from(part));
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

    /// Downloads an object of `size` bytes, hashing it; into `dest` (a new file) when given,
    /// else only hashed. Fails unless it is that size and hashes to `expect`; a larger object,
    /// announced or sent, is refused before more than `size` bytes are written.
    ///
    /// Runs on the calling thread, which must not be a worker of `rt` (the runtime that carries
    /// the connection): the bytes are hashed and written here, a large buffer at a time, so
    /// several downloads on several threads use every core and the runtime only moves bytes off
    /// the network. An object of a folder remote is copied by the kernel (a reflink where the
    /// filesystem shares blocks, else `copy_file_range`), then hashed as stored.
    #[allow(clippy::too_many_arguments)]
    pub fn download(
        &self,
        rt: &Handle,
        key: &StorePath,
        dest: Option<&Path>,
        size: u64,
        expect: &Hash,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<u64> {
        let got = rt.block_on(self.store.get(key)).map_err(|e| self.err(e))?;
        if got.meta.size != size {
            return Err(self.oversized(
                key,
                format!("is {} bytes, not the {size} expected", got.meta.size),
            ));
        }
        let got = match got.payload {
            GetResultPayload::File(file, path) => {
                self.copy_file(key, &file, &path, dest, size, progress, cancel)?
            }
            GetResultPayload::Stream(stream) => {
                self.copy_stream(rt, key, stream, dest, size, progress, cancel)?
            }
        };
        if got != *expect {
            return Err(Error::Corrupt {
                what: format!("remote '{}'", self.name),
                detail: format!("{key} does not match its hash (expected {expect}, got {got})"),
            });
        }
        Ok(size)
    }

    /// A folder remote's file into `dest`: cloned or copied in the kernel a piece at a time,
    /// each piece then read back from `dest` and hashed, so what is hashed is what was stored.
    #[allow(clippy::too_many_arguments)]
    fn copy_file(
        &self,
        key: &StorePath,
        src: &File,
        src_path: &Path,
        dest: Option<&Path>,
        size: u64,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Hash> {
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0u8; IO_BUF.min(size as usize).max(1)];
        let Some(dest) = dest else {
            // Only checking: hash the remote's file where it is.
            let total = hash_range(
                &mut hasher,
                src,
                src_path,
                0,
                size,
                &mut buf,
                progress,
                cancel,
            )?;
            if total < size {
                return Err(self.shorter(key, total, size));
            }
            let mut probe = [0u8; 1];
            if src.read_at(&mut probe, size).ctx("read", src_path)? > 0 {
                return Err(self.longer(key, size));
            }
            return Ok(Hash::from(hasher.finalize()));
        };
        let out = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(dest)
            .ctx("create", dest)?;
        // SAFETY: an ioctl on two descriptors we own; FICLONE takes the source descriptor.
        let cloned = unsafe { libc::ioctl(out.as_raw_fd(), libc::FICLONE, src.as_raw_fd()) } == 0;
        if cloned {
            let len = out.metadata().ctx("stat", dest)?.len();
            if len > size {
                return Err(self.longer(key, size));
            }
            let total = hash_range(&mut hasher, &out, dest, 0, size, &mut buf, progress, cancel)?;
            if total < size {
                return Err(self.shorter(key, total, size));
            }
            return Ok(Hash::from(hasher.finalize()));
        }
        let mut done = 0u64;
        loop {
            cancel.check()?;
            // One byte more than is left, so a file that grew is noticed.
            let want = COPY_PIECE.min(size - done + 1);
            let n = std::io::copy(&mut src.take(want), &mut &out).ctx("copy to", dest)?;
            if n == 0 {
                break;
            }
            if done + n > size {
                return Err(self.longer(key, size));
            }
            let hashed = hash_range(&mut hasher, &out, dest, done, n, &mut buf, progress, cancel)?;
            if hashed != n {
                return Err(self.shorter(key, done + hashed, size));
            }
            done += n;
        }
        if done != size {
            return Err(self.shorter(key, done, size));
        }
        Ok(Hash::from(hasher.finalize()))
    }

    /// A network body into `dest`: gathered on the runtime into a large buffer, then hashed and
    /// written on this thread. A chunk that would overflow the buffer waits for the next one, so
    /// the buffer never grows past its size.
    #[allow(clippy::too_many_arguments)]
    fn copy_stream(
        &self,
        rt: &Handle,
        key: &StorePath,
        mut stream: BoxStream<'static, object_store::Result<Bytes>>,
        dest: Option<&Path>,
        size: u64,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Hash> {
        let mut out = match dest {
            Some(d) => Some((
                OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(d)
                    .ctx("create", d)?,
                d,
            )),
            None => None,
        };
        let cap = IO_BUF.min(size as usize).max(1);
        let mut buf: Vec<u8> = Vec::with_capacity(cap);
        let mut held: Option<Bytes> = None;
        let mut hasher = blake3::Hasher::new();
        let mut total = 0u64;
        loop {
            cancel.check()?;
            let ended = rt.block_on(async {
                loop {
                    let chunk = match held.take() {
                        Some(c) => c,
                        None => match stream.next().await {
                            Some(c) => c.map_err(|e| self.err(e))?,
                            None => return Ok::<_, Error>(true),
                        },
                    };
                    total += chunk.len() as u64;
                    if total > size {
                        return Err(self.longer(key, size));
                    }
                    if !buf.is_empty() && buf.len() + chunk.len() > cap {
                        total -= chunk.len() as u64;
                        held = Some(chunk);
                        return Ok(false);
                    }
                    buf.extend_from_slice(&chunk);
                    if buf.len() >= cap {
                        return Ok(false);
                    }
                }
            })?;
            hasher.update(&buf);
            if let Some((f, d)) = out.as_mut() {
                f.write_all(&buf).ctx("write", d)?;
            }
            progress.advance(0, buf.len() as u64);
            buf.clear();
            if ended {
                break;
            }
        }
        if total != size {
            return Err(self.shorter(key, total, size));
        }
        Ok(Hash::from(hasher.finalize()))
    }

    fn longer(&self, key: &StorePath, size: u64) -> Error {
        self.oversized(key, format!("sent more than the {size} bytes expected"))
    }

    fn shorter(&self, key: &StorePath, got: u64, size: u64) -> Error {
        self.oversized(
            key,
            format!("is shorter than expected ({got} of {size} bytes)"),
        )
    }
}

/// Reads `len` bytes of `file` from `offset` into `hasher`, a buffer at a time; returns how many
/// there were (fewer at the end of the file).
#[allow(clippy::too_many_arguments)]
fn hash_range(
    hasher: &mut blake3::Hasher,
    file: &File,
    path: &Path,
    offset: u64,
    len: u64,
    buf: &mut [u8],
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<u64> {
    let mut done = 0u64;
    while done < len {
        cancel.check()?;
        let want = buf.len().min((len - done) as usize);
        let n = read_full_at(file, &mut buf[..want], offset + done).ctx("read", path)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        progress.advance(0, n as u64);
        done += n as u64;
    }
    Ok(done)
}

fn read_full_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read_at(&mut buf[n..], offset + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A buffer lent out comes back to its set when the last bytes read into it are dropped,
    /// and the next read reuses it (the same memory, no new pages); bytes outliving the set
    /// free their buffer instead.
    #[test]
    fn a_lent_buffer_comes_back_for_the_next_read() {
        let buffers = Buffers::default();
        let mut buf = buffers.take(1 << 20);
        buf.extend_from_slice(b"first range");
        let at = buf.as_ptr();
        let bytes = buffers.lend(buf);
        let part = bytes.slice(0..5);
        drop(bytes);
        assert_eq!(&part[..], b"first", "a slice keeps the buffer lent");
        assert_eq!(buffers.0.lock().unwrap().len(), 0);
        drop(part);
        assert_eq!(buffers.0.lock().unwrap().len(), 1);
        let again = buffers.take(1000);
        assert_eq!(again.as_ptr(), at, "the same memory");
        assert!(again.is_empty() && again.capacity() >= 1 << 20);

        let outliving = buffers.lend(again);
        drop(buffers);
        assert_eq!(&outliving[..], b"");
        drop(outliving); // freed, with nowhere to go back to
    }

    /// A set keeps at most a few spare buffers, whatever was in flight at once.
    #[test]
    fn a_set_keeps_a_bounded_number_of_spares() {
        let buffers = Buffers::default();
        let lent: Vec<Bytes> = (0..20).map(|_| buffers.lend(buffers.take(64))).collect();
        drop(lent);
        assert_eq!(buffers.0.lock().unwrap().len(), BUFFERS_KEPT);
    }
}
