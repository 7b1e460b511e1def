//! Automatic detection picks the format each layout is in, and says why.

use strata_insight::{detect, LabelSource};

use crate::util::Dataset;

fn detected(d: &Dataset) -> (Option<LabelSource>, String) {
    let det = detect(&d.entries(), &d.content());
    (det.source, det.evidence.join(" | "))
}

#[test]
fn imagefolder_layout() {
    let d = Dataset::new();
    d.png("train/cat/a.png", 4, 4, 1)
        .png("train/dog/b.png", 4, 4, 2)
        .png("val/dog/c.png", 4, 4, 3)
        .file("README.md", "hello");
    let (source, why) = detected(&d);
    assert_eq!(source, Some(LabelSource::ImageFolder));
    assert!(
        why.contains("3 images of 3 sit in 2 class folders; split folders train, val"),
        "{why}"
    );
}

#[test]
fn coco_layout_from_a_prefix() {
    let d = Dataset::new();
    // Larger than the sniffed prefix, with "categories" only at the end.
    let mut images = String::new();
    for i in 0..3000 {
        images.push_str(&format!(
            "{{\"id\": {i}, \"file_name\": \"{i:012}.jpg\", \"coco_url\": \"http://x\"}},"
        ));
    }
    images.pop();
    d.file(
        "annotations/instances_train2017.json",
        format!("{{\"images\": [{images}], \"annotations\": [], \"categories\": [{{\"id\": 1, \"name\": \"a\"}}]}}"),
    )
    .png("train2017/000000000001.jpg", 4, 4, 1)
    .file("meta/other.json", r#"{"a": 1}"#);
    let (source, why) = detected(&d);
    assert_eq!(
        source,
        Some(LabelSource::Coco {
            file: "annotations/instances_train2017.json".into()
        })
    );
    assert!(
        why.contains("COCO JSON") && why.contains("split 'train2017'"),
        "{why}"
    );
    assert!(
        why.contains("1 other JSON files not read as labels"),
        "{why}"
    );
}

#[test]
fn yolo_layout() {
    let d = Dataset::new();
    d.file(
        "data.yaml",
        "train: images/train\nval: images/val\nnames: [a, b, c]\n",
    )
    .png("images/train/x.png", 4, 4, 1)
    .file("labels/train/x.txt", "0 0.5 0.5 0.1 0.1\n")
    .png("images/val/y.png", 4, 4, 2)
    .file("labels/val/y.txt", "1 0.5 0.5 0.1 0.1\n");
    let (source, why) = detected(&d);
    assert_eq!(
        source,
        Some(LabelSource::Yolo {
            data_yaml: "data.yaml".into()
        })
    );
    assert!(
        why.contains("data.yaml with 3 names; 2 label files under labels/; splits train, val"),
        "{why}"
    );
}

#[test]
fn voc_layout() {
    let d = Dataset::new();
    d.file(
        "VOCdevkit/VOC2007/Annotations/1.xml",
        "<annotation><filename>1.jpg</filename><object><name>cat</name></object></annotation>",
    )
    .jpeg("VOCdevkit/VOC2007/JPEGImages/1.jpg", 8, 8, 1)
    .file("VOCdevkit/VOC2007/ImageSets/Main/train.txt", "1\n");
    let (source, why) = detected(&d);
    assert_eq!(
        source,
        Some(LabelSource::Voc {
            dir: "VOCdevkit/VOC2007".into()
        })
    );
    assert!(
        why.contains("VOCdevkit/VOC2007/Annotations/ holds 1 XML annotation (Pascal VOC); JPEGImages/ holds 1 image; splits from ImageSets/Main"),
        "{why}"
    );
}

#[test]
fn csv_layout() {
    let d = Dataset::new();
    d.png("images/1.png", 4, 4, 1)
        .png("images/2.png", 4, 4, 2)
        .file(
            "train.csv",
            "image,target\nimages/1.png,0\nimages/2.png,1\n",
        );
    let (source, why) = detected(&d);
    assert_eq!(
        source,
        Some(LabelSource::Csv {
            file: "train.csv".into(),
            column: None
        })
    );
    assert!(
        why.contains("column 'target' is named like a label column"),
        "{why}"
    );
    let s = d.stats(None);
    assert_eq!(s.source.column.as_deref(), Some("target"));
    assert_eq!(
        s.splits.keys().collect::<Vec<_>>(),
        vec!["train"],
        "train.csv names its split"
    );
}

#[test]
fn nothing_fits_is_a_result_not_an_error() {
    let d = Dataset::new();
    d.png("a.png", 4, 4, 1)
        .png("b.png", 4, 4, 2)
        .file("notes.txt", "x");
    let (source, why) = detected(&d);
    assert_eq!(source, None);
    assert!(
        why.contains("no COCO JSON, YOLO data.yaml, VOC Annotations/ or label table found"),
        "{why}"
    );
    let s = d.stats(None);
    assert_eq!(s.source.format, "none");
    assert!(s.classes.is_empty());
    assert!(s
        .warnings
        .iter()
        .any(|w| w.message.contains("no label source found")));
    let empty = Dataset::new();
    assert_eq!(empty.stats(None).source.format, "none");
}
