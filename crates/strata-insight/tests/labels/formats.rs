//! Each label format, with its pitfalls, counted exactly.

use crate::util::{assert_warned, class, counts, Dataset};

#[test]
fn imagefolder_splits_classes_noise_and_root_images() {
    let d = Dataset::new();
    d.jpeg("train/cat/a.jpg", 30, 20, 1)
        .png("train/cat/b.png", 8, 6, 2)
        .png("train/dog/c.png", 8, 6, 3)
        .png("Train/dog/g.png", 8, 6, 7)
        .png("val/cat/d.png", 8, 6, 4)
        .png("VALIDATION/dog/e.png", 8, 6, 5)
        .png("valid/dog/f.png", 8, 6, 6)
        .png("cat/h.png", 8, 6, 8)
        .png("root.png", 12, 10, 9)
        .png("test/i.png", 8, 6, 10)
        .file(".DS_Store", b"junk")
        .file("cat/Thumbs.db", b"junk")
        .file("cat/notes.txt", b"not an image")
        .file("__MACOSX/cat/._a.jpg", b"resource fork");
    let s = d.stats(Some("imagefolder"));
    assert_eq!(s.source.format, "imagefolder");
    assert_eq!(counts(&s.classes), vec![("cat", 4, 4), ("dog", 4, 4)]);
    assert_eq!(
        counts(&s.splits["train"]),
        vec![("cat", 2, 2), ("dog", 2, 2)]
    );
    assert_eq!(counts(&s.splits["val"]), vec![("cat", 1, 1)]);
    assert_eq!(counts(&s.splits["validation"]), vec![("dog", 1, 1)]);
    assert_eq!(counts(&s.splits["valid"]), vec![("dog", 1, 1)]);
    assert!(s.splits["test"].is_empty(), "test holds no class folder");
    assert_eq!(s.splits.len(), 5);
    assert_eq!(
        (
            s.totals.images,
            s.totals.labelled,
            s.totals.unlabelled,
            s.totals.instances
        ),
        (10, 8, 2, 8)
    );
    assert_eq!(s.unlabelled.files, vec!["root.png", "test/i.png"]);
    let dims = s.dimensions.as_ref().expect("dimensions");
    assert_eq!((dims.read, dims.unreadable), (10, 0));
    assert_eq!(dims.formats.get("jpeg"), Some(&1));
    assert_eq!(dims.formats.get("png"), Some(&9));
    let w = dims.width.as_ref().expect("widths");
    assert_eq!((w.min, w.max, w.median), (8, 30, 8));
    let h = dims.height.as_ref().expect("heights");
    assert_eq!((h.min, h.max), (6, 20));
    assert!(s.imbalance.as_ref().is_some_and(|i| i.ratio == 1.0));
    assert_eq!(s.files.rows.len(), 10);
    assert!(
        s.files.rows.iter().all(|r| r.1.is_some()),
        "ImageFolder rows carry hashes"
    );
}

#[test]
fn csv_named_column_paths_missing_files_and_unlabelled_rows() {
    let d = Dataset::new();
    d.png("data/imgs/a.png", 4, 4, 1)
        .png("data/imgs/b.png", 4, 4, 2)
        .png("data/imgs/c.png", 4, 4, 3)
        .png("data/imgs/d.png", 4, 4, 4)
        .file(
            "data/labels.csv",
            "file,species,score\n\
             imgs/a.png,cat,0.5\n\
             imgs/b.png,dog,0.7\n\
             imgs/missing.png,cat,0.1\n\
             c.png,cat,0.3\n\
             imgs/d.png,,0.2\n",
        );
    let s = d.stats(Some("csv:data/labels.csv"));
    assert_eq!(s.source.format, "csv");
    assert_eq!(s.source.column.as_deref(), Some("species"));
    assert!(s
        .source
        .evidence
        .iter()
        .any(|e| e.contains("named like a label column")));
    assert_eq!(counts(&s.classes), vec![("cat", 2, 2), ("dog", 1, 1)]);
    assert_eq!(
        (s.totals.images, s.totals.labelled, s.totals.unlabelled),
        (4, 3, 1)
    );
    assert_eq!(s.unlabelled.files, vec!["data/imgs/d.png"]);
    assert_eq!(s.labels_without_images.count, 1);
    assert_warned(&s, "data/labels.csv", Some(4), "imgs/missing.png");
    assert_eq!(s.dimensions.as_ref().map(|d| d.read), Some(4));
}

