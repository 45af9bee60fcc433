//! The state machines part of the page: for each resource, what the
//! findings did on its learned machine (`crossed`), the drawing (`graph`)
//! and a table of every transition with the findings that crossed it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use venomqa_learner::{Model, Resource, StateMachine};

use super::crossed::{walk, Walk};
use super::graph::{machine_svg, Marks, Unlearned};
use crate::oracle::finding::Finding;
use crate::report::exploration::Exploration;
use crate::report::markup::{escape_attr, escape_text};

/// A resource's machine with what each finding did on it.
pub(super) struct Machine<'a> {
    /// The learned machine.
    pub machine: &'a StateMachine,
    /// Its resource, when the model has it: the create, the instance parameter.
    pub resource: Option<&'a Resource>,
    /// Its id in the page (`machine-orders`).
    pub anchor: String,
    /// One walk a finding, in finding order.
    pub walks: Vec<Walk>,
    /// Transitions exploration took that the recording never showed: (from, action, to).
    pub explored: Vec<(String, String, String)>,
    /// States exploration reached that the recording never showed.
    pub new_states: Vec<String>,
}

impl<'a> Machine<'a> {
    /// Every machine of `model`, each walked by every finding, with what
    /// exploration added to it.
    pub fn all(
        model: &'a Model,
        findings: &[Finding],
        explored: Option<&Exploration>,
    ) -> Vec<Machine<'a>> {
        model
            .machines
            .iter()
            .enumerate()
            .map(|(i, machine)| {
                let resource = model.resource(&machine.resource);
                let walks = findings.iter().map(|f| walk(f, machine, resource)).collect();
                let mine = |r: &str| r == machine.resource;
                let new_transitions =
                    explored.map(|e| e.transitions_new.as_slice()).unwrap_or_default();
                let new_states = explored.map(|e| e.states_new.as_slice()).unwrap_or_default();
                Machine {
                    machine,
                    resource,
                    anchor: machine_anchor(model, i),
                    walks,
                    explored: new_transitions
                        .iter()
                        .filter(|t| mine(&t.resource))
                        .map(|t| (t.from.clone(), t.action.clone(), t.to.clone()))
                        .collect(),
                    new_states: new_states
                        .iter()
                        .filter(|(r, _)| mine(r))
                        .map(|(_, s)| s.clone())
                        .collect(),
                }
            })
            .collect()
    }
}

/// `machine-orders`: the resource's name as an id, made unique by its
/// position when two names clean up alike.
fn machine_anchor(model: &Model, index: usize) -> String {
    let clean = |name: &str| -> String {
        name.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect()
    };
    let mine = clean(&model.machines[index].resource);
    let shared = model.machines.iter().filter(|m| clean(&m.resource) == mine).count() > 1;
    if shared {
        format!("machine-{}-{mine}", index + 1)
    } else {
        format!("machine-{mine}")
    }
}

/// Writes the section: each machine's drawing and table.
pub(super) fn write_machines(page: &mut String, machines: &[Machine]) {
    page.push_str("<section id=\"machines\">\n<h2>Learned state machines</h2>\n");
    if machines.is_empty() {
        page.push_str(
            "<p class=\"none\">The model has no state machine: \
             no resource showed a lifecycle in the recording.</p>\n",
        );
    }
    for m in machines {
        write_machine(page, m);
    }
    page.push_str("</section>\n");
}

