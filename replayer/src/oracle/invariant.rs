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

use std::fmt::Write as _;
use std::sync::Arc;

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::{Context, Env, ExecutionError, Program, Value};

/// Why an invariant could not be compiled or checked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvariantError {
    /// The expression is not valid CEL.
    #[error("invariant \"{name}\": syntax error at {at}: {message}\n{}", at.snippet())]
    Syntax { name: String, at: Box<Position>, message: String },
    /// The expression uses a name that is neither the resource's variable nor
    /// a variable of a macro such as `all(x, ...)`.
    #[error(
        "invariant \"{name}\": unknown name `{unknown}` at {at}: the resource `{resource}` is seen as `{variable}`\n{}",
        at.snippet()
    )]
    UnknownName {
        name: String,
        unknown: String,
        resource: String,
        variable: String,
        at: Box<Position>,
    },
    /// Evaluating the expression failed: a missing field, a type mismatch, a
    /// division by zero... Not a violation.
    #[error("invariant \"{name}\": evaluation error: {message}")]
    Evaluation { name: String, message: String },
    /// The expression evaluated to something other than a `bool`.
    #[error(
        "invariant \"{name}\": the expression gave {} {type_name} ({value}), not a bool",
        article(type_name)
    )]
    NotBool { name: String, type_name: String, value: String },
}

/// Where in an expression an error is, and the line to show it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// 1-based line inside the expression.
    pub line: usize,
    /// 1-based column, in characters, inside that line.
    pub column: usize,
    /// Whether the expression spans several lines (then messages name the line).
    pub multiline: bool,
    /// The line of the expression the error is on.
    pub source_line: String,
    /// Spaces (tabs where the line has them) and a `^` under the column.
    pub caret: String,
}

impl Position {
    /// The expression line and the caret under it, each indented by two spaces.
    pub fn snippet(&self) -> String {
        format!("  {}\n  {}", self.source_line, self.caret)
    }
}

/// `column 14`, or `line 2, column 5` in a multi-line expression.
impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.multiline {
            write!(f, "line {}, column {}", self.line, self.column)
        } else {
            write!(f, "column {}", self.column)
        }
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

impl InvariantError {
    /// The name of the invariant the error is about.
    pub fn invariant(&self) -> &str {
        match self {
            InvariantError::Syntax { name, .. }
            | InvariantError::UnknownName { name, .. }
            | InvariantError::Evaluation { name, .. }
            | InvariantError::NotBool { name, .. } => name,
        }
    }
}

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

/// Names an expression may use besides the resource: CEL's type denotations.
const TYPE_NAMES: &[&str] = &[
    "bool",
    "bytes",
    "double",
    "dyn",
    "int",
    "list",
    "map",
    "null_type",
    "string",
    "type",
    "uint",
];

/// JSON → CEL, numbers as documented in the module docs.
fn json_to_cel(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::UInt(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                // `i64::MIN as f64` is exact; `i64::MAX as f64` rounds up to 2^63,
                // hence the strict upper bound.
                if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
                    Value::Int(f as i64)
                } else {
                    Value::Float(f)
                }
            }
        }
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(json_to_cel).collect()))
        }
        serde_json::Value::Object(fields) => {
            let map: std::collections::HashMap<cel::objects::Key, Value> = fields
                .iter()
                .map(|(k, v)| (cel::objects::Key::from(k.as_str()), json_to_cel(v)))
                .collect();
            Value::Map(cel::objects::Map { map: Arc::new(map) })
        }
    }
}

/// A short rendering of a CEL value for messages.
fn describe_value(value: &Value) -> String {
    let text = match value {
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => format!("{u}u"),
        Value::Float(f) => f.to_string(),
        Value::String(s) => format!("{:?}", s.as_str()),
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::List(items) => format!("a list of {}", items.len()),
        Value::Map(map) => format!("a map of {} fields", map.map.len()),
        other => format!("{other:?}"),
    };
    truncate(&text, 80)
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}...")
    }
}

/// Rewrites the interpreter's error into words a user of the invariant can act on.
fn evaluation_message(error: &ExecutionError, variable: &str) -> String {
    match error {
        ExecutionError::NoSuchKey(key) => format!("no field `{key}` (missing from the {variable})"),
        ExecutionError::UndeclaredReference(name) => {
            format!("unknown name `{name}`: the resource is seen as `{variable}`")
        }
        ExecutionError::NoSuchOverload(overload) => {
            let function = match operator_symbol(overload.function()).as_str() {
                "." => "field access `.`".to_string(),
                other => format!("`{other}`"),
            };
            format!(
                "type mismatch: {function} cannot take ({})",
                overload.argument_types().join(", ")
            )
        }
        ExecutionError::ValuesNotComparable(a, b) => format!(
            "type mismatch: cannot compare {} {} with {} {}",
            type_name(a),
            describe_value(a),
            type_name(b),
            describe_value(b)
        ),
        ExecutionError::UnsupportedBinaryOperator(op, a, b) => {
            let symbol = match *op {
                "add" => "+",
                "sub" => "-",
                "mul" => "*",
                "div" => "/",
                "rem" => "%",
                other => other,
            };
            format!("type mismatch: `{symbol}` cannot take ({}, {})", type_name(a), type_name(b))
        }
        other => other.to_string(),
    }
}

/// The CEL name of a value's type (`double`, where the crate says `float`).
fn type_name(value: &Value) -> String {
    match value {
        Value::Float(_) => "double".to_string(),
        Value::Map(_) => "map".to_string(),
        other => other.type_of().to_string(),
    }
}

