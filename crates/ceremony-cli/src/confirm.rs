//! Typed confirmation on the terminal: for the moments when a person, not a
//! flag, must vouch for something (a fingerprint compared with the ceremony
//! record). With no terminal there is nobody to ask, so the answer is no.

use std::io::{BufRead, IsTerminal, Read, Write};

use crate::error::{CliError, CliResult};

/// Asks `question` on the terminal and succeeds only when the person types
/// `word` exactly. Without a terminal on stdin, fails with `no_terminal`.
pub fn typed(question: &str, word: &str, no_terminal: CliError) -> CliResult {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(no_terminal);
    }
    {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{question} Type {word:?} to continue: ");
        let _ = err.flush();
    }
    let mut line = String::new();
    stdin.lock().take(256).read_line(&mut line).map_err(|e| {
        CliError::general(format!("cannot read the answer from the terminal ({e})"))
            .hint("run the command again in a terminal")
    })?;
    if line.trim_end_matches(['\r', '\n']) == word {
        Ok(())
    } else {
        Err(CliError::general("not confirmed; nothing was done")
            .hint(format!("run the command again and type {word:?} once what is shown is checked")))
    }
}