fn write_machine(page: &mut String, m: &Machine) {
    let machine = m.machine;
    let marks = Marks {
        transitions: (0..machine.transitions.len())
            .map(|t| crossers(m, |w| w.transitions.contains(&t)))
            .collect(),
        entries: machine.initial.keys().map(|s| crossers(m, |w| w.entries.contains(s))).collect(),
        unlearned: unlearned(m),
    };
    let basis = match &machine.field {
        Some(field) => format!("states from the field <code>{}</code>", escape_text(field)),
        None => "states named after the last action".to_string(),
    };
    let initial: Vec<String> = machine.initial.keys().map(|s| escape_text(s)).collect();
    let crossed = marks.transitions.iter().chain(&marks.entries).any(|c| !c.is_empty());
    let explored = if m.explored.is_empty() && m.new_states.is_empty() {
        String::new()
    } else {
        let mut said = format!("; exploration took {} transitions the recording never showed (dashed, marked in the table)", m.explored.len());
        if !m.new_states.is_empty() {
            let states: Vec<String> = m.new_states.iter().map(|s| escape_text(s)).collect();
            said.push_str(&format!(
                " and reached states it never showed: <strong class=\"new-state\">{}</strong>",
                states.join(", ")
            ));
        }
        said
    };
    let legend = if marks.unlearned.iter().any(|u| !u.crossed.is_empty()) {
        "; red: transitions findings crossed, dashed where no recorded session went \
         (each links to the first finding that did)"
    } else if crossed {
        "; red: transitions findings crossed (each links to the first finding that did)"
    } else {
        "; no finding crossed a transition of it"
    };
    let _ = write!(
        page,
        "<figure class=\"machine\" id=\"{}\">\n<figcaption><h3>{}</h3>{basis}; {} states, initial: {}{legend}{explored}.\
         </figcaption>\n<div class=\"drawing\">{}</div>\n",
        escape_attr(&m.anchor),
        escape_text(&machine.resource),
        machine.states.len(),
        initial.join(", "),
        machine_svg(machine, m.resource, &marks)
    );
    page.push_str("<table class=\"transitions\">\n<tr><th>from</th><th>action</th><th>to</th><th>seen</th><th>statuses</th><th>crossed by</th></tr>\n");
    for ((state, count), crossed) in machine.initial.iter().zip(&marks.entries) {
        let create = m.resource.and_then(|r| r.create.as_deref()).unwrap_or("(a create)");
        write_transition_row(page, "(new)", create, state, *count, "", crossed);
    }
    for (t, crossed) in machine.transitions.iter().zip(&marks.transitions) {
        let statuses: Vec<String> = t.statuses.iter().map(|(s, n)| format!("{s} ×{n}")).collect();
        write_transition_row(
            page,
            &t.from,
            &t.action,
            &t.to,
            t.count,
            &statuses.join(", "),
            crossed,
        );
    }
    for u in &marks.unlearned {
        let seen =
            if u.explored { "never recorded; new, by exploration" } else { "never recorded" };
        write_transition_row(page, &u.from, &u.action, &u.to, 0, seen, &u.crossed);
    }
    page.push_str("</table>\n</figure>\n");
}

/// The moves findings made that the machine does not have, when their
/// answers said where they led: each once, with every finding that made it.
fn unlearned(m: &Machine) -> Vec<Unlearned> {
    let mut moves: BTreeMap<(&str, &str, &str), Vec<usize>> = BTreeMap::new();
    for (i, walk) in m.walks.iter().enumerate() {
        for off in &walk.off_machine {
            if let Some(to) = &off.to {
                let findings = moves.entry((&off.from, &off.action, to)).or_default();
                if !findings.contains(&(i + 1)) {
                    findings.push(i + 1);
                }
            }
        }
    }
    for (from, action, to) in &m.explored {
        moves.entry((from, action, to)).or_default();
    }
    moves
        .into_iter()
        .map(|((from, action, to), crossed)| Unlearned {
            from: from.to_string(),
            action: action.to_string(),
            to: to.to_string(),
            crossed,
            explored: m
                .explored
                .iter()
                .any(|(f, a, t)| (f.as_str(), a.as_str(), t.as_str()) == (from, action, to)),
        })
        .collect()
}

/// The numbers (from 1) of the findings whose walk satisfies `crossed`.
fn crossers(m: &Machine, crossed: impl Fn(&Walk) -> bool) -> Vec<usize> {
    m.walks.iter().enumerate().filter(|(_, w)| crossed(w)).map(|(i, _)| i + 1).collect()
}

fn write_transition_row(
    page: &mut String,
    from: &str,
    action: &str,
    to: &str,
    count: u64,
    statuses: &str,
    crossed: &[usize],
) {
    let links: Vec<String> =
        crossed.iter().map(|n| format!("<a href=\"#finding-{n}\">#{n}</a>")).collect();
    let class = if crossed.is_empty() { "" } else { " class=\"crossed\"" };
    let _ = writeln!(
        page,
        "<tr{class}><td>{}</td><td><code>{}</code></td><td>{}</td><td>{count}</td><td>{}</td><td>{}</td></tr>",
        escape_text(from),
        escape_text(action),
        escape_text(to),
        escape_text(statuses),
        links.join(" ")
    );
}
