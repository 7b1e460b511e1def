//! Charts as a user sees them: PNGs that decode at the asked size with bars and text drawn, SVGs
//! that parse as XML and name every class, deltas written on comparisons, and hostile or huge
//! class lists drawn without a panic or overlapping labels.

use std::collections::HashSet;

use strata_insight::plot::{
    default_size, png, svg, Chart, Comparison, Histogram, Layout, PlotError, Series,
};

fn histogram(categories: &[&str], series: &[(&str, &[u64])], layout: Layout) -> Chart {
    Chart::Histogram(Histogram {
        title: "Images per class".into(),
        categories: categories.iter().map(|s| s.to_string()).collect(),
        series: series
            .iter()
            .map(|(name, values)| Series {
                name: name.to_string(),
                values: values.to_vec(),
            })
            .collect(),
        layout,
    })
}

fn many(n: usize) -> Chart {
    let names: Vec<String> = (0..n).map(|i| format!("class_{i:04}")).collect();
    Chart::Histogram(Histogram {
        title: format!("{n} classes"),
        categories: names,
        series: vec![
            Series {
                name: "train".into(),
                values: (0..n as u64).map(|i| 50 + (i * 37) % 400).collect(),
            },
            Series {
                name: "val".into(),
                values: (0..n as u64).map(|i| 5 + (i * 13) % 40).collect(),
            },
        ],
        layout: Layout::Stacked,
    })
}

fn decode(bytes: &[u8]) -> image::RgbImage {
    image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
        .expect("the plot is a PNG")
        .to_rgb8()
}

fn colours(img: &image::RgbImage) -> HashSet<[u8; 3]> {
    img.pixels().map(|p| p.0).collect()
}

/// Every text node of the SVG, the document parsed as XML (a parse failure fails the test).
fn svg_texts(doc: &str) -> Vec<String> {
    let parsed = roxmltree::Document::parse(doc).expect("the SVG is well-formed XML");
    parsed
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .collect()
}

const BLUE: [u8; 3] = [0x4C, 0x78, 0xA8];
const ORANGE: [u8; 3] = [0xF5, 0x85, 0x18];

#[test]
fn png_has_the_asked_size_with_bars_of_each_split_and_text() {
    let chart = histogram(
        &["cat", "dog", "bird"],
        &[("train", &[120, 80, 40]), ("val", &[30, 20, 10])],
        Layout::Grouped,
    );
    let img = decode(&png(&chart, 800, 500).expect("a PNG is drawn"));
    assert_eq!(img.dimensions(), (800, 500));
    let seen = colours(&img);
    assert!(
        seen.len() >= 4,
        "a plot of one or two colours is blank: {seen:?}"
    );
    assert!(seen.contains(&BLUE), "no bar of the first split");
    assert!(seen.contains(&ORANGE), "no bar of the second split");

    // The tallest bar is the first split's "cat": its column holds more blue than "bird"'s.
    let blue_in = |x0: u32, x1: u32| {
        (x0..x1)
            .flat_map(|x| (0..500).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == BLUE)
            .count()
    };
    let (left, right) = (blue_in(0, 330), blue_in(560, 800));
    assert!(
        left > 2 * right,
        "cat's bar ({left} px) should dwarf bird's ({right} px)"
    );

    // Text comes from the embedded font: the title's corner holds dark anti-aliased pixels.
    let dark = (0..300)
        .flat_map(|x| (0..40).map(move |y| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 100))
        .count();
    assert!(dark > 50, "no title text drawn ({dark} dark pixels)");
}

#[test]
fn stacked_png_draws_both_splits() {
    let chart = histogram(
        &["a", "b"],
        &[("train", &[10, 20]), ("val", &[5, 5])],
        Layout::Stacked,
    );
    let seen = colours(&decode(&png(&chart, 400, 300).expect("drawn")));
    assert!(seen.contains(&BLUE) && seen.contains(&ORANGE));
}

