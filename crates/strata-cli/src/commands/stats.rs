//! `stats`: a version's class statistics (and, with `--against`, what changed) as a table, or
//! as the statistics JSON without its per-file rows; with `--plot FILE`, the class histogram (or
//! the comparison) drawn into an SVG or PNG file.

use std::path::Path;
use std::process::ExitCode;

use serde_json::{json, Map, Value};
use strata_core::{Error, Result};
use strata_engine::strata_insight::{
    charts, plot, ClassDelta, ClassStat, Dimensions, LabelSource, Stats,
};
use strata_engine::{StatsReport, StatsRequest};

use super::Ctx;
use crate::files::write_atomic;

/// Moved files listed in the human output; `--json` lists what the comparison kept.
const MOVES_SHOWN: usize = 20;
/// Unlabelled files named in the human output.
const UNLABELLED_SHOWN: usize = 5;

pub fn run(
    ctx: &mut Ctx<'_>,
    reference: &str,
    labels: &str,
    against: Option<&str>,
    plot_file: Option<&Path>,
) -> Result<ExitCode> {
    let labels = LabelSource::parse_choice(labels)?;
    // Refused before counting: a typo in the file name should not cost a cold stats run.
    let format = plot_file.map(PlotFormat::of).transpose()?;
    let req = StatsRequest {
        labels,
        against: against.map(str::to_string),
    };
    let report = ctx.engine.stats(reference, &req, &ctx.bars, ctx.cancel)?;
    let mut doc = document(&report, ctx.engine.take_warnings())?;
    if let (Some(file), Some(format)) = (plot_file, format) {
        draw(&report, file, format)?;
        if let Value::Object(map) = &mut doc {
            map.insert("plot".into(), file.display().to_string().into());
        }
    }
    ctx.out.emit(&doc, Vec::new(), || {
        let mut text = human(&report);
        if let Some(file) = plot_file {
            text.push_str(&format!("\nplot written to {}\n", file.display()));
        }
        text
    });
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Copy)]
enum PlotFormat {
    Svg,
    Png,
}

impl PlotFormat {
    /// By the file's extension: the one thing that says what the user wants to open it with.
    fn of(file: &Path) -> Result<Self> {
        let ext = file
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("svg") => Ok(Self::Svg),
            Some("png") => Ok(Self::Png),
            _ => Err(Error::invalid(format!(
                "--plot '{}': the file must end in .svg or .png (the format is chosen by the \
                 extension)",
                file.display()
            ))),
        }
    }
}

/// The class histogram (one stacked series per split), or with `--against` the two versions'
/// classes side by side with the change beside each pair, written atomically to `file`.
fn draw(r: &StatsReport, file: &Path, format: PlotFormat) -> Result<()> {
    let chart = match &r.against {
        None => charts::class_histogram(&format!("{}: instances per class", r.version), &r.stats),
        Some(a) => charts::class_comparison(
            &format!("{} against {}: instances per class", r.version, a.version),
            (&a.version, &a.classes),
            (&r.version, &r.stats.classes),
        ),
    };
    let bytes = match format {
        PlotFormat::Svg => plot::svg(&chart).into_bytes(),
        PlotFormat::Png => {
            let (w, h) = plot::default_size(&chart);
            plot::png(&chart, w, h).map_err(|e| Error::Internal(e.to_string()))?
        }
    };
    write_atomic(file, &bytes)
}

/// The `--json` document: the statistics without their per-file table (`files`, as large as
/// the version), plus the version, whether it came from the cache and the comparison.
fn document(r: &StatsReport, engine_warnings: Vec<String>) -> Result<Value> {
    let internal = |e: serde_json::Error| Error::Internal(e.to_string());
    let Value::Object(stats) = serde_json::to_value(&r.stats).map_err(internal)? else {
        return Err(Error::Internal("statistics are not a JSON object".into()));
    };
    let mut doc = Map::new();
    doc.insert("version".into(), r.version.clone().into());
    doc.insert("id".into(), r.id.clone().into());
    doc.insert("cached".into(), r.cached.into());
    for (k, v) in stats {
        if k != "files" {
            doc.insert(k, v);
        }
    }
    // Warnings of the engine's own (a fetch's, say) join the statistics' warnings, shaped alike.
    if let Some(Value::Array(list)) = doc.get_mut("warnings") {
        list.extend(
            engine_warnings
                .into_iter()
                .map(|m| json!({"file": "", "message": m})),
        );
    }
    if let Some(a) = &r.against {
        doc.insert("against".into(), a.version.clone().into());
        // delta, classes_gained, classes_lost, moved (at most MAX_MOVES), moved_count, summary;
        // the per-split deltas as `delta_splits`, beside the statistics' own `splits`.
        let Value::Object(c) = serde_json::to_value(&a.comparison).map_err(internal)? else {
            return Err(Error::Internal("a comparison is not a JSON object".into()));
        };
        for (k, v) in c {
            let k = if k == "splits" {
                "delta_splits".into()
            } else {
                k
            };
            doc.insert(k, v);
        }
    }
    Ok(Value::Object(doc))
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1} %", part as f64 * 100.0 / whole as f64)
    }
}

