//! COCO JSON: `images`, `annotations` and `categories`. The file is parsed once, from the byte
//! slice, into structs holding only the fields counted (image id and file name, annotation
//! image, category and crowd flag, category id and name): segmentations, boxes and everything
//! else are skipped by serde without being built, so a 450 MB `instances_train2017.json` costs
//! its bytes plus a few tens of MB.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::labels::{add_instances, Image, Labels};
use crate::paths::{self, Names, Tree};

/// An id as COCO writers spell it: usually an integer, sometimes a string or `3.0`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Id {
    Int(i64),
    Text(Box<str>),
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Int(i) => write!(f, "{i}"),
            Id::Text(s) => f.write_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer or string id")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Id, E> {
                Ok(Id::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                i64::try_from(v)
                    .map(Id::Int)
                    .or_else(|_| Ok(Id::Text(v.to_string().into())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Id, E> {
                if v.fract() == 0.0 && v.abs() < 9e15 {
                    Ok(Id::Int(v as i64))
                } else {
                    Ok(Id::Text(v.to_string().into()))
                }
            }
            fn visit_str<E>(self, v: &str) -> Result<Id, E> {
                Ok(v.parse::<i64>()
                    .map(Id::Int)
                    .unwrap_or_else(|_| Id::Text(v.into())))
            }
        }
        d.deserialize_any(V)
    }
}

/// `iscrowd` as 0/1, a bool, or absent.
#[derive(Default)]
struct Flag(bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("0, 1 or a boolean")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Flag, E> {
                Ok(Flag(v != 0))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Flag, E> {
                Ok(Flag(v != 0))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Flag, E> {
                Ok(Flag(v != 0.0))
            }
            fn visit_unit<E>(self) -> Result<Flag, E> {
                Ok(Flag(false))
            }
        }
        d.deserialize_any(V)
    }
}

// Fields not named here (segmentation, bbox, area, info, licenses, ...) are skipped by serde's
// derive as `IgnoredAny`: scanned, never allocated.
#[derive(Deserialize)]
struct Doc<'a> {
    #[serde(default, borrow)]
    images: Vec<CocoImage<'a>>,
    #[serde(default)]
    annotations: Vec<Annotation>,
    #[serde(default, borrow)]
    categories: Vec<Category<'a>>,
}

#[derive(Deserialize)]
struct CocoImage<'a> {
    id: Option<Id>,
    #[serde(default, borrow)]
    file_name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Annotation {
    image_id: Option<Id>,
    category_id: Option<Id>,
    #[serde(default)]
    iscrowd: Flag,
}

#[derive(Deserialize)]
struct Category<'a> {
    id: Option<Id>,
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
}

