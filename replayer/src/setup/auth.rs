//! Which recorded actions log in and log out, when the configuration's
//! `[auth]` does not say: guessed from the model.

use std::collections::HashMap;

use venomqa_learner::{Location, Model};
use venomqa_traffic::is_secret_name;

/// The action whose answers authenticate the most requests.
pub(crate) fn guess_login(model: &Model) -> Option<String> {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for link in &model.links {
        let auth = match &link.to {
            Location::Bearer | Location::Cookie { .. } => true,
            Location::Header { name } => name == "authorization" || is_secret_name(name.as_bytes()),
            _ => false,
        };
        if auth {
            *counts.entry(link.producer.as_str()).or_default() += link.count;
        }
    }
    if let Some((id, _)) = counts.into_iter().max_by_key(|(id, n)| (*n, std::cmp::Reverse(*id))) {
        return Some(id.to_string());
    }
    model
        .actions
        .iter()
        .find(|a| {
            a.request.schema.as_ref().is_some_and(|s| {
                s.properties.keys().any(|k| k.to_ascii_lowercase().contains("password"))
            })
        })
        .map(|a| a.id.clone())
}

/// An action named like a logout.
pub(crate) fn guess_logout(model: &Model) -> Option<String> {
    model
        .actions
        .iter()
        .find(|a| {
            let last = a.template.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
            let words = ["logout", "log-out", "log_out", "signout", "sign-out", "sign_out"];
            words.contains(&last.as_str())
                || (a.method == "DELETE" && (last == "session" || last == "sessions"))
        })
        .map(|a| a.id.clone())
}
