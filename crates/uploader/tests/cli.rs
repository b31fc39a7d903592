//! The uploader's command line against the emulator: where the target and
//! the token come from, what init-recovery writes, and how bad input is named.

use ceremony_tests::*;

#[test]
fn target_and_token_sources() {
    let dir = scratch("uploader-target");
    fails(run(&dir, "uploader", &["status"]), &["say which HSM: --hsm NAME or --hsm-url URL"]);
    let o = run(&dir, "uploader", &["--hsm", "bad name!", "status"]);
    assert_eq!(o.status.code(), Some(2), "a name Azure would not give is a usage error");
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a Managed HSM name"));
    fails(
        run(&dir, "uploader", &["--hsm-url", "http://127.0.0.1:1", "--token-file", "x", "status"]),
        &["must start with https://"],
    );
    let o = run(&dir, "uploader", &["--hsm", "a", "--hsm-url", "https://b", "status"]);
    assert_eq!(o.status.code(), Some(2), "conflicting targets are a usage error");

    let emu = Emulator::start(&dir.join("hsm"));
    // A token from the environment is a real Azure token: never sent to the
    // emulator (or any host but NAME.managedhsm.azure.net), and never printed.
    let token = emu.token();
    let o = std::process::Command::new(bin("uploader"))
        .args([
            "--hsm-url",
            &emu.url,
            "--ca-cert",
            &dir.join("hsm/ca.pem").display().to_string(),
            "status",
            "--download",
        ])
        .env("AZURE_ACCESS_TOKEN", &token)
        .current_dir(&dir)
        .output()
        .unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(all.contains("an Azure token from AZURE_ACCESS_TOKEN or az is never sent there"), "{all}");
    assert!(!all.contains(&token), "the token was printed");
    // From --token-file it is used.
    let o = uploader(&dir, &emu, &["status", "--download"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("HTTP 404"), "no download yet");
    fails(
        uploader(&dir, &emu, &["upload", "--restore-blob", "missing.json"]),
        &["missing.json: no such file"],
    );
    std::fs::write(dir.join("junk.json"), "{\"EncData\":").unwrap();
    fails(
        uploader(&dir, &emu, &["upload", "--restore-blob", "junk.json"]),
        &["junk.json: invalid restore blob"],
    );
}

#[test]
fn init_recovery_writes_az_exchange_pem_and_a_signed_request() {
    let dir = scratch("uploader-init-recovery");
    custodians(&dir, &["a", "b", "c"]);
    std::fs::write(dir.join("pw"), "operator passphrase\n").unwrap();
    let out = ok(run(&dir, "uploader", &["operator-init", "--out", ".", "--passphrase-file", "pw"]));
    assert!(out.contains("operator certificate") && out.contains("read aloud"), "{out}");
    assert!(
        std::fs::read_to_string(dir.join("operator.key"))
            .unwrap()
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    );
    let emu_a = Emulator::start(&dir.join("hsm-a"));
    ok(uploader(
        &dir,
        &emu_a,
        &Cmd::activate(&["a", "b"], 2, "sd.json")
            .args(&["--cert", "c.cer", "--passphrase-file", "pw"])
            .as_args(),
    ));
    let emu_b = Emulator::start(&dir.join("hsm-b"));
    ok(run(&dir, "keyholder", &["combiner-init", "--out", ".", "--no-passphrase"]));
    // Wrong operator passphrase: named, nothing written.
    std::fs::write(dir.join("bad"), "nope nope nope").unwrap();
    fails(
        uploader(
            &dir,
            &emu_b,
            &Cmd::init_recovery("sd.json", "request.json").args(&["--passphrase-file", "bad"]).as_args(),
        ),
        &["operator.key: wrong passphrase"],
    );
    assert!(!dir.join("request.json").exists());
    let out = ok(uploader(
        &dir,
        &emu_b,
        &Cmd::init_recovery("sd.json", "request.json")
            .args(&["--passphrase-file", "pw", "--exchange-key-out", "exchange.pem"])
            .as_args(),
    ));
    let pem = std::fs::read_to_string(dir.join("exchange.pem")).unwrap();
    assert!(!pem.ends_with('\n'), "az writes no trailing newline");
    assert!(pem.lines().skip(1).take(3).all(|l| l.len() == 65), "az writes 65-character lines");
    let cert = sd_core::pki::cert::Certificate::from_pem_or_der(pem.as_bytes()).unwrap();
    assert!(out.contains(&cert.x5t_s256()), "the exchange fingerprint is shown: {out}");
    let verified = ok(run(&dir, "keyholder", &["verify", "request.json", "--signer", "operator.cer"]));
    assert!(verified.contains("valid recovery request bundle"), "{verified}");
    assert!(
        verified
            .contains(&sd_core::primitives::hex::sha256_hex(&std::fs::read(dir.join("sd.json")).unwrap()))
    );
    // Existing outputs are not replaced.
    fails(
        uploader(
            &dir,
            &emu_b,
            &Cmd::init_recovery("sd.json", "request.json").args(&["--passphrase-file", "pw"]).as_args(),
        ),
        &["request.json: already exists"],
    );
    // The activation record names the HSM, the SD hash and the custodians.
    let record =
        ok(run(&dir, "keyholder", &["verify", "sd.json.activation.json", "--signer", "operator.cer"]));
    assert!(record.contains(&emu_a.url) && record.contains("  quorum: 2\n"), "{record}");
}

/// N10 of the attack review: `activate` takes only custodian names that
/// `keyholder init` would make (empty, 100 KB, and control characters
/// refused), before anything is sent to the HSM.
#[test]
fn activate_refuses_custodian_names_keyholder_would_not_make() {
    let dir = scratch("activate-custodian-names");
    ceremony_people(&dir, &["a", "b"]);
    let emu = Emulator::start(&dir.join("hsm"));
    let key = sd_core::pki::private_key::generate(&mut getrandom::SysRng, 2048).unwrap();
    let now = std::time::UNIX_EPOCH.elapsed().unwrap().as_secs();
    for (i, name) in ["", &"n".repeat(100_000), "evil\u{1b}[2Jname"].into_iter().enumerate() {
        let cert =
            sd_core::pki::cert::self_signed(&mut getrandom::SysRng, &key, "c", now - 3600, 30).unwrap();
        let payload = sd_core::handoff::enrollment::Enrollment {
            custodian: name.to_owned(),
            certificate: cert.to_pem(),
            x5t_s256: cert.x5t_s256(),
            created: sd_core::time::Timestamp::from_unix(now),
        };
        let signed = sd_core::bundle::sign(
            sd_core::bundle::BundleKind::Enrollment,
            &payload,
            &[sd_core::bundle::Signer { key: &key, cert: &cert }],
        )
        .unwrap();
        std::fs::write(dir.join(format!("c{i}.enrollment.json")), signed).unwrap();
        let err = fails(
            activate(&dir, &emu, &["a", "b", &format!("c{i}")], 2, "sd.json", &[]),
            &[&format!("c{i}.enrollment.json: its custodian name is not 1 to 64 of")],
        );
        assert!(!err.contains('\u{1b}') && err.len() < 2_000, "{err}");
    }
    assert!(!dir.join("sd.json").exists());
    let o = uploader(&dir, &emu, &["status", "--download"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("HTTP 404"), "nothing was sent to the HSM");
}

/// `HSM_CEREMONY_TARGET` names the emulator's folder: `--hsm NAME` then
/// reaches that emulator (its own HSM by its name), flags still win, and a
/// folder without an emulator, or a name it does not serve, is refused with
/// what to do. Every use is said on stderr.
#[test]
fn hsm_ceremony_target_points_the_tools_at_the_emulator() {
    let dir = scratch("uploader-local-target");
    let with_target = |target: &std::path::Path, args: &[&str]| {
        std::process::Command::new(bin("uploader"))
            .args(args)
            .env("HSM_CEREMONY_TARGET", target)
            .current_dir(&dir)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    // No emulator there.
    let err = fails(
        with_target(&dir.join("nothing"), &["--hsm", "contoso", "status", "--download"]),
        &["nothing/name: missing: is an emulator running with this data folder?", "hint: start one with"],
    );
    assert!(err.contains("note: HSM_CEREMONY_TARGET="), "{err}");

    let emu = Emulator::start_named(&dir.join("emu"), "contoso");
    let env = std::fs::read_to_string(dir.join("emu/env")).unwrap();
    assert!(env.contains("export HSM_CEREMONY_TARGET"), "{env}");
    // Its own HSM, by name: reached with the folder's token and certificate.
    let o = with_target(&emu.dir, &["--hsm", "contoso", "status", "--download"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("HTTP 404"), "reached, no download yet: {o:?}");
    // Flags name the target: the folder is not used, and nothing claims it is.
    let mut flags: Vec<String> = emu.target();
    flags.extend(["status".into(), "--download".into()]);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let o = with_target(&emu.dir, &flags);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("HTTP 404") && !err.contains("HSM_CEREMONY_TARGET"), "{err}");
    // Roles before the activation: the next step is the activation, not a role.
    fails(
        with_target(&emu.dir, &["--hsm", "contoso", "role", "list"]),
        &["HSMNotActivated", "hint: activate the HSM first (`uploader activate`)"],
    );
    // A name it does not serve.
    fails(
        with_target(&emu.dir, &["--hsm", "fabrikam", "status"]),
        &["the emulator there has no HSM \"fabrikam\" (its own is \"contoso\")", "hint: provision it first"],
    );
    // Resource Manager, its subscription and "me" come from the folder too.
    let out = ok(with_target(
        &emu.dir,
        &["provision", "--name", "fabrikam", "--resource-group", "rg", "--location", "westeurope"]
            .iter()
            .chain(&["--administrator", "me", "--create-resource-group"])
            .copied()
            .collect::<Vec<_>>(),
    ));
    assert!(out.contains(&format!("object ID {}", emu.principal())), "{out}");
    let o = with_target(&emu.dir, &["--hsm", "fabrikam", "status", "--download"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("HTTP 404"), "the provisioned HSM is reached: {o:?}");
}
