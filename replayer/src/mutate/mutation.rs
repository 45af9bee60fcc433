//! The mutation families: the ways a recorded journey is changed before it is
//! replayed. The kebab-case name is what the configuration, reports and
//! findings use.

use std::fmt;
use std::str::FromStr;

/// One family of mutations of a journey.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mutation {
    /// Send a step twice in a row (a fresh request, not a retry).
    Duplicate,
    /// Leave out a step that later steps on the same resource followed.
    Drop,
    /// Exchange two consecutive steps on the same resource.
    Swap,
    /// Move a step after a later step on the same resource.
    MoveLater,
    /// Re-send a step on someone's resource as another configured user.
    AsOtherUser,
    /// Act on a resource after its delete was accepted.
    AfterDelete,
    /// Re-use a token after its session logged out.
    AfterLogout,
    /// Send a step N times at once, or two different steps at once.
    Concurrent,
    /// Follow one journey's prefix with another journey's step on the same resource.
    Splice,
    /// Retry a step with the same `Idempotency-Key`.
    IdempotencyRetry,
    /// Send a conditional write with a validator (`If-Match`) another write made stale.
    StaleValidator,
    /// A conditional write, another write with a fresh validator, then the
    /// first write again with its old one (A@v, B, A@v).
    InterleavedValidator,
    /// Create a child under its parent after the parent's transition to a
    /// state where the recording never saw children added.
    ChildAfterTransition,
    /// Add a field the responses show but no request ever sent (`status`,
    /// `role`, `balance`) to a create or an update: mass assignment.
    FieldInjection,
    /// Log in as an unknown account and as a known one with a wrong secret,
    /// and compare the answers: user enumeration.
    Enumeration,
    /// Send an action the recording shows only for one role as a user of
    /// another role: broken function-level authorization.
    AsLesserRole,
    /// Name an instance in a create's body (a hold's pickup code, an
    /// invoice to pay) after its owner moved it into a final state
    /// (cancelled, voided).
    AfterFinalState,
    /// A create naming an instance in its body (a hold on a book) repeated
    /// until refused, then a create of another kind naming the same
    /// instance (a loan of it): the same part of it (a copy) given to both.
    DoubleClaim,
}

impl Mutation {
    /// Every family, in the order a run explores them.
    pub const ALL: [Mutation; 18] = [
        Mutation::Duplicate,
        Mutation::Drop,
        Mutation::Swap,
        Mutation::MoveLater,
        Mutation::AsOtherUser,
        Mutation::AfterDelete,
        Mutation::AfterLogout,
        Mutation::Concurrent,
        Mutation::Splice,
        Mutation::IdempotencyRetry,
        Mutation::StaleValidator,
        Mutation::InterleavedValidator,
        Mutation::ChildAfterTransition,
        Mutation::FieldInjection,
        Mutation::Enumeration,
        Mutation::AsLesserRole,
        Mutation::AfterFinalState,
        Mutation::DoubleClaim,
    ];

    /// The name in configuration and reports: `as-other-user`, `stale-validator`, ...
    pub fn name(self) -> &'static str {
        match self {
            Mutation::Duplicate => "duplicate",
            Mutation::Drop => "drop",
            Mutation::Swap => "swap",
            Mutation::MoveLater => "move-later",
            Mutation::AsOtherUser => "as-other-user",
            Mutation::AfterDelete => "after-delete",
            Mutation::AfterLogout => "after-logout",
            Mutation::Concurrent => "concurrent",
            Mutation::Splice => "splice",
            Mutation::IdempotencyRetry => "idempotency-retry",
            Mutation::StaleValidator => "stale-validator",
            Mutation::InterleavedValidator => "interleaved-validator",
            Mutation::ChildAfterTransition => "child-after-transition",
            Mutation::FieldInjection => "field-injection",
            Mutation::Enumeration => "enumeration",
            Mutation::AsLesserRole => "as-lesser-role",
            Mutation::AfterFinalState => "after-final-state",
            Mutation::DoubleClaim => "double-claim",
        }
    }
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a mutation family.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown mutation `{0}`; the mutations are: {names}", names = Mutation::ALL.map(Mutation::name).join(", "))]
pub struct UnknownMutation(pub String);

impl FromStr for Mutation {
    type Err = UnknownMutation;

    fn from_str(s: &str) -> Result<Mutation, UnknownMutation> {
        Mutation::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| UnknownMutation(s.to_string()))
    }
}
