//! Mutating journeys: the [`Mutation`](self::mutation::Mutation) families,
//! the generation of every case of each family (`generation`), and what
//! makes two cases the same test (`relevance`).

mod families;
pub(crate) mod generation;
mod journey;
pub(crate) mod mutation;
pub(crate) mod relevance;

pub(crate) use generation::{cases, Case};
