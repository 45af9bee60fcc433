//! Requests as templates and as sent: a recorded request becomes a
//! [`RequestTemplate`] (its literal values kept, everything secret or
//! session-bound left out), a [`Draft`] of it gets the live values of this
//! run, and a [`Reply`] is what came back, from which later drafts take
//! their values.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;
use venomqa_learner::{Action, Location};
use venomqa_traffic::{is_hop_by_hop, is_pseudonym, strip_bom, Exchange, PSEUDONYM_PREFIX};

/// Request headers never replayed as recorded besides the hop-by-hop ones
/// ([`is_hop_by_hop`]): framing headers (the client sets its own),
/// credentials and validators (bound live or not sent), the idempotency
/// key (made fresh per sequence), and the body's encoding (the store keeps
/// bodies decoded, and the replayer sends them so). Notes the store added
/// (`venomqa-decoded-from`) are not sent either.
const NOT_REPLAYED: &[&str] = &[
    "host",
    "content-length",
    "content-encoding",
    "trailer",
    "proxy-authorization",
    "accept-encoding",
    "authorization",
    "cookie",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "if-modified-since",
    "idempotency-key",
];

/// The scheme word of an `Authorization` value (`Token` of `Token X`);
/// empty for a bare credential.
fn scheme_of(value: &str) -> &str {
    value.trim_start().split_once(' ').map_or("", |(scheme, _)| scheme)
}

/// A path segment of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(String),
    /// A parameter and the value it had in the recording (used only when no
    /// binding gives a live one).
    Param {
        name: String,
        recorded: String,
    },
}

/// A request body as recorded.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum BodyTemplate {
    None,
    Json(Value),
    Form(Vec<(String, String)>),
    Raw(Vec<u8>),
}

impl BodyTemplate {
    /// Top-level scalar fields of a JSON or form body, as text.
    pub fn fields(&self) -> Vec<(String, String)> {
        match self {
            BodyTemplate::Json(Value::Object(map)) => map
                .iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k.clone(), s.clone())),
                    Value::Number(n) => Some((k.clone(), n.to_string())),
                    _ => None,
                })
                .collect(),
            BodyTemplate::Form(pairs) => pairs.clone(),
            _ => Vec::new(),
        }
    }
}

/// A recorded request of one action, ready to be drafted again.
#[derive(Clone, Debug)]
pub(crate) struct RequestTemplate {
    /// `POST /orders/{order_id}/pay`
    pub action: Arc<str>,
    pub method: Method,
    pub segments: Vec<Segment>,
    pub query: Vec<(String, String)>,
    /// Literal headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// The recorded `Idempotency-Key`, made fresh (consistently) per sequence.
    pub idempotency_key: Option<String>,
    pub content_type: Option<String>,
    pub body: BodyTemplate,
    /// The `Authorization` scheme a token is sent in (`Bearer`, `Token`;
    /// empty for a bare token): as recorded, else the model's, else `Bearer`.
    pub credential_scheme: Option<String>,
    /// Answered by venomqa itself, never sent: the stand-in login of a
    /// user's own key (`setup::keys`).
    pub local: bool,
}

