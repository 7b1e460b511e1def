//! A look at one file of a version: a thumbnail of an image, the first rows of a table (CSV, TSV,
//! JSON Lines, Parquet), the head of a text file — or why there is none.
//!
//! Every file is untrusted. Reads are bounded ([`Content::read`] with a limit sized to what the
//! preview needs), images are decoded under `image`'s [`Limits`] so a decompression bomb is
//! refused from its header before anything is allocated, the kind of a file is sniffed from its
//! bytes (a PNG named `.jpg` is still a PNG), and decoders run behind `catch_unwind` so a decoder
//! bug on a hostile file becomes [`Preview::Unavailable`], never a crash.
//!
//! Serialized (`--json`, the app) a preview is an object tagged by `kind`:
//! `{"kind":"image","png":"<base64>","width":..,"height":..,"source_width":..,"source_height":..,"format":"jpeg"}`,
//! `{"kind":"table","columns":[..],"rows":[[..]],"total_rows_known":123|null,"truncated":bool,"notes":[..]}`,
//! `{"kind":"text","text":"..","truncated":bool,"notes":[..]}`, `{"kind":"unavailable","why":".."}`.
//! The thumbnail is standard base64 (with padding) of PNG bytes, ready for a `data:image/png`
//! URL.

use std::io::{self, Cursor};
use std::panic::{catch_unwind, AssertUnwindSafe};

use fast_image_resize::images::Image as ResizeImage;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::png::{CompressionType, PngEncoder};
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Limits};
use rayon::prelude::*;
use serde::{Serialize, Serializer};
use strata_core::progress::{Cancel, Progress};

use crate::{Content, Entry};

/// The largest image file read for a thumbnail.
pub const MAX_IMAGE_FILE_BYTES: u64 = 256 << 20;
/// The largest decoded image (all its pixels): 8K×8K RGBA. A 30,000² PNG bomb asks for 2.7 GB
/// and is refused from its header.
pub const MAX_DECODED_BYTES: u64 = 256 << 20;
/// The widest or tallest image decoded.
pub const MAX_IMAGE_SIDE: u32 = 16384;
/// The largest Parquet file read: its footer is at the end, so it is read whole.
pub const MAX_PARQUET_BYTES: u64 = 64 << 20;
/// The most of a text, CSV or JSON Lines file read: enough for many more rows than shown.
pub const MAX_TEXT_BYTES: u64 = 1 << 20;
/// A longer line or cell is cut (minified JSON, a base64 blob in a CSV column).
const MAX_CELL_CHARS: usize = 500;
const MAX_LINE_CHARS: usize = 2000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreviewOptions {
    /// The longest side of a thumbnail, in pixels (smaller images are kept at their size).
    pub max_side: u32,
    /// Rows of a table, lines of a text.
    pub rows: usize,
}

impl Default for PreviewOptions {
    fn default() -> Self {
        Self {
            max_side: 256,
            rows: 20,
        }
    }
}

/// What a file looks like. Serialized tagged by `kind` (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Preview {
    Image(Thumbnail),
    Table {
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
        /// The file's row count (header excluded) when it is known: the whole file was read, or
        /// Parquet's footer says.
        total_rows_known: Option<u64>,
        /// More rows exist than are shown (or may: the file was not read to its end).
        truncated: bool,
        /// Lines that did not parse, cut cells, lossy text: each a sentence, with its line number
        /// where it has one.
        notes: Vec<String>,
    },
    Text {
        text: String,
        truncated: bool,
        notes: Vec<String>,
    },
    Unavailable {
        /// "cannot preview PATH: reason".
        why: String,
    },
}

/// A downscaled image, PNG-encoded. PNG rather than JPEG: thumbnails are small, so encoding is
/// a fraction of decoding either way, and PNG keeps alpha and masks (segmentation labels are
/// PNGs whose exact values matter) with one format for every source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Thumbnail {
    #[serde(serialize_with = "as_base64")]
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// The image's own size, as displayed (after its EXIF orientation).
    pub source_width: u32,
    pub source_height: u32,
    pub format: ImageKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
    Bmp,
    Tiff,
}

