//! The session file's container: a POSIX tar (ustar) archive of plain files, so `tar tvf` lists
//! it and any tar can unpack it for a look. Only what a session needs is written or read: regular
//! files with short names, sizes past 8 GiB in the base-256 form GNU tar and libarchive read.
//! The reader trusts nothing: every header's checksum is checked, anything that is not a plain
//! file is refused, and a file that ends early says so.

use std::io::{self, Read, Write};

const BLOCK: usize = 512;
/// Largest size the 11 octal digits of a ustar header hold; larger ones use base-256.
const OCTAL_MAX: u64 = (1 << 33) - 1;

/// Why an archive could not be read, in words for a person; the caller names the file.
#[derive(Debug)]
pub(crate) enum ReadError {
    Io(io::Error),
    /// Not a session, damaged, or cut short: the reason.
    Bad(String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            ReadError::Bad("it ends early (truncated)".into())
        } else {
            ReadError::Io(e)
        }
    }
}

pub(crate) struct TarWriter<W: Write> {
    out: W,
    mtime: u64,
    written: u64,
}

impl<W: Write> TarWriter<W> {
    pub fn new(out: W, mtime_secs: u64) -> Self {
        TarWriter {
            out,
            mtime: mtime_secs,
            written: 0,
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn bytes(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        self.header(name, data.len() as u64)?;
        self.out.write_all(data)?;
        self.written += data.len() as u64;
        self.pad(data.len() as u64)
    }

    /// A member of `size` bytes read from `data`, which must hold exactly that many (a file
    /// that changed size under the writer would otherwise make a broken archive).
    pub fn copy(&mut self, name: &str, size: u64, data: impl Read) -> io::Result<()> {
        self.header(name, size)?;
        let n = io::copy(&mut data.take(size), &mut self.out)?;
        self.written += n;
        if n != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{name}: {n} bytes where {size} were expected"),
            ));
        }
        self.pad(size)
    }

    /// The two zero blocks that end an archive; returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[0u8; 2 * BLOCK])?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn header(&mut self, name: &str, size: u64) -> io::Result<()> {
        let mut h = [0u8; BLOCK];
        if name.len() > 99 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("member name {name} is too long"),
            ));
        }
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        if size <= OCTAL_MAX {
            h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        } else {
            h[124] = 0x80;
            h[128..136].copy_from_slice(&size.to_be_bytes());
        }
        h[136..148].copy_from_slice(format!("{:011o}\0", self.mtime.min(OCTAL_MAX)).as_bytes());
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[265..271].copy_from_slice(b"strata");
        h[297..303].copy_from_slice(b"strata");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        self.out.write_all(&h)?;
        self.written += BLOCK as u64;
        Ok(())
    }

    fn pad(&mut self, size: u64) -> io::Result<()> {
        let rest = padding(size);
        self.out.write_all(&[0u8; BLOCK][..rest])?;
        self.written += rest as u64;
        Ok(())
    }
}

fn padding(size: u64) -> usize {
    (BLOCK - (size % BLOCK as u64) as usize) % BLOCK
}

/// One member's header, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub name: String,
    pub size: u64,
}

pub(crate) struct TarReader<R: Read> {
    inner: R,
    /// Bytes of the current member not yet read, and the padding after it.
    left: u64,
    pad: usize,
    /// Bytes consumed from `inner`, for progress.
    consumed: u64,
}

impl<R: Read> TarReader<R> {
    pub fn new(inner: R) -> Self {
        TarReader {
            inner,
            left: 0,
            pad: 0,
            consumed: 0,
        }
    }

    /// The next member's header (skipping what is left of the current one); `None` at the end.
    pub fn next_member(&mut self) -> Result<Option<Member>, ReadError> {
        let skip = self.left + self.pad as u64;
        if skip > 0 {
            let n = io::copy(&mut (&mut self.inner).take(skip), &mut io::sink())?;
            self.consumed += n;
            if n != skip {
                return Err(ReadError::Bad("it ends early (truncated)".into()));
            }
            self.left = 0;
            self.pad = 0;
        }
        let mut h = [0u8; BLOCK];
        self.fill(&mut h)?;
        if h.iter().all(|&b| b == 0) {
            // The end: two zero blocks. Requiring the second one too means a file cut anywhere,
            // even in its last bytes, is reported as cut.
            self.fill(&mut h)?;
            if h.iter().any(|&b| b != 0) {
                return Err(ReadError::Bad("it has data after its end marker".into()));
            }
            return Ok(None);
        }
        let stored = octal(&h[148..156]).ok_or_else(|| bad_header("checksum"))?;
        let mut sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
        sum = sum - h[148..156].iter().map(|&b| u64::from(b)).sum::<u64>() + 8 * u64::from(b' ');
        if sum != stored {
            return Err(ReadError::Bad(format!(
                "a member header at byte {} is damaged (checksum)",
                self.consumed - BLOCK as u64
            )));
        }
        if &h[257..262] != b"ustar" {
            return Err(bad_header("format (not a ustar archive)"));
        }
        if !matches!(h[156], b'0' | 0) {
            return Err(ReadError::Bad(format!(
                "it holds a member of type '{}'; a session holds plain files only",
                char::from(h[156]).escape_default()
            )));
        }
        if h[345] != 0 {
            return Err(bad_header("name (a long name prefix)"));
        }
        let end = h[..100].iter().position(|&b| b == 0).unwrap_or(100);
        let name = std::str::from_utf8(&h[..end])
            .map_err(|_| bad_header("name (not UTF-8)"))?
            .to_string();
        let size = if h[124] & 0x80 != 0 {
            if h[124..128].iter().any(|&b| b & 0x7f != 0) {
                return Err(bad_header("size"));
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[128..136]);
            u64::from_be_bytes(b)
        } else {
            octal(&h[124..136]).ok_or_else(|| bad_header("size"))?
        };
        self.left = size;
        self.pad = padding(size);
        Ok(Some(Member { name, size }))
    }

