//! Whether output for people is coloured: `--color auto|always|never`, and
//! in `auto` the conventions scripts and terminals use (`NO_COLOR`,
//! `CLICOLOR_FORCE`, `TERM=dumb`, stdout being a terminal). Decided once,
//! before any command runs.

use std::io::IsTerminal;
use std::sync::OnceLock;

/// The `--color` flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal that can show it, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always colour, even into a pipe or file.
    Always,
    /// Never colour.
    Never,
}

static ENABLED: OnceLock<bool> = OnceLock::new();

/// Decides for the whole process from the flag, the environment and stdout.
pub fn init(choice: ColorChoice) {
    let env = |name: &str| std::env::var(name).ok();
    let _ = ENABLED.set(decide(choice, std::io::stdout().is_terminal(), env));
}

/// Whether to colour what goes to stdout.
pub fn enabled() -> bool {
    ENABLED.get().copied().unwrap_or(false)
}

/// The rule: the flag wins; in `auto`, a non-empty `NO_COLOR` says no, a
/// `CLICOLOR_FORCE` other than `0` says yes, `TERM=dumb` says no, and
/// otherwise colour goes only to a terminal.
fn decide(choice: ColorChoice, terminal: bool, env: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("NO_COLOR") => false,
        ColorChoice::Auto if env("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") => {
            true
        }
        ColorChoice::Auto if env("TERM").as_deref() == Some("dumb") => false,
        ColorChoice::Auto => terminal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn the_flag_wins_over_the_environment() {
        assert!(decide(ColorChoice::Always, false, with(&[("NO_COLOR", "1")])));
        assert!(!decide(ColorChoice::Never, true, with(&[("CLICOLOR_FORCE", "1")])));
    }

    #[test]
    fn auto_follows_no_color_clicolor_force_term_and_the_terminal() {
        assert!(decide(ColorChoice::Auto, true, with(&[])));
        assert!(!decide(ColorChoice::Auto, false, with(&[])));
        assert!(!decide(ColorChoice::Auto, true, with(&[("NO_COLOR", "1")])));
        assert!(decide(ColorChoice::Auto, true, with(&[("NO_COLOR", "")])), "empty is unset");
        assert!(decide(ColorChoice::Auto, false, with(&[("CLICOLOR_FORCE", "1")])));
        assert!(!decide(ColorChoice::Auto, false, with(&[("CLICOLOR_FORCE", "0")])));
        assert!(!decide(ColorChoice::Auto, true, with(&[("TERM", "dumb")])));
        assert!(
            !decide(ColorChoice::Auto, true, with(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")])),
            "an explicit opt-out wins"
        );
    }
}
