//! keyholder runs on air-gapped machines: no networking crate may be in its
//! dependency tree. This asks cargo for the tree of the real build.

use std::process::Command;

const NETWORK_CRATES: &[&str] = &[
    "hyper",
    "hyper-util",
    "reqwest",
    "ureq",
    "tokio",
    "rustls",
    "mio",
    "socket2",
    "h2",
    "axum",
    "axum-server",
    "tiny_http",
    "curl",
    "native-tls",
    "openssl",
    "async-std",
    "smol",
    "surf",
    "isahc",
    "attohttpc",
    "tungstenite",
];

#[test]
fn keyholder_has_no_networking_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "keyholder",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--offline",
            "--locked",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(
        crates.contains(&"sd-core") && crates.contains(&"rsa"),
        "unexpected tree:\n{tree}"
    );
    let found: Vec<&&str> = NETWORK_CRATES.iter().filter(|n| crates.contains(n)).collect();
    assert!(
        found.is_empty(),
        "networking crates in keyholder's tree: {found:?}\n{tree}"
    );
}
