//! Shared fixtures for the keyholder CLI tests: a scratch folder per test,
//! a runner for the real binary, and an SD file made with the core crate
//! (the emulator is another crate) for custodians made by `keyholder init`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use sd_core::attestation::{ExchangeKeyPolicy, ExchangeKeySource, Pins};
use sd_core::azure::enc_data::DomainSecret;
use sd_core::azure::sd_file::SecurityDomain;
use sd_core::bundle::Signer;
use sd_core::handoff::combiner::{Combiner, VerifiedCombiner};
use sd_core::handoff::recovery_request::RecoveryRequest;
use sd_core::pki::cert::{self, Certificate};
use sd_core::primitives::secret::SecretBytes;
use sd_core::{RsaPrivateKey, pki::private_key};

pub use ceremony_tests::{
    Cmd, combine_args, fails, init_here, listing, ok, refused_untouched, restore_blob_args, share_args,
    share_args_pinning,
};

pub const PASS: &str = "correct horse battery staple";

pub fn rng() -> getrandom::SysRng {
    getrandom::SysRng
}

/// A fresh, empty folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("keyholder-cli").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the real binary in `dir` with no terminal and no stdin.
pub fn keyholder(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyholder"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run keyholder")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Three custodians made once by `keyholder init` (3072-bit, encrypted keys),
/// their SD file, and the secrets in it.
pub struct Fixture {
    pub dir: PathBuf,
    pub names: Vec<&'static str>,
    pub secrets: Vec<(String, Vec<u8>)>,
}

pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = scratch(&format!("fixture-{}", std::process::id()));
        std::fs::write(dir.join("pw"), format!("{PASS}\n")).unwrap();
        let names = vec!["alice", "bob", "carol"];
        for n in &names {
            ok(keyholder(
                &dir,
                &["init", "--name", n, "--out", ".", "--public-out", ".", "--passphrase-file", "pw"],
            ));
        }
        let mut secrets = Vec::new();
        for (tag, len) in
            [("hsm_backup", 8180usize), ("base_enclave_backup", 869), ("partition_enclave_backup", 2945)]
        {
            let mut data = vec![0u8; len];
            getrandom::fill(&mut data).unwrap();
            secrets.push((tag.to_owned(), data));
        }
        let domain: Vec<DomainSecret> = secrets
            .iter()
            .map(|(t, d)| DomainSecret { tag: t.clone(), data: SecretBytes::from_slice(d) })
            .collect();
        ceremony_tests::write_sd_holding(&dir, &names, &domain);
        // An exchange key standing in for the recovering HSM's, attested by the
        // test platform whose root the folder holds (attestation-root.pem).
        ceremony_tests::install_exchange(&dir);
        // An operator key for recovery requests.
        let (op_key, op_cert) = keypair("operator");
        ceremony_tests::write_identity(&dir, "operator", &op_key, &op_cert);
        Fixture { dir, names, secrets }
    })
}

impl Fixture {
    /// Copies the fixture's files into a new scratch folder for one test.
    pub fn copy_to(&self, test: &str) -> PathBuf {
        let dir = scratch(test);
        for entry in std::fs::read_dir(&self.dir).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
        dir
    }

    /// Opens a restore blob with the exchange key and compares every plaintext.
    #[track_caller]
    pub fn assert_blob_restores(&self, dir: &Path, blob: &str) {
        let blob = sd_core::azure::restore_blob::RestoreBlob::parse(&std::fs::read(dir.join(blob)).unwrap())
            .unwrap();
        let key =
            private_key::from_pem(&std::fs::read_to_string(dir.join("exchange.key")).unwrap(), None).unwrap();
        let opened = blob.open(&key).unwrap();
        assert_eq!(opened.len(), self.secrets.len());
        for (o, (tag, data)) in opened.iter().zip(&self.secrets) {
            assert_eq!(&o.tag, tag);
            assert_eq!(o.data.expose(), &data[..], "{tag}");
        }
    }
}

pub fn load_cert(path: &Path) -> Certificate {
    Certificate::from_pem_or_der(&std::fs::read(path).unwrap()).unwrap()
}

pub fn keypair(name: &str) -> (RsaPrivateKey, Certificate) {
    let key = private_key::generate(&mut rng(), 2048).unwrap();
    // Valid from an hour ago: operator certificates are checked against the clock.
    let cert = cert::self_signed(&mut rng(), &key, name, sd_core::pki::cert::backdated(now()), 365).unwrap();
    (key, cert)
}

/// Seconds since the Unix epoch, as the binaries read the clock.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A recovery request for `sd_file` in `dir`, naming the combiner of
/// `combiner.json` there and the exchange key `exchange`, signed by the
/// fixture operator: what `uploader init-recovery` makes, through the same
/// core constructor. Returns the request's nonce.
pub fn write_request(dir: &Path, out: &str, sd_file: &str, exchange: &str) -> String {
    let combiner =
        Combiner::verify(&std::fs::read(dir.join("public/combiner.json")).unwrap(), now()).unwrap();
    let signed = sign_request(dir, sd_file, exchange, &combiner, now());
    std::fs::write(dir.join(out), &signed).unwrap();
    let payload: RecoveryRequest =
        serde_json::from_str(&ceremony_tests::bundle_payload(signed.as_bytes())).unwrap();
    payload.nonce
}

/// Exchange keys judged as the tools judge them with `--attestation-root attestation-root.pem` in `dir`.
pub fn test_policy(dir: &Path) -> ExchangeKeyPolicy {
    ExchangeKeyPolicy {
        pins: Pins::default().with_root(&std::fs::read(dir.join("attestation-root.pem")).unwrap()).unwrap(),
        ..ExchangeKeyPolicy::default()
    }
}

/// The fixture operator's request for `sd_file`, naming `combiner` and
/// `exchange`, as signed at time `at`.
pub fn sign_request(
    dir: &Path,
    sd_file: &str,
    exchange: &str,
    combiner: &VerifiedCombiner,
    at: u64,
) -> String {
    let sd = SecurityDomain::parse(&std::fs::read(dir.join(sd_file)).unwrap()).unwrap();
    let ex = load_cert(&dir.join(exchange));
    // Verified the way uploader init-recovery verifies it, under the test root.
    let ex = test_policy(dir)
        .verify(ExchangeKeySource::Certificate(&ex), ceremony_tests::TEST_HSM, now())
        .unwrap();
    let op_key =
        private_key::from_pem(&std::fs::read_to_string(dir.join("operator.key")).unwrap(), None).unwrap();
    let op_cert = load_cert(&dir.join("operator.cer"));
    let signer = Signer { key: &op_key, cert: &op_cert };
    RecoveryRequest::sign(&mut rng(), "https://127.0.0.1:8443", &ex, combiner, &sd, &signer, at).unwrap()
}

/// Where the shared test vectors are.
pub fn vectors() -> PathBuf {
    let dir = std::env::var_os("HSM_CEREMONY_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"));
    assert!(dir.join("azure-cli").is_dir(), "test vectors not found at {}", dir.display());
    dir
}
