//! Runnable reproducers: a finding's minimal sequence as a bash script of
//! curl commands, so a developer can see the bug without venomqa.
//!
//! ```bash
//! #!/usr/bin/env bash
//! set -euo pipefail
//! TARGET="${TARGET:-http://127.0.0.1:9000}"
//! # 1. POST /login (recorded: 200)
//! status="$(curl ... -X 'POST' -H 'Content-Type: application/json' \
//!   --data-binary '{"username":"alice","password":"..."}' "${TARGET}"'/login')"
//! S1_TOKEN="$(capture "$WORK/1.body" 'token' 1)"
//! # 2. POST /orders (recorded: 201)
//! status="$(curl ... -H 'Authorization: Bearer '"${S1_TOKEN}" ... "${TARGET}"'/orders')"
//! ```
//!
//! Values the server produced earlier in the sequence (ids, tokens) are
//! extracted from the live responses (see [`super::script_vars`] for how they are
//! found); everything else is sent literally as recorded.
//!
//! Every value is single-quoted (`'` written as `'\''`); an extracted value is
//! spliced in as `"${S2_ID}"`. A step sent N times at once runs as N
//! background curls and a `wait`; each step prints its status next to the
//! recorded one.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use super::confirm::{
    fresh_idempotency_keys, write_confirm_start, write_verdict, Confirm, MAX_TIME,
};
use super::script_tls::ScriptTls;
use super::script_vars::{
    bind_request, find_script_vars, Bound, Piece, ScriptVar, EXTRACT_FUNCTIONS,
};
use super::shell::{escape_double_quoted, sh_quote};
use super::{confidence_name, headline_action, one_line, strip_copies};
use crate::oracle::finding::{Finding, SentRequest};

/// A bash script replaying `requests` against `$TARGET` (default `target`),
/// printing each status beside the recorded one.
pub fn curl_script(requests: &[SentRequest], target: &str) -> String {
    script(requests, target, None)
}

/// [`curl_script`] that confirms the finding: resets the target first,
/// replays the minimal sequence (with the reads its check needs), and
/// prints `REPRODUCED` (exit 1) when every step answered in the class
/// (2xx, 4xx, ...) it did when the bug was found and the oracle's check
/// holds, `NOT REPRODUCED` (exit 0) otherwise, `CANNOT CONFIRM` (exit 2)
/// for a check a script cannot make (see [`super::confirm`]).
/// A fresh `Idempotency-Key` each run, the same within it.
pub fn confirming_script(requests: &[SentRequest], target: &str, confirm: &Confirm) -> String {
    script(requests, target, Some(confirm))
}

