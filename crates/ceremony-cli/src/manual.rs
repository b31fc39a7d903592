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
pub fn manpages(args: &ManpagesArgs, command: clap::Command) -> CliResult {
    files::public_dir(&args.out)?;
    let mut pages = Vec::new();
    collect(command, None, &mut pages)?;
    for (name, page) in &pages {
        files::write_atomic(&args.out.join(format!("{name}.1")), page, PUBLIC_MODE, args.force)?;
    }
    crate::outln!("wrote {} man pages into {}", pages.len(), args.out.display());
    Ok(())
}

/// Renders `command`'s page and its subcommands' pages; `parent` is the
/// command line above it ("keyholder" for `keyholder share`).
fn collect(command: clap::Command, parent: Option<&str>, pages: &mut Vec<(String, Vec<u8>)>) -> CliResult {
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
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).title(name.to_uppercase()).render(&mut page).map_err(|e| {
        // no hint: clap_mangen failing on our own command definition is a bug to report.
        CliError::general(format!("cannot render the man page for {name}: {e}"))
    })?;
    pages.push((name, page));
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        collect(sub.clone(), Some(&invocation), pages)?;
    }
    Ok(())
}