impl ImageKind {
    fn of(format: ImageFormat) -> Option<Self> {
        Some(match format {
            ImageFormat::Jpeg => Self::Jpeg,
            ImageFormat::Png => Self::Png,
            ImageFormat::WebP => Self::Webp,
            ImageFormat::Bmp => Self::Bmp,
            ImageFormat::Tiff => Self::Tiff,
            _ => return None,
        })
    }

    fn format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::Webp => ImageFormat::WebP,
            Self::Bmp => ImageFormat::Bmp,
            Self::Tiff => ImageFormat::Tiff,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Webp => "WebP",
            Self::Bmp => "BMP",
            Self::Tiff => "TIFF",
        }
    }
}

fn as_base64<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    use base64::Engine;
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Why a file has no preview. Each message names the file: "cannot preview PATH: ...".
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The content could not be read (not fetched, a disk error).
    #[error("cannot preview {path}: reading it failed: {source}")]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot preview {path}: the file is empty (0 bytes)")]
    Empty { path: String },
    /// Larger than a preview reads.
    #[error("cannot preview {path}: {what} over {limit} MiB are not previewed ({size} bytes)", limit = limit >> 20)]
    TooLarge {
        path: String,
        what: &'static str,
        size: u64,
        limit: u64,
    },
    /// Refused before decoding: dimensions or memory over the limits (a decompression bomb).
    #[error("cannot preview {path}: {detail}")]
    Refused { path: String, detail: String },
    /// The bytes are damaged: a truncated or corrupt image, a broken Parquet file.
    #[error("cannot preview {path}: {detail}")]
    Corrupt { path: String, detail: String },
    /// A format with no preview: binary data, an image format not decoded here.
    #[error("cannot preview {path}: {detail}")]
    Unsupported { path: String, detail: String },
    #[error("cancelled")]
    Cancelled,
}

/// A preview of `entry`, or [`Preview::Unavailable`] saying why not. Never panics.
pub fn preview(entry: &Entry, content: &dyn Content, opts: &PreviewOptions) -> Preview {
    match look(entry, content, opts) {
        Ok(p) => p,
        Err(e) => Preview::Unavailable { why: e.to_string() },
    }
}

/// The thumbnail of one image entry (its kind sniffed from its bytes).
pub fn thumbnail(
    entry: &Entry,
    content: &dyn Content,
    opts: &PreviewOptions,
) -> Result<Thumbnail, PreviewError> {
    if entry.size > MAX_IMAGE_FILE_BYTES {
        return Err(too_large(entry, "images", entry.size, MAX_IMAGE_FILE_BYTES));
    }
    let bytes = read_whole(entry, content, MAX_IMAGE_FILE_BYTES, "images")?;
    match sniff(&bytes) {
        Sniffed::Image(kind) => image_thumbnail(&entry.path, &bytes, kind, opts.max_side),
        Sniffed::OtherImage(name) => Err(unsupported(
            entry,
            format!("{name} images are not previewed"),
        )),
        _ => Err(not_an_image(entry, &bytes)),
    }
}

