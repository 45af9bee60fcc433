//! What a library QA run will do, decided up front from the seed.
//!
//! A run has three parts: the librarian stocks the catalogue (one book per
//! member to borrow, one per member to hold, and one to withdraw); members
//! play their sessions in waves, each member at most once a wave, so a
//! member's sessions never overlap and their first one signs them up; the
//! desk then redeems the pickup codes members collected.
//!
//! Every plan is a happy path that a correct library accepts and a library
//! with every bug planted answers the same way: each member borrows and
//! holds only their own two books, so no two sessions race for a copy and
//! no one borrows a copy set aside for somebody else's hold; each code is
//! redeemed once, and never for a cancelled hold; reading lists gather the
//! member's own two books; a member changes their password only in their
//! last session, so every earlier session logs in with the first one.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

/// Titles and authors the catalogue is stocked from, cycled when a run has
/// more members than titles.
const TITLES: [(&str, &str); 12] = [
    ("The Dispossessed", "Ursula K. Le Guin"),
    ("Kindred", "Octavia E. Butler"),
    ("Middlemarch", "George Eliot"),
    ("Things Fall Apart", "Chinua Achebe"),
    ("The Remains of the Day", "Kazuo Ishiguro"),
    ("Piranesi", "Susanna Clarke"),
    ("Beloved", "Toni Morrison"),
    ("The Master and Margarita", "Mikhail Bulgakov"),
    ("Pedro Paramo", "Juan Rulfo"),
    ("A Wizard of Earthsea", "Ursula K. Le Guin"),
    ("The Leopard", "Giuseppe Tomasi di Lampedusa"),
    ("Invisible Cities", "Italo Calvino"),
];

/// Members' names; a run takes the first `users`.
pub(crate) const MEMBER_NAMES: [&str; 12] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Leslie",
    "Margaret", "Niklaus",
];

/// The surname member `k` adds to their profile when they fill it in.
pub(crate) const SURNAMES: [&str; 12] = [
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman",
    "Lamport", "Hamilton", "Wirth",
];

/// Ways of being notified a member may choose.
const NOTIFY_BY: [&str; 3] = ["email", "sms", "none"];

/// A book the librarian adds, and how many copies.
#[derive(Debug, Clone)]
pub(crate) struct BookPlan {
    pub title: String,
    pub author: &'static str,
    /// The slug without the run's suffix.
    pub slug_stem: String,
    pub copies: usize,
}

/// What happens to a member's loan after borrowing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoanFate {
    Keep,
    Renew,
    Return,
    RenewAndReturn,
}

/// One member session.
#[derive(Debug, Clone)]
pub(crate) struct MemberSession {
    /// Index into the run's members.
    pub member: usize,
    pub sign_up: bool,
    /// Try to log in before signing up (an email with no account yet).
    pub login_before_sign_up: bool,
    /// Type the password wrong once first (a failed login, `200 {"ok": false}`).
    pub typo_first: bool,
    /// Log in with a form instead of nested JSON.
    pub form_login: bool,
    /// Books read (indexes into the catalogue), besides the list.
    pub browse: Vec<usize>,
    /// New preferences to write: `notify_by`, `newsletter`.
    pub preferences: Option<(&'static str, bool)>,
    /// Before writing the preferences, flip the newsletter alone with a `PATCH`.
    pub newsletter_first: bool,
    pub loan: Option<LoanFate>,
    /// A hold, and whether its code goes to the desk (or it is cancelled).
    pub hold: Option<bool>,
    pub list_at_end: bool,
    pub logout: bool,
    /// Add the surname to the profile's name.
    pub rename: bool,
    /// A reading list of the session's two books, and whether it is published.
    pub reading_list: Option<bool>,
    /// Change the password, then log out and in with it; only on a
    /// member's last session, so no later session needs the new one.
    pub change_password: bool,
}

/// A whole run.
#[derive(Debug, Clone)]
pub(crate) struct RunPlan {
    /// Two books a member (to borrow, to hold), then the one to withdraw.
    pub books: Vec<BookPlan>,
    /// Member sessions in play order: session `i` is member `i % members`.
    pub sessions: Vec<MemberSession>,
}

impl RunPlan {
    /// The book member `k` borrows.
    pub fn loan_book(k: usize) -> usize {
        2 * k
    }

    /// The book member `k` holds.
    pub fn hold_book(k: usize) -> usize {
        2 * k + 1
    }