fn script(sequence: &[SentRequest], target: &str, confirm: Option<&Confirm>) -> String {
    // The reads the check looks at are steps of their own.
    let reads = confirm.map(|c| c.reads(sequence.len())).unwrap_or_default();
    let mut requests: Vec<SentRequest> = Vec::with_capacity(sequence.len() + reads.len());
    let mut read_steps = Vec::with_capacity(reads.len());
    for at in 0..=sequence.len() {
        for (_, read) in reads.iter().filter(|(before, _)| *before == at) {
            requests.push(read.clone());
            read_steps.push(requests.len());
        }
        requests.extend(sequence.get(at).cloned());
    }
    let requests = requests.as_slice();
    let base = base_url(requests, target);
    let vars = find_script_vars(requests, &base);
    let mut steps = Vec::with_capacity(requests.len());
    let mut cookies = Vec::with_capacity(requests.len());
    let mut used = vec![false; vars.len()];
    for (i, r) in requests.iter().enumerate() {
        let usable: Vec<usize> = (0..vars.len()).filter(|&c| vars[c].step < i).collect();
        let mut bound = bind_request(r, &base, &vars, &usable, &mut used);
        encode_secrets(&mut bound, r);
        cookies.push(live_cookies(requests, i, &mut bound));
        if confirm.is_some() {
            fresh_idempotency_keys(&mut bound);
        }
        steps.push(bound);
    }
    let used_vars: Vec<&ScriptVar> =
        vars.iter().zip(&used).filter(|(_, u)| **u).map(|(c, _)| c).collect();
    let tls = confirm.map(|c| &c.tls).cloned().unwrap_or_default();
    let curl = format!("curl{}", tls.curl_options(&base));

    let mut s = script_header(requests.len(), &used_vars, &base, &tls);
    if cookies.iter().any(|c| !c.is_empty()) {
        s.push_str(COOKIE_FUNCTION);
    }
    write_secret_checks(&mut s, &steps);
    if let Some(confirm) = confirm {
        let run_id = steps
            .iter()
            .flat_map(|b| b.headers.iter().flat_map(|(_, v)| v))
            .any(|p| matches!(p, Piece::Var(v) if v == "RUN_ID"));
        write_confirm_start(&mut s, confirm, run_id, &curl);
    }
    let mut start = 0;
    while start < requests.len() {
        // Requests sent at once (an interleaved step) go out together.
        let end = (start + 1..requests.len())
            .find(|&j| !requests[j].at_once_with_previous)
            .unwrap_or(requests.len());
        for (i, step_cookies) in cookies.iter().enumerate().take(end).skip(start) {
            for (var, name, earlier) in step_cookies {
                let steps: Vec<String> = earlier.iter().map(|k| (k + 1).to_string()).collect();
                let _ = writeln!(
                    s,
                    "{var}=\"$(set_cookie {} {} {})\"",
                    sh_quote(name),
                    i + 1,
                    steps.join(" ")
                );
            }
        }
        if end - start == 1 {
            write_step(&mut s, start + 1, &requests[start], &steps[start], &curl);
        } else {
            write_together(&mut s, start, &requests[start..end], &steps[start..end], &curl);
        }
        for i in start..end {
            for (c, var) in vars.iter().enumerate() {
                if var.step == i && used[c] {
                    let _ = writeln!(
                        s,
                        "{}=\"$(capture \"$WORK/{}.body\" {} {})\"",
                        var.var,
                        i + 1,
                        sh_quote(&var.key),
                        i + 1
                    );
                }
            }
        }
        start = end;
    }
    if let Some(confirm) = confirm {
        write_verdict(&mut s, requests, confirm, &read_steps);
    }
    s
}

/// The script's helper reading a cookie a server set, from the answers'
/// headers that every curl dumps.
const COOKIE_FUNCTION: &str = r#"
# set_cookie NAME STEP EARLIER...: the value the newest of the EARLIER steps'
# answers set cookie NAME to (a deletion does not count), or stop.
set_cookie() {
  local name="$1" step="$2" value=""
  shift 2
  for earlier in "$@"; do
    value="$({ grep -i "^set-cookie:[[:space:]]*$name=" "$WORK/$earlier.headers" || true; } \
      | grep -viE 'max-age=0|expires=thu, 01 jan 1970' | tail -n 1 \
      | sed -E "s/^[^:]*:[[:space:]]*$name=([^;]*).*/\1/" | tr -d '\r')"
    if [ -n "$value" ]; then
      printf '%s' "$value"
      return
    fi
  done
  echo "step $step: no answer before it set the cookie $name; cannot go on" >&2
  exit 1
}
"#;

/// The cookies request `i` sends that an earlier request of the same user
/// may have been given (by a `Set-Cookie` the recording does not keep):
/// each read live by the script (`set_cookie`) into a variable, the
/// newest of those answers first; the recorded session is never written
/// into the script. Returns (variable, cookie name, earlier steps).
fn live_cookies(
    requests: &[SentRequest],
    i: usize,
    bound: &mut Bound,
) -> Vec<(String, String, Vec<usize>)> {
    let user = requests[i].user.as_deref();
    let earlier: Vec<usize> =
        (0..i).rev().filter(|&k| requests[k].user.as_deref() == user).collect();
    if earlier.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (name, value) in &mut bound.headers {
        if !name.eq_ignore_ascii_case("cookie") {
            continue;
        }
        let [Piece::Lit(text)] = value.as_slice() else { continue };
        let mut pieces = Vec::new();
        for (n, pair) in text.split(';').enumerate() {
            let pair = pair.trim();
            if n > 0 {
                pieces.push(Piece::Lit("; ".to_string()));
            }
            let Some((cookie, _)) = pair.split_once('=') else {
                pieces.push(Piece::Lit(pair.to_string()));
                continue;
            };
            let var = format!("C{}_{}", i + 1, shell_name(cookie));
            pieces.push(Piece::Lit(format!("{cookie}=")));
            pieces.push(Piece::Var(var.clone()));
            out.push((var, cookie.to_string(), earlier.clone()));
        }
        *value = pieces;
    }
    out
}

