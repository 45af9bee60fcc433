//! Which exchanges are noise: traffic that says nothing about the API's
//! behaviour (preflights, health probes, static files, test hooks) and would
//! only add actions the replayer should never mutate.

use regex::Regex;

/// Decides, by method and path, whether an exchange is left out and why.
///
/// The default rules are on unless [`crate::LearnOptions::default_noise`] is
/// false; the user's regexes are matched against `"METHOD /path"` (no query).
#[derive(Debug)]
pub(crate) struct NoiseRules<'a> {
    defaults: bool,
    user: &'a [Regex],
}

const STATIC_EXTENSIONS: [&str; 20] = [
    ".js", ".mjs", ".css", ".map", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".webp",
    ".avif", ".bmp", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".html", ".htm",
];

const STATIC_PREFIXES: [&str; 6] =
    ["/static/", "/assets/", "/public/", "/_next/", "/dist/", "/favicon"];

const HEALTH_PATHS: [&str; 12] = [
    "/health",
    "/healthz",
    "/healthcheck",
    "/health-check",
    "/_health",
    "/ready",
    "/readyz",
    "/live",
    "/livez",
    "/ping",
    "/status/health",
    "/actuator/health",
];

impl<'a> NoiseRules<'a> {
    pub(crate) fn new(defaults: bool, user: &'a [Regex]) -> Self {
        NoiseRules { defaults, user }
    }

    /// The reason an exchange is ignored, or `None` when it is kept.
    ///
    /// Reasons are stable words (`options`, `health-check`, `static-asset`,
    /// `test-hook`) or `ignore /REGEX/` for a user rule, because the summary
    /// counts by them.
    pub(crate) fn reason(&self, method: &str, path: &str) -> Option<String> {
        if self.defaults {
            if let Some(reason) = default_reason(method, path) {
                return Some(reason.to_string());
            }
        }
        if !self.user.is_empty() {
            let line = format!("{method} {path}");
            if let Some(rule) = self.user.iter().find(|re| re.is_match(&line)) {
                return Some(format!("ignore /{}/", rule.as_str()));
            }
        }
        None
    }
}

fn default_reason(method: &str, path: &str) -> Option<&'static str> {
    if method.eq_ignore_ascii_case("OPTIONS") {
        return Some("options");
    }
    // A forward proxy's record of a tunnel it passed through unread.
    if method.eq_ignore_ascii_case("CONNECT") {
        return Some("tunnel");
    }
    let lower = path.to_ascii_lowercase();
    let trimmed = lower.trim_end_matches('/');
    if HEALTH_PATHS.iter().any(|h| {
        trimmed == *h
            || trimmed.ends_with(h)
                && trimmed.len() > h.len()
                && is_prefix_like(&trimmed[..trimmed.len() - h.len()])
    }) {
        return Some("health-check");
    }
    if STATIC_PREFIXES.iter().any(|p| lower.starts_with(p))
        || STATIC_EXTENSIONS.iter().any(|e| lower.ends_with(e))
    {
        return Some("static-asset");
    }
    // `/__reset`, `/__admin/...`: conventionally hooks for tests and
    // operators; replaying them in the middle of a journey would wipe it.
    if lower.split('/').any(|segment| segment.starts_with("__")) {
        return Some("test-hook");
    }
    None
}

/// `/api`, `/v1`, `/api/v2`: a versioning prefix in front of a health path.
fn is_prefix_like(prefix: &str) -> bool {
    prefix.split('/').filter(|s| !s.is_empty()).all(|s| {
        s == "api"
            || s.len() <= 4
                && s.starts_with('v')
                && s[1..].bytes().all(|c| c.is_ascii_digit() || c == b'.')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_name_their_reason() {
        let rules = NoiseRules::new(true, &[]);
        assert_eq!(rules.reason("OPTIONS", "/orders").as_deref(), Some("options"));
        assert_eq!(rules.reason("CONNECT", "api.example.com:443").as_deref(), Some("tunnel"));
        assert_eq!(rules.reason("GET", "/health").as_deref(), Some("health-check"));
        assert_eq!(rules.reason("GET", "/api/v1/healthz").as_deref(), Some("health-check"));
        assert_eq!(rules.reason("GET", "/favicon.ico").as_deref(), Some("static-asset"));
        assert_eq!(rules.reason("GET", "/static/app.js").as_deref(), Some("static-asset"));
        assert_eq!(rules.reason("POST", "/__reset").as_deref(), Some("test-hook"));
        assert_eq!(rules.reason("GET", "/orders/health-insurance"), None);
        assert_eq!(rules.reason("GET", "/orders/7/health"), None);
    }

    #[test]
    fn user_rules_match_method_and_path() {
        let user = [Regex::new("^GET /metrics").unwrap()];
        let rules = NoiseRules::new(true, &user);
        assert_eq!(rules.reason("GET", "/metrics").as_deref(), Some("ignore /^GET /metrics/"));
        assert_eq!(rules.reason("POST", "/metrics"), None);
    }
}
