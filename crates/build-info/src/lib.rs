//! What a binary was built from, for `--version`: `0.1.0 (commit 1a2b3c4d5e6f,
//! rustc 1.95.0 (59807616e 2026-04-14))`. Two people comparing binaries
//! (release/build.sh) compare these too.
#![forbid(unsafe_code)]

/// The version line every binary prints: the release, the commit the sources
/// came from ("unknown" when built outside a checkout without a `COMMIT` file
/// or `HSM_CEREMONY_COMMIT`), and the compiler's own `rustc -V`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("HSM_CEREMONY_COMMIT"),
    ", ",
    env!("HSM_CEREMONY_RUSTC"),
    ")"
);