/// `session-id` → `SESSION_ID`: a cookie name as part of a shell variable.
fn shell_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
        .collect()
}

/// How a secret's variable is written where it is sent: as is (a header),
/// inside a JSON string (escaped), or in a URL or a form (percent-encoded).
/// The encoded forms are script variables made from the secret's.
const ENCODED_SECRETS: [(&str, &str); 2] = [("JSON_", "json_string"), ("URL_", "url_encode")];

/// Each `${VENOMQA_…}` in the URL and the body made the encoded variable
/// its place needs: the URL's percent-encoded, a form body's too, a JSON
/// body's escaped, so a secret holding `"` or `&` is sent as recorded.
fn encode_secrets(bound: &mut Bound, r: &SentRequest) {
    let content_type = r
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    let body_prefix = if content_type.contains("json") {
        Some("JSON_")
    } else if content_type.contains("x-www-form-urlencoded") {
        Some("URL_")
    } else {
        None
    };
    let rename = |word: &mut Vec<Piece>, prefix: &str| {
        for piece in word {
            if let Piece::Var(name) = piece {
                if name.starts_with("VENOMQA_") {
                    *name = format!("{prefix}{name}");
                }
            }
        }
    };
    rename(&mut bound.url, "URL_");
    if let (Some(body), Some(prefix)) = (&mut bound.body, body_prefix) {
        rename(body, prefix);
    }
}

/// A check that each secret the steps send is set, naming its variable,
/// and the encoded forms of it the steps send.
fn write_secret_checks(s: &mut String, steps: &[Bound]) {
    let mut names: Vec<&str> = Vec::new();
    for bound in steps {
        let pieces = bound.url.iter().chain(bound.headers.iter().flat_map(|(_, v)| v));
        for piece in pieces.chain(bound.body.iter().flatten()) {
            if let Piece::Var(name) = piece {
                let secret = ENCODED_SECRETS
                    .iter()
                    .find_map(|(prefix, _)| name.strip_prefix(prefix))
                    .unwrap_or(name);
                if secret.starts_with("VENOMQA_") && !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
        }
    }
    if names.is_empty() {
        return;
    }
    let (plain, encoded): (Vec<&str>, Vec<&str>) =
        names.iter().partition(|n| n.starts_with("VENOMQA_"));
    let mut secrets: Vec<&str> = plain;
    for name in &encoded {
        let secret = &name[name.find("VENOMQA_").unwrap_or(0)..];
        if !secrets.contains(&secret) {
            secrets.push(secret);
        }
    }
    s.push_str("# The test users' secrets, from the environment as for `venomqa run`.\n");
    for name in secrets {
        let _ = writeln!(
            s,
            ": \"${{{name}:?set {name}, the secret of a test user, as for venomqa run}}\""
        );
    }
    if encoded.is_empty() {
        return;
    }
    s.push_str(ENCODE_FUNCTIONS);
    for name in encoded {
        let (prefix, function) =
            ENCODED_SECRETS.iter().find(|(p, _)| name.starts_with(p)).expect("an encoded name");
        let secret = &name[prefix.len()..];
        let _ = writeln!(s, "{name}=\"$({function} \"${secret}\")\"");
    }
}

/// The script's helpers encoding a secret as its place needs.
const ENCODE_FUNCTIONS: &str = r#"# json_string VALUE: VALUE as the inside of a JSON string.
json_string() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\n'/\\n}"
  s="${s//$'\r'/\\r}"
  s="${s//$'\t'/\\t}"
  printf '%s' "$s"
}
# url_encode VALUE: VALUE percent-encoded for a URL or a form, byte by byte.
url_encode() {
  local LC_ALL=C s="$1" out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      [a-zA-Z0-9._~-]) out+="$c" ;;
      *) out+="$(printf '%%%02X' "'$c")" ;;
    esac
  done
  printf '%s' "$out"
}
"#;

