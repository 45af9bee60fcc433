//! Authentication: which actions sign up, log in, log out and refresh a
//! credential, and which login fields are secrets.
//!
//! Everything here is read off a finished model (its actions, resources and
//! links), so the same rules answer for a freshly learned model and for an
//! older model file that has no `auth` section: the replayer calls
//! [`guess_login`] and [`guess_logout`] itself in that case.
//!
//! The rules, each one a name or a data-flow fact the recording shows:
//! - **login**: the action whose responses fed the most credentials into
//!   later requests (a bearer token, a cookie, an `Authorization`-like
//!   header); with no such link, the first action whose request has a
//!   password field.
//! - **logout**: an action whose last path segment says so (`/logout`,
//!   `/sign-out`, ...), a `DELETE` of a `session`/`token` path or of the
//!   login's own path, or a token revocation (`POST /oauth/revoke`).
//! - **sign-up**: a `POST` other than the login whose request has a password
//!   field and that creates something: named like `/signup` or `/register`,
//!   else the create action of a resource (`POST /users`).
//! - **refresh**: an action other than the login with `refresh` in its path
//!   that yields a credential (feeds one into later requests, or answers a
//!   token-like field).
//! - **credential fields**: the login request's body fields named like a
//!   secret (the traffic crate's rule: `password`, `secret`, `token`,
//!   `api_key`, ...) or `pin`.
//!
//! What only the exchanges show (where a nested or form login carries its
//! account and secrets, the scheme as sent, failed 2xx logins) is gathered
//! while learning by `login`, which completes this [`Auth`].

use std::collections::BTreeMap;

use venomqa_traffic::is_secret_name;

use crate::model::{Action, Auth, Location, Model};

impl Auth {
    /// Infers every part of the authentication from a model's actions,
    /// resources and links.
    pub fn infer(model: &Model) -> Auth {
        let login = guess_login(model);
        let login_action = login.as_deref().and_then(|id| model.action(id));
        Auth {
            sign_up: guess_sign_up(model, login.as_deref()),
            refresh: guess_refresh(model, login.as_deref()),
            credential_fields: login_action.map(credential_fields).unwrap_or_default(),
            logout: guess_logout(model),
            login,
            ..Auth::default()
        }
    }

    /// Whether no part of the authentication was found.
    pub fn is_empty(&self) -> bool {
        *self == Auth::default()
    }
}

/// The action that logs in: the one whose answers authenticate the most
/// requests (ties go to the smaller id), else the first action whose request
/// has a password field.
///
/// Public so the replayer can ask it of a model written before models
/// carried an `auth` section.
pub fn guess_login(model: &Model) -> Option<String> {
    let mut fed: BTreeMap<&str, u64> = BTreeMap::new();
    for link in model.links.iter().filter(|l| is_credential_location(&l.to)) {
        *fed.entry(link.producer.as_str()).or_default() += link.count;
    }
    // The map iterates in id order and `max_by_key` keeps the last maximum:
    // reverse the ids in the key so the smallest id wins a tie.
    let most_fed = fed.into_iter().max_by_key(|(id, n)| (*n, std::cmp::Reverse(*id)));
    if let Some((id, _)) = most_fed {
        return Some(id.to_string());
    }
    model.actions.iter().find(|a| has_password_field(a)).map(|a| a.id.clone())
}