impl RequestTemplate {
    /// The template of `action` from one of its recorded exchanges.
    pub fn from_exchange(action: &Action, exchange: &Exchange) -> RequestTemplate {
        let request = &exchange.request;
        let path = request.path();
        let recorded: Vec<&str> = path.split('/').collect();
        let template: Vec<&str> = action.template.split('/').collect();
        let segments = template
            .iter()
            .enumerate()
            .map(|(i, seg)| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param {
                    name: name.to_string(),
                    recorded: recorded.get(i).map(|s| s.to_string()).unwrap_or_default(),
                },
                None => Segment::Literal(seg.to_string()),
            })
            .collect();
        let query = request
            .query()
            .map(|q| {
                q.split('&')
                    .filter(|p| !p.is_empty())
                    .map(|p| match p.split_once('=') {
                        Some((k, v)) => (k.to_string(), v.to_string()),
                        None => (p.to_string(), String::new()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut headers = Vec::new();
        let mut idempotency_key = None;
        let mut content_type = None;
        let mut credential_scheme = None;
        for h in request.headers.iter() {
            let name = h.name.to_ascii_lowercase();
            let value = h.value_str().into_owned();
            if name == "authorization" {
                credential_scheme = Some(scheme_of(&value).to_string());
            } else if name == "idempotency-key" {
                idempotency_key = Some(value);
            } else if name == "content-type" {
                content_type = Some(value);
            } else if !NOT_REPLAYED.contains(&name.as_str())
                && !name.starts_with("venomqa-")
                && !is_hop_by_hop(&name)
                && !is_pseudonym(value.as_bytes())
            {
                headers.push((name, value));
            }
        }
        let bytes = &request.body.bytes;
        let body = if bytes.is_empty() || request.body.truncated {
            BodyTemplate::None
        } else if let Ok(json) = serde_json::from_slice::<Value>(strip_bom(bytes)) {
            BodyTemplate::Json(json)
        } else if content_type.as_deref().is_some_and(|c| c.contains("x-www-form-urlencoded")) {
            let text = String::from_utf8_lossy(bytes);
            BodyTemplate::Form(
                text.split('&')
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        let (k, v) = p.split_once('=').unwrap_or((p, ""));
                        (k.to_string(), v.to_string())
                    })
                    .collect(),
            )
        } else {
            BodyTemplate::Raw(bytes.clone())
        };
        RequestTemplate {
            action: Arc::from(action.id.as_str()),
            method: Method::from_bytes(action.method.as_bytes()).unwrap_or(Method::GET),
            segments,
            query,
            headers,
            idempotency_key,
            content_type,
            body,
            credential_scheme,
            local: false,
        }
    }

    /// A template of `action` with nothing recorded: a probe read. Its
    /// token, if it gets one, is sent in `scheme` (the model's).
    pub fn bare(action: &Action, scheme: Option<&str>) -> RequestTemplate {
        let segments = action
            .template
            .split('/')
            .map(|seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param { name: name.to_string(), recorded: String::new() },
                None => Segment::Literal(seg.to_string()),
            })
            .collect();
        RequestTemplate {
            action: Arc::from(action.id.as_str()),
            method: Method::from_bytes(action.method.as_bytes()).unwrap_or(Method::GET),
            segments,
            query: Vec::new(),
            headers: Vec::new(),
            idempotency_key: None,
            content_type: None,
            body: BodyTemplate::None,
            credential_scheme: scheme.filter(|s| !s.starts_with("cookie:")).map(str::to_string),
            local: false,
        }
    }

    /// Whether `other` sends the same values: path, query, headers and body
    /// as recorded (what bindings put in aside).
    pub fn same_values(&self, other: &RequestTemplate) -> bool {
        self.method == other.method
            && self.segments == other.segments
            && self.query == other.query
            && self.headers == other.headers
            && self.body == other.body
    }

    /// The names of its path parameters.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param { name, .. } => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// This template with `other`'s recorded value at `from` as its own
    /// recorded value at `to` (a body or query field): a live list item is
    /// then picked by the value `other` named. `None` when either is missing.
    pub fn recording_as(
        &self,
        to: &Location,
        other: &RequestTemplate,
        from: &Location,
    ) -> Option<RequestTemplate> {
        let value = match (&other.body, from) {
            (BodyTemplate::Json(json), Location::Body { pointer }) => {
                json.pointer(pointer)?.clone()
            }
            _ => Value::String(other.draft().get(from)?),
        };
        let mut draft = self.draft();
        if draft.get(to).is_none() || !draft.set(to, &value) {
            return None;
        }
        let mut out = self.clone();
        out.body = draft.body;
        out.query = draft.query;
        Some(out)
    }

    /// A draft with the recorded values.
    pub fn draft(&self) -> Draft {
        Draft {
            params: self
                .segments
                .iter()
                .filter_map(|s| match s {
                    Segment::Param { name, recorded } => Some((name.clone(), recorded.clone())),
                    Segment::Literal(_) => None,
                })
                .collect(),
            query: self.query.clone(),
            headers: self.headers.clone(),
            body: self.body.clone(),
            bearer: None,
            cookies: Vec::new(),
            linked: Vec::new(),
        }
    }
}

/// One request being prepared: the template's values, then the live ones.
#[derive(Clone, Debug)]
pub(crate) struct Draft {
    pub params: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: BodyTemplate,
    pub bearer: Option<String>,
    pub cookies: Vec<(String, String)>,
    /// The values [`Draft::link`] put in, as text.
    pub linked: Vec<String>,
}

impl Draft {
    /// [`Draft::set`] for a value a link took from an earlier answer,
    /// remembered so a reproducer captures it live.
    pub fn link(&mut self, to: &Location, value: &Value) -> bool {
        let placed = self.set(to, value);
        if placed {
            self.linked.push(text_of(value));
        }
        placed
    }