#[test]
fn csv_column_by_cardinality_tsv_and_explicit_column() {
    let d = Dataset::new();
    let mut rows = String::from("id\tkind\tweight\tsplit\n");
    for i in 0..12 {
        let kind = ["x", "y", "y"][i % 3];
        let split = if i < 8 { "train" } else { "test" };
        rows.push_str(&format!("r{i}\t{kind}\t{}.{}\t{split}\n", i * 3, i + 1));
    }
    d.file("meta.tsv", &rows);
    let s = d.stats(Some("csv:meta.tsv"));
    assert_eq!(s.source.column.as_deref(), Some("kind"));
    let why = s.source.evidence.join(" | ");
    assert!(
        why.contains("chosen by its values: 2 distinct over 12 rows"),
        "{why}"
    );
    assert!(
        why.contains("'id' (ID-like)") && why.contains("'weight' (continuous numbers)"),
        "{why}"
    );
    assert!(why.contains("tabs"), "{why}");
    assert_eq!(counts(&s.classes), vec![("y", 8, 8), ("x", 4, 4)]);
    assert_eq!(counts(&s.splits["train"]), vec![("y", 5, 5), ("x", 3, 3)]);
    assert_eq!(counts(&s.splits["test"]), vec![("y", 3, 3), ("x", 1, 1)]);
    assert!(
        s.files.rows.iter().any(|r| r.0 == "meta.tsv#r0"),
        "rows are named by their id"
    );

    let s = d.stats(Some("csv:meta.tsv:split"));
    assert_eq!(counts(&s.classes), vec![("train", 8, 8), ("test", 4, 4)]);

    let wrong: Result<strata_insight::LabelSource, _> = "csv:meta.tsv:nope".parse();
    let err = strata_insight::stats(
        &d.entries(),
        &d.content(),
        wrong.as_ref().ok(),
        &strata_core::progress::NoProgress,
        &strata_core::progress::Cancel::new(),
    )
    .expect_err("an absent column is the user's to fix");
    assert!(err.to_string().contains("no column 'nope'"), "{err}");
}

#[test]
fn csv_semicolons_and_multi_label_rows() {
    let d = Dataset::new();
    d.file("tags.csv", "name;labels\nn1;a|b\nn2;b\nn3;b|b\n");
    let s = d.stats(Some("csv:tags.csv"));
    assert_eq!(counts(&s.classes), vec![("b", 3, 3), ("a", 1, 1)]);
}

const COCO_VAL: &str = r#"{
 "info": {"year": 2017},
 "images": [
  {"id": 1, "file_name": "000001.jpg", "width": 640, "height": 480},
  {"id": 2, "file_name": "000002.jpg"},
  {"id": 3, "file_name": "000003.jpg"},
  {"id": 4, "file_name": "000004.jpg"}
 ],
 "annotations": [
  {"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "segmentation": [[1,2,3,4,5,6]], "bbox": [0,0,1,1]},
  {"id": 2, "image_id": 1, "category_id": 1, "iscrowd": 0, "segmentation": [[1,2,3,4,5,6]]},
  {"id": 3, "image_id": 1, "category_id": 1, "iscrowd": 1, "segmentation": {"counts": [1,2], "size": [4,4]}},
  {"id": 4, "image_id": 2, "category_id": 5},
  {"id": 5, "image_id": 2, "category_id": 90},
  {"id": 6, "image_id": 2, "category_id": 90},
  {"id": 7, "image_id": 4, "category_id": 5, "iscrowd": 1},
  {"id": 8, "image_id": 99, "category_id": 1},
  {"id": 9, "image_id": 2, "category_id": 7}
 ],
 "categories": [
  {"id": 1, "name": "person"}, {"id": 5, "name": "car"}, {"id": 90, "name": "zebra"}, {"id": 33, "name": "kite"}
 ]
}"#;