/// Thumbnails of many images, in parallel on rayon's pool, in the order given. Reports one file
/// per finished thumbnail to `progress`; once `cancel` is set the entries not yet started come
/// back as [`PreviewError::Cancelled`].
pub fn thumbnails(
    entries: &[Entry],
    content: &dyn Content,
    opts: &PreviewOptions,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Vec<(String, Result<Thumbnail, PreviewError>)> {
    let bytes = entries.iter().fold(0u64, |t, e| t.saturating_add(e.size));
    progress.begin("thumbnails", entries.len() as u64, bytes);
    let out = entries
        .par_iter()
        .map(|entry| {
            if cancel.is_cancelled() {
                return (entry.path.clone(), Err(PreviewError::Cancelled));
            }
            let result = thumbnail(entry, content, opts);
            progress.advance(1, entry.size);
            (entry.path.clone(), result)
        })
        .collect();
    progress.end();
    out
}

/// The kind of a file, by its first bytes.
enum Sniffed {
    Image(ImageKind),
    /// An image format recognised but not decoded here (GIF, ICO, AVIF...).
    OtherImage(&'static str),
    Parquet,
    Unknown,
}

fn sniff(bytes: &[u8]) -> Sniffed {
    if bytes.starts_with(b"PAR1") {
        return Sniffed::Parquet;
    }
    match image::guess_format(bytes) {
        Ok(format) => match ImageKind::of(format) {
            Some(kind) => Sniffed::Image(kind),
            None => {
                Sniffed::OtherImage(format.extensions_str().first().copied().unwrap_or("these"))
            }
        },
        Err(_) => Sniffed::Unknown,
    }
}

/// What the name promises.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Named {
    Image,
    Parquet,
    Csv,
    Tsv,
    Jsonl,
    Json,
    Other,
}

fn named(path: &str) -> (Named, String) {
    let file = path.rsplit('/').next().unwrap_or(path);
    let ext = match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    };
    let kind = match ext.as_str() {
        "jpg" | "jpeg" | "jpe" | "png" | "webp" | "bmp" | "tif" | "tiff" => Named::Image,
        "parquet" | "pq" => Named::Parquet,
        "csv" => Named::Csv,
        "tsv" | "tab" => Named::Tsv,
        "jsonl" | "ndjson" => Named::Jsonl,
        "json" => Named::Json,
        _ => Named::Other,
    };
    (kind, ext)
}

/// What a file's name says its preview will be, without reading it: a version's preview set is
/// listed from its manifest alone. The bytes still decide when the file is previewed (a PNG named
/// `.txt` shows as an image).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NamedKind {
    Image,
    Table,
    Text,
    Other,
}

/// Text formats a dataset carries beside its images and tables: label lists, configs, notes.
const TEXT_EXTENSIONS: &[&str] = &[
    "txt", "md", "markdown", "rst", "json", "yaml", "yml", "xml", "toml", "ini", "cfg", "conf",
    "log", "names", "html",
];

/// [`NamedKind`] of a path, by its extension.
pub fn kind_by_name(path: &str) -> NamedKind {
    let (named, ext) = named(path);
    match named {
        Named::Image => NamedKind::Image,
        Named::Parquet | Named::Csv | Named::Tsv | Named::Jsonl => NamedKind::Table,
        Named::Json => NamedKind::Text,
        Named::Other if TEXT_EXTENSIONS.contains(&ext.as_str()) => NamedKind::Text,
        Named::Other => NamedKind::Other,
    }
}

fn look(
    entry: &Entry,
    content: &dyn Content,
    opts: &PreviewOptions,
) -> Result<Preview, PreviewError> {
    if entry.size == 0 {
        return Err(PreviewError::Empty {
            path: entry.path.clone(),
        });
    }
    let (named, ext) = named(&entry.path);
    match named {
        Named::Image => return thumbnail(entry, content, opts).map(Preview::Image),
        Named::Parquet => {
            return parquet_preview(entry, content, opts.rows);
        }
        _ => {}
    }
    let head = read(entry, content, MAX_TEXT_BYTES)?;
    if head.is_empty() {
        return Err(PreviewError::Empty {
            path: entry.path.clone(),
        });
    }
    // The bytes decide over the name: an image or Parquet file under any name is shown as what
    // it is.
    match sniff(&head) {
        Sniffed::Image(_) | Sniffed::OtherImage(_) => {
            return thumbnail(entry, content, opts).map(Preview::Image)
        }
        Sniffed::Parquet => {
            return parquet_preview(entry, content, opts.rows);
        }
        Sniffed::Unknown => {}
    }
    let complete = (head.len() as u64) < MAX_TEXT_BYTES;
    if let Some(why) = binary(&head) {
        let named = if ext.is_empty() {
            String::new()
        } else {
            format!(" (.{ext})")
        };
        return Err(unsupported(entry, format!("binary file{named}: {why}")));
    }
    let (text, lossy) = decode_text(&head, complete);
    let mut notes = Vec::new();
    if lossy {
        notes.push("not valid UTF-8: undecodable bytes shown as \u{FFFD}".to_string());
    }
    Ok(match named {
        Named::Csv | Named::Tsv => {
            let delimiter = if named == Named::Tsv {
                b'\t'
            } else {
                sniff_delimiter(&text)
            };
            csv_table(&text, delimiter, complete, opts.rows, notes)
        }
        Named::Jsonl => jsonl_table(&text, complete, opts.rows, notes),
        Named::Json => json_text(&text, complete, opts.rows, notes),
        _ => text_head(&text, complete, opts.rows, notes),
    })
}

