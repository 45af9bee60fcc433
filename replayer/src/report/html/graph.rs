//! A resource's learned state machine as inline SVG: a dot for "new", a
//! rounded box a state (doubled when no transition leaves it), an arrow a
//! transition labelled with its action and how often the recording saw it.
//! Transitions a finding crossed are red and link to the finding; a step a
//! finding took that the recording never showed (a ship of an unpaid order)
//! is drawn too, dashed, when its answer said where it led.
//!
//! Drawn in Rust, so the page needs no script and no network. Text widths
//! are estimated for a monospace font, the one the SVG asks for.

use std::fmt::Write as _;

use venomqa_learner::{Resource, StateMachine};

use super::layout::{layout, Edge, Extent, Point, MARGIN};
use crate::report::markup::{escape_attr, escape_text};

/// The font size of every text in the drawing, in px.
const FONT: f64 = 12.0;
/// Estimated advance of one character of a 12 px monospace font.
const CHAR: f64 = 7.3;
/// Height of a state's box.
const BOX: f64 = 32.0;
/// Radius of the "new" dot.
const DOT: f64 = 6.0;
/// How far a self-loop reaches right of its box.
const LOOP: f64 = 26.0;
/// Height of one line of text.
const LINE: f64 = 15.0;

/// Which findings crossed what, by index into the machine's transitions.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Marks {
    /// For each transition, the numbers (from 1) of the findings that crossed it.
    pub transitions: Vec<Vec<usize>>,
    /// For each initial state (in the order of `initial`), the findings
    /// whose sequence created an instance in it.
    pub entries: Vec<Vec<usize>>,
    /// Moves findings made that the machine does not have.
    pub unlearned: Vec<Unlearned>,
}

/// A move between two states that no recorded session made, and the
/// findings whose sequence made it.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Unlearned {
    /// The state before.
    pub from: String,
    /// The action accepted there.
    pub action: String,
    /// The state its answer showed.
    pub to: String,
    /// The numbers (from 1) of the findings that made it.
    pub crossed: Vec<usize>,
    /// Exploration made it.
    pub explored: bool,
}

/// One arrow to draw, whatever it stands for.
struct Arrow {
    /// `POST …/pay ×26`
    label: String,
    /// The full action and counts, for the tooltip.
    title: String,
    /// Findings that crossed it.
    crossed: Vec<usize>,
    /// A move the recording never showed: drawn dashed.
    unlearned: bool,
}

impl Arrow {
    fn class(&self) -> &'static str {
        match (self.crossed.is_empty(), self.unlearned) {
            (true, false) => "edge",
            (true, true) => "edge unlearned",
            (false, false) => "edge crossed",
            (false, true) => "edge crossed unlearned",
        }
    }
}

