//! Decoding a manifest read from a bucket costs memory linear in its size, whatever its bytes
//! say: a counting allocator records the peak while hostile and random inputs are decoded.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use strata_core::Manifest;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak bytes allocated while decoding `bytes` (this binary has one test, so nothing else runs).
fn peak_of_decode(bytes: &[u8]) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    drop(Manifest::decode(bytes));
    PEAK.load(Ordering::Relaxed) - base
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A manifest whose entry `i` repeats the previous path up to `keep(i)` bytes and adds `add(i)`.
fn front_coded(n: u64, keep: impl Fn(u64) -> u64, add: impl Fn(u64) -> Vec<u8>) -> Vec<u8> {
    let mut b = b"STRATAM1".to_vec();
    varint(&mut b, n);
    for i in 0..n {
        let suffix = add(i);
        varint(&mut b, keep(i));
        varint(&mut b, suffix.len() as u64);
        b.extend_from_slice(&suffix);
        varint(&mut b, 1);
        b.extend_from_slice(&[9; 32]);
        b.push(0);
    }
    b
}

/// Entries cost at most their struct plus a 4 KiB path, and each takes at least 37 input bytes:
/// about 113 bytes of memory per input byte, plus a little.
fn bound(len: usize) -> usize {
    128 * len + (64 << 10)
}

#[test]
fn decoding_never_allocates_more_than_a_bound() {
    // The quadratic case: 12 MB of input that once asked for ~45 GB.
    let hostile = front_coded(330_000, |i| i, |_| b"a".to_vec());
    let start = std::time::Instant::now();
    let peak = peak_of_decode(&hostile);
    assert!(peak < 64 << 20, "peak {peak} bytes for a 12 MB manifest");
    assert!(start.elapsed().as_secs_f64() < 1.0);

    // 4 KiB paths of a few input bytes each: the worst amplification that is allowed.
    let letter = |i: u64| b'a' + (i % 26) as u8;
    let long = front_coded(
        3_000,
        |i| if i == 0 { 0 } else { 4000 },
        |i| {
            let tail = [letter(i / 676), letter(i / 26), letter(i)];
            if i == 0 {
                [vec![b'x'; 4000], tail.to_vec()].concat()
            } else {
                tail.to_vec()
            }
        },
    );
    assert!(Manifest::decode(&long).is_ok());
    let peak = peak_of_decode(&long);
    assert!(
        peak <= bound(long.len()),
        "peak {peak} for {} bytes",
        long.len()
    );

    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(
            &proptest::collection::vec(any::<u8>(), 0..4096),
            |mut bytes| {
                bytes.splice(0..0, *b"STRATAM1");
                let peak = peak_of_decode(&bytes);
                prop_assert!(
                    peak <= bound(bytes.len()),
                    "peak {} for {} bytes",
                    peak,
                    bytes.len()
                );
                Ok(())
            },
        )
        .unwrap();
}
