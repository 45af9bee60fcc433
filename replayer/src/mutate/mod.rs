//! Mutating journeys: the [`Mutation`](self::mutation::Mutation) families
//! by name (`mutation`), one generator per family (`families`) over a
//! calibrated journey (`journey`), the cases of every family deduplicated
//! and interleaved (`generation`), and what makes two cases the same test
//! (`relevance`). The families that need more of the model than reordering
//! have a file each: `inject` (field injection), `interleave` (stale
//! validators between writes), `children` (children after their parent's
//! transition), `enumerate` (failed logins compared), `roles` (as a user of
//! a lesser role), `final_state` (a create naming an instance after its
//! final transition), `claims` (two creates claiming the same instance).

pub(crate) mod children;
mod claims;
mod enumerate;
mod families;
mod final_state;
pub(crate) mod generation;
mod inject;
mod interleave;
mod journey;
pub(crate) mod moves;
pub(crate) mod mutation;
pub(crate) mod relevance;
mod roles;

pub(crate) use generation::cases;
