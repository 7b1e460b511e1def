//! The commands of a version's Insight section and of the file browser's previews: label
//! statistics with their histogram (and against another version, the comparison), a preview of
//! one file, and the thumbnails of a page of files. Statistics of a large label file are long
//! work: they run as a task, with progress and cancel.

use base64::Engine as _;
use strata_engine::strata_insight::charts::{class_comparison, class_histogram, split_order};
use strata_engine::strata_insight::{plot, LabelSource, Preview, PreviewOptions, Stats};
use strata_engine::{StatsReport, StatsRequest};
use tauri::ipc::Channel;
use tauri::State;

use crate::dto::{
    AgainstDto, ClassDto, DeltaDto, InsightDto, MoveDto, PreviewDto, ProgressDto, RegionDto,
    ThumbDto,
};
use crate::tasks::{long, read, AppState, Res};

/// Files that changed class, sent to the window at most (the count says how many in all).
const MOVES_SHOWN: usize = 200;
/// The longest side of a grid thumbnail, in pixels.
const THUMB_SIDE: u32 = 160;

/// Statistics of a version, detected or with the label source given as `--labels` spells it,
/// and against another version when asked.
#[tauri::command]
pub async fn version_insight(
    state: State<'_, AppState>,
    task: u32,
    reference: String,
    labels: Option<String>,
    against: Option<String>,
    on_progress: Channel<ProgressDto>,
) -> Res<InsightDto> {
    let labels = match labels.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(spelling) => LabelSource::parse_choice(spelling)?,
    };
    let request = StatsRequest { labels, against };
    let report = long(&state, task, on_progress, move |e, p, c| {
        e.stats(&reference, &request, p, c)
    })
    .await?;
    Ok(insight_dto(report))
}

/// A preview of one file of a version.
#[tauri::command]
pub async fn file_preview(
    state: State<'_, AppState>,
    reference: String,
    path: String,
) -> Res<PreviewDto> {
    let opts = PreviewOptions {
        max_side: 720,
        rows: 30,
    };
    let p = read(&state, move |e| {
        e.preview(
            &reference,
            &path,
            &opts,
            &strata_core::NoProgress,
            &strata_core::Cancel::new(),
        )
    })
    .await?;
    Ok(preview_dto(p))
}

/// Thumbnails of some files of a version (the grid's visible page), in the order asked.
#[tauri::command]
pub async fn file_thumbnails(
    state: State<'_, AppState>,
    reference: String,
    paths: Vec<String>,
) -> Res<Vec<ThumbDto>> {
    let made = read(&state, move |e| {
        e.thumbnails(
            &reference,
            &paths,
            THUMB_SIDE,
            &strata_core::NoProgress,
            &strata_core::Cancel::new(),
        )
    })
    .await?;
    Ok(made
        .into_iter()
        .map(|t| ThumbDto {
            path: t.path,
            png: t
                .png
                .map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
            error: t.error,
        })
        .collect())
}

/// How the label source is spelled for `--labels` (what the section's source field shows).
fn labels_spelling(stats: &Stats) -> String {
    let s = &stats.source;
    let first = |v: &Vec<String>| v.first().cloned().unwrap_or_default();
    match s.format.as_str() {
        "imagefolder" => "imagefolder".into(),
        "csv" => match &s.column {
            Some(c) => format!("csv:{}:{c}", first(&s.files)),
            None => format!("csv:{}", first(&s.files)),
        },
        "coco" => format!("coco:{}", first(&s.files)),
        "yolo" => format!("yolo:{}", first(&s.files)),
        "voc" => format!("voc:{}", first(&s.dirs)),
        _ => "auto".into(),
    }
}

fn sizes_words(stats: &Stats) -> Option<String> {
    let d = stats.dimensions.as_ref()?;
    let (w, h) = (d.width.as_ref()?, d.height.as_ref()?);
    let formats: Vec<String> = d.formats.iter().map(|(f, n)| format!("{n} {f}")).collect();
    Some(format!(
        "{} of {} images read: {}–{} × {}–{} px (median {} × {}); {}",
        d.read,
        d.images,
        w.min,
        w.max,
        h.min,
        h.max,
        w.median,
        h.median,
        formats.join(", ")
    ))
}

