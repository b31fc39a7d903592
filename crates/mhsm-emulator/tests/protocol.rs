//! The emulator refuses what a real Managed HSM refuses, in Azure's shapes,
//! and the uploader reports those refusals clearly. Raw requests go through
//! an HTTPS client that trusts only the emulator's certificate.

use std::path::Path;

use ceremony_tests::*;
use serde_json::{Value, json};

const V: &str = "?api-version=7.5";

struct Raw<'a> {
    emu: &'a Emulator,
    agent: ureq::Agent,
    token: String,
}

impl<'a> Raw<'a> {
    fn new(emu: &'a Emulator) -> Self {
        Raw { emu, agent: emu.agent(), token: emu.token() }
    }
    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let mut r = self
            .agent
            .post(&format!("{}{path}", self.emu.url))
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes())
            .expect("POST");
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
    fn get(&self, path: &str) -> (u16, Value) {
        let mut r = self
            .agent
            .get(&format!("{}{path}", self.emu.url))
            .header("Authorization", &format!("Bearer {}", self.token))
            .call()
            .expect("GET");
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn error_code(v: &Value) -> &str {
    v.pointer("/error/code").and_then(Value::as_str).unwrap_or("")
}

/// The download request body for certificate files in `dir`.
fn download_body(dir: &Path, certs: &[&str], required: usize) -> Value {
    let certs: Vec<sd_core::pki::cert::Certificate> = certs
        .iter()
        .map(|c| {
            sd_core::pki::cert::Certificate::from_pem_or_der(&std::fs::read(dir.join(c)).unwrap()).unwrap()
        })
        .collect();
    let jwks: Vec<Value> = certs
        .iter()
        .map(|c| {
            serde_json::to_value(
                sd_core::azure::download_request::CertificateJwk::from_certificate(c).unwrap(),
            )
            .unwrap()
        })
        .collect();
    json!({"certificates": jwks, "required": required})
}

#[test]
fn authentication_and_api_version() {
    let dir = scratch("auth");
    let emu = Emulator::start(&dir.join("hsm"));
    let agent = emu.agent();
    let r = agent.get(&format!("{}/securitydomain/upload{V}", emu.url)).call().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let challenge = r.headers().get("WWW-Authenticate").unwrap().to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer authorization=\"https://login.microsoftonline.com/"),
        "{challenge}"
    );
    assert!(challenge.contains("resource=\"https://managedhsm.azure.net\""), "{challenge}");
    let r = agent
        .get(&format!("{}/securitydomain/upload{V}", emu.url))
        .header("Authorization", "Bearer wrong")
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let raw = Raw::new(&emu);
    let (s, v) = raw.get("/securitydomain/upload");
    assert_eq!((s, error_code(&v)), (400, "MissingApiVersionParameter"));
    let (s, v) = raw.get("/securitydomain/upload?api-version=1.0");
    assert_eq!((s, error_code(&v)), (400, "BadParameter"));
    assert!(v.to_string().contains("The specified version (1.0) is not recognized"), "{v}");
    let (s, v) = raw.get(&format!("/securitydomain/upload{V}"));
    assert_eq!(s, 200);
    assert_eq!(v["key_format"], "jwk");
    assert!(v["transfer_key"].is_string(), "transfer_key is a JSON string, as the real service sends it");

    // The uploader names the problem when its token is refused.
    std::fs::write(dir.join("bad-token"), "not-the-token").unwrap();
    let o = run(
        &dir,
        "uploader",
        &[
            "--hsm-url",
            &emu.url,
            "--ca-cert",
            &dir.join("hsm/ca.pem").display().to_string(),
            "--token-file",
            "bad-token",
            "status",
        ],
    );
    fails(o, &["HTTP 401", "access token was refused"]);
    // And without a token source at all, it says what it tried (for a Managed
    // HSM host: for any other, only --token-file is ever used).
    let o = std::process::Command::new(bin("uploader"))
        .args(["--hsm", "contoso", "status"])
        .env_remove("AZURE_ACCESS_TOKEN")
        .env("PATH", "/nonexistent")
        .current_dir(&dir)
        .output()
        .unwrap();
    fails(o, &["no access token found", "--token-file", "AZURE_ACCESS_TOKEN", "az account get-access-token"]);
    // And it does not trust the emulator without --ca-cert.
    let o = run(
        &dir,
        "uploader",
        &["--hsm-url", &emu.url, "--token-file", &dir.join("hsm/token").display().to_string(), "status"],
    );
    fails(o, &["--ca-cert"]);
}

