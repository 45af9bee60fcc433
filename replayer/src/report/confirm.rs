//! How a reproducer confirms its finding: the reset it starts from, the
//! reads its check adds to the sequence, and the verdict at its end:
//! `REPRODUCED` (exit 1) when the answers fall in the classes they did with
//! the bug and the oracle's own check holds (a read-back shows the field,
//! the retry changed the read-back again, the invariant is false on the
//! read-back, the two logins' answers differ), `NOT REPRODUCED` (exit 0)
//! otherwise, and `CANNOT CONFIRM` (exit 2) when the check is one a script
//! cannot make.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::one_line;
use super::script_tls::ScriptTls;
use super::script_vars::{first_json_field, Bound, Piece, EXTRACT_FUNCTIONS};
use super::shell::{escape_double_quoted, sh_quote};
use crate::oracle::finding::{Check, OracleKind, SentRequest};
use crate::oracle::invariant::{AwkCheck, AwkField};
use crate::setup::config::ResetHow;

/// Seconds a single curl may take before the script gives up on the target.
pub(super) const MAX_TIME: u32 = 30;

/// How a finding's reproducer confirms it: the reset to start from, and
/// whether the answers' statuses show the bug.
#[derive(Clone, Debug, Default)]
pub struct Confirm {
    /// The reset `qa/venomqa.toml` names, run first (unless
    /// `VENOMQA_NO_RESET=1`); a command runs in `qa_dir`.
    pub reset: Option<ResetHow>,
    /// The configuration's directory, where a reset command runs.
    pub qa_dir: PathBuf,
    /// The oracle whose finding this is: most show in the statuses (a
    /// correct target refuses the focus step); some only in a read-back or
    /// a comparison (`check`), and without one the script says it cannot
    /// confirm.
    pub oracle: Option<OracleKind>,
    /// What the finding says, printed with the verdict.
    pub summary: String,
    /// For a bug that shows in a read-back (mass assignment, a retry that
    /// changed state again, a false invariant) or in a comparison of answers
    /// (enumeration): the check the oracle made.
    pub check: Option<Check>,
    /// How many requests the sequence had sent after each of its steps (a
    /// concurrent step sends more than one): where the check's reads go.
    pub step_ends: Vec<usize>,
    /// What the curls trust of an `https://` target: what the run trusted.
    pub tls: ScriptTls,
}

impl Confirm {
    /// The reads the check adds: each as (how many of the sequence's
    /// `sent` requests go before it, the read). Empty when the check sends
    /// none, cannot be checked by a script, or names a step the sequence
    /// does not have.
    pub(super) fn reads(&self, sent: usize) -> Vec<(usize, SentRequest)> {
        let end = |step: usize| self.step_ends.get(step).copied().filter(|&e| e <= sent);
        let reads = match &self.check {
            Some(Check::ReadBack { request, value, .. }) if is_scalar(value) => {
                Some(vec![(sent, request.clone())])
            }
            Some(Check::ReadsDiffer { request, after, fields }) => (|| {
                readable_fields(request, fields).ok()?;
                Some(vec![(end(after[0])?, request.clone()), (end(after[1])?, request.clone())])
            })(),
            Some(Check::Invariant { request, after, awk, .. }) => (|| {
                readable_invariant(request, awk).ok()?;
                Some(vec![(end(*after)?, request.clone())])
            })(),
            _ => None,
        };
        reads.unwrap_or_default()
    }
}

/// The enumeration's comparison: the first and the last step's answers,
/// each with the account its request named taken out, differ in a field.
fn write_answers_differ(
    s: &mut String,
    last: usize,
    fields: &[String],
    accounts: &(String, String),
    summary: &str,
) {
    let _ =
        writeln!(s, "# The answers of step 1 and step {last}, each without the account it named.");
    write_field_diff(s, [1, last], fields, Some(accounts), "/");
    let _ = writeln!(
        s,
        "if [ \"$classes\" = \"$expected\" ] && [ -n \"$differ\" ]; then\n  echo {}\n  echo \"unknown account / wrong secret:$differ\"\n  exit 1\nfi",
        sh_quote(&format!("REPRODUCED: {summary}"))
    );
    let _ = writeln!(
        s,
        "echo \"NOT REPRODUCED: the unknown account (step 1) and the wrong secret (step {last}) answered alike in {}\"\nexit 0",
        escape_double_quoted(&fields.join(", "))
    );
}

