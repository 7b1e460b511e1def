//! The log decoder takes whatever a teammate's machine (or anyone with write access to the
//! bucket) put in a log object. Whatever the bytes, it must never panic, never use more memory
//! than a small multiple of its (already bounded) input, and never hand back a record that
//! fails the checks: an id that is not 32 lowercase hex characters, a dataset name that could
//! leave a folder, a semantic version with no successor.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use proptest::prelude::*;
use strata_core::names::{
    parse_semver, validate_meta_key, validate_tag, validate_version_id, MAX_DESCRIPTION,
};
use strata_core::{DatasetName, Hash};
use strata_remote::log::{decode, decode_version, Event, Record, RemoteVersion, MAX_EVENT_BYTES};

/// Counts this thread's live heap bytes and their peak, so one decode can be measured while
/// other tests run on other threads.
struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn grew(n: usize) {
    let _ = LIVE.try_with(|l| {
        let now = l.get().saturating_add(n);
        l.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

fn shrank(n: usize) {
    let _ = LIVE.try_with(|l| l.set(l.get().saturating_sub(n)));
}

// SAFETY: every call is passed on to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            shrank(layout.size());
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// The most heap `f` holds at once, beyond what was live before it.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let out = f();
    (out, PEAK.with(Cell::get).saturating_sub(start))
}

/// Parsed JSON takes more room than its text (a number in 2 bytes is a 32-byte value), but
/// never more than this much more.
fn memory_bound(input: usize) -> usize {
    64 * input + (64 << 10)
}

fn is_hex_id(s: &str) -> bool {
    validate_version_id(s).is_ok()
}

/// Whatever decodes is safe to use: every field has the shape Strata writes.
fn assert_safe(r: &Record) {
    match &r.event {
        Event::Create { version } => assert_version_safe(version),
        Event::Publish { id } | Event::Delete { id } => assert!(is_hex_id(id), "{id:?}"),
        Event::DeleteDataset { dataset } => assert!(DatasetName::parse(dataset).is_ok()),
        Event::Rename { from, to } => {
            assert!(DatasetName::parse(from).is_ok() && DatasetName::parse(to).is_ok());
            assert_ne!(from, to);
        }
        Event::Tag { id, added, removed } => {
            assert!(is_hex_id(id), "{id:?}");
            assert!(added.iter().chain(removed).all(|t| validate_tag(t).is_ok()));
        }
        Event::Describe { id, description } => {
            assert!(is_hex_id(id), "{id:?}");
            assert!(description.len() <= MAX_DESCRIPTION);
        }
        Event::Meta { id, set, removed } => {
            assert!(is_hex_id(id), "{id:?}");
            assert!(set
                .keys()
                .chain(removed)
                .all(|k| validate_meta_key(k).is_ok()));
        }
    }
}

fn assert_version_safe(v: &RemoteVersion) {
    assert!(is_hex_id(&v.id), "{:?}", v.id);
    assert!(v.parents.iter().all(|p| is_hex_id(p)));
    let d = DatasetName::parse(&v.dataset).expect("dataset");
    assert_eq!(d.to_string(), v.dataset);
    let sv = parse_semver(&v.semver).expect("semver");
    assert!(sv.patch.checked_add(1).is_some());
    assert!(matches!(v.state.as_str(), "final" | "published"));
    assert!(v.total_bytes <= i64::MAX as u64);
    assert!(v.created_at >= 0);
}

fn valid_version() -> RemoteVersion {
    RemoteVersion {
        id: "0123456789abcdef0123456789abcdef".into(),
        dataset: "team/vision/cats".into(),
        semver: "1.2.3".into(),
        parents: vec!["fedcba9876543210fedcba9876543210".into()],
        state: "final".into(),
        manifest: Hash::of(b"manifest"),
        locator: Hash::of(b"locator"),
        file_count: 120,
        total_bytes: 2 << 20,
        tags: vec!["train".into(), "v2".into()],
        description: "cats, relabelled".into(),
        metadata: serde_json::json!({"source": "labeller", "classes": [1, 2, 3]})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        created_at: 1_700_000_000_000,
        created_by: "ana@ws1".into(),
        finalized_at: Some(1_700_000_000_500),
    }
}

/// One valid entry of each kind, encoded as Strata writes them.
fn valid_entries() -> Vec<Vec<u8>> {
    let v = valid_version();
    let events = vec![
        Event::Create {
            version: Box::new(v.clone()),
        },
        Event::Publish { id: v.id.clone() },
        Event::Delete { id: v.id.clone() },
        Event::DeleteDataset {
            dataset: v.dataset.clone(),
        },
        Event::Rename {
            from: v.dataset.clone(),
            to: "team/vision/felines".into(),
        },
    ];
    events
        .into_iter()
        .map(|event| {
            serde_json::to_vec_pretty(&Record {
                seq: 7,
                at: 1_700_000_000_000,
                by: "ana@ws1".into(),
                event,
            })
            .expect("encode")
        })
        .collect()
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Cut(usize),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
    /// Replaces the text of one JSON string value (by its order among the entry's strings).
    Field(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let nasty = prop_oneof![
        Just("../../escaped".to_string()),
        Just("/etc/passwd".to_string()),
        Just("1.0.18446744073709551615".to_string()),
        Just("\u{0}\u{1b}[2J".to_string()),
        Just(String::new()),
        Just("ABCDEF0123456789ABCDEF0123456789".to_string()),
        "\\PC{0,40}",
        "[0-9a-f]{30,34}",
        "[a-z./]{1,12}/[a-z.]{1,12}",
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Cut),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..32).prop_map(|(i, n)| Mutation::Remove(i, n)),
        (any::<usize>(), nasty).prop_map(|(i, s)| Mutation::Field(i, s)),
    ]
}

fn mutate(mut bytes: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    match m {
        Mutation::Flip(i, b) => {
            let n = bytes.len();
            if n > 0 {
                bytes[at(*i, n)] ^= b | 1;
            }
        }
        Mutation::Cut(i) => {
            let n = at(*i, bytes.len());
            bytes.truncate(n);
        }
        Mutation::Insert(i, b) => {
            let n = at(*i, bytes.len() + 1);
            bytes.splice(n..n, b.iter().copied());
        }
        Mutation::Remove(i, len) => {
            let start = at(*i, bytes.len());
            let end = (start + len).min(bytes.len());
            bytes.drain(start..end);
        }
        Mutation::Field(i, s) => {
            if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                let mut strings = Vec::new();
                collect_strings(&mut v, &mut strings);
                let n = strings.len();
                if n > 0 {
                    *strings[at(*i, n)] = serde_json::Value::String(s.clone());
                }
                bytes = serde_json::to_vec(&v).unwrap_or(bytes);
            }
        }
    }
    bytes
}

