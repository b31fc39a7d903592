//! keyholder on Azure's real SD files with the quorum keys from Azure's test suite.

mod common;

use common::*;

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
    std::fs::copy(v.join("generated/az-2.91.0-restore-blob/test-exchange.pem"), dir.join("exchange.pem"))
        .unwrap();
    std::fs::copy(v.join("generated/az-2.91.0-restore-blob/test-exchange.key"), dir.join("exchange.key"))
        .unwrap();
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
        // az's test exchange key carries no attestation: only its confirmed fingerprint admits it.
        let x5t = load_cert(&dir.join("exchange.pem")).x5t_s256();
        ok(keyholder(
            &dir,
            &[
                "restore-blob",
                "--hsm",
                "azure-test",
                "--allow-unattested",
                &x5t,
                "--sd",
                sd,
                "--exchange-key",
                "exchange.pem",
                "--key",
                "certificate2.pem",
                "--key",
                "certificate0.pem",
                "--out",
                &blob,
            ],
        ));
        let blob =
            sd_core::restore_blob::RestoreBlob::parse(&std::fs::read(dir.join(&blob)).unwrap()).unwrap();
        let key =
            sd_core::private_key::from_pem(&std::fs::read_to_string(dir.join("exchange.key")).unwrap(), None)
                .unwrap();
        let opened = blob.open(&key).unwrap();
        let tags: Vec<&str> = opened.iter().map(|s| s.tag.as_str()).collect();
        assert_eq!(tags, ["hsm_backup", "base_enclave_backup", "partition_enclave_backup"]);
    }
    // Without the confirmed fingerprint, the unattested key gets nothing, before any key is unlocked.
    let before = listing(&dir);
    fails(
        keyholder(
            &dir,
            &[
                "restore-blob",
                "--hsm",
                "azure-test",
                "--sd",
                "sd2020.json",
                "--exchange-key",
                "exchange.pem",
                "--key",
                "certificate2.pem",
                "--key",
                "certificate0.pem",
                "--out",
                "refused.blob",
            ],
        ),
        &[
            "exchange.pem: exchange-key attestation failed at",
            "hint: `keyholder exchange-key FILE --hsm NAME`",
        ],
    );
    assert_eq!(listing(&dir), before);
    // Golden value of the 2020 file's hsm_backup plaintext (AZURE-SD-FORMAT.md §9).
    let blob =
        sd_core::restore_blob::RestoreBlob::parse(&std::fs::read(dir.join("sd2020.json.blob")).unwrap())
            .unwrap();
    let key =
        sd_core::private_key::from_pem(&std::fs::read_to_string(dir.join("exchange.key")).unwrap(), None)
            .unwrap();
    assert_eq!(
        sd_core::sha256_hex(blob.open(&key).unwrap()[0].data.expose()),
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
    // The legacy, unattested key: refused, and admitted only by its confirmed fingerprint.
    let legacy = tk.join("azure-cli-2020-09-14-clitest0914b-legacy-no-attestation.json");
    let legacy = legacy.to_str().unwrap();
    let at = "2020-09-14T12:00:00Z";
    fails(keyholder(&dir, &["exchange-key", legacy, "--hsm", "clitest0914b", "--at", at]), &["did not pass"]);
    let x5t = sd_core::transfer_key::parse_response(&std::fs::read(legacy).unwrap()).unwrap().x5t_s256();
    let out = ok(keyholder(
        &dir,
        &["exchange-key", legacy, "--hsm", "clitest0914b", "--at", at, "--allow-unattested", &x5t],
    ));
    assert!(out.contains("PASS (UNATTESTED)"), "{out}");
    fails(
        keyholder(&dir, &["exchange-key", v2025, "--hsm", hsm, "--at", "yesterday"]),
        &["--at \"yesterday\" is not an RFC 3339"],
    );
}