/// The machine as an `<svg>` element; crossed arrows link to `#finding-N`.
pub(super) fn machine_svg(
    machine: &StateMachine,
    resource: Option<&Resource>,
    marks: &Marks,
) -> String {
    let states = state_names(machine);
    let Arrows { edges, arrows, self_loops } = arrows(machine, resource, marks, &states);
    let mut extents = vec![Extent { left: DOT, right: DOT, height: 2.0 * DOT }];
    for (i, name) in states.iter().enumerate() {
        let half = box_width(name) / 2.0;
        let loops = &self_loops[i + 1];
        let loop_reach = loops.iter().map(|a| text_width(&a.label)).fold(0.0, f64::max);
        let right = if loops.is_empty() { half } else { half + LOOP + 6.0 + loop_reach };
        let height = BOX.max(loops.len() as f64 * LINE + 6.0);
        extents.push(Extent { left: half, right, height });
    }
    let drawn = layout(&extents, &edges);

    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"machine\" viewBox=\"0 0 {w:.0} {h:.0}\" width=\"{w:.0}\" height=\"{h:.0}\" \
         role=\"img\" aria-label=\"{}\" font-family=\"ui-monospace, Menlo, Consolas, monospace\" \
         font-size=\"{FONT}\">",
        escape_attr(&format!("state machine of {}", machine.resource)),
        w = drawn.width.max(2.0 * MARGIN),
        h = drawn.height.max(2.0 * MARGIN),
    );
    for (path, arrow) in drawn.edges.iter().zip(&arrows) {
        let label = Point { x: path.label.x + 6.0, y: path.label.y };
        draw_arrow(&mut svg, arrow, &path.points, label);
    }
    let Point { x, y } = drawn.nodes[0];
    let _ = write!(svg, "<circle class=\"start\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{DOT}\"><title>new instances</title></circle>");
    for (i, name) in states.iter().enumerate() {
        let node = drawn.nodes[i + 1];
        let half = box_width(name) / 2.0;
        let final_state = !machine.transitions.iter().any(|t| t.from == *name && t.to != *name);
        let initial = machine.initial.contains_key(name);
        draw_state(&mut svg, name, node, half, initial, final_state);
        // Loops of one state share a curve: the crossed ones go on top.
        let loops = &self_loops[i + 1];
        for on_top in [false, true] {
            for (line, arrow) in
                loops.iter().enumerate().filter(|(_, a)| a.crossed.is_empty() != on_top)
            {
                draw_self_loop(&mut svg, node, half, line, loops.len(), arrow);
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Every state: those the machine lists, then any a transition or the
/// initial states name that it does not.
fn state_names(machine: &StateMachine) -> Vec<String> {
    let mut names: Vec<String> = machine.states.iter().map(|s| s.name.clone()).collect();
    let named =
        machine.initial.keys().chain(machine.transitions.iter().flat_map(|t| [&t.from, &t.to]));
    for name in named {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

/// What to draw between the nodes (node 0 is "new", state `i` is node `i + 1`).
struct Arrows {
    /// The arrows between two nodes, for the layout...
    edges: Vec<Edge>,
    /// ...and what each stands for, in the same order.
    arrows: Vec<Arrow>,
    /// Each node's arrows back into itself, drawn beside it.
    self_loops: Vec<Vec<Arrow>>,
}

impl Arrows {
    fn add(&mut self, from: usize, to: usize, arrow: Arrow) {
        if from == to {
            self.self_loops[from].push(arrow);
            return;
        }
        let label = Extent { left: 2.0, right: 8.0 + text_width(&arrow.label), height: LINE };
        self.edges.push(Edge { from, to, label });
        self.arrows.push(arrow);
    }
}

/// Every arrow of the drawing: "new" into each initial state, each learned
/// transition, and each move findings made that the machine does not have.
fn arrows(
    machine: &StateMachine,
    resource: Option<&Resource>,
    marks: &Marks,
    states: &[String],
) -> Arrows {
    let index = |name: &str| states.iter().position(|s| s == name).map(|i| i + 1);
    let mut out = Arrows {
        edges: Vec::new(),
        arrows: Vec::new(),
        self_loops: (0..=states.len()).map(|_| Vec::new()).collect(),
    };
    let create = resource.and_then(|r| r.create.as_deref());
    for (i, (state, count)) in machine.initial.iter().enumerate() {
        let Some(to) = index(state) else { continue };
        let label = match create {
            Some(action) => format!("{} ×{count}", short_action(action, resource)),
            None => format!("×{count}"),
        };
        let title = format!("created in {state}: {} ×{count}", create.unwrap_or("a create"));
        let crossed = marks_of(&marks.entries, i);
        out.add(0, to, Arrow { label, title, crossed, unlearned: false });
    }
    for (i, t) in machine.transitions.iter().enumerate() {
        let (Some(from), Some(to)) = (index(&t.from), index(&t.to)) else { continue };
        let arrow = Arrow {
            label: format!("{} ×{}", short_action(&t.action, resource), t.count),
            title: format!("{} → {}: {} ×{}", t.from, t.to, t.action, t.count),
            crossed: marks_of(&marks.transitions, i),
            unlearned: false,
        };
        out.add(from, to, arrow);
    }
    for u in &marks.unlearned {
        let (Some(from), Some(to)) = (index(&u.from), index(&u.to)) else { continue };
        let arrow = Arrow {
            label: format!("{} — never recorded", short_action(&u.action, resource)),
            title: format!(
                "{} → {}: {}, which no recorded session did{}",
                u.from,
                u.to,
                u.action,
                if u.explored { " (exploration did)" } else { "" }
            ),
            crossed: u.crossed.clone(),
            unlearned: true,
        };
        out.add(from, to, arrow);
    }
    out
}

fn marks_of(marks: &[Vec<usize>], i: usize) -> Vec<usize> {
    marks.get(i).cloned().unwrap_or_default()
}

/// `POST /orders/{order_id}/refund` → `POST …/refund` and
/// `DELETE /orders/{order_id}` → `DELETE` on the orders machine: the part
/// the drawing needs; the tooltip and the table say it whole.
fn short_action(action: &str, resource: Option<&Resource>) -> String {
    let Some(((method, template), resource)) = action.split_once(' ').zip(resource) else {
        return action.to_string();
    };
    let instance = format!("{}/{{{}}}", resource.collection, resource.id_param);
    match template.strip_prefix(&instance) {
        Some("") => method.to_string(),
        Some(rest) if rest.starts_with('/') => format!("{method} …{rest}"),
        _ if template == resource.collection => format!("{method} {template}"),
        _ => action.to_string(),
    }
}

fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR
}

fn box_width(name: &str) -> f64 {
    (text_width(name) + 24.0).max(64.0)
}

/// A smooth curve through `points`: each stretch leaves and enters
/// vertically, so arrows meet boxes square.
fn curve(points: &[Point]) -> String {
    let mut d = String::new();
    if let Some(first) = points.first() {
        let _ = write!(d, "M{:.1},{:.1}", first.x, first.y);
    }
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let mid = (a.y + b.y) / 2.0;
        let _ = write!(d, " C{:.1},{mid:.1} {:.1},{mid:.1} {:.1},{:.1}", a.x, b.x, b.x, b.y);
    }
    d
}

/// An arrowhead at the end of `points`, pointing the way the last stretch goes.
fn head(points: &[Point]) -> String {
    let (Some(end), Some(before)) = (points.last(), points.len().checked_sub(2).map(|i| points[i]))
    else {
        return String::new();
    };
    let down = if end.y >= before.y { 1.0 } else { -1.0 };
    format!(
        "M{:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z",
        end.x,
        end.y,
        end.x - 4.5,
        end.y - 8.0 * down,
        end.x + 4.5,
        end.y - 8.0 * down
    )
}

/// One transition: its curve, its head and its label, in a link to the
/// first finding that crossed it when one did.
fn draw_arrow(svg: &mut String, arrow: &Arrow, points: &[Point], label: Point) {
    open_link(svg, arrow);
    let _ = write!(
        svg,
        "<path class=\"line\" d=\"{}\"/><path class=\"head\" d=\"{}\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" dominant-baseline=\"middle\">{}</text>",
        curve(points),
        head(points),
        label.x,
        label.y,
        escape_text(&arrow.label)
    );
    close_link(svg, arrow);
}

/// A state's box, doubled when final, thicker when instances start there.
fn draw_state(
    svg: &mut String,
    name: &str,
    at: Point,
    half: f64,
    initial: bool,
    final_state: bool,
) {
    let class = match (initial, final_state) {
        (true, _) => "state initial",
        (false, true) => "state final",
        (false, false) => "state",
    };
    let _ = write!(
        svg,
        "<g class=\"{class}\"><title>{}</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BOX}\" rx=\"8\"/>",
        escape_text(&format!(
            "{name}{}{}",
            if initial { " (initial)" } else { "" },
            if final_state { " (final: no transition leaves it)" } else { "" }
        )),
        at.x - half,
        at.y - BOX / 2.0,
        2.0 * half,
    );
    if final_state {
        let _ = write!(
            svg,
            "<rect class=\"inner\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{}\" rx=\"6\"/>",
            at.x - half + 3.0,
            at.y - BOX / 2.0 + 3.0,
            2.0 * half - 6.0,
            BOX - 6.0
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" dominant-baseline=\"middle\">{}</text></g>",
        at.x,
        at.y,
        escape_text(name)
    );
}

/// A transition back into the same state: a loop on the box's right, its
/// label on the `line`th of `lines` lines beside it.
fn draw_self_loop(
    svg: &mut String,
    at: Point,
    half: f64,
    line: usize,
    lines: usize,
    arrow: &Arrow,
) {
    let right = at.x + half;
    let text_y = at.y + (line as f64 - (lines as f64 - 1.0) / 2.0) * LINE;
    open_link(svg, arrow);
    let _ = write!(
        svg,
        "<path class=\"line\" d=\"M{right:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\"/>\
         <path class=\"head\" d=\"M{:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z\"/>\
         <text x=\"{:.1}\" y=\"{text_y:.1}\" dominant-baseline=\"middle\">{}</text>",
        at.y - 9.0,
        right + LOOP,
        at.y - 16.0,
        right + LOOP,
        at.y + 16.0,
        right + 2.0,
        at.y + 9.0,
        right,
        at.y + 9.0,
        right + 8.0,
        at.y + 5.0,
        right + 7.0,
        at.y + 13.0,
        right + LOOP + 6.0,
        escape_text(&arrow.label)
    );
    close_link(svg, arrow);
}

/// `<a href="#finding-N">` (the first finding that crossed it) around a
/// crossed arrow, a plain group otherwise; both with the full tooltip.
fn open_link(svg: &mut String, arrow: &Arrow) {
    let class = arrow.class();
    let numbers: Vec<String> = arrow.crossed.iter().map(|n| format!("#{n}")).collect();
    let title = if numbers.is_empty() {
        arrow.title.clone()
    } else {
        format!("{} — crossed by {}", arrow.title, numbers.join(", "))
    };
    match arrow.crossed.first() {
        Some(n) => {
            let _ = write!(svg, "<a href=\"#finding-{n}\" class=\"{class}\">");
        }
        None => {
            let _ = write!(svg, "<g class=\"{class}\">");
        }
    }
    let _ = write!(svg, "<title>{}</title>", escape_text(&title));
}

fn close_link(svg: &mut String, arrow: &Arrow) {
    svg.push_str(if arrow.crossed.is_empty() { "</g>" } else { "</a>" });
}