fn collect_strings<'a>(v: &'a mut serde_json::Value, out: &mut Vec<&'a mut serde_json::Value>) {
    match v {
        serde_json::Value::String(_) => out.push(v),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(m) => m.values_mut().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic_and_stay_within_the_memory_bound(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        seq in any::<u64>(),
    ) {
        let (decoded, peak) = peak_of(|| decode(&bytes, seq));
        prop_assert!(peak <= memory_bound(bytes.len()), "{peak} bytes for {} of input", bytes.len());
        if let Ok(r) = decoded {
            assert_safe(&r);
        }
        let (_, peak) = peak_of(|| decode_version(&bytes));
        prop_assert!(peak <= memory_bound(bytes.len()));
    }

    #[test]
    fn mutated_valid_entries_never_panic_and_what_decodes_is_safe(
        which in 0usize..5,
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let mut bytes = valid_entries()[which].clone();
        for m in &mutations {
            bytes = mutate(bytes, m);
        }
        let (decoded, peak) = peak_of(|| decode(&bytes, 7));
        prop_assert!(peak <= memory_bound(bytes.len()), "{peak} bytes for {} of input", bytes.len());
        match decoded {
            Ok(r) => {
                assert_safe(&r);
                prop_assert_eq!(r.seq, 7);
            }
            Err(refused) => {
                prop_assert_eq!(refused.seq, 7);
                prop_assert!(!refused.reason.contains('\n'));
                prop_assert!(refused.reason.chars().count() <= 301);
            }
        }
    }

    #[test]
    fn mutated_version_records_never_panic_and_what_decodes_is_safe(
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let mut bytes = serde_json::to_vec(&valid_version()).expect("encode");
        for m in &mutations {
            bytes = mutate(bytes, m);
        }
        let (decoded, peak) = peak_of(|| decode_version(&bytes));
        prop_assert!(peak <= memory_bound(bytes.len()));
        if let Ok(v) = decoded {
            assert_version_safe(&v);
        }
    }

    #[test]
    fn deeply_nested_metadata_stays_within_bounds(depth in 1usize..4000) {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let text = serde_json::to_string(&valid_version()).expect("text");
        let text = text.replacen("\"metadata\":{", &format!("\"metadata\":{{\"x\":{nested},"), 1);
        let (decoded, peak) = peak_of(|| decode_version(text.as_bytes()));
        prop_assert!(peak <= memory_bound(text.len()));
        if let Ok(v) = decoded {
            assert_version_safe(&v);
        }
    }
}

#[test]
fn the_memory_counter_sees_what_a_decode_would_hold() {
    let (v, peak) = peak_of(|| vec![0u8; 100_000]);
    assert!(peak >= 100_000, "{peak}");
    drop(v);
}

#[test]
fn every_valid_entry_decodes() {
    for bytes in valid_entries() {
        let r = decode(&bytes, 7).expect("valid entry");
        assert_safe(&r);
    }
}

#[test]
fn input_over_the_limit_is_refused_without_being_parsed() {
    let mut big = valid_entries()[0].clone();
    big.resize(MAX_EVENT_BYTES as usize + 1, b' ');
    let (decoded, peak) = peak_of(|| decode(&big, 7));
    let refused = decoded.expect_err("over the limit");
    assert!(refused.reason.contains("larger than"), "{}", refused.reason);
    assert!(peak < 4096, "{peak} bytes used refusing it");
}