#[test]
fn download_limits_and_second_download() {
    let dir = scratch("download-limits");
    let names: Vec<String> = (1..=11).map(|i| format!("c{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    custodians(&dir, &refs);
    // An RSA-1024 certificate (made directly; keyholder refuses to make one).
    let weak = sd_core::pki::private_key::generate(&mut getrandom::SysRng, 1024);
    assert!(weak.is_err(), "the core refuses to generate weak keys");
    let weak_key = sd_core::RsaPrivateKey::new(&mut getrandom::SysRng, 1024).unwrap();
    let weak_cert =
        sd_core::pki::cert::self_signed(&mut getrandom::SysRng, &weak_key, "weak", 1_767_225_600, 30)
            .unwrap();
    std::fs::write(dir.join("weak.cer"), weak_cert.to_pem()).unwrap();
    let weak_jwk = {
        use rsa::traits::PublicKeyParts;
        json!({
            "x5c": [sd_core::primitives::b64::std_encode(weak_cert.der())], "x5t#S256": weak_cert.x5t_s256(),
            "key_ops": ["verify", "encrypt", "wrapKey"], "kty": "RSA", "alg": "RSA-OAEP-256",
            "n": sd_core::primitives::b64::url_encode(&weak_key.n_bytes()), "e": sd_core::primitives::b64::url_encode(&weak_key.e_bytes()),
        })
    };

    let emu = Emulator::start(&dir.join("hsm"));
    let raw = Raw::new(&emu);
    let certs: Vec<String> = names.iter().map(|n| format!("{n}.cer")).collect();
    let c: Vec<&str> = certs.iter().map(String::as_str).collect();
    for (body, why) in [
        (download_body(&dir, &c[..2], 2), "2 certificates"),
        (download_body(&dir, &c[..11], 2), "11 certificates"),
        (download_body(&dir, &c[..3], 1), "quorum 1"),
        (download_body(&dir, &c[..10], 11), "quorum 11"),
        (
            {
                let mut b = download_body(&dir, &c[..2], 2);
                b["certificates"].as_array_mut().unwrap().push(weak_jwk.clone());
                b
            },
            "RSA-1024",
        ),
        (json!({"certificates": "nope"}), "malformed"),
    ] {
        let (s, v) = raw.post(&format!("/securitydomain/download{V}"), &body);
        assert_eq!((s, error_code(&v)), (400, "BadParameter"), "{why}: {v}");
        if why == "RSA-1024" {
            assert!(v.to_string().contains("1024 bits"), "{v}");
        }
    }
    // The uploader refuses the same before sending anything.
    let o = uploader(
        &dir,
        &emu,
        &Cmd::activate(&["c1", "c2", "c3"], 2, "sd.json").set("--operator-key", "x.key").as_args(),
    );
    fails(o, &["x.key"]);
    ok(run(&dir, "uploader", &["operator-init", "--out", ".", "--no-passphrase"]));
    let o = uploader(&dir, &emu, &Cmd::activate(&["c1", "c2"], 2, "sd.json").as_args());
    fails(o, &["2 custodian certificates given; Azure takes 3 to 10"]);
    let o = uploader(
        &dir,
        &emu,
        &Cmd::activate(&["c1", "c2"], 2, "sd.json").args(&["--cert", "weak.cer"]).as_args(),
    );
    fails(o, &["weak.cer", "1024 bits"]);
    assert!(!dir.join("sd.json").exists());

    // Key operations are refused before activation.
    let (s, v) = raw.post(&format!("/keys/k/create{V}"), &json!({"kty": "oct-HSM"}));
    assert_eq!((s, error_code(&v)), (403, "HSMNotActivated"));

    // A good download, then a second one is refused.
    let (s, v) = raw.post(&format!("/securitydomain/download{V}"), &download_body(&dir, &c[..3], 2));
    assert_eq!(s, 202, "{v}");
    let sd = sd_core::azure::sd_file::SecurityDomain::parse(v["value"].as_str().unwrap().as_bytes()).unwrap();
    assert_eq!((sd.required(), sd.shares().len()), (2, 3));
    let tags: Vec<&str> = sd.enc_data().data.iter().map(|e| e.tag.as_str()).collect();
    assert_eq!(tags, ["hsm_backup", "base_enclave_backup", "partition_enclave_backup"]);
    let (s, v) = raw.post(&format!("/securitydomain/download{V}"), &download_body(&dir, &c[..3], 2));
    assert_eq!((s, error_code(&v)), (409, "Conflict"), "{v}");
}

/// An activated HSM A, its SD, and a fresh HSM B with a recovery request.
fn two_hsms(test: &str) -> (std::path::PathBuf, Emulator, Emulator) {
    let dir = scratch(test);
    let emu_a = activated_hsm(&dir, "hsm-a", TEST_HSM);
    let emu_b = Emulator::start(&dir.join("hsm-b"));
    ok(run(&dir, "keyholder", &["combiner-init", "--out", ".", "--no-passphrase"]));
    ok(init_recovery(&dir, &emu_b, "sd.json", &["--exchange-key-out", "exchange.pem"]));
    (dir, emu_a, emu_b)
}

/// A one-laptop recovery's offline half for the HSM `emu`: its exchange key
/// saved as `exchange-TAG.pem`, and `keys` rebuilding the master key into
/// `blob-TAG.json` for it.
fn one_laptop_blob(dir: &Path, emu: &Emulator, tag: &str, keys: &[&str]) {
    let (request, exchange, blob) =
        (format!("req-{tag}.json"), format!("exchange-{tag}.pem"), format!("blob-{tag}.json"));
    let fetch = Cmd::init_recovery("sd.json", &request).args(&["--exchange-key-out", &exchange]);
    ok(uploader(dir, emu, &fetch.as_args()));
    let combine = Cmd::restore_blob("sd.json", keys, &blob).set("--exchange-key", &exchange);
    ok(run(dir, "keyholder", &combine.as_args()));
}

#[test]
fn upload_refusals() {
    let (dir, emu_a, emu_b) = two_hsms("upload-refusals");
    // A blob made for HSM A's exchange key cannot restore HSM B.
    one_laptop_blob(&dir, &emu_a, "a", &["a.key", "b.key"]);
    fails(
        uploader(&dir, &emu_b, &["upload", "--restore-blob", "blob-a.json"]),
        &["blob-a.json: is wrapped to exchange key"],
    );
    // Sent anyway (raw), the HSM reports Failed with the reason.
    let raw = Raw::new(&emu_b);
    let text = std::fs::read_to_string(dir.join("blob-a.json")).unwrap();
    let (s, _) = raw.post(&format!("/securitydomain/upload{V}"), &json!({"value": text}));
    assert_eq!(s, 202);
    std::thread::sleep(std::time::Duration::from_millis(600));
    let (_, v) = raw.get(&format!("/securitydomain/upload/pending{V}"));
    assert_eq!(v["status"], "Failed");
    assert!(v["status_details"].as_str().unwrap().contains("wrapped to exchange key"), "{v}");
    fails(uploader(&dir, &emu_b, &["status"]), &["failed"]);

    // A fresh HSM C: a blob with one EncData byte flipped fails there with the reason.
    let emu_c = Emulator::start(&dir.join("hsm-c"));
    one_laptop_blob(&dir, &emu_c, "c", &["b.key", "c.key"]);
    let mut blob: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("blob-c.json")).unwrap()).unwrap();
    let jwe = blob["EncData"]["data"][2]["compact_jwe"].as_str().unwrap().to_owned();
    let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
    let mut ct = sd_core::primitives::b64::url_decode(&parts[3], "ct").unwrap();
    ct[5] ^= 0x01;
    parts[3] = sd_core::primitives::b64::url_encode(&ct);
    blob["EncData"]["data"][2]["compact_jwe"] = Value::String(parts.join("."));
    std::fs::write(dir.join("tampered.json"), blob.to_string()).unwrap();
    fails(
        uploader(&dir, &emu_c, &["upload", "--restore-blob", "tampered.json"]),
        &["recovery failed", "does not open"],
    );
    // Malformed upload bodies are refused outright.
    let raw_c = Raw::new(&emu_c);
    let (s, v) = raw_c.post(&format!("/securitydomain/upload{V}"), &json!({"value": "{}"}));
    assert_eq!((s, error_code(&v)), (400, "BadParameter"));
}

