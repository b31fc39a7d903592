//! Every refusal the tools build says what to do next: each `CliError`
//! constructed in keyholder, uploader and the code they share
//! (ceremony-cli) carries a `hint`, directly or on the variable it is bound
//! to, or stands under a `// no hint: WHY` comment. Those exceptions are a
//! short list, and this test prints it.

use std::path::{Path, PathBuf};

/// The crates whose errors reach a person at a ceremony.
const CRATES: [&str; 3] = ["keyholder", "uploader", "ceremony-cli"];

/// At most this many errors may go without a hint.
const MOST_EXCEPTIONS: usize = 15;

/// A `CliError` construction, where it is, and what follows it.
struct Construction {
    place: String,
    hinted: bool,
    exception: Option<String>,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The end (exclusive) of the parenthesised text opening just before `from`.
fn closing(text: &[u8], from: usize) -> usize {
    let mut depth = 1;
    let mut i = from;
    while depth > 0 && i < text.len() {
        match text[i] {
            b'(' => depth += 1,
            b')' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    i
}

/// True when the method chain starting at `from` calls `.hint(`.
fn chain_has_hint(text: &str, mut from: usize) -> bool {
    let bytes = text.as_bytes();
    loop {
        let rest = &text[from..];
        let trimmed = rest.trim_start();
        let Some(call) = trimmed.strip_prefix('.') else { return false };
        let name: String = call.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !call[name.len()..].starts_with('(') {
            return false;
        }
        if name == "hint" {
            return true;
        }
        let open = from + (rest.len() - trimmed.len()) + 1 + name.len() + 1;
        from = closing(bytes, open);
    }
}

fn constructions(file: &Path) -> Vec<Construction> {
    let source = std::fs::read_to_string(file).unwrap();
    // Unit tests build errors to test them.
    let text = source.split("#[cfg(test)]").next().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for needle in ["CliError::general(", "CliError::file("] {
        let mut at = 0;
        while let Some(i) = text[at..].find(needle).map(|i| i + at) {
            at = i + needle.len();
            let line = text[..i].matches('\n').count();
            let end = closing(text.as_bytes(), at);
            let mut hinted = chain_has_hint(text, end);
            // `let err = CliError::…;` (or a match of them) then `err.hint(…)` a few lines on.
            let binding = lines[line.saturating_sub(3)..=line]
                .iter()
                .rev()
                .find_map(|l| l.trim_start().strip_prefix("let ").and_then(|l| l.split(" =").next()));
            if let Some(name) = binding {
                let name = name.trim_start_matches("mut ");
                hinted |= lines[line..lines.len().min(line + 16)]
                    .iter()
                    .any(|l| l.contains(&format!("{name}.hint(")));
            }
            let exception = lines[line.saturating_sub(3)..=line]
                .iter()
                .find_map(|l| l.split_once("// no hint: ").map(|(_, why)| why.trim().to_owned()));
            let place = format!("{}:{}", file.display(), line + 1);
            found.push(Construction { place, hinted, exception });
        }
    }
    found
}

#[test]
fn every_refusal_carries_a_hint_or_says_why_not() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in CRATES {
        rust_files(&root.join("crates").join(krate).join("src"), &mut files);
    }
    files.sort();
    let all: Vec<Construction> = files.iter().flat_map(|f| constructions(f)).collect();
    assert!(all.len() > 100, "the scan found the constructions ({})", all.len());
    let bare: Vec<&str> =
        all.iter().filter(|c| !c.hinted && c.exception.is_none()).map(|c| c.place.as_str()).collect();
    assert!(bare.is_empty(), "errors without a hint or a `// no hint: WHY` comment:\n{}", bare.join("\n"));
    let exceptions: Vec<String> = all
        .iter()
        .filter_map(|c| c.exception.as_ref().filter(|_| !c.hinted).map(|why| format!("{}: {why}", c.place)))
        .collect();
    println!("errors without a hint, and why:\n{}", exceptions.join("\n"));
    assert!(
        exceptions.len() <= MOST_EXCEPTIONS,
        "{} errors go without a hint (at most {MOST_EXCEPTIONS}):\n{}",
        exceptions.len(),
        exceptions.join("\n")
    );
}
