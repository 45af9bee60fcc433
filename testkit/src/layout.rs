//! Module layout as a rule: no module of a crate imports a module that
//! (directly or through others) imports it back.
//!
//! Each source file is a module; an import is any `crate::…` or `super::…`
//! path in its code (unit tests and comments left out), resolved to the longest module it
//! names. A path through the crate root (`crate::Error`) names no module and
//! is checked with [`imports_through_root`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
pub(crate) fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `oracle/invariant/mod.rs` → `["oracle", "invariant"]`; `lib.rs` → `[]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("under src").with_extension("");
    let mut parts: Vec<String> =
        relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The paths that follow `prefix` in `code`: `crate::run::execute::Trace`
/// gives `["run", "execute", "Trace"]`.
fn paths_after<'a>(code: &'a str, prefix: &str) -> Vec<Vec<&'a str>> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        out.push(rest[..end].split("::").filter(|s| !s.is_empty()).collect());
    }
    out
}

/// The longest known module that `path` starts with.
fn resolve(modules: &BTreeSet<Vec<String>>, path: &[String]) -> Vec<String> {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|m| modules.contains(m))
        .unwrap_or_default()
}

/// A cycle through `node`, if the graph has one reachable from it.
fn find_cycle(
    graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
    node: &Vec<String>,
    stack: &mut Vec<Vec<String>>,
    done: &mut BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    if let Some(at) = stack.iter().position(|m| m == node) {
        return Some(stack[at..].iter().map(|m| format!("crate::{}", m.join("::"))).collect());
    }
    if done.contains(node) {
        return None;
    }
    stack.push(node.clone());
    for next in graph.get(node).into_iter().flatten() {
        if let Some(cycle) = find_cycle(graph, next, stack, done) {
            return Some(cycle);
        }
    }
    stack.pop();
    done.insert(node.clone());
    None
}

/// The module graph of the crate whose sources are in `src`: each module
/// and the modules its code imports (itself left out; the crate root as `[]`).
pub fn module_graph(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(src, f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(src, file);
        let text = std::fs::read_to_string(file).expect("read a source file");
        // Unit tests and comments (intra-doc links) are not imports.
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or("")
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let code = code.as_str();
        // `super` of `oracle/invariant/mod.rs` and of `oracle/race.rs` alike is `oracle`.
        let parent: Vec<String> =
            module.iter().take(module.len().saturating_sub(1)).cloned().collect();
        let mut targets = BTreeSet::new();
        for path in paths_after(code, "crate::") {
            let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
            targets.insert(resolve(&modules, &path));
        }
        for path in paths_after(code, "super::") {
            let full: Vec<String> =
                parent.iter().cloned().chain(path.iter().map(|s| s.to_string())).collect();
            targets.insert(resolve(&modules, &full));
        }
        targets.remove(&module);
        graph.insert(module, targets);
    }
    graph
}

/// The modules that import something through the crate root (`crate::Error`
/// instead of `crate::error::Error`), which hides the edge from the graph.
pub fn imports_through_root(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<String> {
    graph
        .iter()
        .filter(|(module, targets)| !module.is_empty() && targets.contains(&Vec::new()))
        .map(|(module, _)| format!("crate::{}", module.join("::")))
        .collect()
}

/// The first import cycle of the graph, as `crate::a → crate::b → …`, if any.
/// Edges into the crate root are left out: it only declares and re-exports.
pub fn import_cycle(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<String> {
    let graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = graph
        .iter()
        .map(|(m, targets)| {
            (m.clone(), targets.iter().filter(|t| !t.is_empty()).cloned().collect())
        })
        .collect();
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|module| find_cycle(&graph, module, &mut Vec::new(), &mut done))
        .map(|cycle| cycle.join(" → "))
}
