//! Previews of real files written into a temporary folder: thumbnails of every image format at
//! the right size and aspect, decompression bombs and broken images refused with a reason, the
//! exact first rows of CSV, TSV, JSON Lines and Parquet files, text heads, and binary files
//! turned away.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use strata_core::progress::{Cancel, NoProgress, Progress};
use strata_core::Hash;
use strata_insight::preview::{ImageKind, PreviewError, MAX_DECODED_BYTES};
use strata_insight::{preview, thumbnails, Entry, FolderContent, Preview, PreviewOptions};

fn put(dir: &Path, path: &str, bytes: &[u8]) -> Entry {
    let file = dir.join(path);
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&file, bytes).expect("write");
    Entry {
        path: path.to_string(),
        size: bytes.len() as u64,
        hash: Hash::of(bytes),
        link: None,
        chunks: None,
    }
}

fn opts(max_side: u32, rows: usize) -> PreviewOptions {
    PreviewOptions { max_side, rows }
}

/// A colourful photo-like image: gradients, so every format really compresses something.
fn picture(w: u32, h: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 255 / w) as u8,
            (y * 255 / h) as u8,
            ((x + y) % 256) as u8,
        ])
    })
}

fn encoded(img: &image::RgbImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

fn unavailable(p: &Preview) -> &str {
    match p {
        Preview::Unavailable { why } => why,
        other => panic!("expected no preview, got {other:?}"),
    }
}

/// columns, rows, total_rows_known, truncated, notes
type Table = (
    Vec<String>,
    Vec<Vec<String>>,
    Option<u64>,
    bool,
    Vec<String>,
);

fn table(p: Preview) -> Table {
    match p {
        Preview::Table {
            columns,
            rows,
            total_rows_known,
            truncated,
            notes,
        } => (columns, rows, total_rows_known, truncated, notes),
        other => panic!("expected a table, got {other:?}"),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_image_format_gives_a_thumbnail_within_max_side_keeping_aspect() {
    let dir = tempfile::tempdir().expect("tmp");
    let content = FolderContent::new(dir.path());
    let landscape = picture(640, 480);
    let portrait = picture(300, 600);
    let formats = [
        ("jpg", image::ImageFormat::Jpeg, ImageKind::Jpeg),
        ("png", image::ImageFormat::Png, ImageKind::Png),
        ("webp", image::ImageFormat::WebP, ImageKind::Webp),
        ("bmp", image::ImageFormat::Bmp, ImageKind::Bmp),
        ("tiff", image::ImageFormat::Tiff, ImageKind::Tiff),
    ];
    for (ext, format, kind) in formats {
        for (img, want) in [(&landscape, (128, 96)), (&portrait, (64, 128))] {
            let entry = put(
                dir.path(),
                &format!("img/{}x{}.{ext}", img.width(), img.height()),
                &encoded(img, format),
            );
            let Preview::Image(t) = preview(&entry, &content, &opts(128, 5)) else {
                panic!("{} gave no image", entry.path);
            };
            assert_eq!((t.width, t.height), want, "{}", entry.path);
            assert_eq!((t.source_width, t.source_height), img.dimensions());
            assert_eq!(t.format, kind);
            let decoded = image::load_from_memory_with_format(&t.png, image::ImageFormat::Png)
                .expect("the thumbnail is a PNG");
            assert_eq!((decoded.width(), decoded.height()), want);
            // Still the picture: the top-left is dark red-free, the bottom-right bright.
            let rgb = decoded.to_rgb8();
            let corner = rgb.get_pixel(want.0 - 2, want.1 - 2).0;
            assert!(
                corner[0] > 200 && corner[1] > 200,
                "{}: {corner:?}",
                entry.path
            );
        }
    }
}

#[test]
fn a_small_image_is_kept_at_its_size_and_alpha_survives() {
    let dir = tempfile::tempdir().expect("tmp");
    let img = image::RgbaImage::from_fn(40, 20, |x, _| image::Rgba([255, 0, 0, (x * 6) as u8]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png)
        .expect("encode");
    let entry = put(dir.path(), "mask.png", bytes.get_ref());
    let Preview::Image(t) = preview(&entry, &FolderContent::new(dir.path()), &opts(256, 5)) else {
        panic!("no image");
    };
    assert_eq!((t.width, t.height), (40, 20));
    let back = image::load_from_memory(&t.png).expect("png");
    assert!(back.color().has_alpha());
}

#[test]
fn png_bytes_named_jpg_are_shown_as_a_png() {
    let dir = tempfile::tempdir().expect("tmp");
    let entry = put(
        dir.path(),
        "liar.jpg",
        &encoded(&picture(64, 32), image::ImageFormat::Png),
    );
    let Preview::Image(t) = preview(&entry, &FolderContent::new(dir.path()), &opts(32, 5)) else {
        panic!("no image");
    };
    assert_eq!(t.format, ImageKind::Png);
    assert_eq!((t.width, t.height), (32, 16));
    // And under a name that says nothing at all.
    let entry = put(
        dir.path(),
        "noext",
        &encoded(&picture(64, 32), image::ImageFormat::Jpeg),
    );
    assert!(matches!(
        preview(&entry, &FolderContent::new(dir.path()), &opts(32, 5)),
        Preview::Image(_)
    ));
}

#[test]
fn broken_images_empty_and_random_files_say_why() {
    let dir = tempfile::tempdir().expect("tmp");
    let content = FolderContent::new(dir.path());
    let jpeg = encoded(&picture(640, 480), image::ImageFormat::Jpeg);
    let png = encoded(&picture(640, 480), image::ImageFormat::Png);
    let mut random = vec![0u8; 4096];
    let mut x: u32 = 0x1234_5678;
    for b in &mut random {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let cases: Vec<(Entry, &str)> = vec![
        (
            put(dir.path(), "half.jpg", &jpeg[..jpeg.len() / 2]),
            "truncated JPEG",
        ),
        (put(dir.path(), "header-only.jpg", &jpeg[..200]), "JPEG"),
        (put(dir.path(), "half.png", &png[..png.len() / 2]), "PNG"),
        (put(dir.path(), "empty.jpg", b""), "empty"),
        (put(dir.path(), "empty.csv", b""), "empty"),
        (
            put(dir.path(), "noise.jpg", &random),
            "not a JPEG, PNG, WebP, BMP or TIFF image",
        ),
        (put(dir.path(), "noise.bin", &random), "binary file (.bin)"),
        (
            put(
                dir.path(),
                "weights.npy",
                b"\x93NUMPY\x01\x00v\x00{'descr': '<f4'}\x00\x00",
            ),
            "binary file (.npy)",
        ),
        (
            put(
                dir.path(),
                "anim.gif",
                b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
            ),
            "gif images are not previewed",
        ),
    ];
    for (entry, want) in cases {
        let p = preview(&entry, &content, &opts(128, 5));
        let why = unavailable(&p);
        assert!(
            why.starts_with(&format!("cannot preview {}: ", entry.path)),
            "{why}"
        );
        assert!(why.contains(want), "{}: {why}", entry.path);
    }
    // A file the content cannot read (not fetched) names the file too.
    let ghost = Entry {
        path: "gone.png".into(),
        size: 10,
        hash: Hash::of(b"x"),
        link: None,
        chunks: None,
    };
    assert!(unavailable(&preview(&ghost, &content, &opts(128, 5))).contains("gone.png"));
}

/// A one-colour (black) PNG of any size, written chunk by chunk with a streaming deflate: the
/// pixel rows are never held in memory, so a 30,000² bomb costs a few hundred KB.
fn black_png(width: u32, height: u32, color_type: u8, bit_depth: u8) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    }
    let channels = match color_type {
        0 => 1,
        2 => 3,
        6 => 4,
        _ => panic!("colour type"),
    };
    let row_bytes = 1 + (u64::from(width) * channels * u64::from(bit_depth)).div_ceil(8) as usize;
    // Filter byte 0 and black pixels: every row is zeros.
    let row = vec![0u8; row_bytes];
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..height {
        z.write_all(&row).expect("deflate");
    }
    let idat = z.finish().expect("deflate");

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[bit_depth, color_type, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    for part in idat.chunks(1 << 20) {
        chunk(&mut out, b"IDAT", part);
    }
    chunk(&mut out, b"IEND", &[]);
    out
}

/// The most memory this process has held, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[test]
fn the_bomb_generator_makes_real_pngs() {
    let small = black_png(300, 200, 0, 1);
    let img = image::load_from_memory_with_format(&small, image::ImageFormat::Png).expect("valid");
    assert_eq!((img.width(), img.height()), (300, 200));
    assert!(img.to_luma8().pixels().all(|p| p.0[0] == 0));
    let rgb = black_png(50, 40, 2, 8);
    let img = image::load_from_memory(&rgb).expect("valid");
    assert_eq!((img.width(), img.height()), (50, 40));
}

#[test]
fn a_decompression_bomb_is_refused_without_allocating_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let content = FolderContent::new(dir.path());
    // 30,000 × 30,000 pixels: 900 MB as 8-bit grey once decoded, 2.7 GB as RGB.
    let bomb = black_png(30_000, 30_000, 0, 1);
    assert!(
        bomb.len() < 1 << 20,
        "the bomb is small on disk: {} bytes",
        bomb.len()
    );
    let entry = put(dir.path(), "bomb.png", &bomb);
    let before = peak_rss();
    let p = preview(&entry, &content, &opts(256, 5));
    let why = unavailable(&p);
    assert!(
        why.contains("bomb.png") && why.contains("larger than a preview decodes"),
        "{why}"
    );
    let after = peak_rss();
    assert!(
        after < before + (200 << 20),
        "peak memory grew from {before} to {after} bytes"
    );

    // Within the side limit but over the pixel-memory limit: refused by its decoded size.
    let wide = black_png(9_500, 9_500, 2, 8);
    let entry = put(dir.path(), "wide.png", &wide);
    let why = preview(&entry, &content, &opts(256, 5));
    let why = unavailable(&why);
    assert!(
        why.contains(&format!("{} MiB", MAX_DECODED_BYTES >> 20)),
        "{why}"
    );
}

#[test]
fn csv_and_tsv_show_their_first_rows_exactly() {
    let dir = tempfile::tempdir().expect("tmp");
    let content = FolderContent::new(dir.path());
    let mut csv = String::from("path,label,\"note, quoted\"\n");
    for i in 0..30 {
        csv.push_str(&format!("img/{i}.jpg,cat{i},\"a, \"\"b\"\"\nline two\"\n"));
    }
    let entry = put(dir.path(), "labels.csv", csv.as_bytes());
    let (columns, rows, total, truncated, notes) = table(preview(&entry, &content, &opts(64, 3)));
    assert_eq!(columns, strings(&["path", "label", "note, quoted"]));
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[1],
        strings(&["img/1.jpg", "cat1", "a, \"b\"\nline two"])
    );
    assert_eq!((total, truncated), (Some(30), true));
    assert!(notes.is_empty(), "{notes:?}");

    let entry = put(dir.path(), "labels.tsv", b"a\tb\n1\t2,3\n4\t5\n");
    let (columns, rows, total, truncated, _) = table(preview(&entry, &content, &opts(64, 10)));
    assert_eq!(columns, strings(&["a", "b"]));
    assert_eq!(rows, vec![strings(&["1", "2,3"]), strings(&["4", "5"])]);
    assert_eq!((total, truncated), (Some(2), false));

    let entry = put(dir.path(), "eu.csv", b"name;count\nkat;3\nhond;4;extra\n");
    let (columns, rows, _, _, _) = table(preview(&entry, &content, &opts(64, 10)));
    assert_eq!(columns, strings(&["name", "count", "column 3"]));
    assert_eq!(
        rows,
        vec![strings(&["kat", "3", ""]), strings(&["hond", "4", "extra"])]
    );
}

#[test]
fn a_large_csv_is_read_only_in_part() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut csv = String::from("id,value\n");
    for i in 0..200_000 {
        csv.push_str(&format!("{i},{}\n", i * 2));
    }
    assert!(csv.len() > 2 << 20);
    let entry = put(dir.path(), "big.csv", csv.as_bytes());
    let (columns, rows, total, truncated, _) = table(preview(
        &entry,
        &FolderContent::new(dir.path()),
        &opts(64, 4),
    ));
    assert_eq!(columns, strings(&["id", "value"]));
    assert_eq!(rows[3], strings(&["3", "6"]));
    assert_eq!((total, truncated), (None, true));
}

#[test]
fn jsonl_rows_and_bad_lines_with_their_numbers() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = concat!(
        "{\"file\": \"a.jpg\", \"label\": \"cat\", \"boxes\": [1, 2]}\n",
        "{\"file\": \"b.jpg\", \"label\": null, \"score\": 0.5}\n",
        "{not json\n",
        "\n",
        "{\"file\": \"c.jpg\", \"label\": \"dog\"}\n",
        "{\"file\": \"d.jpg\", \"label\": \"owl\"}\n",
    );
    let entry = put(dir.path(), "labels.jsonl", text.as_bytes());
    let (columns, rows, total, truncated, notes) = table(preview(
        &entry,
        &FolderContent::new(dir.path()),
        &opts(64, 3),
    ));
    assert_eq!(columns, strings(&["file", "label", "boxes", "score"]));
    assert_eq!(
        rows,
        vec![
            strings(&["a.jpg", "cat", "[1,2]", ""]),
            strings(&["b.jpg", "", "", "0.5"]),
            strings(&["c.jpg", "dog", "", ""]),
        ]
    );
    assert_eq!((total, truncated), (Some(5), true));
    assert_eq!(notes.len(), 1);
    assert!(notes[0].starts_with("line 3: not JSON"), "{notes:?}");
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_shows_its_first_rows_for_each_codec() {
    use parquet::basic::Compression;
    use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;
    use std::sync::Arc;

    let dir = tempfile::tempdir().expect("tmp");
    let schema = Arc::new(
        parse_message_type(
            "message labels { REQUIRED INT64 id; REQUIRED BYTE_ARRAY label (UTF8); }",
        )
        .expect("schema"),
    );
    let codecs = [
        ("snappy", Compression::SNAPPY),
        ("zstd", Compression::ZSTD(Default::default())),
        ("gzip", Compression::GZIP(Default::default())),
        ("plain", Compression::UNCOMPRESSED),
    ];
    for (name, codec) in codecs {
        let props = Arc::new(WriterProperties::builder().set_compression(codec).build());
        let mut bytes = Vec::new();
        {
            let mut writer =
                SerializedFileWriter::new(&mut bytes, schema.clone(), props).expect("writer");
            let mut group = writer.next_row_group().expect("group");
            let ids: Vec<i64> = (0..50).collect();
            let labels: Vec<ByteArray> = (0..50)
                .map(|i| ByteArray::from(format!("class {i}").as_str()))
                .collect();
            let mut col = group.next_column().expect("col").expect("id column");
            col.typed::<Int64Type>()
                .write_batch(&ids, None, None)
                .expect("ids");
            col.close().expect("close");
            let mut col = group.next_column().expect("col").expect("label column");
            col.typed::<ByteArrayType>()
                .write_batch(&labels, None, None)
                .expect("labels");
            col.close().expect("close");
            group.close().expect("close group");
            writer.close().expect("close file");
        }
        let entry = put(dir.path(), &format!("{name}.parquet"), &bytes);
        let (columns, rows, total, truncated, notes) = table(preview(
            &entry,
            &FolderContent::new(dir.path()),
            &opts(64, 3),
        ));
        assert_eq!(columns, strings(&["id", "label"]), "{name}");
        assert_eq!(
            rows,
            vec![
                strings(&["0", "class 0"]),
                strings(&["1", "class 1"]),
                strings(&["2", "class 2"])
            ],
            "{name}"
        );
        assert_eq!((total, truncated), (Some(50), true), "{name}");
        assert!(notes.is_empty());

        // Cut short, the footer is gone: a reason, not a panic.
        let entry = put(
            dir.path(),
            &format!("{name}-cut.parquet"),
            &bytes[..bytes.len() / 2],
        );
        let p = preview(&entry, &FolderContent::new(dir.path()), &opts(64, 3));
        assert!(unavailable(&p).contains("Parquet"), "{p:?}");
    }
}

#[cfg(not(feature = "parquet"))]
#[test]
fn without_the_parquet_feature_parquet_files_say_so() {
    let dir = tempfile::tempdir().expect("tmp");
    let entry = put(dir.path(), "t.parquet", b"PAR1\x00\x00PAR1");
    let p = preview(&entry, &FolderContent::new(dir.path()), &opts(64, 3));
    assert!(unavailable(&p).contains("no Parquet reader"), "{p:?}");
}

#[test]
fn text_shows_its_head_and_json_is_pretty() {
    let dir = tempfile::tempdir().expect("tmp");
    let content = FolderContent::new(dir.path());
    let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
    let entry = put(dir.path(), "classes.txt", text.as_bytes());
    assert_eq!(
        preview(&entry, &content, &opts(64, 3)),
        Preview::Text {
            text: "line 1\nline 2\nline 3".into(),
            truncated: true,
            notes: vec![],
        }
    );
    let entry = put(dir.path(), "short.names", b"cat\ndog\n");
    assert_eq!(
        preview(&entry, &content, &opts(64, 10)),
        Preview::Text {
            text: "cat\ndog".into(),
            truncated: false,
            notes: vec![],
        }
    );

    let entry = put(
        dir.path(),
        "coco.json",
        br#"{"images":[{"id":1}],"categories":[]}"#,
    );
    let Preview::Text {
        text, truncated, ..
    } = preview(&entry, &content, &opts(64, 4))
    else {
        panic!("json is text");
    };
    assert_eq!(text, "{\n  \"images\": [\n    {\n      \"id\": 1");
    assert!(truncated);

    let entry = put(dir.path(), "latin1.txt", b"caf\xe9 au lait\nna\xefve\n");
    let Preview::Text { text, notes, .. } = preview(&entry, &content, &opts(64, 4)) else {
        panic!("text");
    };
    assert_eq!(text, "caf\u{FFFD} au lait\nna\u{FFFD}ve");
    assert!(notes[0].contains("not valid UTF-8"), "{notes:?}");

    let entry = put(dir.path(), "escape.txt", b"\x1b[2Jgone\n");
    let Preview::Text { text, .. } = preview(&entry, &content, &opts(64, 4)) else {
        panic!("text");
    };
    assert_eq!(
        text, "\u{FFFD}[2Jgone",
        "a terminal escape is not passed through"
    );
}

#[test]
fn serialized_shape_is_tagged_by_kind_with_base64_png() {
    let dir = tempfile::tempdir().expect("tmp");
    let content = FolderContent::new(dir.path());
    let entry = put(
        dir.path(),
        "a.bmp",
        &encoded(&picture(20, 10), image::ImageFormat::Bmp),
    );
    let json = serde_json::to_value(preview(&entry, &content, &opts(10, 3))).expect("json");
    assert_eq!(json["kind"], "image");
    assert_eq!(json["format"], "bmp");
    assert_eq!(
        (json["width"].as_u64(), json["height"].as_u64()),
        (Some(10), Some(5))
    );
    assert_eq!(
        (
            json["source_width"].as_u64(),
            json["source_height"].as_u64()
        ),
        (Some(20), Some(10))
    );
    assert!(json["png"]
        .as_str()
        .is_some_and(|s| s.starts_with("iVBORw0KGgo")));

    let entry = put(dir.path(), "t.csv", b"a,b\n1,2\n");
    assert_eq!(
        serde_json::to_value(preview(&entry, &content, &opts(10, 3))).expect("json"),
        serde_json::json!({"kind": "table", "columns": ["a", "b"], "rows": [["1", "2"]],
            "total_rows_known": 1, "truncated": false, "notes": []})
    );
    let entry = put(dir.path(), "e.txt", b"");
    assert_eq!(
        serde_json::to_value(preview(&entry, &content, &opts(10, 3))).expect("json"),
        serde_json::json!({"kind": "unavailable",
            "why": "cannot preview e.txt: the file is empty (0 bytes)"})
    );
}

struct Count(AtomicU64);
impl Progress for Count {
    fn advance(&self, files: u64, _bytes: u64) {
        self.0.fetch_add(files, Ordering::Relaxed);
    }
}

#[test]
fn thumbnails_of_many_keep_order_report_progress_and_stop_when_cancelled() {
    let dir = tempfile::tempdir().expect("tmp");
    let content = FolderContent::new(dir.path());
    let jpeg = encoded(&picture(64, 48), image::ImageFormat::Jpeg);
    let mut entries: Vec<Entry> = (0..20)
        .map(|i| put(dir.path(), &format!("{i:02}.jpg"), &jpeg))
        .collect();
    entries.push(put(dir.path(), "zz.jpg", b"nope"));
    let progress = Count(AtomicU64::new(0));
    let out = thumbnails(&entries, &content, &opts(32, 1), &progress, &Cancel::new());
    assert_eq!(out.len(), 21);
    assert!(out
        .iter()
        .zip(&entries)
        .all(|((path, _), e)| path == &e.path));
    assert!(out[..20]
        .iter()
        .all(|(_, r)| r.as_ref().is_ok_and(|t| t.width == 32)));
    assert!(matches!(out[20].1, Err(PreviewError::Corrupt { .. })));
    assert_eq!(progress.0.load(Ordering::Relaxed), 21);

    let cancel = Cancel::new();
    cancel.cancel();
    let out = thumbnails(&entries, &content, &opts(32, 1), &NoProgress, &cancel);
    assert!(out
        .iter()
        .all(|(_, r)| matches!(r, Err(PreviewError::Cancelled))));
}
