//! Bar charts of class counts, drawn in Rust: an SVG string for the app, PNG bytes for
//! `strata stats --plot FILE.png`.
//!
//! The chart types know nothing of statistics: a caller turns its counts into a [`Histogram`]
//! (one [`Series`] per split) or a [`Comparison`] (two versions side by side). Text is drawn with
//! DejaVu Sans embedded in the binary, so a headless machine without fontconfig draws the same
//! PNG as a desktop. Layout adapts to the class count and the canvas: few classes get vertical
//! bars (labels turned upright when they do not fit), many get one horizontal row each, and past
//! [`MAX_BARS`] only the largest classes (or the largest changes) are drawn, saying so. Labels are
//! cut to fit with an ellipsis, and where rows are too thin for text only every k-th row is
//! labelled, so labels never overlap.

use std::cmp::Reverse;
use std::sync::Once;

use plotters::backend::{BitMapBackend, DrawingBackend, RGBPixel, SVGBackend};
use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, IntoDrawingArea};
use plotters::element::{PathElement, Rectangle};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontStyle, FontTransform, IntoFont, RGBColor, TextStyle};

/// The most bars (classes) one chart draws; ImageNet's 1000 classes become their largest 100.
pub const MAX_BARS: usize = 100;
/// The largest PNG side accepted: 16384² RGB is 768 MiB, the most a plot should ever cost.
pub const MAX_PNG_SIDE: u32 = 16384;
/// The smallest PNG side: below it not even a title fits.
pub const MIN_PNG_SIDE: u32 = 64;

const FONT_FAMILY: &str = "sans-serif";
static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// One named row of counts, one value per category (missing values count as 0, extra ones are
/// ignored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    pub name: String,
    pub values: Vec<u64>,
}

/// How several series share a category's bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One bar per category, the series stacked in it (the total reads off the bar's end).
    Stacked,
    /// One bar per series, side by side.
    Grouped,
}

/// Counts per category, e.g. images per class with one series per split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    pub title: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    pub layout: Layout,
}

/// Two series side by side per category with the change written beside each pair, e.g. a class
/// histogram of `v1` against `v2`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    pub title: String,
    pub categories: Vec<String>,
    pub old: Series,
    pub new: Series,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chart {
    Histogram(Histogram),
    Comparison(Comparison),
}

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The caller asked for a canvas too small to draw on or too large to hold; pick a size
    /// within the bounds.
    #[error("a plot of {width}×{height} pixels is not drawn: each side must be {MIN_PNG_SIDE} to {MAX_PNG_SIDE} pixels")]
    Size { width: u32, height: u32 },
    /// The drawing backend failed (a bug, not bad input: report it).
    #[error("drawing the plot failed: {0}")]
    Draw(String),
    #[error("encoding the plot as PNG failed: {0}")]
    Encode(String),
}

/// Where one category sits on the drawn chart, and its counts in words: the app lays a hover
/// area over each so a pointer on a bar shows its numbers. Coordinates are fractions of the
/// canvas (0 to 1), so they hold at whatever size the picture is shown.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// "dog: 51 (train 46 · val 5)", "cat: v1.0.0 4 → v1.0.1 2 (−2 (−50 %))".
    pub tip: String,
}

/// The chart as an SVG document, at [`default_size`]. Text is left as text (`font-family:
/// sans-serif`), so the app's renderer draws every script its fonts have.
pub fn svg(chart: &Chart) -> String {
    svg_with_regions(chart).0
}

/// [`svg`], and where each drawn category is (see [`Region`]).
pub fn svg_with_regions(chart: &Chart) -> (String, Vec<Region>) {
    register_font();
    let plan = Plan::new(chart);
    let size = plan.default_size();
    let mut out = String::new();
    let mut regions = Vec::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        // Writing into a String cannot fail and the font is registered above, so drawing has
        // no error to report; were one to happen, what was drawn is still a valid document.
        let _ = draw(&root, &plan, &mut regions).and_then(|()| root.present().map_err(err));
    }
    (out, regions)
}

