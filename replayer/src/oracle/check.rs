//! Checking a sequence: run it, then ask each oracle that fits its mutation
//! family, and keep the most specific verdict.

use std::collections::HashSet;

use crate::error::Error;
use crate::mutate::mutation::Mutation;
use crate::oracle::{rank, Checked, Oracles, Verdict};
use crate::run::execute::Trace;
use crate::run::sequence::Sequence;

impl Oracles<'_> {
    /// Runs `seq` (and what its family compares it with) and checks it.
    /// `family` is `None` for an unmutated journey; `broken` names the
    /// invariants the unmutated journey already violates.
    pub async fn check(
        &self,
        family: Option<Mutation>,
        seq: &Sequence,
        broken: &HashSet<String>,
    ) -> Result<Checked, Error> {
        let trace = self.runner.run(seq, self.reset, false).await?;
        self.judge(family, seq, broken, trace).await
    }

    /// Like [`Oracles::check`], on a target just rolled back to the state
    /// the first `steps` steps of `seq` left (`prefix` their run): only the
    /// steps after them are sent.
    pub async fn check_resumed(
        &self,
        family: Option<Mutation>,
        seq: &Sequence,
        broken: &HashSet<String>,
        (prefix, steps): (&Trace, usize),
    ) -> Result<Checked, Error> {
        let trace = self.runner.run_resumed(seq, prefix, steps).await?;
        self.judge(family, seq, broken, trace).await
    }

    /// Asks the oracles `family` calls for about a run of `seq`.
    async fn judge(
        &self,
        family: Option<Mutation>,
        seq: &Sequence,
        broken: &HashSet<String>,
        mut trace: Trace,
    ) -> Result<Checked, Error> {
        let (mut runs, mut inconclusive) = (1, false);
        let mut verdicts = self.server_errors(seq, &trace);
        let focus = seq.focus().filter(|f| trace.steps.len() > *f);
        match (family, focus) {
            (Some(Mutation::Concurrent), Some(f)) => {
                let (verdict, n, uncontended) = self.race_rounds(seq, &mut trace, f).await?;
                runs += n;
                inconclusive = uncontended;
                verdicts.extend(verdict);
            }
            (Some(Mutation::AsOtherUser), Some(f)) => {
                verdicts.extend(self.cross_user(&trace, f).await?)
            }
            (Some(Mutation::AfterDelete), Some(f)) if seq.steps[f].call.creates.is_some() => {
                verdicts.extend(self.create_after_delete(seq, &trace, f))
            }
            (Some(Mutation::AfterDelete), Some(f)) => {
                verdicts.extend(self.after_delete(seq, &trace, f))
            }
            // A create has no "before": its own oracle proves the instance
            // exists and that a made-up token would have been refused.
            (Some(Mutation::AfterLogout), Some(f)) if seq.steps[f].call.creates.is_some() => {
                verdicts.extend(self.dead_create(seq, &trace, f).await?)
            }
            (Some(Mutation::AfterLogout), Some(f)) => {
                verdicts.extend(self.stale_token(&trace, f).await?)
            }
            (Some(Mutation::Duplicate), Some(f))
                if seq.steps[f].call.creates.is_some() || seq.steps[f].call.acts_on.is_none() =>
            {
                verdicts.extend(self.consumed_twice(seq, &trace, f).await?)
            }
            (Some(Mutation::IdempotencyRetry), Some(f)) => {
                verdicts.extend(self.idempotency(seq, &trace, f))
            }
            // On an instance, judged by its read-back; on a singleton
            // (no instance of its own), by reading it again.
            (Some(Mutation::StaleValidator), Some(f)) => match self.stale_write(seq, &trace, f) {
                Some(v) => verdicts.push(v),
                None => verdicts.extend(self.interleaved_write(&trace, f).await?),
            },
            (Some(family), Some(f)) => {
                verdicts.extend(self.model_family(family, seq, &trace, f).await?)
            }
            _ => {}
        }
        if family.is_none() {
            verdicts.extend(self.refused_as_recorded(seq, &trace));
        }
        if family != Some(Mutation::Concurrent) {
            verdicts.extend(self.violations(&trace, broken, 0).into_iter().next().map(|(v, _)| v));
        }
        if matches!(
            family,
            Some(
                Mutation::Duplicate
                    | Mutation::Drop
                    | Mutation::Swap
                    | Mutation::MoveLater
                    | Mutation::Splice
            )
        ) {
            verdicts.extend(self.unexpected_accept(seq, &trace));
        }
        verdicts.sort_by_key(|v| (rank(v.oracle), v.step));
        let verdict = verdicts.into_iter().next();
        inconclusive &= verdict.is_none();
        Ok(Checked { verdict, trace, runs, inconclusive })
    }

    /// The failures of an unmutated journey's run: a 5xx, a request the
    /// recording saw refused when sent again that was accepted, or an
    /// invariant it breaks.
    pub fn check_plain(&self, seq: &Sequence, trace: &Trace) -> Option<Verdict> {
        let mut verdicts = self.server_errors(seq, trace);
        verdicts.extend(self.refused_as_recorded(seq, trace));
        verdicts.extend(self.violations(trace, &HashSet::new(), 0).into_iter().map(|(v, _)| v));
        verdicts.into_iter().min_by_key(|v| (rank(v.oracle), v.step))
    }
}
