//! Untrusted input: every parser turns junk into warnings naming the file, never a panic.

use crate::util::{assert_warned, counts, Dataset};

const JUNK: &[u8] = b"\x00\xff\xfe\x89PNG\r\n\x1a\n\x00\x00{[<\"\xc3\x28garbage\n\x01\x02";

#[test]
fn truncated_and_junk_coco_json() {
    let d = Dataset::new();
    d.file(
        "a/instances_train.json",
        r#"{"images": [{"id": 1, "file_name": "x.jpg"}], "annotations": [{"image_id": 1,"#,
    )
    .file("b/instances_val.json", JUNK)
    .file("c/instances_test.json", b"")
    .file(
        "d/instances_x.json",
        r#"{"images": {"not": "a list"}, "annotations": [], "categories": []}"#,
    )
    .file("e/instances_y.json", r#"[1, 2, 3]"#);
    for f in [
        "a/instances_train.json",
        "b/instances_val.json",
        "c/instances_test.json",
        "d/instances_x.json",
        "e/instances_y.json",
    ] {
        let s = d.stats(Some(&format!("coco:{f}")));
        assert_warned(&s, f, None, "not COCO JSON");
        assert!(s.classes.is_empty());
    }
}

#[test]
fn coco_with_latin1_names_is_read_lossily() {
    let d = Dataset::new();
    let mut json = br#"{"images": [{"id": 1, "file_name": "x.jpg"}], "annotations": [{"image_id": 1, "category_id": 1}], "categories": [{"id": 1, "name": "caf"#.to_vec();
    json.push(0xe9);
    json.extend_from_slice(br#""}]}"#);
    d.file("instances_train.json", json);
    let s = d.stats(Some("coco:instances_train.json"));
    assert_warned(&s, "instances_train.json", None, "not valid UTF-8");
    assert_eq!(counts(&s.classes), vec![("caf\u{fffd}", 1, 1)]);
}

#[test]
fn broken_voc_xml() {
    let d = Dataset::new();
    d.file("Annotations/empty.xml", b"")
        .file(
            "Annotations/noroot.xml",
            "<?xml version=\"1.0\"?>\n<!-- nothing -->\n",
        )
        .file("Annotations/junk.xml", JUNK)
        .file(
            "Annotations/mismatch.xml",
            "<annotation>\n<object><name>cat</name></objekt>\n</annotation>",
        )
        .file(
            "Annotations/latin.xml",
            [
                &b"<annotation><object><name>ni"[..],
                &[0xf1],
                b"o</name></object></annotation>",
            ]
            .concat(),
        )
        .file(
            "Annotations/ok.xml",
            "<annotation><object><name>dog</name></object></annotation>",
        );
    let s = d.stats(Some("voc:."));
    for f in ["empty", "noroot", "junk"] {
        assert_warned(
            &s,
            &format!("Annotations/{f}.xml"),
            None,
            "not a VOC annotation",
        );
    }
    assert_warned(
        &s,
        "Annotations/mismatch.xml",
        Some(2),
        "not a VOC annotation",
    );
    assert_warned(&s, "Annotations/latin.xml", None, "not valid UTF-8");
    assert_eq!(
        counts(&s.classes),
        vec![("dog", 1, 1), ("ni\u{fffd}o", 1, 1)]
    );
}

#[test]
fn broken_yolo_yaml_and_label_files() {
    for (yaml, words) in [
        ("- a\n- b\n", "not a YAML mapping"),
        ("names: [a, b\ntrain: x\n", "not YAML"),
        (
            "names: {0: [nested], 1: b}\ntrain: images\n",
            "not `id: name`",
        ),
        ("names: 7\n", "neither a list nor a map"),
        ("", "not a YAML mapping"),
    ] {
        let d = Dataset::new();
        d.file("data.yaml", yaml);
        let s = d.stats(Some("yolo:data.yaml"));
        assert_warned(&s, "data.yaml", None, words);
    }
    let d = Dataset::new();
    d.file("data.yaml", JUNK);
    let s = d.stats(Some("yolo:data.yaml"));
    assert!(
        s.warnings.iter().any(|w| w.file == "data.yaml"),
        "{:?}",
        s.warnings
    );

    let d = Dataset::new();
    d.file("data.yaml", "train: images\nnames: [a]\n")
        .png("images/x.png", 4, 4, 1)
        .file("labels/x.txt", JUNK);
    let s = d.stats(Some("yolo:data.yaml"));
    assert_warned(&s, "labels/x.txt", Some(1), "not text");
    assert_eq!(s.totals.labelled, 1);
}

#[test]
fn junk_and_empty_tables() {
    let d = Dataset::new();
    d.file("junk.csv", JUNK)
        .file("empty.csv", b"")
        .file("quote.csv", "label,x\n\"a,1\nb,2\n")
        .file("onlyheader.csv", "label\n");
    let s = d.stats(Some("csv:empty.csv"));
    assert_warned(&s, "empty.csv", None, "empty: no header row");
    let s = d.stats(Some("csv:junk.csv"));
    assert!(
        s.warnings.iter().any(|w| w.file == "junk.csv"),
        "{:?}",
        s.warnings
    );
    let s = d.stats(Some("csv:onlyheader.csv"));
    assert!(s.classes.is_empty());
    let _ = d.stats(Some("csv:quote.csv"));
}

#[test]
fn junk_images_are_counted_as_unreadable_sizes() {
    let d = Dataset::new();
    d.file("cat/a.jpg", JUNK)
        .file("cat/b.png", b"")
        .png("dog/c.png", 4, 4, 1);
    let s = d.stats(None);
    assert_eq!(counts(&s.classes), vec![("cat", 2, 2), ("dog", 1, 1)]);
    let dims = s.dimensions.as_ref().expect("dims");
    assert_eq!((dims.read, dims.unreadable), (1, 2));
    assert!(s
        .warnings
        .iter()
        .any(|w| w.file == "cat/a.jpg" && w.message.contains("image size unreadable")));
}

#[test]
fn a_named_file_that_is_absent_is_an_error() {
    let d = Dataset::new();
    d.png("a.png", 4, 4, 1);
    for source in ["coco:x.json", "yolo:data.yaml", "voc:VOC", "csv:x.csv"] {
        let source: strata_insight::LabelSource = source.parse().expect("spelling");
        let r = strata_insight::stats(
            &d.entries(),
            &d.content(),
            Some(&source),
            &strata_core::progress::NoProgress,
            &strata_core::progress::Cancel::new(),
        );
        assert!(r.is_err(), "{source} should be reported missing");
    }
}

#[test]
fn a_cancelled_run_stops() {
    let d = Dataset::new();
    d.png("cat/a.png", 4, 4, 1).png("dog/b.png", 4, 4, 2);
    let cancel = strata_core::progress::Cancel::new();
    cancel.cancel();
    let r = strata_insight::stats(
        &d.entries(),
        &d.content(),
        None,
        &strata_core::progress::NoProgress,
        &cancel,
    );
    assert!(r.is_err());
}