/// The script up to its first step: what it does, which values it extracts
/// from live responses, the target (and what its certificate is trusted
/// by), a work directory, and the extract functions when any value is
/// extracted.
fn script_header(requests: usize, used_vars: &[&ScriptVar], base: &str, tls: &ScriptTls) -> String {
    let mut s = String::from("#!/usr/bin/env bash\n");
    let _ = writeln!(
        s,
        "# Replays {} request{} against $TARGET and prints each status beside the one recorded.",
        requests,
        if requests == 1 { "" } else { "s" }
    );
    if used_vars.is_empty() {
        s.push_str(
            "# Values: all sent literally as recorded (no later request used a value an\n\
             # earlier JSON response produced).\n",
        );
    } else {
        s.push_str(
            "# Values the server produced are captured live from its responses (recorded value\n\
             # in brackets); everything else is sent literally as recorded, including any\n\
             # validator or cookie that came in a response header.\n",
        );
        for c in used_vars {
            // A credential's recorded value stays out of the script.
            let recorded = if venomqa_traffic::is_secret_name(c.key.as_bytes()) {
                String::new()
            } else {
                format!("  [{}]", one_line(&c.value, 40))
            };
            let _ = writeln!(
                s,
                "#   {} = \"{}\" of step {}'s response{recorded}",
                c.var,
                c.key,
                c.step + 1,
            );
        }
    }
    s.push_str("# Needs bash, curl, grep and sed.\n");
    s.push_str("set -euo pipefail\n\n");
    let _ = writeln!(s, "TARGET=\"${{TARGET:-{}}}\"", escape_double_quoted(base));
    tls.write_setup(&mut s, base);
    s.push_str("WORK=\"$(mktemp -d)\"\ntrap 'rm -rf \"$WORK\"' EXIT\n");
    if !used_vars.is_empty() {
        s.push_str(EXTRACT_FUNCTIONS);
    }
    s
}

/// Step `n`: a comment naming it, then one curl (or `copies` at once, in
/// the background; `curl` is the command and its TLS options) and the
/// status beside the recorded one.
fn write_step(s: &mut String, n: usize, r: &SentRequest, bound: &Bound, curl: &str) {
    let copies = r.copies.max(1);
    let label = step_label(n, r);
    let recorded = r.status.map_or("none".to_string(), |st| st.to_string());
    let user = r.user.as_deref().map(|u| format!(" as {}", one_line(u, 60))).unwrap_or_default();
    let _ = writeln!(s, "\n# {label}{user} (recorded: {recorded})");
    if copies == 1 {
        let out = format!("\"$WORK/{n}");
        let _ = writeln!(s, "status=\"$({})\"", curl_command(curl, r, bound, &out, "  "));
        let _ = writeln!(
            s,
            "printf '%s -> %s (recorded %s)\\n' {} \"$status\" {}",
            sh_quote(&label),
            sh_quote(&recorded)
        );
        s.push_str("observed=\"${observed:-} $status\"\n");
        return;
    }
    let _ = writeln!(s, "for i in $(seq 1 {copies}); do");
    let _ = writeln!(
        s,
        "  {} >\"$WORK/{n}.$i.status\" &",
        curl_command(curl, r, bound, &format!("\"$WORK/{n}.$i"), "    ")
    );
    s.push_str("done\nwait\nstatuses=\"\"\n");
    let _ = writeln!(
        s,
        "for i in $(seq 1 {copies}); do statuses=\"$statuses $(cat \"$WORK/{n}.$i.status\")\"; done"
    );
    let _ = writeln!(
        s,
        "printf '%s ->%s (recorded %s)\\n' {} \"$statuses\" {}",
        sh_quote(&label),
        sh_quote(&recorded)
    );
    s.push_str("observed=\"${observed:-}$statuses\"\n");
}