#[test]
fn svg_is_xml_and_names_every_class_escaped() {
    let names = ["a<b", "R&D", "\"quoted\"", "it's", "plain", "x > y"];
    let values = [5u64, 4, 3, 2, 1, 9];
    let chart = histogram(&names, &[("all", &values)], Layout::Grouped);
    let doc = svg(&chart);
    assert!(doc.contains("R&amp;D") && doc.contains("a&lt;b"));
    let texts = svg_texts(&doc);
    for name in names {
        assert!(
            texts.iter().any(|t| t == name),
            "{name} missing from {texts:?}"
        );
    }
    assert!(texts.iter().any(|t| t == "Images per class"));
}

#[test]
fn comparison_writes_the_delta_of_each_pair() {
    let chart = Chart::Comparison(Comparison {
        title: "v1 → v2".into(),
        categories: vec!["cat".into(), "dog".into(), "fox".into(), "owl".into()],
        old: Series {
            name: "v1".into(),
            values: vec![1000, 100, 0, 50],
        },
        new: Series {
            name: "v2".into(),
            values: vec![1212, 91, 7, 50],
        },
    });
    let texts = svg_texts(&svg(&chart));
    for want in [
        "+212 (+21 %)",
        "\u{2212}9 (\u{2212}9 %)",
        "+7 (new)",
        "0 (0 %)",
        "v1",
        "v2",
    ] {
        assert!(
            texts.iter().any(|t| t == want),
            "{want} missing from {texts:?}"
        );
    }
    let img = decode(&png(&chart, 700, 400).expect("drawn"));
    let seen = colours(&img);
    // Old and new bars, and the green of a rise and red of a fall in the delta text.
    assert!(seen.contains(&[0xA6, 0xBD, 0xD7]) && seen.contains(&BLUE));
    let reddish = seen.iter().any(|c| c[0] > 150 && c[1] < 90 && c[2] < 90);
    let greenish = seen.iter().any(|c| c[1] > 100 && c[0] < 90 && c[2] < 90);
    assert!(reddish && greenish, "delta colours not drawn");
}

#[test]
fn comparison_with_many_classes_keeps_the_largest_changes() {
    let n = 300;
    let chart = Chart::Comparison(Comparison {
        title: "drift".into(),
        categories: (0..n).map(|i| format!("c{i}")).collect(),
        old: Series {
            name: "old".into(),
            values: vec![100; n],
        },
        new: Series {
            name: "new".into(),
            values: (0..n as u64)
                .map(|i| if i == 123 { 5000 } else { 100 + i % 3 })
                .collect(),
        },
    });
    let texts = svg_texts(&svg(&chart));
    assert!(texts
        .iter()
        .any(|t| t == "the 100 largest changes of 300 classes"));
    assert!(
        texts.iter().any(|t| t == "c123"),
        "the largest change is shown"
    );
    assert!(texts.iter().any(|t| t.starts_with("+4900")));
}

/// Right-anchored texts (the class labels of a horizontal chart) sorted by height: none closer
/// than a label's height to the next.
fn assert_labels_apart(doc: &str) {
    let parsed = roxmltree::Document::parse(doc).expect("xml");
    let mut ys: Vec<f64> = parsed
        .descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("text-anchor") == Some("end"))
        .filter(|n| n.attribute("transform").is_none())
        .filter_map(|n| n.attribute("y")?.parse().ok())
        .collect();
    ys.sort_by(f64::total_cmp);
    assert!(ys.len() > 10);
    for pair in ys.windows(2) {
        assert!(pair[1] - pair[0] >= 10.0, "labels overlap at y {pair:?}");
    }
}

#[test]
fn coco_sized_class_lists_are_one_labelled_row_each() {
    let chart = many(80);
    let doc = svg(&chart);
    let texts = svg_texts(&doc);
    for i in 0..80 {
        let name = format!("class_{i:04}");
        assert!(texts.contains(&name), "{name} not labelled");
    }
    assert_labels_apart(&doc);
    let (w, h) = default_size(&chart);
    let img = decode(&png(&chart, w, h).expect("drawn"));
    assert_eq!(img.dimensions(), (w, h));
    // Labels still apart when the caller's canvas is far too small for 80 rows.
    let small = decode(&png(&chart, 320, 240).expect("drawn"));
    assert!(colours(&small).contains(&BLUE));
}

