//! Cutting large files into content-defined pieces (FastCDC, 2020 version, with the `fastcdc`
//! crate's cut points): a boundary depends only on the bytes around it, so an edit inside a
//! 128 MB shard changes the one or two pieces it touches and every other piece keeps its hash.
//! The pieces are stored, packed, transferred and range-read like small files, which is what
//! turns "a 4 KB edit re-sends 128 MB" into "a 4 KB edit re-sends a few hundred KB".
//!
//! Piece sizes: at least 64 KiB (below that, per-piece costs — a hash, an index row, a range in a
//! request — start to weigh), 256 KiB on average (an edit costs about that much), at most just
//! under 1 MiB (so every piece is a packed object, never one of the store's loose files).

use std::io::Read;
use std::path::Path;

use fastcdc::v2020::{self, Normalization};
use strata_core::manifest::MAX_CHUNK_BYTES;
use strata_core::{IoContext, Result};

pub const MIN_PIECE: usize = 64 << 10;
pub const AVG_PIECE: usize = 256 << 10;
pub const MAX_PIECE: usize = MAX_CHUNK_BYTES as usize;

/// Files at least this large are stored in pieces (default 4 MiB; smaller files gain little:
/// they rarely change in part, and each would be only a few pieces).
pub const DEFAULT_CHUNKED_MIN: u64 = 4 << 20;

/// The size from which files are stored in pieces: [`DEFAULT_CHUNKED_MIN`], or
/// `STRATA_CHUNKED_MIN` (bytes; `off` stores every file whole, as versions made before pieces
/// existed were stored). Read once per process.
pub fn chunked_min() -> u64 {
    static MIN: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *MIN.get_or_init(|| match std::env::var("STRATA_CHUNKED_MIN") {
        Ok(v) if v.trim() == "off" => u64::MAX,
        // Never below the loose threshold: smaller files are packed whole anyway.
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .map(|n| n.max(crate::LOOSE_MIN))
            .unwrap_or(DEFAULT_CHUNKED_MIN),
        Err(_) => DEFAULT_CHUNKED_MIN,
    })
}

/// How much of a file is held at once while it is cut: a few maximal pieces, so the cut points
/// are found in one buffer and its tail is moved to the front once per few MB, not per piece.
const WINDOW: usize = 4 << 20;

/// Reads `source` (the file at `path`) to its end and hands each piece to `piece` in order;
/// returns the bytes read. Stops reading once more than `limit` bytes came (the caller's sign of
/// a file that grew while it was read).
pub fn split(
    source: &mut dyn Read,
    path: &Path,
    limit: u64,
    mut piece: impl FnMut(&[u8]) -> Result<()>,
) -> Result<u64> {
    let (mask_s, mask_l) = v2020::select_masks(AVG_PIECE, Normalization::Level1);
    let mut buf = vec![0u8; WINDOW];
    let (mut start, mut end) = (0usize, 0usize);
    let mut eof = false;
    let mut total = 0u64;
    loop {
        while !eof && end < buf.len() && total <= limit {
            match source.read(&mut buf[end..]) {
                Ok(0) => eof = true,
                Ok(n) => {
                    end += n;
                    total += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e).ctx("read", path),
            }
        }
        let done = eof || total > limit;
        // A cut needs a maximal piece ahead of it unless the file ends within the window.
        while end - start >= MAX_PIECE || (done && end > start) {
            let (_, n) = v2020::cut(
                &buf[start..end],
                MIN_PIECE,
                AVG_PIECE,
                MAX_PIECE,
                mask_s,
                mask_l,
                mask_s << 1,
                mask_l << 1,
            );
            // `cut` returns at least one byte of a non-empty input; guard anyway, a zero would
            // loop forever.
            let n = n.clamp(1, end - start);
            piece(&buf[start..start + n])?;
            start += n;
        }
        if done {
            return Ok(total);
        }
        buf.copy_within(start..end, 0);
        end -= start;
        start = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(data: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let n = split(&mut &data[..], Path::new("x"), u64::MAX, |p| {
            out.push(p.to_vec());
            Ok(())
        })
        .unwrap();
        assert_eq!(n, data.len() as u64);
        out
    }

    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn pieces_cover_the_file_within_their_bounds() {
        let data = noise(20 << 20, 1);
        let ps = pieces(&data);
        assert_eq!(ps.concat(), data);
        assert!(ps.iter().all(|p| p.len() <= MAX_PIECE));
        assert!(ps[..ps.len() - 1].iter().all(|p| p.len() >= MIN_PIECE));
        let avg = data.len() / ps.len();
        assert!(
            (AVG_PIECE / 2..AVG_PIECE * 2).contains(&avg),
            "average {avg}"
        );
        // The same bytes read a few at a time cut the same way.
        let mut slow = SlowReader(&data);
        let mut again = Vec::new();
        split(&mut slow, Path::new("x"), u64::MAX, |p| {
            again.push(p.to_vec());
            Ok(())
        })
        .unwrap();
        assert_eq!(again, ps);
    }

    #[test]
    fn an_edit_changes_only_the_pieces_around_it() {
        let data = noise(32 << 20, 2);
        let mut edited = data.clone();
        for b in &mut edited[17_000_000..17_004_096] {
            *b ^= 0x5a;
        }
        let before: std::collections::HashSet<Vec<u8>> = pieces(&data).into_iter().collect();
        let changed: usize = pieces(&edited)
            .into_iter()
            .filter(|p| !before.contains(p))
            .map(|p| p.len())
            .sum();
        assert!(changed <= 2 << 20, "{changed} bytes of new pieces");
        // An insertion shifts everything after it, yet the cut points resynchronise.
        let mut inserted = data.clone();
        inserted.splice(5_000_000..5_000_000, noise(1000, 3));
        let changed: usize = pieces(&inserted)
            .into_iter()
            .filter(|p| !before.contains(p))
            .map(|p| p.len())
            .sum();
        assert!(
            changed <= 2 << 20,
            "{changed} bytes of new pieces after an insert"
        );
    }

    #[test]
    fn small_and_empty_inputs() {
        assert!(pieces(&[]).is_empty());
        assert_eq!(pieces(b"abc"), vec![b"abc".to_vec()]);
    }

    struct SlowReader<'a>(&'a [u8]);

    impl Read for SlowReader<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(7919);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
}
