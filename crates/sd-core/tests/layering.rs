//! sd-core's modules import each other without a circle: each concept can be
//! read, tested and moved knowing only the ones below it. This walks the
//! sources, resolves every `crate::`/`super::` path (in `use` lists too) to
//! the module file it names, and refuses a cycle. The crate root and
//! `error` are left out: every module returns the crate's `Error`, which
//! nests the error types of the modules it reports for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path ("azure::sd_file") → source text, tests and comments removed.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().to_string_lossy().replace(".rs", "");
            let name = match rel.as_str() {
                "lib" => String::new(),
                r => r.strip_suffix("/mod").unwrap_or(r).replace('/', "::"),
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let code: String =
                code.lines().map(|l| l.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n");
            out.insert(name, code);
        }
    }
    out
}

/// `use a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(path: &str) -> Vec<String> {
    let Some(open) = path.find('{') else { return vec![path.to_owned()] };
    let (prefix, body) = (&path[..open], &path[open + 1..path.len() - 1]);
    let (mut items, mut depth, mut current) = (Vec::new(), 0, String::new());
    for c in body.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current);
    items.iter().filter(|i| !i.is_empty()).flat_map(|i| expand(&format!("{prefix}{i}"))).collect()
}

/// A `use` tree without whitespace and without its `as NAME` renames.
fn without_aliases(tree: &str) -> String {
    let mut out = String::new();
    let mut words = tree.split_whitespace();
    while let Some(word) = words.next() {
        if word == "as" {
            // Keep what closes the list after the new name: `as Y},`.
            let renamed = words.next().unwrap_or_default();
            out.extend(renamed.chars().filter(|c| matches!(c, ',' | '}')));
        } else {
            out.push_str(word);
        }
    }
    out
}

/// The module a path names from inside `current`, if it is in this crate.
fn resolve(current: &str, path: &str, known: &BTreeMap<String, String>) -> Option<String> {
    let mut parts: Vec<&str> = path.split("::").collect();
    let mut base: Vec<&str> = match parts.first()? {
        &"crate" => Vec::new(),
        &"super" | &"self" => current.split("::").filter(|s| !s.is_empty()).collect(),
        _ => return None,
    };
    while let Some(first) = parts.first() {
        match *first {
            "crate" | "self" => {}
            "super" => {
                base.pop();
            }
            _ => break,
        }
        parts.remove(0);
    }
    let full: Vec<&str> = base.into_iter().chain(parts).collect();
    (0..=full.len()).rev().map(|i| full[..i].join("::")).find(|m| known.contains_key(m))
}

fn imports(modules: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges = BTreeMap::new();
    for (name, code) in modules {
        let mut paths = Vec::new();
        for stmt in code.split(';') {
            if let Some(u) = stmt.trim().strip_prefix("use ").or_else(|| stmt.trim().strip_prefix("pub use "))
            {
                paths.extend(expand(&without_aliases(u)));
            }
        }
        // Paths written inline: crate::a::b::f(…), super::x.
        for (i, _) in code.match_indices("crate::").chain(code.match_indices("super::")) {
            let tail: String =
                code[i..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            paths.push(tail);
        }
        let deps: BTreeSet<String> = paths
            .iter()
            .filter_map(|p| resolve(name, p.trim_end_matches(':'), modules))
            .filter(|m| m != name && !m.is_empty() && m != "error")
            .collect();
        edges.insert(name.clone(), deps);
    }
    edges
}

/// A cycle through `from`, if any: the path back to it.
fn cycle_from(from: &str, edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    let mut stack = vec![vec![from.to_owned()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        for next in edges.get(last).into_iter().flatten() {
            if next == from {
                return Some([path.clone(), vec![next.clone()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push([path.clone(), vec![next.clone()]].concat());
            }
        }
    }
    None
}

#[test]
fn no_module_imports_in_a_circle() {
    let modules = modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let edges = imports(&modules);
    assert!(edges.len() > 30, "found too few modules: {:?}", edges.keys());
    assert!(
        edges["handoff::recovery_request"].contains("attestation"),
        "the walk sees imports: {:?}",
        edges["handoff::recovery_request"]
    );
    let cycles: Vec<String> =
        edges.keys().filter_map(|m| cycle_from(m, &edges)).map(|c| c.join(" → ")).collect();
    assert!(cycles.is_empty(), "modules importing in a circle:\n{}", cycles.join("\n"));
}

#[test]
fn the_walk_finds_a_circle_when_there_is_one() {
    let modules: BTreeMap<String, String> = [
        ("a".to_owned(), "use crate::b::Thing;".to_owned()),
        ("b".to_owned(), "fn f() { crate::c::g() }".to_owned()),
        ("c".to_owned(), "use super::{a::{self as alias, X}};".to_owned()),
    ]
    .into();
    let edges = imports(&modules);
    assert_eq!(cycle_from("a", &edges).unwrap(), ["a", "b", "c", "a"]);
}