/// The chart as an encoded PNG of exactly `width` × `height` pixels (RGB, white background).
pub fn png(chart: &Chart, width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
    let sides = MIN_PNG_SIDE..=MAX_PNG_SIDE;
    if !sides.contains(&width) || !sides.contains(&height) {
        return Err(PlotError::Size { width, height });
    }
    register_font();
    let plan = Plan::new(chart);
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let backend =
            BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut pixels, (width, height))
                .map_err(|e| PlotError::Draw(e.to_string()))?;
        let root = backend.into_drawing_area();
        draw(&root, &plan, &mut Vec::new()).map_err(PlotError::Draw)?;
        root.present().map_err(|e| PlotError::Draw(e.to_string()))?;
    }
    let mut out = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut out);
    image::ImageEncoder::write_image(
        encoder,
        &pixels,
        width,
        height,
        image::ExtendedColorType::Rgb8,
    )
    .map_err(|e| PlotError::Encode(e.to_string()))?;
    Ok(out)
}

/// The size [`svg`] draws at, and a good `--plot FILE.png` size when the user gives none: wide
/// enough for vertical bars when there are few classes, tall enough for one legible row per class
/// when there are many.
pub fn default_size(chart: &Chart) -> (u32, u32) {
    Plan::new(chart).default_size()
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded file is a valid font (a test draws with it); were it not, text would be
        // skipped by the fallbacks below rather than fail the chart.
        let _ = plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT);
    });
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A change between the old and new count, as written beside a pair.
struct Delta {
    /// "+212 (+12 %)"
    full: String,
    /// "+212"
    short: String,
    color: RGBColor,
}

/// What to draw, in drawing order, independent of the canvas.
struct Plan {
    title: String,
    /// Said under the title, e.g. that only the largest classes are drawn.
    note: Option<String>,
    labels: Vec<String>,
    legend: Vec<(String, RGBColor)>,
    /// `values[row][series]`.
    values: Vec<Vec<u64>>,
    stacked: bool,
    deltas: Option<Vec<Delta>>,
    /// Set when there is nothing to draw: the message of the empty-state chart.
    empty: Option<String>,
    /// Each row's counts in words, for the hover areas.
    tips: Vec<String>,
}

const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4C, 0x78, 0xA8),
    RGBColor(0xF5, 0x85, 0x18),
    RGBColor(0x54, 0xA2, 0x4B),
    RGBColor(0xE4, 0x57, 0x56),
    RGBColor(0x72, 0xB7, 0xB2),
    RGBColor(0xB2, 0x79, 0xA2),
    RGBColor(0xEE, 0xCA, 0x3B),
    RGBColor(0x9D, 0x75, 0x5D),
    RGBColor(0xFF, 0x9D, 0xA6),
    RGBColor(0x79, 0x70, 0x6E),
];
const OLD_COLOR: RGBColor = RGBColor(0xA6, 0xBD, 0xD7);
const NEW_COLOR: RGBColor = RGBColor(0x4C, 0x78, 0xA8);
const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED: RGBColor = RGBColor(0x66, 0x66, 0x66);
const GRID: RGBColor = RGBColor(0xE3, 0xE3, 0xE3);
const AXIS: RGBColor = RGBColor(0x88, 0x88, 0x88);
const UP: RGBColor = RGBColor(0x2E, 0x7D, 0x32);
const DOWN: RGBColor = RGBColor(0xC6, 0x28, 0x28);

/// Above this many categories bars are horizontal (one labelled row each) whatever the width.
const VERTICAL_MAX: usize = 25;
const LABEL_PX: f64 = 13.0;
/// Tick labels, the legend, notes.
const SMALL_PX: f64 = 12.0;
/// The change written beside a pair.
const DELTA_PX: f64 = 11.0;
/// Below this row height a label would touch its neighbours.
const MIN_LABEL_ROW: f64 = 12.0;
/// Labels are cut to this many characters before measuring (a 300-character class name).
const LABEL_CHARS: usize = 60;

impl Plan {
    fn new(chart: &Chart) -> Self {
        match chart {
            Chart::Histogram(h) => Self::histogram(h),
            Chart::Comparison(c) => Self::comparison(c),
        }
    }