/// `fields=(...)` and a loop leaving in `$differ` each field whose
/// `json_field` values in the answers of `steps` differ, as
/// `field: 'a' SEP 'b';`; with `taken_out`, each answer's account is first
/// replaced by `<account>` in its value.
fn write_field_diff(
    s: &mut String,
    steps: [usize; 2],
    fields: &[String],
    taken_out: Option<&(String, String)>,
    sep: &str,
) {
    if !s.contains("json_field() {") {
        s.push_str(EXTRACT_FUNCTIONS);
    }
    let words: Vec<String> = fields.iter().map(|f| sh_quote(f)).collect();
    let _ = writeln!(s, "fields=({})", words.join(" "));
    s.push_str("differ=\"\"\nfor field in \"${fields[@]}\"; do\n");
    let accounts = taken_out.map(|(a, b)| [a, b]);
    for (i, (var, step)) in ["first", "last"].into_iter().zip(steps).enumerate() {
        let _ = writeln!(s, "  {var}=\"$(json_field \"$WORK/{step}.body\" \"$field\")\"");
        if let Some(accounts) = accounts {
            let _ = writeln!(s, "  {var}=\"${{{var}//{}/<account>}}\"", sh_quote(accounts[i]));
        }
    }
    let _ = writeln!(
        s,
        "  if [ \"$first\" != \"$last\" ]; then differ=\"$differ $field: '$first' {sep} '$last';\"; fi\ndone"
    );
}

/// A value a read-back check can find in the answer's text: a string,
/// number, boolean or null.
fn is_scalar(value: &serde_json::Value) -> bool {
    !matches!(value, serde_json::Value::Array(_) | serde_json::Value::Object(_))
}

/// An extended regular expression matching `"field": value` in a JSON
/// text, whatever the spacing, the value ending at `,` or `}`.
fn json_pair_pattern(field: &str, value: &serde_json::Value) -> String {
    let literal = |text: &str| -> String {
        text.chars()
            .map(|c| if "\\.[]()*+?{}|^$".contains(c) { format!("\\{c}") } else { c.to_string() })
            .collect()
    };
    let key = serde_json::Value::String(field.to_string()).to_string();
    format!(
        "{}[[:space:]]*:[[:space:]]*{}[[:space:]]*[,}}]",
        literal(&key),
        literal(&value.to_string())
    )
}

/// Each `Idempotency-Key` the steps send made fresh per run of the script
/// (the recorded key with `-$RUN_ID` after it): a second run is not a
/// retry of the first, and copies within a run still share their key.
pub(super) fn fresh_idempotency_keys(bound: &mut Bound) {
    for (name, value) in &mut bound.headers {
        if name.eq_ignore_ascii_case("idempotency-key") {
            value.push(Piece::Lit("-".to_string()));
            value.push(Piece::Var("RUN_ID".to_string()));
        }
    }
}

/// The run's id (when an idempotency key uses it) and the reset (sent with
/// `curl`, the command and its TLS options), before the first step.
pub(super) fn write_confirm_start(s: &mut String, confirm: &Confirm, run_id: bool, curl: &str) {
    if run_id {
        s.push_str("RUN_ID=\"$(date +%s)-$$\"\n");
    }
    s.push_str("observed=\"\"\n");
    let Some(reset) = &confirm.reset else { return };
    s.push_str(
        "\n# The reset qa/venomqa.toml names, so the sequence starts where venomqa's did.\n",
    );
    s.push_str("if [ \"${VENOMQA_NO_RESET:-}\" != 1 ]; then\n");
    match reset {
        ResetHow::Request { method, path } => {
            let _ = writeln!(
                s,
                "  reset_status=\"$({curl} -sS -g --max-time {MAX_TIME} -o /dev/null -w '%{{http_code}}' -X {} \"${{TARGET}}\"{})\"",
                sh_quote(method),
                sh_quote(path)
            );
            s.push_str(
                "  case \"$reset_status\" in\n    2*) ;;\n    *) echo \"the reset answered $reset_status; cannot confirm\" >&2; exit 2 ;;\n  esac\n",
            );
        }
        ResetHow::Command(command) => {
            let dir = confirm.qa_dir.display().to_string();
            let _ = writeln!(
                s,
                "  (cd \"${{QA_DIR:-{}}}\" && sh -c {}) || {{ echo \"the reset command failed; cannot confirm\" >&2; exit 2; }}",
                escape_double_quoted(&dir),
                sh_quote(command)
            );
        }
    }
    s.push_str("fi\n");
}