    /// The book the librarian withdraws.
    pub fn withdrawn_book(&self) -> usize {
        self.books.len() - 1
    }
}

/// Plans `sessions` member sessions for `members` members, deterministically for `seed`.
///
/// Every run shows each behaviour at least once (when it has a session at
/// all): a login before signing up, a typo login, a form login, a
/// preferences write after a newsletter `PATCH`, a renewed
/// and returned loan, a cancelled hold, a hold picked up, a logout, a
/// renamed profile, a published reading list, and a password change.
pub(crate) fn plan(seed: u64, members: usize, sessions: usize) -> RunPlan {
    let mut rng = StdRng::seed_from_u64(seed);
    let book_count = 2 * members + 1;
    let mut plans: Vec<MemberSession> =
        (0..sessions).map(|i| random_session(&mut rng, i, members, book_count)).collect();
    for (i, plan) in plans.iter_mut().enumerate() {
        plan.change_password &= i + members >= sessions;
    }
    require_each_behaviour(&mut plans);
    let mut books: Vec<BookPlan> = (0..book_count).map(book).collect();
    for session in &plans {
        if session.loan.is_some() {
            books[RunPlan::loan_book(session.member)].copies += 1;
        }
        if session.hold.is_some() {
            books[RunPlan::hold_book(session.member)].copies += 1;
        }
    }
    for book in &mut books {
        book.copies = book.copies.max(1);
    }
    RunPlan { books, sessions: plans }
}

fn random_session(rng: &mut StdRng, i: usize, members: usize, books: usize) -> MemberSession {
    let loan = [LoanFate::Keep, LoanFate::Renew, LoanFate::Return, LoanFate::RenewAndReturn];
    // The withdrawn book (the last) is never browsed: its read is a 404.
    let browse = (0..rng.random_range(0..=2)).map(|_| rng.random_range(0..books - 1)).collect();
    MemberSession {
        member: i % members,
        sign_up: i < members,
        typo_first: rng.random_bool(0.15),
        form_login: rng.random_bool(0.3),
        browse,
        preferences: rng
            .random_bool(0.3)
            .then(|| (*NOTIFY_BY.choose(rng).unwrap_or(&"email"), rng.random_bool(0.5))),
        loan: rng.random_bool(0.8).then(|| *loan.choose(rng).unwrap_or(&LoanFate::Keep)),
        hold: rng.random_bool(0.6).then(|| rng.random_bool(0.7)),
        list_at_end: rng.random_bool(0.4),
        logout: rng.random_bool(0.6),
        login_before_sign_up: i < members && rng.random_bool(0.3),
        newsletter_first: rng.random_bool(0.5),
        rename: rng.random_bool(0.3),
        reading_list: rng.random_bool(0.3).then(|| rng.random_bool(0.6)),
        change_password: rng.random_bool(0.3),
    }
}

/// Makes sure each behaviour occurs, on sessions taken in turn.
fn require_each_behaviour(plans: &mut [MemberSession]) {
    let n = plans.len();
    if n == 0 {
        return;
    }
    let requirements: [fn(&mut MemberSession); 9] = [
        |s| s.typo_first = true,
        |s| s.form_login = true,
        |s| (s.preferences, s.newsletter_first) = (Some(("sms", true)), true),
        |s| s.loan = Some(LoanFate::RenewAndReturn),
        |s| s.hold = Some(false),
        |s| s.hold = Some(true),
        |s| s.logout = true,
        |s| s.rename = true,
        |s| s.reading_list = Some(true),
    ];
    // Requirements that would undo each other on one session go to the next.
    for (j, require) in requirements.iter().enumerate() {
        let k = if j == 5 && n > 1 { (4 % n + 1) % n } else { j % n };
        require(&mut plans[k]);
    }
    // The first session signs up, the last is its member's last.
    plans[0].login_before_sign_up = true;
    plans[n - 1].change_password = true;
}

/// The `k`th book of a run: titles in turn, a volume number once they repeat.
fn book(k: usize) -> BookPlan {
    let (title, author) = TITLES[k % TITLES.len()];
    let volume = k / TITLES.len();
    let title =
        if volume == 0 { title.to_string() } else { format!("{title}, vol. {}", volume + 1) };
    BookPlan { slug_stem: slugify(&title), title, author, copies: 0 }
}

/// `The Remains of the Day, vol. 2` → `the-remains-of-the-day-vol-2`.
fn slugify(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    words.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_stocks_a_copy_for_every_loan_and_hold() {
        let run = plan(7, 3, 20);
        assert_eq!(run.books.len(), 7);
        for k in 0..3 {
            let mine = run.sessions.iter().filter(|s| s.member == k);
            let loans = mine.clone().filter(|s| s.loan.is_some()).count();
            let holds = mine.filter(|s| s.hold.is_some()).count();
            assert_eq!(run.books[RunPlan::loan_book(k)].copies, loans.max(1));
            assert_eq!(run.books[RunPlan::hold_book(k)].copies, holds.max(1));
        }
        assert_eq!(run.sessions.iter().filter(|s| s.sign_up).count(), 3);
    }

    #[test]
    fn every_behaviour_occurs_even_in_two_sessions() {
        let run = plan(1, 2, 2);
        let s = &run.sessions;
        assert!(s.iter().any(|s| s.typo_first) && s.iter().any(|s| s.form_login));
        assert!(s.iter().any(|s| s.hold == Some(false)) && s.iter().any(|s| s.hold == Some(true)));
        assert!(s.iter().any(|s| s.loan == Some(LoanFate::RenewAndReturn)));
        assert!(s.iter().any(|s| s.preferences.is_some() && s.newsletter_first));
        assert!(s.iter().any(|s| s.rename) && s.iter().any(|s| s.reading_list == Some(true)));
        assert!(s[0].sign_up && s[0].login_before_sign_up && s[1].change_password);
    }

    #[test]
    fn passwords_change_only_in_a_members_last_session_and_logins_fail_only_before_sign_up() {
        for seed in 0..20 {
            let run = plan(seed, 3, 10);
            for (i, session) in run.sessions.iter().enumerate() {
                let later = run.sessions[i + 1..].iter().any(|s| s.member == session.member);
                assert!(!(session.change_password && later), "seed {seed}, session {i}");
                assert!(!session.login_before_sign_up || session.sign_up, "seed {seed}, {i}");
            }
        }
    }

    #[test]
    fn slugs_are_lowercase_words_joined_by_dashes() {
        assert_eq!(slugify("The Remains of the Day, vol. 2"), "the-remains-of-the-day-vol-2");
        assert_eq!(book(12).slug_stem, "the-dispossessed-vol-2");
    }
}