    fn histogram(h: &Histogram) -> Self {
        let n = h.categories.len();
        let value = |s: &Series, row: usize| s.values.get(row).copied().unwrap_or(0);
        let total = |row: usize| {
            h.series
                .iter()
                .fold(0u64, |t, s| t.saturating_add(value(s, row)))
        };
        let mut rows: Vec<usize> = (0..n).collect();
        let mut note = None;
        if n > MAX_BARS {
            rows.sort_by_key(|&r| (Reverse(total(r)), r));
            rows.truncate(MAX_BARS);
            note = Some(format!("the {MAX_BARS} largest of {n} classes"));
        }
        let empty = if n == 0 || h.series.is_empty() {
            Some("no classes to show".to_string())
        } else if (0..n).all(|r| total(r) == 0) {
            Some(format!("all {n} classes have a count of 0"))
        } else {
            None
        };
        let tips = rows
            .iter()
            .map(|&r| {
                let name = label(&h.categories[r]);
                if h.series.len() <= 1 {
                    return format!("{name}: {}", total(r));
                }
                let parts: Vec<String> = h
                    .series
                    .iter()
                    .map(|s| format!("{} {}", clean(&s.name, LABEL_CHARS), value(s, r)))
                    .collect();
                format!("{name}: {} ({})", total(r), parts.join(" · "))
            })
            .collect();
        Plan {
            tips,
            title: clean(&h.title, 200),
            note,
            labels: rows.iter().map(|&r| label(&h.categories[r])).collect(),
            legend: h
                .series
                .iter()
                .enumerate()
                .map(|(i, s)| (clean(&s.name, LABEL_CHARS), PALETTE[i % PALETTE.len()]))
                .collect(),
            values: rows
                .iter()
                .map(|&r| h.series.iter().map(|s| value(s, r)).collect())
                .collect(),
            stacked: h.layout == Layout::Stacked,
            deltas: None,
            empty,
        }
    }

    fn comparison(c: &Comparison) -> Self {
        let n = c.categories.len();
        let pair = |row: usize| {
            (
                c.old.values.get(row).copied().unwrap_or(0),
                c.new.values.get(row).copied().unwrap_or(0),
            )
        };
        let mut rows: Vec<usize> = (0..n).collect();
        let mut note = None;
        if n > MAX_BARS {
            rows.sort_by_key(|&r| {
                let (old, new) = pair(r);
                (Reverse(old.abs_diff(new)), r)
            });
            rows.truncate(MAX_BARS);
            note = Some(format!("the {MAX_BARS} largest changes of {n} classes"));
        }
        let empty = if n == 0 {
            Some("no classes to compare".to_string())
        } else if (0..n).all(|r| pair(r) == (0, 0)) {
            Some(format!("all {n} classes have a count of 0 in both"))
        } else {
            None
        };
        let (old_name, new_name) = (
            clean(&c.old.name, LABEL_CHARS),
            clean(&c.new.name, LABEL_CHARS),
        );
        let tips = rows
            .iter()
            .map(|&r| {
                let (old, new) = pair(r);
                format!(
                    "{}: {old_name} {old} → {new_name} {new} ({})",
                    label(&c.categories[r]),
                    delta(old, new).full
                )
            })
            .collect();
        Plan {
            tips,
            title: clean(&c.title, 200),
            note,
            labels: rows.iter().map(|&r| label(&c.categories[r])).collect(),
            legend: vec![
                (clean(&c.old.name, LABEL_CHARS), OLD_COLOR),
                (clean(&c.new.name, LABEL_CHARS), NEW_COLOR),
            ],
            values: rows
                .iter()
                .map(|&r| {
                    let (old, new) = pair(r);
                    vec![old, new]
                })
                .collect(),
            stacked: false,
            deltas: Some(
                rows.iter()
                    .map(|&r| {
                        let (old, new) = pair(r);
                        delta(old, new)
                    })
                    .collect(),
            ),
            empty,
        }
    }

    fn series_count(&self) -> usize {
        self.legend.len().max(1)
    }

    /// Bars sharing one category's slot (stacked series share one bar).
    fn bars_per_slot(&self) -> usize {
        if self.stacked {
            1
        } else {
            self.series_count()
        }
    }

    /// The narrowest category slot of a vertical chart that still reads well.
    fn min_slot(&self) -> f64 {
        if self.deltas.is_some() {
            56.0
        } else {
            (8 * self.bars_per_slot() + 8).max(18) as f64
        }
    }

    /// The row height a horizontal chart wants per category.
    fn row_px(&self) -> u32 {
        if self.deltas.is_some() {
            22
        } else {
            (5 * self.bars_per_slot() as u32 + 8).max(18)
        }
    }

    fn default_size(&self) -> (u32, u32) {
        let n = self.labels.len();
        if self.empty.is_some() {
            (640, 360)
        } else if n <= VERTICAL_MAX {
            let slot = self.min_slot().max(40.0) as u32;
            ((160 + n as u32 * slot).clamp(520, 1400), 460)
        } else {
            (960, (150 + n as u32 * self.row_px()).clamp(320, 4000))
        }
    }

