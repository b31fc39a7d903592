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

/// The crates of the real keyholder build (normal and build dependencies), as
/// cargo resolves them.
fn keyholder_tree() -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "-p", "keyholder", "-e", "normal,build", "--prefix", "none", "--offline", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(tree.contains("sd-core") && tree.contains("rsa"), "unexpected tree:\n{tree}");
    tree
}

fn crate_names(tree: &str) -> Vec<&str> {
    tree.lines().filter_map(|l| l.split_whitespace().next()).collect()
}

#[test]
fn keyholder_has_no_networking_crate() {
    let tree = keyholder_tree();
    let crates = crate_names(&tree);
    let found: Vec<&&str> = NETWORK_CRATES.iter().filter(|n| crates.contains(n)).collect();
    assert!(found.is_empty(), "networking crates in keyholder's tree: {found:?}\n{tree}");
}

/// The code that forges SGX evidence under a test root lives in its own
/// crate, which only the emulator and the tests use: the offline tool cannot
/// carry it, whatever else a build enables.
#[test]
fn keyholder_carries_no_evidence_simulator() {
    let tree = keyholder_tree();
    assert!(crate_names(&tree).contains(&"sd-core"));
    assert!(!crate_names(&tree).contains(&"sgx-simulator"), "sgx-simulator in keyholder's tree:\n{tree}");
}

/// keyholder disables core dumps before reading anything: seen from outside
/// while it waits on its input (a FIFO nobody has written to yet).
#[test]
fn keyholder_runs_without_core_dumps() {
    let dir =
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("core-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("input.fifo");
    let _ = std::fs::remove_file(&fifo);
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyholder"))
        .arg("fingerprint")
        .arg(&fifo)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Opening the FIFO for writing blocks until keyholder opens it for reading,
    // so by then it is past its start-up hardening.
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    std::io::Write::write_all(&mut writer, b"not a certificate").unwrap();
    drop(writer);
    let status = child.wait().unwrap();
    let core = limits.lines().find(|l| l.starts_with("Max core file size")).unwrap();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], &["0", "0"], "{core}");
    assert_eq!(status.code(), Some(1), "garbage input is an error, not a crash");
}
