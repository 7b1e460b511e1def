//! `preview`: a look at one file of a version (a thumbnail, the first rows of a table, the head of
//! a text), or at the whole version's preview set: what there is to look at, or with `--out DIR`
//! every image's thumbnail written into a folder.
//!
//! A file that exists but has no preview (a truncated JPEG, an empty file, binary data) is an
//! answer, not a failure: the reason is printed and the command succeeds. Only when `--out FILE`
//! asked for a thumbnail that cannot be made does the command fail, since the file asked for was
//! not written.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde_json::{json, Map, Value};
use strata_core::{Error, Progress, Result};
use strata_engine::strata_insight::preview::ImageKind;
use strata_engine::strata_insight::{kind_by_name, NamedKind, Preview, PreviewOptions, Thumbnail};

use super::Ctx;
use crate::args::PreviewArgs;
use crate::files::{write_atomic, OutFolder};
use crate::output::bytes;

/// Thumbnails asked of the engine at once: its limit per call (a page of the app's grid).
const CHUNK: usize = 500;
/// Files of each kind named in the human summary of a preview set.
const NAMED_SHOWN: usize = 5;
/// Files of each kind listed in the JSON summary of a preview set.
const NAMED_LISTED: usize = 100;
/// Failed thumbnails named in the human output of `--out DIR`.
const FAILED_SHOWN: usize = 20;
/// A table cell is cut to this many characters on a terminal (the JSON has it whole).
const CELL_CHARS: usize = 40;

pub fn run(ctx: &mut Ctx<'_>, args: PreviewArgs) -> Result<ExitCode> {
    match args.path.as_deref() {
        Some(path) => one(ctx, &args, path),
        None => match args.out.as_deref() {
            Some(dir) => write_set(ctx, &args, dir),
            None => summary(ctx, &args.reference),
        },
    }
}

/// The preview of one file.
fn one(ctx: &mut Ctx<'_>, args: &PreviewArgs, path: &str) -> Result<ExitCode> {
    if let Some(out) = &args.out {
        let png = out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"));
        if !png {
            return Err(Error::invalid(format!(
                "--out '{}': a thumbnail is written as PNG, so the file must end in .png",
                out.display()
            )));
        }
    }
    let opts = PreviewOptions {
        max_side: args.size,
        rows: args.rows as usize,
    };
    let version = ctx.engine.resolve(&args.reference)?.label();
    let preview = ctx
        .engine
        .preview(&args.reference, path, &opts, &ctx.bars, ctx.cancel)?;
    let internal = |e: serde_json::Error| Error::Internal(e.to_string());
    let Value::Object(fields) = serde_json::to_value(&preview).map_err(internal)? else {
        return Err(Error::Internal("a preview is not a JSON object".into()));
    };
    let mut doc = Map::new();
    doc.insert("version".into(), version.clone().into());
    doc.insert("path".into(), path.into());
    doc.extend(fields);
    let human = match (&preview, &args.out) {
        (Preview::Image(t), Some(out)) => {
            write_atomic(out, &t.png)?;
            // The bytes are in the file; the document says where instead of repeating them.
            doc.remove("png");
            doc.insert("out".into(), out.display().to_string().into());
            format!(
                "{}\nwrote {} ({})\n",
                image_line(path, t),
                out.display(),
                bytes(t.png.len() as u64)
            )
        }
        (Preview::Image(t), None) => format!(
            "{}\nwrite the thumbnail with --out FILE.png\n",
            image_line(path, t)
        ),
        (Preview::Unavailable { why }, Some(_)) => {
            return Err(Error::invalid(format!("no thumbnail written: {why}")));
        }
        (_, Some(_)) => {
            return Err(Error::invalid(format!(
                "--out writes an image's thumbnail; {path} is not an image (run without --out \
                 to see it)"
            )));
        }
        (Preview::Table { .. }, None) => table_text(&preview),
        (Preview::Text { .. }, None) => text_text(&preview),
        (Preview::Unavailable { why }, None) => format!("{why}\n"),
    };
    ctx.emit(&Value::Object(doc), || human);
    Ok(ExitCode::SUCCESS)
}

fn format_name(k: ImageKind) -> &'static str {
    match k {
        ImageKind::Jpeg => "JPEG",
        ImageKind::Png => "PNG",
        ImageKind::Webp => "WebP",
        ImageKind::Bmp => "BMP",
        ImageKind::Tiff => "TIFF",
    }
}

/// "photos/a.jpg: JPEG 640×480; thumbnail 256×192 PNG (31.2 KB)"
fn image_line(path: &str, t: &Thumbnail) -> String {
    format!(
        "{path}: {} {}×{}; thumbnail {}×{} PNG ({})",
        format_name(t.format),
        t.source_width,
        t.source_height,
        t.width,
        t.height,
        bytes(t.png.len() as u64)
    )
}

