//! What a run trusts of an `https://` target (`[target] ca` and
//! `insecure`), and a refused certificate told as what it is, with the
//! setting that fixes it, instead of as a refused connection.

use venomqa_tls::ClientTrust;

use crate::error::Error;

/// The TLS config the run's HTTP clients are given: `trust`'s
/// certificates, HTTP/1.1 (reqwest is built without HTTP/2).
pub(crate) fn client_tls(trust: &ClientTrust) -> Result<rustls::ClientConfig, Error> {
    let config = trust
        .client_config(&[b"http/1.1"])
        .map_err(|err| Error::Setup(format!("[target] ca: {err}")))?;
    Ok(std::sync::Arc::unwrap_or_clone(config))
}

/// What settles a refused certificate, given what the run trusted.
pub(crate) fn fix(trust: &ClientTrust) -> String {
    match &trust.extra_ca {
        Some(ca) => format!(
            "[target] ca ({}) is not the CA that signed it, or the certificate is not for this \
             name: point `ca` at the right CA, or set `insecure = true` for a throwaway staging \
             certificate",
            ca.display()
        ),
        None => "set [target] ca to the PEM file of the CA that signed it (a private staging \
                 CA), or `insecure = true` for a throwaway staging certificate"
            .to_owned(),
    }
}
