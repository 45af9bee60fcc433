//! The member's own account: the profile they edit (`PUT /api/v1/me`) and
//! their password (`PUT /api/v1/members/{id}/password`).

use serde_json::{Map, Value};

use super::accounts::check_password;
use super::bugs::LibraryBug;
use super::records::{Member, Role};
use super::state::{Library, LibraryError};

/// The one field a profile update takes; `id`, `email` and `role` are shown, never taken.
const EDITABLE: &str = "name";

impl Library {
    /// Renames the caller; any field but `name` is refused.
    pub fn update_profile(
        &self,
        caller: &Member,
        fields: &Map<String, Value>,
    ) -> Result<Member, LibraryError> {
        let name = match fields.get(EDITABLE).and_then(Value::as_str).map(str::trim) {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => return Err(LibraryError::Invalid("a profile update needs a `name`".into())),
        };
        // BUG role-injection: the update binds the whole body onto the
        // account, so `role` is taken and the other fields quietly dropped.
        let injected = self.bug(LibraryBug::RoleInjection);
        let mut role = None;
        for (key, value) in fields.iter().filter(|(key, _)| *key != EDITABLE) {
            match key.as_str() {
                "role" if injected => role = Some(parse_role(value)?),
                _ if injected => {}
                _ => {
                    return Err(LibraryError::Invalid(format!(
                        "`{key}` cannot be changed here; a profile update takes only `{EDITABLE}`"
                    )))
                }
            }
        }
        let mut state = self.lock();
        let member = state.members.get_mut(&caller.id).ok_or(LibraryError::Unauthenticated)?;
        member.name = name;
        member.role = role.unwrap_or(member.role);
        Ok(member.clone())
    }

    /// Sets a new password on the caller's own account, named by its id.
    pub fn change_password(
        &self,
        caller: &Member,
        id: &str,
        password: &str,
    ) -> Result<(), LibraryError> {
        check_password(password)?;
        let mut state = self.lock();
        // BUG cross-member-password: the handler checks that someone is
        // logged in, then changes whichever account the path names.
        let anyone = self.bug(LibraryBug::CrossMemberPassword);
        match id.parse().ok().and_then(|id| state.members.get_mut(&id)) {
            Some(member) if member.id == caller.id || anyone => {
                member.password = password.to_string();
                Ok(())
            }
            _ => Err(LibraryError::NotFound("member")),
        }
    }
}

fn parse_role(value: &Value) -> Result<Role, LibraryError> {
    match value.as_str() {
        Some("member") => Ok(Role::Member),
        Some("staff") => Ok(Role::Staff),
        _ => Err(LibraryError::Invalid(format!("`role` {value}: expected `member` or `staff`"))),
    }
}