fn read(entry: &Entry, content: &dyn Content, limit: u64) -> Result<Vec<u8>, PreviewError> {
    content
        .read(entry, limit)
        .map_err(|source| PreviewError::Read {
            path: entry.path.clone(),
            source,
        })
}

/// The whole file, or `TooLarge` when it reaches `limit` (the manifest's size is checked first,
/// so a large file is refused without reading it).
fn read_whole(
    entry: &Entry,
    content: &dyn Content,
    limit: u64,
    what: &'static str,
) -> Result<Vec<u8>, PreviewError> {
    if entry.size >= limit {
        return Err(too_large(entry, what, entry.size, limit));
    }
    let bytes = read(entry, content, limit)?;
    if bytes.len() as u64 >= limit {
        return Err(too_large(entry, what, bytes.len() as u64, limit));
    }
    if bytes.is_empty() {
        return Err(PreviewError::Empty {
            path: entry.path.clone(),
        });
    }
    Ok(bytes)
}

fn too_large(entry: &Entry, what: &'static str, size: u64, limit: u64) -> PreviewError {
    PreviewError::TooLarge {
        path: entry.path.clone(),
        what,
        size,
        limit,
    }
}

fn unsupported(entry: &Entry, detail: String) -> PreviewError {
    PreviewError::Unsupported {
        path: entry.path.clone(),
        detail,
    }
}

fn not_an_image(entry: &Entry, bytes: &[u8]) -> PreviewError {
    let start: String = bytes
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    PreviewError::Corrupt {
        path: entry.path.clone(),
        detail: format!(
            "not a JPEG, PNG, WebP, BMP or TIFF image (its bytes start {start}, no image signature)"
        ),
    }
}

/// Decodes under limits, downscales to fit `max_side`, applies the EXIF orientation and encodes
/// a PNG.
fn image_thumbnail(
    path: &str,
    bytes: &[u8],
    kind: ImageKind,
    max_side: u32,
) -> Result<Thumbnail, PreviewError> {
    // Decoders are written for untrusted input but have had panics on fuzzed files; one bad
    // image must not take down a batch of thousands (or the app).
    match catch_unwind(AssertUnwindSafe(|| {
        decode_and_shrink(path, bytes, kind, max_side)
    })) {
        Ok(result) => result,
        Err(_) => Err(PreviewError::Corrupt {
            path: path.to_string(),
            detail: format!("the {} decoder failed on this file", kind.name()),
        }),
    }
}

