//! The nine sequence bugs the shop can plant, and the set of them a shop runs with.
//!
//! Every bug lives *between* calls: each endpoint behaves correctly on its own,
//! and only a particular sequence (or two concurrent calls) shows the fault.
//! Every violating call answers 2xx, so a tester who looks at one response at
//! a time sees nothing wrong. Each bug covers one class of sequence bug:
//! double operations, stale state, order dependence, idempotency, missing
//! authorization and races.

use std::fmt;
use std::str::FromStr;

/// One planted sequence bug, named in kebab-case on the command line and in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bug {
    /// A second refund of the same order is accepted.
    DoubleRefund,
    /// An order that was never paid can be shipped.
    ShipUnpaid,
    /// A shipped order can still be cancelled (and is refunded).
    CancelAfterShip,
    /// Another user's order can be read and paid by its id.
    CrossUser,
    /// A deleted order can be paid, which charges it and brings it back.
    PayAfterDelete,
    /// Two refunds sent at the same time are both accepted.
    ConcurrentRefund,
    /// A token keeps working after its session logged out.
    TokenAfterLogout,
    /// A pay retried with the same `Idempotency-Key` charges again.
    IdempotencyRecharge,
    /// A `PATCH` with an outdated `If-Match` overwrites a newer version.
    LostUpdate,
}

impl Bug {
    /// Every bug, in the order they are documented.
    pub fn all() -> [Bug; 9] {
        [
            Bug::DoubleRefund,
            Bug::ShipUnpaid,
            Bug::CancelAfterShip,
            Bug::CrossUser,
            Bug::PayAfterDelete,
            Bug::ConcurrentRefund,
            Bug::TokenAfterLogout,
            Bug::IdempotencyRecharge,
            Bug::LostUpdate,
        ]
    }

    /// The kebab-case name used by `--bugs` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Bug::DoubleRefund => "double-refund",
            Bug::ShipUnpaid => "ship-unpaid",
            Bug::CancelAfterShip => "cancel-after-ship",
            Bug::CrossUser => "cross-user",
            Bug::PayAfterDelete => "pay-after-delete",
            Bug::ConcurrentRefund => "concurrent-refund",
            Bug::TokenAfterLogout => "token-after-logout",
            Bug::IdempotencyRecharge => "idempotency-recharge",
            Bug::LostUpdate => "lost-update",
        }
    }

    /// One line saying what goes wrong, for help texts and the README.
    pub fn describe(self) -> &'static str {
        match self {
            Bug::DoubleRefund => "a second refund of the same order is accepted: `refunded` grows past `amount`",
            Bug::ShipUnpaid => "an order can be shipped while still `created`, never paid",
            Bug::CancelAfterShip => "a shipped order can be cancelled, which refunds goods already sent",
            Bug::CrossUser => "another user's order can be read and paid by its id",
            Bug::PayAfterDelete => "a deleted order can be paid: it is charged and comes back from the dead",
            Bug::ConcurrentRefund => {
                "two refunds sent at the same time are both accepted (check and write are not atomic)"
            }
            Bug::TokenAfterLogout => "logout answers 204 but the token keeps working",
            Bug::IdempotencyRecharge => "a pay retried with the same `Idempotency-Key` charges the order again",
            Bug::LostUpdate => "`PATCH` with an outdated `If-Match` is accepted and overwrites a newer version",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Bug {
    type Err = UnknownBug;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Bug::all()
            .into_iter()
            .find(|bug| bug.name() == wanted)
            .ok_or_else(|| UnknownBug(wanted.to_string()))
    }
}

/// A bug name that is not one of the nine; its message lists the valid names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown bug `{0}`; expected `all`, `none` or a comma-separated list of: {names}", names = valid_names())]
pub struct UnknownBug(pub String);

fn valid_names() -> String {
    Bug::all().map(Bug::name).join(", ")
}

/// The bugs a shop plants: parsed from `all`, `none` or `double-refund,lost-update`.
///
/// The default is every bug: the shop is a demo target, and a target with
/// nothing to find demonstrates nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BugSet(u16);

impl BugSet {
    /// Every bug planted.
    pub fn all() -> BugSet {
        BugSet::from_iter(Bug::all())
    }

    /// A correct shop: every violating sequence is refused.
    pub fn none() -> BugSet {
        BugSet(0)
    }

    /// Just this one bug, to check it alone.
    pub fn only(bug: Bug) -> BugSet {
        BugSet(bug.bit())
    }

    /// Whether `bug` is planted.
    pub fn contains(self, bug: Bug) -> bool {
        self.0 & bug.bit() != 0
    }

    /// This set with `bug` added.
    pub fn with(self, bug: Bug) -> BugSet {
        BugSet(self.0 | bug.bit())
    }

    /// This set with `bug` removed.
    pub fn without(self, bug: Bug) -> BugSet {
        BugSet(self.0 & !bug.bit())
    }

    /// The planted bugs, in documentation order.
    pub fn iter(self) -> impl Iterator<Item = Bug> {
        Bug::all().into_iter().filter(move |bug| self.contains(*bug))
    }

    /// Whether no bug is planted.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl Default for BugSet {
    fn default() -> Self {
        BugSet::all()
    }
}

impl FromIterator<Bug> for BugSet {
    fn from_iter<I: IntoIterator<Item = Bug>>(iter: I) -> Self {
        iter.into_iter().fold(BugSet::none(), BugSet::with)
    }
}

impl FromStr for BugSet {
    type Err = UnknownBug;

    /// `all`, `none` (or an empty string), or a comma-separated list of bug names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "all" => Ok(BugSet::all()),
            "none" | "" => Ok(BugSet::none()),
            list => list
                .split(',')
                .filter(|name| !name.trim().is_empty())
                .map(str::parse::<Bug>)
                .collect(),
        }
    }
}

/// `all`, `none`, or the comma-separated names: the same text `FromStr` reads.
impl fmt::Display for BugSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == BugSet::all() {
            return f.write_str("all");
        }
        if self.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<&str> = self.iter().map(Bug::name).collect();
        f.write_str(&names.join(","))
    }
}

impl fmt::Debug for BugSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BugSet({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bug_name_parses_back_to_its_bug() {
        for bug in Bug::all() {
            assert_eq!(bug.name().parse::<Bug>(), Ok(bug));
            assert!(!bug.describe().is_empty());
        }
    }

    #[test]
    fn all_none_and_lists_parse() {
        assert_eq!("all".parse::<BugSet>(), Ok(BugSet::all()));
        assert_eq!("none".parse::<BugSet>(), Ok(BugSet::none()));
        let set: BugSet = "double-refund, lost-update".parse().unwrap();
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![Bug::DoubleRefund, Bug::LostUpdate]);
        assert_eq!(set.to_string(), "double-refund,lost-update");
        assert_eq!(set.to_string().parse::<BugSet>(), Ok(set));
        assert_eq!(BugSet::all().iter().count(), 9);
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_valid_names() {
        let err = "double-refund,refund-twice".parse::<BugSet>().unwrap_err();
        assert_eq!(err, UnknownBug("refund-twice".to_string()));
        let message = err.to_string();
        for bug in Bug::all() {
            assert!(message.contains(bug.name()), "{message}");
        }
    }
}