    /// Puts a live value where `to` says; false when there is no such place.
    pub fn set(&mut self, to: &Location, value: &Value) -> bool {
        match to {
            Location::Path { name } => match self.params.iter_mut().find(|(n, _)| n == name) {
                Some((_, v)) => {
                    *v = text_of(value);
                    true
                }
                None => false,
            },
            Location::Query { key } => {
                let text = encode(&text_of(value));
                match self.query.iter_mut().find(|(k, _)| k == key) {
                    Some((_, v)) => *v = text,
                    None => self.query.push((key.clone(), text)),
                }
                true
            }
            Location::Header { name } => {
                self.set_header(name, text_of(value));
                true
            }
            Location::Bearer => {
                self.bearer = Some(text_of(value));
                true
            }
            Location::Cookie { name } => {
                self.cookies.retain(|(n, _)| n != name);
                self.cookies.push((name.clone(), text_of(value)));
                true
            }
            Location::Body { pointer } => match &mut self.body {
                BodyTemplate::Json(json) => set_pointer(json, pointer, value.clone()),
                BodyTemplate::Form(pairs) => {
                    let key = pointer.trim_start_matches('/');
                    match pairs.iter_mut().find(|(k, _)| k == key) {
                        Some((_, v)) => {
                            *v = encode(&text_of(value));
                            true
                        }
                        None => false,
                    }
                }
                _ => false,
            },
            Location::LocationId => false,
        }
    }

    /// The value at `to` as it stands (the recorded one until set), for the
    /// places a list item can be looked up by: path, query and body (JSON or form).
    pub fn get(&self, to: &Location) -> Option<String> {
        match to {
            Location::Path { name } => {
                self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
            }
            Location::Query { key } => {
                self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
            }
            Location::Body { pointer } => match &self.body {
                BodyTemplate::Json(json) => json.pointer(pointer).map(text_of),
                BodyTemplate::Form(pairs) => {
                    let key = pointer.trim_start_matches('/');
                    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| form_decode(v))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// Sets (replaces) a header.
    pub fn set_header(&mut self, name: &str, value: String) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_ascii_lowercase(), value));
    }

    /// The path with its parameters filled, percent-encoding what a segment cannot hold.
    pub fn path(&self, template: &RequestTemplate) -> String {
        let mut path = String::with_capacity(64);
        let mut first = true;
        for seg in &template.segments {
            if !first {
                path.push('/');
            }
            first = false;
            match seg {
                Segment::Literal(s) => path.push_str(s),
                Segment::Param { name, .. } => {
                    let value = self.params.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v);
                    path.push_str(&encode(value));
                }
            }
        }
        if path.is_empty() {
            path.push('/');
        }
        path
    }

