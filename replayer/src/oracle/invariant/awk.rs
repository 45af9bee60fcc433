//! An invariant as an awk expression, so that a reproducer script can check
//! it on a read-back with nothing but POSIX tools.
//!
//! The translated subset is what invariants mostly are: comparisons of the
//! resource's top-level fields with each other and with literals, joined by
//! `&&`, `||` and `!`, with `+`, `-`, `*`, `%` on numbers, `? :`, `has()`
//! and `x in [literals]`. Each field's kind (number, string, boolean) is the
//! kind it had in the read-back that broke the invariant, so `+` and `<`
//! mean what CEL meant there. Anything else (division, whose integer
//! semantics awk does not share, functions, nested fields, comprehensions)
//! is refused, naming the construct, and the script says it cannot confirm.
//!
//! Fields are passed to awk as variables `f1`, `f2`, ... (their presence as
//! `h1`, `h2`, ...), never spliced into the program text.

use cel::common::ast::{CallExpr, Expr, LiteralValue, SelectExpr};
use cel::IdedExpr;
use serde_json::Value;

use super::Invariant;

/// An invariant in the form a shell script evaluates.
#[derive(Clone, Debug, PartialEq)]
pub struct AwkCheck {
    /// An awk expression, true when the invariant holds.
    pub expression: String,
    /// The top-level fields it reads: the field `fields[i]` is the awk
    /// variable `f{i+1}`, its presence `h{i+1}` (1 or 0).
    pub fields: Vec<AwkField>,
}

/// One field an [`AwkCheck`] reads.
#[derive(Clone, Debug, PartialEq)]
pub struct AwkField {
    /// The top-level key in the resource's JSON.
    pub name: String,
    /// Its value is compared (not only `has()`): the script cannot evaluate
    /// the invariant on a read-back without it.
    pub needed: bool,
    /// Its value in the read-back that broke the invariant.
    pub seen: Value,
}

/// What an awk sub-expression evaluates to, as CEL typed it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Number,
    Text,
    Bool,
}

impl Invariant {
    /// This invariant as awk evaluates it, with the types its fields had in
    /// `seen` (the read-back that broke it); `Err` names what awk cannot
    /// evaluate the way CEL does.
    pub fn awk(&self, seen: &Value) -> Result<AwkCheck, String> {
        let mut t = Translator { variable: self.variable(), seen, fields: Vec::new() };
        let (expression, kind) = t.expr(self.program.expression())?;
        if kind != Kind::Bool {
            return Err("the expression is not a comparison".to_string());
        }
        Ok(AwkCheck { expression, fields: t.fields })
    }
}

struct Translator<'a> {
    variable: &'a str,
    seen: &'a Value,
    fields: Vec<AwkField>,
}

