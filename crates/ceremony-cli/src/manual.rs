//! The manual that ships with the binaries, generated from the clap
//! definitions so it cannot drift from them: shell completions and man pages.

use std::path::PathBuf;

use clap_complete::Shell;

use crate::error::{CliError, CliResult};
use crate::files::{self, PUBLIC_MODE};

/// `completions SHELL`.
#[derive(clap::Args, Clone, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `manpages --out DIR`.
#[derive(clap::Args, Clone, Debug)]
pub struct ManpagesArgs {
    /// Folder to write the pages into (created if missing), e.g. /usr/local/share/man/man1.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace existing pages.
    #[arg(long)]
    pub force: bool,
}

/// Prints the completion script for `command` on stdout.
pub fn completions(args: &CompletionsArgs, mut command: clap::Command) -> CliResult {
    let name = command.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    use std::io::Write as _;
    std::io::stdout().lock().write_all(&script).map_err(|e| {
        CliError::general(format!("cannot write the completion script: {e}"))
            .hint("redirect it to a file: `keyholder completions bash > keyholder.bash`")
    })
}

/// Writes `NAME.1` and `NAME-SUBCOMMAND.1` for every subcommand (nested
/// ones too) into `--out`, each atomically.
pub fn manpages(args: &ManpagesArgs, command: clap::Command, examples: Examples) -> CliResult {
    files::public_dir(&args.out)?;
    let mut pages = Vec::new();
    collect(command, None, examples, &mut pages)?;
    for (name, page) in &pages {
        files::write_atomic(&args.out.join(format!("{name}.1")), page, PUBLIC_MODE, args.force)?;
    }
    crate::outln!("wrote {} man pages into {}", pages.len(), args.out.display());
    Ok(())
}

/// The EXAMPLES of every page, as a tool's `man-examples.txt` holds them: a
/// line `PAGE: what it does`, then the command line indented by four spaces;
/// `#` starts a comment.
pub type Examples = &'static str;

/// The examples of `page`: (what it does, command line) pairs.
fn examples_of(examples: Examples, page: &str) -> Vec<(&'static str, &'static str)> {
    let mut found = Vec::new();
    let mut current = None;
    for line in examples.lines() {
        if let Some(command) = line.strip_prefix("    ") {
            if let Some(what) = current.take() {
                found.push((what, command.trim()));
            }
        } else if !line.starts_with('#') {
            current = line.split_once(": ").filter(|(p, _)| *p == page).map(|(_, what)| what.trim());
        }
    }
    found
}

/// A page as clap_mangen renders it, with an EXAMPLES section before VERSION.
fn render(command: &clap::Command, name: &str, examples: &[(&str, &str)]) -> std::io::Result<Vec<u8>> {
    use clap_mangen::roff::{Roff, roman};
    let man = clap_mangen::Man::new(command.clone()).title(name.to_uppercase());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut page)?;
    }
    if command.get_subcommands().any(|s| !s.is_hide_set() && s.get_name() != "help") {
        man.render_subcommands_section(&mut page)?;
    }
    if command.get_after_long_help().is_some() || command.get_after_help().is_some() {
        man.render_extra_section(&mut page)?;
    }
    if !examples.is_empty() {
        let mut roff = Roff::default();
        roff.control("SH", ["EXAMPLES"]);
        for (what, command) in examples {
            roff.control("TP", []).text([roman(*what)]);
            roff.control("EX", []).text([roman(*command)]).control("EE", []);
        }
        roff.to_writer(&mut page)?;
    }
    if command.get_version().is_some() {
        man.render_version_section(&mut page)?;
    }
    Ok(page)
}

/// Renders `command`'s page and its subcommands' pages; `parent` is the
/// command line above it ("keyholder" for `keyholder share`).
fn collect(
    command: clap::Command,
    parent: Option<&str>,
    examples: Examples,
    pages: &mut Vec<(String, Vec<u8>)>,
) -> CliResult {
    let invocation = match parent {
        Some(p) => format!("{p} {}", command.get_name()),
        None => command.get_name().to_owned(),
    };
    // Each page is titled with its own full name, as `man keyholder-share`
    // expects, and its synopsis shows the whole command line.
    let name = invocation.replace(' ', "-");
    // clap's own `help` subcommand has no page: the pages are the help, so
    // no page may point to a `NAME-help(1)` that is not there.
    let command =
        command.display_name(name.clone()).bin_name(invocation.clone()).disable_help_subcommand(true);
    let page = render(&command, &name, &examples_of(examples, &name)).map_err(|e| {
        // no hint: rendering our own command definition failing is a bug to report.
        CliError::general(format!("cannot render the man page for {name}: {e}"))
    })?;
    pages.push((name, page));
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        collect(sub.clone(), Some(&invocation), examples, pages)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::examples_of;

    #[test]
    fn examples_are_found_by_page_and_keep_colons_in_their_text() {
        let text = "# a comment: not a page\ntool-a: First: with a colon\n    tool a --x\n\ntool-b: Other\n    tool b\ntool-a: Second\n    tool a --y\n";
        assert_eq!(
            examples_of(text, "tool-a"),
            [("First: with a colon", "tool a --x"), ("Second", "tool a --y")]
        );
        assert_eq!(examples_of(text, "tool-b"), [("Other", "tool b")]);
        assert!(examples_of(text, "tool-c").is_empty());
    }
}
