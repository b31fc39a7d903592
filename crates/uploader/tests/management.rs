//! The management plane through the uploader against the emulator's Resource
//! Manager: provisioning, the soft-delete lifecycle, purge protection,
//! recover, name rules, and a restart in the middle of provisioning.

use std::path::Path;

use ceremony_tests::*;

const ADMIN: &str = "11111111-2222-4333-8444-555555555555";

fn provision(dir: &Path, emu: &Emulator, name: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["provision", "--name", name, "--resource-group", "rg", "--location", "westeurope"];
    args.extend(["--administrator", ADMIN]);
    args.extend(extra);
    manage(dir, emu, &args)
}

/// The data-plane target of an HSM the emulator provisioned.
fn target_of(emu: &Emulator, name: &str) -> Vec<String> {
    let url = std::fs::read_to_string(emu.dir.join(format!("hsms/{name}/url"))).unwrap();
    vec![
        "--hsm-url".into(),
        url,
        "--hsm-name".into(),
        name.into(),
        "--ca-cert".into(),
        emu.dir.join("ca.pem").display().to_string(),
        "--token-file".into(),
        emu.dir.join("token").display().to_string(),
    ]
}

fn data(dir: &Path, emu: &Emulator, name: &str, args: &[&str]) -> std::process::Output {
    let mut all = target_of(emu, name);
    all.extend(args.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    run(dir, "uploader", &refs)
}

/// Asserts a usage error (exit 2, nothing done) whose message holds every needle.
#[track_caller]
fn usage_error(o: std::process::Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
    }
}

/// N3 of the attack review: a resource group, location or subscription that
/// would put more path into the URL (another HSM, the whole group) is
/// refused before any call, each field on its own; both HSMs survive.
#[test]
fn names_that_would_reach_another_resource_are_refused_before_any_call() {
    let dir = scratch("manage-names");
    let emu = Emulator::start(&dir.join("emu"));
    ok(provision(&dir, &emu, "keepme", &["--create-resource-group"]));
    ok(provision(&dir, &emu, "victim", &[]));
    let attack = "rg/providers/Microsoft.KeyVault/managedHSMs/keepme?";
    let refused: [(&[&str], &str); 6] = [
        (&["delete", "--name", "victim", "--resource-group", attack, "--yes"], "--resource-group <RG>"),
        (&["delete", "--name", "victim", "--resource-group", "rg?", "--yes"], "--resource-group <RG>"),
        (&["show", "--name", "victim", "--resource-group", "rg."], "--resource-group <RG>"),
        (&["purge", "--name", "victim", "--location", "westeurope/../x", "--yes"], "--location <LOCATION>"),
        (
            &["recover", "--name", "victim", "--resource-group", "rg", "--location", "West Europe"],
            "--location <LOCATION>",
        ),
        (&["delete", "--name", "keepme/x", "--resource-group", "rg", "--yes"], "--name <NAME>"),
    ];
    for (args, flag) in refused {
        usage_error(manage(&dir, &emu, args), &[flag, "invalid value"]);
    }
    let ca = emu.dir.join("ca.pem").display().to_string();
    let token = emu.dir.join("token").display().to_string();
    let arm_url = std::fs::read_to_string(emu.dir.join("arm-url")).unwrap();
    let o = run(
        &dir,
        "uploader",
        &["--ca-cert", &ca, "show", "--name", "victim", "--resource-group", "rg"]
            .into_iter()
            .chain([
                "--arm-url",
                arm_url.trim(),
                "--arm-token-file",
                &token,
                "--subscription",
                "sub/../other",
            ])
            .collect::<Vec<_>>(),
    );
    usage_error(o, &["--subscription <ID>", "a GUID"]);
    for name in ["keepme", "victim"] {
        let shown = ok(manage(&dir, &emu, &["show", "--name", name, "--resource-group", "rg", "--json"]));
        assert!(shown.contains("\"Succeeded\""), "{name} survived: {shown}");
    }
}

