//! The engine's layout stays what its `lib.rs` promises: every module is in the "where things
//! live" table, and no two modules import each other, directly or around a loop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn modules() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    std::fs::read_dir(&src)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let module = name.strip_suffix(".rs")?.to_string();
            Some((module, std::fs::read_to_string(e.path()).unwrap()))
        })
        .collect()
}

/// `crate::x` paths in a module's text, for modules that exist.
fn imports(text: &str, known: &BTreeSet<String>, me: &str) -> BTreeSet<String> {
    text.split("crate::")
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (known.contains(&name) && name != me).then_some(name)
        })
        .collect()
}

#[test]
fn modules_import_each_other_without_cycles() {
    let mods = modules();
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    let graph: BTreeMap<&str, BTreeSet<String>> = mods
        .iter()
        .map(|(m, text)| (m.as_str(), imports(text, &known, m)))
        .collect();
    // Depth-first search with a path stack: a module met again on the path closes a cycle.
    fn visit<'a>(
        n: &'a str,
        graph: &'a BTreeMap<&'a str, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(at) = path.iter().position(|p| *p == n) {
            panic!("import cycle: {}", path[at..].join(" -> ") + " -> " + n);
        }
        if !done.insert(n) {
            return;
        }
        path.push(n);
        for d in &graph[n] {
            visit(d.as_str(), graph, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
}

#[test]
fn every_module_is_in_the_where_things_live_table() {
    let mods = modules();
    let lib = &mods["lib"];
    let table: String = lib
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .collect::<Vec<_>>()
        .join("\n");
    for m in mods.keys().filter(|m| *m != "lib") {
        assert!(
            table.contains(&format!("`{m}`")),
            "module {m} is missing from the table in lib.rs"
        );
    }
}