/// Requests sent at the same moment (the calls of an interleaved step,
/// steps `first + 1`, ...): every curl (and copy) in the background, one
/// `wait`, then each status beside the recorded one, in request order.
fn write_together(
    s: &mut String,
    first: usize,
    requests: &[SentRequest],
    bound: &[Bound],
    curl: &str,
) {
    let labels: Vec<String> =
        requests.iter().enumerate().map(|(k, r)| step_label(first + k + 1, r)).collect();
    let names: Vec<String> = labels.iter().map(|l| one_line(l, 200)).collect();
    let _ = writeln!(s, "\n# At once: {}", names.join(" || "));
    // Which call the server sees first is the race's to decide, and curls
    // started in a fixed order mostly arrive in it: each call gets a launch
    // function, started from a random one of them on, so that a rerun tries
    // another order.
    let shuffled = requests.len() > 1;
    let mut launches = Vec::new();
    for (k, (r, b)) in requests.iter().zip(bound).enumerate() {
        let n = first + k + 1;
        let copies = r.copies.max(1);
        if shuffled {
            let _ = writeln!(s, "launch_{n}() {{");
            launches.push(format!("launch_{n}"));
        }
        if copies == 1 {
            let command = curl_command(curl, r, b, &format!("\"$WORK/{n}"), "  ");
            let _ = writeln!(s, "{command} >\"$WORK/{n}.status\" &");
        } else {
            let _ = writeln!(s, "for i in $(seq 1 {copies}); do");
            let command = curl_command(curl, r, b, &format!("\"$WORK/{n}.$i"), "    ");
            let _ = writeln!(s, "  {command} >\"$WORK/{n}.$i.status\" &");
            s.push_str("done\n");
        }
        if shuffled {
            s.push_str("}\n");
        }
    }
    if shuffled {
        let _ = writeln!(s, "launches=({})", launches.join(" "));
        s.push_str("start=$((RANDOM % ${#launches[@]}))\n");
        s.push_str(
            "for ((k = 0; k < ${#launches[@]}; k++)); do \"${launches[(start + k) % ${#launches[@]}]}\"; done\n",
        );
    }
    s.push_str("wait\n");
    for (k, (r, label)) in requests.iter().zip(&labels).enumerate() {
        let n = first + k + 1;
        let copies = r.copies.max(1);
        let recorded = r.status.map_or("none".to_string(), |st| st.to_string());
        if copies == 1 {
            let _ = writeln!(s, "status=\"$(cat \"$WORK/{n}.status\")\"");
        } else {
            let _ = writeln!(
                s,
                "status=\"\"\nfor i in $(seq 1 {copies}); do status=\"$status${{status:+ }}$(cat \"$WORK/{n}.$i.status\")\"; done"
            );
        }
        let _ = writeln!(
            s,
            "printf '%s -> %s (recorded %s)\\n' {} \"$status\" {}",
            sh_quote(label),
            sh_quote(&recorded)
        );
        s.push_str("observed=\"${observed:-} $status\"\n");
    }
}

/// `3. POST /orders/{order_id}/refund`, or `3. 2x POST …` for copies.
fn step_label(n: usize, r: &SentRequest) -> String {
    let copies = r.copies.max(1);
    if copies > 1 {
        format!("{n}. {copies}x {}", one_line(&r.action, 200))
    } else {
        format!("{n}. {}", one_line(&r.action, 200))
    }
}

/// [`curl_script`] headed by what the finding is: oracle, confidence, action,
/// summary and evidence, as comments.
pub fn finding_script(finding: &Finding, target: &str) -> String {
    let script = curl_script(&finding.requests, target);
    let (shebang, rest) = script.split_once('\n').unwrap_or((script.as_str(), ""));
    let mut s = format!("{shebang}\n");
    let _ = writeln!(
        s,
        "# venomqa finding: {} · {} · {} (mutation: {}, journey: {})",
        finding.oracle.name(),
        confidence_name(finding.confidence),
        one_line(&headline_action(finding), 200),
        one_line(&finding.mutation, 60),
        one_line(&finding.journey, 60),
    );
    if !finding.summary.is_empty() {
        let _ = writeln!(s, "# {}", one_line(&finding.summary, 300));
    }
    for line in &finding.evidence {
        let _ = writeln!(s, "#   - {}", one_line(line, 300));
    }
    if let Some((hits, runs)) = finding.reproduced {
        let _ = writeln!(s, "# Reproduced {hits} of {runs} runs: run it more than once.");
    }
    s.push_str("#\n");
    s.push_str(rest);
    s
}