fn decode_and_shrink(
    path: &str,
    bytes: &[u8],
    kind: ImageKind,
    max_side: u32,
) -> Result<Thumbnail, PreviewError> {
    let corrupt = |e: image::ImageError| image_error(path, kind, e);
    if kind == ImageKind::Jpeg && !jpeg_is_complete(bytes) {
        // The JPEG decoder fills a cut file's missing rows with grey and reports success; a
        // thumbnail half grey would pass for the image.
        return Err(PreviewError::Corrupt {
            path: path.to_string(),
            detail: "truncated JPEG (no end-of-image marker after its last scan)".to_string(),
        });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    // Checked here too: not every decoder counts its output buffer against `max_alloc`.
    if decoder.total_bytes() > MAX_DECODED_BYTES {
        return Err(PreviewError::Refused {
            path: path.to_string(),
            detail: format!(
                "a {width}×{height} {} decodes to {} MiB, over the {} MiB limit",
                kind.name(),
                decoder.total_bytes() >> 20,
                MAX_DECODED_BYTES >> 20
            ),
        });
    }
    let orientation = decoder.orientation().ok();
    let image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    if width == 0 || height == 0 {
        return Err(PreviewError::Corrupt {
            path: path.to_string(),
            detail: format!("the {} has no pixels ({width}×{height})", kind.name()),
        });
    }

    let alpha = image.color().has_alpha();
    let (pixels, pixel_type) = if alpha {
        (image.into_rgba8().into_raw(), PixelType::U8x4)
    } else {
        (image.into_rgb8().into_raw(), PixelType::U8x3)
    };
    let scale = f64::from(max_side.max(1)) / f64::from(width.max(height));
    let (tw, th) = if scale >= 1.0 {
        (width, height)
    } else {
        (
            ((f64::from(width) * scale).round() as u32).clamp(1, max_side.max(1)),
            ((f64::from(height) * scale).round() as u32).clamp(1, max_side.max(1)),
        )
    };
    let pixels = if (tw, th) == (width, height) {
        pixels
    } else {
        let resize_failed = |e: &dyn std::fmt::Display| PreviewError::Corrupt {
            path: path.to_string(),
            detail: format!("resizing the image failed: {e}"),
        };
        let src = ResizeImage::from_vec_u8(width, height, pixels, pixel_type)
            .map_err(|e| resize_failed(&e))?;
        let mut dst = ResizeImage::new(tw, th, pixel_type);
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
        Resizer::new()
            .resize(&src, &mut dst, &options)
            .map_err(|e| resize_failed(&e))?;
        dst.into_vec()
    };
    let small = if alpha {
        image::RgbaImage::from_raw(tw, th, pixels).map(DynamicImage::ImageRgba8)
    } else {
        image::RgbImage::from_raw(tw, th, pixels).map(DynamicImage::ImageRgb8)
    };
    let Some(mut small) = small else {
        return Err(PreviewError::Corrupt {
            path: path.to_string(),
            detail: "the resized image has the wrong size".to_string(),
        });
    };
    let (mut source_width, mut source_height) = (width, height);
    if let Some(orientation) = orientation {
        small.apply_orientation(orientation);
        if small.width() != tw {
            (source_width, source_height) = (height, width);
        }
    }

    let mut png = Vec::new();
    let encoder = PngEncoder::new_with_quality(
        &mut png,
        CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    );
    encoder
        .write_image(
            small.as_bytes(),
            small.width(),
            small.height(),
            small.color().into(),
        )
        .map_err(|e| PreviewError::Corrupt {
            path: path.to_string(),
            detail: format!("encoding the thumbnail failed: {e}"),
        })?;
    Ok(Thumbnail {
        png,
        width: small.width(),
        height: small.height(),
        source_width,
        source_height,
        format: kind,
    })
}

/// Whether an end-of-image marker follows the last start-of-scan (no scan starts after the
/// last end-of-image). Marker bytes cannot occur
/// inside entropy-coded data (0xFF is stuffed there), and comparing with the last scan rather
/// than the file's start ignores an EXIF thumbnail's own complete JPEG.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    // Searched from the end: a whole file's end-of-image marker is in its last bytes.
    match bytes.windows(2).rposition(|w| w == [0xFF, 0xD9]) {
        Some(eoi) => !bytes[eoi..].windows(2).any(|w| w == [0xFF, 0xDA]),
        None => false,
    }
}

fn image_error(path: &str, kind: ImageKind, e: image::ImageError) -> PreviewError {
    use image::error::ImageError as E;
    let path = path.to_string();
    match e {
        E::Limits(l) => PreviewError::Refused {
            path,
            detail: format!(
                "the {} is larger than a preview decodes (at most {MAX_IMAGE_SIDE} pixels a side and {} MiB of pixels): {l}",
                kind.name(),
                MAX_DECODED_BYTES >> 20
            ),
        },
        E::Unsupported(u) => PreviewError::Unsupported {
            path,
            detail: format!("unsupported {}: {u}", kind.name()),
        },
        E::IoError(io) if io.kind() == io::ErrorKind::UnexpectedEof => PreviewError::Corrupt {
            path,
            detail: format!("truncated {} (the file ends early)", kind.name()),
        },
        other => PreviewError::Corrupt {
            path,
            detail: format!("corrupt or truncated {}: {other}", kind.name()),
        },
    }
}

/// Why bytes look binary, or `None` for text.
fn binary(head: &[u8]) -> Option<String> {
    let sample = &head[..head.len().min(8192)];
    if let Some(at) = sample.iter().position(|&b| b == 0) {
        return Some(format!("a NUL byte at offset {at}"));
    }
    let control = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x1b))
        .count();
    // Text has next to no control bytes; compressed or encoded data has ~1 in 10.
    if control * 20 > sample.len() {
        return Some(format!(
            "{control} control bytes in the first {} bytes",
            sample.len()
        ));
    }
    None
}

