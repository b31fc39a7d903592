//! Helpers for the end-to-end tests: the workspace's real binaries, scratch
//! folders, and emulator processes that are stopped when the test ends.

pub mod cases;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

use sgx_simulator::{EnclaveClaims, SimulatedPlatform, evidence_extension};
use std::time::{Duration, Instant};

/// The folder holding the workspace's binaries: the test executable is
/// `target/<profile>/deps/<name>`, the binaries are in `target/<profile>`.
/// `cargo test --workspace` builds them (each binary crate has an integration
/// test, which makes cargo build its binary); tests never run cargo themselves.
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("current exe");
        exe.parent().and_then(Path::parent).expect("target dir").to_path_buf()
    })
}

/// Path of one of the binaries.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(p.is_file(), "{} was not built: run `cargo test --workspace`", p.display());
    p
}

/// A fresh, empty folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let target = bin_dir().parent().expect("target folder");
    let dir = target.join("tmp").join("ceremony-e2e").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch folder");
    dir
}

/// Copies the folder `from` into `to` (created), sub-folders too, keeping
/// each file's mode: a fresh copy of a fixture for one test.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's folder");
    for entry in std::fs::read_dir(from).expect("read the fixture folder") {
        let entry = entry.expect("fixture entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a fixture file");
        }
    }
}

/// Starts a binary in `dir` with `stdin`; its output piped when `capture`, else discarded.
pub fn start(dir: &Path, name: &str, args: &[&str], stdin: Stdio, capture: bool) -> Child {
    let output = || if capture { Stdio::piped() } else { Stdio::null() };
    Command::new(bin(name))
        .args(args)
        .current_dir(dir)
        .stdin(stdin)
        .stdout(output())
        .stderr(output())
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"))
}

/// Runs a binary in `dir` with no terminal.
pub fn run(dir: &Path, name: &str, args: &[&str]) -> Output {
    command(dir, name, args).output().unwrap_or_else(|e| panic!("run {name}: {e}"))
}

/// [`run`] with the tool's clock set to `now` (`HSM_CEREMONY_NOW`), as a
/// rehearsal years ahead sets it: no sleeping, no change to the machine's clock.
pub fn run_at(now: u64, dir: &Path, name: &str, args: &[&str]) -> Output {
    command(dir, name, args)
        .env("HSM_CEREMONY_NOW", now.to_string())
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"))
}

fn command(dir: &Path, name: &str, args: &[&str]) -> Command {
    let mut c = Command::new(bin(name));
    c.args(args).current_dir(dir).stdin(Stdio::null());
    c
}

/// Asserts success; returns stdout.
#[track_caller]
pub fn ok(o: Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "expected success\nstdout: {out}\nstderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// Asserts exit status 1 without a panic, and that stderr holds every needle; returns stderr.
#[track_caller]
pub fn fails(o: Output, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(
        o.status.code(),
        Some(1),
        "expected exit 1\nstdout: {}\nstderr: {err}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
    }
    err
}

/// The files in a folder, sorted (to prove nothing was left behind).
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The HSM name every emulator in the tests has (its default).
pub const TEST_HSM: &str = "emulated-hsm";

/// One simulated SGX platform for the whole test process: every emulator a
/// test starts, and every exchange key a fixture makes, is attested under its
/// root, which each test folder holds as `attestation-root.pem`.
pub fn test_platform() -> &'static SimulatedPlatform {
    static P: OnceLock<SimulatedPlatform> = OnceLock::new();
    P.get_or_init(|| {
        SimulatedPlatform::generate(
            &mut getrandom::SysRng,
            "hsm-ceremony test root (NOT Intel)",
            1_767_225_600,
            3650,
        )
        .expect("simulated platform")
    })
}

/// Writes the test platform's root to `dir/attestation-root.pem`.
pub fn install_attestation_root(dir: &Path) {
    std::fs::write(dir.join("attestation-root.pem"), test_platform().root_pem().expect("root"))
        .expect("write root");
}