    /// The full URL on `base`.
    pub fn url(&self, base: &str, template: &RequestTemplate) -> String {
        let mut url = String::with_capacity(base.len() + 64);
        url.push_str(base);
        url.push_str(&self.path(template));
        for (i, (k, v)) in self.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(k);
            if !v.is_empty() {
                url.push('=');
                url.push_str(v);
            }
        }
        url
    }

    /// Every header as sent, credentials included.
    pub fn wire_headers(&self, template: &RequestTemplate) -> Vec<(String, String)> {
        let mut headers = self.headers.clone();
        if let Some(token) = &self.bearer {
            let value = match template.credential_scheme.as_deref().unwrap_or("Bearer") {
                "" => token.clone(),
                scheme => format!("{scheme} {token}"),
            };
            headers.push(("authorization".into(), value));
        }
        if !self.cookies.is_empty() {
            let cookie: Vec<String> =
                self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
            headers.push(("cookie".into(), cookie.join("; ")));
        }
        if let (Some(ct), false) = (&template.content_type, matches!(self.body, BodyTemplate::None))
        {
            headers.push(("content-type".into(), ct.clone()));
        }
        headers
    }

    /// The body as sent.
    pub fn body_bytes(&self) -> Option<Vec<u8>> {
        match &self.body {
            BodyTemplate::None => None,
            BodyTemplate::Json(v) => serde_json::to_vec(v).ok(),
            BodyTemplate::Form(pairs) => Some(
                pairs
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&")
                    .into_bytes(),
            ),
            BodyTemplate::Raw(b) => Some(b.clone()),
        }
    }

    /// Appends a marker to the body's top-level text, so a write that
    /// repeats a recorded value still visibly changes the resource. Fields
    /// in `skip`, and short lowercase words (`email`, `en`: likely one of a
    /// few values the server checks), stay as they are.
    pub fn mark_strings(&mut self, marker: &str, skip: &[String]) {
        if let BodyTemplate::Json(Value::Object(map)) = &mut self.body {
            for (key, value) in map.iter_mut() {
                let Value::String(s) = value else { continue };
                if !skip.iter().any(|k| k == key) && !looks_like_a_code(s) {
                    s.push_str(marker);
                }
            }
        }
    }

    /// Replaces recorded pseudonyms (secrets the recording hid, or a part
    /// of a value made fresh per sequence, such as an account signed up in a
    /// journey) by fresh values; `fresh` maps one pseudonym to the same value
    /// every time.
    pub fn refresh_pseudonyms(&mut self, fresh: &mut impl FnMut(&str) -> String) {
        for (_, v) in self.params.iter_mut().chain(self.query.iter_mut()) {
            refresh_text(v, fresh);
        }
        match &mut self.body {
            BodyTemplate::Json(json) => refresh_json(json, fresh),
            BodyTemplate::Form(pairs) => {
                for (_, v) in pairs.iter_mut() {
                    refresh_text(v, fresh);
                }
            }
            _ => {}
        }
    }
}

fn refresh_json(value: &mut Value, fresh: &mut impl FnMut(&str) -> String) {
    match value {
        Value::String(s) => refresh_text(s, fresh),
        Value::Array(items) => items.iter_mut().for_each(|v| refresh_json(v, fresh)),
        Value::Object(map) => map.values_mut().for_each(|v| refresh_json(v, fresh)),
        _ => {}
    }
}

/// Replaces every pseudonym in `text`, whole or embedded, by its fresh value.
fn refresh_text(text: &mut String, fresh: &mut impl FnMut(&str) -> String) {
    let pseudonym_len = PSEUDONYM_PREFIX.len() + 16;
    let mut from = 0;
    while let Some(at) = text[from..].find(PSEUDONYM_PREFIX).map(|i| from + i) {
        let end = at + pseudonym_len;
        match text.get(at..end).filter(|p| is_pseudonym(p.as_bytes())) {
            Some(p) => {
                let value = fresh(p);
                text.replace_range(at..end, &value);
                from = at + value.len();
            }
            None => from = at + PSEUDONYM_PREFIX.len(),
        }
    }
}

/// A response as received.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub status: u16,
    /// Names lower-case.
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub json: Option<Value>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The value at `from` in this response, as the producing end of a
    /// link; where `from` picks an item of a list by its position
    /// (`/books/6/slug`), the item holding the `recorded` value there wins
    /// over the position: the live list may hold the recording's items in
    /// another order, or fewer of them.
    pub fn extract_like(&self, from: &Location, recorded: Option<&str>) -> Option<Value> {
        let by_item = || {
            let (Location::Body { pointer }, Some(recorded)) = (from, recorded) else {
                return None;
            };
            let (list, rest) = split_at_index(pointer)?;
            let items = self.json.as_ref()?.pointer(list)?.as_array()?;
            items.iter().filter_map(|item| item.pointer(rest)).find(|v| text_of(v) == recorded)
        };
        by_item().cloned().or_else(|| self.extract(from))
    }

    /// The value at `from` in this response, as the producing end of a link.
    pub fn extract(&self, from: &Location) -> Option<Value> {
        match from {
            Location::Body { pointer } => {
                self.json.as_ref()?.pointer(pointer).filter(|v| !v.is_null()).cloned()
            }
            Location::Header { name } => self.header(name).map(|v| Value::String(v.to_string())),
            Location::Cookie { name } => self
                .headers
                .iter()
                .filter(|(n, _)| n == "set-cookie")
                .filter_map(|(_, v)| v.split(';').next()?.trim().split_once('='))
                .find(|(n, _)| n == name)
                .map(|(_, v)| Value::String(v.to_string())),
            Location::LocationId => {
                let location = self.header("location")?;
                let path = location.split(['?', '#']).next().unwrap_or(location);
                let last = path.trim_end_matches('/').rsplit('/').next()?;
                (!last.is_empty()).then(|| Value::String(last.to_string()))
            }
            Location::Path { .. } | Location::Query { .. } | Location::Bearer => None,
        }
    }
}

