//! User invariants: CEL expressions over the JSON of a resource, checked after
//! every step of a sequence against fresh probe reads.
//!
//! An invariant names a model resource (`orders`) and sees one instance of it
//! under the singular (`order`):
//!
//! ```
//! use venomqa_replayer::Invariant;
//!
//! let inv = Invariant::compile("refund within amount", "orders", "order.refunded <= order.amount")
//!     .expect("valid CEL");
//! assert_eq!(inv.variable(), "order");
//! let order = serde_json::json!({"id": "x9", "amount": 100, "refunded": 200});
//! assert_eq!(inv.check(&order).ok(), Some(false)); // violated
//! ```
//!
//! # How JSON becomes CEL
//! - objects → maps with string keys, arrays → lists, strings, booleans, `null`;
//! - a number becomes a CEL `int` when its value is integral and fits in an
//!   `i64` (`10` and `10.0` alike, so two serializers that disagree on `.0`
//!   see the same value), a `uint` when it is an integer above `i64::MAX`, and
//!   a `double` otherwise (`12.5`).
//!
//! Comparisons (`<`, `<=`, `==`, ...) between `int`, `uint` and `double` work
//! as users expect (`order.refunded <= order.amount` with `10` and `12.5`, and
//! `10 == 10.0` is true): the `cel` crate compares numbers across types, as the
//! CEL specification asks. Arithmetic does not mix types in CEL (`int + double`
//! is an error naming both types): write `double(order.amount) * 0.1`.
//!
//! # Errors
//! Every [`InvariantError`] names the invariant. A syntax error also gives the
//! line and column inside the expression, the line itself and a caret under
//! the place. An evaluation error (a missing field, a type mismatch, a result
//! that is not a `bool`) is an error, never a violation: the engine reports it
//! and does not count it as a finding.

mod awk;
mod convert;
mod error;
mod violations;

use std::sync::Arc;

use cel::{Context, Env, ExecutionError, Program, Value};

pub use awk::{AwkCheck, AwkField};
pub use error::{InvariantError, Position};

use convert::{describe_value, evaluation_message, json_to_cel, type_name};
use error::{check_names, syntax_error};

/// A compiled user invariant over one resource of the model.
#[derive(Clone)]
pub struct Invariant {
    /// What the user called it; every error and finding names it.
    pub name: String,
    /// The model's resource name (`orders`, `orders.refunds`).
    pub resource: String,
    /// The CEL source as written.
    pub expr: String,
    variable: String,
    program: Arc<Program>,
    env: Arc<Env>,
}

impl std::fmt::Debug for Invariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invariant")
            .field("name", &self.name)
            .field("resource", &self.resource)
            .field("expr", &self.expr)
            .field("variable", &self.variable)
            .finish_non_exhaustive()
    }
}

impl Invariant {
    /// Parses `expr` once, so a bad invariant is refused when the
    /// configuration loads, not in the middle of a run.
    ///
    /// `resource` is the model's resource name (`orders`); the expression sees
    /// one instance under its singular (`order`, see [`singular`]).
    pub fn compile(name: &str, resource: &str, expr: &str) -> Result<Invariant, InvariantError> {
        let env = Env::stdlib();
        let program = env.compile(expr).map_err(|errors| syntax_error(name, expr, &errors))?;
        let variable = singular(resource);
        check_names(name, resource, &variable, expr, &program)?;
        Ok(Invariant {
            name: name.to_string(),
            resource: resource.to_string(),
            expr: expr.to_string(),
            variable,
            program: Arc::new(program),
            env: Arc::new(env),
        })
    }

    /// Evaluates the invariant on one instance of the resource: `Ok(true)`
    /// holds, `Ok(false)` is violated, `Err` is an evaluation error (which the
    /// engine reports and never treats as a violation).
    pub fn check(&self, resource_json: &serde_json::Value) -> Result<bool, InvariantError> {
        let mut context = Context::with_env(Arc::clone(&self.env));
        let value = json_to_cel(resource_json);
        // The conversion to the interpreter's own value representation only
        // fails for CEL types JSON cannot produce (functions, opaque values).
        let boxed = value.try_into().map_err(|e: ExecutionError| InvariantError::Evaluation {
            name: self.name.clone(),
            message: e.to_string(),
        })?;
        context.add_variable_as_val(self.variable.clone(), boxed);
        match self.program.execute(&context) {
            Ok(Value::Bool(b)) => Ok(b),
            Ok(other) => Err(InvariantError::NotBool {
                name: self.name.clone(),
                type_name: type_name(&other),
                value: describe_value(&other),
            }),
            Err(e) => Err(InvariantError::Evaluation {
                name: self.name.clone(),
                message: evaluation_message(&e, &self.variable),
            }),
        }
    }

    /// The name the expression sees the resource under: `order` for `orders`.
    pub fn variable(&self) -> &str {
        &self.variable
    }
}

/// The variable name for a model resource: the singular of its last segment,
/// made a valid CEL identifier.
///
/// `orders` → `order`, `categories` → `category`, `addresses` → `address`,
/// `boxes` → `box`, `orders.refunds` → `refund`, `line-items` → `line_item`;
/// a name that does not end in a plural `s` (`people`, `status`, `access`)
/// stays as it is. A CEL reserved word gets a trailing `_` (`in` → `in_`).
pub fn singular(resource: &str) -> String {
    let last = resource.rsplit('.').next().unwrap_or(resource);
    let word = venomqa_learner::singular_word(last);
    let mut ident: String =
        word.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if ident.is_empty() {
        ident.push_str("resource");
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, '_');
    }
    if RESERVED.contains(&ident.as_str()) {
        ident.push('_');
    }
    ident
}

/// CEL's reserved words and literals: never usable as a variable name.
const RESERVED: &[&str] = &[
    "as",
    "break",
    "const",
    "continue",
    "else",
    "false",
    "for",
    "function",
    "if",
    "import",
    "in",
    "let",
    "loop",
    "package",
    "namespace",
    "null",
    "return",
    "true",
    "var",
    "void",
    "while",
];
