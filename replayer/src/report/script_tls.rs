//! How a reproducer's curls trust an `https://` target: as `[target]`
//! told venomqa to, so a script reaches the target the run reached.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::shell::escape_double_quoted;
use crate::setup::config::Target;

/// What the script's curls trust of an `https://` target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ScriptTls {
    /// curl's own CA bundle.
    #[default]
    System,
    /// `[target] ca`: each curl gets `--cacert "$VENOMQA_CA"`, the variable
    /// defaulting to this file (an absolute path).
    Ca(PathBuf),
    /// `[target] insecure = true`: each curl gets `-k`.
    Insecure,
}

impl ScriptTls {
    /// What `target`'s `ca` and `insecure` say.
    pub fn for_target(target: &Target) -> ScriptTls {
        match (&target.ca, target.insecure) {
            (_, true) => ScriptTls::Insecure,
            (Some(ca), false) => ScriptTls::Ca(ca.clone()),
            (None, false) => ScriptTls::System,
        }
    }

    /// The curl options for a target at `base`, with a leading space;
    /// empty for plain `http://`.
    pub(super) fn curl_options(&self, base: &str) -> &'static str {
        match self {
            _ if !base.starts_with("https://") => "",
            ScriptTls::System => "",
            ScriptTls::Ca(_) => " --cacert \"$VENOMQA_CA\"",
            ScriptTls::Insecure => " -k",
        }
    }

    /// The lines after `TARGET=` that say why the curls trust what they
    /// do, and set what their options read.
    pub(super) fn write_setup(&self, s: &mut String, base: &str) {
        if !base.starts_with("https://") {
            return;
        }
        match self {
            ScriptTls::System => {}
            ScriptTls::Ca(ca) => {
                s.push_str(
                    "# The target's certificate is signed by the CA `[target] ca` names; set\n\
                     # VENOMQA_CA to that CA's PEM file where it lives on this machine.\n",
                );
                let default = escape_double_quoted(&ca.display().to_string());
                let _ = writeln!(s, "VENOMQA_CA=\"${{VENOMQA_CA:-{default}}}\"");
            }
            ScriptTls::Insecure => s.push_str(
                "# `[target] insecure = true`: venomqa did not check the target's TLS certificate\n\
                 # (a throwaway staging one), so neither do these curls (-k). Anyone between\n\
                 # here and the target could answer in its place.\n",
            ),
        }
    }
}