fn insight_dto(r: StatsReport) -> InsightDto {
    let stats = &r.stats;
    let split_names = split_order(stats);
    let classes = stats
        .classes
        .iter()
        .map(|c| ClassDto {
            name: c.name.clone(),
            images: c.images,
            instances: c.instances,
            splits: split_names
                .iter()
                .map(|s| {
                    stats
                        .splits
                        .get(s)
                        .and_then(|cs| cs.iter().find(|x| x.name == c.name))
                        .map_or(0, |x| x.instances)
                })
                .collect(),
        })
        .collect();
    let warnings = stats
        .warnings
        .iter()
        .map(|w| match w.line {
            Some(line) => format!("{}:{line}: {}", w.file, w.message),
            None if w.file.is_empty() => w.message.clone(),
            None => format!("{}: {}", w.file, w.message),
        })
        .collect();
    let (svg, regions) = plot::svg_with_regions(&class_histogram(
        &format!("Classes of {}", r.version),
        stats,
    ));
    let against = r.against.as_ref().map(|a| {
        let c = &a.comparison;
        let (svg, regions) = plot::svg_with_regions(&class_comparison(
            &format!("{} against {}", r.version, a.version),
            (&a.version, &a.classes),
            (&r.version, &stats.classes),
        ));
        AgainstDto {
            version: a.version.clone(),
            summary: c.summary.clone(),
            gained: c.classes_gained.clone(),
            lost: c.classes_lost.clone(),
            delta: c
                .delta
                .iter()
                .map(|d| DeltaDto {
                    name: d.name.clone(),
                    images: d.images,
                    instances: d.instances,
                })
                .collect(),
            moved: c
                .moved
                .iter()
                .take(MOVES_SHOWN)
                .map(|m| MoveDto {
                    path: m.path.clone(),
                    old_path: m.old_path.clone(),
                    from: m.from.join(", "),
                    to: m.to.join(", "),
                })
                .collect(),
            moved_count: c.moved_count,
            svg,
            regions: regions.into_iter().map(RegionDto::from).collect(),
        }
    });
    InsightDto {
        version: r.version.clone(),
        format: stats.source.format.clone(),
        labels: labels_spelling(stats),
        evidence: stats.source.evidence.clone(),
        classes,
        split_names,
        images: stats.totals.images,
        unlabelled: stats.totals.unlabelled,
        instances: stats.totals.instances,
        // Only past the warning ratio, as its words say: "dog has 1× the instances of cat"
        // was shown for two classes of 31 and 29 images.
        imbalance: stats
            .imbalance
            .as_ref()
            .filter(|i| i.ratio > strata_engine::strata_insight::IMBALANCE_WARNING)
            .map(|i| {
                format!(
                    "{} has {:.0}× the instances of {}",
                    i.largest, i.ratio, i.smallest
                )
            }),
        sizes: sizes_words(stats),
        warnings,
        svg,
        regions: regions.into_iter().map(RegionDto::from).collect(),
        cached: r.cached,
        against,
    }
}

fn preview_dto(p: Preview) -> PreviewDto {
    match p {
        Preview::Image(t) => PreviewDto::Image {
            png: base64::engine::general_purpose::STANDARD.encode(&t.png),
            width: t.width,
            height: t.height,
            source_width: t.source_width,
            source_height: t.source_height,
            format: format!("{:?}", t.format).to_uppercase(),
        },
        Preview::Table {
            columns,
            rows,
            truncated,
            notes,
            ..
        } => PreviewDto::Table {
            columns,
            rows,
            truncated,
            notes,
        },
        Preview::Text {
            text,
            truncated,
            notes,
        } => PreviewDto::Text {
            text,
            truncated,
            notes,
        },
        Preview::Unavailable { why } => PreviewDto::Unavailable { why },
    }
}