/// A terminal shows a cell on one line and not wider than [`CELL_CHARS`].
fn cell(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| match c {
            '\n' | '\r' => '⏎',
            '\t' => ' ',
            c => c,
        })
        .collect();
    if flat.chars().count() > CELL_CHARS {
        let mut cut: String = flat.chars().take(CELL_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        flat
    }
}

fn table_text(p: &Preview) -> String {
    let Preview::Table {
        columns,
        rows,
        total_rows_known,
        truncated,
        notes,
    } = p
    else {
        return String::new();
    };
    let mut grid: Vec<Vec<String>> = vec![columns.iter().map(|c| cell(c)).collect()];
    grid.extend(rows.iter().map(|r| r.iter().map(|c| cell(c)).collect()));
    let cols = grid.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            grid.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, r) in grid.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, s)| format!("{s:<w$}", w = widths[c]))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.push_str(&rule.join("  "));
            out.push('\n');
        }
    }
    let shown = rows.len();
    out.push_str(&match (total_rows_known, truncated) {
        (Some(n), _) => format!("({shown} of {n} rows)\n"),
        (None, true) => format!("(the first {shown} rows; more follow)\n"),
        (None, false) => format!("({shown} rows)\n"),
    });
    for n in notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

fn text_text(p: &Preview) -> String {
    let Preview::Text {
        text,
        truncated,
        notes,
    } = p
    else {
        return String::new();
    };
    let mut out = text.trim_end_matches('\n').to_string();
    out.push('\n');
    if *truncated {
        out.push_str("(the head only; more follows)\n");
    }
    for n in notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

/// A version's files by what their names say a preview would be.
struct Kinds {
    images: Vec<String>,
    tables: Vec<String>,
    texts: Vec<String>,
    other: Vec<String>,
}

fn kinds(ctx: &Ctx<'_>, reference: &str) -> Result<Kinds> {
    let mut k = Kinds {
        images: Vec::new(),
        tables: Vec::new(),
        texts: Vec::new(),
        other: Vec::new(),
    };
    for e in ctx.engine.files(reference, &[])? {
        match kind_by_name(&e.path) {
            NamedKind::Image => k.images.push(e.path),
            NamedKind::Table => k.tables.push(e.path),
            NamedKind::Text => k.texts.push(e.path),
            NamedKind::Other => k.other.push(e.path),
        }
    }
    Ok(k)
}

/// Without PATH or `--out`: how many files of each kind there are, and the first few of each.
fn summary(ctx: &mut Ctx<'_>, reference: &str) -> Result<ExitCode> {
    let v = ctx.engine.resolve(reference)?;
    let k = kinds(ctx, reference)?;
    let listed = |paths: &[String]| {
        json!({
            "count": paths.len(),
            "first": paths.iter().take(NAMED_LISTED).collect::<Vec<_>>(),
        })
    };
    let doc = json!({
        "version": v.label(),
        "id": v.id,
        "images": listed(&k.images),
        "tables": listed(&k.tables),
        "texts": listed(&k.texts),
        "other": listed(&k.other),
    });
    ctx.emit(&doc, || {
        let mut out = format!("{}: what there is to preview\n", v.label());
        let rows = [
            ("images", &k.images),
            ("tables", &k.tables),
            ("texts", &k.texts),
            ("other", &k.other),
        ];
        for (name, paths) in rows {
            let shown: Vec<&str> = paths.iter().take(NAMED_SHOWN).map(String::as_str).collect();
            let more = paths.len() - shown.len();
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  {name:<6} {:>7}  {}{more}\n",
                paths.len(),
                shown.join(", ")
            ));
        }
        if !k.other.is_empty() {
            out.push_str("  (other: no image, table or text extension; a PATH still shows it)\n");
        }
        out.push_str(&format!(
            "see one with `strata preview {} PATH`; write every image's thumbnail with --out DIR\n",
            v.label()
        ));
        out
    });
    Ok(ExitCode::SUCCESS)
}

/// Reports the thumbnails of every chunk as one phase: the engine begins and ends a phase per
/// call (and counts only the thumbnails it made, not those its cache served).
struct Overall<'a> {
    inner: &'a dyn Progress,
    total: u64,
    done: AtomicU64,
    /// Thumbnails advanced in the current chunk.
    in_chunk: AtomicU64,
    showing: AtomicBool,
}

