//! Views of a model for people: a text summary, and each resource's state
//! machine as Mermaid (`stateDiagram-v2`) or Graphviz DOT.

use std::fmt::Write;

use crate::model::Auth;
use crate::model::{Model, Ownership, StateBasis, StateMachine};

/// The human view of a model: actions with their status codes, resources,
/// links, state machines and journeys, in the model's order.
pub fn render_text(model: &Model) -> String {
    let mut out = String::new();
    let s = &model.source;
    let _ = writeln!(
        out,
        "model of {} exchanges ({} used) in {} sessions",
        s.exchanges, s.used, s.sessions
    );
    write_actions(&mut out, model);
    let _ = writeln!(out, "\nauth: {}", auth_line(&model.auth));
    write_login_details(&mut out, &model.auth);
    write_resources(&mut out, model);
    write_roles(&mut out, model);
    write_singletons(&mut out, model);
    write_children(&mut out, model);
    write_links(&mut out, model);
    crate::cross::write_cross_session(&mut out, model);
    write_machines(&mut out, model);
    let sessions: u64 = model.journeys.iter().map(|j| j.sessions).sum();
    let _ = writeln!(out, "\njourneys: {} distinct from {sessions} sessions", model.journeys.len());
    let _ = writeln!(out, "volatile fields: {}", model.volatile.len());
    out
}

/// `POST /orders  201×3 400×1  auth bearer  headers idempotency-key`.
fn write_actions(out: &mut String, model: &Model) {
    let _ = writeln!(out, "\nactions ({})", model.actions.len());
    let width = model.actions.iter().map(|a| a.id.len()).max().unwrap_or(0);
    for a in &model.actions {
        let statuses: Vec<String> =
            a.responses.iter().map(|(st, r)| format!("{st}×{}", r.count)).collect();
        let mut extra = String::new();
        if let Some(auth) = &a.auth {
            let _ = write!(extra, "  auth {auth}");
        }
        if !a.headers.is_empty() {
            let _ = write!(extra, "  headers {}", a.headers.join(", "));
        }
        let _ = writeln!(out, "  {:width$}  {}{extra}", a.id, statuses.join(" "));
    }
}

/// Each resource: its collection, actions by role and ownership.
fn write_resources(out: &mut String, model: &Model) {
    let _ = writeln!(out, "\nresources ({})", model.resources.len());
    for r in &model.resources {
        let parent = r.parent.as_ref().map(|p| format!(" (in {p})")).unwrap_or_default();
        let _ = writeln!(out, "  {}{parent}: {}/{{{}}}", r.name, r.collection, r.id_param);
        if let Some(create) = &r.create {
            let pointer = r.id_pointer.as_deref().unwrap_or("?");
            let _ = writeln!(out, "    create  {create}  → id at {pointer}");
        }
        for (role, list) in
            [("read", &r.read), ("update", &r.update), ("delete", &r.delete), ("other", &r.other)]
        {
            if !list.is_empty() {
                let _ = writeln!(out, "    {role:6}  {}", list.join(", "));
            }
        }
        let o = &r.ownership;
        let _ = writeln!(
            out,
            "    {} instances ({} created); other sessions: {} accepted, {} rejected",
            o.instances, o.created, o.foreign_accepted, o.foreign_rejected
        );
        write_owners(out, o);
    }
}

/// `    owners: creator 3, field:owner 1; public`, when anything is known.
fn write_owners(out: &mut String, o: &Ownership) {
    let owners: Vec<String> = o.owners.iter().map(|(how, n)| format!("{how} {n}")).collect();
    let visibility = o.visibility.as_deref().unwrap_or("visibility unknown");
    if !owners.is_empty() || o.visibility.is_some() {
        let owners = if owners.is_empty() { "unknown".into() } else { owners.join(", ") };
        let _ = writeln!(out, "    owners: {owners}; {visibility}");
    }
}

