//! A layered drawing of a small directed graph, top to bottom, in the way
//! of Sugiyama: it knows boxes and arrows, nothing of states.
//!
//! 1. Cycles are broken by turning round the edges a depth-first search
//!    finds going back up; each node's layer is then its longest path from
//!    a source, so a lifecycle reads downwards (created, paid, shipped).
//! 2. Between two layers of nodes lies a row of edge points: an edge that
//!    spans more layers gets a point in every row it crosses, and its label
//!    is a box in the first one, so labels are laid out like nodes and never
//!    sit on top of one another.
//! 3. Each row is ordered by the mean position of its neighbours, sweeping
//!    down and up, to cut crossings.
//! 4. Each row's x positions are the ones closest to the mean of their
//!    neighbours' that keep the boxes apart in order (least squares under
//!    order constraints, solved exactly by pooling adjacent violators).
//!
//! Self-loops are the caller's: it widens the node and draws them itself.

use std::collections::BTreeSet;

/// Horizontal space between two boxes of a row.
const GAP: f64 = 26.0;
/// Vertical space between two rows.
const ROW_GAP: f64 = 16.0;
/// Margin around the drawing.
pub(super) const MARGIN: f64 = 16.0;
/// Half the width of a point an edge passes through.
const POINT: f64 = 3.0;
/// Rounds of ordering sweeps and of position sweeps.
const SWEEPS: usize = 8;

/// A box to place: how far it reaches left and right of the x it is placed
/// at, and how tall it is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Extent {
    /// Reach to the left of the anchor.
    pub left: f64,
    /// Reach to the right of the anchor.
    pub right: f64,
    /// Height, centred on the row.
    pub height: f64,
}

/// An edge to draw; never a self-loop.
#[derive(Clone, Copy, Debug)]
pub(super) struct Edge {
    /// Index of the node it leaves.
    pub from: usize,
    /// Index of the node it enters.
    pub to: usize,
    /// The label's box: the edge runs down its anchor, the text to its right.
    pub label: Extent,
}

/// Where everything went.
#[derive(Clone, Debug)]
pub(super) struct Layout {
    /// Each node's anchor (its centre for a symmetric box).
    pub nodes: Vec<Point>,
    /// Each edge: the points its curve passes, from its source's border to
    /// its target's, and where its label is anchored.
    pub edges: Vec<EdgePath>,
    /// The drawing's size, margins included.
    pub width: f64,
    /// The drawing's height, margins included.
    pub height: f64,
}

/// A position in the drawing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Point {
    /// Across.
    pub x: f64,
    /// Down.
    pub y: f64,
}

/// How one edge is drawn.
#[derive(Clone, Debug)]
pub(super) struct EdgePath {
    /// From the source's bottom (or top, for an edge turned round) to the
    /// target's border, through one point a row it crosses.
    pub points: Vec<Point>,
    /// The label's anchor: the edge passes through it.
    pub label: Point,
}

/// One box of a row: a node, a label, or a point an edge passes.
struct Slot {
    extent: Extent,
    row: usize,
    /// Neighbours in the row above and the row below.
    up: Vec<usize>,
    down: Vec<usize>,
}