#[test]
fn coco_crowd_gaps_unknown_ids_and_unannotated_images() {
    let d = Dataset::new();
    d.file("annotations/instances_val.json", COCO_VAL)
        .jpeg("val/000001.jpg", 16, 12, 1)
        .jpeg("val/000002.jpg", 16, 12, 2)
        .jpeg("val/000003.jpg", 16, 12, 3);
    let s = d.stats(Some("coco:annotations/instances_val.json"));
    assert_eq!(s.source.format, "coco");
    let f = "annotations/instances_val.json";
    assert_eq!(
        counts(&s.classes),
        vec![
            ("car", 2, 1),
            ("person", 1, 2),
            ("zebra", 1, 2),
            ("kite", 0, 0)
        ]
    );
    assert_eq!(class(&s, "person").crowd, Some(1));
    assert_eq!(class(&s, "car").crowd, Some(1));
    assert_eq!(class(&s, "zebra").crowd, Some(0));
    assert_eq!(s.splits.keys().collect::<Vec<_>>(), vec!["val"]);
    assert_eq!(
        (
            s.totals.images,
            s.totals.labelled,
            s.totals.unlabelled,
            s.totals.instances
        ),
        (4, 3, 1, 5)
    );
    assert_eq!(s.unlabelled.files, vec!["val/000003.jpg"]);
    assert_eq!(s.unknown_classes.len(), 1);
    assert_eq!(
        (
            s.unknown_classes[0].id.as_str(),
            s.unknown_classes[0].instances
        ),
        ("7", 1)
    );
    assert_warned(
        &s,
        f,
        None,
        "1 annotations name image ids not in its images (first: 99)",
    );
    assert_warned(&s, f, None, "category ids not in its categories (first: 7)");
    assert_warned(
        &s,
        f,
        None,
        "1 of its 4 images are not in this version (first: '000004.jpg')",
    );
    assert_warned(&s, f, None, "no images: kite");
    assert_eq!(s.dimensions.as_ref().map(|d| d.read), Some(3));
}

#[test]
fn coco_files_per_split_are_read_together() {
    let d = Dataset::new();
    d.file("annotations/instances_val.json", COCO_VAL).file(
        "annotations/instances_train.json",
        r#"{"images": [{"id": 10, "file_name": "a.jpg"}], "annotations": [{"image_id": 10, "category_id": 3}],
            "categories": [{"id": 3, "name": "car"}]}"#,
    )
    .file("annotations/captions_train.json", r#"{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": []}"#);
    let s = d.stats(None);
    assert_eq!(s.source.format, "coco");
    assert_eq!(
        s.source.files,
        vec![
            "annotations/instances_train.json",
            "annotations/instances_val.json"
        ]
    );
    assert_eq!(counts(&s.splits["train"]), vec![("car", 1, 1)]);
    assert_eq!(
        counts(&s.splits["val"]),
        vec![("car", 2, 1), ("person", 1, 2), ("zebra", 1, 2)]
    );
    assert_eq!(class(&s, "car").images, 3);
    assert_eq!(s.totals.images, 5);
}

#[test]
fn yolo_map_names_lists_backgrounds_polygons_and_bad_lines() {
    let d = Dataset::new();
    d.file(
        "data.yaml",
        "path: /home/someone/datasets/shapes\ntrain: images/train\nval: val.txt\nnames:\n  0: person\n  1: car\n  2: dog\n",
    )
    .jpeg("images/train/a.jpg", 20, 10, 1)
    .jpeg("images/train/b.jpg", 20, 10, 2)
    .jpeg("images/train/c.jpg", 20, 10, 3)
    .jpeg("images/train/d.jpg", 20, 10, 4)
    .jpeg("images/val/e.jpg", 20, 10, 5)
    .file("val.txt", "./images/val/e.jpg\nimages/val/gone.jpg\n/abs/elsewhere/images/val/e.jpg\n")
    // A box and a polygon.
    .file("labels/train/a.txt", "0 0.5 0.5 0.1 0.1\n0 0.1 0.1 0.2 0.2 0.3 0.3\n")
    // Background: labelled, no instances.
    .file("labels/train/b.txt", "")
    // c has no label file: unlabelled.
    .file(
        "labels/train/d.txt",
        "7 0.5 0.5 0.1 0.1\n1 0.5 0.5\nfoo 1 2 3 4\n1 0.2 0.2 0.1 0.1\n1 0.1 0.1 0.1 0.1 0.2 0.2 0.3\n",
    )
    .file("labels/val/e.txt", "2 0.5 0.5 0.2 0.2\n")
    .file("labels/train/orphan.txt", "0 0.5 0.5 0.1 0.1\n");
    let s = d.stats(Some("yolo:data.yaml"));
    assert_eq!(s.source.format, "yolo");
    assert_eq!(
        counts(&s.classes),
        vec![("person", 1, 2), ("car", 1, 1), ("dog", 1, 1)]
    );
    assert_eq!(
        counts(&s.splits["train"]),
        vec![("person", 1, 2), ("car", 1, 1)]
    );
    assert_eq!(counts(&s.splits["val"]), vec![("dog", 1, 1)]);
    assert_eq!(
        (
            s.totals.images,
            s.totals.labelled,
            s.totals.unlabelled,
            s.totals.instances
        ),
        (5, 4, 1, 4)
    );
    assert_eq!(s.unlabelled.files, vec!["images/train/c.jpg"]);
    assert_eq!(
        s.labels_without_images.files,
        vec!["labels/train/orphan.txt"]
    );
    assert_eq!(s.unknown_classes.len(), 1);
    assert_eq!(s.unknown_classes[0].id, "7");
    assert_warned(
        &s,
        "labels/train/d.txt",
        Some(1),
        "class id 7 is not in names",
    );
    assert_warned(
        &s,
        "labels/train/d.txt",
        Some(2),
        "malformed line (3 values",
    );
    assert_warned(&s, "labels/train/d.txt", Some(3), "malformed line");
    assert_warned(
        &s,
        "labels/train/d.txt",
        Some(5),
        "malformed line (8 values",
    );
    assert_warned(&s, "val.txt", Some(2), "not in this version");
    assert_warned(&s, "val.txt", Some(3), "outside the dataset");
    assert_warned(
        &s,
        "data.yaml",
        None,
        "path '/home/someone/datasets/shapes' is not a folder",
    );
    let background = s
        .files
        .rows
        .iter()
        .find(|r| r.0 == "images/train/b.jpg")
        .expect("b");
    assert_eq!(
        background.3,
        Some(vec![]),
        "an empty label file is a background image"
    );
}

