//! Text that came from outside (certificate subjects, payloads, the HSM's
//! messages, file contents quoted in errors) made safe for a terminal: a
//! crafted certificate or a hostile server must not clear the screen, move
//! the cursor or reorder what people read aloud (C1 controls such as U+009B,
//! bidirectional overrides such as U+202E). Such characters are shown
//! escaped, as `\u{202e}`.

/// Longest piece of outside text printed on one line (an error message, a URL
/// or status from a peer); longer ones are cut with a note (a 15 MB string in
/// a file or a server's answer must not come back as 15 MB on the terminal).
pub const MAX_MESSAGE: usize = 600;

fn is_unsafe(c: char, keep_lines: bool) -> bool {
    match c {
        '\n' | '\t' => !keep_lines,
        c if c.is_control() => true, // C0, DEL and C1
        // Bidirectional embeddings, overrides, isolates and marks.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}' => true,
        _ => false,
    }
}

fn escape(text: &str, keep_lines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe(c, keep_lines) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// One line of outside text, every control and bidi character escaped.
pub fn printable(text: &str) -> String {
    escape(text, false)
}

/// Output lines: like [`printable`] but keeping line breaks and tabs.
pub fn printable_lines(text: &str) -> String {
    escape(text, true)
}

/// Outside text for one line (an error message, a peer's URL or status):
/// escaped, and cut to [`MAX_MESSAGE`] characters.
pub fn capped(text: &str) -> String {
    let escaped = printable(text);
    match escaped.char_indices().nth(MAX_MESSAGE) {
        None => escaped,
        Some((cut, _)) => {
            format!("{}… ({} more bytes not shown)", &escaped[..cut], escaped.len() - cut)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_escaped_and_long_messages_cut() {
        assert_eq!(printable("CN=a\u{9b}2J\u{202e}b\nc"), "CN=a\\u{9b}2J\\u{202e}b\\u{a}c");
        assert_eq!(printable_lines("a\tb\nc\u{1b}[2J"), "a\tb\nc\\u{1b}[2J");
        let long = "x".repeat(15_000_000);
        let m = capped(&long);
        assert!(m.len() < 1024 && m.ends_with("(14999400 more bytes not shown)"), "{}", &m[m.len() - 40..]);
        assert_eq!(capped("plain"), "plain");
    }
}
