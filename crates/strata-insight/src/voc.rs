//! Pascal VOC: one XML file per image under `Annotations/`, its image in `JPEGImages/`, splits
//! listed in `ImageSets/Main/{train,val,trainval,test}.txt`. Only an annotation's own objects
//! count (`annotation/object/name`), never their parts (`object/part/name`); `difficult`
//! objects are instances and are also counted apart, `truncated` ones are counted apart.

use std::collections::HashMap;

use quick_xml::events::Event;
use quick_xml::Reader;
use strata_core::error::Result;
use strata_core::progress::{Cancel, Progress};

use crate::content::Content;
use crate::labels::{add_instances, read_whole, ClassCount, Image, Labels};
use crate::paths::{self, Tree};

const XML_LIMIT: u64 = 16 << 20;
const LIST_LIMIT: u64 = 64 << 20;

/// The VOC root for a `voc:DIR` argument: DIR itself, or its parent when DIR is `Annotations`.
pub(crate) fn root_of(dir: &str) -> String {
    // `.`, `./VOC/` and `VOC` are one folder.
    let dir = paths::join("", dir).unwrap_or_default();
    if paths::file_name(&dir) == "Annotations" {
        paths::parent(&dir).to_string()
    } else {
        dir
    }
}

fn sub(root: &str, name: &str) -> String {
    if root.is_empty() {
        name.to_string()
    } else {
        format!("{root}/{name}")
    }
}

/// What one annotation file says.
#[derive(Default)]
struct Annotation {
    filename: Option<String>,
    objects: Vec<Object>,
}

#[derive(Default)]
struct Object {
    name: String,
    difficult: bool,
    truncated: bool,
}

fn flag(text: &str) -> bool {
    matches!(text.trim(), "1" | "true" | "True" | "yes")
}