#[test]
fn yolo_list_names_and_the_last_images_folder() {
    let d = Dataset::new();
    d.file(
        "ds/data.yaml",
        "path: .\ntrain: images/train\nnames: [ring, bolt]\n",
    )
    .png("ds/images/train/images/x.png", 4, 4, 1)
    .file(
        "ds/images/train/labels/x.txt",
        "1 0.5 0.5 0.5 0.5\n1 0.4 0.4 0.1 0.1\n",
    );
    let s = d.stats(None);
    assert_eq!(s.source.format, "yolo");
    assert_eq!(counts(&s.classes), vec![("bolt", 1, 2), ("ring", 0, 0)]);
    assert!(s.source.evidence[0].contains("ds/data.yaml with 2 names; 1 label file under labels/"));
}

const VOC_1: &str = r#"<annotation>
  <folder>VOC2007</folder>
  <filename>000001.jpg</filename>
  <object><name>dog</name><difficult>1</difficult><truncated>0</truncated></object>
  <object><name>person</name><truncated>1</truncated>
    <part><name>hand</name></part>
  </object>
</annotation>"#;

#[test]
fn voc_objects_parts_difficult_truncated_and_splits() {
    let d = Dataset::new();
    d.file("VOC/Annotations/000001.xml", VOC_1)
        .file(
            "VOC/Annotations/000002.xml",
            "<annotation><filename>wrong.jpg</filename><object><name>cat</name></object></annotation>",
        )
        .file(
            "VOC/Annotations/000003.xml",
            "<annotation><filename>000003.jpg</filename><object><name> cat </name></object></annotation>",
        )
        .file("VOC/Annotations/000004.xml", "<annotation><object><name>cat</name>")
        .jpeg("VOC/JPEGImages/000001.jpg", 10, 10, 1)
        .jpeg("VOC/JPEGImages/000002.jpg", 10, 10, 2)
        .jpeg("VOC/JPEGImages/000005.jpg", 10, 10, 5)
        .file("VOC/ImageSets/Main/train.txt", "000001\n")
        .file("VOC/ImageSets/Main/val.txt", "000002\n")
        .file("VOC/ImageSets/Main/trainval.txt", "000001\n000002\n")
        .file("VOC/ImageSets/Main/test.txt", "000005\n")
        .file("VOC/ImageSets/Main/dog_train.txt", "000001  1\n");
    let s = d.stats(Some("voc:VOC"));
    assert_eq!(s.source.format, "voc");
    assert_eq!(
        counts(&s.classes),
        vec![("cat", 2, 2), ("dog", 1, 1), ("person", 1, 1)]
    );
    assert_eq!(class(&s, "dog").difficult, Some(1));
    assert_eq!(class(&s, "dog").truncated, Some(0));
    assert_eq!(class(&s, "person").truncated, Some(1));
    assert_eq!(class(&s, "person").difficult, Some(0));
    assert!(
        s.classes.iter().all(|c| c.name != "hand"),
        "a part is not an object"
    );
    assert_eq!(
        s.splits.keys().collect::<Vec<_>>(),
        vec!["test", "train", "val"]
    );
    assert_eq!(
        counts(&s.splits["train"]),
        vec![("dog", 1, 1), ("person", 1, 1)]
    );
    assert_eq!(counts(&s.splits["val"]), vec![("cat", 1, 1)]);
    assert!(s.splits["test"].is_empty());
    assert_eq!(
        (
            s.totals.images,
            s.totals.labelled,
            s.totals.unlabelled,
            s.totals.instances
        ),
        (4, 3, 1, 4)
    );
    assert_eq!(s.unlabelled.files, vec!["VOC/JPEGImages/000005.jpg"]);
    assert_eq!(
        s.labels_without_images.files,
        vec!["VOC/Annotations/000003.xml"]
    );
    assert_warned(
        &s,
        "VOC/Annotations/000004.xml",
        Some(1),
        "not a VOC annotation",
    );
    assert_warned(
        &s,
        "VOC/Annotations/000003.xml",
        None,
        "'000003.jpg' is not in VOC/JPEGImages",
    );

    // Without train and val, trainval is the split.
    let d = Dataset::new();
    d.file("Annotations/000001.xml", VOC_1)
        .jpeg("JPEGImages/000001.jpg", 10, 10, 1)
        .file("ImageSets/Main/trainval.txt", "000001\n");
    let s = d.stats(Some("voc:Annotations"));
    assert_eq!(s.splits.keys().collect::<Vec<_>>(), vec!["trainval"]);
}

