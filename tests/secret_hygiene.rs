//! Runs the whole drill (both recovery modes) and searches every file it left
//! — transcript, logs, bundles, SD file, restore blob, report — for the secrets
//! of the ceremony: the master key, every share, every passphrase, and every
//! private key's secret parts, each as raw bytes, hex, base64 and base64url.
//! None may appear. The only places secrets may live are the key files
//! themselves (encrypted), the drill's passphrase folder, and the emulated
//! HSMs' own state (an HSM holds its domain).

use std::path::{Path, PathBuf};
use std::process::Command;

use base64_forms::forms;
use ceremony_tests::*;
use rsa::traits::PrivateKeyParts;
use sd_core::azure::sd_file::SecurityDomain;
use sd_core::pki::private_key;

mod base64_forms {
    /// The byte strings under which `secret` could show up in a text file.
    pub fn forms(secret: &[u8]) -> Vec<Vec<u8>> {
        let mut v = vec![
            secret.to_vec(),
            sd_core::primitives::hex::hex_lower(secret).into_bytes(),
            sd_core::primitives::hex::hex_lower(secret).to_uppercase().into_bytes(),
        ];
        let url = sd_core::primitives::b64::url_encode(secret);
        let std = sd_core::primitives::b64::std_encode(secret);
        // Drop the last 4 characters: their bits depend on what follows.
        v.push(url.as_bytes()[..url.len().saturating_sub(4)].to_vec());
        v.push(
            std.trim_end_matches('=').as_bytes()[..std.trim_end_matches('=').len().saturating_sub(4)]
                .to_vec(),
        );
        v
    }
}

fn files_below(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_below(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn drill_and_search(test: &str, extra: &[&str]) -> usize {
    let dir = scratch(test);
    let keep = dir.join("drill");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ceremony-scripts/drill.sh");
    let o = Command::new("bash")
        .arg(&script)
        .args(["--keep", &keep.display().to_string()])
        .args(extra)
        .env("HSM_CEREMONY_BIN_DIR", bin_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "drill failed:\n{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("DRILL PASSED"), "{stdout}");

    // Collect the secrets from the kept artifacts.
    let sd = SecurityDomain::parse(&std::fs::read(keep.join("sd.json")).unwrap()).unwrap();
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();
    let mut shares = Vec::new();
    for e in std::fs::read_dir(keep.join("secrets")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        let pass = std::fs::read_to_string(&p).unwrap().trim_end().to_owned();
        secrets.push((format!("passphrase of {name}"), pass.clone().into_bytes()));
        // Each key holder's private folder: keys/NAME/NAME.key.
        let key_path = keep.join("keys").join(&name).join(format!("{name}.key"));
        if !key_path.exists() {
            continue; // the combiner key is destroyed after use
        }
        let key = private_key::from_pem(&std::fs::read_to_string(&key_path).unwrap(), Some(pass.as_bytes()))
            .unwrap();
        secrets.push((format!("private exponent of {name}"), key.d().to_be_bytes_trimmed_vartime().to_vec()));
        for (i, p) in key.primes().iter().enumerate() {
            secrets.push((format!("prime {i} of {name}"), p.to_be_bytes_trimmed_vartime().to_vec()));
        }
        if name.starts_with("custodian") {
            let share = sd.open_share(&key, None).unwrap();
            secrets.push((format!("share of {name}"), share.share.to_bytes().expose().to_vec()));
            shares.push(share);
        }
    }
    // Every custodian's key was found (and the operator's): none was skipped.
    assert_eq!(shares.len(), sd.shares().len(), "a custodian key was not found under keys/");
    assert!(
        secrets.iter().any(|(w, _)| w == "private exponent of operator"),
        "the operator key was not found"
    );
    let sd_core::azure::quorum::Recovered { master, secrets: domain, .. } = sd.recover(&shares).unwrap();
    secrets.push(("master key".into(), master.expose().to_vec()));
    for s in &domain {
        // EncData plaintexts: a 48-byte window of each is enough to spot a leak.
        secrets.push((format!("EncData {}", s.tag), s.data.expose()[..48.min(s.data.len())].to_vec()));
    }

    let mut files = Vec::new();
    files_below(&keep, &mut files);
    let searched: Vec<PathBuf> = files
        .into_iter()
        .filter(|p| {
            let rel = p.strip_prefix(&keep).unwrap().to_string_lossy().into_owned();
            let name = p.file_name().unwrap().to_string_lossy();
            !(name.ends_with(".key")
                || rel.starts_with("secrets/")
                || name == "state.json"
                || name == "tls.key")
        })
        .collect();
    assert!(searched.iter().any(|p| p.ends_with("transcript.txt")));
    assert!(searched.iter().any(|p| p.ends_with("hsm-recovery.log")));
    let mut checks = 0;
    for file in &searched {
        let data = std::fs::read(file).unwrap();
        for (what, secret) in &secrets {
            for form in forms(secret) {
                assert!(
                    form.len() < 8 || !data.windows(form.len()).any(|w| w == &form[..]),
                    "{what} appears in {}",
                    file.display()
                );
                checks += 1;
            }
        }
    }
    checks
}

#[test]
fn no_secret_in_any_drill_output_distributed() {
    let n = drill_and_search("hygiene-distributed", &[]);
    println!("secret hygiene (distributed drill): {n} secret/file/form checks, no leak");
}

#[test]
fn no_secret_in_any_drill_output_one_laptop() {
    let n = drill_and_search("hygiene-one-laptop", &["--one-laptop", "--custodians", "4", "--quorum", "3"]);
    println!("secret hygiene (one-laptop drill): {n} secret/file/form checks, no leak");
}
