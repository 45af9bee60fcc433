//! The invariant oracle: a user invariant false on a read-back.

use std::collections::HashSet;

use crate::oracle::finding::{Check, Confidence, OracleKind};
use crate::oracle::invariant::Invariant;
use crate::oracle::{compact, Oracles, Verdict};
use crate::run::execute::{ProbeAt, Trace, SETTLE};

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
                            check: self.invariant_check(trace, probe, inv),
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

    /// The reproducer's check: the owner's read after the step, with the
    /// invariant evaluated on it by awk (see `Oracles::read_for_script` for
    /// when the script can send that read); `None` otherwise, or when awk
    /// cannot evaluate the expression as CEL does (said in the debug log).
    fn invariant_check(&self, trace: &Trace, probe: &ProbeAt, inv: &Invariant) -> Option<Check> {
        let request = self.read_for_script(trace, &probe.snapshot, probe.instance, probe.after)?;
        let json = probe.snapshot.json.as_ref()?;
        match inv.awk(json) {
            Ok(awk) => Some(Check::Invariant {
                request,
                after: probe.after,
                name: inv.name.clone(),
                expr: inv.expr.clone(),
                awk,
            }),
            Err(reason) => {
                tracing::debug!(invariant = %inv.name, %reason, "a reproducer cannot evaluate this invariant");
                None
            }
        }
    }
}
