//! User invariants as CEL over shop-like resources: truth, violation, and
//! every kind of error a user can make, each naming the invariant.

use serde_json::json;
use venomqa_replayer::{singular, Invariant, InvariantError};

fn order() -> serde_json::Value {
    json!({
        "id": "x9",
        "owner": "alice",
        "status": "paid",
        "amount": 100,
        "refunded": 40,
        "charged": 100,
        "paid": true,
        "items": [{"sku": "A-1", "qty": 2, "price": 25.5}, {"sku": "B-7", "qty": 1, "price": 49}],
        "note": null
    })
}

fn compile(expr: &str) -> Invariant {
    Invariant::compile("test", "orders", expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

fn holds(expr: &str, value: &serde_json::Value) -> bool {
    compile(expr).check(value).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

#[test]
fn refund_within_amount_holds_then_is_violated_by_a_double_refund() {
    let inv =
        Invariant::compile("refund within amount", "orders", "order.refunded <= order.amount")
            .expect("compiles");
    assert_eq!(inv.name, "refund within amount");
    assert_eq!(inv.resource, "orders");
    assert_eq!(inv.expr, "order.refunded <= order.amount");
    assert_eq!(inv.variable(), "order");
    assert_eq!(inv.check(&order()), Ok(true));
    let mut refunded_twice = order();
    refunded_twice["refunded"] = json!(200);
    assert_eq!(inv.check(&refunded_twice), Ok(false));
}

#[test]
fn shipped_orders_must_be_charged() {
    let expr = r#"order.status != "shipped" || order.charged > 0"#;
    assert!(holds(expr, &order()));
    let shipped_unpaid = json!({"status": "shipped", "charged": 0});
    assert!(!holds(expr, &shipped_unpaid));
    let shipped_paid = json!({"status": "shipped", "charged": 100});
    assert!(holds(expr, &shipped_paid));
    // The issue's own example with a boolean field.
    assert!(!holds(
        r#"order.status != "shipped" || order.paid"#,
        &json!({"status": "shipped", "paid": false})
    ));
}

#[test]
fn ints_and_doubles_compare_as_numbers() {
    // 10 is an int, 12.5 a double: comparisons cross the types.
    let v = json!({"refunded": 10, "amount": 12.5});
    assert!(holds("order.refunded <= order.amount", &v));
    assert!(!holds("order.refunded > order.amount", &v));
    assert!(holds("order.amount > 12", &v));
    // An integral double is an int: `10.0` and `10` are the same value.
    let w = json!({"refunded": 10.0, "amount": 10});
    assert!(holds("order.refunded == order.amount", &w));
    assert!(holds("order.refunded == 10", &w));
    assert!(holds("order.refunded + 1 == 11", &w));
    // Equality across int and double literals.
    assert!(holds("order.amount == 10.0", &w));
}

#[test]
fn macros_strings_sizes_and_has_work_on_nested_json() {
    let o = order();
    assert!(holds("order.items.all(i, i.qty > 0)", &o));
    assert!(holds(r#"order.items.exists(i, i.sku == "B-7")"#, &o));
    assert!(!holds("order.items.exists_one(i, i.qty > 0)", &o));
    assert!(holds("size(order.items) == 2", &o));
    assert!(holds(r#"order.id.startsWith("x")"#, &o));
    assert!(holds(r#"order.status in ["paid", "shipped"]"#, &o));
    assert!(holds("has(order.refunded) && !has(order.cancelled_at)", &o));
    assert!(holds("order.note == null", &o));
    assert!(holds(r#"order.status.matches("^(paid|shipped)$")"#, &o));
    assert!(holds("order.items.map(i, i.qty).all(q, q <= 2)", &o));
}

#[test]
fn a_missing_field_is_an_evaluation_error_naming_the_invariant_and_field() {
    let inv = Invariant::compile("refund within amount", "orders", "order.refunded <= order.total")
        .expect("compiles");
    let err = inv.check(&order()).expect_err("no `total` field");
    assert!(matches!(err, InvariantError::Evaluation { .. }), "{err:?}");
    assert_eq!(err.invariant(), "refund within amount");
    assert_eq!(
        err.to_string(),
        "invariant \"refund within amount\": evaluation error: no field `total` (missing from the order)"
    );
}

#[test]
fn a_type_mismatch_is_an_evaluation_error_naming_the_types() {
    let inv =
        Invariant::compile("amount positive", "orders", "order.status > 0").expect("compiles");
    let err = inv.check(&order()).expect_err("string > int");
    assert_eq!(
        err.to_string(),
        "invariant \"amount positive\": evaluation error: type mismatch: `>` cannot take (string, int)"
    );
    // Arithmetic does not mix int and double.
    let inv = Invariant::compile("fee", "orders", "order.amount * 0.1 < 20.0").expect("compiles");
    let err = inv.check(&order()).expect_err("int * double");
    assert_eq!(
        err.to_string(),
        "invariant \"fee\": evaluation error: type mismatch: `*` cannot take (int, double)"
    );
    // ... and the documented way around it works.
    assert!(holds("double(order.amount) * 0.1 < 20.0", &order()));
}

#[test]
fn a_non_boolean_result_is_an_error_naming_its_type() {
    let inv = Invariant::compile("amount", "orders", "order.amount").expect("compiles");
    let err = inv.check(&order()).expect_err("int, not bool");
    assert_eq!(
        err,
        InvariantError::NotBool {
            name: "amount".into(),
            type_name: "int".into(),
            value: "100".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "invariant \"amount\": the expression gave an int (100), not a bool"
    );
    let err = compile("order.status").check(&order()).expect_err("string");
    assert_eq!(
        err.to_string(),
        "invariant \"test\": the expression gave a string (\"paid\"), not a bool"
    );
    let err = compile("order.items").check(&order()).expect_err("list");
    assert!(err.to_string().contains("gave a list (a list of 2), not a bool"), "{err}");
}

#[test]
fn a_syntax_error_gives_the_column_the_line_and_a_caret() {
    let err =
        Invariant::compile("refund within amount", "orders", "order.refunded <== order.amount")
            .expect_err("bad syntax");
    let InvariantError::Syntax { name, at, .. } = &err else {
        panic!("not a syntax error: {err:?}");
    };
    assert_eq!(name, "refund within amount");
    assert_eq!((at.line, at.column, at.multiline), (1, 18, false));
    assert_eq!(at.source_line, "order.refunded <== order.amount");
    assert_eq!(at.caret, "                 ^");
    let text = err.to_string();
    assert!(
        text.starts_with("invariant \"refund within amount\": syntax error at column 18: "),
        "{text}"
    );
    assert!(text.ends_with("\n  order.refunded <== order.amount\n                   ^"), "{text}");
}

#[test]
fn a_syntax_error_in_a_multiline_expression_names_the_line() {
    let expr = "order.status != \"shipped\"\n  || order.charged >";
    let err = Invariant::compile("shipped charged", "orders", expr).expect_err("truncated");
    let InvariantError::Syntax { at, .. } = &err else {
        panic!("not a syntax error: {err:?}");
    };
    assert_eq!((at.line, at.multiline), (2, true));
    assert_eq!(at.source_line, "  || order.charged >");
    assert_eq!(at.column, 21, "{err}");
    assert!(err.to_string().contains("syntax error at line 2, column 21: "), "{err}");
}

#[test]
fn an_unclosed_string_is_a_syntax_error() {
    let err = Invariant::compile("s", "orders", "order.status == \"paid").expect_err("unclosed");
    assert!(matches!(&err, InvariantError::Syntax { at, .. } if at.line == 1), "{err:?}");
    assert!(err.to_string().starts_with("invariant \"s\": syntax error at column "), "{err}");
}

#[test]
fn the_plural_or_a_typo_of_the_variable_is_refused_at_compile_time_with_its_position() {
    let err =
        Invariant::compile("refund within amount", "orders", "orders.refunded <= order.amount")
            .expect_err("plural");
    assert_eq!(
        err.to_string(),
        "invariant \"refund within amount\": unknown name `orders` at column 1: the resource `orders` is seen as `order`\n  orders.refunded <= order.amount\n  ^"
    );
    let err = Invariant::compile("t", "orders", "order.amount > 0 && ordr.paid").expect_err("typo");
    let InvariantError::UnknownName { unknown, at, .. } = &err else { panic!("{err:?}") };
    assert_eq!((unknown.as_str(), at.column), ("ordr", 21));
    // Columns count characters, not bytes, and lines count from the expression's first.
    let err = Invariant::compile("t", "orders", "order.note == \"héllo wörld\"\n && ordr.paid")
        .expect_err("typo on line 2");
    let InvariantError::UnknownName { at, .. } = &err else { panic!("{err:?}") };
    assert_eq!((at.line, at.column, at.source_line.as_str()), (2, 5, " && ordr.paid"));
    assert!(err.to_string().contains("unknown name `ordr` at line 2, column 5"), "{err}");
    let err = Invariant::compile("t", "orders", "order.note == \"héllo\" && ordr.paid")
        .expect_err("typo");
    let InvariantError::UnknownName { at, .. } = &err else { panic!("{err:?}") };
    assert_eq!(at.column, 26, "{err}");
    let err = Invariant::compile("t", "orders", "order.note == \"héllo\" && order.paid &&")
        .expect_err("syntax");
    let InvariantError::Syntax { at, .. } = &err else { panic!("{err:?}") };
    assert_eq!(at.column, 39, "{err}");
    // A macro's own variable is not unknown, inside its scope only.
    assert!(Invariant::compile("t", "orders", "order.items.all(i, i.qty > 0)").is_ok());
    let err = Invariant::compile("t", "orders", "order.items.all(i, i.qty > 0) && i.qty > 0")
        .expect_err("i out of scope");
    assert!(
        matches!(&err, InvariantError::UnknownName { unknown, .. } if unknown == "i"),
        "{err:?}"
    );
    // Type names are fine.
    assert!(holds("type(order.amount) == int", &order()));
}

#[test]
fn the_variable_is_the_singular_of_the_resource() {
    assert_eq!(singular("orders"), "order");
    assert_eq!(singular("categories"), "category");
    assert_eq!(singular("addresses"), "address");
    assert_eq!(singular("people"), "people");
    assert_eq!(singular("boxes"), "box");
    assert_eq!(singular("matches"), "match");
    assert_eq!(singular("statuses"), "status");
    assert_eq!(singular("status"), "status");
    assert_eq!(singular("access"), "access");
    assert_eq!(singular("users"), "user");
    assert_eq!(singular("orders.refunds"), "refund");
    assert_eq!(singular("line-items"), "line_item");
    assert_eq!(singular("series"), "series");
    assert_eq!(singular("3ds"), "_3d");
    let inv = Invariant::compile("r", "orders.refunds", "refund.amount > 0").expect("compiles");
    assert_eq!(inv.variable(), "refund");
    assert_eq!(inv.check(&json!({"amount": 5})), Ok(true));
}

#[test]
fn evaluation_errors_are_not_violations_and_division_by_zero_is_one() {
    let inv = compile("order.amount / order.refunded > 1");
    assert_eq!(inv.check(&json!({"amount": 10, "refunded": 5})), Ok(true));
    let err = inv.check(&json!({"amount": 10, "refunded": 0})).expect_err("divide by zero");
    assert!(matches!(err, InvariantError::Evaluation { .. }), "{err:?}");
}

#[test]
fn a_resource_that_is_not_an_object_is_an_evaluation_error() {
    let err = compile("order.amount > 0").check(&json!("x9")).expect_err("a string has no fields");
    assert!(matches!(err, InvariantError::Evaluation { .. }), "{err:?}");
    assert!(err.to_string().starts_with("invariant \"test\": evaluation error: "), "{err}");
}

#[test]
fn an_invariant_is_shareable_across_threads_and_clones() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Invariant>();
    let inv = compile("order.paid");
    let copy = inv.clone();
    let handle = std::thread::spawn(move || copy.check(&json!({"paid": true})));
    assert_eq!(handle.join().expect("thread"), Ok(true));
    assert_eq!(inv.check(&json!({"paid": false})), Ok(false));
}
