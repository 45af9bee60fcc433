//! Circulation: loans, holds with their pickup codes, and the desk that
//! redeems them. Loans and holds are private to their member; staff see all.
//!
//! ```text
//! loan:  active ──renew (at most twice)──▶ active ──return──▶ returned
//! hold:  ready ──cancel──▶ cancelled
//!          └──desk redeems its code──▶ collected (and a new active loan)
//! ```

use std::time::Duration;

use super::bugs::LibraryBug;
use super::records::{
    Book, BookStatus, CopyStatus, Hold, HoldStatus, Loan, LoanStatus, Member, Role,
};
use super::state::{require_staff, Library, LibraryError, State};
use crate::ids::random_chars;

/// How long the racy borrow waits between choosing a copy and lending it,
/// standing in for a call to the card system. Long enough that two
/// concurrent borrows reliably overlap on loopback.
pub(crate) const CARD_CHECK_DELAY: Duration = Duration::from_millis(20);

/// Days a loan runs, and what each renewal adds.
const LOAN_DAYS: u32 = 21;

/// How many times a loan may be renewed.
const MAX_RENEWALS: u32 = 2;

impl Library {
    /// Lends the caller a copy from the shelf.
    pub async fn borrow(&self, caller: &Member, slug: &str) -> Result<Loan, LibraryError> {
        if !self.bug(LibraryBug::ConcurrentBorrow) {
            // Correct: choose and lend under one lock.
            let mut state = self.lock();
            let copy = self.lendable_copy(&state, slug)?;
            return Ok(lend(&mut state, caller.id, slug, copy));
        }
        // BUG concurrent-borrow: choose a copy, release the lock while the
        // card is checked, then lend the copy chosen without looking again.
        // Two borrows that both choose before either lends get one copy.
        let copy = self.lendable_copy(&self.lock(), slug)?;
        tokio::time::sleep(CARD_CHECK_DELAY).await;
        Ok(lend(&mut self.lock(), caller.id, slug, copy))
    }

    /// The id of a copy of `slug` that may be lent now.
    fn lendable_copy(&self, state: &State, slug: &str) -> Result<u64, LibraryError> {
        let book = state.books.get(slug).ok_or(LibraryError::NotFound("book"))?;
        // BUG loan-after-withdraw: the lookup checks that the slug exists,
        // not that the book is still in the catalogue.
        if book.status == BookStatus::Withdrawn && !self.bug(LibraryBug::LoanAfterWithdraw) {
            return Err(LibraryError::NotFound("book"));
        }
        if let Some(copy) = first_copy(book, CopyStatus::Shelved) {
            return Ok(copy);
        }
        // BUG borrow-held-copy: a held copy may go to its holder at the
        // desk, and this fallback forgot to check who is asking.
        match first_copy(book, CopyStatus::Held) {
            Some(copy) if self.bug(LibraryBug::BorrowHeldCopy) => Ok(copy),
            _ => Err(LibraryError::Conflict(format!("no copy of `{slug}` is on the shelf"))),
        }
    }

    /// The caller's loans; staff see everyone's.
    pub fn loans(&self, caller: &Member) -> Vec<Loan> {
        let state = self.lock();
        state.loans.values().filter(|l| sees(caller, l.member)).cloned().collect()
    }

    /// One loan, for its borrower or staff.
    pub fn loan(&self, caller: &Member, id: &str) -> Result<Loan, LibraryError> {
        let state = self.lock();
        let loan = parse_id(id).and_then(|id| state.loans.get(&id));
        match loan {
            Some(loan) if sees(caller, loan.member) || self.cross_member() => Ok(loan.clone()),
            _ => Err(LibraryError::NotFound("loan")),
        }
    }

    /// Extends an active loan, at most [`MAX_RENEWALS`] times.
    pub fn renew(&self, caller: &Member, id: &str) -> Result<Loan, LibraryError> {
        let mut state = self.lock();
        let loan = self.own_loan(&mut state, caller, id)?;
        // BUG renew-after-return: the guard only counts renewals, so a
        // returned loan is renewed and comes back as active.
        let revived = loan.status == LoanStatus::Returned && self.bug(LibraryBug::RenewAfterReturn);
        if loan.status != LoanStatus::Active && !revived {
            return Err(cannot("renew", "loan", loan.status.name()));
        }
        if loan.renewals >= MAX_RENEWALS {
            return Err(LibraryError::Conflict(format!(
                "this loan was renewed {MAX_RENEWALS} times already"
            )));
        }
        loan.renewals += 1;
        loan.due_in_days += LOAN_DAYS;
        loan.status = LoanStatus::Active;
        Ok(loan.clone())
    }

    /// Ends an active loan; its copy goes back on the shelf.
    pub fn return_loan(&self, caller: &Member, id: &str) -> Result<Loan, LibraryError> {
        let mut state = self.lock();
        let loan = self.own_loan(&mut state, caller, id)?;
        if loan.status != LoanStatus::Active {
            return Err(cannot("return", "loan", loan.status.name()));
        }
        loan.status = LoanStatus::Returned;
        let loan = loan.clone();
        set_copy(&mut state, &loan.book, loan.copy, CopyStatus::Shelved);
        Ok(loan)
    }

