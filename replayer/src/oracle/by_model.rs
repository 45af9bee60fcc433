//! The oracles of the families that need more of the model than a
//! reordering does, by family: one place for `check` to ask them.

use crate::error::Error;
use crate::mutate::mutation::Mutation;
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::Trace;
use crate::run::sequence::Sequence;

impl Oracles<'_> {
    /// The verdict of `family`'s own oracle on focus step `f`; `None` for
    /// the families `check` asks itself.
    pub(super) async fn model_family(
        &self,
        family: Mutation,
        seq: &Sequence,
        trace: &Trace,
        f: usize,
    ) -> Result<Option<Verdict>, Error> {
        Ok(match family {
            Mutation::InterleavedValidator => self.interleaved_write(trace, f).await?,
            Mutation::ChildAfterTransition => self.child_after(seq, trace, f),
            Mutation::FieldInjection => self.mass_assignment(seq, trace, f),
            Mutation::Enumeration => self.enumeration(trace, f),
            Mutation::AsLesserRole => self.lesser_role(seq, trace, f),
            Mutation::AfterFinalState => self.left_final_state(trace, f).await?,
            Mutation::DoubleClaim => self.double_claim(seq, trace, f).await?,
            _ => None,
        })
    }
}
