//! stats: class statistics of real datasets (PNG and JPEG images, YOLO and COCO labels) read
//! back from the store, compared between versions, cached, and refused when asked wrongly.

use serde_json::{json, Value};

use crate::support::Env;

fn encode(w: u32, h: u32, seed: u8, format: image::ImageFormat) -> Vec<u8> {
    let img = image::ImageBuffer::from_fn(w, h, |x, y| {
        image::Rgb([
            seed,
            (x as u8).wrapping_mul(7),
            (y as u8).wrapping_add(seed),
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

fn png(env: &Env, rel: &str, w: u32, h: u32, seed: u8) {
    env.write(rel, &encode(w, h, seed, image::ImageFormat::Png));
}

fn jpeg(env: &Env, rel: &str, w: u32, h: u32, seed: u8) {
    env.write(rel, &encode(w, h, seed, image::ImageFormat::Jpeg));
}

/// `[(name, images, instances)]` of a class list.
fn counts(list: &Value) -> Vec<(String, u64, u64)> {
    list.as_array()
        .expect("a class list")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_string(),
                c["images"].as_u64().expect("images"),
                c["instances"].as_u64().expect("instances"),
            )
        })
        .collect()
}

fn c(name: &str, images: u64, instances: u64) -> (String, u64, u64) {
    (name.to_string(), images, instances)
}

/// 9 images in train/val split folders: cat 5 (PNG 32×24), dog 3 (JPEG 40×30), bird 1 (PNG
/// 16×16).
fn imagefolder(env: &Env) -> String {
    for i in 0..4 {
        png(env, &format!("data/train/cat/c{i}.png"), 32, 24, i);
    }
    png(env, "data/val/cat/c4.png", 32, 24, 4);
    jpeg(env, "data/train/dog/d0.jpg", 40, 30, 10);
    jpeg(env, "data/train/dog/d1.jpg", 40, 30, 11);
    jpeg(env, "data/val/dog/d2.jpg", 40, 30, 12);
    png(env, "data/train/bird/b0.png", 16, 16, 20);
    env.path("data").display().to_string()
}

/// The document without what differs between a cold and a cached call.
fn without_cached(mut doc: Value) -> Value {
    doc.as_object_mut().expect("an object").remove("cached");
    doc
}

fn cache_files(env: &Env) -> Vec<std::path::PathBuf> {
    let dir = env.home().join("cache/insight");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.retain(|p| p.extension().is_some_and(|e| e == "json"));
    out.sort();
    out
}

#[test]
fn imagefolder_classes_splits_sizes_and_the_cache() {
    let env = Env::new();
    let data = imagefolder(&env);
    env.ok(&["snapshot", "v/pets", &data]);

    let s = env.json(&["stats", "v/pets"]);
    assert_eq!(s["version"], "v/pets@1.0.0");
    assert_eq!(s["cached"], false);
    assert_eq!(s["source"]["format"], "imagefolder");
    assert!(
        s["source"]["evidence"][0]
            .as_str()
            .unwrap()
            .contains("split folders train, val"),
        "{}",
        s["source"]
    );
    assert_eq!(
        counts(&s["classes"]),
        [c("cat", 5, 5), c("dog", 3, 3), c("bird", 1, 1)]
    );
    assert_eq!(
        counts(&s["splits"]["train"]),
        [c("cat", 4, 4), c("dog", 2, 2), c("bird", 1, 1)]
    );
    assert_eq!(
        counts(&s["splits"]["val"]),
        [c("cat", 1, 1), c("dog", 1, 1)]
    );
    assert_eq!(
        s["totals"],
        json!({"images": 9, "labelled": 9, "unlabelled": 0, "instances": 9})
    );
    assert_eq!(s["unlabelled"]["count"], 0);
    assert_eq!(
        s["imbalance"],
        json!({"largest": "cat", "smallest": "bird", "ratio": 5.0})
    );
    assert_eq!(
        s["dimensions"],
        json!({
            "read": 9, "unreadable": 0, "images": 9,
            "width": {"min": 16, "max": 40, "median": 32},
            "height": {"min": 16, "max": 30, "median": 24},
            "formats": {"jpeg": 3, "png": 6},
        })
    );
    assert_eq!(s["warnings"], json!([]));
    assert!(s.get("files").is_none(), "the per-file rows stay out");

    // Asked again: from the cache, the same answer.
    let again = env.json(&["stats", "v/pets"]);
    assert_eq!(again["cached"], true);
    assert_eq!(without_cached(again), without_cached(s.clone()));

    // A cache file cut short by a crash, or replaced by junk, is recomputed, never believed.
    let files = cache_files(&env);
    assert_eq!(files.len(), 1, "{files:?}");
    let body = std::fs::read(&files[0]).unwrap();
    std::fs::write(&files[0], &body[..body.len() / 2]).unwrap();
    let cut = env.json(&["stats", "v/pets"]);
    assert_eq!(cut["cached"], false, "a truncated cache file was used");
    assert_eq!(without_cached(cut), without_cached(s.clone()));
    let edited = String::from_utf8(std::fs::read(&files[0]).unwrap())
        .unwrap()
        .replace("\"images\":5", "\"images\":50");
    std::fs::write(&files[0], edited).unwrap();
    let recomputed = env.json(&["stats", "v/pets"]);
    assert_eq!(recomputed["cached"], false, "an edited cache file was used");
    assert_eq!(without_cached(recomputed), without_cached(s.clone()));
    std::fs::write(&files[0], b"{}\n{}").unwrap();
    assert_eq!(
        without_cached(env.json(&["stats", "v/pets"])),
        without_cached(s)
    );
    assert_eq!(env.json(&["stats", "v/pets"])["cached"], true);

    // People read the source, a table with a column per split, totals and sizes.
    let human = env.ok(&["stats", "v/pets"]).stdout();
    for line in [
        "v/pets@1.0.0: labels imagefolder (cached)",
        "class  images  instances   share  train  val",
        "cat         5          5  55.6 %      4    1",
        "bird        1          1  11.1 %      1    0",
        "total       9          9              7    2",
        "9 images: 9 labelled, 0 unlabelled; 9 instances",
        "imbalance: cat has 5× the instances of bird",
    ] {
        assert!(
            human.lines().any(|l| l == line),
            "missing {line:?} in:\n{human}"
        );
    }
    assert!(
        human.contains("image sizes: 9 of 9 images read; width 16–40 (median 32)"),
        "{human}"
    );
}

#[test]
fn against_the_parent_names_the_files_that_moved_and_the_deltas() {
    let env = Env::new();
    let data = imagefolder(&env);
    env.ok(&["snapshot", "v/pets", &data]);
    // Two cats relabelled as dogs; the only bird becomes a fox in val.
    for n in ["c0.png", "c1.png"] {
        std::fs::rename(
            env.path(&format!("data/train/cat/{n}")),
            env.path(&format!("data/train/dog/{n}")),
        )
        .unwrap();
    }
    std::fs::create_dir_all(env.path("data/val/fox")).unwrap();
    std::fs::rename(
        env.path("data/train/bird/b0.png"),
        env.path("data/val/fox/b0.png"),
    )
    .unwrap();
    std::fs::remove_dir(env.path("data/train/bird")).unwrap();
    env.ok(&["snapshot", "v/pets", &data]);

    let s = env.json(&["stats", "v/pets@1.0.1", "--against", "v/pets@1.0.0"]);
    assert_eq!(s["version"], "v/pets@1.0.1");
    assert_eq!(s["against"], "v/pets@1.0.0");
    assert_eq!(
        counts(&s["classes"]),
        [c("dog", 5, 5), c("cat", 3, 3), c("fox", 1, 1)]
    );
    assert_eq!(
        s["delta"],
        json!([
            {"name": "cat", "images": -2, "instances": -2},
            {"name": "dog", "images": 2, "instances": 2},
            {"name": "bird", "images": -1, "instances": -1},
            {"name": "fox", "images": 1, "instances": 1},
        ])
    );
    assert_eq!(s["classes_gained"], json!(["fox"]));
    assert_eq!(s["classes_lost"], json!(["bird"]));
    assert_eq!(s["moved_count"], 3);
    assert_eq!(
        s["moved"],
        json!([
            {"path": "train/dog/c0.png", "old_path": "train/cat/c0.png", "from": ["cat"], "to": ["dog"]},
            {"path": "train/dog/c1.png", "old_path": "train/cat/c1.png", "from": ["cat"], "to": ["dog"]},
            {"path": "val/fox/b0.png", "old_path": "train/bird/b0.png", "from": ["bird"], "to": ["fox"]},
        ])
    );
    assert_eq!(
        s["delta_splits"]["val"],
        json!([{"name": "fox", "images": 1, "instances": 1}])
    );
    let summary = s["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("relabelling moved 2 images from cat to dog"),
        "{summary}"
    );

    let human = env
        .ok(&["stats", "v/pets@1.0.1", "--against", "v/pets@1.0.0"])
        .stdout();
    for line in [
        &format!("against v/pets@1.0.0: {summary}"),
        "cat        -2         -2",
        "dog        +2         +2",
        "3 files changed classes:",
        "  train/dog/c0.png (was train/cat/c0.png): cat → dog",
        "  val/fox/b0.png (was train/bird/b0.png): bird → fox",
        "new classes: fox",
        "classes gone: bird",
    ] {
        assert!(
            human.lines().any(|l| l == line),
            "missing {line:?} in:\n{human}"
        );
    }
}

#[test]
fn yolo_labels_per_split_with_an_unknown_class_and_an_unlabelled_image() {
    let env = Env::new();
    env.write(
        "y/data.yaml",
        b"train: images/train\nval: images/val\nnames:\n  0: person\n  1: car\n",
    );
    jpeg(&env, "y/images/train/a.jpg", 64, 48, 1);
    jpeg(&env, "y/images/train/b.jpg", 64, 48, 2);
    jpeg(&env, "y/images/train/c.jpg", 64, 48, 3);
    jpeg(&env, "y/images/val/d.jpg", 64, 48, 4);
    env.write(
        "y/labels/train/a.txt",
        b"0 0.5 0.5 0.1 0.1\n0 0.2 0.2 0.1 0.1\n1 0.5 0.5 0.2 0.2\n",
    );
    env.write("y/labels/train/b.txt", b"1 0.5 0.5 0.1 0.1\n");
    env.write(
        "y/labels/val/d.txt",
        b"0 0.5 0.5 0.1 0.1\n5 0.5 0.5 0.1 0.1\n",
    );
    env.ok(&["snapshot", "v/yolo", env.path("y").to_str().unwrap()]);

    let s = env.json(&["stats", "v/yolo"]);
    assert_eq!(s["source"]["format"], "yolo");
    assert_eq!(s["source"]["files"], json!(["data.yaml"]));
    assert_eq!(counts(&s["classes"]), [c("person", 2, 3), c("car", 2, 2)]);
    assert_eq!(
        counts(&s["splits"]["train"]),
        [c("car", 2, 2), c("person", 1, 2)]
    );
    assert_eq!(counts(&s["splits"]["val"]), [c("person", 1, 1)]);
    assert_eq!(s["totals"]["images"], 4);
    assert_eq!(s["totals"]["labelled"], 3);
    assert_eq!(s["totals"]["unlabelled"], 1);
    assert_eq!(s["unlabelled"]["files"], json!(["images/train/c.jpg"]));
    assert_eq!(s["unknown_classes"][0]["id"], "5");
    assert_eq!(s["unknown_classes"][0]["file"], "labels/val/d.txt");
    let warnings = s["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w["file"] == "images/train/c.jpg"),
        "the unlabelled image is named: {warnings:?}"
    );
    assert_eq!(s["dimensions"]["read"], 4);
    assert_eq!(s["dimensions"]["formats"], json!({"jpeg": 4}));

    // Named instead of detected: the same counts, cached under its own key.
    let named = env.json(&["stats", "v/yolo", "--labels", "yolo:data.yaml"]);
    assert_eq!(named["cached"], false);
    assert_eq!(named["classes"], s["classes"]);
    assert_eq!(named["splits"], s["splits"]);
}

const COCO: &str = r#"{
  "images": [
    {"id": 1, "file_name": "000001.jpg", "width": 16, "height": 12},
    {"id": 2, "file_name": "000002.jpg", "width": 16, "height": 12},
    {"id": 3, "file_name": "000003.jpg", "width": 16, "height": 12}
  ],
  "categories": [
    {"id": 1, "name": "person"}, {"id": 3, "name": "car"}, {"id": 5, "name": "kite"}
  ],
  "annotations": [
    {"id": 10, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": [1, 1, 2, 2]},
    {"id": 11, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": [3, 3, 2, 2]},
    {"id": 12, "image_id": 2, "category_id": 3, "iscrowd": 0, "bbox": [1, 1, 2, 2]},
    {"id": 13, "image_id": 2, "category_id": 3, "iscrowd": 1, "bbox": [1, 1, 8, 8]}
  ]
}"#;

#[test]
fn a_coco_file_counts_instances_and_crowds_apart() {
    let env = Env::new();
    env.write("c/annotations/instances_val.json", COCO.as_bytes());
    for i in 1..=3u8 {
        jpeg(&env, &format!("c/val/00000{i}.jpg"), 16, 12, i);
    }
    env.ok(&["snapshot", "v/coco", env.path("c").to_str().unwrap()]);
    let s = env.json(&["stats", "v/coco"]);
    assert_eq!(s["source"]["format"], "coco");
    assert_eq!(
        s["source"]["files"],
        json!(["annotations/instances_val.json"])
    );
    assert_eq!(
        s["classes"],
        json!([
            {"name": "person", "images": 1, "instances": 2, "crowd": 0},
            {"name": "car", "images": 1, "instances": 1, "crowd": 1},
            {"name": "kite", "images": 0, "instances": 0, "crowd": 0},
        ])
    );
    assert_eq!(
        s["splits"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["val"]
    );
    assert_eq!(s["totals"]["images"], 3);
    assert_eq!(s["totals"]["unlabelled"], 1, "no annotation: unlabelled");
    assert_eq!(s["unlabelled"]["files"], json!(["val/000003.jpg"]));
    assert!(
        s["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["file"] == "annotations/instances_val.json"
                && w["message"].as_str().unwrap().contains("kite")),
        "{}",
        s["warnings"]
    );
    assert_eq!(s["dimensions"]["read"], 3);
}

#[test]
fn a_bad_label_source_is_refused_like_any_bad_request() {
    let env = Env::new();
    let data = imagefolder(&env);
    env.ok(&["snapshot", "v/pets", &data]);

    let r = env
        .run(&["stats", "v/pets", "--labels", "parquet:x", "--json"])
        .fails();
    assert_eq!(r.out.status.code(), Some(1));
    let e = &r.json()["error"];
    assert_eq!(e["kind"], "invalid");
    assert_eq!(e["code"], "invalid");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("unknown label source 'parquet:x'") && msg.contains("yolo:DATA_YAML"),
        "{msg}"
    );
    assert!(r.error().contains("unknown label source"), "{}", r.stderr());

    let r = env.run(&["stats", "v/pets", "--labels", "coco:"]).fails();
    assert!(r.error().contains("needs a JSON file"), "{}", r.stderr());

    // A named file the version does not hold.
    let r = env
        .run(&["stats", "v/pets", "--labels", "csv:labels.csv", "--json"])
        .fails();
    assert_eq!(r.json()["error"]["kind"], "not_found");
    assert!(r.error().contains("labels.csv"), "{}", r.stderr());

    let r = env
        .run(&["stats", "v/pets", "--against", "v/nope", "--json"])
        .fails();
    assert_eq!(r.json()["error"]["kind"], "not_found");
    assert!(cache_files(&env).is_empty(), "nothing cached for a refusal");
}

#[test]
fn a_draft_is_counted_as_it_is_now_and_links_are_not_followed() {
    let env = Env::new();
    let data = imagefolder(&env);
    let draft = env.ok(&["create", "v/draft"]).line();
    env.ok(&["add", &draft, &data]);
    let s = env.json(&["stats", &draft]);
    assert_eq!(s["version"], "v/draft@1.0.0");
    assert_eq!(s["totals"]["images"], 9);

    // The draft changes: its manifest does, so the cache does not answer.
    png(&env, "more/cat/new.png", 8, 8, 99);
    env.ok(&[
        "add",
        &draft,
        env.path("more").to_str().unwrap(),
        "--to",
        "train",
    ]);
    let linked = env.path("elsewhere/far.png");
    png(&env, "elsewhere/far.png", 8, 8, 98);
    env.ok(&[
        "add-link",
        &draft,
        &format!("file://{}", linked.display()),
        "--to",
        "train/dog",
    ]);
    let s = env.json(&["stats", &draft]);
    assert_eq!(s["cached"], false);
    assert_eq!(
        counts(&s["classes"]),
        [c("cat", 6, 6), c("dog", 4, 4), c("bird", 1, 1)]
    );
    let warnings = s["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w["file"] == "train/dog/far.png"
            && w["message"]
                .as_str()
                .unwrap()
                .contains("1 linked entry not read")),
        "{warnings:?}"
    );
    assert_eq!(s["dimensions"]["read"], 10);
    assert_eq!(s["dimensions"]["unreadable"], 1, "the linked image");
}

/// Every piece of text an SVG draws.
fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML ({e}): {svg}"));
    doc.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The `width` and `height` an SVG declares.
fn svg_size(svg: &str) -> (u32, u32) {
    let doc = roxmltree::Document::parse(svg).expect("XML");
    let root = doc.root_element();
    let side = |a: &str| {
        root.attribute(a)
            .and_then(|v| v.trim_end_matches("px").parse().ok())
            .unwrap_or_else(|| panic!("svg {a}: {:?}", root.attribute(a)))
    };
    (side("width"), side("height"))
}

#[test]
fn plots_are_written_as_svg_or_png_by_their_extension() {
    let env = Env::new();
    let data = imagefolder(&env);
    env.ok(&["snapshot", "v/pets", &data]);

    let svg_file = env.path("plots/pets.svg");
    std::fs::create_dir_all(svg_file.parent().unwrap()).unwrap();
    let r = env.ok(&["stats", "v/pets", "--plot", svg_file.to_str().unwrap()]);
    assert!(
        r.stdout()
            .contains(&format!("plot written to {}", svg_file.display())),
        "{}",
        r.stdout()
    );
    let svg = std::fs::read_to_string(&svg_file).expect("the SVG was written");
    let texts = svg_texts(&svg);
    for class in ["cat", "dog", "bird"] {
        assert!(texts.iter().any(|t| t == class), "{class} not in {texts:?}");
    }
    // Splits are the series of a stacked histogram, named in its legend.
    for split in ["train", "val"] {
        assert!(texts.iter().any(|t| t == split), "{split} not in {texts:?}");
    }

    let png_file = env.path("plots/pets.png");
    let s = env.json(&["stats", "v/pets", "--plot", png_file.to_str().unwrap()]);
    assert_eq!(s["plot"], png_file.display().to_string());
    assert_eq!(s["classes"].as_array().map(Vec::len), Some(3), "{s}");
    let img = image::open(&png_file).expect("the PNG decodes").to_rgb8();
    // Drawn at the size the SVG of the same chart declares.
    assert_eq!(img.dimensions(), svg_size(&svg));
    let white = img.pixels().filter(|p| p.0 == [255, 255, 255]).count();
    let total = (img.width() * img.height()) as usize;
    assert!(
        white < total * 95 / 100,
        "nearly blank: {white} of {total} white"
    );
    let colours: std::collections::HashSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    assert!(colours.len() > 3, "only {} colours", colours.len());
    // Nothing but the two plots in their folder: no temporary files left.
    let names: Vec<String> = std::fs::read_dir(env.path("plots"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn a_comparison_plot_names_the_classes_of_both_versions() {
    let env = Env::new();
    let data = imagefolder(&env);
    env.ok(&["snapshot", "v/pets", &data]);
    std::fs::create_dir_all(env.path("data/val/fox")).unwrap();
    std::fs::rename(
        env.path("data/train/bird/b0.png"),
        env.path("data/val/fox/b0.png"),
    )
    .unwrap();
    std::fs::remove_dir(env.path("data/train/bird")).unwrap();
    env.ok(&["snapshot", "v/pets", &data]);

    let file = env.path("cmp.svg");
    let s = env.json(&[
        "stats",
        "v/pets@1.0.1",
        "--against",
        "v/pets@1.0.0",
        "--plot",
        file.to_str().unwrap(),
    ]);
    assert_eq!(s["plot"], file.display().to_string());
    let texts = svg_texts(&std::fs::read_to_string(&file).expect("written"));
    // fox is new, bird is gone: both are drawn, and so are the two versions in the legend.
    for name in ["cat", "dog", "fox", "bird", "v/pets@1.0.0", "v/pets@1.0.1"] {
        assert!(
            texts.iter().any(|t| t.contains(name)),
            "{name} not in {texts:?}"
        );
    }
}

#[test]
fn a_plot_file_of_another_kind_is_refused_before_counting() {
    let env = Env::new();
    let data = imagefolder(&env);
    env.ok(&["snapshot", "v/pets", &data]);
    for bad in ["pets.gif", "pets", "pets.svg.txt"] {
        let r = env
            .run(&["stats", "v/pets", "--plot", bad, "--json"])
            .fails();
        let e = &r.json()["error"];
        assert_eq!(e["kind"], "invalid", "{bad}");
        let msg = e["message"].as_str().unwrap();
        assert!(msg.contains(".svg") && msg.contains(".png"), "{msg}");
        assert!(!env.path(bad).exists());
    }
    assert!(
        cache_files(&env).is_empty(),
        "nothing counted for a refusal"
    );
}