/// Writes one executable `NN-<oracle>-<slug>.sh` per finding into `dir`
/// (created if missing), in finding order; returns the paths in that order.
///
/// The script is the finding's own `reproducer` when it has one, else
/// [`finding_script`] against the origin of its first request.
pub fn write_reproducers(findings: &[Finding], dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| with_path(e, "create directory", dir))?;
    let width = findings.len().to_string().len().max(2);
    let mut paths = Vec::with_capacity(findings.len());
    for (i, finding) in findings.iter().enumerate() {
        let name = format!("{:0width$}-{}-{}.sh", i + 1, finding.oracle.name(), slug(finding));
        let path = dir.join(name);
        let mut script = if finding.reproducer.trim().is_empty() {
            finding_script(finding, "")
        } else {
            finding.reproducer.clone()
        };
        if !script.ends_with('\n') {
            script.push('\n');
        }
        std::fs::write(&path, script).map_err(|e| with_path(e, "write", &path))?;
        make_executable(&path)?;
        paths.push(path);
    }
    Ok(paths)
}

fn with_path(error: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("failed to {what} {}: {error}", path.display()))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| with_path(e, "make executable", path))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> io::Result<()> {
    Ok(())
}

/// `POST /orders/{order_id}/refund` → `post-orders-order-id-refund`.
fn slug(finding: &Finding) -> String {
    let action = headline_action(finding);
    let mut slug = String::new();
    for c in strip_copies(&action).chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(48);
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "finding".to_string()
    } else {
        slug.to_string()
    }
}

/// The base URL the script defaults to: `target` without a trailing slash,
/// or the origin of the first request when no target is given.
fn base_url(requests: &[SentRequest], target: &str) -> String {
    let target = target.trim_end_matches('/');
    if !target.is_empty() {
        return target.to_string();
    }
    requests.first().map(|r| origin(&r.url).to_string()).unwrap_or_default()
}

/// `http://host:port` of an absolute URL; the URL itself when it has no path.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find(['/', '?', '#']) {
        Some(end) => &url[..after_scheme + end],
        None => url,
    }
}

/// One `curl` (the command and its TLS options) writing the answer's body
/// to `{out}.body"` and its headers to `{out}.headers"` (`out` is an
/// opened double-quoted path prefix), continued over lines indented by
/// `indent`.
fn curl_command(curl: &str, r: &SentRequest, bound: &Bound, out: &str, indent: &str) -> String {
    let mut args = vec![format!(
        "{curl} -sS -g --path-as-is --max-time {MAX_TIME} -o {out}.body\" -D {out}.headers\" -w '%{{http_code}}'"
    )];
    let method = r.method.trim();
    if method.eq_ignore_ascii_case("HEAD") {
        args.push("--head".to_string());
    } else if !method.is_empty() {
        args.push(format!("-X {}", sh_quote(method)));
    }
    for (name, value) in &bound.headers {
        let name = one_line(name, 200);
        let header = if value.iter().all(|p| matches!(p, Piece::Lit(t) if t.is_empty())) {
            // `-H 'Name:'` would remove the header; `Name;` sends it empty.
            vec![Piece::Lit(format!("{name};"))]
        } else {
            let mut pieces = vec![Piece::Lit(format!("{name}: "))];
            pieces.extend(value.iter().map(|p| match p {
                // A header value cannot hold a line break.
                Piece::Lit(t) => Piece::Lit(t.replace(['\r', '\n'], " ")),
                var => var.clone(),
            }));
            pieces
        };
        args.push(format!("-H {}", shell_word(&header)));
    }
    if let Some(body) = &bound.body {
        args.push(format!("--data-binary {}", shell_word(body)));
    }
    args.push(shell_word(&bound.url));
    args.join(&format!(" \\\n{indent}"))
}

/// A shell word from pieces: literals single-quoted, variables double-quoted.
fn shell_word(pieces: &[Piece]) -> String {
    let mut word = String::new();
    let mut literal = String::new();
    for piece in pieces {
        match piece {
            Piece::Lit(text) => literal.push_str(text),
            Piece::Var(name) => {
                if !literal.is_empty() {
                    word.push_str(&sh_quote(&literal));
                    literal.clear();
                }
                let _ = write!(word, "\"${{{name}}}\"");
            }
        }
    }
    if !literal.is_empty() {
        word.push_str(&sh_quote(&literal));
    }
    if word.is_empty() {
        word.push_str("''");
    }
    word
}