/// The split a COCO file name gives: `instances_<split>.json`.
pub(crate) fn split_of(file: &str) -> Option<String> {
    paths::stem(file)
        .strip_prefix("instances_")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Whether the first bytes of a JSON file look like COCO (the sniff reads a prefix only: in a
/// large file `categories` comes last).
pub(crate) fn looks_like_coco(prefix: &[u8], whole: bool) -> bool {
    let has = |key: &str| prefix.windows(key.len()).any(|w| w == key.as_bytes());
    let start = prefix.iter().find(|b| !b.is_ascii_whitespace());
    if start != Some(&b'{') {
        return false;
    }
    if whole {
        has("\"images\"") && has("\"annotations\"") && has("\"categories\"")
    } else {
        has("\"images\"") && (has("\"file_name\"") || has("\"annotations\""))
    }
}

/// Counts one COCO file into `labels`, its images in `split`.
pub(crate) fn parse_into(
    labels: &mut Labels,
    tree: &Tree,
    names: &Names,
    file: &str,
    bytes: &[u8],
    split: Option<&str>,
) {
    labels.counters.crowd = true;
    let lossy;
    let doc = match serde_json::from_slice::<Doc>(bytes) {
        Ok(doc) => doc,
        Err(e) if std::str::from_utf8(bytes).is_err() => {
            // JSON must be UTF-8; a writer that emitted Latin-1 names still has readable counts.
            labels.warn(
                file,
                None,
                "not valid UTF-8: undecodable bytes were replaced (class names may show \u{fffd})",
            );
            lossy = String::from_utf8_lossy(bytes).into_owned();
            match serde_json::from_str::<Doc>(&lossy) {
                Ok(doc) => doc,
                Err(_) => {
                    labels.warn(file, Some(e.line() as u64), format!("not COCO JSON: {e}"));
                    return;
                }
            }
        }
        Err(e) => {
            labels.warn(file, Some(e.line() as u64), format!("not COCO JSON: {e}"));
            return;
        }
    };
    count(labels, tree, names, file, doc, split);
}

fn count(
    labels: &mut Labels,
    tree: &Tree,
    names: &Names,
    file: &str,
    doc: Doc,
    split: Option<&str>,
) {
    let split = split.map(|s| labels.split(s));

    let mut categories: HashMap<Id, u32> = HashMap::with_capacity(doc.categories.len());
    for (i, c) in doc.categories.iter().enumerate() {
        let Some(id) = &c.id else {
            labels.warn(
                file,
                None,
                format!("category #{} has no id; skipped", i + 1),
            );
            continue;
        };
        let name = match c.name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => {
                labels.warn(
                    file,
                    None,
                    format!("category {id} has no name; named by its id"),
                );
                id.to_string()
            }
        };
        let class = labels.class(&name);
        if categories.insert(id.clone(), class).is_some() {
            labels.warn(
                file,
                None,
                format!("category id {id} is declared twice; the last name wins"),
            );
        }
    }

    let dir = paths::parent(file);
    let up = paths::parent(dir);
    let mut roots: Vec<String> = vec![dir.to_string(), up.to_string()];
    if let Some(s) = split.map(|s| labels.split_names[s as usize].clone()) {
        for base in [up, dir] {
            roots.push(paths::join(base, &s).unwrap_or_default());
            roots.push(paths::join(base, &format!("images/{s}")).unwrap_or_default());
        }
    }
    roots.push(paths::join(up, "images").unwrap_or_default());

    let first = labels.images.len();
    let mut images: HashMap<Id, usize> = HashMap::with_capacity(doc.images.len());
    let (mut missing, mut first_missing) = (0u64, None);
    for (i, img) in doc.images.into_iter().enumerate() {
        let Some(id) = img.id else {
            labels.warn(file, None, format!("image #{} has no id; skipped", i + 1));
            continue;
        };
        let name = img
            .file_name
            .as_deref()
            .unwrap_or("")
            .trim()
            .replace('\\', "/");
        let entry = roots
            .iter()
            .filter_map(|root| paths::join(root, &name))
            .find_map(|p| tree.get(&p))
            .or_else(|| names.unique(&name));
        if entry.is_none() {
            missing += 1;
            first_missing.get_or_insert_with(|| name.clone());
        }
        let path = match entry {
            Some(e) => tree.entry(e).path.clone(),
            None if name.is_empty() => format!("{file}#image {id}"),
            None => name,
        };
        if images.contains_key(&id) {
            labels.warn(
                file,
                None,
                format!("image id {id} is declared twice; the first is kept"),
            );
            continue;
        }
        images.insert(id, labels.images.len());
        labels.images.push(Image {
            path,
            entry,
            split,
            classes: None,
        });
    }
    if missing > 0 {
        let total = labels.images.len() - first;
        labels.warn(
            file,
            None,
            format!(
                "{missing} of its {total} images are not in this version (first: '{}'); they are counted from the annotations",
                first_missing.unwrap_or_default()
            ),
        );
    }

    let (mut bad_image, mut bad_category, mut incomplete) = (0u64, 0u64, 0u64);
    let (mut first_bad_image, mut first_bad_category) = (None, None);
    for a in &doc.annotations {
        let (Some(image_id), Some(category_id)) = (&a.image_id, &a.category_id) else {
            incomplete += 1;
            continue;
        };
        let Some(&index) = images.get(image_id) else {
            bad_image += 1;
            first_bad_image.get_or_insert_with(|| image_id.to_string());
            continue;
        };
        let Some(&class) = categories.get(category_id) else {
            bad_category += 1;
            first_bad_category.get_or_insert_with(|| category_id.to_string());
            labels.unknown_class(&category_id.to_string(), file, 1);
            continue;
        };
        let list = labels.images[index].classes.get_or_insert_with(Vec::new);
        let crowd = a.iscrowd.0;
        add_instances(list, class, |c| {
            // Crowd regions are one box over many objects: not instances, counted apart.
            if crowd {
                c.crowd += 1;
            } else {
                c.instances += 1;
            }
        });
    }
    if bad_image > 0 {
        labels.warn(
            file,
            None,
            format!(
                "{bad_image} annotations name image ids not in its images (first: {}); not counted",
                first_bad_image.unwrap_or_default()
            ),
        );
    }
    if bad_category > 0 {
        labels.warn(
            file,
            None,
            format!(
                "{bad_category} annotations name category ids not in its categories (first: {}); listed as unknown classes",
                first_bad_category.unwrap_or_default()
            ),
        );
    }
    if incomplete > 0 {
        labels.warn(
            file,
            None,
            format!("{incomplete} annotations lack an image_id or category_id; not counted"),
        );
    }
}