/// Where the login names the account and carries its secrets, the scheme
/// credentials are sent in, and what a failed 2xx login looks like.
fn write_login_details(out: &mut String, auth: &Auth) {
    let mut parts = Vec::new();
    if let Some(account) = &auth.account {
        parts.push(format!("account {account}"));
    }
    if !auth.credentials.is_empty() {
        parts.push(format!("secrets {}", auth.credentials.join(", ")));
    }
    if let Some(body) = &auth.login_body {
        parts.push(format!("as {body}"));
    }
    if let Some(scheme) = &auth.scheme {
        parts.push(format!("sent as {scheme}"));
    }
    if !parts.is_empty() {
        let _ = writeln!(out, "  {}", parts.join(", "));
    }
    if let Some(failed) = &auth.failed_login {
        let statuses: Vec<String> =
            failed.statuses.iter().map(|(st, n)| format!("{st}×{n}")).collect();
        let fields: Vec<String> =
            failed.fields.iter().map(|(p, v)| format!("{p} {}", v.join("|"))).collect();
        let _ = writeln!(
            out,
            "  failed login: {} with {}",
            statuses.join(" "),
            if fields.is_empty() { "no credential".to_string() } else { fields.join(", ") }
        );
    }
}

/// Each role: its users and what only they did.
fn write_roles(out: &mut String, model: &Model) {
    if model.roles.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nroles ({})", model.roles.len());
    for r in &model.roles {
        let users = if r.users.is_empty() { "-".to_string() } else { r.users.join(", ") };
        let source = if r.field.is_empty() {
            "by refused actions".into()
        } else {
            format!("at {}", r.field)
        };
        let _ = writeln!(out, "  {} ({source}): {users} in {} sessions", r.name, r.sessions);
        if !r.only.is_empty() {
            let _ = writeln!(out, "    only  {}", r.only.join(", "));
        }
    }
}

/// Each per-user singleton: its reads and writes.
fn write_singletons(out: &mut String, model: &Model) {
    if model.singletons.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nsingletons ({})", model.singletons.len());
    for s in &model.singletons {
        let etag = if s.etag { "  (etag)" } else { "" };
        let _ = writeln!(out, "  {}{etag}", s.path);
        for (role, list) in [("read", &s.read), ("write", &s.write)] {
            if !list.is_empty() {
                let _ = writeln!(out, "    {role:6}  {}", list.join(", "));
            }
        }
    }
}

/// Each child collection: its parent, create, and how it is read.
fn write_children(out: &mut String, model: &Model) {
    if model.children.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nchildren ({})", model.children.len());
    for c in &model.children {
        let read = match (&c.read_through, c.read.is_empty()) {
            (Some(through), _) => format!("read through {through}"),
            (None, false) => format!("read {}", c.read.join(", ")),
            (None, true) => "no read".to_string(),
        };
        let _ = writeln!(out, "  {} (in {}): create {}; {read}", c.collection, c.parent, c.create);
    }
}

/// Each link: `consumer location  ←  producer status location  (×n)`.
fn write_links(out: &mut String, model: &Model) {
    let _ = writeln!(out, "\nlinks ({})", model.links.len());
    for l in &model.links {
        let _ = writeln!(
            out,
            "  {} {}  ←  {} {} {}  (×{})",
            l.consumer, l.to, l.producer, l.status, l.from, l.count
        );
    }
}

/// Each machine: its initial states, transitions and rejections.
fn write_machines(out: &mut String, model: &Model) {
    let _ = writeln!(out, "\nstate machines ({})", model.machines.len());
    for m in &model.machines {
        let basis = match (&m.basis, &m.field) {
            (StateBasis::Field, Some(field)) => format!("by field `{field}`"),
            (StateBasis::Timestamp, Some(field)) => format!("by timestamp `{field}`"),
            _ => "by last action".to_string(),
        };
        let _ = writeln!(out, "  {} ({basis})", m.resource);
        for (state, n) in &m.initial {
            let _ = writeln!(out, "    [*] → {state}  (×{n})");
        }
        for t in &m.transitions {
            let statuses: Vec<String> = t.statuses.keys().map(u16::to_string).collect();
            let _ = writeln!(
                out,
                "    {} --{}--> {}  (×{}, {})",
                t.from,
                t.action,
                t.to,
                t.count,
                statuses.join("/")
            );
        }
        for state in &m.states {
            if !state.rejected.is_empty() {
                let rejected: Vec<&str> = state.rejected.keys().map(String::as_str).collect();
                let _ = writeln!(out, "    in {}: rejected {}", state.name, rejected.join(", "));
            }
        }
    }
}