/// `_<=_` → `<=`, `!_` → `!`, `_[_]` → `[]`; function names unchanged.
fn operator_symbol(function: &str) -> String {
    if function.contains('_') && !function.chars().any(|c| c.is_ascii_alphanumeric()) {
        function.replace('_', "")
    } else {
        function.to_string()
    }
}

/// 1-based line and column (in characters) of a byte offset into `source`.
fn locate(source: &str, byte_offset: usize) -> (usize, usize) {
    let before = source.get(..byte_offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn caret_under(source_line: &str, column: usize) -> String {
    // Tabs stay tabs so the caret lines up in a terminal.
    let mut caret: String = source_line
        .chars()
        .take(column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let short = column.saturating_sub(1).saturating_sub(caret.chars().count());
    caret.push_str(&" ".repeat(short));
    caret.push('^');
    caret
}

fn syntax_error(name: &str, expr: &str, errors: &cel::ParseErrors) -> InvariantError {
    let lines: Vec<&str> = expr.split('\n').collect();
    let Some(first) = errors.errors.first() else {
        return InvariantError::Syntax {
            name: name.to_string(),
            at: Box::new(position(expr, 1, 1)),
            message: "invalid expression".to_string(),
        };
    };
    // The parser reports a 1-based line and a 1-based column in characters.
    let line = usize::try_from(first.pos.0).unwrap_or(1).clamp(1, lines.len().max(1));
    let column = usize::try_from(first.pos.1).unwrap_or(1).max(1);
    let mut message = clean_parse_message(&first.msg);
    if errors.errors.len() > 1 {
        let _ = write!(message, " (and {} more)", errors.errors.len() - 1);
    }
    InvariantError::Syntax {
        name: name.to_string(),
        at: Box::new(position(expr, line, column)),
        message,
    }
}

/// The [`Position`] of 1-based `line` and `column` in `expr`.
fn position(expr: &str, line: usize, column: usize) -> Position {
    let source_line =
        expr.split('\n').nth(line - 1).unwrap_or("").trim_end_matches('\r').to_string();
    Position {
        line,
        column,
        multiline: expr.contains('\n'),
        caret: caret_under(&source_line, column),
        source_line,
    }
}

fn clean_parse_message(message: &str) -> String {
    let message = message.trim();
    let message = message.strip_prefix("Syntax error: ").unwrap_or(message);
    message.to_string()
}

/// Refuses, at compile time, a name the expression can never resolve: a typo
/// of the variable (`orders.amount`, `ordr.amount`) would otherwise only
/// surface as an evaluation error in the middle of a run.
fn check_names(
    name: &str,
    resource: &str,
    variable: &str,
    expr: &str,
    program: &Program,
) -> Result<(), InvariantError> {
    let mut scope = vec![variable.to_string()];
    let Some((unknown, id)) = first_unknown(program.expression(), &mut scope) else {
        return Ok(());
    };
    let offset = program.source_info().offset_for(id).map(|(start, _)| start as usize).unwrap_or(0);
    let offset = offset.min(expr.len());
    let (line, column) = locate(expr, offset);
    Err(InvariantError::UnknownName {
        name: name.to_string(),
        unknown,
        resource: resource.to_string(),
        variable: variable.to_string(),
        at: Box::new(position(expr, line, column)),
    })
}

/// The first identifier not bound in `scope` (the resource variable plus the
/// variables of the comprehensions around it), with its expression id.
fn first_unknown(expr: &IdedExpr, scope: &mut Vec<String>) -> Option<(String, u64)> {
    match &expr.expr {
        Expr::Unspecified | Expr::Literal(_) => None,
        Expr::Ident(ident) => {
            // `@`-names are the parser's own accumulators.
            let known = ident.starts_with('@')
                || TYPE_NAMES.contains(&ident.as_str())
                || scope.iter().any(|s| s == ident);
            (!known).then(|| (ident.clone(), expr.id))
        }
        Expr::Select(select) => first_unknown(&select.operand, scope),
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                if let Some(found) = first_unknown(target, scope) {
                    return Some(found);
                }
            }
            call.args.iter().find_map(|arg| first_unknown(arg, scope))
        }
        Expr::List(list) => list.elements.iter().find_map(|e| first_unknown(e, scope)),
        Expr::Map(map) => map.entries.iter().find_map(|entry| match &entry.expr {
            EntryExpr::MapEntry(e) => {
                first_unknown(&e.key, scope).or_else(|| first_unknown(&e.value, scope))
            }
            EntryExpr::StructField(f) => first_unknown(&f.value, scope),
        }),
        Expr::Struct(st) => st.entries.iter().find_map(|entry| match &entry.expr {
            EntryExpr::MapEntry(e) => {
                first_unknown(&e.key, scope).or_else(|| first_unknown(&e.value, scope))
            }
            EntryExpr::StructField(f) => first_unknown(&f.value, scope),
        }),
        Expr::Comprehension(comp) => {
            if let Some(found) = first_unknown(&comp.iter_range, scope) {
                return Some(found);
            }
            let outer = scope.len();
            scope.push(comp.accu_var.clone());
            let found = first_unknown(&comp.accu_init, scope).or_else(|| {
                scope.push(comp.iter_var.clone());
                if let Some(v2) = &comp.iter_var2 {
                    scope.push(v2.clone());
                }
                first_unknown(&comp.loop_cond, scope)
                    .or_else(|| first_unknown(&comp.loop_step, scope))
                    .or_else(|| first_unknown(&comp.result, scope))
            });
            scope.truncate(outer);
            found
        }
    }
}
