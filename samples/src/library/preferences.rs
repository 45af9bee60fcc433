//! Each member's one set of preferences: a per-user singleton written with
//! `PUT` (all of it) or `PATCH` (some fields), both guarded by `If-Match`.

use super::bugs::LibraryBug;
use super::records::{Member, Preferences};
use super::state::{Library, LibraryError};

/// The ways of being notified that `notify_by` takes.
const NOTIFY_BY: [&str; 3] = ["email", "sms", "none"];

/// What a `PATCH` changes; the fields it leaves out keep their values.
#[derive(Debug, Default)]
pub(crate) struct PreferencesPatch {
    pub notify_by: Option<String>,
    pub language: Option<String>,
    pub newsletter: Option<bool>,
}

impl Library {
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
        check_notify_by(&wanted.notify_by)?;
        let if_match = if_match.ok_or(LibraryError::PreconditionRequired)?;
        let mut state = self.lock();
        let current = state.preferences.entry(caller.id).or_default();
        // BUG stale-preferences: `If-Match` is required but its value is
        // never compared, so a client holding an old version overwrites a
        // newer one.
        if !etag_matches(if_match, current.version) && !self.bug(LibraryBug::StalePreferences) {
            return Err(LibraryError::PreconditionFailed { current: current.etag() });
        }
        let replaced = current.version;
        *current = Preferences { version: replaced + 1, put_from: Some(replaced), ..wanted };
        Ok(current.clone())
    }

    /// Changes some of the caller's preferences if `if_match` names their current version.
    pub fn patch_preferences(
        &self,
        caller: &Member,
        if_match: Option<&str>,
        patch: PreferencesPatch,
    ) -> Result<Preferences, LibraryError> {
        if let Some(notify_by) = &patch.notify_by {
            check_notify_by(notify_by)?;
        }
        let if_match = if_match.ok_or(LibraryError::PreconditionRequired)?;
        let mut state = self.lock();
        let current = state.preferences.entry(caller.id).or_default();
        // BUG stale-patch-after-put: a patch only touches a field or two,
        // so it was let "merge" with a full save made since its validator
        // was read: any version up to the one the last `PUT` replaced
        // passes, and the patch undoes what that `PUT` wrote.
        let merged = self.bug(LibraryBug::StalePatchAfterPut)
            && current.put_from.is_some_and(|from| tag_versions(if_match).any(|v| v <= from));
        if !etag_matches(if_match, current.version) && !merged {
            return Err(LibraryError::PreconditionFailed { current: current.etag() });
        }
        current.notify_by = patch.notify_by.unwrap_or_else(|| current.notify_by.clone());
        current.language = patch.language.unwrap_or_else(|| current.language.clone());
        current.newsletter = patch.newsletter.unwrap_or(current.newsletter);
        current.version += 1;
        Ok(current.clone())
    }
}

fn check_notify_by(notify_by: &str) -> Result<(), LibraryError> {
    if NOTIFY_BY.contains(&notify_by) {
        return Ok(());
    }
    Err(LibraryError::Invalid(format!("notify_by must be one of {}", NOTIFY_BY.join(", "))))
}

/// Whether an `If-Match` value names `version`: `*`, or a list of entity
/// tags compared strongly.
fn etag_matches(if_match: &str, version: u64) -> bool {
    let current = format!("\"{version}\"");
    if_match.split(',').map(str::trim).any(|tag| tag == "*" || tag == current)
}

/// The versions the strong entity tags of an `If-Match` name.
fn tag_versions(if_match: &str) -> impl Iterator<Item = u64> + '_ {
    if_match
        .split(',')
        .filter_map(|tag| tag.trim().strip_prefix('"')?.strip_suffix('"')?.parse().ok())
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

    #[test]
    fn only_strong_tags_name_versions() {
        assert_eq!(tag_versions("\"2\", W/\"5\", 7, \"x\", \"9\"").collect::<Vec<_>>(), [2, 9]);
    }
}
