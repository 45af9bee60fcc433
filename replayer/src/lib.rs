//! venomqa-replayer: replays learned journeys, mutated, against a test target,
//! judges each run with oracles and invariants, shrinks failures, reports findings.
mod finding;
pub use finding::*;
mod invariant;
pub use invariant::*;
pub mod report;
