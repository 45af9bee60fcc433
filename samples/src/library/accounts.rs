//! Accounts: sign-up, logging in and out, and the cookie sessions that
//! authenticate every other request.

use super::bugs::LibraryBug;
use super::records::{Member, Role};
use super::state::{Library, LibraryError};
use crate::ids::random_chars;

/// Shortest password sign-up and a password change accept.
pub(crate) const MIN_PASSWORD_CHARS: usize = 6;

/// What a failed login says when it does not tell why: no one learns
/// from it whether the email has an account.
const LOGIN_FAILED: &str = "wrong email or password";

impl Library {
    /// Creates a member account; emails are unique, compared without case.
    pub fn sign_up(&self, email: &str, password: &str, name: &str) -> Result<Member, LibraryError> {
        let email = email.trim();
        if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
            return Err(LibraryError::Invalid(format!("`{email}` is not an email address")));
        }
        check_password(password)?;
        let mut state = self.lock();
        if state.members.values().any(|m| m.email.eq_ignore_ascii_case(email)) {
            return Err(LibraryError::Conflict(format!("{email} already has an account")));
        }
        Ok(state.add_member(email, password, name.trim(), Role::Member))
    }

    /// A new session for the account, or the message a failed login shows.
    pub fn login(&self, email: &str, password: &str) -> Result<(String, Member), &'static str> {
        let mut state = self.lock();
        let account = state.members.values().find(|m| m.email.eq_ignore_ascii_case(email.trim()));
        let member = match account {
            Some(member) if member.password == password => member.clone(),
            // BUG login-enumeration: the messages were made "helpful", and
            // now they tell an unknown email from a known one.
            Some(_) if self.bug(LibraryBug::LoginEnumeration) => return Err("wrong password"),
            None if self.bug(LibraryBug::LoginEnumeration) => {
                return Err("no account with this email")
            }
            _ => return Err(LOGIN_FAILED),
        };
        let sid = random_chars(24);
        state.sessions.insert(sid.clone(), member.id);
        state.issued.insert(sid.clone(), member.id);
        Ok((sid, member))
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

    /// The account behind the session a create is made in.
    pub fn authenticate_create(&self, sid: Option<&str>) -> Result<Member, LibraryError> {
        let live = self.authenticate(sid);
        if live.is_ok() || !self.bug(LibraryBug::CreateAfterLogout) {
            return live;
        }
        // BUG create-after-logout: creates look the session up in the log
        // of every session issued, which logout never prunes.
        let state = self.lock();
        let id = sid.and_then(|sid| state.issued.get(sid)).ok_or(LibraryError::Unauthenticated)?;
        state.members.get(id).cloned().ok_or(LibraryError::Unauthenticated)
    }
}

/// A password is at least [`MIN_PASSWORD_CHARS`] characters.
pub(crate) fn check_password(password: &str) -> Result<(), LibraryError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(LibraryError::Invalid(format!(
            "the password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}
