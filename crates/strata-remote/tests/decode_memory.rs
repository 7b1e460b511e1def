//! Decoding a locator read from a bucket costs memory linear in its size, whatever its bytes
//! say: a counting allocator records the peak while hostile and random inputs are decoded.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use strata_core::Hash;
use strata_remote::{Locator, Place};

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
    drop(Locator::decode(bytes));
    PEAK.load(Ordering::Relaxed) - base
}

/// A record is 52 bytes; decoded it is a map entry and a pack name of at most 128 bytes.
fn bound(len: usize) -> usize {
    16 * len + (64 << 10)
}

#[test]
fn decoding_never_allocates_more_than_a_bound() {
    // The most a pack name can cost: the longest name, named by every record.
    let mut l = Locator::default();
    for i in 0..20_000u32 {
        l.places.insert(
            Hash::of(&i.to_le_bytes()),
            Place::Packed {
                pack: "p".repeat(128),
                offset: u64::from(i),
                len: 1,
            },
        );
    }
    let bytes = l.encode();
    let peak = peak_of_decode(&bytes);
    assert!(
        peak <= bound(bytes.len()),
        "peak {peak} for {} bytes",
        bytes.len()
    );

    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(
            &(
                proptest::collection::vec(any::<u8>(), 0..4096),
                any::<u32>(),
                any::<u32>(),
            ),
            |(tail, packs, records)| {
                // Headers with arbitrary counts, then arbitrary bytes.
                let mut bytes = b"STRATAL1".to_vec();
                bytes.extend_from_slice(&packs.to_le_bytes());
                bytes.extend_from_slice(&tail);
                let peak = peak_of_decode(&bytes);
                prop_assert!(
                    peak <= bound(bytes.len()),
                    "peak {} for {}",
                    peak,
                    bytes.len()
                );
                let mut bytes = b"STRATAL1\0\0\0\0".to_vec();
                bytes.extend_from_slice(&records.to_le_bytes());
                bytes.extend_from_slice(&tail);
                let peak = peak_of_decode(&bytes);
                prop_assert!(
                    peak <= bound(bytes.len()),
                    "peak {} for {}",
                    peak,
                    bytes.len()
                );
                Ok(())
            },
        )
        .unwrap();
}
