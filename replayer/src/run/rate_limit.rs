//! A target that limits its request rate answers `429 Too Many Requests`
//! (or `503` with `Retry-After`). Such an answer says nothing of the API's
//! logic, and an oracle that took it for a refusal would miss the bug the
//! request was sent to find (or, comparing it with the recording, take the
//! target for another API). So the client waits as long as the answer asks
//! and sends the request again, a few times at most; the run counts these
//! waits and says so. Requests of a burst are never sent again: sent later,
//! they would no longer be at once, and their answers stand as they are
//! (a refusal, which no oracle of a burst reports).

use std::time::{Duration, SystemTime};

/// Times one request is sent again after a rate-limited answer.
pub(crate) const RETRIES: u32 = 3;

/// The longest wait honoured: a `Retry-After` asking for more is cut to
/// this, so a run never sleeps for minutes on one request.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(10);

/// The wait when the answer names none, or one that cannot be read.
pub(crate) const DEFAULT_WAIT: Duration = Duration::from_secs(1);

/// How long to wait before sending again a request answered `status` with
/// `headers`, or `None` when the answer is not a rate limit.
pub(crate) fn wait_before_retry(status: u16, headers: &[(String, String)]) -> Option<Duration> {
    let retry_after = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
        .map(|(_, value)| value.trim());
    match (status, retry_after) {
        (429, _) | (503, Some(_)) => {}
        _ => return None,
    }
    Some(retry_after.and_then(asked_wait).unwrap_or(DEFAULT_WAIT).min(LONGEST_WAIT))
}

/// A `Retry-After` value: seconds, or an HTTP date (until then by our
/// clock; a date already past asks for no wait).
fn asked_wait(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry_after(value: &str) -> Vec<(String, String)> {
        vec![("Retry-After".to_string(), value.to_string())]
    }

    #[test]
    fn a_rate_limit_is_waited_out_as_it_asks_within_bounds() {
        assert_eq!(wait_before_retry(429, &retry_after("2")), Some(Duration::from_secs(2)));
        assert_eq!(wait_before_retry(429, &retry_after(" 0 ")), Some(Duration::ZERO));
        assert_eq!(wait_before_retry(429, &[]), Some(DEFAULT_WAIT));
        assert_eq!(wait_before_retry(503, &retry_after("3600")), Some(LONGEST_WAIT));
        assert_eq!(wait_before_retry(429, &retry_after("soon")), Some(DEFAULT_WAIT));
    }

    #[test]
    fn a_date_is_waited_for_by_our_clock() {
        let in_3s = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3));
        let wait = wait_before_retry(429, &retry_after(&in_3s)).unwrap();
        // The date has whole seconds (and a moment passes before it is
        // read): the wait is a little under 2 s to 3 s.
        assert!(wait > Duration::from_millis(1900) && wait <= Duration::from_secs(3), "{wait:?}");
        let past = retry_after("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(wait_before_retry(503, &past), Some(Duration::ZERO));
        let far = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
        assert_eq!(wait_before_retry(429, &retry_after(&far)), Some(LONGEST_WAIT));
    }

    #[test]
    fn other_answers_are_not_rate_limits() {
        assert_eq!(wait_before_retry(503, &[]), None, "a 503 without Retry-After is an outage");
        for status in [0, 200, 400, 401, 409, 500] {
            assert_eq!(wait_before_retry(status, &retry_after("1")), None, "{status}");
        }
    }
}