/// The action that logs out: its last path segment is `logout`, `log-out`,
/// `log_out`, `signout`, `sign-out` or `sign_out`; or it is a `DELETE` of
/// `.../session(s)`, `.../token(s)` or of the login's own path (`POST
/// /session` logs in, `DELETE /session` out); or a `POST` or `DELETE` of
/// `.../revoke` (OAuth2's token revocation) naming no instance (`POST
/// /api-keys/{key_id}/revoke` revokes a key, not the caller's session); or
/// a `DELETE` of the caller's own session by a literal name: a word like
/// `current`, `me` or `self` under `.../session(s)` or `.../token(s)`, or
/// any literal under the login's path (`POST /v1/sessions` logs in,
/// `DELETE /v1/sessions/current` out). `DELETE /sessions/{session_id}`
/// ends one session chosen by id, maybe another device's: not a logout.
///
/// Public so the replayer can ask it of a model written before models
/// carried an `auth` section.
pub fn guess_logout(model: &Model) -> Option<String> {
    const WORDS: [&str; 6] = ["logout", "log-out", "log_out", "signout", "sign-out", "sign_out"];
    const DELETED: [&str; 4] = ["session", "sessions", "token", "tokens"];
    let login_template =
        guess_login(model).and_then(|id| model.action(&id).map(|a| a.template.clone()));
    model
        .actions
        .iter()
        .find(|a| {
            let last = last_segment(a);
            let deletes_login = a.method == "DELETE"
                && (DELETED.contains(&last.as_str())
                    || Some(&a.template) == login_template.as_ref()
                    || deletes_own_session(&a.template, login_template.as_deref()));
            let revokes_own = last == "revoke"
                && matches!(a.method.as_str(), "POST" | "DELETE")
                && !a.template.contains('{');
            WORDS.contains(&last.as_str()) || deletes_login || revokes_own
        })
        .map(|a| a.id.clone())
}

/// A template ending in a literal that names the caller's own session:
/// `.../sessions/current` (or `me`, `self`, `mine`) and likewise under
/// `session`, `token` or `tokens`, or any literal segment right under the
/// login's own path.
fn deletes_own_session(template: &str, login_template: Option<&str>) -> bool {
    const OWN: [&str; 4] = ["current", "me", "self", "mine"];
    const HOLDERS: [&str; 4] = ["session", "sessions", "token", "tokens"];
    let Some((parent, last)) = template.rsplit_once('/') else { return false };
    if last.is_empty() || last.contains('{') {
        return false;
    }
    let holder = parent.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
    let own_word = OWN.contains(&last.to_ascii_lowercase().as_str());
    (own_word && HOLDERS.contains(&holder.as_str())) || login_template == Some(parent)
}

/// A `POST` other than the login, with a password field, that creates
/// something: named as a sign-up first, else a resource's create.
fn guess_sign_up(model: &Model, login: Option<&str>) -> Option<String> {
    const WORDS: [&str; 6] =
        ["signup", "sign-up", "sign_up", "register", "registration", "registrations"];
    let candidates: Vec<&Action> = model
        .actions
        .iter()
        .filter(|a| a.method == "POST" && Some(a.id.as_str()) != login && has_password_field(a))
        .collect();
    let named = candidates.iter().find(|a| WORDS.contains(&last_segment(a).as_str()));
    let creates = || {
        candidates
            .iter()
            .find(|a| model.resources.iter().any(|r| r.create.as_deref() == Some(a.id.as_str())))
    };
    named.or_else(creates).map(|a| a.id.clone())
}

/// An action other than the login with `refresh` in a path segment that
/// yields a credential.
fn guess_refresh(model: &Model, login: Option<&str>) -> Option<String> {
    model
        .actions
        .iter()
        .filter(|a| Some(a.id.as_str()) != login)
        .filter(|a| a.template.split('/').any(|s| s.to_ascii_lowercase().contains("refresh")))
        .find(|a| feeds_credentials(model, a) || answers_secret(a))
        .map(|a| a.id.clone())
}

/// The login's request body fields named like a secret, sorted.
fn credential_fields(login: &Action) -> Vec<String> {
    let Some(schema) = &login.request.schema else { return Vec::new() };
    schema
        .properties
        .keys()
        .filter(|k| is_secret_name(k.as_bytes()) || k.eq_ignore_ascii_case("pin"))
        .cloned()
        .collect()
}

/// Where a request carries a credential: the bearer token, a cookie, or a
/// header named `authorization` or like a secret.
fn is_credential_location(to: &Location) -> bool {
    match to {
        Location::Bearer | Location::Cookie { .. } => true,
        Location::Header { name } => name == "authorization" || is_secret_name(name.as_bytes()),
        _ => false,
    }
}