#[test]
fn imagenet_sized_class_lists_draw_the_largest_hundred() {
    let chart = many(1000);
    let doc = svg(&chart);
    let texts = svg_texts(&doc);
    assert!(texts.iter().any(|t| t == "the 100 largest of 1000 classes"));
    let labels = texts.iter().filter(|t| t.starts_with("class_")).count();
    assert_eq!(labels, 100);
    assert_labels_apart(&doc);
    let (w, h) = default_size(&chart);
    assert!(h <= 4000 && w <= 1400);
    decode(&png(&chart, w, h).expect("drawn"));
}

#[test]
fn hostile_class_names_draw_in_svg_and_png() {
    let long = "ы".repeat(300);
    let weird = [
        "猫",
        "قطة",
        "🐈‍⬛",
        "",
        long.as_str(),
        "\u{0}\u{1b}[31mred",
        "\u{202E}reversed",
        "line\nbreak",
        "<script>&amp;",
        "\u{FFFF}\u{FFFE}",
        "tab\there",
        " ",
    ];
    for count in [weird.len(), 60] {
        let names: Vec<String> = (0..count)
            .map(|i| {
                format!(
                    "{}{}",
                    weird[i % weird.len()],
                    if i >= weird.len() {
                        i.to_string()
                    } else {
                        String::new()
                    }
                )
            })
            .collect();
        let values: Vec<u64> = (1..=count as u64).collect();
        for layout in [Layout::Stacked, Layout::Grouped] {
            let chart = Chart::Histogram(Histogram {
                title: format!("weird {}", weird.join(" ")),
                categories: names.clone(),
                series: vec![
                    Series {
                        name: "train\u{7}".into(),
                        values: values.clone(),
                    },
                    Series {
                        name: "".into(),
                        values: values.clone(),
                    },
                ],
                layout,
            });
            let texts = svg_texts(&svg(&chart));
            assert!(texts.iter().any(|t| t == "猫"));
            assert!(texts.iter().any(|t| t == "(empty name)"));
            assert!(texts
                .iter()
                .any(|t| t.starts_with("ыыы") && t.ends_with('…')));
            let (w, h) = default_size(&chart);
            decode(&png(&chart, w, h).expect("drawn"));
            decode(&png(&chart, 64, 64).expect("drawn, however small"));
        }
    }
}

#[test]
fn empty_and_zero_charts_draw_an_empty_state() {
    let empty = histogram(&[], &[("train", &[])], Layout::Grouped);
    assert!(svg_texts(&svg(&empty))
        .iter()
        .any(|t| t == "no classes to show"));
    assert!(colours(&decode(&png(&empty, 300, 200).expect("drawn"))).len() > 1);

    let zeros = histogram(&["a", "b"], &[("train", &[0, 0])], Layout::Stacked);
    assert!(svg_texts(&svg(&zeros))
        .iter()
        .any(|t| t == "all 2 classes have a count of 0"));
    decode(&png(&zeros, 300, 200).expect("drawn"));

    let no_series = histogram(&["a"], &[], Layout::Grouped);
    svg_texts(&svg(&no_series));

    let cmp = Chart::Comparison(Comparison {
        title: String::new(),
        categories: vec![],
        old: Series {
            name: "a".into(),
            values: vec![],
        },
        new: Series {
            name: "b".into(),
            values: vec![1, 2],
        },
    });
    assert!(svg_texts(&svg(&cmp))
        .iter()
        .any(|t| t == "no classes to compare"));
}

#[test]
fn huge_counts_and_short_series_are_drawn() {
    let chart = histogram(
        &["a", "b", "c"],
        &[("x", &[u64::MAX, 1]), ("y", &[u64::MAX])],
        Layout::Stacked,
    );
    decode(&png(&chart, 400, 300).expect("drawn"));
    svg_texts(&svg(&chart));
}

#[test]
fn sizes_outside_the_bounds_are_refused() {
    let chart = histogram(&["a"], &[("x", &[1])], Layout::Grouped);
    for (w, h) in [(0, 100), (100, 0), (20_000, 100), (10, 10)] {
        assert!(
            matches!(png(&chart, w, h), Err(PlotError::Size { .. })),
            "{w}x{h}"
        );
    }
}