/// Right-aligned columns after a left-aligned first one, two spaces apart.
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width = |c: usize| {
        rows.iter()
            .filter_map(|r| r.get(c))
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..cols).map(width).collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c == 0 {
                line.push_str(&format!("{cell:<w$}", w = widths[0]));
            } else {
                line.push_str(&format!("  {cell:>w$}", w = widths[c]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn signed(n: i64) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

fn classes_table(s: &Stats) -> String {
    // Instances are the share's measure: for ImageFolder and CSV they are the image count.
    let total = s.totals.instances;
    let splits: Vec<&String> = s.splits.keys().collect();
    let mut header: Vec<String> = ["class", "images", "instances", "share"]
        .map(String::from)
        .to_vec();
    header.extend(splits.iter().map(|n| n.to_string()));
    let mut rows = vec![header];
    let in_split = |split: &str, c: &ClassStat| {
        s.splits
            .get(split)
            .and_then(|l| l.iter().find(|x| x.name == c.name))
            .map_or(0, |x| x.instances)
    };
    for c in &s.classes {
        let mut row = vec![
            c.name.clone(),
            c.images.to_string(),
            c.instances.to_string(),
            percent(c.instances, total),
        ];
        row.extend(splits.iter().map(|n| in_split(n, c).to_string()));
        rows.push(row);
    }
    let mut totals = vec![
        "total".into(),
        s.totals.labelled.to_string(),
        total.to_string(),
        String::new(),
    ];
    totals.extend(splits.iter().map(|n| {
        s.splits[*n]
            .iter()
            .map(|c| c.instances)
            .sum::<u64>()
            .to_string()
    }));
    rows.push(totals);
    let mut out = table(&rows);
    if !splits.is_empty() {
        out.push_str("(split columns count instances)\n");
    }
    out
}

fn dimensions_line(d: &Dimensions) -> String {
    let mut s = format!("image sizes: {} of {} images read", d.read, d.images);
    if let (Some(w), Some(h)) = (&d.width, &d.height) {
        s.push_str(&format!(
            "; width {}–{} (median {}), height {}–{} (median {})",
            w.min, w.max, w.median, h.min, h.max, h.median
        ));
    }
    if !d.formats.is_empty() {
        let formats: Vec<String> = d.formats.iter().map(|(f, n)| format!("{f} {n}")).collect();
        s.push_str(&format!("; {}", formats.join(", ")));
    }
    if d.unreadable > 0 {
        s.push_str(&format!("; {} unreadable", d.unreadable));
    }
    s.push('\n');
    s
}

fn deltas_table(deltas: &[ClassDelta]) -> String {
    let mut rows = vec![["class", "images", "instances"].map(String::from).to_vec()];
    rows.extend(
        deltas
            .iter()
            .map(|d| vec![d.name.clone(), signed(d.images), signed(d.instances)]),
    );
    table(&rows)
}

fn human(r: &StatsReport) -> String {
    let s = &r.stats;
    let mut out = format!(
        "{}: labels {}{}\n",
        r.version,
        s.source.format,
        if r.cached { " (cached)" } else { "" }
    );
    for f in s.source.files.iter().chain(&s.source.dirs) {
        out.push_str(&format!("  from {f}\n"));
    }
    if let Some(c) = &s.source.column {
        out.push_str(&format!("  column {c}\n"));
    }
    for e in &s.source.evidence {
        out.push_str(&format!("  evidence: {e}\n"));
    }
    out.push('\n');
    if !s.classes.is_empty() {
        out.push_str(&classes_table(s));
        out.push('\n');
    }
    let t = &s.totals;
    out.push_str(&format!(
        "{} images: {} labelled, {} unlabelled; {} instances\n",
        t.images, t.labelled, t.unlabelled, t.instances
    ));
    if s.unlabelled.count > 0 {
        let shown: Vec<&str> = s
            .unlabelled
            .files
            .iter()
            .take(UNLABELLED_SHOWN)
            .map(String::as_str)
            .collect();
        let more = s.unlabelled.count.saturating_sub(shown.len() as u64);
        out.push_str(&format!(
            "unlabelled: {}{}\n",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    if s.labels_without_images.count > 0 {
        out.push_str(&format!(
            "label files without images: {}\n",
            s.labels_without_images.count
        ));
    }
    if let Some(i) = &s.imbalance {
        out.push_str(&format!(
            "imbalance: {} has {}× the instances of {}\n",
            i.largest, i.ratio, i.smallest
        ));
    }
    if let Some(d) = &s.dimensions {
        out.push_str(&dimensions_line(d));
    }
    if let Some(a) = &r.against {
        let c = &a.comparison;
        out.push_str(&format!("\nagainst {}: {}\n", a.version, c.summary));
        if !c.delta.is_empty() {
            out.push_str(&deltas_table(&c.delta));
        }
        if !c.classes_gained.is_empty() {
            out.push_str(&format!("new classes: {}\n", c.classes_gained.join(", ")));
        }
        if !c.classes_lost.is_empty() {
            out.push_str(&format!("classes gone: {}\n", c.classes_lost.join(", ")));
        }
        if c.moved_count > 0 {
            out.push_str(&format!("{} files changed classes:\n", c.moved_count));
            for m in c.moved.iter().take(MOVES_SHOWN) {
                let from = if m.from.is_empty() {
                    "(none)".to_string()
                } else {
                    m.from.join("+")
                };
                let to = if m.to.is_empty() {
                    "(none)".to_string()
                } else {
                    m.to.join("+")
                };
                let was = m
                    .old_path
                    .as_deref()
                    .map(|p| format!(" (was {p})"))
                    .unwrap_or_default();
                out.push_str(&format!("  {}{was}: {from} → {to}\n", m.path));
            }
            let shown = c.moved.len().min(MOVES_SHOWN) as u64;
            if c.moved_count > shown {
                out.push_str(&format!("  and {} more\n", c.moved_count - shown));
            }
        }
    }
    if !s.warnings.is_empty() {
        out.push_str("\nwarnings:\n");
        for w in &s.warnings {
            let at = match (w.file.as_str(), w.line) {
                ("", _) => String::new(),
                (f, Some(l)) => format!("{f}:{l}: "),
                (f, None) => format!("{f}: "),
            };
            out.push_str(&format!("  {at}{}\n", w.message));
        }
    }
    out
}
