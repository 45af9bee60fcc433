//! The shop's venomqa configuration, written once: what its team would put
//! in `qa/venomqa.toml`. The demo appends the invariants to the starter
//! configuration `venomqa init` writes; tests parse the whole file.

use super::USERS;

/// The two invariants the shop's team would write down as always true of an
/// order, as `[[invariants]]` tables.
pub const SHOP_INVARIANTS: &str = r#"
# The sample shop's invariants.
[[invariants]]
name = "refunds never exceed the amount"
resource = "orders"
expr = "order.refunded <= order.amount"

[[invariants]]
name = "nothing ships unpaid"
resource = "orders"
expr = "order.status != 'shipped' || order.charged == order.amount"
"#;

/// A complete `qa/venomqa.toml` for the shop at `target`: a 5 s timeout,
/// the `POST /__reset` hook, users alice (her password from
/// `VENOMQA_ALICE_PASSWORD`, as CI would keep it), bob and carol, and
/// [`SHOP_INVARIANTS`].
pub fn shop_qa_config(target: &str) -> String {
    format!(
        r#"
[target]
url = "{target}"
timeout = "5s"

[reset]
request = "POST /__reset"

[users.alice]
username = "alice"
password = {{ env = "VENOMQA_ALICE_PASSWORD" }}

[users.bob]
username = "bob"
password = "bob-pw"

[users.carol]
username = "carol"
password = "carol-pw"
{SHOP_INVARIANTS}"#
    )
}

/// The environment as the shop would have it: `VENOMQA_<USER>_PASSWORD` is
/// that user's password, for each of the shop's [`USERS`].
pub fn shop_password(var: &str) -> Option<String> {
    let user = var.strip_prefix("VENOMQA_")?.strip_suffix("_PASSWORD")?.to_ascii_lowercase();
    USERS.iter().find(|u| u.username == user).map(|u| u.password.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shop_user_has_a_password_variable_and_nothing_else_does() {
        assert_eq!(shop_password("VENOMQA_ALICE_PASSWORD").as_deref(), Some("alice-pw"));
        assert_eq!(shop_password("VENOMQA_DAVE_PASSWORD").as_deref(), Some("dave-pw"));
        assert_eq!(shop_password("VENOMQA_MALLORY_PASSWORD"), None);
        assert_eq!(shop_password("HOME"), None);
    }
}