/// The comparison with the answers venomqa saw, and the verdict.
/// `reads` are the script's step numbers (from 1) of the check's reads.
pub(super) fn write_verdict(
    s: &mut String,
    requests: &[SentRequest],
    confirm: &Confirm,
    reads: &[usize],
) {
    let expected: Vec<String> = requests
        .iter()
        .flat_map(|r| {
            let class = r.status.map_or("0xx".to_string(), |st| format!("{}xx", st / 100));
            std::iter::repeat_n(class, r.copies.max(1) as usize)
        })
        .collect();
    let summary = one_line(&confirm.summary, 300);
    s.push_str("\n# The verdict: the answers' classes beside those venomqa saw with the bug.\n");
    let _ = writeln!(s, "expected={}", sh_quote(&expected.join(" ")));
    s.push_str("classes=\"\"\nfor st in $observed; do classes=\"$classes${classes:+ }${st:0:1}xx\"; done\n");
    let len = requests.len();
    let statuses_differ = len >= 2 && requests[0].status != requests[len - 1].status;
    // Without its reads (see `Confirm::reads`) an idempotency finding is
    // confirmed by the retry's answer; an invariant cannot be.
    let cannot = match (&confirm.check, reads) {
        (Some(Check::ReadsDiffer { request, fields, .. }), &[first, again]) => {
            if let Ok(fields) = readable_fields(request, fields) {
                return write_reads_differ(s, [first, again], &fields, &summary);
            }
            None
        }
        (Some(Check::Invariant { request, name, expr, awk, .. }), reads) => {
            match (readable_invariant(request, awk), reads) {
                (Ok(()), &[read]) => return write_invariant(s, read, name, expr, awk, &summary),
                (Err(why), _) => Some(why),
                (Ok(()), _) => Some("the read-back it needs is not in the sequence".to_string()),
            }
        }
        _ => None,
    };
    match (&confirm.check, confirm.oracle) {
        _ if cannot.is_some() => {}
        (_, Some(OracleKind::Idempotency)) if len >= 2 => write_retry_differs(s, len, &summary),
        (Some(Check::ReadBack { field, value, .. }), _) if is_scalar(value) && reads.len() == 1 => {
            write_read_back_shows(s, reads[0], field, value, &summary);
        }
        (Some(Check::AnswersDiffer { fields, accounts }), _) if len >= 2 => {
            write_answers_differ(s, len, fields, accounts, &summary);
        }
        (_, Some(OracleKind::Enumeration)) if statuses_differ => {
            write_statuses_differ(s, len, &summary);
        }
        (_, Some(OracleKind::MassAssignment | OracleKind::Enumeration | OracleKind::Invariant)) => {
            let _ = writeln!(
                s,
                "echo {}\necho \"answers: $classes (with the bug: $expected)\"\nexit 2",
                sh_quote(&format!(
                    "CANNOT CONFIRM BY STATUS: this bug shows in a read-back or a comparison: {summary}"
                ))
            );
        }
        _ => {
            let _ = writeln!(
                s,
                "if [ \"$classes\" = \"$expected\" ]; then\n  echo {}\n  exit 1\nfi\necho \"NOT REPRODUCED: answers $classes; with the bug: $expected\"\nexit 0",
                sh_quote(&format!("REPRODUCED: {summary}"))
            );
        }
    }
    if let Some(why) = cannot {
        let _ = writeln!(
            s,
            "echo {}\necho \"answers: $classes (with the bug: $expected)\"\nexit 2",
            sh_quote(&format!("CANNOT CONFIRM: {why}: {summary}"))
        );
    }
}

/// The fields of a read-back comparison that the script's `json_field`
/// reads as they are in the read's recorded answer; `Err` when none is.
fn readable_fields(read: &SentRequest, fields: &[String]) -> Result<Vec<String>, String> {
    let body = read.response_body.as_deref().unwrap_or("");
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let readable: Vec<String> = fields
        .iter()
        .filter(|f| plain_key(f) && extracts_as(body, f, json.get(f.as_str())))
        .cloned()
        .collect();
    if readable.is_empty() {
        return Err(format!(
            "the read-back's fields that changed ({}) are not ones a shell script reads reliably",
            fields.join(", ")
        ));
    }
    Ok(readable)
}