/// An exchange key attested by the test platform for the HSM `name`.
pub fn attested_exchange(name: &str) -> (sd_core::RsaPrivateKey, sd_core::pki::cert::Certificate) {
    let key = sd_core::pki::private_key::generate(&mut getrandom::SysRng, 3072).expect("key");
    let spki = sd_core::pki::cert::spki_der(&sd_core::RsaPublicKey::from(&key)).expect("spki");
    let evidence = test_platform().evidence(&spki, &EnclaveClaims::default()).expect("evidence");
    let ext = evidence_extension(&evidence).expect("extension");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let cert = sd_core::pki::cert::exchange_certificate(
        &mut getrandom::SysRng,
        &key,
        name,
        vec![ext],
        now - 3600,
        365,
    )
    .expect("exchange certificate");
    (key, cert)
}

/// Makes `dir` a recovering HSM's stand-in: an exchange key attested for
/// [`TEST_HSM`] as `exchange.pem` (as Azure serves it), its private half as
/// `exchange.key` (plain PKCS#8, to open restore blobs with), and the test
/// root beside them.
pub fn install_exchange(dir: &Path) {
    let (key, cert) = attested_exchange(TEST_HSM);
    install_attestation_root(dir);
    std::fs::write(dir.join("exchange.pem"), cert.to_pem_azure()).expect("write exchange.pem");
    write_plain_key(&dir.join("exchange.key"), &key);
}

/// Writes `key` to `path` as unencrypted PKCS#8 PEM.
pub fn write_plain_key(path: &Path, key: &sd_core::RsaPrivateKey) {
    let pem = sd_core::pki::private_key::to_plain_pem(key).expect("key PEM");
    std::fs::write(path, pem.as_bytes()).expect("write key");
}

/// Writes an identity as the tools lay it out: `dir/NAME.cer` (PEM) and
/// `dir/NAME.key` (plain PKCS#8).
pub fn write_identity(
    dir: &Path,
    name: &str,
    key: &sd_core::RsaPrivateKey,
    cert: &sd_core::pki::cert::Certificate,
) {
    std::fs::write(dir.join(format!("{name}.cer")), cert.to_pem()).expect("write certificate");
    write_plain_key(&dir.join(format!("{name}.key")), key);
}

/// Signs `payload` as a bundle of `kind` with `dir/SIGNER.key` (unlocked
/// with `passphrase`) and `dir/SIGNER.cer`, and writes it to `dir/out`: what
/// anyone holding that key could sign, for the attack tests.
pub fn sign_bundle_as(
    dir: &Path,
    signer: (&str, Option<&str>),
    kind: sd_core::bundle::BundleKind,
    payload: &serde_json::Value,
    out: &str,
) {
    let (name, passphrase) = signer;
    let pem = std::fs::read_to_string(dir.join(format!("{name}.key"))).expect("read key");
    let key = sd_core::pki::private_key::from_pem(&pem, passphrase.map(str::as_bytes)).expect("unlock key");
    let cert_file = std::fs::read(dir.join(format!("{name}.cer"))).expect("read certificate");
    let cert = sd_core::pki::cert::Certificate::from_pem_or_der(&cert_file).expect("certificate");
    let signed = sd_core::bundle::sign(kind, payload, &[sd_core::bundle::Signer { key: &key, cert: &cert }])
        .expect("sign bundle");
    std::fs::write(dir.join(out), signed).expect("write bundle");
}

/// Runs `step`, which must be refused (see [`fails`]) without adding,
/// removing or leaving behind a file in `dir`; returns stderr.
#[track_caller]
pub fn refused_untouched(dir: &Path, step: impl FnOnce() -> Output, needles: &[&str]) -> String {
    let before = listing(dir);
    let err = fails(step(), needles);
    assert_eq!(listing(dir), before, "a refused step wrote or removed a file");
    err
}

