//! Image dimensions from header bytes: a small prefix of each image is read and handed to
//! `imagesize`, nothing is decoded. Large datasets are sampled evenly, so the summary costs the
//! same for 20 thousand images and for 2 million.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use strata_core::error::Result;
use strata_core::progress::{Cancel, Progress};

use crate::content::Content;
use crate::paths::Tree;

/// Enough for PNG, GIF, WebP and most JPEGs (whose size follows the EXIF block).
const PREFIX: u64 = 64 << 10;
/// A JPEG with a large EXIF thumbnail or ICC profile: one longer read.
const LONG_PREFIX: u64 = 1 << 20;
/// Images read at most; more are sampled evenly.
pub const MAX_SAMPLED: usize = 20_000;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Range {
    pub min: u64,
    pub max: u64,
    pub median: u64,
}

/// What the image headers say.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Dimensions {
    /// Images whose header was read.
    pub read: u64,
    /// Images whose header could not be read or understood.
    pub unreadable: u64,
    /// Images there were; more than `read + unreadable` when sampled.
    pub images: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<Range>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<Range>,
    /// Images per format (`jpeg`, `png`, ...).
    pub formats: BTreeMap<String, u64>,
}

fn range(mut v: Vec<u64>) -> Option<Range> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(Range {
        min: v[0],
        max: v[v.len() - 1],
        median: v[v.len() / 2],
    })
}

fn format_name(t: imagesize::ImageType) -> String {
    let debug = format!("{t:?}");
    debug
        .split('(')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// One image's width, height and format, or why they could not be read.
type Probe = std::result::Result<(u64, u64, String), String>;

fn probe(content: &dyn Content, tree: &Tree, index: usize) -> Probe {
    let entry = tree.entry(index);
    let mut limit = PREFIX;
    loop {
        let bytes = content.read(entry, limit).map_err(|e| e.to_string())?;
        let kind = imagesize::image_type(&bytes);
        match (imagesize::blob_size(&bytes), kind) {
            (Ok(size), Ok(kind)) => {
                return Ok((size.width as u64, size.height as u64, format_name(kind)))
            }
            (_, _) if limit < LONG_PREFIX && bytes.len() as u64 >= limit && entry.size > limit => {
                limit = LONG_PREFIX;
            }
            (Err(e), _) | (_, Err(e)) => return Err(format!("{e:?}")),
        }
    }
}

/// Reads the headers of `images` (entry indices), sampled evenly down to [`MAX_SAMPLED`].
/// Returns the summary and the first unreadable image with its reason.
pub(crate) fn measure(
    tree: &Tree,
    content: &dyn Content,
    images: &[usize],
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<(Dimensions, Option<(String, String)>)> {
    let sample: Vec<usize> = if images.len() <= MAX_SAMPLED {
        images.to_vec()
    } else {
        (0..MAX_SAMPLED)
            .map(|k| images[k * images.len() / MAX_SAMPLED])
            .collect()
    };
    progress.begin("reading image sizes", sample.len() as u64, 0);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    let chunk = sample.len().div_ceil(workers).max(1);
    let results: Vec<Vec<Probe>> = std::thread::scope(|s| {
        let handles: Vec<_> = sample
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut out = Vec::with_capacity(part.len());
                    for &i in part {
                        if cancel.is_cancelled() {
                            break;
                        }
                        out.push(probe(content, tree, i));
                        progress.advance(1, 0);
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    progress.end();
    cancel.check()?;

    let mut dims = Dimensions {
        images: images.len() as u64,
        ..Dimensions::default()
    };
    let (mut widths, mut heights) = (Vec::new(), Vec::new());
    let mut first_bad = None;
    for (k, r) in results.into_iter().flatten().enumerate() {
        match r {
            Ok((w, h, f)) => {
                dims.read += 1;
                widths.push(w);
                heights.push(h);
                *dims.formats.entry(f).or_default() += 1;
            }
            Err(reason) => {
                dims.unreadable += 1;
                if first_bad.is_none() {
                    first_bad = sample.get(k).map(|&i| (tree.entry(i).path.clone(), reason));
                }
            }
        }
    }
    dims.width = range(widths);
    dims.height = range(heights);
    Ok((dims, first_bad))
}
