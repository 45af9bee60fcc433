//! The synthetic traffic generator: deterministic for a seed, exactly the
//! count asked for, and realistic enough that the learner finds the shop in it.

use venomqa_learner::{learn, LearnOptions, Location};
use venomqa_samples::{generate, GenerateOptions};
use venomqa_testkit::shop::actions;
use venomqa_traffic::{Exchange, SessionKey, SessionRules};

/// Groups exchanges by the store's default session rules, as a recording would.
fn sessionized(options: GenerateOptions) -> impl Iterator<Item = Exchange> {
    let rules = SessionRules::default();
    generate(options).map(move |mut exchange| {
        exchange.session = SessionKey(rules.base_key(&exchange, None));
        exchange
    })
}

#[test]
fn the_same_seed_gives_the_same_exchanges() {
    let a: Vec<Exchange> = generate(GenerateOptions::new(2_000, 5)).collect();
    let b: Vec<Exchange> = generate(GenerateOptions::new(2_000, 5)).collect();
    assert!(a == b, "two runs with seed 5 differ");
    let c: Vec<Exchange> = generate(GenerateOptions::new(2_000, 6)).collect();
    assert!(a != c, "seeds 5 and 6 give the same traffic");
    // A longer run starts with the shorter one.
    let longer: Vec<Exchange> = generate(GenerateOptions::new(2_500, 5)).collect();
    assert!(longer[..2_000] == a[..]);
}

#[test]
fn exactly_the_requested_count_comes_out() {
    for n in [0, 1, 17, 1_000, 12_345] {
        let generator = generate(GenerateOptions::new(n, 1));
        assert_eq!(generator.len() as u64, n);
        assert_eq!(generator.count() as u64, n);
    }
}

#[test]
fn learning_from_generated_traffic_finds_the_shop() {
    let options = GenerateOptions::new(20_000, 42);
    let learned = learn(|| sessionized(options.clone()), &LearnOptions::default()).unwrap();
    let model = &learned.model;
    let mut actions: Vec<&str> = model.actions.iter().map(|a| a.id.as_str()).collect();
    let mut expected = actions::ALL.to_vec();
    actions.sort_unstable();
    expected.sort_unstable();
    assert_eq!(actions, expected);
    assert!(learned.summary.ignored.get("health-check").is_some_and(|n| *n > 50));
    assert!(learned.summary.sessions > 1_000, "{} sessions", learned.summary.sessions);

    for consumer in actions::ALL.iter().filter(|a| a.contains("{order_id}")) {
        let id = model
            .links_into(consumer)
            .find(|l| l.to == Location::Path { name: "order_id".into() })
            .unwrap_or_else(|| panic!("no order_id link into {consumer}"));
        assert_eq!((id.producer.as_str(), id.status), ("POST /orders", 201), "{consumer}");
        let token = model.links_into(consumer).find(|l| l.to == Location::Bearer).unwrap();
        assert_eq!(token.producer, "POST /login", "{consumer}");
    }

    let machine = model.machine("orders").expect("orders have a state machine");
    assert_eq!(machine.field.as_deref(), Some("status"));
    for (from, action, to) in [
        ("created", "POST /orders/{order_id}/pay", "paid"),
        ("paid", "POST /orders/{order_id}/ship", "shipped"),
        ("shipped", "POST /orders/{order_id}/refund", "refunded"),
        ("paid", "POST /orders/{order_id}/refund", "refunded"),
        ("created", "POST /orders/{order_id}/cancel", "cancelled"),
        ("paid", "POST /orders/{order_id}/cancel", "cancelled"),
    ] {
        assert!(machine.has_transition(from, action, to), "{from} --{action}--> {to} missing");
    }
    for (from, action) in
        [("created", "POST /orders/{order_id}/ship"), ("shipped", "POST /orders/{order_id}/cancel")]
    {
        assert!(machine.transitions_from(from).all(|t| t.action != action), "{from} --{action}");
    }
}
