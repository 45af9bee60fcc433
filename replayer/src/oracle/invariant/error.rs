//! Why an invariant was refused or could not be checked, and where in its
//! expression: a line, a column and a caret under the place.

use std::fmt::Write as _;

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::Program;

/// Why an invariant could not be compiled or checked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvariantError {
    /// The expression is not valid CEL.
    #[error("invariant \"{name}\": syntax error at {at}: {message}\n{}", at.snippet())]
    Syntax {
        /// The invariant's name.
        name: String,
        /// Where in the expression.
        at: Box<Position>,
        /// What the parser expected.
        message: String,
    },
    /// The expression uses a name that is neither the resource's variable nor
    /// a variable of a macro such as `all(x, ...)`.
    #[error(
        "invariant \"{name}\": unknown name `{unknown}` at {at}: the resource `{resource}` is seen as `{variable}`\n{}",
        at.snippet()
    )]
    UnknownName {
        /// The invariant's name.
        name: String,
        /// The name the expression used.
        unknown: String,
        /// The model resource the invariant is about.
        resource: String,
        /// The name the resource is seen under.
        variable: String,
        /// Where in the expression.
        at: Box<Position>,
    },
    /// Evaluating the expression failed: a missing field, a type mismatch, a
    /// division by zero... Not a violation.
    #[error("invariant \"{name}\": evaluation error: {message}")]
    Evaluation {
        /// The invariant's name.
        name: String,
        /// What went wrong, in the words of the invariant's author.
        message: String,
    },
    /// The expression evaluated to something other than a `bool`.
    #[error(
        "invariant \"{name}\": the expression gave {} {type_name} ({value}), not a bool",
        article(type_name)
    )]
    NotBool {
        /// The invariant's name.
        name: String,
        /// The CEL type it gave (`int`, `string`, ...).
        type_name: String,
        /// The value it gave, shortened.
        value: String,
    },
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

/// 1-based line and column (in characters) of a byte offset into `source`.
pub(super) fn locate(source: &str, byte_offset: usize) -> (usize, usize) {
    let before = source.get(..byte_offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

pub(super) fn caret_under(source_line: &str, column: usize) -> String {
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

pub(super) fn syntax_error(name: &str, expr: &str, errors: &cel::ParseErrors) -> InvariantError {
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
pub(super) fn position(expr: &str, line: usize, column: usize) -> Position {
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

pub(super) fn clean_parse_message(message: &str) -> String {
    let message = message.trim();
    let message = message.strip_prefix("Syntax error: ").unwrap_or(message);
    message.to_string()
}

/// Refuses, at compile time, a name the expression can never resolve: a typo
/// of the variable (`orders.amount`, `ordr.amount`) would otherwise only
/// surface as an evaluation error in the middle of a run.
pub(super) fn check_names(
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
pub(super) fn first_unknown(expr: &IdedExpr, scope: &mut Vec<String>) -> Option<(String, u64)> {
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
