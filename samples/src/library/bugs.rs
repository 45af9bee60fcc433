//! The seventeen sequence bugs the library can plant, and the set a library runs with.
//!
//! Like the shop's, every bug lives between calls: each endpoint is right on
//! its own, every violating call answers 2xx, and with no bug planted every
//! violating sequence is refused with a 4xx. Together they cover each class
//! of sequence bug: a double operation, stale state, actions after a final
//! state, a cross-user read and write, a write after a soft delete, a race
//! of concurrent duplicates, a session that outlives its logout, and a
//! stale validator; and each kind of evidence beyond one read-back: a
//! field injected into an update, two failed logins that answer apart, a
//! validator reused across two different writes, a child added to a parent
//! after its transition, a write on an instance only a filtered list still
//! shows, a create under a logged-out session, another member's password
//! changed, and a staff-only action taken by a member.
//!
//! The one bug the QA driver's own traffic shows is `login-enumeration`:
//! its failed logins (a mistyped password, an unknown email) carry the
//! leaking messages. Every other request of the driver is answered the same
//! with or without bugs.

use std::fmt;
use std::str::FromStr;

/// One planted library bug, named in kebab-case on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LibraryBug {
    /// A pickup code redeemed twice lends two copies for one hold.
    DoublePickup,
    /// A cancelled hold's pickup code still lends the book.
    PickupAfterCancel,
    /// A returned loan can be renewed, which makes it active again.
    RenewAfterReturn,
    /// A copy set aside for one member's hold is lent to another member.
    BorrowHeldCopy,
    /// Another member's loan can be read and returned by its id.
    CrossMemberLoan,
    /// A withdrawn (soft-deleted) book can still be borrowed by its slug.
    LoanAfterWithdraw,
    /// Two borrows of the last copy sent at the same time both get it.
    ConcurrentBorrow,
    /// A session cookie keeps working after its session logged out.
    SessionAfterLogout,
    /// A preferences write with an outdated `If-Match` overwrites a newer one.
    StalePreferences,
    /// A profile update takes `role`, a field it shows but never takes: mass assignment.
    RoleInjection,
    /// A failed login says whether the email has an account: user enumeration.
    LoginEnumeration,
    /// A preferences `PATCH` takes an `If-Match` from before a later `PUT`.
    StalePatchAfterPut,
    /// A book goes onto a reading list after the list was published.
    ItemAfterPublish,
    /// Staff can edit a withdrawn (soft-deleted) book.
    EditAfterWithdraw,
    /// A create with the `sid` of a logged-out session makes the instance.
    CreateAfterLogout,
    /// A member changes another member's password by their id.
    CrossMemberPassword,
    /// A member features a book, a staff-only action.
    FeatureByMember,
}

impl LibraryBug {
    /// Every bug, in the order they are documented.
    pub fn all() -> [LibraryBug; 17] {
        use LibraryBug::*;
        [
            DoublePickup,
            PickupAfterCancel,
            RenewAfterReturn,
            BorrowHeldCopy,
            CrossMemberLoan,
            LoanAfterWithdraw,
            ConcurrentBorrow,
            SessionAfterLogout,
            StalePreferences,
            RoleInjection,
            LoginEnumeration,
            StalePatchAfterPut,
            ItemAfterPublish,
            EditAfterWithdraw,
            CreateAfterLogout,
            CrossMemberPassword,
            FeatureByMember,
        ]
    }

