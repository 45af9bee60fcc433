//! Mutating journeys: the [`Mutation`](self::mutation::Mutation) families,
//! the generation of every case of each family (`generation`), and what
//! makes two cases the same test (`relevance`).

pub(crate) mod generation;
pub(crate) mod mutation;
pub(crate) mod relevance;

pub(crate) use generation::{cases, Case};