/// Lays out `nodes` (their boxes) joined by `edges`.
pub(super) fn layout(nodes: &[Extent], edges: &[Edge]) -> Layout {
    let reversed = back_edges(nodes.len(), edges);
    let layers = longest_path_layers(nodes.len(), edges, &reversed);

    let mut slots: Vec<Slot> = nodes
        .iter()
        .zip(&layers)
        .map(|(extent, layer)| Slot { extent: *extent, row: 2 * layer, up: vec![], down: vec![] })
        .collect();
    // Each edge as a chain of slots, top to bottom: its upper end, its
    // label, the points of the rows it crosses, its lower end.
    let mut chains = Vec::with_capacity(edges.len());
    for (e, edge) in edges.iter().enumerate() {
        let (top, bottom) =
            if reversed.contains(&e) { (edge.to, edge.from) } else { (edge.from, edge.to) };
        let mut chain = vec![top];
        for row in slots[top].row + 1..slots[bottom].row {
            let extent = if row == slots[top].row + 1 {
                edge.label
            } else {
                Extent { left: POINT, right: POINT, height: 0.0 }
            };
            slots.push(Slot { extent, row, up: vec![], down: vec![] });
            chain.push(slots.len() - 1);
        }
        chain.push(bottom);
        for pair in chain.windows(2) {
            slots[pair[0]].down.push(pair[1]);
            slots[pair[1]].up.push(pair[0]);
        }
        chains.push(chain);
    }

    let rows = ordered_rows(&slots);
    let xs = positions(&slots, &rows);
    let ys = row_centres(&slots, &rows);

    let anchor = |s: usize| Point { x: xs[s], y: ys[slots[s].row] };
    let border = |s: usize, below: bool| {
        let half = slots[s].extent.height / 2.0;
        Point { x: xs[s], y: ys[slots[s].row] + if below { half } else { -half } }
    };
    let edges = chains
        .iter()
        .enumerate()
        .map(|(e, chain)| {
            let mut points = vec![border(chain[0], true)];
            points.extend(chain[1..chain.len() - 1].iter().map(|&s| anchor(s)));
            points.push(border(chain[chain.len() - 1], false));
            if reversed.contains(&e) {
                points.reverse();
            }
            EdgePath { points, label: anchor(chain[1]) }
        })
        .collect();
    let width =
        slots.iter().enumerate().map(|(s, slot)| xs[s] + slot.extent.right).fold(0.0, f64::max);
    let height = rows
        .iter()
        .enumerate()
        .filter_map(|(r, row)| {
            row.iter().map(|&s| ys[r] + slots[s].extent.height / 2.0).reduce(f64::max)
        })
        .fold(0.0, f64::max);
    Layout {
        nodes: (0..nodes.len()).map(anchor).collect(),
        edges,
        width: width + MARGIN,
        height: height + MARGIN,
    }
}

/// The edges a depth-first search from each node in turn (the first ones
/// first: the caller's entry point) finds going back to a node on its path:
/// turned round, they leave a graph without cycles.
fn back_edges(nodes: usize, edges: &[Edge]) -> BTreeSet<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Seen {
        No,
        OnPath,
        Done,
    }
    let mut seen = vec![Seen::No; nodes];
    let mut back = BTreeSet::new();
    for root in 0..nodes {
        if seen[root] != Seen::No {
            continue;
        }
        // An explicit stack of (node, next edge to look at): no recursion
        // depth to worry about, whatever the model holds.
        let mut stack = vec![(root, 0)];
        seen[root] = Seen::OnPath;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            match (*next..edges.len()).find(|&e| edges[e].from == node) {
                Some(e) => {
                    *next = e + 1;
                    match seen[edges[e].to] {
                        Seen::OnPath => {
                            back.insert(e);
                        }
                        Seen::No => {
                            seen[edges[e].to] = Seen::OnPath;
                            stack.push((edges[e].to, 0));
                        }
                        Seen::Done => {}
                    }
                }
                None => {
                    seen[node] = Seen::Done;
                    stack.pop();
                }
            }
        }
    }
    back
}

/// Each node's layer: 0 for a source, else one more than the deepest node
/// with an edge into it (edges in `reversed` counted the other way round).
/// A node no edge touches goes to the last layer, out of the way of the
/// entry point rather than beside it.
fn longest_path_layers(nodes: usize, edges: &[Edge], reversed: &BTreeSet<usize>) -> Vec<usize> {
    let directed: Vec<(usize, usize)> = edges
        .iter()
        .enumerate()
        .map(
            |(e, edge)| {
                if reversed.contains(&e) {
                    (edge.to, edge.from)
                } else {
                    (edge.from, edge.to)
                }
            },
        )
        .collect();
    let mut incoming = vec![0usize; nodes];
    for &(_, to) in &directed {
        incoming[to] += 1;
    }
    let mut layer = vec![0usize; nodes];
    let mut ready: Vec<usize> = (0..nodes).filter(|&n| incoming[n] == 0).collect();
    while let Some(node) = ready.pop() {
        for &(from, to) in &directed {
            if from == node {
                layer[to] = layer[to].max(layer[node] + 1);
                incoming[to] -= 1;
                if incoming[to] == 0 {
                    ready.push(to);
                }
            }
        }
    }
    let last = layer.iter().copied().max().unwrap_or(0);
    for (node, layer) in layer.iter_mut().enumerate() {
        if !directed.iter().any(|&(from, to)| from == node || to == node) {
            *layer = last;
        }
    }
    layer
}