#[test]
fn state_survives_a_crash_mid_activation_and_after() {
    let dir = scratch("restart");
    ceremony_people(&dir, &["a", "b", "c"]);
    let emu = Emulator::start(&dir.join("hsm"));
    ok(activate(&dir, &emu, &["a", "b", "c"], 2, "sd.json", &["--no-wait"]));
    let transfer_before = std::fs::read_to_string(dir.join("hsm/state.json")).unwrap();
    emu.kill(); // SIGKILL while InProgress
    let emu = Emulator::start(&dir.join("hsm"));
    std::thread::sleep(std::time::Duration::from_millis(400));
    let out = ok(uploader(&dir, &emu, &["status", "--download"]));
    assert_eq!(out.trim(), "Success: The resource is active.");
    grant_crypto_user(&dir, &emu);
    ok(uploader(&dir, &emu, &["key", "create", "--name", "survivor"]));
    std::fs::write(dir.join("m.txt"), "kept").unwrap();
    ok(uploader(&dir, &emu, &["key", "encrypt", "--name", "survivor", "--in", "m.txt", "--out", "m.json"]));
    emu.kill();
    let emu = Emulator::start(&dir.join("hsm"));
    ok(uploader(&dir, &emu, &["key", "decrypt", "--name", "survivor", "--in", "m.json", "--out", "m.out"]));
    assert_eq!(std::fs::read_to_string(dir.join("m.out")).unwrap(), "kept");
    // Same exchange key and token after the restart.
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("hsm/state.json")).unwrap()).unwrap();
    let before: Value = serde_json::from_str(&transfer_before).unwrap();
    assert_eq!(state["transfer_cert_pem"], before["transfer_cert_pem"]);
    // An upload on an active HSM is refused too.
    let raw = Raw::new(&emu);
    let (s, v) = raw.post(&format!("/securitydomain/upload{V}"), &json!({"value": "{}"}));
    assert_eq!(s, 400, "malformed first: {v}");
    std::fs::write(dir.join("exchange.pem"), {
        let (_, t) = raw.get(&format!("/securitydomain/upload{V}"));
        let cert = sd_core::azure::transfer_key::parse_response(t.to_string().as_bytes()).unwrap();
        cert.to_pem()
    })
    .unwrap();
    ok(run(&dir, "keyholder", &Cmd::restore_blob("sd.json", &["a.key", "b.key"], "blob.json").as_args()));
    let blob = std::fs::read_to_string(dir.join("blob.json")).unwrap();
    let (s, v) = raw.post(&format!("/securitydomain/upload{V}"), &json!({"value": blob}));
    assert_eq!((s, error_code(&v)), (409, "Conflict"), "{v}");
    // A second activation is refused with Azure's error shape.
    fails(activate(&dir, &emu, &["a", "b", "c"], 2, "sd2.json", &[]), &["HTTP 409 Conflict"]);
}