    /// The kebab-case name used by `--bugs` and in reports.
    pub fn name(self) -> &'static str {
        use LibraryBug::*;
        match self {
            DoublePickup => "double-pickup",
            PickupAfterCancel => "pickup-after-cancel",
            RenewAfterReturn => "renew-after-return",
            BorrowHeldCopy => "borrow-held-copy",
            CrossMemberLoan => "cross-member-loan",
            LoanAfterWithdraw => "loan-after-withdraw",
            ConcurrentBorrow => "concurrent-borrow",
            SessionAfterLogout => "session-after-logout",
            StalePreferences => "stale-preferences",
            RoleInjection => "role-injection",
            LoginEnumeration => "login-enumeration",
            StalePatchAfterPut => "stale-patch-after-put",
            ItemAfterPublish => "item-after-publish",
            EditAfterWithdraw => "edit-after-withdraw",
            CreateAfterLogout => "create-after-logout",
            CrossMemberPassword => "cross-member-password",
            FeatureByMember => "feature-by-member",
        }
    }

    /// One line saying what goes wrong, for help texts and the module docs.
    pub fn describe(self) -> &'static str {
        use LibraryBug::*;
        match self {
            DoublePickup => "a pickup code redeemed a second time lends a second copy for one hold",
            PickupAfterCancel => "the pickup code of a cancelled hold still lends the book",
            RenewAfterReturn => "a returned loan can be renewed, and becomes active again",
            BorrowHeldCopy => {
                "a copy set aside for one member's hold is lent to another member when the shelf is empty"
            }
            CrossMemberLoan => "another member's loan can be read and returned by its id",
            LoanAfterWithdraw => "a withdrawn book can still be borrowed by its slug",
            ConcurrentBorrow => {
                "two borrows of the last copy sent at the same time are both accepted, on one copy"
            }
            SessionAfterLogout => "logout answers 204 and clears the cookie, but the old `sid` keeps working",
            StalePreferences => {
                "`PUT /api/v1/me/preferences` with an outdated `If-Match` overwrites a newer version"
            }
            RoleInjection => {
                "`PUT /api/v1/me` takes a `role` field it never asks for: a member makes themself staff"
            }
            LoginEnumeration => {
                "a failed login says \"no account with this email\" or \"wrong password\": who has an account shows"
            }
            StalePatchAfterPut => {
                "`PATCH /api/v1/me/preferences` with an `If-Match` from before a later `PUT` undoes that `PUT`"
            }
            ItemAfterPublish => "a book can be added to a reading list after the list was published",
            EditAfterWithdraw => {
                "staff can edit a withdrawn book, which only `?status=withdrawn` still shows"
            }
            CreateAfterLogout => {
                "creates accept the `sid` of a logged-out session (reads and other writes refuse it)"
            }
            CrossMemberPassword => {
                "`PUT /api/v1/members/{id}/password` changes any member's password, not only the caller's"
            }
            FeatureByMember => {
                "`POST /api/v1/books/{slug}/feature`, a staff action, only checks that someone is logged in"
            }
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl fmt::Display for LibraryBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LibraryBug {
    type Err = UnknownLibraryBug;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        LibraryBug::all()
            .into_iter()
            .find(|bug| bug.name() == wanted)
            .ok_or_else(|| UnknownLibraryBug(wanted.to_string()))
    }
}

/// A name that is not one of the library's bugs; its message lists the valid names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown library bug `{0}`; expected `all`, `none` or a comma-separated list of: {names}", names = LibraryBug::all().map(LibraryBug::name).join(", "))]
pub struct UnknownLibraryBug(pub String);

/// The bugs a library plants: `all` (the default, it is a demo target),
/// `none`, or a list such as `double-pickup,stale-preferences`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LibraryBugSet(u32);

impl LibraryBugSet {
    /// Every bug planted.
    pub fn all() -> LibraryBugSet {
        LibraryBug::all().into_iter().collect()
    }

    /// A correct library: every violating sequence is refused.
    pub fn none() -> LibraryBugSet {
        LibraryBugSet(0)
    }

    /// Just this one bug, to check it alone.
    pub fn only(bug: LibraryBug) -> LibraryBugSet {
        LibraryBugSet(bug.bit())
    }

    /// Whether `bug` is planted.
    pub fn contains(self, bug: LibraryBug) -> bool {
        self.0 & bug.bit() != 0
    }

    /// The planted bugs, in documentation order.
    pub fn iter(self) -> impl Iterator<Item = LibraryBug> {
        LibraryBug::all().into_iter().filter(move |bug| self.contains(*bug))
    }
}

impl Default for LibraryBugSet {
    fn default() -> Self {
        LibraryBugSet::all()
    }
}

impl FromIterator<LibraryBug> for LibraryBugSet {
    fn from_iter<I: IntoIterator<Item = LibraryBug>>(iter: I) -> Self {
        LibraryBugSet(iter.into_iter().fold(0, |bits, bug| bits | bug.bit()))
    }
}

impl FromStr for LibraryBugSet {
    type Err = UnknownLibraryBug;

    /// `all`, `none` (or an empty string), or comma-separated bug names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "all" => Ok(LibraryBugSet::all()),
            "none" | "" => Ok(LibraryBugSet::none()),
            list => list
                .split(',')
                .filter(|name| !name.trim().is_empty())
                .map(str::parse::<LibraryBug>)
                .collect(),
        }
    }
}

/// `all`, `none`, or the comma-separated names: the text `FromStr` reads.
impl fmt::Display for LibraryBugSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            set if set == LibraryBugSet::all() => f.write_str("all"),
            set if set == LibraryBugSet::none() => f.write_str("none"),
            set => f.write_str(&set.iter().map(LibraryBug::name).collect::<Vec<_>>().join(",")),
        }
    }
}

impl fmt::Debug for LibraryBugSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LibraryBugSet({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_list_the_valid_names() {
        for bug in LibraryBug::all() {
            assert_eq!(bug.name().parse::<LibraryBug>(), Ok(bug));
        }
        assert_eq!(LibraryBugSet::all().iter().count(), 17, "one bit a bug, none lost");
        let set: LibraryBugSet = "double-pickup, stale-preferences".parse().unwrap();
        assert_eq!(set.to_string(), "double-pickup,stale-preferences");
        assert_eq!("all".parse::<LibraryBugSet>(), Ok(LibraryBugSet::all()));
        assert_eq!(LibraryBugSet::none().to_string(), "none");
        let err = "double-refund".parse::<LibraryBugSet>().unwrap_err();
        assert!(err.to_string().contains("concurrent-borrow"), "{err}");
    }
}
