//! The library's in-memory state, its refusals, and the reset hook.
//!
//! The operations live next to their rules, one concern a file:
//! `accounts` (sign-up, sessions), `profile` (the member's own account),
//! `preferences` (the versioned singleton), `catalogue` (books and
//! copies), `circulation` (loans, holds, the desk) and `lists` (reading
//! lists). Each planted bug is a
//! small, believable mistake in a guard, switched on by the library's
//! [`LibraryBugSet`], with the correct branch right next to it.
//!
//! One `std::sync::Mutex` guards everything and is never held across an
//! `.await`; the racy borrow drops it on purpose, and that is its bug.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::bugs::{LibraryBug, LibraryBugSet};
use super::records::{Book, Hold, Loan, Member, Preferences, ReadingList, Role};
use super::STAFF;

/// Everything the library holds. Ids are small integers counted from 1,
/// and counting starts again after a reset.
pub(crate) struct State {
    pub members: BTreeMap<u64, Member>,
    /// Session id (the `sid` cookie) to member id, for live sessions.
    pub sessions: HashMap<String, u64>,
    /// Every session id ever issued, logged out or not: the audit log.
    pub issued: HashMap<String, u64>,
    pub preferences: HashMap<u64, Preferences>,
    /// By slug; withdrawn books stay here with their status.
    pub books: BTreeMap<String, Book>,
    pub loans: BTreeMap<u64, Loan>,
    pub holds: BTreeMap<u64, Hold>,
    pub lists: BTreeMap<u64, ReadingList>,
    next_member: u64,
    next_copy: u64,
    next_loan: u64,
    next_hold: u64,
    next_list: u64,
    next_item: u64,
}

impl State {
    /// A fresh library: the seeded staff accounts and nothing else.
    fn new() -> State {
        let mut state = State {
            members: BTreeMap::new(),
            sessions: HashMap::new(),
            issued: HashMap::new(),
            preferences: HashMap::new(),
            books: BTreeMap::new(),
            loans: BTreeMap::new(),
            holds: BTreeMap::new(),
            lists: BTreeMap::new(),
            next_member: 0,
            next_copy: 0,
            next_loan: 0,
            next_hold: 0,
            next_list: 0,
            next_item: 0,
        };
        for staff in STAFF {
            state.add_member(staff.email, staff.password, staff.name, Role::Staff);
        }
        state
    }

    /// Adds an account with the next member id.
    pub fn add_member(&mut self, email: &str, password: &str, name: &str, role: Role) -> Member {
        self.next_member += 1;
        let member = Member {
            id: self.next_member,
            email: email.to_string(),
            name: name.to_string(),
            role,
            password: password.to_string(),
        };
        self.members.insert(member.id, member.clone());
        member
    }

    /// The next copy id.
    pub fn copy_id(&mut self) -> u64 {
        self.next_copy += 1;
        self.next_copy
    }

    /// The next loan id.
    pub fn loan_id(&mut self) -> u64 {
        self.next_loan += 1;
        self.next_loan
    }

    /// The next hold id.
    pub fn hold_id(&mut self) -> u64 {
        self.next_hold += 1;
        self.next_hold
    }

    /// The next reading list id.
    pub fn list_id(&mut self) -> u64 {
        self.next_list += 1;
        self.next_list
    }

    /// The next list item id.
    pub fn item_id(&mut self) -> u64 {
        self.next_item += 1;
        self.next_item
    }
}

/// The library: its state and the bugs it plants.
pub(crate) struct Library {
    state: Mutex<State>,
    bugs: LibraryBugSet,
}

impl Library {
    /// A fresh library planting `bugs`.
    pub fn new(bugs: LibraryBugSet) -> Library {
        Library { state: Mutex::new(State::new()), bugs }
    }

    /// `POST /__reset`: back to the seeded staff; every id counts from 1 again.
    pub fn reset(&self) {
        *self.lock() = State::new();
    }

    /// Whether `bug` is planted.
    pub fn bug(&self, bug: LibraryBug) -> bool {
        self.bugs.contains(bug)
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic mid-request leaves the maps consistent; keep serving.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why the library refused a request; the routes map each to a status code.
#[derive(Debug)]
pub(crate) enum LibraryError {
    /// No `sid` cookie, or one that is unknown or logged out (401).
    Unauthenticated,
    /// A staff-only action by a member (403).
    StaffOnly,
    /// Nothing there, not the caller's, or withdrawn; names what (404).
    NotFound(&'static str),
    /// The action is not allowed in the current state; says why (409).
    Conflict(String),
    /// A conditional write without `If-Match` (428).
    PreconditionRequired,
    /// An `If-Match` that is not the current version (412).
    PreconditionFailed { current: String },
    /// The body is not what the endpoint takes (400).
    Invalid(String),
}

impl LibraryError {
    /// The message of the `{"error": ...}` body.
    pub fn message(&self) -> String {
        match self {
            LibraryError::Unauthenticated => "log in first: no live `sid` session cookie".into(),
            LibraryError::StaffOnly => "only library staff may do this".into(),
            LibraryError::NotFound(what) => format!("{what} not found"),
            LibraryError::Conflict(why) | LibraryError::Invalid(why) => why.clone(),
            LibraryError::PreconditionRequired => {
                "this write needs an If-Match header with the preferences' ETag".into()
            }
            LibraryError::PreconditionFailed { current } => {
                format!("If-Match does not match the current version {current}; read them again")
            }
        }
    }
}

/// Refuses members: the action is for staff.
pub(crate) fn require_staff(caller: &Member) -> Result<(), LibraryError> {
    match caller.role {
        Role::Staff => Ok(()),
        Role::Member => Err(LibraryError::StaffOnly),
    }
}