    fn max_value(&self) -> u64 {
        self.values
            .iter()
            .map(|row| {
                if self.stacked {
                    row.iter().fold(0u64, |t, v| t.saturating_add(*v))
                } else {
                    row.iter().copied().max().unwrap_or(0)
                }
            })
            .max()
            .unwrap_or(0)
    }
}

fn delta(old: u64, new: u64) -> Delta {
    let d = i128::from(new) - i128::from(old);
    let short = signed(d);
    let full = if old == 0 {
        if new == 0 {
            short.clone()
        } else {
            format!("{short} (new)")
        }
    } else {
        let pct = d as f64 * 100.0 / old as f64;
        let shown = if pct != 0.0 && pct.abs() < 1.0 {
            format!("{:.1}", pct.abs())
        } else {
            format!("{:.0}", pct.abs())
        };
        let sign = match d.signum() {
            1 => "+",
            -1 => "\u{2212}",
            _ => "",
        };
        format!("{short} ({sign}{shown} %)")
    };
    let color = match d.signum() {
        1 => UP,
        -1 => DOWN,
        _ => MUTED,
    };
    Delta { full, short, color }
}

/// `+212`, `−9` (a real minus sign), `0`.
fn signed(d: i128) -> String {
    match d.signum() {
        1 => format!("+{d}"),
        -1 => format!("\u{2212}{}", d.unsigned_abs()),
        _ => "0".to_string(),
    }
}

/// A class name as it can be drawn: control and bidi-override characters (which would make the
/// SVG invalid XML or flip the text around them) shown as U+FFFD, cut to [`LABEL_CHARS`], and a
/// visible stand-in for the empty name.
fn label(name: &str) -> String {
    let shown = clean(name, LABEL_CHARS);
    if shown.trim().is_empty() {
        "(empty name)".to_string()
    } else {
        shown
    }
}

