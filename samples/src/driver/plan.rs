//! What each QA session will do, decided up front from the seed.
//!
//! Planning before any request is sent keeps a run deterministic for a seed
//! whatever the timing: the same seed gives the same sessions, users, orders,
//! steps and bodies. Only server-made ids, tokens and the fresh
//! `Idempotency-Key`s differ between runs.
//!
//! Every plan is a happy path: each step is allowed in the state the previous
//! steps leave the order in, so a correct shop accepts all of them, and a
//! shop with bugs planted answers exactly the same.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::shop::{OrderAction, User, USERS};

/// One QA session: a user's journey from login to (sometimes) logout.
#[derive(Debug, Clone)]
pub(crate) struct SessionPlan {
    pub user: User,
    pub orders: Vec<OrderPlan>,
    /// List orders again before leaving (they are always listed once after creating).
    pub list_at_end: bool,
    pub logout: bool,
}

/// One order the session creates, and what then happens to it.
#[derive(Debug, Clone)]
pub(crate) struct OrderPlan {
    pub item: &'static str,
    /// Cents.
    pub amount: u64,
    pub fate: Fate,
    pub steps: Vec<Step>,
}

/// The lifecycle branch an order takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// pay, ship.
    Ship,
    /// pay, ship, refund.
    ShipAndRefund,
    /// pay, refund before shipping.
    PayAndRefund,
    /// pay, and nothing more yet.
    PaidOnly,
    /// cancel while created, maybe delete.
    CancelBeforePay,
    /// pay, cancel (which refunds), maybe delete.
    CancelAfterPay,
    /// delete while created: an abandoned cart.
    Abandon,
}

/// The fates some order of every run takes, so a learner sees every branch of
/// the state machine: together they pay, ship, refund from shipped and from
/// paid, cancel before and after paying, and delete.
const REQUIRED_FATES: [Fate; 5] = [
    Fate::ShipAndRefund,
    Fate::CancelBeforePay,
    Fate::CancelAfterPay,
    Fate::PayAndRefund,
    Fate::Abandon,
];

/// One action on an order, after its creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Pay,
    Ship,
    Refund,
    Cancel,
    Delete,
    /// `GET` the order.
    Read,
    /// `GET` the order, then `PATCH` its note with `If-Match` from that read.
    EditNote(&'static str),
}

/// What the shop's buyers order. The QA driver picks from the first eight;
/// the synthetic generator, imitating a longer week, from all of them.
pub(crate) const CATALOGUE: [&str; 16] = [
    "coffee grinder",
    "espresso cups",
    "tea kettle",
    "french press",
    "milk frother",
    "travel mug",
    "pour-over kit",
    "bean scale",
    "cold brew jar",
    "moka pot",
    "paper filters",
    "tea strainer",
    "latte glasses",
    "grinder brush",
    "descaler",
    "thermo flask",
];

/// Delivery notes buyers write. The QA driver picks from the first six; the
/// synthetic generator from all of them.
pub(crate) const DELIVERY_NOTES: [&str; 8] = [
    "leave at the door",
    "ring twice",
    "deliver after 6pm",
    "gift wrap, please",
    "call on arrival",
    "back entrance",
    "leave with the neighbour",
    "no plastic, please",
];

const ITEMS: &[&str] = CATALOGUE.split_at(8).0;
const NOTES: &[&str] = DELIVERY_NOTES.split_at(6).0;

/// Plans `sessions` sessions for the first `users` users, deterministically for `seed`.
///
/// Sessions take users in turn. Each creates 1–3 orders; the first orders of
/// the first sessions take the required fates (when there are fewer than five
/// sessions, the first ones carry extra orders so every branch still occurs),
/// one of them edits its note, and at least one session logs out.
pub(crate) fn plan(seed: u64, users: usize, sessions: usize) -> Vec<SessionPlan> {
    let mut rng = StdRng::seed_from_u64(seed);
    let users = users.clamp(1, USERS.len());
    let mut fates: Vec<Vec<Fate>> = (0..sessions)
        .map(|_| (0..rng.random_range(1..=3)).map(|_| Fate::random(&mut rng)).collect())
        .collect();
    if sessions > 0 {
        for (k, required) in REQUIRED_FATES.into_iter().enumerate() {
            let session = &mut fates[k % sessions];
            let slot = k / sessions;
            match session.get_mut(slot) {
                Some(fate) => *fate = required,
                None => session.push(required),
            }
        }
    }

    let mut plans: Vec<SessionPlan> = fates
        .into_iter()
        .enumerate()
        .map(|(index, fates)| SessionPlan {
            user: USERS[index % users],
            orders: fates.into_iter().map(|fate| plan_order(&mut rng, fate)).collect(),
            list_at_end: rng.random_bool(0.3),
            logout: rng.random_bool(0.5),
        })
        .collect();

    // The note edit and the logout must occur at least once too.
    let edited = plans
        .iter()
        .flat_map(|s| &s.orders)
        .any(|o| o.steps.iter().any(|s| matches!(s, Step::EditNote(_))));
    if !edited {
        if let Some(order) =
            plans.iter_mut().flat_map(|s| &mut s.orders).find(|o| o.fate == Fate::ShipAndRefund)
        {
            order.steps.insert(0, Step::EditNote(NOTES[0]));
        }
    }
    if !plans.iter().any(|s| s.logout) {
        if let Some(last) = plans.last_mut() {
            last.logout = true;
        }
    }
    plans
}