    /// Reads exactly `buf.len()` bytes of the current member.
    pub fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ReadError> {
        if buf.len() as u64 > self.left {
            return Err(ReadError::Bad("a member is shorter than read".into()));
        }
        self.fill(buf)?;
        self.left -= buf.len() as u64;
        Ok(())
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<(), ReadError> {
        self.inner.read_exact(buf)?;
        self.consumed += buf.len() as u64;
        Ok(())
    }
}

fn bad_header(what: &str) -> ReadError {
    ReadError::Bad(format!("a member header is damaged ({what})"))
}

/// An octal number field: digits, possibly padded by spaces and ended by NUL or space.
fn octal(field: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(field).ok()?;
    let s = s.trim_matches(|c| c == ' ' || c == '\0');
    if s.is_empty() || s.len() > 22 {
        return None;
    }
    u64::from_str_radix(s, 8).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = TarWriter::new(Vec::new(), 1_700_000_000);
        for (n, d) in members {
            w.bytes(n, d).unwrap();
        }
        w.finish().unwrap()
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, ReadError> {
        let mut r = TarReader::new(bytes);
        let mut out = Vec::new();
        while let Some(m) = r.next_member()? {
            let mut buf = vec![0u8; m.size as usize];
            r.read_exact(&mut buf)?;
            out.push((m.name, buf));
        }
        Ok(out)
    }

    #[test]
    fn what_is_written_reads_back() {
        let a = archive(&[("a.json", b"{}"), ("objects/x", &[7u8; 1000]), ("e", b"")]);
        assert_eq!(a.len() % BLOCK, 0);
        let got = read_all(&a).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].0, "objects/x");
        assert_eq!(got[1].1, vec![7u8; 1000]);
        assert!(got[2].1.is_empty());
    }

    #[test]
    fn a_system_tar_lists_and_unpacks_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.tar");
        std::fs::write(&file, archive(&[("one.txt", b"hello\n")])).unwrap();
        let Ok(out) = std::process::Command::new("tar")
            .arg("-xf")
            .arg(&file)
            .arg("-C")
            .arg(dir.path())
            .output()
        else {
            return; // no tar on this machine: the format is still checked by the reader tests
        };
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            std::fs::read(dir.path().join("one.txt")).unwrap(),
            b"hello\n"
        );
    }

    #[test]
    fn a_large_size_uses_base_256_and_reads_back() {
        let mut w = TarWriter::new(Vec::new(), 0);
        w.header("big", OCTAL_MAX + 5).unwrap();
        let bytes = w.out;
        let mut r = TarReader::new(&bytes[..]);
        let m = r.next_member().unwrap().unwrap();
        assert_eq!(m.size, OCTAL_MAX + 5);
    }

    #[test]
    fn a_cut_archive_says_it_is_truncated() {
        let a = archive(&[("a", &[1u8; 3000])]);
        for cut in [100, 600, 2000, 3584, 4095] {
            match read_all(&a[..cut]) {
                Err(ReadError::Bad(why)) => assert!(why.contains("truncated"), "{cut}: {why}"),
                other => panic!("{cut}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_flipped_header_byte_fails_the_checksum() {
        let mut a = archive(&[("a", b"x")]);
        a[3] ^= 1;
        match read_all(&a) {
            Err(ReadError::Bad(why)) => assert!(why.contains("checksum"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn links_and_directories_are_refused() {
        let mut a = archive(&[("a", b"x")]);
        a[156] = b'2';
        a[148..156].copy_from_slice(b"        ");
        let sum: u32 = a[..BLOCK].iter().map(|&b| u32::from(b)).sum();
        a[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        match read_all(&a) {
            Err(ReadError::Bad(why)) => assert!(why.contains("plain files"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
