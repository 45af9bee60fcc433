//! The sample shop as tests use it: started on loopback with the bugs a test
//! names, and the ids of its actions as a learned model names them.

use venomqa_samples::{spawn_shop, BugSet, ShopConfig, ShopHandle};

/// Starts the shop on a loopback port with `bugs` planted: `"none"` for a
/// correct shop, `"all"`, or names as `venomqa sample serve --bugs` takes
/// them (`"double-refund,lost-update"`).
pub async fn start_shop(bugs: &str) -> ShopHandle {
    start_shop_with(bugs.parse().expect("a bug list")).await
}

/// Starts the shop on a loopback port with `bugs` planted.
pub async fn start_shop_with(bugs: BugSet) -> ShopHandle {
    spawn_shop(ShopConfig { bugs, ..ShopConfig::default() })
        .await
        .expect("the shop starts on loopback")
}

/// The shop's actions as a learned model names them (`METHOD template`).
pub mod actions {
    /// `POST /login`: a session's first call.
    pub const LOGIN: &str = "POST /login";
    /// `POST /logout`.
    pub const LOGOUT: &str = "POST /logout";
    /// `GET /orders`: the caller's orders.
    pub const LIST: &str = "GET /orders";
    /// `POST /orders`: creates an order.
    pub const CREATE: &str = "POST /orders";
    /// `GET /orders/{order_id}`.
    pub const READ: &str = "GET /orders/{order_id}";
    /// `PATCH /orders/{order_id}`: the delivery note, with `If-Match`.
    pub const PATCH: &str = "PATCH /orders/{order_id}";
    /// `DELETE /orders/{order_id}`.
    pub const DELETE: &str = "DELETE /orders/{order_id}";
    /// `POST /orders/{order_id}/pay`.
    pub const PAY: &str = "POST /orders/{order_id}/pay";
    /// `POST /orders/{order_id}/ship`.
    pub const SHIP: &str = "POST /orders/{order_id}/ship";
    /// `POST /orders/{order_id}/refund`.
    pub const REFUND: &str = "POST /orders/{order_id}/refund";
    /// `POST /orders/{order_id}/cancel`.
    pub const CANCEL: &str = "POST /orders/{order_id}/cancel";

    /// Every action, in the order a learned model lists them.
    pub const ALL: [&str; 11] =
        [LOGIN, LOGOUT, LIST, CREATE, DELETE, READ, PATCH, CANCEL, PAY, REFUND, SHIP];
}

#[cfg(test)]
mod tests {
    use venomqa_samples::OrderAction;

    use super::actions;

    #[test]
    fn the_lifecycle_actions_are_the_shops_own() {
        for (id, action) in [
            (actions::PAY, OrderAction::Pay),
            (actions::SHIP, OrderAction::Ship),
            (actions::REFUND, OrderAction::Refund),
            (actions::CANCEL, OrderAction::Cancel),
        ] {
            assert_eq!(id, format!("POST /orders/{{order_id}}/{}", action.name()));
        }
    }
}
