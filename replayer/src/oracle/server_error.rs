//! The server-error oracle: any 5xx answer is a finding, whatever the
//! sequence was.

use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::{snippet, Trace};
use crate::run::sequence::Sequence;

impl Oracles<'_> {
    pub(super) fn server_errors(&self, seq: &Sequence, trace: &Trace) -> Vec<Verdict> {
        let Some((i, reply)) = trace
            .steps
            .iter()
            .enumerate()
            .find_map(|(i, ex)| ex.replies.iter().find(|r| r.status >= 500).map(|r| (i, r)))
        else {
            return Vec::new();
        };
        vec![Verdict {
            oracle: OracleKind::ServerError,
            confidence: Confidence::High,
            step: i,
            summary: format!("{} answered {}", seq.steps[i].label(), reply.status),
            evidence: vec![format!("answer: {} {}", reply.status, snippet(&reply.body))],
            check: None,
        }]
    }
}