impl Translator<'_> {
    fn expr(&mut self, e: &IdedExpr) -> Result<(String, Kind), String> {
        match &e.expr {
            Expr::Literal(literal) => literal_text(literal),
            Expr::Select(select) => self.select(select),
            Expr::Call(call) => self.call(call),
            Expr::Ident(name) if name == self.variable => {
                Err(format!("`{name}` as a whole (only its fields)"))
            }
            Expr::Ident(name) => Err(format!("the name `{name}`")),
            Expr::List(_) => Err("a list outside `in`".to_string()),
            Expr::Map(_) | Expr::Struct(_) => Err("a map or message literal".to_string()),
            Expr::Comprehension(_) => Err("a macro over a list (all, exists, map, filter)".into()),
            Expr::Unspecified => Err("an empty expression".to_string()),
        }
    }

    /// `order.amount`: a top-level field; `has(order.amount)`: its presence.
    fn select(&mut self, select: &SelectExpr) -> Result<(String, Kind), String> {
        let Expr::Ident(name) = &select.operand.expr else {
            return Err(format!("the nested field `{}`", select.field));
        };
        if name != self.variable {
            return Err(format!("the name `{name}`"));
        }
        let field = &select.field;
        let seen = self.seen.get(field);
        if select.test {
            let n = self.field(field, false, seen.cloned().unwrap_or(Value::Null));
            return Ok((format!("(h{n} == 1)"), Kind::Bool));
        }
        let Some(seen) = seen else {
            return Err(format!("`{field}`, absent from the read-back"));
        };
        let kind = match seen {
            Value::Number(_) => Kind::Number,
            Value::String(_) => Kind::Text,
            Value::Bool(_) => Kind::Bool,
            _ => return Err(format!("`{field}`, which is not a number, string or boolean")),
        };
        let n = self.field(field, true, seen.clone());
        Ok(match kind {
            Kind::Number => (format!("(f{n} + 0)"), Kind::Number),
            Kind::Text => (format!("(f{n} \"\")"), Kind::Text),
            Kind::Bool => (format!("(f{n} == \"true\")"), Kind::Bool),
        })
    }

    /// The variable number of `name`, added on first use.
    fn field(&mut self, name: &str, needed: bool, seen: Value) -> usize {
        if let Some(at) = self.fields.iter().position(|f| f.name == name) {
            self.fields[at].needed |= needed;
            return at + 1;
        }
        self.fields.push(AwkField { name: name.to_string(), needed, seen });
        self.fields.len()
    }

    fn call(&mut self, call: &CallExpr) -> Result<(String, Kind), String> {
        if call.target.is_some() {
            return Err(format!("the method `{}`", call.func_name));
        }
        let name = call.func_name.as_str();
        match (name, call.args.as_slice()) {
            ("_&&_" | "_||_", [a, b]) => {
                let op = if name == "_&&_" { "&&" } else { "||" };
                let (a, b) = (self.boolean(a)?, self.boolean(b)?);
                Ok((format!("({a} {op} {b})"), Kind::Bool))
            }
            ("!_", [a]) => Ok((format!("(!{})", self.boolean(a)?), Kind::Bool)),
            ("_==_" | "_!=_" | "_<_" | "_<=_" | "_>_" | "_>=_", [a, b]) => {
                let op = name.trim_matches('_');
                let ((a, ka), (b, kb)) = (self.expr(a)?, self.expr(b)?);
                if ka != kb {
                    return Err(format!("`{op}` between a {} and a {}", ka.name(), kb.name()));
                }
                if ka == Kind::Bool && !matches!(op, "==" | "!=") {
                    return Err(format!("`{op}` between booleans"));
                }
                Ok((format!("({a} {op} {b})"), Kind::Bool))
            }
            ("_+_" | "_-_" | "_*_" | "_%_", [a, b]) => {
                let op = name.trim_matches('_');
                let (a, b) = (self.number(a)?, self.number(b)?);
                Ok((format!("({a} {op} {b})"), Kind::Number))
            }
            ("-_", [a]) => Ok((format!("(-{})", self.number(a)?), Kind::Number)),
            ("_?_:_", [c, a, b]) => {
                let c = self.boolean(c)?;
                let ((a, ka), (b, kb)) = (self.expr(a)?, self.expr(b)?);
                if ka != kb {
                    return Err("`? :` with branches of two types".to_string());
                }
                Ok((format!("({c} ? {a} : {b})"), ka))
            }
            ("@in", [a, list]) => {
                let Expr::List(list) = &list.expr else {
                    return Err("`in` over something other than a list of literals".into());
                };
                let (a, kind) = self.expr(a)?;
                let mut alternatives = Vec::with_capacity(list.elements.len());
                for element in &list.elements {
                    let Expr::Literal(literal) = &element.expr else {
                        return Err("`in` over something other than a list of literals".into());
                    };
                    let (value, k) = literal_text(literal)?;
                    if k != kind {
                        return Err(format!("`in` mixing a {} with a {}", kind.name(), k.name()));
                    }
                    alternatives.push(format!("{a} == {value}"));
                }
                if alternatives.is_empty() {
                    return Ok(("0".to_string(), Kind::Bool));
                }
                Ok((format!("({})", alternatives.join(" || ")), Kind::Bool))
            }
            ("_/_", _) => Err("division (CEL divides integers as awk does not)".to_string()),
            _ => Err(format!("the function `{}`", name.trim_matches('_'))),
        }
    }

    fn boolean(&mut self, e: &IdedExpr) -> Result<String, String> {
        match self.expr(e)? {
            (text, Kind::Bool) => Ok(text),
            (_, kind) => Err(format!("a {} where a condition belongs", kind.name())),
        }
    }

    fn number(&mut self, e: &IdedExpr) -> Result<String, String> {
        match self.expr(e)? {
            (text, Kind::Number) => Ok(text),
            (_, kind) => Err(format!("arithmetic on a {}", kind.name())),
        }
    }
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Number => "number",
            Kind::Text => "string",
            Kind::Bool => "boolean",
        }
    }
}

/// A CEL literal as awk writes it.
fn literal_text(literal: &LiteralValue) -> Result<(String, Kind), String> {
    Ok(match literal {
        LiteralValue::Int(i) => (i.inner().to_string(), Kind::Number),
        LiteralValue::UInt(u) => (u.inner().to_string(), Kind::Number),
        LiteralValue::Double(d) if d.inner().is_finite() => {
            (format!("{:?}", d.inner()), Kind::Number)
        }
        LiteralValue::Boolean(b) => ((if *b.inner() { "1" } else { "0" }).into(), Kind::Bool),
        LiteralValue::String(s) => (awk_string(s.inner()), Kind::Text),
        LiteralValue::Double(_) => return Err("a number awk cannot write".to_string()),
        LiteralValue::Null => return Err("`null`".to_string()),
        LiteralValue::Bytes(_) => return Err("a bytes literal".to_string()),
    })
}

