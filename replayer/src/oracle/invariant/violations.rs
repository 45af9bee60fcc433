//! The invariant oracle: a user invariant false on a read-back.

use std::collections::HashSet;

use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::{compact, Oracles, Verdict};
use crate::run::execute::{Trace, SETTLE};

impl Oracles<'_> {
    /// Invariants false on a read-back at or after step `from`, except those
    /// in `broken`; with the violated invariant's name.
    pub(crate) fn violations(
        &self,
        trace: &Trace,
        broken: &HashSet<String>,
        from: usize,
    ) -> Vec<(Verdict, String)> {
        let mut out = Vec::new();
        for probe in trace.probes.iter().filter(|p| p.after >= from && p.after < SETTLE) {
            let (Some(json), true) = (&probe.snapshot.json, probe.snapshot.ok()) else { continue };
            let Some(inst) = trace.instances.get(probe.instance) else { continue };
            let resource = &self.plan.resources[inst.resource].name;
            for inv in self.invariants.iter().filter(|i| &i.resource == resource) {
                match inv.check(json) {
                    Ok(false) if !broken.contains(&inv.name) => out.push((
                        Verdict {
                            oracle: OracleKind::Invariant,
                            confidence: Confidence::High,
                            step: probe.after,
                            summary: format!("invariant \"{}\" ({}) is false", inv.name, inv.expr),
                            evidence: vec![format!(
                                "{} {} read back by its owner: {}",
                                inv.variable(),
                                inst.id,
                                compact(json)
                            )],
                            check: None,
                        },
                        inv.name.clone(),
                    )),
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "invariant not evaluated"),
                }
            }
        }
        out
    }
}
