//! The order lifecycle as plain rules: which action an order's status
//! allows, which status it leads to, and what it does to the money.
//!
//! The shop enforces exactly these (each planted bug is an exception written
//! next to the guard it breaks); the QA driver plans by them, the synthetic
//! generator answers by them, and tests that script the shop follow them. So
//! there is one copy of the rules, and it is the shop's.
//!
//! ```
//! use venomqa_samples::{OrderAction, OrderStatus, Totals};
//!
//! assert_eq!(OrderStatus::Created.after(OrderAction::Pay), Some(OrderStatus::Paid));
//! assert_eq!(OrderStatus::Created.after(OrderAction::Ship), None);
//!
//! let mut totals = Totals::new(500);
//! totals.apply(OrderAction::Pay);
//! totals.apply(OrderAction::Cancel);
//! assert_eq!((totals.charged, totals.refunded), (500, 500));
//! ```

use serde::{Deserialize, Serialize};

/// Where an order is in its lifecycle; serialised in lowercase, as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    /// Just created: nothing charged yet.
    Created,
    /// Charged in full.
    Paid,
    /// On its way; it can still be refunded.
    Shipped,
    /// Its charge went back to the buyer; final.
    Refunded,
    /// Called off before shipping, refunding what was charged; final.
    Cancelled,
}

impl OrderStatus {
    /// The status as the API spells it.
    pub fn name(self) -> &'static str {
        match self {
            OrderStatus::Created => "created",
            OrderStatus::Paid => "paid",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Refunded => "refunded",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// The status the API spells `name`.
    pub fn named(name: &str) -> Option<OrderStatus> {
        [
            OrderStatus::Created,
            OrderStatus::Paid,
            OrderStatus::Shipped,
            OrderStatus::Refunded,
            OrderStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }

    /// Where `action` takes an order in this status, or `None` when a
    /// correct shop refuses it (409).
    pub fn after(self, action: OrderAction) -> Option<OrderStatus> {
        action.allowed_from(self).then(|| action.leads_to())
    }
}

/// An action that moves an order along its lifecycle (`POST /orders/{id}/<action>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderAction {
    /// Charges the amount, once.
    Pay,
    /// Sends a paid order.
    Ship,
    /// Gives back what was charged, for a paid or shipped order.
    Refund,
    /// Calls off an order that has not shipped, refunding what was charged.
    Cancel,
}

impl OrderAction {
    /// The last segment of the action's path: `pay`, `ship`, `refund`, `cancel`.
    pub fn name(self) -> &'static str {
        match self {
            OrderAction::Pay => "pay",
            OrderAction::Ship => "ship",
            OrderAction::Refund => "refund",
            OrderAction::Cancel => "cancel",
        }
    }

    /// Whether a correct shop accepts this action on an order in `status`.
    pub fn allowed_from(self, status: OrderStatus) -> bool {
        use OrderStatus::*;
        match self {
            OrderAction::Pay => status == Created,
            OrderAction::Ship => status == Paid,
            OrderAction::Refund => matches!(status, Paid | Shipped),
            OrderAction::Cancel => matches!(status, Created | Paid),
        }
    }

    /// The status an accepted action leaves the order in (each action has one).
    pub fn leads_to(self) -> OrderStatus {
        match self {
            OrderAction::Pay => OrderStatus::Paid,
            OrderAction::Ship => OrderStatus::Shipped,
            OrderAction::Refund => OrderStatus::Refunded,
            OrderAction::Cancel => OrderStatus::Cancelled,
        }
    }
}

/// An order's money, in cents, as the API shows it: the price, everything
/// ever charged, everything ever refunded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// The price.
    pub amount: u64,
    /// Total ever charged to the buyer.
    pub charged: u64,
    /// Total ever refunded to the buyer.
    pub refunded: u64,
}

impl Totals {
    /// A new order's money: its price, nothing charged or refunded.
    pub fn new(amount: u64) -> Totals {
        Totals { amount, charged: 0, refunded: 0 }
    }

    /// What an accepted `action` does to the money: paying charges the
    /// amount; refunding and cancelling give back what was charged.
    pub fn apply(&mut self, action: OrderAction) {
        match action {
            OrderAction::Pay => self.charged += self.amount,
            OrderAction::Refund | OrderAction::Cancel => self.refunded += self.charged,
            OrderAction::Ship => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_allowed_exactly_where_the_lifecycle_diagram_says() {
        use OrderAction::*;
        use OrderStatus::*;
        let allowed: Vec<(OrderStatus, OrderAction)> =
            [Created, Paid, Shipped, Refunded, Cancelled]
                .into_iter()
                .flat_map(|s| [Pay, Ship, Refund, Cancel].map(|a| (s, a)))
                .filter(|(s, a)| s.after(*a).is_some())
                .collect();
        assert_eq!(
            allowed,
            [
                (Created, Pay),
                (Created, Cancel),
                (Paid, Ship),
                (Paid, Refund),
                (Paid, Cancel),
                (Shipped, Refund)
            ]
        );
    }
}
