//! Whole ceremonies through the real binaries: custodians enroll, the
//! operator activates an emulated HSM, keys are made and backed up, the HSM is
//! lost, every custodian checks their share, a quorum recovers into a fresh
//! HSM (one laptop, or distributed share bundles), and the key backup restores
//! and decrypts what was encrypted before the disaster.

use ceremony_tests::*;

fn ceremony(test: &str, n: usize, m: usize, mode: Mode, rotate: bool) {
    let dir = scratch(test);
    let people = names(n, "custodian");
    let refs: Vec<&str> = people.iter().map(String::as_str).collect();
    custodians(&dir, &refs);
    ok(run(&dir, "uploader", &["operator-init", "--out", ".", "--no-passphrase"]));

    // Activation.
    let emu_a = Emulator::start(&dir.join("hsm-a"));
    let mut args = vec![
        "activate".to_owned(),
        "--quorum".into(),
        m.to_string(),
        "--operator-key".into(),
        "operator.key".into(),
        "--out".into(),
        "sd.json".into(),
    ];
    for p in &people {
        args.extend(["--enrollment".into(), format!("{p}.enrollment.json")]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = ok(uploader(&dir, &emu_a, &refs));
    assert!(out.contains("Success: The resource is active."), "{out}");
    let record =
        ok(run(&dir, "keyholder", &["verify", "sd.json.activation.json", "--signer", "operator.cer"]));
    assert!(record.contains(&format!("  quorum: {m}\n")), "{record}");

    // Keys made before the disaster.
    let key_op = |emu: &Emulator, words: &str| {
        let args: Vec<&str> = std::iter::once("key").chain(words.split(' ')).collect();
        ok(uploader(&dir, emu, &args))
    };
    std::fs::write(dir.join("message.txt"), format!("drill message for {test}")).unwrap();
    grant_crypto_user(&dir, &emu_a);
    key_op(&emu_a, "create --name drill-key");
    key_op(&emu_a, "encrypt --name drill-key --in message.txt --out message.enc.json");
    key_op(&emu_a, "backup --name drill-key --out drill-key.backup");
    drop(emu_a); // the disaster

    // Every custodian can still open their share.
    for (i, p) in people.iter().enumerate() {
        let out = ok(run(&dir, "keyholder", &["check", "--sd", "sd.json", "--key", &format!("{p}.key")]));
        assert!(out.starts_with(&format!("share {} of {n} opens (quorum {m})", i + 1)), "{out}");
    }

    let (sd, quorum_people) = if rotate {
        // A quorum re-splits to a new set of custodians before the recovery.
        let new_people = names(n, "successor");
        let refs: Vec<&str> = new_people.iter().map(String::as_str).collect();
        custodians(&dir, &refs);
        let mut args = vec![
            "rotate".to_owned(),
            "--sd".into(),
            "sd.json".into(),
            "--quorum".into(),
            m.to_string(),
            "--out".into(),
            "rotated-sd.json".into(),
        ];
        for p in &people[..m] {
            args.extend(["--key".into(), format!("{p}.key")]);
        }
        for p in &new_people {
            args.extend(["--new-cert".into(), format!("{p}.cer")]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(run(&dir, "keyholder", &refs));
        ("rotated-sd.json", new_people[n - m..].to_vec())
    } else {
        ("sd.json", people[n - m..].to_vec())
    };

    // Recovery into a fresh HSM, then the old key works there.
    let emu_b = Emulator::start(&dir.join("hsm-b"));
    recover(&dir, &emu_b, sd, &quorum_people, mode);
    grant_crypto_user(&dir, &emu_b);
    key_op(&emu_b, "restore --in drill-key.backup");
    key_op(&emu_b, "decrypt --name drill-key --in message.enc.json --out message.out");
    assert_eq!(
        std::fs::read(dir.join("message.out")).unwrap(),
        std::fs::read(dir.join("message.txt")).unwrap()
    );

    // And the same quorum signs a drill report.
    let mut args = vec!["drill".to_owned(), "--sd".into(), sd.into(), "--out".into(), "report.json".into()];
    for p in &quorum_people {
        args.extend(["--key".into(), format!("{p}.key")]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(run(&dir, "keyholder", &refs));
    let out = ok(run(&dir, "keyholder", &["verify", "report.json"]));
    assert!(out.contains(&format!("{m} signature(s)")), "{out}");
}

#[test]
fn three_custodians_every_quorum_both_modes() {
    ceremony("n3-m2-laptop", 3, 2, Mode::OneLaptop, false);
    for m in [2, 3] {
        ceremony(&format!("n3-m{m}-distributed"), 3, m, Mode::Distributed, false);
    }
}

#[test]
fn four_custodians_every_quorum() {
    for (m, mode) in [(2, Mode::Distributed), (3, Mode::OneLaptop), (4, Mode::Distributed)] {
        ceremony(&format!("n4-m{m}"), 4, m, mode, false);
    }
}

#[test]
fn five_custodians_every_quorum() {
    // The modes take turns.
    for m in 2..=5 {
        let mode = if m % 2 == 0 { Mode::OneLaptop } else { Mode::Distributed };
        ceremony(&format!("n5-m{m}"), 5, m, mode, false);
    }
}

#[test]
fn rotation_then_recovery_with_the_new_custodians() {
    ceremony("rotate-n3-m2", 3, 2, Mode::Distributed, true);
    ceremony("rotate-n4-m3", 4, 3, Mode::OneLaptop, true);
}

/// The attack issue 11 closes: a host that answers the transfer-key request
/// with its own key. The uploader refuses to sign a request for it; and when a
/// request names it anyway (a compromised operator machine), every custodian's
/// `share` refuses, so no share leaves.
#[test]
fn a_rogue_exchange_key_gets_no_share() {
    let dir = scratch("rogue-endpoint");
    let emu = activated_hsm(&dir, "hsm-a", TEST_HSM);
    drop(emu);
    // The rogue answers like an HSM, with a key "attested" under its own root.
    let rogue_dir = dir.join("rogue");
    std::fs::create_dir_all(&rogue_dir).unwrap();
    let rogue_platform = sgx_simulator::SimulatedPlatform::generate(
        &mut getrandom::SysRng,
        "Intel SGX Root CA",
        1_767_225_600,
        3650,
    )
    .unwrap();
    std::fs::write(rogue_dir.join("attestation-platform.pem"), rogue_platform.to_pem().unwrap()).unwrap();
    let rogue = Emulator::start(&rogue_dir);
    ok(run(&dir, "keyholder", &["combiner-init", "--out", ".", "--no-passphrase"]));
    let before = listing(&dir);
    let err = fails(
        init_recovery(&dir, &rogue, "sd.json", &["--exchange-key-out", "exchange.pem"]),
        &["exchange-key attestation failed at \"attestation root pin\"", "nothing was written"],
    );
    assert!(!err.contains("panicked"));
    assert_eq!(listing(&dir), before, "nothing written for a rogue key");
    // The operator's machine is compromised: it signs the rogue key in anyway.
    // The operator's machine is compromised: it signs the rogue key in anyway,
    // with the override meant for legacy HSMs.
    let mut resp = rogue
        .agent()
        .get(&format!("{}/securitydomain/upload?api-version=7.5", rogue.url))
        .header("Authorization", &format!("Bearer {}", rogue.token()))
        .call()
        .unwrap();
    let body = resp.body_mut().read_to_vec().unwrap();
    let rogue_cert = sd_core::azure::transfer_key::parse_response(&body).unwrap().x5t_s256();
    ok(init_recovery(&dir, &rogue, "sd.json", &["--allow-unattested", &rogue_cert]));
    for who in ["a", "b"] {
        let out = format!("{who}.share.json");
        fails(
            run(&dir, "keyholder", &share_args(&format!("{who}.key"), &out, &[])),
            &["request.json: exchange-key attestation failed at \"attestation root pin\""],
        );
        assert!(!dir.join(&out).exists(), "no share bundle for a rogue key");
    }
}

/// The readable fingerprint `keyholder combiner-init` printed, as a custodian
/// copies it from the combiner laptop's screen.
fn read_aloud_line(stdout: &str) -> String {
    let line = stdout.lines().find(|l| l.trim_start().starts_with("read aloud:")).expect("read aloud line");
    line.trim_start().trim_start_matches("read aloud:").trim().to_owned()
}

/// The attack review's N1 and N2: the operator key sits on the online
/// machine, which may be compromised. With it, an attacker signs a request for
/// a genuine HSM of their own (its evidence chains to the same root as the
/// recovery HSM's, as every real HSM's chains to Intel's), or names their own
/// combiner. Custodians who bring the HSM's name and the combiner's
/// fingerprint from sources the online machine never touched share nothing,
/// and no refused step writes a file; the honest recovery then succeeds.
#[test]
fn the_operator_key_alone_cannot_steer_the_master_key() {
    let dir = scratch("steer-master-key");
    let prod = activated_hsm(&dir, "hsm-prod", "hsm-prod");
    drop(prod); // the disaster
    let recovery = Emulator::start_named(&dir.join("hsm-recovery"), "hsm-recovery");
    let evil = Emulator::start_named(&dir.join("hsm-evil"), "hsm-evil");
    let shown = ok(run(&dir, "keyholder", &["combiner-init", "--out", ".", "--no-passphrase"]));
    let combiner_fp = read_aloud_line(&shown);
    let pin = ["--combiner-fingerprint", combiner_fp.as_str()];
    let share_for = |who: &str, hsm: &'static str| {
        let (key, out) = (format!("{who}.key"), format!("{who}.share.json"));
        let mut args = share_args_pinning(&key, &out, &pin, &[]);
        let at = args.iter().position(|a| *a == TEST_HSM).unwrap();
        args[at] = hsm;
        run(&dir, "keyholder", &args)
    };

    // N1: the real operator key signs a request for hsm-evil, whose exchange key is genuinely attested.
    ok(init_recovery(&dir, &evil, "sd.json", &[]));
    let before = listing(&dir);
    for who in ["a", "b"] {
        let err = fails(
            share_for(who, "hsm-recovery"),
            &["request.json: is for HSM \"hsm-evil\", not the HSM \"hsm-recovery\""],
        );
        assert!(err.contains("hint: check --hsm against the ceremony plan"), "{err}");
    }
    let mut combine = combine_args(&["a.share.json", "b.share.json"], "blob.json", &[]);
    let at = combine.iter().position(|a| *a == TEST_HSM).unwrap();
    combine[at] = "hsm-recovery";
    fails(run(&dir, "keyholder", &combine), &["is for HSM \"hsm-evil\""]);
    assert_eq!(listing(&dir), before, "no refused step writes a file");

    // N2: a request for the right HSM, naming the attacker's combiner.
    ok(run(&dir, "keyholder", &["combiner-init", "--out", "mallory", "--no-passphrase"]));
    let mallory_request = [
        "init-recovery",
        "--sd",
        "sd.json",
        "--combiner",
        "mallory/public/combiner.json",
        "--attestation-root",
        "attestation-root.pem",
        "--operator-key",
        "operator.key",
        "--out",
        "request.json",
        "--force",
    ];
    ok(uploader(&dir, &recovery, &mallory_request));
    let before = listing(&dir);
    for who in ["a", "b"] {
        fails(
            share_for(who, "hsm-recovery"),
            &["request.json: names combiner ", &format!("not the combiner you pinned ({combiner_fp})")],
        );
    }
    assert_eq!(listing(&dir), before, "no refused step writes a file");

    // The honest request: custodians share, the combiner combines, the recovery HSM comes up.
    ok(init_recovery(&dir, &recovery, "sd.json", &["--force"]));
    for who in ["a", "b"] {
        ok(share_for(who, "hsm-recovery"));
    }
    ok(run(&dir, "keyholder", &combine));
    let out = ok(uploader(&dir, &recovery, &["upload", "--restore-blob", "blob.json"]));
    assert!(out.contains("Success: The resource is active."), "{out}");
}

/// Key files never travel: the operator's tools refuse a combiner bundle
/// read from a folder that holds a private key.
#[test]
fn init_recovery_refuses_a_combiner_from_key_bearing_media() {
    let dir = scratch("combiner-beside-key");
    let emu = activated_hsm(&dir, "hsm", TEST_HSM);
    ok(run(
        &dir,
        "keyholder",
        &["combiner-init", "--out", "media", "--public-out", "media", "--no-passphrase"],
    ));
    let mut args = vec!["init-recovery", "--sd", "sd.json", "--combiner", "media/combiner.json"];
    args.extend(["--operator-key", "operator.key", "--out", "request.json"]);
    let err = refused_untouched(
        &dir,
        || uploader(&dir, &emu, &args),
        &[
            "media/combiner.json: the combiner's public bundle sits beside a private key (combiner.key)",
            "hint: bring only the public folder",
        ],
    );
    assert!(!err.contains("passphrase"), "refused before the operator key is unlocked: {err}");
}

/// A recovery years after the activation: the operator certificate made then
/// (here, a two-year one, as operator-init used to make) is renewed before it
/// ends, custodians check the handover against the operator they pinned and
/// pin the successor, and at +800 days (the tools' clock moved with
/// HSM_CEREMONY_NOW, nothing sleeps) the whole recovery succeeds. The old key,
/// near its end or past it, may sign nothing, and an expired one cannot hand over.
#[test]
fn a_recovery_800_days_later_works_with_a_renewed_operator() {
    const DAY: u64 = 86_400;
    let dir = scratch("operator-lifetime");
    let t0 = std::time::UNIX_EPOCH.elapsed().unwrap().as_secs();
    for n in ["a", "b", "c"] {
        ok(run(&dir, "keyholder", &init_here(n, &["--no-passphrase", "--days", "3650"])));
    }
    ok(run(&dir, "uploader", &["operator-init", "--out", ".", "--days", "730", "--no-passphrase"]));
    let prod = Emulator::start(&dir.join("hsm-prod"));
    ok(activate(&dir, &prod, &["a", "b", "c"], 2, "sd.json", &[]));
    drop(prod);

    // Day 710: the old certificate has 20 days left. It may sign nothing a recovery relies on.
    let day710 = t0 + 710 * DAY;
    let soon = Emulator::start_at(&dir.join("hsm-710"), TEST_HSM, day710);
    ok(run_at(day710, &dir, "keyholder", &["combiner-init", "--out", "c710", "--no-passphrase"]));
    let mut args = soon.target();
    args.extend(
        ["init-recovery", "--sd", "sd.json", "--combiner", "c710/public/combiner.json"].map(String::from),
    );
    args.extend(
        ["--attestation-root", "attestation-root.pem", "--operator-key", "operator.key", "--out", "r.json"]
            .map(String::from),
    );
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let err = fails(
        run_at(day710, &dir, "uploader", &refs),
        &[
            "operator.key: the operator certificate ends at",
            "day(s) from now",
            "hint: renew it while it is still valid: `uploader operator-renew",
        ],
    );
    assert!(err.contains("note: HSM_CEREMONY_NOW sets this tool's clock"), "a moved clock is said: {err}");
    assert!(!dir.join("r.json").exists());
    drop(soon);
    // So the operator renews, while the old certificate is still valid.
    let renew = ["operator-renew", "--operator-key", "operator.key", "--out", "op2", "--no-passphrase"];
    let out = ok(run_at(day710, &dir, "uploader", &renew));
    assert!(out.contains("wrote op2/public/operator-handover.json"), "{out}");
    // Each custodian checks the handover against the operator they pinned at the activation.
    let shown = ok(run_at(
        day710,
        &dir,
        "keyholder",
        &["verify", "op2/public/operator-handover.json", "--operator-cert", "operator.cer"],
    ));
    assert!(shown.contains("valid operator handover"), "{shown}");
    let new_fp = shown
        .split("new operator: CN=operator")
        .nth(1)
        .and_then(|rest| rest.lines().find_map(|l| l.trim_start().strip_prefix("read aloud:")))
        .expect("the new operator's fingerprint")
        .trim()
        .to_owned();
    // Someone else's certificate as the pin: refused.
    fails(
        run_at(
            day710,
            &dir,
            "keyholder",
            &["verify", "op2/public/operator-handover.json", "--operator-cert", "a.cer"],
        ),
        &["not by the pinned operator"],
    );

    // Day 800: the disaster. The old operator has expired; the new one recovers.
    let day800 = t0 + 800 * DAY;
    let recovery = Emulator::start_at(&dir.join("hsm-800"), TEST_HSM, day800);
    let shown = ok(run_at(day800, &dir, "keyholder", &["combiner-init", "--out", ".", "--no-passphrase"]));
    let combiner_fp = read_aloud_line(&shown);
    let request = |key: &str| {
        let mut args = recovery.target();
        args.extend(
            ["init-recovery", "--sd", "sd.json", "--combiner", "public/combiner.json"].map(String::from),
        );
        args.extend(
            ["--attestation-root", "attestation-root.pem", "--operator-key", key, "--out", "request.json"]
                .map(String::from),
        );
        args
    };
    let old = request("operator.key");
    let refs: Vec<&str> = old.iter().map(String::as_str).collect();
    fails(run_at(day800, &dir, "uploader", &refs), &["the operator certificate expired at"]);
    let late = ["operator-renew", "--operator-key", "operator.key", "--out", "op3", "--no-passphrase"];
    fails(
        run_at(day800, &dir, "uploader", &late),
        &["operator.key: the operator certificate expired at", "an expired operator cannot hand over"],
    );
    assert!(!dir.join("op3/operator.key").exists(), "nothing generated for a refused renewal");
    let new = request("op2/operator.key");
    let refs: Vec<&str> = new.iter().map(String::as_str).collect();
    ok(run_at(day800, &dir, "uploader", &refs));
    let pins = ["--operator-fingerprint", new_fp.as_str(), "--combiner-fingerprint", combiner_fp.as_str()];
    for who in ["a", "b"] {
        let (key, out) = (format!("{who}.key"), format!("{who}.share.json"));
        let mut args = vec!["share", "--sd", "sd.json", "--request", "request.json", "--hsm", TEST_HSM];
        args.extend(["--attestation-root", "attestation-root.pem", "--key", &key, "--out", &out]);
        args.extend(pins);
        ok(run_at(day800, &dir, "keyholder", &args));
    }
    let mut combine = vec!["combine", "--sd", "sd.json", "--request", "request.json", "--hsm", TEST_HSM];
    combine.extend(["--operator-fingerprint", &new_fp, "--attestation-root", "attestation-root.pem"]);
    combine.extend(["--combiner-key", "combiner.key", "--share", "a.share.json", "--share", "b.share.json"]);
    combine.extend(["--out", "blob.json"]);
    ok(run_at(day800, &dir, "keyholder", &combine));
    let mut args = recovery.target();
    args.extend(["upload", "--restore-blob", "blob.json"].map(String::from));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = ok(run_at(day800, &dir, "uploader", &refs));
    assert!(out.contains("Success: The resource is active."), "{out}");
}