/// Text of a head read; a character cut by the read limit is dropped, other invalid bytes shown
/// as U+FFFD (the flag says so).
fn decode_text(bytes: &[u8], complete: bool) -> (String, bool) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let bytes = if complete {
        bytes
    } else {
        trim_partial_char(bytes)
    };
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), false),
        Err(_) => (String::from_utf8_lossy(bytes).into_owned(), true),
    }
}

fn trim_partial_char(b: &[u8]) -> &[u8] {
    let n = b.len();
    for back in 1..=n.min(4) {
        let byte = b[n - back];
        if byte & 0xC0 != 0x80 {
            let need = match byte {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 1,
            };
            return if need > back { &b[..n - back] } else { b };
        }
    }
    b
}

/// The text up to its last full line when the read stopped mid-file (the last line is cut).
fn whole_lines(text: &str, complete: bool) -> &str {
    if complete {
        text
    } else {
        match text.rfind('\n') {
            Some(at) => &text[..=at],
            None => text,
        }
    }
}

/// A line or cell as shown: control characters other than tab and newline (terminal escapes)
/// as U+FFFD, cut to `max`
/// characters. Says whether it was cut.
fn shown(s: &str, max: usize) -> (String, bool) {
    let mut out: String = s
        .chars()
        .take(max)
        .map(|c| {
            if c.is_control() && c != '\t' && c != '\n' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    let cut = s.chars().nth(max).is_some();
    if cut {
        out.push('…');
    }
    (out, cut)
}

fn cell(s: &str) -> String {
    shown(s, MAX_CELL_CHARS).0
}

fn text_head(text: &str, complete: bool, rows: usize, mut notes: Vec<String>) -> Preview {
    let mut lines = text.lines();
    let mut out = Vec::new();
    let mut cut = 0;
    for line in lines.by_ref().take(rows) {
        let (line, was_cut) = shown(line, MAX_LINE_CHARS);
        cut += usize::from(was_cut);
        out.push(line);
    }
    if cut > 0 {
        notes.push(format!(
            "{cut} lines longer than {MAX_LINE_CHARS} characters are cut"
        ));
    }
    Preview::Text {
        text: out.join("\n"),
        truncated: lines.next().is_some() || !complete,
        notes,
    }
}

/// Small JSON is pretty-printed (a one-line COCO file becomes readable); larger or invalid JSON
/// shows its raw head.
fn json_text(text: &str, complete: bool, rows: usize, mut notes: Vec<String>) -> Preview {
    if !complete {
        notes.push(format!(
            "over {} MiB: the raw head is shown",
            MAX_TEXT_BYTES >> 20
        ));
        return text_head(text, complete, rows, notes);
    }
    match serde_json::from_str::<Json>(text) {
        Ok(value) => match serde_json::to_string_pretty(&value) {
            Ok(pretty) => text_head(&pretty, true, rows, notes),
            Err(_) => text_head(text, true, rows, notes),
        },
        Err(e) => {
            notes.push(format!("not valid JSON ({e})"));
            text_head(text, true, rows, notes)
        }
    }
}

/// `,` unless the header holds more `;`, tabs or `|` (European spreadsheets write `;`).
fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    let mut best = (0, b',');
    for d in [b',', b';', b'\t', b'|'] {
        let mut quoted = false;
        let count = header
            .bytes()
            .filter(|&b| {
                if b == b'"' {
                    quoted = !quoted;
                }
                !quoted && b == d
            })
            .count();
        if count > best.0 {
            best = (count, d);
        }
    }
    best.1
}

fn csv_table(
    text: &str,
    delimiter: u8,
    complete: bool,
    rows: usize,
    mut notes: Vec<String>,
) -> Preview {
    let body = whole_lines(text, complete);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes());
    let mut columns: Vec<String> = Vec::new();
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut count: u64 = 0;
    let mut broken = false;
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                if first {
                    columns = record.iter().map(cell).collect();
                    first = false;
                    continue;
                }
                count += 1;
                if out.len() < rows {
                    out.push(record.iter().map(cell).collect());
                } else if !complete {
                    break;
                }
            }
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                notes.push(format!(
                    "line {line}: not read as CSV ({e}); rows after it are not shown"
                ));
                broken = true;
                break;
            }
        }
    }
    // Ragged rows: a longer row widens the table, a shorter one is padded.
    let width = out
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(columns.len());
    for i in columns.len()..width {
        columns.push(format!("column {}", i + 1));
    }
    for row in &mut out {
        row.resize(width, String::new());
    }
    Preview::Table {
        columns,
        total_rows_known: (complete && !broken).then_some(count),
        truncated: count > out.len() as u64 || !complete || broken,
        rows: out,
        notes,
    }
}