/// `text` as an awk string literal.
fn awk_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn awk(expr: &str, seen: &Value) -> Result<AwkCheck, String> {
        Invariant::compile("t", "orders", expr).expect("valid CEL").awk(seen)
    }

    /// Runs the check's awk program on `values` (the fields' texts as the
    /// script passes them): whether it says the invariant holds.
    fn holds(check: &AwkCheck, values: &[Option<&str>]) -> bool {
        let mut command = std::process::Command::new("awk");
        command.env("LC_ALL", "C");
        for (i, value) in values.iter().enumerate() {
            command.arg("-v").arg(format!("f{}={}", i + 1, value.unwrap_or("")));
            command.arg("-v").arg(format!("h{}={}", i + 1, u8::from(value.is_some())));
        }
        let program =
            format!("BEGIN {{ print (({}) ? \"holds\" : \"violated\") }}", check.expression);
        let out = command.arg(program).output().expect("awk runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        match String::from_utf8_lossy(&out.stdout).trim() {
            "holds" => true,
            "violated" => false,
            other => panic!("awk said {other:?}"),
        }
    }

    #[test]
    fn a_comparison_of_two_fields_is_evaluated_as_numbers() {
        let seen = json!({"refunded": 19000, "amount": 9500});
        let check = awk("order.refunded <= order.amount", &seen).unwrap();
        let names: Vec<&str> = check.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["refunded", "amount"]);
        assert!(!holds(&check, &[Some("19000"), Some("9500")]));
        assert!(holds(&check, &[Some("9500"), Some("9500")]));
        // As numbers, not as text: "10000" < "9500" as strings.
        assert!(holds(&check, &[Some("9500"), Some("10000")]));
        assert!(holds(&check, &[Some("12.5"), Some("1.3e2")]));
    }

    #[test]
    fn strings_booleans_arithmetic_in_and_has_mean_what_cel_means() {
        let seen =
            json!({"status": "refunded", "paid": false, "charged": 5, "fee": 1, "amount": 4});
        let check = awk(
            "order.status in ['created', 'paid'] || (order.paid == false && order.charged + order.fee <= order.amount * 2 && has(order.fee))",
            &seen,
        )
        .unwrap();
        let [status, paid, charged, fee, amount] = ["status", "paid", "charged", "fee", "amount"]
            .map(|n| check.fields.iter().position(|f| f.name == n).expect(n));
        let values = |v: [Option<&'static str>; 5]| {
            let mut out = vec![None; 5];
            for (slot, value) in [status, paid, charged, fee, amount].into_iter().zip(v) {
                out[slot] = value;
            }
            out
        };
        assert!(holds(
            &check,
            &values([Some("paid"), Some("true"), Some("0"), Some("0"), Some("0")])
        ));
        assert!(!holds(
            &check,
            &values([Some("refunded"), Some("true"), Some("1"), Some("1"), Some("9")])
        ));
        assert!(holds(
            &check,
            &values([Some("refunded"), Some("false"), Some("5"), Some("1"), Some("4")])
        ));
        assert!(!holds(
            &check,
            &values([Some("refunded"), Some("false"), Some("5"), None, Some("4")])
        ));
        // A string literal with awk's special characters stays literal.
        let odd = awk(r#"order.status != "a\"b\\c""#, &json!({"status": "x"})).unwrap();
        assert!(!holds(&odd, &[Some(r#"a"b\c"#)]));
        assert!(holds(&odd, &[Some("a")]));
    }

    #[test]
    fn what_awk_cannot_evaluate_as_cel_does_is_refused_by_name() {
        let seen = json!({"a": 4, "b": 2, "s": "x", "items": [1], "o": {"n": 1}});
        for (expr, said) in [
            ("order.a / order.b >= 1", "division"),
            ("size(order.items) > 0", "function `size`"),
            ("order.o.n > 0", "nested field `n`"),
            ("order.items.all(i, i > 0)", "macro"),
            ("order.s + 'y' == 'xy'", "arithmetic on a string"),
            ("order.a == order.s", "between a number and a string"),
            ("order.missing > 0", "`missing`, absent"),
            ("order.a", "not a comparison"),
            ("order.s.startsWith('x')", "method `startsWith`"),
        ] {
            let err = awk(expr, &seen).expect_err(expr);
            assert!(err.contains(said), "{expr}: {err}");
        }
    }
}