/// An HTTPS agent that trusts only the CA certificate in `ca` (PEM) and
/// returns every status as a response.
pub fn agent_trusting(ca: &Path) -> ureq::Agent {
    let pem = std::fs::read(ca).expect("ca.pem");
    let cert = ureq::tls::Certificate::from_pem(&pem).expect("ca.pem");
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(vec![cert])))
                .build(),
        )
        .build()
        .into()
}

/// A running emulator, killed when dropped.
pub struct Emulator {
    child: Child,
    /// Its data folder.
    pub dir: PathBuf,
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// The HSM's name.
    pub name: String,
}

impl Emulator {
    /// Starts an emulator on a free port with state in `dir` (kept across restarts).
    /// Its exchange key is attested by [`test_platform`], whose root is
    /// also written into the folder above `dir` (the test's folder).
    pub fn start(dir: &Path) -> Emulator {
        Emulator::start_named(dir, TEST_HSM)
    }

    /// [`Emulator::start`] for an HSM called `name` (its exchange key is attested for it).
    pub fn start_named(dir: &Path, name: &str) -> Emulator {
        Emulator::start_with(dir, name, 300)
    }

    /// [`Emulator::start_named`] with security-domain operations that stay
    /// `InProgress` for `delay_ms`.
    pub fn start_with(dir: &Path, name: &str, delay_ms: u64) -> Emulator {
        Emulator::start_full(dir, name, delay_ms, 600)
    }

    /// [`Emulator::start_with`], its Resource Manager taking `provisioning_ms`
    /// to provision an HSM.
    pub fn start_full(dir: &Path, name: &str, delay_ms: u64, provisioning_ms: u64) -> Emulator {
        Emulator::spawn(dir, name, delay_ms, provisioning_ms, None)
    }

    /// [`Emulator::start_named`] with its clock set to `now` (`HSM_CEREMONY_NOW`):
    /// an HSM as it would be made years ahead, for rehearsals of the future.
    pub fn start_at(dir: &Path, name: &str, now: u64) -> Emulator {
        Emulator::spawn(dir, name, 300, 600, Some(now))
    }

