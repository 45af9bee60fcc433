//! Mutating journeys: the [`Mutation`](self::mutation::Mutation) families
//! by name (`mutation`), one generator per family (`families`) over a
//! calibrated journey (`journey`), the cases of every family deduplicated
//! and interleaved (`generation`), and what makes two cases the same test
//! (`relevance`).

mod families;
pub(crate) mod generation;
mod journey;
pub(crate) mod mutation;
pub(crate) mod relevance;

pub(crate) use generation::cases;
