//! The workspace's layout as a rule: in no crate does a module import a
//! module that (directly or through others) imports it back, so each crate
//! reads as stages that point one way.

use std::path::Path;

use venomqa_testkit::layout::{import_cycle, imports_through_root, module_graph};

const CRATES: [&str; 7] = ["traffic", "proxy", "learner", "replayer", "samples", "testkit", "."];

#[test]
fn no_crate_has_a_module_that_imports_a_module_that_imports_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cycles = Vec::new();
    for krate in CRATES {
        let graph = module_graph(&root.join(krate).join("src"));
        assert!(graph.len() > 3, "{krate}: the modules were found: {:?}", graph.keys());
        if let Some(cycle) = import_cycle(&graph) {
            cycles.push(format!("{krate}: {cycle}"));
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_replayer_names_modules_not_the_crate_root_in_its_imports() {
    // The replayer had a cycle once (execute → plan → starter → plan); its
    // modules name what they import, so the graph above sees every edge.
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("replayer/src"));
    assert_eq!(imports_through_root(&graph), Vec::<String>::new());
    assert!(graph.len() > 30, "the replayer's modules were found: {:?}", graph.keys());
}
