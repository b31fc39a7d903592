//! keyholder on Azure's real SD files with the quorum keys from Azure's test suite.

use crate::common::*;

const KEYS: &str = "azure-sdk-for-python/sdk/keyvault/azure-keyvault-securitydomain/tests/resources";

#[test]
fn check_and_restore_blob_on_real_azure_files() {
    let v = vectors();
    let dir = scratch("azure-vectors");
    for i in 0..3 {
        for ext in ["pem", "cer"] {
            std::fs::copy(
                v.join(format!("{KEYS}/certificate{i}.{ext}")),
                dir.join(format!("certificate{i}.{ext}")),
            )
            .unwrap();
        }
    }
    std::fs::copy(v.join("azure-cli/security_domain_keys/sdtest/sdfile.json"), dir.join("sd2020.json"))
        .unwrap();
    std::fs::copy(
        v.join("azure-cli/extracted/recording-2025-04-22-download-sd.json"),
        dir.join("sd2025.json"),
    )
    .unwrap();
    // az's own test exchange key (no evidence, no HSM name, no keyEncipherment), for the refusals;
    // the blobs go to an exchange key attested for the test HSM under the test root.
    std::fs::copy(v.join("generated/az-2.91.0-restore-blob/test-exchange.pem"), dir.join("az-exchange.pem"))
        .unwrap();
    ceremony_tests::install_exchange(&dir);
    std::fs::copy(v.join("azure-cli/sdkeys2/cert_0.key"), dir.join("other.key")).unwrap();

    for sd in ["sd2020.json", "sd2025.json"] {
        for i in 0..3 {
            let out = ok(keyholder(&dir, &["check", "--sd", sd, "--key", &format!("certificate{i}.pem")]));
            assert!(out.starts_with(&format!("share {} of 3 opens (quorum 2)", i + 1)), "{out}");
        }
        fails(
            keyholder(&dir, &["check", "--sd", sd, "--key", "other.key"]),
            &["other.key: this key opens no share"],
        );
        let blob = format!("{sd}.blob");
        ok(keyholder(
            &dir,
            &Cmd::restore_blob(sd, &["certificate2.pem", "certificate0.pem"], &blob).as_args(),
        ));
        let blob = sd_core::azure::restore_blob::RestoreBlob::parse(&std::fs::read(dir.join(&blob)).unwrap())
            .unwrap();
        let key = sd_core::pki::private_key::from_pem(
            &std::fs::read_to_string(dir.join("exchange.key")).unwrap(),
            None,
        )
        .unwrap();
        let opened = blob.open(&key).unwrap();
        let tags: Vec<&str> = opened.iter().map(|s| s.tag.as_str()).collect();
        assert_eq!(tags, ["hsm_backup", "base_enclave_backup", "partition_enclave_backup"]);
    }
    // az's test key, unattested, gets nothing, before any key is unlocked; and its
    // confirmed fingerprint waives only the evidence, not its certificate's faults.
    let before = listing(&dir);
    let x5t = load_cert(&dir.join("az-exchange.pem")).x5t_s256();
    let refused = |extra: &[&str]| {
        let mut args = vec!["restore-blob", "--hsm", "azure-test", "--sd", "sd2020.json"];
        args.extend(["--exchange-key", "az-exchange.pem", "--key", "certificate2.pem"]);
        args.extend(["--key", "certificate0.pem", "--out", "refused.blob"]);
        args.extend(extra);
        keyholder(&dir, &args)
    };
    fails(
        refused(&[]),
        &[
            "az-exchange.pem: exchange-key attestation failed at",
            "hint: `keyholder exchange-key FILE --hsm NAME`",
        ],
    );
    fails(
        refused(&["--allow-unattested", &x5t]),
        &["az-exchange.pem: exchange-key attestation failed at \"certificate keyEncipherment\""],
    );
    assert_eq!(listing(&dir), before);
    // Golden value of the 2020 file's hsm_backup plaintext (AZURE-SD-FORMAT.md §9).
    let blob = sd_core::azure::restore_blob::RestoreBlob::parse(
        &std::fs::read(dir.join("sd2020.json.blob")).unwrap(),
    )
    .unwrap();
    let key = sd_core::pki::private_key::from_pem(
        &std::fs::read_to_string(dir.join("exchange.key")).unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(
        sd_core::primitives::hex::sha256_hex(blob.open(&key).unwrap()[0].data.expose()),
        "ca010d00e3cfef35c6a08af658b2adf86a3fc22aeb45058ad5de770f6f28515b"
    );
    let fp = ok(keyholder(&dir, &["fingerprint", "certificate0.cer"]));
    assert!(fp.contains("vODZF4xDVWHyFob2nfI5Li1MPOmEhVJqlnojTK_HuYg"), "{fp}");
}

/// `keyholder exchange-key` on Azure's real transfer-key responses.
#[test]
fn exchange_key_command_on_real_azure_responses() {
    let dir = scratch("exchange-key-vectors");
    let tk = vectors().join("azure-cli/transfer-keys");
    let v2025 = tk.join("azure-cli-2025-04-22-test-mhsm-sd2q2avldvp4tl.json");
    let v2025 = v2025.to_str().unwrap();
    let hsm = "test-mhsm-sd2q2avldvp4tl";
    let out = ok(keyholder(&dir, &["fingerprint", v2025]));
    assert!(
        out.starts_with("transfer-key response")
            && out.contains("wGaLpPbFtC8C85LDJlnn7jdp53x6NOxS8MZmd-l8Rb0"),
        "{out}"
    );
    let out = ok(keyholder(&dir, &["exchange-key", v2025, "--hsm", hsm, "--at", "2025-04-22T09:00:00Z"]));
    assert_eq!(out.lines().filter(|l| l.starts_with("PASS ")).count(), 17, "{out}");
    assert!(out.contains("PASS attestation root pin: root key SHA-256 a0af0312"), "{out}");
    assert!(out.contains("TCB status and revocation were NOT checked (no --collateral)"), "{out}");
    assert!(out.trim_end().ends_with("PASS: every check passed"), "{out}");
    // With Intel's collateral: the platform's TCB status, as Intel rates it.
    let collateral = vectors().join("intel-collateral");
    let out = ok(keyholder(
        &dir,
        &[
            "exchange-key",
            v2025,
            "--hsm",
            hsm,
            "--at",
            "2025-04-22T09:00:00Z",
            "--collateral",
            collateral.to_str().unwrap(),
        ],
    ));
    assert!(out.contains("PASS platform TCB: OutOfDateConfigurationNeeded"), "{out}");
    assert!(out.contains("PASS QE TCB: UpToDate"), "{out}");
    // JSON.
    let json =
        ok(keyholder(&dir, &["exchange-key", v2025, "--hsm", hsm, "--at", "2025-04-22T09:00:00Z", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!((v["verdict"].as_str(), v["checks"].as_array().unwrap().len()), (Some("pass"), 17));
    assert_eq!(v["platform"]["fmspc"], "00606a000000");
    // Another HSM's name; today's date (expired, with the clock named).
    let o = keyholder(&dir, &["exchange-key", v2025, "--hsm", "contoso", "--at", "2025-04-22T09:00:00Z"]);
    assert!(stdout(&o).contains("FAIL certificate names the HSM"), "{}", stdout(&o));
    fails(o, &["the exchange key did not pass its attestation"]);
    let o = keyholder(&dir, &["exchange-key", v2025, "--hsm", hsm]);
    assert!(stdout(&o).contains("if the local clock is wrong, set it (or give --at)"), "{}", stdout(&o));
    fails(o, &["did not pass"]);
    // The legacy, unattested key: refused.
    let legacy = tk.join("azure-cli-2020-09-14-clitest0914b-legacy-no-attestation.json");
    let legacy = legacy.to_str().unwrap();
    let at = "2020-09-14T12:00:00Z";
    fails(keyholder(&dir, &["exchange-key", legacy, "--hsm", "clitest0914b", "--at", at]), &["did not pass"]);
    let x5t =
        sd_core::azure::transfer_key::parse_response(&std::fs::read(legacy).unwrap()).unwrap().x5t_s256();
    // Its confirmed fingerprint waives the evidence only: its 2020 certificate (no CA:FALSE,
    // CN "transfer-key") still fails, so such a legacy key is no longer accepted.
    let o = keyholder(
        &dir,
        &["exchange-key", legacy, "--hsm", "clitest0914b", "--at", at, "--allow-unattested", &x5t],
    );
    assert!(stdout(&o).contains("FAIL certificate CA:FALSE"), "{}", stdout(&o));
    fails(o, &["did not pass"]);
    fails(
        keyholder(&dir, &["exchange-key", v2025, "--hsm", hsm, "--at", "yesterday"]),
        &["--at \"yesterday\" is not an RFC 3339"],
    );
}