fn clean(text: &str, max_chars: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max_chars)
        .map(|c| {
            let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            let not_xml = matches!(c, '\u{FFFE}' | '\u{FFFF}');
            if c.is_control() || bidi || not_xml {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    if text.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

/// A step of 1, 2 or 5 × 10ⁿ giving about five grid lines up to `max`.
fn tick_step(max: u64) -> u64 {
    let raw = (max as f64 / 5.0).max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    (step as u64).max(1)
}

/// The tick step and the axis end (a whole number of steps at or above `max`, or `max` itself
/// where that would overflow).
fn axis(max: u64) -> (u64, u64) {
    let max = max.max(1);
    let step = tick_step(max);
    (step, max.div_ceil(step).checked_mul(step).unwrap_or(max))
}

/// `950`, `1.2k`, `34k`, `1.5M`: tick labels stay short whatever the counts.
fn compact(v: u64) -> String {
    let units = [
        (1_000_000_000_000u64, "T"),
        (1_000_000_000, "G"),
        (1_000_000, "M"),
        (1_000, "k"),
    ];
    for (unit, suffix) in units {
        if v >= unit {
            let x = v as f64 / unit as f64;
            return if x < 10.0 && !v.is_multiple_of(unit) {
                format!("{x:.1}{suffix}")
            } else {
                format!("{:.0}{suffix}", x.floor())
            };
        }
    }
    v.to_string()
}

/// Text drawing on one area, with measuring that falls back to an estimate instead of failing.
struct Pen<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
}

impl<DB: DrawingBackend> Pen<'_, DB> {
    fn style(size: f64, color: &RGBColor) -> TextStyle<'_> {
        TextStyle::from((FONT_FAMILY, size).into_font()).color(color)
    }

    fn width(&self, text: &str, size: f64) -> f64 {
        let style = Self::style(size, &TEXT);
        match self.area.estimate_text_size(text, &style) {
            Ok((w, _)) => f64::from(w),
            Err(_) => text.chars().count() as f64 * size * 0.6,
        }
    }

    /// `text` cut with an ellipsis so it is at most `max` pixels wide.
    fn fit(&self, text: &str, size: f64, max: f64) -> String {
        if self.width(text, size) <= max {
            return text.to_string();
        }
        let chars: Vec<char> = text.chars().collect();
        let (mut lo, mut hi) = (0usize, chars.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let candidate: String = chars[..mid].iter().chain(['…'].iter()).collect();
            if self.width(&candidate, size) <= max {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if lo == 0 {
            // Not even one character fits: draw nothing rather than overlap.
            return String::new();
        }
        chars[..lo].iter().chain(['…'].iter()).collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn text(
        &self,
        text: &str,
        size: f64,
        color: &RGBColor,
        (x, y): (f64, f64),
        h: HPos,
        v: VPos,
        upright: bool,
    ) -> Result<(), String> {
        if text.is_empty() {
            return Ok(());
        }
        let mut style = Self::style(size, color).pos(Pos::new(h, v));
        if upright {
            style = style.transform(FontTransform::Rotate270);
        }
        self.area
            .draw_text(text, &style, (x.round() as i32, y.round() as i32))
            .map_err(err)
    }
}

fn rect<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x0, y0): (f64, f64),
    (x1, y1): (f64, f64),
    color: &RGBColor,
) -> Result<(), String> {
    let (a, b) = (
        (x0.round() as i32, y0.round() as i32),
        (x1.round() as i32, y1.round() as i32),
    );
    if a.0 == b.0 || a.1 == b.1 {
        return Ok(());
    }
    area.draw(&Rectangle::new([a, b], color.filled()))
        .map_err(err)
}

fn line<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x0, y0): (f64, f64),
    (x1, y1): (f64, f64),
    color: &RGBColor,
) -> Result<(), String> {
    let points = vec![
        (x0.round() as i32, y0.round() as i32),
        (x1.round() as i32, y1.round() as i32),
    ];
    area.draw(&PathElement::new(points, color.stroke_width(1)))
        .map_err(err)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plan: &Plan,
    regions: &mut Vec<Region>,
) -> Result<(), String> {
    root.fill(&RGBColor(255, 255, 255)).map_err(err)?;
    let pen = Pen { area: root };
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (f64::from(w), f64::from(h));
    let pad = 12.0;

    // Header: title, then the note, then the legend, each on its own line.
    let title_px = (h / 20.0).clamp(12.0, 20.0);
    let title = pen.fit(&plan.title, title_px, w - 2.0 * pad);
    pen.text(
        &title,
        title_px,
        &TEXT,
        (pad, pad),
        HPos::Left,
        VPos::Top,
        false,
    )?;
    let mut top = pad + title_px * 1.5;
    if let Some(note) = &plan.note {
        let note = pen.fit(note, SMALL_PX, w - 2.0 * pad);
        pen.text(
            &note,
            SMALL_PX,
            &MUTED,
            (pad, top),
            HPos::Left,
            VPos::Top,
            false,
        )?;
        top += 18.0;
    }
    if plan.legend.len() > 1 || plan.deltas.is_some() {
        let mut x = pad;
        for (name, color) in &plan.legend {
            let name = pen.fit(name, SMALL_PX, (w - x - pad - 16.0).min(200.0));
            if name.is_empty() {
                break;
            }
            rect(root, (x, top + 1.0), (x + 10.0, top + 11.0), color)?;
            pen.text(
                &name,
                SMALL_PX,
                &TEXT,
                (x + 14.0, top),
                HPos::Left,
                VPos::Top,
                false,
            )?;
            x += 14.0 + pen.width(&name, SMALL_PX) + 16.0;
        }
        top += 18.0;
    }
    top += 6.0;

    if let Some(message) = &plan.empty {
        let (x0, y0, x1, y1) = (pad, top, w - pad, h - pad);
        if y1 > y0 + 4.0 {
            for (a, b) in [
                ((x0, y0), (x1, y0)),
                ((x1, y0), (x1, y1)),
                ((x1, y1), (x0, y1)),
                ((x0, y1), (x0, y0)),
            ] {
                line(root, a, b, &GRID)?;
            }
        }
        let message = pen.fit(message, 14.0, w - 4.0 * pad);
        let centre = ((x0 + x1) / 2.0, (y0.min(h) + y1.max(y0)) / 2.0);
        return pen.text(
            &message,
            14.0,
            &MUTED,
            centre,
            HPos::Center,
            VPos::Center,
            false,
        );
    }

    let n = plan.labels.len();
    let plot_w = w - 2.0 * pad - 60.0;
    let vertical = n <= VERTICAL_MAX && plot_w / n as f64 >= plan.min_slot();
    let area = (pad, top, w - pad, h - pad);
    let mut slots = Vec::with_capacity(n);
    if vertical {
        draw_vertical(root, &pen, plan, area, &mut slots)?;
    } else {
        draw_horizontal(root, &pen, plan, area, &mut slots)?;
    }
    regions.extend(
        slots
            .into_iter()
            .zip(&plan.tips)
            .map(|((x, y, rw, rh), tip)| Region {
                x: x / w,
                y: y / h,
                w: rw / w,
                h: rh / h,
                tip: tip.clone(),
            }),
    );
    Ok(())
}

