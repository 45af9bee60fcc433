//! The interleaved-validator family: a conditional write A sent with the
//! validator v a read gave it, the read again and another write B with the
//! fresh validator, then A again with v (now twice stale), marked so its
//! effect is visible. A server that only refuses a validator used twice in a
//! row, or that compares against the previous version, accepts the last A.

use venomqa_learner::Location;

use crate::mutate::journey::Journey;
use crate::run::sequence::{Bind, Call, SeqStep, Sequence};

impl Journey<'_> {
    /// A@v, a fresh read, B with the fresh validator, then A@v marked.
    pub(super) fn interleaved_validator(&self) -> Vec<Sequence> {
        let mut out = Vec::new();
        for (i, a) in self.steps().iter().enumerate() {
            let c = &a.call;
            if c.is_read() || c.login || c.logout || c.creates.is_some() {
                continue;
            }
            let Some(v) = c.binds.iter().find(|b| is_validator(b)) else { continue };
            let Some(read) = self.steps()[..i].iter().rfind(|s| s.origin == v.origin) else {
                continue;
            };
            if !read.call.is_read() {
                continue;
            }
            // B: A again, and each other conditional write of the journey on
            // the same URL (a PUT beside a PATCH).
            let others = self.steps().iter().filter(|b| {
                self.own(b)
                    && b.call.action() != c.action()
                    && !b.call.is_read()
                    && b.call.binds.iter().any(is_validator)
                    && same_url(&b.call, c)
            });
            for b in std::iter::once(a).chain(others) {
                out.push(self.interleaved(i, a, read, b));
            }
        }
        out
    }

    /// The journey up to step `i`, then A (`a`), a fresh `read`, `b` with
    /// the fresh validator, and A again with the first one, marked.
    fn interleaved(&self, i: usize, a: &SeqStep, read: &SeqStep, b: &SeqStep) -> Sequence {
        // Every step of the mutation is inserted (a fresh origin), so the
        // cut to relevant steps keeps A even where it names no instance.
        let first = self.seq.fresh_origin();
        let inserted = |step: &SeqStep, n: u32| SeqStep { origin: first + n, ..step.clone() };
        let fresh_read = inserted(read, 1);
        let mut b = inserted(b, 2);
        b.call.idem_salt = 1;
        for bind in b.call.binds.iter_mut().filter(|b| is_validator(b)) {
            bind.origin = first + 1;
        }
        let mut again = inserted(a, 3);
        again.call.idem_salt = 2;
        again.call.marker = true;
        let mut steps = self.steps()[..i].to_vec();
        steps.extend([inserted(a, 0), fresh_read, b, again.focus()]);
        self.new_seq(steps)
    }
}

/// Whether two calls go to the same URL: the same path, every parameter
/// bound to the same value.
fn same_url(a: &Call, b: &Call) -> bool {
    let path = |c: &Call| c.action().split_once(' ').map(|(_, p)| p.to_string());
    let params = |c: &Call| -> Vec<Bind> {
        c.binds.iter().filter(|b| matches!(b.to, Location::Path { .. })).cloned().collect()
    };
    let (pa, pb) = (params(a), params(b));
    path(a) == path(b) && pa.len() == pb.len() && pa.iter().all(|x| pb.contains(x))
}

/// A conditional request header bound to an earlier answer (`If-Match`).
fn is_validator(b: &Bind) -> bool {
    matches!(&b.to, Location::Header { name } if name.starts_with("if-"))
}
