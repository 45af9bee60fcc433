//! venomqa-learner: learns a model of an HTTP API from recorded traffic —
//! its actions (endpoint templates), the data flow between responses and
//! later requests, its resources and their state machines, and the observed
//! journeys — with no spec and no configuration.
//!
//! The smallest use: give [`learn`] a way to iterate the exchanges (in id
//! order; it takes two passes) and write the model.
//!
//! ```
//! use venomqa_learner::{learn, LearnOptions};
//! use venomqa_traffic::{Body, Exchange, Headers, Request, Response, SessionKey};
//!
//! let exchange = |id: u64, method: &str, url: &str, status: u16, body: &str| Exchange {
//!     id,
//!     session: SessionKey("x-session:s-1".into()),
//!     started_at: id,
//!     duration_ns: 1,
//!     client: None,
//!     request: Request {
//!         method: method.into(),
//!         url: url.into(),
//!         version: "HTTP/1.1".into(),
//!         headers: Headers::default(),
//!         body: Body::default(),
//!     },
//!     response: Some(Response {
//!         status,
//!         version: "HTTP/1.1".into(),
//!         headers: Headers::default(),
//!         body: Body::complete(body),
//!     }),
//!     error: None,
//! };
//! let traffic = vec![
//!     exchange(1, "POST", "/orders", 201, r#"{"id":"ord_k3j5x9a2","status":"created"}"#),
//!     exchange(2, "POST", "/orders/ord_k3j5x9a2/pay", 200, r#"{"id":"ord_k3j5x9a2","status":"paid"}"#),
//! ];
//! let learned = learn(|| traffic.clone().into_iter(), &LearnOptions::default()).unwrap();
//! let ids: Vec<&str> = learned.model.actions.iter().map(|a| a.id.as_str()).collect();
//! assert_eq!(ids, ["POST /orders", "POST /orders/{order_id}/pay"]);
//! assert!(learned.model.machine("orders").unwrap().has_transition(
//!     "created",
//!     "POST /orders/{order_id}/pay",
//!     "paid"
//! ));
//! let json = learned.model.to_json_pretty(); // what `venomqa learn --out model.json` writes
//! assert!(json.contains("\"format\": \"venomqa-model\""));
//! ```
//!
//! From a recorded store, [`learn_store`] does the same, reading and
//! decoding the store on a second thread.
//!
//! # Public API
//!
//! - Learning: [`learn`], [`learn_store`], [`LearnOptions`], [`Learned`],
//!   [`LearnSummary`], and the one error type [`Error`].
//! - The model (the JSON contract with the replayer): [`Model`] with its
//!   [`MODEL_FORMAT`] and [`MODEL_VERSION`]; [`Action`], [`PathParam`],
//!   [`ResponseShape`], [`BodyShape`], [`BodyKind`], [`Schema`],
//!   [`QueryParam`], [`ValueKind`]; [`Resource`], [`Ownership`]; [`Link`],
//!   [`LinkSource`], [`Location`]; [`StateMachine`], [`StateBasis`],
//!   [`State`], [`Transition`]; [`Journey`], [`Step`], [`Binding`],
//!   [`Consumption`]; [`Dependency`]; [`VolatileField`]; [`SourceInfo`]; [`Auth`],
//!   [`FailedLogin`]; [`UserRole`], [`Singleton`], [`Child`].
//! - Authentication rules, for models written before they carried
//!   [`Auth`]: [`guess_login`], [`guess_logout`].
//! - Views: [`render_text`], [`render_mermaid`], [`mermaid_machine`],
//!   [`render_dot`], [`render_openapi`].
//! - The naming rule the replayer shares: [`singular_word`].
//!
//! # Modules
//!
//! The pipeline, one module a concept: [`noise`](LearnOptions::ignore) drops
//! what says nothing about the API; `template` turns paths into action
//! templates, with `harvest` remembering what each session produced and
//! `naming` naming each parameter after what it holds; `shape` infers query
//! and body shapes; `flow` links request values to the responses (or create
//! requests) that produced them, weighing candidates by `evidence` and
//! looking across sessions in `cross`, reading values where `wire` says
//! they sit; `resource` groups actions by what they act on; `state` learns
//! each resource's state machine; `listing` reads list responses as reads
//! of the instances they show; `journey` keeps the sessions replayable;
//! `volatile` marks values that change on every call; `auth` finds which
//! actions log in, log out, sign up and refresh, and `login` where a login
//! carries its account and secrets and what a failed one looks like;
//! `access` learns owners, visibility and roles; `singleton` finds per-user
//! paths without an id and `child` things created under a parent; `learn`
//! runs the passes (`learn/templates`, `learn/observe`, `learn/assemble`);
//! `store` feeds them from a store on a reader thread; `model` is the JSON
//! contract with the replayer; `render` and `openapi` are views for people
//! and other tools.

#![warn(missing_docs)]

mod access;
mod action;
mod auth;
mod child;
mod cross;
mod error;
mod evidence;
mod flow;
mod focus;
mod harvest;
mod journey;
mod keys;
mod learn;
mod listing;
mod login;
mod model;
mod naming;
mod noise;
mod openapi;
mod render;
mod resource;
mod shape;
mod singleton;
mod stamp;
mod state;
mod store;
mod template;
mod value;
mod volatile;
mod wire;

pub use auth::{guess_login, guess_logout};
pub use error::Error;
pub use learn::{LearnOptions, LearnSummary, Learned};
pub use model::{
    Action, Auth, Binding, Child, Consumption, Dependency, FailedLogin, Journey, KeyAuth, Link,
    LinkSource, Location, Model, Ownership, PathParam, Resource, ResponseShape, Singleton,
    SourceInfo, State, StateBasis, StateMachine, Step, Transition, UserRole, VolatileField,
    MODEL_FORMAT, MODEL_VERSION,
};
pub use openapi::render_openapi;
pub use render::{mermaid_machine, render_dot, render_mermaid, render_text};
pub use resource::instance_object;
pub use shape::{BodyKind, BodyShape, QueryParam, Schema};
pub use stamp::{stamp_state, stamp_stem};
pub use store::{learn_store, learn_store_with_progress, LearnProgress};
pub use value::{singular_word, ValueKind};

use venomqa_traffic::Exchange;

/// Learns a model from recorded exchanges.
///
/// `exchanges` must give a fresh pass over the same exchanges, in id (time)
/// order, each time it is called: learning makes two streaming passes (path
/// templates need statistics over all paths before anything else can be
/// named) and never holds more than one exchange at a time.
///
/// Fails with a clear [`Error`] when there is nothing to learn from: no
/// exchanges, only upstream errors, or only ignored noise.
pub fn learn<I: Iterator<Item = Exchange>>(
    exchanges: impl Fn() -> I,
    options: &LearnOptions,
) -> Result<Learned, Error> {
    learn::learn_passes(|| exchanges().map(Ok), options)
}
