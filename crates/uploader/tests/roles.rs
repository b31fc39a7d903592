//! Local RBAC through the uploader against the emulator: assign, list and
//! delete role assignments; a principal without a role is refused with
//! Azure's 403, a key-scoped role covers that key only, and the security
//! domain stays the administrator's.

use ceremony_tests::*;

#[test]
fn roles_are_assigned_listed_enforced_and_removed() {
    let dir = scratch("uploader-roles");
    let emu = activated_hsm(&dir, "hsm", TEST_HSM);
    let admin = emu.principal();

    // The administrator alone: the security domain yes, keys no (as on a real HSM).
    let list = ok(uploader(&dir, &emu, &["role", "list", "--json"]));
    let rows: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(rows[0]["role"], "Managed HSM Administrator");
    assert_eq!(rows[0]["principal"], admin.as_str());
    fails(uploader(&dir, &emu, &["key", "create", "--name", "k"]), &["HTTP 403 Forbidden", "keys/create"]);
    grant_crypto_user(&dir, &emu);
    ok(uploader(&dir, &emu, &["key", "create", "--name", "app-key"]));
    ok(uploader(&dir, &emu, &["key", "create", "--name", "other-key"]));

    // An application with no role: refused everything, with Azure's 403.
    let app_id = "0a0a0a0a-1111-4222-8333-444444444444";
    let app = principal_token(&emu, app_id);
    std::fs::write(dir.join("m.txt"), "for the application").unwrap();
    let encrypt = |key: &str| {
        uploader_as(
            &dir,
            &emu,
            &app,
            &["key", "encrypt", "--name", key, "--in", "m.txt", "--out", &format!("{key}.json")],
        )
    };
    fails(encrypt("app-key"), &["HTTP 403 Forbidden", "Caller is not authorized", app_id]);
    // Granted Crypto User on one key: that key only.
    let crypto_user = |principal: &str, scope: &str| {
        let args = [
            "role",
            "assign",
            "--role",
            "Managed HSM Crypto User",
            "--principal",
            principal,
            "--scope",
            scope,
        ];
        uploader(&dir, &emu, &args)
    };
    let out = ok(crypto_user(app_id, "/keys/app-key"));
    assert!(
        out.starts_with(&format!("assigned Managed HSM Crypto User to {app_id} at /keys/app-key")),
        "{out}"
    );
    ok(encrypt("app-key"));
    fails(encrypt("other-key"), &["HTTP 403"]);
    // Never the security domain, and no role management.
    fails(uploader_as(&dir, &emu, &app, &["status", "--download"]), &["HTTP 403"]);
    fails(uploader_as(&dir, &emu, &app, &["role", "list"]), &["HTTP 403"]);
    fails(
        uploader_as(
            &dir,
            &emu,
            &app,
            &["role", "assign", "--role", "Managed HSM Administrator", "--principal", app_id],
        ),
        &["HTTP 403"],
    );
    fails(
        uploader_as(&dir, &emu, &app, &["init-recovery", "--sd", "sd.json", "--exchange-key-out", "x.pem"]),
        &["HTTP 403"],
    );

    // Listed with role names at its scope; removed, and refused again.
    let list = ok(uploader(&dir, &emu, &["role", "list", "--scope", "/keys/app-key", "--json"]));
    let rows: serde_json::Value = serde_json::from_str(&list).unwrap();
    let row =
        rows.as_array().unwrap().iter().find(|r| r["principal"] == app_id).expect("the assignment").clone();
    assert_eq!(row["scope"], "/keys/app-key");
    let name = row["name"].as_str().unwrap();
    ok(uploader(&dir, &emu, &["role", "delete", "--name", name, "--scope", "/keys/app-key"]));
    std::fs::remove_file(dir.join("app-key.json")).unwrap();
    fails(encrypt("app-key"), &["HTTP 403"]);
    // Deleted already: said so, with where to look (not a bare 404).
    fails(
        uploader(&dir, &emu, &["role", "delete", "--name", name, "--scope", "/keys/app-key"]),
        &[
            &format!("no role assignment {name} at scope /keys/app-key"),
            "hint: `uploader role list --scope SCOPE`",
        ],
    );

    // Refused before any call: an unknown role, a bad scope, a principal that is not an object ID.
    fails(
        uploader(&dir, &emu, &["role", "assign", "--role", "Owner", "--principal", app_id]),
        &["--role \"Owner\" is not a role of this HSM", "Managed HSM Crypto User"],
    );
    fails(crypto_user(app_id, "/secrets"), &["a Managed HSM scope is /, /keys or /keys/NAME"]);
    fails(crypto_user("alice", "/"), &["is not an object ID"]);
}