/// The slots of each row, ordered to cut crossings: sweeps down (each slot
/// at the mean position of its neighbours above) and up (below).
fn ordered_rows(slots: &[Slot]) -> Vec<Vec<usize>> {
    let count = slots.iter().map(|s| s.row + 1).max().unwrap_or(0);
    let mut rows = vec![Vec::new(); count];
    for (s, slot) in slots.iter().enumerate() {
        rows[slot.row].push(s);
    }
    let mut position = vec![0.0; slots.len()];
    let remember = |rows: &[Vec<usize>], position: &mut Vec<f64>| {
        for row in rows {
            for (i, &s) in row.iter().enumerate() {
                position[s] = i as f64;
            }
        }
    };
    remember(&rows, &mut position);
    for sweep in 0..SWEEPS {
        let down = sweep % 2 == 0;
        let order: Vec<usize> =
            if down { (1..count).collect() } else { (0..count.saturating_sub(1)).rev().collect() };
        for r in order {
            let mut keyed: Vec<(f64, usize)> = rows[r]
                .iter()
                .map(|&s| {
                    let neighbours = if down { &slots[s].up } else { &slots[s].down };
                    (mean(neighbours.iter().map(|&n| position[n])).unwrap_or(position[s]), s)
                })
                .collect();
            // Stable: slots with equal keys keep their order.
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            rows[r] = keyed.into_iter().map(|(_, s)| s).collect();
            for (i, &s) in rows[r].iter().enumerate() {
                position[s] = i as f64;
            }
        }
    }
    rows
}

/// Each slot's x: rows packed from the margin, then, sweep after sweep,
/// each row moved as close as its order allows to the mean x of its
/// neighbours; finally everything shifted so the leftmost box touches the
/// margin.
fn positions(slots: &[Slot], rows: &[Vec<usize>]) -> Vec<f64> {
    let mut x = vec![0.0; slots.len()];
    for row in rows {
        let mut at = MARGIN;
        for &s in row {
            x[s] = at + slots[s].extent.left;
            at = x[s] + slots[s].extent.right + GAP;
        }
    }
    for sweep in 0..SWEEPS {
        let down = sweep % 2 == 0;
        let order: Vec<usize> =
            if down { (0..rows.len()).collect() } else { (0..rows.len()).rev().collect() };
        for r in order {
            let wanted: Vec<f64> = rows[r]
                .iter()
                .map(|&s| {
                    let neighbours = if down { &slots[s].up } else { &slots[s].down };
                    mean(neighbours.iter().map(|&n| x[n])).unwrap_or(x[s])
                })
                .collect();
            let gaps: Vec<f64> = rows[r]
                .windows(2)
                .map(|pair| slots[pair[0]].extent.right + GAP + slots[pair[1]].extent.left)
                .collect();
            for (&s, placed) in rows[r].iter().zip(closest_in_order(&wanted, &gaps)) {
                x[s] = placed;
            }
        }
    }
    let left = slots
        .iter()
        .enumerate()
        .map(|(s, slot)| x[s] - slot.extent.left)
        .fold(f64::INFINITY, f64::min);
    if left.is_finite() {
        for value in &mut x {
            *value += MARGIN - left;
        }
    }
    x
}

/// The positions closest to `wanted` (least squares) with each at least
/// `gaps[i]` right of the one before: with `y[i] = x[i] - (gaps before i)`
/// this asks for a non-decreasing `y` closest to the shifted wishes, which
/// pooling adjacent violators (averaging each run that would go down) solves.
fn closest_in_order(wanted: &[f64], gaps: &[f64]) -> Vec<f64> {
    let mut offset = Vec::with_capacity(wanted.len());
    let mut total = 0.0;
    for i in 0..wanted.len() {
        if i > 0 {
            total += gaps[i - 1];
        }
        offset.push(total);
    }
    // Pools of (mean, size), each mean above the one before.
    let mut pools: Vec<(f64, usize)> = Vec::new();
    for (w, o) in wanted.iter().zip(&offset) {
        pools.push((w - o, 1));
        while pools.len() > 1 && pools[pools.len() - 2].0 > pools[pools.len() - 1].0 {
            let (m2, n2) = pools.pop().unwrap_or((0.0, 0));
            let (m1, n1) = pools.pop().unwrap_or((0.0, 0));
            let n = n1 + n2;
            pools.push(((m1 * n1 as f64 + m2 * n2 as f64) / n as f64, n));
        }
    }
    pools
        .iter()
        .flat_map(|&(mean, size)| std::iter::repeat_n(mean, size))
        .zip(&offset)
        .map(|(y, o)| y + o)
        .collect()
}