impl Overall<'_> {
    fn show(&self) {
        if !self.showing.swap(true, Ordering::Relaxed) {
            self.inner.begin("thumbnails", self.total, 0);
            self.inner.advance(self.done.load(Ordering::Relaxed), 0);
        }
    }

    /// A chunk is over: what the engine did not report came from its cache. Returns how many
    /// that was.
    fn chunk_done(&self, len: u64) -> u64 {
        let reported = self.in_chunk.swap(0, Ordering::Relaxed);
        let rest = len.saturating_sub(reported);
        self.show();
        self.done.fetch_add(rest, Ordering::Relaxed);
        self.inner.advance(rest, 0);
        rest
    }
}

impl Progress for Overall<'_> {
    fn begin(&self, phase: &str, files: u64, bytes: u64) {
        if phase == "thumbnails" {
            self.show();
        } else {
            // A fetch of a pulled version's images takes the bar meanwhile.
            self.showing.store(false, Ordering::Relaxed);
            self.inner.begin(phase, files, bytes);
        }
    }

    fn advance(&self, files: u64, bytes: u64) {
        if self.showing.load(Ordering::Relaxed) {
            self.in_chunk.fetch_add(files, Ordering::Relaxed);
            self.done.fetch_add(files, Ordering::Relaxed);
            self.inner.advance(files, 0);
        } else {
            self.inner.advance(files, bytes);
        }
    }

    fn end(&self) {}

    fn warn(&self, message: &str) {
        self.inner.warn(message);
    }
}

/// Without PATH, with `--out DIR`: the thumbnail of each image (the first `--limit` in path
/// order) written to `DIR/<path>.png`.
fn write_set(ctx: &mut Ctx<'_>, args: &PreviewArgs, dir: &Path) -> Result<ExitCode> {
    let v = ctx.engine.resolve(&args.reference)?;
    // By id from here on: a newer version of the dataset finalized meanwhile changes nothing.
    let reference = v.id.clone();
    let images = kinds(ctx, &reference)?.images;
    let total_images = images.len();
    let chosen = &images[..images.len().min(args.limit)];
    let mut folder = OutFolder::create(dir)?;
    let progress = Overall {
        inner: &ctx.bars,
        total: chosen.len() as u64,
        done: AtomicU64::new(0),
        in_chunk: AtomicU64::new(0),
        showing: AtomicBool::new(false),
    };
    let mut written = 0u64;
    let mut written_bytes = 0u64;
    let mut from_cache = 0u64;
    let mut failed: Vec<(String, String)> = Vec::new();
    for chunk in chosen.chunks(CHUNK) {
        ctx.cancel.check()?;
        let made = ctx
            .engine
            .thumbnails(&reference, chunk, args.size, &progress, ctx.cancel)?;
        from_cache += progress.chunk_done(chunk.len() as u64);
        for r in made {
            let placed = match (r.png, r.error) {
                (Some(png), _) => folder
                    .place(&r.path, ".png")
                    .and_then(|dest| write_atomic(&dest, &png).map_err(|e| e.to_string()))
                    .map(|()| png.len() as u64)
                    .map_err(|e| format!("{}: {e}", r.path)),
                (None, why) => Err(why.unwrap_or_else(|| "no thumbnail".into())),
            };
            match placed {
                Ok(n) => {
                    written += 1;
                    written_bytes += n;
                }
                Err(why) => failed.push((r.path, why)),
            }
        }
    }
    ctx.bars.end();
    let not_written = total_images - chosen.len();
    let doc = json!({
        "version": v.label(),
        "id": v.id,
        "out": dir.display().to_string(),
        "images": total_images,
        "written": written,
        "bytes": written_bytes,
        "from_cache": from_cache,
        "over_limit": not_written,
        "failed": failed
            .iter()
            .map(|(path, why)| json!({"path": path, "why": why}))
            .collect::<Vec<_>>(),
    });
    ctx.emit(&doc, || {
        let mut out = format!(
            "{}: wrote {written} thumbnails ({}) to {}{}\n",
            v.label(),
            bytes(written_bytes),
            dir.display(),
            if from_cache > 0 {
                format!(" ({from_cache} from the thumbnail cache)")
            } else {
                String::new()
            }
        );
        if not_written > 0 {
            out.push_str(&format!(
                "{not_written} more images not done: --limit {} (raise it for more)\n",
                args.limit
            ));
        }
        if !failed.is_empty() {
            out.push_str(&format!("{} images have no thumbnail:\n", failed.len()));
            // Each reason names its file ("cannot preview PATH: ...").
            for (_, why) in failed.iter().take(FAILED_SHOWN) {
                out.push_str(&format!("  {why}\n"));
            }
            if failed.len() > FAILED_SHOWN {
                out.push_str(&format!("  and {} more\n", failed.len() - FAILED_SHOWN));
            }
        }
        out
    });
    Ok(ExitCode::SUCCESS)
}