fn jsonl_table(text: &str, complete: bool, rows: usize, mut notes: Vec<String>) -> Preview {
    let body = whole_lines(text, complete);
    let mut columns: Vec<String> = Vec::new();
    let mut parsed: Vec<Json> = Vec::new();
    let mut count: u64 = 0;
    let mut bad = 0usize;
    let mut stopped = false;
    for (i, line) in body.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        count += 1;
        if parsed.len() >= rows {
            if complete {
                continue;
            }
            stopped = true;
            break;
        }
        match serde_json::from_str::<Json>(line) {
            Ok(value) => {
                let keys: Vec<&str> = match &value {
                    Json::Object(fields) => fields.iter().map(|(k, _)| k.as_str()).collect(),
                    _ => vec![VALUE_COLUMN],
                };
                for key in keys {
                    if !columns.iter().any(|c| c == key) {
                        columns.push(key.to_string());
                    }
                }
                parsed.push(value);
            }
            Err(e) => {
                bad += 1;
                if bad <= 20 {
                    notes.push(format!("line {}: not JSON ({e})", i + 1));
                }
            }
        }
    }
    if bad > 20 {
        notes.push(format!("{} more lines are not JSON", bad - 20));
    }
    let rows_out: Vec<Vec<String>> = parsed
        .iter()
        .map(|value| {
            columns
                .iter()
                .map(|c| match value {
                    Json::Object(fields) => fields
                        .iter()
                        .find(|(k, _)| k == c)
                        .map(|(_, v)| json_cell(v))
                        .unwrap_or_default(),
                    other if c == VALUE_COLUMN => json_cell(other),
                    _ => String::new(),
                })
                .collect()
        })
        .collect();
    Preview::Table {
        columns: columns.iter().map(|c| cell(c)).collect(),
        total_rows_known: complete.then_some(count),
        truncated: stopped || !complete || count > rows_out.len() as u64,
        rows: rows_out,
        notes,
    }
}

/// The column of a JSON Lines row that is not an object.
const VALUE_COLUMN: &str = "value";

fn json_cell(value: &Json) -> String {
    match value {
        Json::String(s) => cell(s),
        Json::Null => String::new(),
        other => cell(&serde_json::to_string(other).unwrap_or_default()),
    }
}

/// JSON kept in its file's key order, so columns and pretty-printed files read as written
/// (`serde_json::Value` sorts keys unless its `preserve_order` feature is on, which would change
/// every crate of the workspace). Nesting is bounded by serde_json's recursion limit.
enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut fields = Vec::new();
        while let Some(field) = map.next_entry::<String, Json>()? {
            fields.push(field);
        }
        Ok(Json::Object(fields))
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => n.serialize(s),
            Json::String(v) => s.serialize_str(v),
            Json::Array(items) => s.collect_seq(items),
            Json::Object(fields) => s.collect_map(fields.iter().map(|(k, v)| (k, v))),
        }
    }
}

#[cfg(feature = "parquet")]
fn parquet_preview(
    entry: &Entry,
    content: &dyn Content,
    rows: usize,
) -> Result<Preview, PreviewError> {
    let bytes = read_whole(entry, content, MAX_PARQUET_BYTES, "Parquet files")?;
    parquet_table(entry, bytes, rows)
}