#[test]
fn label_source_spellings() {
    use strata_insight::LabelSource as L;
    let p = |s: &str| s.parse::<L>();
    assert_eq!(p("imagefolder").ok(), Some(L::ImageFolder));
    assert_eq!(
        p("csv:a/b.csv:label").ok(),
        Some(L::Csv {
            file: "a/b.csv".into(),
            column: Some("label".into())
        })
    );
    assert_eq!(
        p("csv:a/b.csv").ok(),
        Some(L::Csv {
            file: "a/b.csv".into(),
            column: None
        })
    );
    assert_eq!(
        p("coco:x.json").ok(),
        Some(L::Coco {
            file: "x.json".into()
        })
    );
    assert_eq!(
        p("yolo:data.yaml").ok(),
        Some(L::Yolo {
            data_yaml: "data.yaml".into()
        })
    );
    assert_eq!(
        p("voc:VOC2007/").ok(),
        Some(L::Voc {
            dir: "VOC2007".into()
        })
    );
    assert_eq!(L::parse_choice("auto").ok(), Some(None));
    let err = p("labelme:x").expect_err("unknown");
    assert!(
        err.to_string()
            .contains("expected auto, imagefolder, csv:FILE"),
        "{err}"
    );
    assert!(p("coco:").is_err());
    assert_eq!(
        p("csv:a/b.csv:label")
            .map(|s| s.to_string())
            .ok()
            .as_deref(),
        Some("csv:a/b.csv:label")
    );
}

#[test]
fn stats_json_has_the_documented_shape_and_round_trips() {
    let d = Dataset::new();
    d.file("annotations/instances_val.json", COCO_VAL);
    let s = d.stats(None);
    let json = serde_json::to_value(&s).expect("json");
    for key in [
        "source",
        "classes",
        "splits",
        "totals",
        "unlabelled",
        "labels_without_images",
        "unknown_classes",
        "warnings",
        "files",
    ] {
        assert!(json.get(key).is_some(), "no '{key}' in {json}");
    }
    assert_eq!(json["source"]["format"], "coco");
    assert_eq!(json["classes"][0]["name"], "car");
    assert_eq!(json["classes"][0]["crowd"], 1);
    assert!(json["classes"][0].get("difficult").is_none());
    assert!(json["splits"]["val"].is_array());
    assert!(json["warnings"][0]["file"].is_string());
    let back: strata_insight::Stats = serde_json::from_value(json).expect("back");
    assert_eq!(back, s);
}