impl Fate {
    /// A fate weighted like a real week: most orders ship, a few are
    /// refunded, cancelled or abandoned.
    pub(crate) fn random(rng: &mut StdRng) -> Fate {
        const WEIGHTED: [(Fate, u32); 7] = [
            (Fate::Ship, 30),
            (Fate::ShipAndRefund, 15),
            (Fate::PayAndRefund, 5),
            (Fate::PaidOnly, 15),
            (Fate::CancelBeforePay, 12),
            (Fate::CancelAfterPay, 10),
            (Fate::Abandon, 13),
        ];
        let total: u32 = WEIGHTED.iter().map(|(_, w)| w).sum();
        let mut pick = rng.random_range(0..total);
        for (fate, weight) in WEIGHTED {
            if pick < weight {
                return fate;
            }
            pick -= weight;
        }
        Fate::Ship
    }

    /// The lifecycle actions this fate takes an order through, in order;
    /// the shop's rules allow each after the ones before.
    fn actions(self) -> &'static [OrderAction] {
        use OrderAction::*;
        match self {
            Fate::Ship => &[Pay, Ship],
            Fate::ShipAndRefund => &[Pay, Ship, Refund],
            Fate::PayAndRefund => &[Pay, Refund],
            Fate::PaidOnly => &[Pay],
            Fate::CancelBeforePay => &[Cancel],
            Fate::CancelAfterPay => &[Pay, Cancel],
            Fate::Abandon => &[],
        }
    }
}

impl From<OrderAction> for Step {
    fn from(action: OrderAction) -> Step {
        match action {
            OrderAction::Pay => Step::Pay,
            OrderAction::Ship => Step::Ship,
            OrderAction::Refund => Step::Refund,
            OrderAction::Cancel => Step::Cancel,
        }
    }
}

/// The steps an order of `fate` takes after its creation, before any final
/// check: its lifecycle actions, a delete for an abandoned order (and now
/// and then for a cancelled one), and usually a note edit (one of `notes`)
/// somewhere before the delete. The synthetic generator plans with it too.
pub(crate) fn lifecycle_steps(rng: &mut StdRng, fate: Fate, notes: &[&'static str]) -> Vec<Step> {
    let mut steps: Vec<Step> = fate.actions().iter().map(|&action| Step::from(action)).collect();
    let cancelled = matches!(fate, Fate::CancelBeforePay | Fate::CancelAfterPay);
    if fate == Fate::Abandon || (cancelled && rng.random_bool(0.4)) {
        steps.push(Step::Delete);
    }
    // Edit the note at some point before any delete: a read, then a PATCH
    // with that read's ETag.
    if rng.random_bool(0.7) {
        let last_allowed = steps.iter().position(|s| *s == Step::Delete).unwrap_or(steps.len());
        let at = rng.random_range(0..=last_allowed);
        let note = notes.choose(rng).copied().unwrap_or(notes[0]);
        steps.insert(at, Step::EditNote(note));
    }
    steps
}

fn plan_order(rng: &mut StdRng, fate: Fate) -> OrderPlan {
    let mut steps = lifecycle_steps(rng, fate, NOTES);
    // Check the outcome, as a tester would, unless the order is gone.
    if steps.last() != Some(&Step::Delete) && rng.random_bool(0.5) {
        steps.push(Step::Read);
    }
    OrderPlan {
        item: ITEMS.choose(rng).copied().unwrap_or(ITEMS[0]),
        amount: rng.random_range(2..=400) * 25,
        fate,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fates(plans: &[SessionPlan]) -> Vec<Fate> {
        plans.iter().flat_map(|s| s.orders.iter().map(|o| o.fate)).collect()
    }

    #[test]
    fn the_same_seed_plans_the_same_sessions() {
        let a = plan(42, 3, 20);
        let b = plan(42, 3, 20);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_ne!(format!("{a:?}"), format!("{:?}", plan(43, 3, 20)));
    }

    #[test]
    fn every_branch_occurs_whatever_the_session_count() {
        for sessions in [1, 2, 3, 5, 20] {
            for seed in 0..20 {
                let plans = plan(seed, 4, sessions);
                assert_eq!(plans.len(), sessions);
                let fates = fates(&plans);
                for required in REQUIRED_FATES {
                    assert!(
                        fates.contains(&required),
                        "{required:?} missing for seed {seed}, {sessions} sessions"
                    );
                }
                let steps: Vec<&Step> =
                    plans.iter().flat_map(|s| &s.orders).flat_map(|o| &o.steps).collect();
                assert!(steps.iter().any(|s| matches!(s, Step::EditNote(_))));
                assert!(plans.iter().any(|s| s.logout));
            }
        }
    }

    #[test]
    fn sessions_take_users_in_turn_and_create_one_to_three_orders() {
        let plans = plan(7, 3, 20);
        let names: Vec<&str> = plans.iter().take(4).map(|s| s.user.username).collect();
        assert_eq!(names, ["alice", "bob", "carol", "alice"]);
        assert!(plans.iter().all(|s| (1..=3).contains(&s.orders.len())));
    }

    #[test]
    fn every_fate_follows_the_shops_lifecycle_from_created() {
        use crate::shop::OrderStatus;
        let all = [
            Fate::Ship,
            Fate::ShipAndRefund,
            Fate::PayAndRefund,
            Fate::PaidOnly,
            Fate::CancelBeforePay,
            Fate::CancelAfterPay,
            Fate::Abandon,
        ];
        for fate in all {
            let end = fate.actions().iter().try_fold(OrderStatus::Created, |s, &a| s.after(a));
            assert!(end.is_some(), "{fate:?} takes a step the shop refuses");
        }
    }

    #[test]
    fn no_step_follows_a_delete() {
        for seed in 0..50 {
            for order in plan(seed, 4, 20).iter().flat_map(|s| &s.orders) {
                if let Some(at) = order.steps.iter().position(|s| *s == Step::Delete) {
                    assert_eq!(at, order.steps.len() - 1, "{order:?}");
                }
            }
        }
    }
}