/// Resource Manager's refusals carry Resource Manager's hints, never the
/// data plane's: a wrong token is one for https://management.azure.com.
#[test]
fn resource_manager_errors_say_resource_manager() {
    let dir = scratch("manage-hints");
    let emu = Emulator::start(&dir.join("emu"));
    std::fs::write(dir.join("wrong-token"), "not-the-token").unwrap();
    let arm_url = std::fs::read_to_string(emu.dir.join("arm-url")).unwrap();
    let ca = emu.dir.join("ca.pem").display().to_string();
    let args = [
        "--ca-cert",
        &ca,
        "show",
        "--name",
        "contoso",
        "--resource-group",
        "rg",
        "--arm-url",
        arm_url.trim(),
    ];
    let o = run(
        &dir,
        "uploader",
        &[&args[..], &["--arm-token-file", "wrong-token", "--subscription", TEST_SUBSCRIPTION]].concat(),
    );
    let err = fails(
        o,
        &["HTTP 401", "hint: the Resource Manager token was refused", "https://management.azure.com"],
    );
    assert!(!err.contains("managedhsm.azure.net"), "a data-plane hint for Resource Manager:\n{err}");
}

#[test]
fn provision_delete_purge_and_the_name_rules() {
    let dir = scratch("manage-lifecycle");
    let emu = Emulator::start(&dir.join("emu"));

    // Refused before any call: bad names, retention outside 7..90, a missing group.
    for bad in ["ab", "1contoso", "contoso-", "con--toso", "has_underscore"] {
        usage_error(provision(&dir, &emu, bad, &[]), &["--name <NAME>", "3 to 24 letters"]);
    }
    for days in ["6", "91"] {
        let o = provision(&dir, &emu, "contoso", &["--retention-days", days]);
        assert_eq!(o.status.code(), Some(2), "retention {days} is a usage error");
    }
    fails(
        provision(&dir, &emu, "contoso", &[]),
        &["resource group \"rg\" does not exist", "--create-resource-group"],
    );

    // Provisioned with every option: progress, then the URI and NotActivated.
    let o = provision(
        &dir,
        &emu,
        "contoso",
        &["--create-resource-group", "--retention-days", "7", "--purge-protection"],
    );
    let out = ok(o.clone());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("purge protection cannot be turned off"), "{err}");
    assert!(err.contains("Resource creation in progress") || err.contains("Succeeded"), "{err}");
    assert!(out.contains("created resource group rg in westeurope"), "{out}");
    assert!(out.contains("activation:       NotActivated"), "{out}");
    assert!(out.contains("retention:        7 days") && out.contains("purge protection: true"), "{out}");
    assert!(out.contains("uploader --hsm contoso activate"), "{out}");
    let shown = ok(manage(&dir, &emu, &["show", "--name", "contoso", "--resource-group", "rg", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(v["properties"]["provisioningState"], "Succeeded");
    assert_eq!(v["properties"]["initialAdminObjectIds"][0], ADMIN);
    // The name is taken now.
    fails(provision(&dir, &emu, "contoso", &[]), &["the name \"contoso\" is not available"]);

    // A second one without purge protection: delete, list, purge, and the name is free.
    ok(provision(&dir, &emu, "fabrikam", &["--retention-days", "7"]));
    fails(manage(&dir, &emu, &["delete", "--name", "fabrikam", "--resource-group", "rg"]), &["pass --yes"]);
    let out = ok(manage(&dir, &emu, &["delete", "--name", "fabrikam", "--resource-group", "rg", "--yes"]));
    assert!(out.contains("billed until it is purged") && out.contains("scheduled purge"), "{out}");
    assert!(out.contains("uploader purge --name fabrikam --location westeurope"), "{out}");
    let listed = ok(manage(&dir, &emu, &["list-deleted"]));
    assert!(
        listed.contains("fabrikam  westeurope  deleted") && listed.contains("scheduled purge"),
        "{listed}"
    );
    // Its name is refused for a new HSM, with the way out.
    fails(
        provision(&dir, &emu, "fabrikam", &[]),
        &[
            "soft-deleted",
            "uploader purge --name fabrikam --location westeurope",
            "uploader recover --name fabrikam",
        ],
    );
    fails(manage(&dir, &emu, &["purge", "--name", "fabrikam", "--location", "westeurope"]), &["pass --yes"]);
    ok(manage(&dir, &emu, &["purge", "--name", "fabrikam", "--location", "westeurope", "--yes"]));
    assert!(!ok(manage(&dir, &emu, &["list-deleted"])).contains("fabrikam"));
    ok(provision(&dir, &emu, "fabrikam", &["--retention-days", "7"]));

    // Purge protection holds the deleted HSM until its date.
    ok(manage(&dir, &emu, &["delete", "--name", "contoso", "--resource-group", "rg", "--yes"]));
    fails(
        manage(&dir, &emu, &["purge", "--name", "contoso", "--location", "westeurope", "--yes"]),
        &["contoso has purge protection: it cannot be purged before"],
    );
    assert!(ok(manage(&dir, &emu, &["list-deleted"])).contains("(purge protection)"));
    // Its name is refused, and the way out offered is not a purge that would be refused too.
    let needles = ["under purge protection", "uploader recover --name contoso", "or choose another name"];
    assert!(!fails(provision(&dir, &emu, "contoso", &[]), &needles).contains("uploader purge"));
}

#[test]
fn recover_brings_back_the_same_hsm_with_its_keys() {
    let dir = scratch("manage-recover");
    let emu = Emulator::start(&dir.join("emu"));
    ceremony_people(&dir, &["a", "b", "c"]);
    ok(provision(&dir, &emu, "contoso", &["--create-resource-group", "--retention-days", "7"]));
    // Activate it and make a key, as its administrator.
    let activate = activate_args(&["a", "b", "c"], 2, "sd.json");
    ok(data(&dir, &emu, "contoso", &activate.iter().map(String::as_str).collect::<Vec<_>>()));
    ok(data(
        &dir,
        &emu,
        "contoso",
        &["role", "assign", "--role", "Managed HSM Crypto User", "--principal", ADMIN],
    ));
    ok(data(&dir, &emu, "contoso", &["key", "create", "--name", "kept"]));
    let shown = ok(manage(&dir, &emu, &["show", "--name", "contoso", "--resource-group", "rg"]));
    assert!(shown.contains("activation:       Active"), "{shown}");
    // Deleted: the data plane is gone.
    ok(manage(&dir, &emu, &["delete", "--name", "contoso", "--resource-group", "rg", "--yes"]));
    assert!(!data(&dir, &emu, "contoso", &["status", "--download"]).status.success());
    // Recovered: the same HSM, active, with its key.
    let out = ok(manage(
        &dir,
        &emu,
        &["recover", "--name", "contoso", "--resource-group", "rg", "--location", "westeurope"],
    ));
    assert!(out.contains("activation:       Active"), "{out}");
    std::fs::write(dir.join("m.txt"), "survived").unwrap();
    ok(data(
        &dir,
        &emu,
        "contoso",
        &["key", "encrypt", "--name", "kept", "--in", "m.txt", "--out", "m.json"],
    ));
    assert!(!ok(manage(&dir, &emu, &["list-deleted"])).contains("contoso"));
}

#[test]
fn a_restart_in_the_middle_of_provisioning_finishes_it() {
    let dir = scratch("manage-restart");
    let emu = Emulator::start(&dir.join("emu"));
    ok(manage(
        &dir,
        &emu,
        &[
            "provision",
            "--name",
            "restarted",
            "--resource-group",
            "rg",
            "--location",
            "l",
            "--administrator",
            ADMIN,
            "--create-resource-group",
        ],
    ));
    // Provision another, and kill the emulator while it provisions.
    let arm_url = std::fs::read_to_string(emu.dir.join("arm-url")).unwrap();
    let token = std::fs::read_to_string(emu.dir.join("token")).unwrap();
    let agent = emu.agent();
    let body = serde_json::json!({"location": "l", "properties": {"initialAdminObjectIds": [ADMIN]}});
    let resp = agent
        .put(&format!(
            "{}/subscriptions/{TEST_SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/midway?api-version=2024-11-01",
            arm_url.trim()
        ))
        .header("Authorization", &format!("Bearer {}", token.trim()))
        .send(body.to_string().as_bytes())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    emu.kill();
    let emu = Emulator::start(&dir.join("emu"));
    std::thread::sleep(std::time::Duration::from_millis(800));
    for name in ["restarted", "midway"] {
        let shown = ok(manage(&dir, &emu, &["show", "--name", name, "--resource-group", "rg"]));
        assert!(shown.contains("Succeeded: The Managed HSM is provisioned"), "{shown}");
        // Its data plane answers, on a new port: not activated yet.
        fails(
            data(&dir, &emu, name, &["status", "--download"]),
            &["HTTP 404", "No such security domain operation"],
        );
    }
}