/// Whether the script can evaluate `awk` on the read's answer: each field it
/// compares is read by `json_field` as it was in the answer that broke it.
fn readable_invariant(read: &SentRequest, awk: &AwkCheck) -> Result<(), String> {
    let body = read.response_body.as_deref().unwrap_or("");
    for AwkField { name, needed, seen } in &awk.fields {
        let present = !seen.is_null();
        if !plain_key(name) || ((*needed || present) && !extracts_as(body, name, Some(seen))) {
            return Err(format!(
                "the read-back's field `{name}` is not one a shell script reads reliably"
            ));
        }
    }
    Ok(())
}

/// A key `json_field` matches literally (its pattern is a regular expression).
fn plain_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `json_field` finds `value` under `key` in `body`.
fn extracts_as(body: &str, key: &str, value: Option<&serde_json::Value>) -> bool {
    let Some(text) = first_json_field(body, key) else { return false };
    match value {
        Some(serde_json::Value::String(s)) => *s == text,
        Some(serde_json::Value::Bool(b)) => text == b.to_string(),
        Some(serde_json::Value::Number(n)) => {
            n.as_f64().is_some_and(|n| text.parse::<f64>().is_ok_and(|t| t == n))
        }
        _ => false,
    }
}

/// A retry that changed state again: the owner's reads after the first
/// request and after the retry differ in one of `fields`.
fn write_reads_differ(s: &mut String, reads: [usize; 2], fields: &[String], summary: &str) {
    let [first, again] = reads;
    let _ = writeln!(
        s,
        "# The owner's read after the first request (step {first}) and after the retry (step {again})."
    );
    write_field_diff(s, reads, fields, None, "->");
    let _ = writeln!(
        s,
        "if [ \"$classes\" = \"$expected\" ] && [ -n \"$differ\" ]; then\n  echo {}\n  echo \"the retry changed the read-back again:$differ\"\n  exit 1\nfi",
        sh_quote(&format!("REPRODUCED: {summary}"))
    );
    let _ = writeln!(
        s,
        "if [ \"$classes\" != \"$expected\" ]; then\n  echo \"NOT REPRODUCED: answers $classes; with the bug: $expected\"\nelse\n  echo \"NOT REPRODUCED: the read-back after the retry (step {again}) shows what it showed after the first request (step {first}) in {}\"\nfi\nexit 0",
        escape_double_quoted(&fields.join(", "))
    );
}

/// A user invariant, evaluated by awk on the owner's read-back (step `read`).
fn write_invariant(
    s: &mut String,
    read: usize,
    name: &str,
    expr: &str,
    awk: &AwkCheck,
    summary: &str,
) {
    if !s.contains("json_field() {") {
        s.push_str(EXTRACT_FUNCTIONS);
    }
    let _ = writeln!(
        s,
        "# The invariant {} on the owner's read-back (step {read}), evaluated by awk.",
        one_line(&format!("\"{name}\" ({expr})"), 300)
    );
    s.push_str("missing=\"\"\n");
    let mut args = Vec::new();
    let mut shown = Vec::new();
    for (i, field) in awk.fields.iter().enumerate() {
        let n = i + 1;
        let _ =
            writeln!(s, "f{n}=\"$(json_field \"$WORK/{read}.body\" {})\"", sh_quote(&field.name));
        let _ = writeln!(s, "h{n}=1; [ -n \"$f{n}\" ] || h{n}=0");
        if field.needed {
            let _ = writeln!(s, "[ -n \"$f{n}\" ] || missing=\"$missing {}\"", field.name);
            shown.push(format!("{}=$f{n}", field.name));
        }
        args.push(format!("-v f{n}=\"$f{n}\" -v h{n}=\"$h{n}\""));
    }
    let _ = writeln!(
        s,
        "if [ \"$classes\" = \"$expected\" ] && [ -n \"$missing\" ]; then\n  echo \"CANNOT CONFIRM: the read-back (step {read}) has no$missing\"\n  exit 2\nfi"
    );
    let program = format!("BEGIN {{ print (({}) ? \"holds\" : \"violated\") }}", awk.expression);
    let _ = writeln!(s, "holds=\"$(LC_ALL=C awk {} {})\"", args.join(" "), sh_quote(&program));
    let _ = writeln!(
        s,
        "if [ \"$classes\" = \"$expected\" ] && [ \"$holds\" = violated ]; then\n  echo {}\n  echo \"the read-back (step {read}): {}\"\n  exit 1\nfi",
        sh_quote(&format!("REPRODUCED: {summary}")),
        shown.join(" ")
    );
    let _ = writeln!(
        s,
        "if [ \"$classes\" != \"$expected\" ]; then\n  echo \"NOT REPRODUCED: answers $classes; with the bug: $expected\"\nelse\n  echo \"NOT REPRODUCED: the invariant holds on the read-back (step {read}): {}\"\nfi\nexit 0",
        shown.join(" ")
    );
}

