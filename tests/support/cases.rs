//! The command line's pinned output: trycmd case files run against freshly
//! made fixtures.
//!
//! Case files (`tests/cmd/*.md` in each binary's crate, Markdown with `console` blocks) hold commands and
//! their whole expected output, stderr included. The fixtures they work on
//! (keys, certificates, SD files, bundles) are made anew by each test run,
//! since bundles expire and certificates are checked against the clock; so
//! cases run from a staged copy: every case gets its own copy of the
//! fixtures as `NAME.in/` (its working folder, which it may write into).
//! Values that differ per run are named variables in the case files:
//! fingerprints through trycmd's redactions, and placeholders such as
//! `[HSM_URL]` replaced in the staged copy, command lines included.
//!
//! `TRYCMD=overwrite cargo test …` rewrites the case files in the source
//! tree with what the tools print now (placeholders put back); review the
//! diff like code.

use std::path::{Path, PathBuf};

/// Case files, fixtures and names for one binary's cases.
pub struct Cases<'a> {
    /// The folder of case files in the source tree.
    pub source: PathBuf,
    /// A folder holding the fixtures every case starts from.
    pub fixtures: &'a Path,
    /// Placeholders replaced in the staged case files (command lines and output).
    pub placeholders: Vec<(&'static str, String)>,
    /// trycmd redactions: output text replaced by a name before comparing.
    pub redactions: Vec<(&'static str, String)>,
    /// The workspace binaries the cases may run.
    pub bins: &'a [&'a str],
}

impl Cases<'_> {
    /// Stages and runs every case; panics (failing the test) on any difference.
    pub fn run(&self, name: &str) {
        let stage = crate::scratch(&format!("cmd-cases-{name}"));
        let mut staged = Vec::new();
        for entry in std::fs::read_dir(&self.source).expect("case folder") {
            let path = entry.expect("case file").path();
            if path.extension().is_none_or(|e| e != "md") {
                continue;
            }
            let mut text = std::fs::read_to_string(&path).expect("read case");
            for (placeholder, value) in &self.placeholders {
                text = text.replace(placeholder, value);
            }
            let target = stage.join(path.file_name().expect("name"));
            std::fs::write(&target, text).expect("stage case");
            copy_dir(self.fixtures, &target.with_extension("in"));
            staged.push((path, target));
        }
        assert!(staged.len() > 1, "no case files in {}", self.source.display());
        let cases = trycmd::TestCases::new();
        for bin in self.bins {
            cases.register_bin(*bin, crate::bin(bin));
        }
        // What the machine running the tests has set must not change what the tools print.
        cases.env("RUST_BACKTRACE", "0").env("AZURE_ACCESS_TOKEN", "").env("COLUMNS", "100");
        for (var, value) in &self.redactions {
            cases.insert_var(var, value.clone()).expect("redaction");
        }
        cases.case(stage.join("*.md"));
        cases.run();
        if std::env::var_os("TRYCMD").is_some_and(|v| v == "overwrite") {
            for (source, target) in staged {
                let mut text = std::fs::read_to_string(&target).expect("read staged case");
                for (placeholder, value) in &self.placeholders {
                    text = text.replace(value.as_str(), placeholder);
                }
                std::fs::write(source, text).expect("write back case");
            }
        }
    }
}

/// Copies a folder of regular files (modes kept: key files stay 0600).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create case folder");
    for entry in std::fs::read_dir(from).expect("fixture folder") {
        let entry = entry.expect("fixture");
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy fixture");
        }
    }
}
