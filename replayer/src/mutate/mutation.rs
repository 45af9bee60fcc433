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
}

impl Mutation {
    /// Every family, in the order a run explores them.
    pub const ALL: [Mutation; 11] = [
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
