//! What can go wrong setting TLS up, each naming the file or step involved.

use std::path::PathBuf;

/// Why a certificate, key or TLS configuration could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A file holds no usable PEM item of the kind wanted.
    #[error("{}: {what}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is missing or wrong, and what the file should hold.
        what: String,
    },
    /// A certificate could not be made.
    #[error("cannot make a certificate for {subject}: {source}")]
    Issue {
        /// Whom it was for.
        subject: String,
        /// rcgen's reason.
        #[source]
        source: rcgen::Error,
    },
    /// rustls refused a certificate, key or configuration.
    #[error("{context}: {source}")]
    Rustls {
        /// What was being set up.
        context: String,
        /// rustls's reason.
        #[source]
        source: rustls::Error,
    },
}