/// Parses one annotation; an error is the message and the 1-based line where it was found.
fn parse_xml(text: &str) -> std::result::Result<Annotation, (String, u64)> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut out = Annotation::default();
    let mut current: Option<Object> = None;
    let mut buf = String::new();
    let mut roots = 0;
    let at = |pos: u64| crate::labels::line_of(text.as_bytes(), pos as usize);
    loop {
        let event = reader
            .read_event()
            .map_err(|e| (e.to_string(), at(reader.error_position())))?;
        match event {
            Event::Start(e) => {
                if stack.is_empty() {
                    roots += 1;
                }
                stack.push(e.name().as_ref().to_string());
                buf.clear();
                if stack.len() == 2 && stack[1] == "object" {
                    current = Some(Object::default());
                }
            }
            Event::Empty(e) => {
                if stack.is_empty() {
                    roots += 1;
                }
                // `<object/>` has no name: nothing to count.
                let _ = e;
            }
            Event::Text(t) => buf.push_str(&t.xml10_content()),
            Event::CData(t) => buf.push_str(&t),
            Event::GeneralRef(r) => {
                let entity = format!("&{};", &*r.into_inner());
                match quick_xml::escape::unescape(&entity) {
                    Ok(s) => buf.push_str(&s),
                    Err(_) => buf.push_str(&entity),
                }
            }
            Event::End(_) => {
                let depth = stack.len();
                let name = stack.pop().unwrap_or_default();
                match (depth, name.as_str()) {
                    (2, "filename") => out.filename = Some(buf.trim().to_string()),
                    (2, "object") => {
                        if let Some(o) = current.take() {
                            out.objects.push(o);
                        }
                    }
                    (3, "name") if stack.get(1).is_some_and(|s| s == "object") => {
                        if let Some(o) = current.as_mut() {
                            o.name = buf.trim().to_string();
                        }
                    }
                    (3, "difficult") if stack.get(1).is_some_and(|s| s == "object") => {
                        if let Some(o) = current.as_mut() {
                            o.difficult = flag(&buf);
                        }
                    }
                    (3, "truncated") if stack.get(1).is_some_and(|s| s == "object") => {
                        if let Some(o) = current.as_mut() {
                            o.truncated = flag(&buf);
                        }
                    }
                    _ => {}
                }
                buf.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if roots == 0 {
        return Err(("no root element".to_string(), at(text.len() as u64)));
    }
    if !stack.is_empty() {
        return Err((
            format!("ends inside <{}>", stack.last().map_or("", String::as_str)),
            at(text.len() as u64),
        ));
    }
    Ok(out)
}

/// Split lists by image id (file stem). `trainval` is the union of `train` and `val`, so it is a
/// split of its own only when they are absent.
fn read_splits(
    tree: &Tree,
    content: &dyn Content,
    root: &str,
    labels: &mut Labels,
) -> HashMap<String, u16> {
    let main = sub(root, "ImageSets/Main");
    let has = |n: &str| tree.get(&format!("{main}/{n}.txt"));
    let mut names = vec!["train", "val"];
    if has("train").is_none() || has("val").is_none() {
        names.push("trainval");
    }
    names.push("test");
    let mut out = HashMap::new();
    for name in names {
        let Some(i) = has(name) else { continue };
        let Some(bytes) = read_whole(content, tree.entry(i), LIST_LIMIT, &mut labels.warnings)
        else {
            continue;
        };
        let split = labels.split(name);
        for line in bytes.split(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(line);
            // Per-class lists (`cat_train.txt`) are not read; a main list holds ids only, but
            // take the first field in case a writer added one.
            if let Some(id) = line.split_whitespace().next() {
                out.entry(id.to_string()).or_insert(split);
            }
        }
    }
    out
}

pub(crate) fn parse_into(
    labels: &mut Labels,
    tree: &Tree,
    content: &dyn Content,
    dir: &str,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<()> {
    labels.counters.difficult = true;
    labels.counters.truncated = true;
    let root = root_of(dir);
    let annotations = sub(&root, "Annotations");
    let images_dir = sub(&root, "JPEGImages");
    if !tree.has_dir(&annotations) {
        return Err(strata_core::error::Error::not_found(
            "VOC Annotations folder",
            annotations,
        ));
    }
    let splits = read_splits(tree, content, &root, labels);
    // Images by stem, for annotations whose <filename> is wrong (a common export bug).
    let mut by_stem: HashMap<&str, usize> = HashMap::new();
    for i in tree.under(&images_dir) {
        let p = &tree.entry(i).path;
        if paths::is_image(p) && !paths::is_noise(p) {
            by_stem.entry(paths::stem(p)).or_insert(i);
        }
    }
    let xmls: Vec<usize> = tree
        .under(&annotations)
        .filter(|&i| {
            let p = &tree.entry(i).path;
            !paths::is_noise(p)
                && paths::extension(p).is_some_and(|e| e.eq_ignore_ascii_case("xml"))
        })
        .collect();
    progress.begin("reading VOC annotations", xmls.len() as u64, 0);
    let mut labelled = std::collections::HashSet::new();
    for (n, xi) in xmls.into_iter().enumerate() {
        if n % 256 == 0 {
            cancel.check()?;
        }
        let entry = tree.entry(xi);
        progress.advance(1, entry.size);
        let file = entry.path.as_str();
        let Some(bytes) = read_whole(content, entry, XML_LIMIT, &mut labels.warnings) else {
            continue;
        };
        let text = crate::labels::text(&bytes, file, &mut labels.warnings);
        let ann = match parse_xml(&text) {
            Ok(a) => a,
            Err((msg, line)) => {
                labels.warn(file, Some(line), format!("not a VOC annotation: {msg}"));
                continue;
            }
        };
        let image = ann
            .filename
            .as_deref()
            .filter(|f| !f.is_empty())
            .and_then(|f| paths::join(&images_dir, f))
            .and_then(|p| tree.get(&p))
            .or_else(|| by_stem.get(paths::stem(file)).copied())
            .or_else(|| {
                ann.filename
                    .as_deref()
                    .and_then(|f| by_stem.get(paths::stem(f)).copied())
            });
        let path = match image {
            Some(i) => {
                labelled.insert(i);
                tree.entry(i).path.clone()
            }
            None => {
                labels.warn(
                    file,
                    None,
                    format!(
                        "its image{} is not in {images_dir}; its objects are still counted",
                        ann.filename
                            .as_deref()
                            .map(|f| format!(" '{f}'"))
                            .unwrap_or_default()
                    ),
                );
                labels.without_images.push(file);
                match &ann.filename {
                    Some(f) if !f.is_empty() => sub(&images_dir, f),
                    _ => file.to_string(),
                }
            }
        };
        let mut classes: Vec<ClassCount> = Vec::new();
        for (k, o) in ann.objects.iter().enumerate() {
            if o.name.is_empty() {
                labels.warn(
                    file,
                    None,
                    format!("object #{} has no name; not counted", k + 1),
                );
                continue;
            }
            let class = labels.class(&o.name);
            add_instances(&mut classes, class, |c| {
                c.instances += 1;
                c.difficult += u32::from(o.difficult);
                c.truncated += u32::from(o.truncated);
            });
        }
        let split = splits
            .get(paths::stem(&path))
            .or_else(|| splits.get(paths::stem(file)))
            .copied();
        labels.images.push(Image {
            path,
            entry: image,
            split,
            classes: Some(classes),
        });
    }
    progress.end();
    for i in tree.under(&images_dir) {
        let p = &tree.entry(i).path;
        if paths::is_image(p) && !paths::is_noise(p) && !labelled.contains(&i) {
            let split = splits.get(paths::stem(p)).copied();
            labels.images.push(Image {
                path: p.clone(),
                entry: Some(i),
                split,
                classes: None,
            });
        }
    }
    Ok(())
}

/// Whether an XML prefix looks like a VOC annotation.
pub(crate) fn looks_like_voc(prefix: &[u8]) -> bool {
    let has = |k: &[u8]| prefix.windows(k.len()).any(|w| w == k);
    has(b"<annotation") && (has(b"<object") || has(b"<filename"))
}