    /// The borrower's own loan, for writing.
    fn own_loan<'s>(
        &self,
        state: &'s mut State,
        caller: &Member,
        id: &str,
    ) -> Result<&'s mut Loan, LibraryError> {
        let cross_member = self.cross_member();
        match parse_id(id).and_then(|id| state.loans.get_mut(&id)) {
            Some(loan) if loan.member == caller.id || cross_member => Ok(loan),
            _ => Err(LibraryError::NotFound("loan")),
        }
    }

    /// BUG cross-member-loan: loan lookups check that the id exists, not
    /// whose loan it is.
    fn cross_member(&self) -> bool {
        self.bug(LibraryBug::CrossMemberLoan)
    }

    /// Sets a copy on the shelf aside for the caller and issues its pickup code.
    pub fn place_hold(&self, caller: &Member, slug: &str) -> Result<Hold, LibraryError> {
        let mut state = self.lock();
        let book = match state.books.get(slug) {
            Some(book) if book.status == BookStatus::Available => book,
            _ => return Err(LibraryError::NotFound("book")),
        };
        let copy = first_copy(book, CopyStatus::Shelved).ok_or_else(|| {
            LibraryError::Conflict(format!("no copy of `{slug}` is on the shelf"))
        })?;
        set_copy(&mut state, slug, copy, CopyStatus::Held);
        let hold = Hold {
            id: state.hold_id(),
            member: caller.id,
            book: slug.to_string(),
            copy,
            status: HoldStatus::Ready,
            code: format!("PK-{}", random_chars(8).to_ascii_uppercase()),
        };
        state.holds.insert(hold.id, hold.clone());
        Ok(hold)
    }

    /// The caller's holds; staff see everyone's.
    pub fn holds(&self, caller: &Member) -> Vec<Hold> {
        let state = self.lock();
        state.holds.values().filter(|h| sees(caller, h.member)).cloned().collect()
    }

    /// One hold, for its member or staff.
    pub fn hold(&self, caller: &Member, id: &str) -> Result<Hold, LibraryError> {
        let state = self.lock();
        match parse_id(id).and_then(|id| state.holds.get(&id)) {
            Some(hold) if sees(caller, hold.member) => Ok(hold.clone()),
            _ => Err(LibraryError::NotFound("hold")),
        }
    }

    /// Cancels the caller's ready hold; its copy goes back on the shelf.
    pub fn cancel_hold(&self, caller: &Member, id: &str) -> Result<Hold, LibraryError> {
        let mut state = self.lock();
        let hold = match parse_id(id).and_then(|id| state.holds.get_mut(&id)) {
            Some(hold) if hold.member == caller.id => hold,
            _ => return Err(LibraryError::NotFound("hold")),
        };
        if hold.status != HoldStatus::Ready {
            return Err(cannot("cancel", "hold", hold.status.name()));
        }
        hold.status = HoldStatus::Cancelled;
        let hold = hold.clone();
        set_copy(&mut state, &hold.book, hold.copy, CopyStatus::Shelved);
        Ok(hold)
    }

    /// Staff at the desk redeem a member's pickup code: the hold is
    /// collected and its copy lent to the member who placed it.
    pub fn redeem(&self, caller: &Member, code: &str) -> Result<(Hold, Loan), LibraryError> {
        require_staff(caller)?;
        let mut state = self.lock();
        let hold = state
            .holds
            .values_mut()
            .find(|h| h.code == code.trim())
            .ok_or(LibraryError::NotFound("hold with this pickup code"))?;
        // BUG double-pickup and pickup-after-cancel: the guard was written
        // as "has a code" and each bug forgets one final status.
        let allowed = match hold.status {
            HoldStatus::Ready => true,
            HoldStatus::Collected => self.bug(LibraryBug::DoublePickup),
            HoldStatus::Cancelled => self.bug(LibraryBug::PickupAfterCancel),
        };
        if !allowed {
            return Err(cannot("collect", "hold", hold.status.name()));
        }
        hold.status = HoldStatus::Collected;
        let hold = hold.clone();
        let loan = lend(&mut state, hold.member, &hold.book, hold.copy);
        Ok((hold, loan))
    }
}

/// Whether `caller` may see a record belonging to member `owner`.
fn sees(caller: &Member, owner: u64) -> bool {
    caller.role == Role::Staff || caller.id == owner
}

/// A new active loan of `copy` to `member`; the copy leaves the shelf.
fn lend(state: &mut State, member: u64, slug: &str, copy: u64) -> Loan {
    set_copy(state, slug, copy, CopyStatus::Lent);
    let loan = Loan {
        id: state.loan_id(),
        member,
        book: slug.to_string(),
        copy,
        status: LoanStatus::Active,
        renewals: 0,
        due_in_days: LOAN_DAYS,
    };
    state.loans.insert(loan.id, loan.clone());
    loan
}

fn first_copy(book: &Book, status: CopyStatus) -> Option<u64> {
    book.copies.iter().find(|c| c.status == status).map(|c| c.id)
}

fn set_copy(state: &mut State, slug: &str, copy: u64, status: CopyStatus) {
    let copies = state.books.get_mut(slug).map(|b| b.copies.iter_mut());
    if let Some(copy) = copies.into_iter().flatten().find(|c| c.id == copy) {
        copy.status = status;
    }
}

/// A path id: a small positive integer, or nothing.
fn parse_id(id: &str) -> Option<u64> {
    id.parse().ok()
}

/// A refusal that names the action and the state, so a reader knows why.
fn cannot(action: &str, what: &str, status: &str) -> LibraryError {
    LibraryError::Conflict(format!("cannot {action} a {what} that is {status}"))
}
