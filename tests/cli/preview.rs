//! preview: one file of a version seen as a user would (a thumbnail of a real JPEG or PNG, the
//! first rows of a CSV or JSON Lines file, the head of a text, the reason a broken or empty file
//! has none), and a version's preview set: summarised, or every image's thumbnail written into a
//! folder, never outside it, the second time from the thumbnail cache.

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde_json::Value;

use crate::support::{tree, Env};

/// A photo-like picture: smooth gradients with a little deterministic noise.
fn picture(w: u32, h: u32, seed: u32, format: image::ImageFormat) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9) | 1;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = state % 24;
        image::Rgb([
            ((x * 255 / w + n) % 256) as u8,
            ((y * 255 / h + n + seed) % 256) as u8,
            (((x + y) / 4 + n) % 256) as u8,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

/// photos/ with two JPEGs (640×480, one nested) and a PNG (300×200), a truncated JPEG, a CSV, a
/// JSON Lines file, a text and an empty file.
fn dataset(env: &Env) -> String {
    use image::ImageFormat::{Jpeg, Png};
    env.write("data/photos/street.jpg", &picture(640, 480, 1, Jpeg));
    env.write("data/photos/night/moon.jpg", &picture(640, 480, 2, Jpeg));
    env.write("data/masks/m0.png", &picture(300, 200, 3, Png));
    let cut = picture(640, 480, 4, Jpeg);
    env.write("data/photos/cut.jpg", &cut[..cut.len() / 2]);
    let mut csv = String::from("file,label,score\n");
    for i in 0..30 {
        csv.push_str(&format!("photos/img{i:02}.jpg,class{},{}.5\n", i % 3, i));
    }
    env.write("data/labels.csv", csv.as_bytes());
    env.write(
        "data/boxes.jsonl",
        b"{\"image\": \"a.jpg\", \"x\": 1, \"y\": 2}\n{\"image\": \"b.jpg\", \"x\": 3, \"y\": 4}\n",
    );
    env.write(
        "data/README.txt",
        b"Street scenes at night.\nSecond line.\n",
    );
    env.write("data/empty.txt", b"");
    env.path("data").display().to_string()
}

fn decoded(png: &[u8]) -> image::RgbaImage {
    image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .expect("a PNG that decodes")
        .to_rgba8()
}

#[test]
fn an_image_is_described_and_its_thumbnail_written_on_request() {
    let env = Env::new();
    let data = dataset(&env);
    env.ok(&["snapshot", "v/street", &data]);

    let r = env.ok(&["preview", "v/street", "photos/street.jpg"]);
    let out = r.stdout();
    assert!(
        out.contains("photos/street.jpg: JPEG 640×480; thumbnail 256×192 PNG"),
        "{out}"
    );
    assert!(out.contains("--out FILE.png"), "{out}");

    let file = env.path("thumb.png");
    let s = env.json(&[
        "preview",
        "v/street",
        "photos/street.jpg",
        "--out",
        file.to_str().unwrap(),
        "--size",
        "100",
    ]);
    assert_eq!(s["kind"], "image");
    assert_eq!(s["out"], file.display().to_string());
    assert!(s.get("png").is_none(), "the bytes are in the file: {s}");
    let img = decoded(&std::fs::read(&file).expect("written"));
    assert_eq!(img.dimensions(), (100, 75));
    assert_eq!(
        (s["width"].as_u64(), s["height"].as_u64()),
        (Some(100), Some(75))
    );
    assert_eq!(
        (s["source_width"].as_u64(), s["source_height"].as_u64()),
        (Some(640), Some(480))
    );
    let distinct: BTreeSet<[u8; 4]> = img.pixels().map(|p| p.0).collect();
    assert!(
        distinct.len() > 50,
        "a real picture, not flat: {}",
        distinct.len()
    );

    // Without --out the JSON carries the thumbnail itself.
    let s = env.json(&["preview", "v/street", "masks/m0.png", "--size", "64"]);
    assert_eq!(s["format"], "png");
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD
        .decode(s["png"].as_str().expect("base64"))
        .expect("valid base64");
    let img = decoded(&png);
    assert!(
        img.width().max(img.height()) <= 64,
        "{:?}",
        img.dimensions()
    );
    assert_eq!(img.dimensions(), (64, 43));

    // --out is a PNG file, said before anything is read.
    let r = env
        .run(&[
            "preview",
            "v/street",
            "photos/street.jpg",
            "--out",
            "t.jpg",
            "--json",
        ])
        .fails();
    assert_eq!(r.json()["error"]["kind"], "invalid");
    assert!(r.error().contains(".png"), "{}", r.stderr());
    assert!(!env.path("t.jpg").exists());
}

#[test]
fn tables_and_texts_show_their_first_rows_and_lines() {
    let env = Env::new();
    let data = dataset(&env);
    env.ok(&["snapshot", "v/street", &data]);

    let out = env
        .ok(&["preview", "v/street", "labels.csv", "--rows", "3"])
        .stdout();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "file              label   score", "{out}");
    assert_eq!(lines[2], "photos/img00.jpg  class0  0.5", "{out}");
    assert!(out.contains("(3 of 30 rows)"), "{out}");
    let s = env.json(&["preview", "v/street", "labels.csv", "--rows", "3"]);
    assert_eq!(s["kind"], "table");
    assert_eq!(s["columns"], serde_json::json!(["file", "label", "score"]));
    assert_eq!(s["rows"].as_array().map(Vec::len), Some(3));
    assert_eq!(s["total_rows_known"], 30);

    let s = env.json(&["preview", "v/street", "boxes.jsonl"]);
    assert_eq!(s["kind"], "table");
    assert_eq!(s["columns"], serde_json::json!(["image", "x", "y"]));
    assert_eq!(s["rows"][1], serde_json::json!(["b.jpg", "3", "4"]));

    let out = env.ok(&["preview", "v/street", "README.txt"]).stdout();
    assert_eq!(out, "Street scenes at night.\nSecond line.\n");
    let out = env
        .ok(&["preview", "v/street", "README.txt", "--rows", "1"])
        .stdout();
    assert!(out.starts_with("Street scenes at night.\n("), "{out}");

    // A text has no thumbnail.
    let r = env
        .run(&[
            "preview",
            "v/street",
            "README.txt",
            "--out",
            "r.png",
            "--json",
        ])
        .fails();
    assert_eq!(r.json()["error"]["kind"], "invalid");
    assert!(r.error().contains("not an image"), "{}", r.stderr());
}

#[test]
fn a_file_without_a_preview_says_why_and_a_missing_one_is_not_found() {
    let env = Env::new();
    let data = dataset(&env);
    env.ok(&["snapshot", "v/street", &data]);

    // Broken or empty files are answered, not failures.
    let r = env.ok(&["preview", "v/street", "photos/cut.jpg"]);
    assert!(
        r.stdout()
            .starts_with("cannot preview photos/cut.jpg: truncated JPEG"),
        "{}",
        r.stdout()
    );
    let s = env.json(&["preview", "v/street", "photos/cut.jpg"]);
    assert_eq!(s["kind"], "unavailable");
    let s = env.json(&["preview", "v/street", "empty.txt"]);
    assert_eq!(s["kind"], "unavailable");
    assert!(
        s["why"].as_str().unwrap().contains("empty (0 bytes)"),
        "{s}"
    );

    // Asked to write its thumbnail, the command fails: the file asked for is not there.
    let r = env
        .run(&[
            "preview",
            "v/street",
            "photos/cut.jpg",
            "--out",
            "cut.png",
            "--json",
        ])
        .fails();
    assert_eq!(r.out.status.code(), Some(1));
    assert_eq!(r.json()["error"]["kind"], "invalid");
    assert!(r.error().contains("truncated JPEG"), "{}", r.stderr());
    assert!(!env.path("cut.png").exists());

    let r = env
        .run(&["preview", "v/street", "photos/nope.jpg", "--json"])
        .fails();
    let e = &r.json()["error"];
    assert_eq!(e["kind"], "not_found");
    assert!(
        e["message"].as_str().unwrap().contains("photos/nope.jpg"),
        "{e}"
    );
}

/// Every file under `dir`, relative.
fn files_under(dir: &Path) -> BTreeSet<String> {
    tree(dir).into_iter().map(|(p, _)| p).collect()
}

/// The thumbnail cache's files and their inodes: a thumbnail made again is a new file renamed
/// over the old one.
fn thumb_cache(env: &Env) -> Vec<(String, u64)> {
    let dir = env.home().join("cache/thumbs");
    let mut out: Vec<(String, u64)> = std::fs::read_dir(&dir)
        .expect("a thumbnail cache")
        .flatten()
        .map(|e| {
            let ino = e.metadata().expect("stat").ino();
            (e.file_name().to_string_lossy().to_string(), ino)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_preview_set_is_summarised_or_written_into_a_folder_from_the_cache_the_second_time() {
    let env = Env::new();
    let data = dataset(&env);
    env.ok(&["snapshot", "v/street", &data]);

    let s = env.json(&["preview", "v/street"]);
    assert_eq!(s["images"]["count"], 4);
    assert_eq!(s["tables"]["count"], 2);
    assert_eq!(s["texts"]["count"], 2);
    assert_eq!(s["other"]["count"], 0);
    assert_eq!(
        s["images"]["first"],
        serde_json::json!([
            "masks/m0.png",
            "photos/cut.jpg",
            "photos/night/moon.jpg",
            "photos/street.jpg"
        ])
    );
    let out = env.ok(&["preview", "v/street"]).stdout();
    assert!(out.contains("images       4  masks/m0.png"), "{out}");

    let outs = env.path("outs");
    let dir = outs.join("thumbs");
    let run = |extra: &[&str]| -> Value {
        let mut a = vec![
            "preview",
            "v/street",
            "--out",
            dir.to_str().unwrap(),
            "--size",
            "128",
        ];
        a.extend_from_slice(extra);
        env.json(&a)
    };
    let s = run(&[]);
    assert_eq!(s["images"], 4);
    assert_eq!(s["written"], 3);
    assert_eq!(s["from_cache"], 0);
    let failed = s["failed"].as_array().expect("failed");
    assert_eq!(failed.len(), 1, "{s}");
    assert_eq!(failed[0]["path"], "photos/cut.jpg");
    assert!(failed[0]["why"]
        .as_str()
        .unwrap()
        .contains("truncated JPEG"));
    let expected: BTreeSet<String> = [
        "masks/m0.png.png",
        "photos/night/moon.jpg.png",
        "photos/street.jpg.png",
    ]
    .map(String::from)
    .into();
    assert_eq!(files_under(&dir), expected);
    for f in &expected {
        let img = decoded(&std::fs::read(dir.join(f)).unwrap());
        assert!(
            img.width().max(img.height()) <= 128,
            "{f}: {:?}",
            img.dimensions()
        );
    }
    // Nothing beside the folder asked for.
    let beside: Vec<_> = std::fs::read_dir(&outs).unwrap().flatten().collect();
    assert_eq!(beside.len(), 1);

    let cache = thumb_cache(&env);
    assert_eq!(cache.len(), 3, "{cache:?}");
    let s = run(&[]);
    assert_eq!(
        (s["written"].as_u64(), s["from_cache"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(
        thumb_cache(&env),
        cache,
        "the cache served them, nothing was remade"
    );
    assert_eq!(files_under(&dir), expected);

    let s = run(&["--limit", "1"]);
    assert_eq!(
        (s["written"].as_u64(), s["over_limit"].as_u64()),
        (Some(1), Some(3))
    );
}

#[test]
fn a_link_inside_the_out_folder_is_not_followed() {
    let env = Env::new();
    let data = dataset(&env);
    env.ok(&["snapshot", "v/street", &data]);
    let dir = env.path("thumbs");
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("photos")).unwrap();

    let s = env.json(&["preview", "v/street", "--out", dir.to_str().unwrap()]);
    assert_eq!(s["written"], 1, "only masks/m0.png: {s}");
    let failed: Vec<&str> = s["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            "photos/cut.jpg",
            "photos/night/moon.jpg",
            "photos/street.jpg"
        ]
    );
    assert!(
        std::fs::read_dir(&elsewhere).unwrap().next().is_none(),
        "nothing written through the link"
    );
}