/// A retry with the same key (the last step): a correct target answers it
/// as it answered the first (the stored answer); a second charge shows.
fn write_retry_differs(s: &mut String, retry: usize, summary: &str) {
    let first = retry - 1;
    let _ = writeln!(
        s,
        "if [ \"$classes\" = \"$expected\" ] && ! cmp -s \"$WORK/{first}.body\" \"$WORK/{retry}.body\"; then\n  echo {}\n  exit 1\nfi\n\
         echo \"NOT REPRODUCED: the retry (step {retry}) answered as step {first} did (a change only a read-back shows would not be seen here)\"\nexit 0",
        sh_quote(&format!("REPRODUCED: the retry answered otherwise than the first: {summary}"))
    );
}

/// The owner's read-back (the last step) shows the field the client set.
fn write_read_back_shows(
    s: &mut String,
    step: usize,
    field: &str,
    value: &serde_json::Value,
    summary: &str,
) {
    let shown = format!("`{field}` = {value}");
    let _ = writeln!(
        s,
        "if [ \"$classes\" = \"$expected\" ] && grep -qE {} \"$WORK/{step}.body\"; then\n  echo {}\n  exit 1\nfi\n\
         echo {}\necho \"answers: $classes (with the bug: $expected)\"\nexit 0",
        sh_quote(&json_pair_pattern(field, value)),
        sh_quote(&format!("REPRODUCED: the read-back (step {step}) shows {shown}: {summary}")),
        sh_quote(&format!("NOT REPRODUCED: the read-back (step {step}) does not show {shown}")),
    );
}

/// Enumeration by status: the unknown account's answer (the first step)
/// and the wrong secret's (the last) differ; a correct target answers both alike.
fn write_statuses_differ(s: &mut String, last: usize, summary: &str) {
    let _ = writeln!(
        s,
        "read -r -a answers <<< \"$observed\"\n\
         if [ \"$classes\" = \"$expected\" ] && [ \"${{answers[0]}}\" != \"${{answers[-1]}}\" ]; then\n  echo {}\n  echo \"unknown account: ${{answers[0]}}, wrong secret: ${{answers[-1]}}\"\n  exit 1\nfi\n\
         echo \"NOT REPRODUCED: the unknown account (step 1) and the wrong secret (step {last}) answered ${{answers[0]}} and ${{answers[-1]}}\"\nexit 0",
        sh_quote(&format!("REPRODUCED: {summary}")),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Whether `grep -E pattern` finds a line of `text`, as the script runs it.
    fn grep_finds(pattern: &str, text: &str) -> bool {
        let mut child = std::process::Command::new("grep")
            .args(["-qE", pattern])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("grep runs");
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        child.wait().unwrap().success()
    }

    #[test]
    fn a_read_back_pattern_matches_the_pair_and_nothing_longer() {
        let five = json_pair_pattern("budget", &json!(5));
        assert!(grep_finds(&five, r#"{"budget": 5, "x": 1}"#));
        assert!(grep_finds(&five, r#"{"budget":5}"#));
        assert!(!grep_finds(&five, r#"{"budget": 50}"#), "5 is not 50");
        assert!(!grep_finds(&five, r#"{"my_budget": 5}"#), "another field");
        assert!(!grep_finds(&five, r#"{"budgets": 5}"#), "another field");
        // Regex characters in the value are literal.
        let odd = json_pair_pattern("role", &json!("a.b(c)*"));
        assert!(grep_finds(&odd, r#"{"role": "a.b(c)*"}"#));
        assert!(!grep_finds(&odd, r#"{"role": "axb(c)"}"#));
        let admin = json_pair_pattern("is_admin", &json!(true));
        assert!(grep_finds(&admin, r#"{"name":"x","is_admin":true}"#));
        assert!(!grep_finds(&admin, r#"{"is_admin":false}"#));
    }
}