    fn spawn(dir: &Path, name: &str, delay_ms: u64, provisioning_ms: u64, clock: Option<u64>) -> Emulator {
        let _ = std::fs::remove_file(dir.join("url"));
        std::fs::create_dir_all(dir).expect("emulator folder");
        let platform = dir.join("attestation-platform.pem");
        if !platform.exists() {
            std::fs::write(&platform, test_platform().to_pem().expect("platform")).expect("write platform");
        }
        if let Some(parent) = dir.parent() {
            install_attestation_root(parent);
        }
        let mut command = Command::new(bin("mhsm-emulator"));
        if let Some(now) = clock {
            command.env("HSM_CEREMONY_NOW", now.to_string());
        }
        let child = command
            .args(["--data-dir"])
            .arg(dir)
            .args([
                "--activation-delay-ms",
                &delay_ms.to_string(),
                "--transfer-key-bits",
                "3072",
                "--hsm-name",
                name,
                "--provisioning-ms",
                &provisioning_ms.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mhsm-emulator");
        // Owned by the guard from here on, so a failed start still stops the process.
        let mut emu = Emulator { child, dir: dir.to_path_buf(), url: String::new(), name: name.to_owned() };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(url) = std::fs::read_to_string(dir.join("url")) {
                // The url file is written just before serving starts; give it a moment.
                std::thread::sleep(Duration::from_millis(200));
                emu.url = url;
                return emu;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the emulator in {} did not start", dir.display());
    }

    /// The `--hsm-url/--ca-cert/--token-file` arguments for the uploader.
    pub fn target(&self) -> Vec<String> {
        vec![
            "--hsm-url".into(),
            self.url.clone(),
            "--ca-cert".into(),
            self.dir.join("ca.pem").display().to_string(),
            "--token-file".into(),
            self.dir.join("token").display().to_string(),
            "--hsm-name".into(),
            self.name.clone(),
        ]
    }

    /// The test root this emulator's exchange-key evidence chains to.
    pub fn attestation_root(&self) -> String {
        self.dir.join("attestation-root.pem").display().to_string()
    }

    /// The emulator's process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The object ID of the administrator the token belongs to.
    pub fn principal(&self) -> String {
        std::fs::read_to_string(self.dir.join("principal")).expect("principal").trim().to_owned()
    }

    /// The bearer token.
    pub fn token(&self) -> String {
        std::fs::read_to_string(self.dir.join("token")).expect("token").trim().to_owned()
    }

    /// An HTTPS agent that trusts this emulator (for raw protocol checks).
    pub fn agent(&self) -> ureq::Agent {
        agent_trusting(&self.dir.join("ca.pem"))
    }

    /// Stops it abruptly (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Grants the emulator's administrator (the owner of its token) "Managed HSM
/// Crypto User" at `/`, as the quickstart's step after activation does: a
/// real HSM's administrator may not touch keys until then.
pub fn grant_crypto_user(dir: &Path, emu: &Emulator) {
    let principal = emu.principal();
    ok(uploader(
        dir,
        emu,
        &["role", "assign", "--role", "Managed HSM Crypto User", "--principal", &principal],
    ));
}

/// Another principal of `emu`: a token file the emulator takes as object ID
/// `id`'s (returned, for `--token-file`).
pub fn principal_token(emu: &Emulator, id: &str) -> String {
    let tokens = emu.dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let file = tokens.join(format!("{id}.token"));
    std::fs::write(&file, format!("token-of-{id}\n")).unwrap();
    file.display().to_string()
}

/// The uploader as the principal whose token is in `token_file`.
pub fn uploader_as(
    dir: &std::path::Path,
    emu: &Emulator,
    token_file: &str,
    args: &[&str],
) -> std::process::Output {
    let ca = emu.dir.join("ca.pem").display().to_string();
    let mut all =
        vec!["--hsm-url", &emu.url, "--hsm-name", TEST_HSM, "--ca-cert", &ca, "--token-file", token_file];
    all.extend(args);
    run(dir, "uploader", &all)
}

/// The subscription the management-plane tests use (the emulator takes any).
pub const TEST_SUBSCRIPTION: &str = "00000000-1111-4222-8333-444444444444";

/// Runs an uploader management command (provision, delete…) against `emu`'s
/// Resource Manager.
pub fn manage(dir: &Path, emu: &Emulator, args: &[&str]) -> Output {
    let ca = emu.dir.join("ca.pem").display().to_string();
    let token = emu.dir.join("token").display().to_string();
    let arm_url = std::fs::read_to_string(emu.dir.join("arm-url")).expect("arm-url");
    let mut all = vec!["--ca-cert", &ca];
    all.extend(args);
    all.extend([
        "--arm-url",
        arm_url.trim(),
        "--arm-token-file",
        &token,
        "--subscription",
        TEST_SUBSCRIPTION,
    ]);
    run(dir, "uploader", &all)
}

/// Runs the uploader against `emu`.
pub fn uploader(dir: &Path, emu: &Emulator, args: &[&str]) -> Output {
    let mut all: Vec<String> = emu.target();
    all.extend(args.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    run(dir, "uploader", &refs)
}

/// `keyholder init` arguments for `name` in the working folder, key and
/// public files side by side (tests only: a custodian keeps them apart), as a
/// 2048-bit key for speed; `extra` follows (protection, `--pkcs11`...).
pub fn init_here<'a>(name: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["init", "--name", name, "--out", ".", "--public-out", ".", "--bits", "2048"];
    args.extend(extra);
    args
}

/// Makes `names` custodians with `keyholder init` (unencrypted 2048-bit keys, for speed).
pub fn custodians(dir: &Path, names: &[&str]) {
    for n in names {
        ok(run(dir, "keyholder", &init_here(n, &["--no-passphrase"])));
    }
}

/// The people of a ceremony, in `dir`: the custodians `names` (as
/// [`custodians`]) and an operator (`operator.key`, `operator.cer`), none
/// with a passphrase.
pub fn ceremony_people(dir: &Path, names: &[&str]) {
    custodians(dir, names);
    ok(run(dir, "uploader", &["operator-init", "--out", ".", "--no-passphrase"]));
}

/// An SD file for the custodians `names` (their `NAME.cer` in `dir`), quorum
/// 2, holding one `hsm_backup` secret of `secret_len` bytes; written to
/// `dir/sd.json` and returned.
pub fn write_sd(dir: &Path, names: &[&str], secret_len: usize) -> sd_core::azure::sd_file::SecurityDomain {
    let secrets = [sd_core::azure::enc_data::DomainSecret {
        tag: "hsm_backup".into(),
        data: sd_core::primitives::secret::SecretBytes::new(vec![7u8; secret_len]),
    }];
    write_sd_holding(dir, names, &secrets)
}

/// [`write_sd`] holding `secrets` (the HSM's backups, as an SD file carries them).
pub fn write_sd_holding(
    dir: &Path,
    names: &[&str],
    secrets: &[sd_core::azure::enc_data::DomainSecret],
) -> sd_core::azure::sd_file::SecurityDomain {
    let certs: Vec<_> = names
        .iter()
        .map(|n| {
            sd_core::pki::cert::Certificate::from_pem_or_der(
                &std::fs::read(dir.join(format!("{n}.cer"))).expect("NAME.cer"),
            )
            .expect("certificate")
        })
        .collect();
    let master =
        sd_core::primitives::secret::MasterKey::generate(&mut getrandom::SysRng).expect("master key");
    let sd =
        sd_core::azure::sd_file::SecurityDomain::create(&mut getrandom::SysRng, &master, secrets, &certs, 2)
            .expect("SD file");
    std::fs::write(dir.join("sd.json"), sd.to_json().expect("serialise sd.json")).expect("write sd.json");
    sd
}

/// `uploader activate` of the custodians `names` (their enrollments in `dir`)
/// with quorum `quorum`, the operator key `operator.key`, the SD file to `out`;
/// `extra` arguments follow.
pub fn activate(
    dir: &Path,
    emu: &Emulator,
    names: &[&str],
    quorum: usize,
    out: &str,
    extra: &[&str],
) -> Output {
    let mut args = activate_args(names, quorum, out);
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    uploader(dir, emu, &refs)
}

/// The `activate` arguments of [`activate`], for any target.
pub fn activate_args(names: &[&str], quorum: usize, out: &str) -> Vec<String> {
    let mut args: Vec<String> =
        ["activate", "--quorum", &quorum.to_string(), "--operator-key", "operator.key", "--out", out]
            .iter()
            .map(|s| s.to_string())
            .collect();
    for n in names {
        args.extend(["--enrollment".to_owned(), format!("{n}.enrollment.json")]);
    }
    args
}

/// The usual starting point: custodians a, b and c, an operator key
/// (`operator.key`), and an emulated HSM called `name` (state in `dir/folder`)
/// activated with quorum 2 into `sd.json`.
pub fn activated_hsm(dir: &Path, folder: &str, name: &str) -> Emulator {
    ceremony_people(dir, &["a", "b", "c"]);
    let emu = Emulator::start_named(&dir.join(folder), name);
    ok(activate(dir, &emu, &["a", "b", "c"], 2, "sd.json", &[]));
    emu
}

/// How a quorum recovers an SD into a fresh HSM.
#[derive(Clone, Copy, PartialEq)]
pub enum Mode {
    /// Every key on one laptop (`keyholder restore-blob`).
    OneLaptop,
    /// Each custodian's share bundle to the combiner (`share`, `combine`).
    Distributed,
}

/// `prefix1`, `prefix2`, ... `prefixN`.
pub fn names(n: usize, prefix: &str) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i}")).collect()
}

/// Recovers `sd` into `emu` with the keys of `who` (a quorum), by `mode`,
/// and checks that the HSM reports itself active.
pub fn recover(dir: &Path, emu: &Emulator, sd: &str, who: &[String], mode: Mode) {
    let _ = std::fs::remove_file(dir.join("blob.json"));
    let keys: Vec<String> = who.iter().map(|n| format!("{n}.key")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    match mode {
        Mode::OneLaptop => {
            let fetch =
                Cmd::init_recovery(sd, "request.json").without("--combiner").without("--operator-key");
            let fetch = fetch.without("--out").args(&["--exchange-key-out", "exchange.pem", "--force"]);
            ok(uploader(dir, emu, &fetch.as_args()));
            ok(Cmd::restore_blob(sd, &keys, "blob.json").run(dir, "keyholder"));
        }
        Mode::Distributed => {
            // The ceremony order: the combiner's key first, then the request that names it.
            ok(run(dir, "keyholder", &["combiner-init", "--out", ".", "--no-passphrase", "--force"]));
            ok(init_recovery(dir, emu, sd, &["--force"]));
            let shares: Vec<String> = who.iter().map(|n| format!("{n}.share.json")).collect();
            for (key, share) in keys.iter().zip(&shares) {
                ok(Cmd::share(key, share).set("--sd", sd).args(&["--force"]).run(dir, "keyholder"));
            }
            let shares: Vec<&str> = shares.iter().map(String::as_str).collect();
            ok(Cmd::combine(&shares, "blob.json").set("--sd", sd).run(dir, "keyholder"));
            // The combiner key is for one recovery only.
            std::fs::remove_file(dir.join("combiner.key")).unwrap();
        }
    }
    let out = ok(uploader(dir, emu, &["upload", "--restore-blob", "blob.json"]));
    assert!(out.contains("Success: The resource is active."), "{out}");
    let out = ok(uploader(dir, emu, &["status"]));
    assert_eq!(out.trim(), "Success: The resource is active.");
}

/// `uploader init-recovery` against `emu`: the request for `sd` naming the
/// combiner of `combiner.json`, signed with `operator.key`, into
/// `request.json`, judging the exchange key under the test root in the
/// folder; `extra` arguments follow.
pub fn init_recovery(dir: &Path, emu: &Emulator, sd: &str, extra: &[&str]) -> Output {
    uploader(dir, emu, &Cmd::init_recovery(sd, "request.json").args(extra).as_args())
}

/// The payload of a signed bundle as JSON text, decoded without verifying
/// anything: for tests that inspect (or tamper with) what a tool wrote.
pub fn bundle_payload(bundle: &[u8]) -> String {
    let doc: serde_json::Value = serde_json::from_slice(bundle).expect("bundle JSON");
    let payload = doc["payload"].as_str().expect("payload");
    String::from_utf8(sd_core::primitives::b64::url_decode(payload, "payload").expect("base64url"))
        .expect("UTF-8")
}

/// A tool's command line as a test varies a ceremony's usual one (ripgrep's
/// TestCommand, for arguments): start from [`Cmd::share`], [`Cmd::combine`]
/// or [`Cmd::restore_blob`] and change only what the test is about.
#[derive(Debug, Clone)]
pub struct Cmd(Vec<String>);

impl Cmd {
    /// Exactly these arguments.
    pub fn new(args: &[&str]) -> Cmd {
        Cmd(args.iter().map(|a| a.to_string()).collect())
    }

    /// [`share_args`]: `keyholder share` of a distributed recovery.
    pub fn share(key: &str, out: &str) -> Cmd {
        Cmd::new(&share_args(key, out, &[]))
    }

    /// [`combine_args`]: `keyholder combine` of a distributed recovery.
    pub fn combine(shares: &[&str], out: &str) -> Cmd {
        Cmd::new(&combine_args(shares, out, &[]))
    }

    /// [`restore_blob_args`]: `keyholder restore-blob` to the test HSM.
    pub fn restore_blob(sd: &str, keys: &[&str], out: &str) -> Cmd {
        Cmd::new(&restore_blob_args(sd, keys, out, &[]))
    }

    /// `uploader init-recovery` for the SD file `sd` (the folder's combiner,
    /// operator key and test root), into `out`; the target HSM comes from [`uploader`].
    pub fn init_recovery(sd: &str, out: &str) -> Cmd {
        Cmd::new(&["init-recovery", "--sd", sd, "--combiner", "public/combiner.json"])
            .args(&["--attestation-root", "attestation-root.pem"])
            .args(&["--operator-key", "operator.key", "--out", out])
    }

    /// [`activate_args`]: `uploader activate` for `names`' enrollments.
    pub fn activate(names: &[&str], quorum: usize, out: &str) -> Cmd {
        Cmd(activate_args(names, quorum, out))
    }

    /// These arguments added at the end.
    pub fn args(mut self, more: &[&str]) -> Cmd {
        self.0.extend(more.iter().map(|a| a.to_string()));
        self
    }

    /// `flag` given `value`: every occurrence's value replaced, or both
    /// added at the end when the flag is not there.
    pub fn set(mut self, flag: &str, value: &str) -> Cmd {
        let mut found = false;
        for i in 0..self.0.len().saturating_sub(1) {
            if self.0[i] == flag {
                self.0[i + 1] = value.to_owned();
                found = true;
            }
        }
        if found { self } else { self.args(&[flag, value]) }
    }

    /// `flag` and its value left out, wherever they are.
    pub fn without(mut self, flag: &str) -> Cmd {
        while let Some(i) = self.0.iter().position(|a| a == flag) {
            self.0.drain(i..(i + 2).min(self.0.len()));
        }
        self
    }

    /// The arguments, for [`run`] and friends.
    pub fn as_args(&self) -> Vec<&str> {
        self.0.iter().map(String::as_str).collect()
    }

    /// Runs `tool` with these arguments in `dir`.
    pub fn run(&self, dir: &Path, tool: &str) -> Output {
        run(dir, tool, &self.as_args())
    }
}

/// `keyholder SUBCOMMAND` of a distributed recovery: the usual file names
/// (`sd.json`, `request.json`, `operator.cer`), the test HSM pinned by
/// `--hsm`, and the folder's test attestation root.
fn recovery_args(subcommand: &str) -> Vec<&str> {
    vec![subcommand, "--sd", "sd.json", "--request", "request.json", "--operator-cert", "operator.cer"]
        .into_iter()
        .chain(["--hsm", TEST_HSM, "--attestation-root", "attestation-root.pem"])
        .collect()
}

/// `keyholder share` with the usual file names of a distributed recovery
/// (`sd.json`, `request.json`, `operator.cer`), the test HSM pinned by
/// `--hsm`, the combiner pinned by its `combiner.json`, then `extra`.
pub fn share_args<'a>(key: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    share_args_pinning(key, out, &["--combiner", "public/combiner.json"], extra)
}

/// [`share_args`] with the combiner pinned by `combiner_pin` (no pin: `&[]`).
pub fn share_args_pinning<'a>(
    key: &'a str,
    out: &'a str,
    combiner_pin: &[&'a str],
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = recovery_args("share");
    args.extend(["--key", key, "--out", out]);
    args.extend(combiner_pin);
    args.extend(extra);
    args
}

/// `keyholder restore-blob` for the SD file `sd` with `keys`, wrapping to the
/// test HSM's attested `exchange.pem` (under the folder's test root), into
/// `out`; `extra` arguments follow.
pub fn restore_blob_args<'a>(sd: &'a str, keys: &[&'a str], out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["restore-blob", "--hsm", TEST_HSM, "--attestation-root", "attestation-root.pem"];
    args.extend(["--sd", sd, "--exchange-key", "exchange.pem"]);
    for k in keys {
        args.extend(["--key", k]);
    }
    args.extend(["--out", out]);
    args.extend(extra);
    args
}

/// `keyholder combine` with the same file names and `combiner.key`, one
/// `--share` per bundle, then `extra`.
pub fn combine_args<'a>(shares: &[&'a str], out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = recovery_args("combine");
    args.extend(["--combiner-key", "combiner.key", "--out", out]);
    for s in shares {
        args.extend(["--share", s]);
    }
    args.extend(extra);
    args
}