#[test]
fn key_backup_restores_only_with_the_same_security_domain() {
    let (dir, emu_a, _emu_b) = two_hsms("foreign-backup");
    grant_crypto_user(&dir, &emu_a);
    ok(uploader(&dir, &emu_a, &["key", "create", "--name", "k1"]));
    ok(uploader(&dir, &emu_a, &["key", "backup", "--name", "k1", "--out", "k1.backup"]));
    // An HSM activated with its own, different security domain cannot restore it.
    let emu_x = Emulator::start(&dir.join("hsm-x"));
    ok(activate(&dir, &emu_x, &["a", "b", "c"], 2, "sd-x.json", &[]));
    grant_crypto_user(&dir, &emu_x);
    fails(
        uploader(&dir, &emu_x, &["key", "restore", "--in", "k1.backup"]),
        &["HTTP 400", "does not belong to this HSM's security domain"],
    );
}

#[test]
fn stops_cleanly_on_sigterm_and_sigint() {
    let dir = scratch("signals");
    for signal in ["-TERM", "-INT"] {
        let data = dir.join(signal.trim_start_matches('-'));
        let mut child = std::process::Command::new(bin("mhsm-emulator"))
            .arg("--data-dir")
            .arg(&data)
            .args(["--transfer-key-bits", "3072"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !data.join("url").exists() {
            assert!(std::time::Instant::now() < deadline, "did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        let status =
            std::process::Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let exit = child.wait().unwrap();
        assert_eq!(exit.code(), Some(0), "{signal}: {exit:?}");
        let mut out = String::new();
        std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
        let url = std::fs::read_to_string(data.join("url")).unwrap();
        assert_eq!(
            out.lines().next().unwrap(),
            format!("mhsm-emulator listening on {url} (data {})", data.display())
        );
    }
}

/// The state (with the emulated HSM's private keys) is written through a
/// temporary file created exclusively under a random name: a symlink planted
/// where the old, predictable name was is never followed.
#[test]
fn state_writes_never_follow_a_planted_symlink() {
    let dir = scratch("planted-symlink");
    ceremony_people(&dir, &["a", "b", "c"]);
    let emu = Emulator::start(&dir.join("hsm"));
    let stolen = dir.join("stolen.json");
    let planted = emu.dir.join(format!(".state.json.tmp-{}", emu.pid()));
    std::os::unix::fs::symlink(&stolen, &planted).unwrap();
    ok(activate(&dir, &emu, &["a", "b", "c"], 2, "sd.json", &[]));
    assert!(!stolen.exists(), "the emulator wrote its state through the planted symlink");
    assert!(std::fs::symlink_metadata(&planted).unwrap().file_type().is_symlink());
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(emu.dir.join("state.json")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

/// Sends `method path` with `token` (none: no Authorization header) and a
/// small JSON body; returns the status.
fn status_of(emu: &Emulator, method: &str, path: &str, token: Option<&str>) -> u16 {
    let url = format!("{}{path}{V}", emu.url);
    let request =
        ureq::http::Request::builder().method(method).uri(&url).header("Content-Type", "application/json");
    let request = match token {
        Some(t) => request.header("Authorization", format!("Bearer {t}")),
        None => request,
    };
    emu.agent().run(request.body(b"{}".to_vec()).unwrap()).expect("request").status().as_u16()
}

/// RBAC fails closed (N5 of the attack review): every route the emulator
/// declares (`--list-routes`, printed from the table that registers them) is
/// refused to a principal with no role (403) and to a caller with no token
/// (401); a key named `providers` is an ordinary key; a path that no route
/// declares is a 404 whatever the caller holds.
#[test]
fn every_declared_route_needs_a_role() {
    let dir = scratch("rbac-fail-closed");
    let emu = activated_hsm(&dir, "hsm", TEST_HSM);
    let nobody = "99999999-8888-4777-8666-555555555555";
    std::fs::create_dir_all(emu.dir.join("tokens")).unwrap();
    std::fs::write(emu.dir.join(format!("tokens/{nobody}.token")), "a-token-with-no-role").unwrap();

    let listing = ok(run(&dir, "mhsm-emulator", &["--list-routes"]));
    let routes: Vec<(String, String)> = listing
        .lines()
        .map(|l| {
            let mut words = l.split_whitespace();
            (words.next().unwrap().to_owned(), words.next().unwrap().to_owned())
        })
        .collect();
    assert!(routes.len() >= 40, "{listing}");
    for (method, template) in &routes {
        let path = template
            .replace("{name}", "providers")
            .replace("{scope_key}", "providers")
            .replace("{version}", "encrypt")
            .replace("{operation}", "sign")
            .replace("{definition}", "21dbd100-6940-42c2-9190-5d6cb909625b")
            .replace("{assignment}", "11111111-2222-4333-8444-555555555555");
        assert_eq!(status_of(&emu, method, &path, Some("a-token-with-no-role")), 403, "{method} {path}");
        assert_eq!(status_of(&emu, method, &path, None), 401, "{method} {path}");
    }
    // Not a route: 404, even for the administrator.
    for (method, path) in [("GET", "/secrets"), ("POST", "/keys/k/v/export/extra"), ("GET", "/")] {
        assert_eq!(status_of(&emu, method, path, Some(&emu.token())), 404, "{method} {path}");
    }
    // A key called "providers" is a key like any other.
    grant_crypto_user(&dir, &emu);
    ok(uploader(&dir, &emu, &["key", "create", "--name", "providers"]));
    assert_eq!(status_of(&emu, "GET", "/keys/providers", Some(&emu.token())), 200);
}