#[cfg(not(feature = "parquet"))]
fn parquet_preview(
    entry: &Entry,
    _content: &dyn Content,
    _rows: usize,
) -> Result<Preview, PreviewError> {
    Err(unsupported(
        entry,
        "this build has no Parquet reader (the `parquet` feature of strata-insight)".to_string(),
    ))
}

/// The first rows of a Parquet file through the record reader (no Arrow).
#[cfg(feature = "parquet")]
fn parquet_table(entry: &Entry, bytes: Vec<u8>, rows: usize) -> Result<Preview, PreviewError> {
    // The parquet crate panics on some malformed files (its issue tracker has several); a
    // hostile file must only cost its preview.
    match catch_unwind(AssertUnwindSafe(|| read_parquet(entry, bytes, rows))) {
        Ok(result) => result,
        Err(_) => Err(PreviewError::Corrupt {
            path: entry.path.clone(),
            detail: "the Parquet reader failed on this file (corrupt or unsupported)".to_string(),
        }),
    }
}

/// The most uncompressed column data of the row groups read for a preview: page sizes come from
/// the file, and a small file could otherwise claim gigabytes.
#[cfg(feature = "parquet")]
const MAX_PARQUET_UNCOMPRESSED: i64 = 512 << 20;

#[cfg(feature = "parquet")]
fn read_parquet(entry: &Entry, bytes: Vec<u8>, rows: usize) -> Result<Preview, PreviewError> {
    use parquet::file::reader::{FileReader, SerializedFileReader};

    let corrupt = |e: parquet::errors::ParquetError| PreviewError::Corrupt {
        path: entry.path.clone(),
        detail: format!("not a readable Parquet file: {e}"),
    };
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).map_err(corrupt)?;
    let meta = reader.metadata();
    let total = u64::try_from(meta.file_metadata().num_rows()).ok();
    let columns: Vec<String> = meta
        .file_metadata()
        .schema_descr()
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| cell(f.name()))
        .collect();
    // Rows come from the first row groups only; bound what they may decompress to.
    let mut needed = 0u64;
    let mut uncompressed = 0i64;
    for group in meta.row_groups() {
        if needed >= rows as u64 {
            break;
        }
        needed += u64::try_from(group.num_rows()).unwrap_or(0);
        uncompressed = uncompressed.saturating_add(group.total_byte_size().max(0));
    }
    if uncompressed > MAX_PARQUET_UNCOMPRESSED {
        return Err(PreviewError::Refused {
            path: entry.path.clone(),
            detail: format!(
                "its first row groups hold {} MiB uncompressed, over the {} MiB a preview reads",
                uncompressed >> 20,
                MAX_PARQUET_UNCOMPRESSED >> 20
            ),
        });
    }
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for row in reader.get_row_iter(None).map_err(corrupt)?.take(rows) {
        match row {
            Ok(row) => out.push(
                row.get_column_iter()
                    .map(|(_, field)| match field {
                        parquet::record::Field::Str(s) => cell(s),
                        parquet::record::Field::Null => String::new(),
                        other => cell(&other.to_string()),
                    })
                    .collect(),
            ),
            Err(e) => {
                notes.push(format!("row {}: not read ({e})", out.len() + 1));
                break;
            }
        }
    }
    Ok(Preview::Table {
        columns,
        truncated: total.is_none_or(|t| t > out.len() as u64),
        total_rows_known: total,
        rows: out,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_character_is_dropped_not_replaced() {
        let text = "naïve".as_bytes();
        let cut = &text[..3]; // "na" and the first byte of "ï"
        assert_eq!(decode_text(cut, false), ("na".to_string(), false));
        assert!(decode_text(cut, true).1);
    }

    #[test]
    fn semicolons_are_sniffed() {
        assert_eq!(sniff_delimiter("a;b;c\n1;2;3"), b';');
        assert_eq!(sniff_delimiter("\"a;b\",c\n"), b',');
        assert_eq!(sniff_delimiter("one column\n"), b',');
    }

    #[test]
    fn names_are_read_case_blind() {
        assert!(matches!(named("x/Y.JPG").0, Named::Image));
        assert!(matches!(named("x/.csv").0, Named::Other));
        assert!(matches!(named("a.b/c").0, Named::Other));
    }
}