/// Bars going up, one slot per category, the value axis on the left.
/// Each category's slot goes into `slots` as (x, y, width, height) in pixels.
fn draw_vertical<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    pen: &Pen<DB>,
    plan: &Plan,
    (left, top, right, bottom): (f64, f64, f64, f64),
    slots: &mut Vec<(f64, f64, f64, f64)>,
) -> Result<(), String> {
    let n = plan.labels.len();
    let (step, axis_max) = axis(plan.max_value());
    let tick_w = pen.width(&compact(axis_max), SMALL_PX) + 8.0;
    let x0 = left + tick_w;
    let slot = (right - x0) / n as f64;

    // Labels lie flat under their bar when all fit its slot, else they stand upright, cut to a
    // third of the height.
    let flat = plan
        .labels
        .iter()
        .all(|l| pen.width(l, LABEL_PX) <= slot - 4.0);
    let label_room = if flat {
        LABEL_PX + 8.0
    } else {
        let longest = plan
            .labels
            .iter()
            .map(|l| pen.width(l, LABEL_PX))
            .fold(0.0, f64::max);
        (longest + 8.0).min((bottom - top) / 3.0)
    };
    // Room above the tallest bar for the change written over each pair.
    let head = if plan.deltas.is_some() { 16.0 } else { 4.0 };
    let y_axis = bottom - label_room;
    let y_top = top + head;
    if y_axis - y_top < 20.0 {
        return pen.text(
            "canvas too small",
            SMALL_PX,
            &MUTED,
            (left, top),
            HPos::Left,
            VPos::Top,
            false,
        );
    }
    let y_of = |v: u64| y_axis - (v as f64 / axis_max as f64) * (y_axis - y_top);

    let mut t = 0;
    while t <= axis_max {
        let y = y_of(t);
        line(root, (x0, y), (right, y), &GRID)?;
        pen.text(
            &compact(t),
            SMALL_PX,
            &MUTED,
            (x0 - 4.0, y),
            HPos::Right,
            VPos::Center,
            false,
        )?;
        let Some(next) = t.checked_add(step) else {
            break;
        };
        t = next;
    }

    let bars = plan.bars_per_slot();
    let inner = slot * if bars > 1 { 0.84 } else { 0.7 };
    let bar_w = inner / bars as f64;
    let label_every = if flat {
        1
    } else {
        (MIN_LABEL_ROW / slot).ceil().max(1.0) as usize
    };
    for (row, values) in plan.values.iter().enumerate() {
        let sx = x0 + slot * row as f64;
        let bx = sx + (slot - inner) / 2.0;
        slots.push((sx, top, slot, bottom - top));
        if plan.stacked {
            let mut base = 0u64;
            for (k, v) in values.iter().enumerate() {
                let end = base.saturating_add(*v);
                rect(
                    root,
                    (bx, y_of(end)),
                    (bx + bar_w, y_of(base)),
                    &plan.legend[k].1,
                )?;
                base = end;
            }
        } else {
            for (k, v) in values.iter().enumerate() {
                let x = bx + bar_w * k as f64;
                let gap = if bars > 1 { 1.0 } else { 0.0 };
                rect(
                    root,
                    (x, y_of(*v)),
                    (x + bar_w - gap, y_axis),
                    &plan.legend[k].1,
                )?;
            }
        }
        if let Some(deltas) = &plan.deltas {
            let d = &deltas[row];
            let peak = values.iter().copied().max().unwrap_or(0);
            let text = if pen.width(&d.full, DELTA_PX) <= slot - 2.0 {
                &d.full
            } else {
                &d.short
            };
            let text = pen.fit(text, DELTA_PX, slot - 2.0);
            let at = (sx + slot / 2.0, y_of(peak) - 3.0);
            pen.text(
                &text,
                DELTA_PX,
                &d.color,
                at,
                HPos::Center,
                VPos::Bottom,
                false,
            )?;
        }
        if row % label_every == 0 {
            let cx = sx + slot / 2.0;
            if flat {
                let at = (cx, y_axis + 5.0);
                pen.text(
                    &plan.labels[row],
                    LABEL_PX,
                    &TEXT,
                    at,
                    HPos::Center,
                    VPos::Top,
                    false,
                )?;
            } else {
                let shown = pen.fit(&plan.labels[row], LABEL_PX, label_room - 8.0);
                let at = (cx, y_axis + 5.0);
                pen.text(&shown, LABEL_PX, &TEXT, at, HPos::Right, VPos::Center, true)?;
            }
        }
    }
    line(root, (x0, y_axis), (right, y_axis), &AXIS)
}