/// Azure Blob Storage on this machine (Azurite, started by the project's
/// `storage/azurite.sh`, its data in the test's folder), stopped when dropped.
pub struct Storage {
    dir: PathBuf,
    /// `http://devstoreaccount1.blob.localhost:PORT`.
    pub account_url: String,
}

fn azurite_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../storage/azurite.sh")
}

fn azurite(args: &[&str]) -> String {
    let out = Command::new("bash").arg(azurite_script()).args(args).output().expect("run storage/azurite.sh");
    assert!(out.status.success(), "azurite.sh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("azurite.sh output").trim().to_owned()
}

impl Storage {
    /// Starts Azurite with its data in `dir` (npm installs it on first use).
    pub fn start(dir: &Path) -> Storage {
        let d = dir.display().to_string();
        azurite(&["start", &d]);
        let account_url = std::fs::read_to_string(dir.join("account-url")).expect("account-url");
        Storage { dir: dir.to_owned(), account_url: account_url.trim().to_owned() }
    }

    /// Creates container `name`; returns its URL.
    pub fn container(&self, name: &str) -> String {
        azurite(&["container", &self.dir.display().to_string(), name])
    }

    /// A SAS for container `name` with `perms`, valid for `minutes`.
    pub fn sas(&self, name: &str, perms: &str, minutes: u32) -> String {
        azurite(&["sas", &self.dir.display().to_string(), name, perms, &minutes.to_string()])
    }

    /// The names of the blobs in container `name` (with a fresh SAS).
    pub fn blobs(&self, name: &str) -> Vec<String> {
        let url =
            format!("{}/{name}?restype=container&comp=list&{}", self.account_url, self.sas(name, "l", 5));
        let port = self.account_url.rsplit(':').next().expect("port");
        let url = url.replace(
            &format!("devstoreaccount1.blob.localhost:{port}"),
            &format!("127.0.0.1:{port}/devstoreaccount1"),
        );
        let xml = ureq::get(&url)
            .header("x-ms-version", "2021-08-06")
            .call()
            .expect("list blobs")
            .into_body()
            .read_to_string()
            .expect("listing");
        xml.split("<Name>").skip(1).filter_map(|s| s.split("</Name>").next()).map(str::to_owned).collect()
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(azurite_script()).arg("stop").arg(&self.dir).output();
    }
}

/// Runs one of the project's scripts (`path` from the checkout's root) in
/// bash with `args`, on the binaries the tests built; asserts it succeeded
/// and that its output (`what`: stdout, or the file `what_file` it wrote when
/// given) holds every one of `expected`; returns that text.
#[track_caller]
pub fn script_holds(
    path: &str,
    args: &[&std::ffi::OsStr],
    what_file: Option<&Path>,
    expected: &[&str],
) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    let out = Command::new("bash")
        .arg(&script)
        .args(args)
        .env("HSM_CEREMONY_BIN_DIR", bin_dir())
        .output()
        .unwrap_or_else(|e| panic!("run {path}: {e}"));
    let text = match what_file {
        Some(f) => std::fs::read_to_string(f).unwrap_or_default(),
        None => String::from_utf8_lossy(&out.stdout).into_owned(),
    };
    assert!(out.status.success(), "{path} failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for e in expected {
        assert!(text.contains(e), "{path}: the output lacks {e:?}:\n{text}");
    }
    text
}