/// A short lowercase word (`email`, `en`, `dark_mode`): more likely one of
/// a few values a server accepts than free text.
fn looks_like_a_code(text: &str) -> bool {
    (1..=12).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A pointer into a list item (`/books/6/slug`) split around its first
/// index: the list's pointer (`/books`) and the item's (`/slug`).
fn split_at_index(pointer: &str) -> Option<(&str, &str)> {
    let mut at = 0;
    for segment in pointer.split('/').skip(1) {
        let start = at + 1;
        let end = start + segment.len();
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            return Some((&pointer[..at], &pointer[end..]));
        }
        at = end;
    }
    None
}

/// The text of a JSON scalar, as a path segment or header holds it.
pub(crate) fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Percent-encodes what cannot stand in a path segment, query or form
/// value; keeps what pseudonyms and accounts are made of (`~`, `:`, `@`).
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' | b'@' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Sets `pointer` in `json` when its parent exists; false otherwise.
fn set_pointer(json: &mut Value, pointer: &str, value: Value) -> bool {
    let Some((parent, last)) = pointer.rsplit_once('/') else { return false };
    let last = last.replace("~1", "/").replace("~0", "~");
    let target = if parent.is_empty() { Some(json) } else { json.pointer_mut(parent) };
    match target {
        Some(Value::Object(map)) => {
            map.insert(last, value);
            true
        }
        Some(Value::Array(items)) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items[i] = value;
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// A form or query value decoded: `+` is a space, `%XX` a byte.
pub(crate) fn form_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_set_nested_values_and_refuse_missing_parents() {
        let mut v = json!({"a": {"b": 1}, "items": [1, 2]});
        assert!(set_pointer(&mut v, "/a/b", json!("x")));
        assert!(set_pointer(&mut v, "/items/1", json!(3)));
        assert!(!set_pointer(&mut v, "/missing/b", json!(1)));
        assert_eq!(v, json!({"a": {"b": "x"}, "items": [1, 3]}));
    }

    #[test]
    fn markers_go_to_text_never_to_short_code_like_words() {
        let body =
            serde_json::json!({"bio": "Reads a lot", "notify_by": "email", "lang": "en", "n": 3});
        let mut draft = Draft {
            params: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            body: BodyTemplate::Json(body),
            bearer: None,
            cookies: Vec::new(),
            linked: Vec::new(),
        };
        draft.mark_strings(" [venomqa 1]", &[]);
        let BodyTemplate::Json(marked) = &draft.body else { panic!("json") };
        assert_eq!(marked["bio"], "Reads a lot [venomqa 1]");
        assert_eq!(
            (&marked["notify_by"], &marked["lang"]),
            (&serde_json::json!("email"), &serde_json::json!("en"))
        );
    }

    #[test]
    fn list_pointers_split_at_their_first_index() {
        assert_eq!(split_at_index("/books/6/slug"), Some(("/books", "/slug")));
        assert_eq!(split_at_index("/0/id"), Some(("", "/id")));
        assert_eq!(split_at_index("/data/items/12"), Some(("/data/items", "")));
        assert_eq!(split_at_index("/member/id"), None);
    }

    #[test]
    fn a_list_item_is_found_by_its_recorded_value_before_its_position() {
        let json = serde_json::json!({"books": [{"slug": "seeded"}, {"slug": "kindred"}]});
        let reply =
            Reply { status: 200, headers: Vec::new(), body: String::new(), json: Some(json) };
        let from = Location::Body { pointer: "/books/6/slug".into() };
        let found = reply.extract_like(&from, Some("kindred"));
        assert_eq!(found, Some(serde_json::json!("kindred")));
        // Not in the list: the position decides, and here there is none.
        assert_eq!(reply.extract_like(&from, Some("gone")), None);
        let first = Location::Body { pointer: "/books/0/slug".into() };
        assert_eq!(reply.extract_like(&first, Some("gone")), Some(serde_json::json!("seeded")));
    }

    #[test]
    fn path_values_are_percent_encoded() {
        assert_eq!(encode("ord_1"), "ord_1");
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
    }
}
