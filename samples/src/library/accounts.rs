//! Accounts: sign-up, cookie sessions, and each account's preferences.

use super::bugs::LibraryBug;
use super::records::{Member, Preferences, Role};
use super::state::{Library, LibraryError};
use crate::ids::random_chars;

/// Shortest password sign-up accepts.
const MIN_PASSWORD_CHARS: usize = 6;

/// The ways of being notified that `notify_by` takes.
const NOTIFY_BY: [&str; 3] = ["email", "sms", "none"];

impl Library {
    /// Creates a member account; emails are unique, compared without case.
    pub fn sign_up(&self, email: &str, password: &str, name: &str) -> Result<Member, LibraryError> {
        let email = email.trim();
        if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
            return Err(LibraryError::Invalid(format!("`{email}` is not an email address")));
        }
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(LibraryError::Invalid(format!(
                "the password needs at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        let mut state = self.lock();
        if state.members.values().any(|m| m.email.eq_ignore_ascii_case(email)) {
            return Err(LibraryError::Conflict(format!("{email} already has an account")));
        }
        Ok(state.add_member(email, password, name.trim(), Role::Member))
    }

    /// A new session for the account, or `None` for a wrong email or password.
    pub fn login(&self, email: &str, password: &str) -> Option<(String, Member)> {
        let mut state = self.lock();
        let member = state
            .members
            .values()
            .find(|m| m.email.eq_ignore_ascii_case(email.trim()) && m.password == password)?
            .clone();
        let sid = random_chars(24);
        state.sessions.insert(sid.clone(), member.id);
        Some((sid, member))
    }

    /// Ends the session `sid`; an unknown one is a 401.
    pub fn logout(&self, sid: &str) -> Result<(), LibraryError> {
        let mut state = self.lock();
        if !state.sessions.contains_key(sid) {
            return Err(LibraryError::Unauthenticated);
        }
        // BUG session-after-logout: logout answers 204 and clears the
        // cookie in the browser, but forgets to end the session itself.
        if !self.bug(LibraryBug::SessionAfterLogout) {
            state.sessions.remove(sid);
        }
        Ok(())
    }

    /// The account behind a live session.
    pub fn authenticate(&self, sid: Option<&str>) -> Result<Member, LibraryError> {
        let state = self.lock();
        let id =
            sid.and_then(|sid| state.sessions.get(sid)).ok_or(LibraryError::Unauthenticated)?;
        state.members.get(id).cloned().ok_or(LibraryError::Unauthenticated)
    }

    /// The caller's preferences (the defaults until first written).
    pub fn preferences(&self, caller: &Member) -> Preferences {
        self.lock().preferences.entry(caller.id).or_default().clone()
    }

    /// Replaces the caller's preferences if `if_match` names their current version.
    pub fn put_preferences(
        &self,
        caller: &Member,
        if_match: Option<&str>,
        wanted: Preferences,
    ) -> Result<Preferences, LibraryError> {
        if !NOTIFY_BY.contains(&wanted.notify_by.as_str()) {
            return Err(LibraryError::Invalid(format!(
                "notify_by must be one of {}",
                NOTIFY_BY.join(", ")
            )));
        }
        let if_match = if_match.ok_or(LibraryError::PreconditionRequired)?;
        let mut state = self.lock();
        let current = state.preferences.entry(caller.id).or_default();
        // BUG stale-preferences: `If-Match` is required but its value is
        // never compared, so a client holding an old version overwrites a
        // newer one.
        if !etag_matches(if_match, current.version) && !self.bug(LibraryBug::StalePreferences) {
            return Err(LibraryError::PreconditionFailed { current: current.etag() });
        }
        *current = Preferences { version: current.version + 1, ..wanted };
        Ok(current.clone())
    }
}

/// Whether an `If-Match` value names `version`: `*`, or a list of entity
/// tags compared strongly.
fn etag_matches(if_match: &str, version: u64) -> bool {
    let current = format!("\"{version}\"");
    if_match.split(',').map(str::trim).any(|tag| tag == "*" || tag == current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_entity_tags_strongly() {
        assert!(etag_matches("\"3\"", 3));
        assert!(etag_matches("\"1\", \"3\"", 3));
        assert!(etag_matches("*", 3));
        assert!(!etag_matches("\"2\"", 3));
        assert!(!etag_matches("W/\"3\"", 3));
        assert!(!etag_matches("3", 3));
    }
}