/// Whether the action's responses fed a credential into a later request.
fn feeds_credentials(model: &Model, action: &Action) -> bool {
    model.links.iter().any(|l| l.producer == action.id && is_credential_location(&l.to))
}

/// Whether a 2xx response body has a top-level field named like a secret.
fn answers_secret(action: &Action) -> bool {
    action
        .responses
        .iter()
        .filter(|(status, _)| (200..300).contains(*status))
        .filter_map(|(_, r)| r.body.schema.as_ref())
        .any(|s| s.properties.keys().any(|k| is_secret_name(k.as_bytes())))
}

/// Whether the request body has a field whose name contains `password`.
fn has_password_field(action: &Action) -> bool {
    action
        .request
        .schema
        .as_ref()
        .is_some_and(|s| s.properties.keys().any(|k| k.to_ascii_lowercase().contains("password")))
}

/// The template's last segment, lower-case (`logout` of `/auth/logout`).
fn last_segment(action: &Action) -> String {
    action.template.rsplit('/').next().unwrap_or("").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{Link, Ownership, Resource, ResponseShape, SourceInfo};
    use crate::shape::{BodyKind, BodyShape, Schema};

    fn body(fields: &[&str]) -> BodyShape {
        if fields.is_empty() {
            return BodyShape::default();
        }
        let properties = fields.iter().map(|f| (f.to_string(), Schema::default())).collect();
        BodyShape {
            kind: BodyKind::Json,
            schema: Some(Schema { properties, ..Schema::default() }),
            ..BodyShape::default()
        }
    }

    fn action(id: &str, request: &[&str]) -> Action {
        let (method, template) = id.split_once(' ').unwrap();
        Action {
            id: id.into(),
            method: method.into(),
            template: template.into(),
            params: Vec::new(),
            query: BTreeMap::new(),
            request: body(request),
            responses: BTreeMap::new(),
            headers: Vec::new(),
            needs_auth: false,
            auth: None,
            count: 1,
            example: 1,
        }
    }

    fn answering(mut action: Action, status: u16, fields: &[&str]) -> Action {
        action.responses.insert(status, ResponseShape { count: 1, body: body(fields) });
        action
    }

    fn bearer_from(producer: &str, consumer: &str, count: u64) -> Link {
        Link {
            consumer: consumer.into(),
            to: Location::Bearer,
            producer: producer.into(),
            status: 200,
            from: Location::Body { pointer: "/token".into() },
            count,
            from_request: false,
            cross_session: false,
        }
    }

    fn created_by(name: &str, create: &str) -> Resource {
        Resource {
            name: name.into(),
            collection: format!("/{name}"),
            id_param: "id".into(),
            parent: None,
            create: Some(create.into()),
            id_pointer: None,
            read: Vec::new(),
            update: Vec::new(),
            delete: Vec::new(),
            other: Vec::new(),
            ownership: Ownership::default(),
        }
    }

    fn model(actions: Vec<Action>, resources: Vec<Resource>, links: Vec<Link>) -> Model {
        let mut actions = actions;
        actions.sort_by(|a, b| (&a.template, &a.method).cmp(&(&b.template, &b.method)));
        Model {
            format: crate::MODEL_FORMAT.into(),
            version: crate::MODEL_VERSION,
            source: SourceInfo::default(),
            actions,
            resources,
            links,
            machines: Vec::new(),
            journeys: Vec::new(),
            volatile: Vec::new(),
            auth: Auth::default(),
            roles: Vec::new(),
            singletons: Vec::new(),
            children: Vec::new(),
        }
    }

    #[test]
    fn the_login_is_the_action_that_fed_the_most_credentials() {
        let m = model(
            vec![
                action("POST /login", &["username", "password"]),
                action("POST /auth/token", &["client_id"]),
                action("GET /orders", &[]),
            ],
            Vec::new(),
            vec![
                bearer_from("POST /login", "GET /orders", 2),
                bearer_from("POST /auth/token", "GET /orders", 5),
            ],
        );
        assert_eq!(guess_login(&m).as_deref(), Some("POST /auth/token"));
    }

    #[test]
    fn a_tie_in_credentials_fed_goes_to_the_smaller_id() {
        let m = model(
            vec![action("POST /b/login", &[]), action("POST /a/login", &[]), action("GET /x", &[])],
            Vec::new(),
            vec![
                bearer_from("POST /b/login", "GET /x", 3),
                bearer_from("POST /a/login", "GET /x", 3),
            ],
        );
        assert_eq!(guess_login(&m).as_deref(), Some("POST /a/login"));
    }

    #[test]
    fn with_no_credential_link_the_login_is_found_by_its_password_field() {
        let m = model(
            vec![action("GET /health", &[]), action("POST /session/new", &["email", "Password"])],
            Vec::new(),
            Vec::new(),
        );
        let auth = Auth::infer(&m);
        assert_eq!(auth.login.as_deref(), Some("POST /session/new"));
        assert_eq!(auth.credential_fields, ["Password"]);
    }

    #[test]
    fn credential_fields_are_the_login_fields_named_like_secrets() {
        let m = model(
            vec![action("POST /login", &["username", "password", "api_key", "pin", "remember"])],
            Vec::new(),
            Vec::new(),
        );
        assert_eq!(Auth::infer(&m).credential_fields, ["api_key", "password", "pin"]);
    }

    #[test]
    fn a_delete_of_sessions_is_a_logout_and_a_read_of_it_is_not() {
        let m = model(
            vec![action("GET /sessions", &[]), action("DELETE /sessions", &[])],
            Vec::new(),
            Vec::new(),
        );
        assert_eq!(guess_logout(&m).as_deref(), Some("DELETE /sessions"));
        let reads_only = model(vec![action("GET /sessions", &[])], Vec::new(), Vec::new());
        assert_eq!(guess_logout(&reads_only), None);
    }

    #[test]
    fn a_logout_is_found_by_its_last_segment_in_any_spelling() {
        for id in ["POST /logout", "POST /auth/Sign-Out", "GET /users/log_out"] {
            let m = model(vec![action(id, &[])], Vec::new(), Vec::new());
            assert_eq!(guess_logout(&m).as_deref(), Some(id));
        }
        let m = model(vec![action("POST /logout/notes", &[])], Vec::new(), Vec::new());
        assert_eq!(guess_logout(&m), None, "logout must be the last segment");
    }

    #[test]
    fn a_token_revocation_or_a_delete_of_the_login_path_is_a_logout() {
        for id in ["POST /api/v2/auth/revoke", "POST /oauth/revoke", "DELETE /api/token"] {
            let m = model(vec![action(id, &[])], Vec::new(), Vec::new());
            assert_eq!(guess_logout(&m).as_deref(), Some(id));
        }
        let login = action("POST /auth", &["username", "password"]);
        let m = model(vec![login, action("DELETE /auth", &[])], Vec::new(), Vec::new());
        assert_eq!(guess_logout(&m).as_deref(), Some("DELETE /auth"));
        for not_ours in [
            "POST /api-keys/{key_id}/revoke",
            "GET /oauth/revoke",
            "DELETE /sessions/{session_id}",
            "DELETE /users/me",
            "DELETE /api/tokens/{token_id}/current",
        ] {
            let m = model(vec![action(not_ours, &[])], Vec::new(), Vec::new());
            assert_eq!(guess_logout(&m), None, "{not_ours} revokes no session of the caller's");
        }
    }

    #[test]
    fn a_delete_of_the_callers_own_session_by_name_is_a_logout() {
        for id in ["DELETE /v1/sessions/current", "DELETE /api/Token/self", "DELETE /session/me"] {
            let m = model(vec![action(id, &[])], Vec::new(), Vec::new());
            assert_eq!(guess_logout(&m).as_deref(), Some(id));
        }
        // Any literal right under the login's own path.
        let login = action("POST /v1/auth", &["email", "password"]);
        let m = model(vec![login, action("DELETE /v1/auth/session", &[])], Vec::new(), Vec::new());
        assert_eq!(guess_logout(&m).as_deref(), Some("DELETE /v1/auth/session"));
        // A literal under another path is no logout, nor a read of the own session.
        let login = action("POST /v1/auth", &["email", "password"]);
        let m = model(
            vec![
                login,
                action("DELETE /v1/carts/current", &[]),
                action("GET /v1/sessions/current", &[]),
            ],
            Vec::new(),
            Vec::new(),
        );
        assert_eq!(guess_logout(&m), None);
    }

    #[test]
    fn the_sign_up_is_a_create_with_a_password_distinct_from_the_login() {
        let m = model(
            vec![
                action("POST /login", &["username", "password"]),
                action("POST /users", &["username", "password"]),
                action("POST /me/password", &["old_password", "new_password"]),
                action("GET /me", &[]),
            ],
            vec![created_by("users", "POST /users")],
            vec![bearer_from("POST /login", "GET /me", 4)],
        );
        let auth = Auth::infer(&m);
        assert_eq!(auth.login.as_deref(), Some("POST /login"));
        assert_eq!(auth.sign_up.as_deref(), Some("POST /users"));
    }

    #[test]
    fn a_sign_up_by_name_wins_over_a_create_and_needs_a_password() {
        let m = model(
            vec![
                action("POST /accounts", &["name", "password"]),
                action("POST /register", &["email", "password"]),
                action("POST /signup", &["email"]),
            ],
            vec![created_by("accounts", "POST /accounts")],
            vec![bearer_from("POST /token", "GET /me", 1)],
        );
        assert_eq!(Auth::infer(&m).sign_up.as_deref(), Some("POST /register"));
    }

    #[test]
    fn the_login_is_never_its_own_sign_up() {
        let m = model(
            vec![action("POST /users", &["username", "password"])],
            vec![created_by("users", "POST /users")],
            Vec::new(),
        );
        let auth = Auth::infer(&m);
        assert_eq!(auth.login.as_deref(), Some("POST /users"));
        assert_eq!(auth.sign_up, None);
    }

    #[test]
    fn a_refresh_is_named_so_and_yields_a_credential() {
        let by_link = model(
            vec![action("POST /login", &["password"]), action("POST /auth/refresh", &[])],
            Vec::new(),
            vec![
                bearer_from("POST /login", "GET /x", 9),
                bearer_from("POST /auth/refresh", "GET /x", 1),
            ],
        );
        assert_eq!(Auth::infer(&by_link).refresh.as_deref(), Some("POST /auth/refresh"));

        let by_answer =
            answering(action("POST /token/refresh", &["refresh_token"]), 200, &["access_token"]);
        let m =
            model(vec![action("POST /login", &["password"]), by_answer], Vec::new(), Vec::new());
        assert_eq!(Auth::infer(&m).refresh.as_deref(), Some("POST /token/refresh"));

        let yields_nothing = answering(action("POST /feeds/refresh", &[]), 200, &["items"]);
        let m = model(vec![yields_nothing], Vec::new(), Vec::new());
        assert_eq!(Auth::infer(&m).refresh, None);
    }

    #[test]
    fn an_api_without_authentication_has_an_empty_auth() {
        let m = model(
            vec![action("GET /orders", &[]), action("POST /orders", &["sku"])],
            vec![created_by("orders", "POST /orders")],
            Vec::new(),
        );
        let auth = Auth::infer(&m);
        assert!(auth.is_empty(), "{auth:?}");
    }

    #[test]
    fn a_model_written_without_an_auth_section_still_loads() {
        let mut m = model(vec![action("POST /logout", &[])], Vec::new(), Vec::new());
        m.auth = Auth::infer(&m);
        let mut json: serde_json::Value = serde_json::from_str(&m.to_json_pretty()).unwrap();
        assert_eq!(json["auth"]["logout"], "POST /logout");
        json.as_object_mut().unwrap().remove("auth");
        let old = Model::from_json(&json.to_string()).unwrap();
        assert!(old.auth.is_empty());
    }
}