/// `login POST /login (credentials password), logout POST /logout`: the
/// parts of the authentication that were learned, or `none learned`.
fn auth_line(auth: &Auth) -> String {
    let mut parts = Vec::new();
    if let Some(login) = &auth.login {
        match auth.credential_fields.as_slice() {
            [] => parts.push(format!("login {login}")),
            fields => parts.push(format!("login {login} (credentials {})", fields.join(", "))),
        }
    }
    for (role, action) in
        [("logout", &auth.logout), ("sign-up", &auth.sign_up), ("refresh", &auth.refresh)]
    {
        if let Some(action) = action {
            parts.push(format!("{role} {action}"));
        }
    }
    if let Some(key) = &auth.key {
        let scheme = auth.scheme.as_deref().filter(|_| key.header == "authorization");
        let keys = match key.keys.len() {
            1 => "1 key".to_string(),
            n => format!("{n} keys"),
        };
        match scheme {
            Some(scheme) => {
                parts.push(format!("per-user key in `{}` ({scheme}), {keys}", key.header))
            }
            None => parts.push(format!("per-user key in `{}`, {keys}", key.header)),
        }
    }
    if parts.is_empty() {
        return "none learned".to_string();
    }
    parts.join(", ")
}

/// Every resource's state machine as a Mermaid `stateDiagram-v2`, each in
/// its own fenced block so the text pastes into Markdown and renders on
/// GitHub as is.
pub fn render_mermaid(model: &Model) -> String {
    let mut out = String::new();
    for m in &model.machines {
        let _ = writeln!(out, "```mermaid\n{}```\n", mermaid_machine(m));
    }
    out
}

/// One state machine as a Mermaid `stateDiagram-v2` document: `[*] -->`
/// the creation states, then one `from --> to : action` line per observed
/// transition.
pub fn mermaid_machine(m: &StateMachine) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    // A Mermaid comment: which resource, without changing the drawing.
    let _ = writeln!(
        out,
        "    %% {} (states from {})",
        m.resource,
        match &m.field {
            Some(field) => format!("field `{field}`"),
            None => "the last action".to_string(),
        }
    );
    for state in &m.states {
        let id = mermaid_id(&state.name);
        if id != state.name {
            let _ = writeln!(out, "    state \"{}\" as {id}", state.name.replace('"', "'"));
        }
    }
    for state in m.initial.keys() {
        let _ = writeln!(out, "    [*] --> {}", mermaid_id(state));
    }
    for t in &m.transitions {
        let label: String =
            t.action.chars().map(|c| if c == ':' || c == ';' { ' ' } else { c }).collect();
        let _ = writeln!(out, "    {} --> {} : {label}", mermaid_id(&t.from), mermaid_id(&t.to));
    }
    out
}

/// Mermaid state ids may not hold `-`, `:`, `{` or spaces.
fn mermaid_id(name: &str) -> String {
    let id: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if id.is_empty() {
        "_".to_string()
    } else {
        id
    }
}

/// Every resource's state machine in one Graphviz digraph, a cluster per
/// resource (one graph, so `dot -Tpng` draws them all). Node ids carry the
/// resource (`orders/paid`), labels the state alone.
pub fn render_dot(model: &Model) -> String {
    let mut out = String::from("digraph model {\n  rankdir=LR;\n");
    let _ = writeln!(out, "  node [shape=box, style=rounded];");
    for m in &model.machines {
        write_dot_cluster(&mut out, m);
    }
    out.push_str("}\n");
    out
}

/// One resource's machine as a `subgraph cluster_…` of the model's digraph.
fn write_dot_cluster(out: &mut String, m: &StateMachine) {
    let node = |state: &str| dot_quote(&format!("{}/{state}", m.resource));
    let _ = writeln!(out, "  subgraph {} {{", dot_quote(&format!("cluster_{}", m.resource)));
    let _ = writeln!(out, "    label={};", dot_quote(&m.resource));
    let _ = writeln!(out, "    {} [shape=point, label=\"\"];", node("[*]"));
    for state in &m.states {
        let _ = writeln!(out, "    {} [label={}];", node(&state.name), dot_quote(&state.name));
    }
    for (state, n) in &m.initial {
        let label = dot_quote(&format!("×{n}"));
        let _ = writeln!(out, "    {} -> {} [label={label}];", node("[*]"), node(state));
    }
    for t in &m.transitions {
        let label = dot_quote(&format!("{} (×{})", t.action, t.count));
        let _ = writeln!(out, "    {} -> {} [label={label}];", node(&t.from), node(&t.to));
    }
    let _ = writeln!(out, "  }}");
}

fn dot_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
