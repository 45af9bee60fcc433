//! The paths waiting to be run, and which one runs next: breadth first,
//! depth first, at random (seeded), or what the recording showed least
//! first (`coverage`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::mutate::mutation::Mutation;
use crate::run::sequence::Sequence;
use crate::setup::config::Strategy;

/// A path not run yet: its parent's path and one more step.
#[derive(Debug)]
pub(super) struct Open {
    pub path: Sequence,
    /// Steps of the path before this one are other journeys' (its world).
    pub world: u32,
    /// Its root's last step: moves act on what it and later steps touched.
    pub from: usize,
    /// A root's longer cut (every step of the world its journey found), to
    /// run when this one's last step is refused.
    pub fallback: Option<(Sequence, u32)>,
    /// The checkpoint its parent saved: rolled back to, only its last
    /// step is sent.
    pub resume: Option<std::sync::Arc<super::Saved>>,
    /// Steps added after the root.
    pub depth: usize,
    /// How much the recording already showed of its last step: 0 never
    /// seen in that state, 1 after a state or transition the recording
    /// never showed, 2 the rest. `coverage` runs the lowest first.
    pub novelty: u8,
    /// The family whose oracle judges its last step (`None`: only server
    /// errors and invariants).
    pub judge: Option<Mutation>,
    /// The recording never saw its last step accepted where it is tried.
    pub disabled: bool,
}

/// The open paths, in the strategy's order.
pub(super) struct Frontier {
    strategy: Strategy,
    queue: VecDeque<Open>,
    heap: BinaryHeap<Ranked>,
    rng: StdRng,
    added: u64,
}

/// An open path with its place in the coverage order.
struct Ranked {
    key: (Reverse<u8>, Reverse<bool>, Reverse<usize>, Reverse<u64>),
    open: Open,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Ranked) -> bool {
        self.key == other.key
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Ranked) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Ranked) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

impl Frontier {
    pub fn new(strategy: Strategy, seed: u64) -> Frontier {
        Frontier {
            strategy,
            queue: VecDeque::new(),
            heap: BinaryHeap::new(),
            rng: StdRng::seed_from_u64(seed),
            added: 0,
        }
    }

    /// Adds the children of one path, in the order its moves came (the
    /// ones the recording saw enabled before the others).
    pub fn extend(&mut self, children: Vec<Open>) {
        let mut children = children;
        // Stable: enabled moves first, each group in the moves' order.
        children.sort_by_key(|c| c.disabled);
        match self.strategy {
            Strategy::Bfs | Strategy::Random => self.queue.extend(children),
            // The first child must come out first.
            Strategy::Dfs => children.into_iter().rev().for_each(|c| self.queue.push_back(c)),
            Strategy::Coverage => {
                for open in children {
                    self.added += 1;
                    let key = (
                        Reverse(open.novelty),
                        Reverse(open.disabled),
                        Reverse(open.depth),
                        Reverse(self.added),
                    );
                    self.heap.push(Ranked { key, open });
                }
            }
        }
    }

    /// The next path to run.
    pub fn next(&mut self) -> Option<Open> {
        match self.strategy {
            Strategy::Bfs => self.queue.pop_front(),
            Strategy::Dfs => self.queue.pop_back(),
            Strategy::Random => {
                if self.queue.is_empty() {
                    return None;
                }
                let i = self.rng.random_range(0..self.queue.len());
                self.queue.swap_remove_back(i)
            }
            Strategy::Coverage => self.heap.pop().map(|r| r.open),
        }
    }

    /// Paths still open.
    pub fn len(&self) -> usize {
        self.queue.len() + self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(depth: usize, novelty: u8, disabled: bool) -> Open {
        Open {
            path: Sequence { journey: depth, steps: Vec::new() },
            world: 0,
            from: 0,
            fallback: None,
            resume: None,
            depth,
            novelty,
            judge: None,
            disabled,
        }
    }

    fn order(strategy: Strategy, seed: u64) -> Vec<usize> {
        let mut f = Frontier::new(strategy, seed);
        f.extend(vec![open(1, 2, false), open(2, 2, false)]);
        let first = f.next().unwrap();
        f.extend(vec![open(first.depth * 10, 2, false), open(first.depth * 10 + 1, 2, false)]);
        let mut out = vec![first.depth];
        while let Some(o) = f.next() {
            out.push(o.depth);
        }
        out
    }

    #[test]
    fn breadth_first_runs_siblings_before_children_and_depth_first_the_reverse() {
        assert_eq!(order(Strategy::Bfs, 0), vec![1, 2, 10, 11]);
        assert_eq!(order(Strategy::Dfs, 0), vec![1, 10, 11, 2]);
    }

    #[test]
    fn random_is_the_same_for_the_same_seed() {
        assert_eq!(order(Strategy::Random, 7), order(Strategy::Random, 7));
        let orders: std::collections::HashSet<Vec<usize>> =
            (0..16).map(|seed| order(Strategy::Random, seed)).collect();
        assert!(orders.len() > 1, "the seed changes the order");
    }

    #[test]
    fn coverage_runs_what_the_recording_never_showed_first_and_disabled_moves_last() {
        let mut f = Frontier::new(Strategy::Coverage, 0);
        f.extend(vec![open(1, 2, false), open(2, 0, true), open(3, 0, false), open(4, 1, false)]);
        let got: Vec<usize> = std::iter::from_fn(|| f.next()).map(|o| o.depth).collect();
        assert_eq!(got, vec![3, 2, 4, 1]);
    }
}