/// One row per category, bars going right, labels in a column on the left, the value axis below.
/// Each category's row goes into `slots` as (x, y, width, height) in pixels.
fn draw_horizontal<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    pen: &Pen<DB>,
    plan: &Plan,
    (left, top, right, bottom): (f64, f64, f64, f64),
    slots: &mut Vec<(f64, f64, f64, f64)>,
) -> Result<(), String> {
    let n = plan.labels.len();
    let (step, axis_max) = axis(plan.max_value());
    let axis_room = 20.0;
    let y1 = bottom - axis_room;
    let row_h = (y1 - top) / n as f64;
    if row_h <= 0.5 {
        return pen.text(
            "canvas too small",
            SMALL_PX,
            &MUTED,
            (left, top),
            HPos::Left,
            VPos::Top,
            false,
        );
    }
    let label_px = (row_h * 0.8).clamp(9.0, LABEL_PX);
    let label_every = (MIN_LABEL_ROW.min(label_px + 1.0) / row_h).ceil().max(1.0) as usize;
    let longest = plan
        .labels
        .iter()
        .map(|l| pen.width(l, label_px))
        .fold(0.0, f64::max);
    let label_w = (longest + 8.0).min((right - left) * 0.35).min(240.0);
    let x0 = left + label_w;
    // Room right of the longest bar for the change written beside each pair.
    let tail = match &plan.deltas {
        Some(deltas) => {
            deltas
                .iter()
                .map(|d| pen.width(&d.full, DELTA_PX))
                .fold(0.0, f64::max)
                .min((right - x0) * 0.3)
                + 8.0
        }
        None => 8.0,
    };
    let x1 = right - tail;
    if x1 - x0 < 20.0 {
        return pen.text(
            "canvas too small",
            SMALL_PX,
            &MUTED,
            (left, top),
            HPos::Left,
            VPos::Top,
            false,
        );
    }
    let x_of = |v: u64| x0 + (v as f64 / axis_max as f64) * (x1 - x0);

    let tick_px = SMALL_PX;
    let mut t = 0;
    let mut last_label_end = f64::MIN;
    while t <= axis_max {
        let x = x_of(t);
        line(root, (x, top), (x, y1), &GRID)?;
        let text = compact(t);
        let half = pen.width(&text, tick_px) / 2.0;
        // Tick labels on a narrow canvas would run into each other: skip those that would.
        if x - half > last_label_end + 4.0 {
            pen.text(
                &text,
                tick_px,
                &MUTED,
                (x, y1 + 4.0),
                HPos::Center,
                VPos::Top,
                false,
            )?;
            last_label_end = x + half;
        }
        let Some(next) = t.checked_add(step) else {
            break;
        };
        t = next;
    }

    let bars = plan.bars_per_slot();
    let inner = row_h * if bars > 1 { 0.84 } else { 0.72 };
    let bar_h = inner / bars as f64;
    for (row, values) in plan.values.iter().enumerate() {
        let sy = top + row_h * row as f64;
        let by = sy + (row_h - inner) / 2.0;
        slots.push((left, sy, right - left, row_h));
        if plan.stacked {
            let mut base = 0u64;
            for (k, v) in values.iter().enumerate() {
                let end = base.saturating_add(*v);
                rect(
                    root,
                    (x_of(base), by),
                    (x_of(end), by + bar_h),
                    &plan.legend[k].1,
                )?;
                base = end;
            }
        } else {
            for (k, v) in values.iter().enumerate() {
                let y = by + bar_h * k as f64;
                let gap = if bars > 1 && bar_h > 3.0 { 1.0 } else { 0.0 };
                rect(
                    root,
                    (x0, y),
                    (x_of(*v), y + bar_h - gap),
                    &plan.legend[k].1,
                )?;
            }
        }
        if row % label_every == 0 {
            let cy = sy + row_h / 2.0;
            let shown = pen.fit(&plan.labels[row], label_px, label_w - 8.0);
            pen.text(
                &shown,
                label_px,
                &TEXT,
                (x0 - 5.0, cy),
                HPos::Right,
                VPos::Center,
                false,
            )?;
            if let Some(deltas) = &plan.deltas {
                let d = &deltas[row];
                let peak = values.iter().copied().max().unwrap_or(0);
                let room = right - x_of(peak) - 4.0;
                let text = if pen.width(&d.full, DELTA_PX) <= room {
                    &d.full
                } else {
                    &d.short
                };
                let text = pen.fit(text, DELTA_PX, room);
                let at = (x_of(peak) + 4.0, cy);
                pen.text(
                    &text,
                    DELTA_PX.min(label_px),
                    &d.color,
                    at,
                    HPos::Left,
                    VPos::Center,
                    false,
                )?;
            }
        }
    }
    line(root, (x0, top), (x0, y1), &AXIS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(n: usize) -> Chart {
        Chart::Histogram(Histogram {
            title: "t".into(),
            categories: (0..n).map(|i| format!("class{i}")).collect(),
            series: vec![
                Series {
                    name: "train".into(),
                    values: (0..n as u64).map(|i| i + 1).collect(),
                },
                Series {
                    name: "val".into(),
                    values: vec![1; n],
                },
            ],
            layout: Layout::Stacked,
        })
    }

    #[test]
    fn every_drawn_class_has_a_hover_area_with_its_counts() {
        for n in [3, 60] {
            let (_, regions) = svg_with_regions(&hist(n));
            assert_eq!(regions.len(), n);
            assert_eq!(regions[1].tip, "class1: 3 (train 2 · val 1)");
            for r in &regions {
                assert!(r.x >= 0.0 && r.y >= 0.0 && r.w > 0.0 && r.h > 0.0, "{r:?}");
                assert!(r.x + r.w <= 1.0 + 1e-9 && r.y + r.h <= 1.0 + 1e-9, "{r:?}");
            }
            // Areas do not overlap: one pointer position, one class.
            for pair in regions.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                assert!(
                    a.x + a.w <= b.x + 1e-9 || a.y + a.h <= b.y + 1e-9,
                    "{a:?} {b:?}"
                );
            }
        }
        let cmp = Chart::Comparison(Comparison {
            title: "c".into(),
            categories: vec!["cat".into()],
            old: Series {
                name: "1.0.0".into(),
                values: vec![4],
            },
            new: Series {
                name: "1.0.1".into(),
                values: vec![2],
            },
        });
        let (_, regions) = svg_with_regions(&cmp);
        assert_eq!(
            regions[0].tip,
            "cat: 1.0.0 4 → 1.0.1 2 (\u{2212}2 (\u{2212}50 %))"
        );
        // Past MAX_BARS only the drawn classes get an area.
        assert_eq!(svg_with_regions(&hist(MAX_BARS + 20)).1.len(), MAX_BARS);
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(tick_step(5), 1);
        assert_eq!(tick_step(100), 20);
        assert_eq!(tick_step(1234), 500);
        assert_eq!(tick_step(u64::MAX), tick_step(u64::MAX));
    }

    #[test]
    fn deltas_read_as_a_person_writes_them() {
        assert_eq!(delta(1000, 1212).full, "+212 (+21 %)");
        assert_eq!(delta(100, 91).full, "\u{2212}9 (\u{2212}9 %)");
        assert_eq!(delta(0, 5).full, "+5 (new)");
        assert_eq!(delta(7, 7).full, "0 (0 %)");
        assert_eq!(delta(1000, 1003).full, "+3 (+0.3 %)");
        assert_eq!(delta(u64::MAX, 0).short, format!("\u{2212}{}", u64::MAX));
    }

    #[test]
    fn labels_lose_control_and_bidi_characters() {
        assert_eq!(label(""), "(empty name)");
        assert_eq!(label("a\u{0}b\u{202E}c"), "a\u{FFFD}b\u{FFFD}c");
        assert_eq!(label(&"x".repeat(300)).chars().count(), LABEL_CHARS + 1);
    }

    #[test]
    fn compact_numbers() {
        assert_eq!(compact(950), "950");
        assert_eq!(compact(1200), "1.2k");
        assert_eq!(compact(34_000), "34k");
        assert_eq!(compact(2_000_000), "2M");
    }
}
