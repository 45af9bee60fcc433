//! Which recorded actions log in and log out: what the model's `auth` says
//! (the learner infers it), or, for a model written before models carried
//! it, the learner's rules applied now. The configuration's `[auth]`
//! overrides either (see `plan`).

use std::borrow::Cow;

use venomqa_learner::{Auth, Model};

/// The model's authentication actions, inferred again when the model file
/// has none (an older model).
pub(crate) fn learned_auth(model: &Model) -> Cow<'_, Auth> {
    if model.auth.is_empty() {
        Cow::Owned(Auth::infer(model))
    } else {
        Cow::Borrowed(&model.auth)
    }
}