/// The y of each row's centre: rows as tall as their tallest box, one gap apart.
fn row_centres(slots: &[Slot], rows: &[Vec<usize>]) -> Vec<f64> {
    let mut y = Vec::with_capacity(rows.len());
    let mut top = MARGIN;
    for row in rows {
        let height = row.iter().map(|&s| slots[s].extent.height).fold(0.0, f64::max);
        y.push(top + height / 2.0);
        top += height + ROW_GAP;
    }
    y
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(sum, n), v| (sum + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> Extent {
        Extent { left: 30.0, right: 30.0, height: 30.0 }
    }

    fn edge(from: usize, to: usize) -> Edge {
        Edge { from, to, label: Extent { left: 2.0, right: 40.0, height: 14.0 } }
    }

    #[test]
    fn a_chain_reads_downwards_and_its_edges_run_from_bottom_to_top() {
        let drawn = layout(&[node(), node(), node()], &[edge(0, 1), edge(1, 2)]);
        let ys: Vec<f64> = drawn.nodes.iter().map(|p| p.y).collect();
        assert!(ys[0] < ys[1] && ys[1] < ys[2], "{ys:?}");
        let first = &drawn.edges[0].points;
        assert_eq!(first.first().map(|p| p.y), Some(ys[0] + 15.0));
        assert_eq!(first.last().map(|p| p.y), Some(ys[1] - 15.0));
    }

    #[test]
    fn a_cycle_is_drawn_with_its_closing_edge_going_up() {
        let drawn = layout(&[node(), node(), node()], &[edge(0, 1), edge(1, 2), edge(2, 1)]);
        let back = &drawn.edges[2].points;
        let (start, end) = (back[0], back[back.len() - 1]);
        assert!(start.y > end.y, "2 → 1 goes up: {back:?}");
        assert!(drawn.nodes[2].y > drawn.nodes[1].y);
    }

    #[test]
    fn a_node_without_edges_goes_to_the_bottom() {
        let drawn = layout(&[node(), node(), node()], &[edge(0, 1)]);
        assert_eq!(drawn.nodes[2].y, drawn.nodes[1].y);
    }

    #[test]
    fn boxes_of_a_row_never_overlap() {
        // One source with four targets: one row of four nodes, and four labels.
        let edges: Vec<Edge> = (1..5).map(|to| edge(0, to)).collect();
        let drawn = layout(&[node(); 5], &edges);
        let mut xs: Vec<f64> = drawn.nodes[1..].iter().map(|p| p.x).collect();
        xs.sort_by(f64::total_cmp);
        for pair in xs.windows(2) {
            assert!(pair[1] - pair[0] >= 60.0 + GAP - 1e-9, "{xs:?}");
        }
        let mut labels: Vec<f64> = drawn.edges.iter().map(|e| e.label.x).collect();
        labels.sort_by(f64::total_cmp);
        for pair in labels.windows(2) {
            assert!(pair[1] - pair[0] >= 42.0 + GAP - 1e-9, "{labels:?}");
        }
        assert!(drawn.nodes.iter().all(|p| p.x - 30.0 >= MARGIN - 1e-9));
    }

    #[test]
    fn closest_in_order_keeps_wishes_that_fit_and_spreads_those_that_collide() {
        assert_eq!(closest_in_order(&[0.0, 100.0], &[10.0]), vec![0.0, 100.0]);
        assert_eq!(closest_in_order(&[50.0, 50.0], &[10.0]), vec![45.0, 55.0]);
    }
}
