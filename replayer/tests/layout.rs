//! The crate's layout as a rule: no module imports a module that (directly
//! or through others) imports it back. Each source file is a module; an
//! import is any `crate::…` or `super::…` path in its code (unit tests left
//! out), resolved to the longest module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
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

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        let text = std::fs::read_to_string(file).expect("read");
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        // `super` of `oracle/invariant/mod.rs` and of `oracle/race.rs` alike is `oracle`.
        let parent: Vec<String> =
            module.iter().take(module.len().saturating_sub(1)).cloned().collect();
        let mut targets = BTreeSet::new();
        for path in paths_after(code, "crate::") {
            targets
                .insert(resolve(&modules, &path.iter().map(|s| s.to_string()).collect::<Vec<_>>()));
        }
        for path in paths_after(code, "super::") {
            let full: Vec<String> =
                parent.iter().cloned().chain(path.iter().map(|s| s.to_string())).collect();
            targets.insert(resolve(&modules, &full));
        }
        // The crate root only declares and re-exports: paths through it
        // (`crate::Error`) would hide an edge, so the code names modules.
        assert!(
            !targets.contains(&Vec::new()),
            "{} imports through the crate root",
            file.display()
        );
        targets.remove(&module);
        graph.insert(module, targets);
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        let cycle = find_cycle(&graph, module, &mut Vec::new(), &mut done);
        assert!(cycle.is_none(), "an import cycle: {}", cycle.unwrap_or_default().join(" → "));
    }
    assert!(graph.len() > 30, "the modules were found: {:?}", graph.keys());
}
