//! Replays, against the emulator, every data-plane exchange that real Managed
//! HSMs answered in Azure's own test recordings, and the Resource Manager
//! exchanges of the 2025 one (see [`MANAGED`]),
//! (`shared/vectors/azure-cli/exchanges/recorded-exchanges.json`): the same
//! requests in the same order, with fresh certificates, keys and blobs where
//! the recording had its own, and compares each answer with the recorded one:
//! status, the headers that matter (their values, and their absence), and the
//! body's shape (members, types, enumerated values, array lengths).
//! Recorded timings are compressed (a poll is repeated until the recorded
//! state comes, as a client would), never the sequence of states.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ceremony_tests::*;
use sd_core::primitives::b64;
use serde_json::{Value, json};

fn recordings() -> Value {
    let dir = std::env::var_os("HSM_CEREMONY_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"));
    let path = dir.join("azure-cli/exchanges/recorded-exchanges.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .expect("recorded-exchanges.json")
}

/// Checks `v` against a recorded shape; differences go to `errors`.
fn check_shape(shape: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let mut fail = |what: String| errors.push(format!("{at}: {what} (got {v})"));
    match shape {
        Value::String(t) if t == "integer" => {
            if !v.is_i64() && !v.is_u64() {
                fail("expected an integer".into());
            }
        }
        Value::String(t) if t == "boolean" => {
            if !v.is_boolean() {
                fail("expected a boolean".into());
            }
        }
        Value::String(t) if t.starts_with("string") => {
            if !v.is_string() {
                fail("expected a string".into());
            }
        }
        Value::Object(o) if o.contains_key("$enum") => {
            if !o["$enum"].as_array().is_some_and(|e| e.contains(v)) {
                fail(format!("expected one of {}", o["$enum"]));
            }
        }
        Value::Object(o) if o.contains_key("$json") => match v.as_str().map(serde_json::from_str::<Value>) {
            Some(Ok(inner)) => check_shape(&o["$json"], &inner, &format!("{at}(json)"), errors),
            _ => fail("expected a string holding JSON".into()),
        },
        Value::Object(o) if o.contains_key("$array") => {
            let Some(items) = v.as_array() else {
                return fail("expected an array".into());
            };
            let len = &o["$len"];
            let (min, max) = (len[0].as_u64().unwrap_or(0), len[1].as_u64().unwrap_or(u64::MAX));
            if !(min..=max).contains(&(items.len() as u64)) {
                fail(format!("expected {min} to {max} items"));
            }
            if !o["$array"].is_null() {
                for (i, item) in items.iter().enumerate() {
                    check_shape(&o["$array"], item, &format!("{at}[{i}]"), errors);
                }
            }
        }
        Value::Object(o) => {
            let Some(actual) = v.as_object() else {
                return fail("expected an object".into());
            };
            let optional: BTreeSet<&str> = o
                .get("$optional")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for (k, s) in o.iter().filter(|(k, _)| !k.starts_with('$')) {
                match actual.get(k) {
                    Some(x) => check_shape(s, x, &format!("{at}.{k}"), errors),
                    None if optional.contains(k.as_str()) => {}
                    None => errors.push(format!("{at}: member {k:?} missing")),
                }
            }
            for k in actual.keys().filter(|k| !o.contains_key(k.as_str())) {
                errors.push(format!("{at}: member {k:?} is not in the recording"));
            }
        }
        other => fail(format!("unknown shape {other}")),
    }
}

/// A data plane the replay talks to: a stand-alone emulator's, or that of
/// an HSM the emulator's Resource Manager provisioned.
struct Plane {
    /// The HSM's name (its exchange key is attested for it).
    name: String,
    url: String,
    ca: PathBuf,
    token: String,
    principal: String,
    root: String,
}

impl Plane {
    fn of(emu: &Emulator) -> Plane {
        Plane {
            name: TEST_HSM.to_owned(),
            url: emu.url.clone(),
            ca: emu.dir.join("ca.pem"),
            token: emu.token(),
            principal: emu.principal(),
            root: emu.attestation_root(),
        }
    }

    /// The data plane of `name`, provisioned by `emu`'s Resource Manager.
    fn provisioned(emu: &Emulator, name: &str) -> Plane {
        let dir = emu.dir.join("hsms").join(name);
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap().trim().to_owned();
        Plane { name: name.to_owned(), url: read("url"), principal: read("principal"), ..Plane::of(emu) }
    }

    fn agent(&self) -> ureq::Agent {
        agent_trusting(&self.ca)
    }
}

/// Resource Manager, for recordings that provision their HSMs.
struct Manager {
    url: String,
    /// The HSMs the recording created so far (its first PUT is HSM 1).
    created: usize,
    /// The last `Location` the emulator handed out.
    location: Option<String>,
}

const SUBSCRIPTION: &str = "00000000-7777-4888-8999-000000000000";
const GROUP: &str = "replay-rg";
const REGION: &str = "canadaeast";
const ADMIN: &str = "5a5a5a5a-1111-4222-8333-444444444444";

/// One emulated HSM the replay talks to, and what the sequence so far made.
struct Session {
    dir: PathBuf,
    /// The emulators started (kept running until the session ends).
    emulators: Vec<Emulator>,
    hsm: Plane,
    manager: Option<Manager>,
    /// HSMs started so far (the recordings move to a second HSM for the upload).
    started: usize,
    key: String,
    key_deleted: bool,
    versions: Vec<String>,
    last_bundle: Value,
    last_encrypt: Value,
    backup: Option<String>,
}

impl Session {
    fn start(dir: &Path, n: usize) -> Emulator {
        // Long enough that the first poll sees InProgress, as recorded; and
        // provisioning long enough to show each of its recorded phases.
        Emulator::start_full(&dir.join(format!("hsm-{n}")), TEST_HSM, 1500, 3000)
    }

    fn new(name: &str, active: bool, manage: bool) -> Session {
        let dir = scratch(&format!("replay-{name}"));
        ceremony_people(&dir, &["a", "b", "c"]);
        let hsm = Session::start(&dir, 1);
        let plane = Plane::of(&hsm);
        let manager = manage.then(|| {
            // The recording's resource group existed before it began.
            let url = std::fs::read_to_string(hsm.dir.join("arm-url")).unwrap();
            let resp = plane
                .agent()
                .put(&format!(
                    "{url}/subscriptions/{SUBSCRIPTION}/resourcegroups/{GROUP}?api-version=2025-04-01"
                ))
                .header("Authorization", &format!("Bearer {}", plane.token))
                .send(json!({"location": REGION}).to_string().as_bytes())
                .unwrap();
            assert_eq!(resp.status().as_u16(), 201);
            Manager { url, created: 0, location: None }
        });
        if active {
            // The recordings of key operations start on an HSM already
            // activated and granted, as the az tests set them up.
            ok(activate(&dir, &hsm, &["a", "b", "c"], 2, "sd.json", &[]));
            grant_crypto_user(&dir, &hsm);
            let me = hsm.principal();
            ok(uploader(
                &dir,
                &hsm,
                &["role", "assign", "--role", "Managed HSM Crypto Officer", "--principal", &me],
            ));
        }
        Session {
            dir,
            emulators: vec![hsm],
            hsm: plane,
            manager,
            started: 1,
            key: format!("{name}-key-1"),
            key_deleted: false,
            versions: Vec::new(),
            last_bundle: Value::Null,
            last_encrypt: Value::Null,
            backup: None,
        }
    }

    fn host(&self) -> String {
        self.hsm.url.trim_start_matches("https://").to_owned()
    }

    /// The emulator that started first (the Resource Manager, when there is one).
    fn first(&self) -> &Emulator {
        &self.emulators[0]
    }

    /// The request path with the recording's placeholders filled in.
    fn path(&mut self, template: &str, method: &str) -> String {
        if self.key_deleted
            && (template.ends_with("/create") || (method == "PUT" && template == "/keys/{key}"))
        {
            // The recording made another key while this one was deleted.
            self.key = format!(
                "{}-{}",
                self.key.rsplit_once('-').map_or("key", |(a, _)| a),
                self.versions.len() + 7
            );
            self.key_deleted = false;
            self.versions.clear();
        }
        // GET of a version reads the first (as recorded); operations use the latest.
        let version = match method {
            "GET" => self.versions.first(),
            _ => self.versions.last(),
        };
        let guid = new_guid();
        template
            .replace("{key}", &self.key)
            .replace("{version}", version.map_or("", String::as_str))
            .replace("{guid}", &guid)
    }

    /// The request body for the recorded request, made fresh.
    fn body(&mut self, record: &Value, shapes: &Value) -> Option<Vec<u8>> {
        let name = record["request"]["body"].as_str()?;
        let shape = &shapes[name];
        let path = record["path"].as_str().unwrap_or_default();
        let value = match (record["method"].as_str()?, path) {
            ("POST", "/securitydomain/download") => {
                let certs: Vec<_> = ["a", "b", "c"]
                    .iter()
                    .map(|n| {
                        let pem = std::fs::read(self.dir.join(format!("{n}.cer"))).unwrap();
                        sd_core::pki::cert::Certificate::from_pem_or_der(&pem).unwrap()
                    })
                    .collect();
                let request = sd_core::azure::download_request::DownloadRequest::new(&certs, 2).unwrap();
                serde_json::from_str(&request.to_json().unwrap()).unwrap()
            }
            ("POST", "/securitydomain/upload") => {
                let blob = self.restore_blob();
                json!({"value": blob})
            }
            (_, p) if p.contains("roleAssignments") => json!({"properties": {
                "roleDefinitionId": "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/21dbd100-6940-42c2-9190-5d6cb909625b",
                "principalId": self.hsm.principal,
            }}),
            ("POST", "/keys/restore") => json!({"value": self.backup.clone().expect("a backup was made")}),
            ("POST", p) if p.ends_with("/decrypt") && shape["alg"]["$enum"][0] == "RSA-OAEP" => {
                let n = b64::url_decode(self.last_bundle["key"]["n"].as_str().unwrap(), "n").unwrap();
                let e = b64::url_decode(self.last_bundle["key"]["e"].as_str().unwrap(), "e").unwrap();
                let public = rsa::PublicKey::new(
                    rsa::BoxedUint::from_be_slice(&n, (n.len() * 8) as u32).unwrap(),
                    rsa::BoxedUint::from_be_slice(&e, 64).unwrap(),
                )
                .unwrap();
                let ct = public
                    .encrypt(&mut getrandom::SysRng, rsa::Oaep::<sha1::Sha1>::new(), b"replayed")
                    .unwrap();
                json!({"alg": "RSA-OAEP", "value": b64::url_encode(&ct)})
            }
            ("POST", p) if p.ends_with("/decrypt") => {
                let e = &self.last_encrypt;
                json!({"alg": e["alg"], "value": e["value"], "iv": e["iv"], "aad": e["aad"], "tag": e["tag"]})
            }
            ("PUT", "/keys/{key}") => import_body(shape),
            _ => instantiate(shape, None),
        };
        Some(value.to_string().into_bytes())
    }

    /// A restore blob for the current HSM's exchange key, made by the
    /// custodians' keyholder from the SD file downloaded earlier.
    fn restore_blob(&self) -> String {
        let root = self.hsm.root.clone();
        ok(run(
            &self.dir,
            "keyholder",
            &[
                "restore-blob",
                "--sd",
                "sd.json",
                "--exchange-key",
                "transfer-key.json",
                "--hsm",
                &self.hsm.name,
                "--attestation-root",
                &root,
                "--key",
                "a.key",
                "--key",
                "b.key",
                "--out",
                "blob.json",
                "--force",
            ],
        ));
        std::fs::read_to_string(self.dir.join("blob.json")).unwrap()
    }

    /// Remembers what later requests need from an answer.
    fn learn(&mut self, record: &Value, body: &Value, raw: &[u8]) {
        let path = record["path"].as_str().unwrap_or_default();
        match path {
            "/securitydomain/download" if body["value"].is_string() => {
                std::fs::write(self.dir.join("sd.json"), body["value"].as_str().unwrap()).unwrap();
            }
            "/securitydomain/upload" if record["method"] == "GET" => {
                std::fs::write(self.dir.join("transfer-key.json"), raw).unwrap();
            }
            _ => {}
        }
        if path.ends_with("/backup") {
            self.backup = body["value"].as_str().map(String::from);
        }
        if path.ends_with("/encrypt") {
            self.last_encrypt = body.clone();
        }
        if record["method"] == "DELETE" && path == "/keys/{key}" {
            self.key_deleted = true;
        }
        if path.starts_with("/deletedkeys/{key}") {
            self.key_deleted = false;
        }
        if let Some(kid) = body["key"]["kid"].as_str() {
            let version = kid.rsplit('/').next().unwrap_or_default().to_owned();
            if !self.versions.contains(&version) {
                self.versions.push(version);
            }
            self.last_bundle = body.clone();
        }
    }
}

fn new_guid() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).unwrap();
    let h = sd_core::primitives::hex::hex_lower(&b);
    format!("{}-{}-4{}-a{}-{}", &h[..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

/// A value of `shape`: the first enumerated value, every listed array item,
/// sizes that fit the key type, and random base64url for opaque strings.
fn instantiate(shape: &Value, kty: Option<&str>) -> Value {
    match shape {
        Value::Object(o) if o.contains_key("$enum") => {
            let values = o["$enum"].as_array().cloned().unwrap_or_default();
            values.first().cloned().unwrap_or(Value::Null)
        }
        Value::Object(o) if o.contains_key("$array") => match &o["$array"] {
            Value::Object(item) if item.contains_key("$enum") => item["$enum"].clone(),
            Value::Null => json!([]),
            item => json!([instantiate(item, kty)]),
        },
        Value::Object(o) => {
            let kty = o.get("kty").and_then(|k| k["$enum"][0].as_str()).or(kty);
            let mut out = serde_json::Map::new();
            for (k, s) in o.iter().filter(|(k, _)| !k.starts_with('$')) {
                let v = match (k.as_str(), kty) {
                    ("key_size", Some(t)) if t.starts_with("RSA") => json!(2048),
                    ("key_size", _) => json!(256),
                    ("count", _) => json!(16),
                    _ => instantiate(s, kty),
                };
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        Value::String(t) if t == "integer" => json!(1),
        Value::String(t) if t == "boolean" => json!(true),
        _ => json!(b64::url_encode(b"replayed by hsm-ceremony")),
    }
}

/// An import body: a fresh private key of the recorded type, as a JWK.
fn import_body(shape: &Value) -> Value {
    let kty = shape["key"]["kty"]["$enum"][0].as_str().unwrap_or_default();
    let hsm = shape.get("Hsm").map(|_| json!(true));
    let jwk = if kty == "RSA" {
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
        use rsa::traits::{PrivateKeyParts, PublicKeyParts};
        let enc = |u: &rsa::BoxedUint| b64::url_encode(&u.to_be_bytes_trimmed_vartime());
        let p = key.primes();
        let dp = key.dp().unwrap();
        let dq = key.dq().unwrap();
        let qi = key.crt_coefficient().unwrap();
        json!({"kty": "RSA", "n": enc(key.n()), "e": enc(key.e()), "d": enc(key.d()), "p": enc(&p[0]), "q": enc(&p[1]),
               "dp": enc(dp), "dq": enc(dq), "qi": enc(&qi)})
    } else {
        let mut d = [0u8; 32];
        getrandom::fill(&mut d).unwrap();
        let secret = p256::SecretKey::from_slice(&d).unwrap();
        use p256::elliptic_curve::sec1::ToSec1Point;
        let point = secret.public_key().to_sec1_point(false);
        json!({"kty": "EC", "crv": "P-256", "d": b64::url_encode(&d),
               "x": b64::url_encode(point.x().unwrap()), "y": b64::url_encode(point.y().unwrap())})
    };
    let mut body = json!({"key": jwk, "attributes": {"enabled": true}});
    if let Some(h) = hsm {
        body["Hsm"] = h;
    }
    body
}

/// Sends one recorded request; returns status, headers and body.
fn send(s: &mut Session, record: &Value, shapes: &Value) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let method = record["method"].as_str().unwrap();
    let path = s.path(record["path"].as_str().unwrap(), method);
    let query = record["query"]["api-version"].as_str().unwrap();
    let url = format!("{}{path}?api-version={query}", s.hsm.url);
    let authed = record["auth"] == "bearer";
    let body = if authed { s.body(record, shapes) } else { None };
    let agent = s.hsm.agent();
    let auth = format!("Bearer {}", s.hsm.token);
    macro_rules! with_auth {
        ($req:expr) => {{
            let r = $req;
            if authed { r.header("Authorization", &auth) } else { r }
        }};
    }
    let result = match (method, body) {
        ("GET", _) => with_auth!(agent.get(&url)).call(),
        ("DELETE", _) => with_auth!(agent.delete(&url)).call(),
        ("POST", b) => with_auth!(agent.post(&url).header("Content-Type", "application/json"))
            .send(b.unwrap_or_default()),
        ("PUT", b) => {
            with_auth!(agent.put(&url).header("Content-Type", "application/json")).send(b.unwrap_or_default())
        }
        ("PATCH", b) => with_auth!(agent.patch(&url).header("Content-Type", "application/json"))
            .send(b.unwrap_or_default()),
        (m, _) => panic!("{}: method {m} not replayed", record["id"]),
    };
    let mut resp = result.unwrap_or_else(|e| panic!("{}: {e}", record["id"]));
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let status = resp.status().as_u16();
    (status, headers, resp.body_mut().read_to_vec().unwrap_or_default())
}

/// The name the replay gives the recording's HSM number `n`.
fn hsm_name(n: usize) -> String {
    format!("replay-hsm-{n}")
}

/// Sends one recorded Resource Manager request.
fn send_arm(s: &mut Session, record: &Value) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let method = record["method"].as_str().unwrap();
    let template = record["path"].as_str().unwrap();
    let manager = s.manager.as_mut().expect("a Resource Manager");
    if method == "PUT" && template.ends_with("/managedHSMs/{hsm}") {
        manager.created += 1;
    }
    let deleted = template.contains("/deletedManagedHSMs/");
    // A purge is of the HSM deleted earlier: the first one.
    let name = hsm_name(if deleted { 1 } else { manager.created.max(1) });
    let url = if template.contains("managedHsmOperationResults") {
        manager.location.clone().expect("an operation to poll")
    } else {
        let path = template
            .replace("{sub}", SUBSCRIPTION)
            .replace("{rg}", GROUP)
            .replace("{hsm}", &name)
            .replace("{location}", REGION);
        format!("{}{path}?api-version={}", manager.url, record["query"]["api-version"].as_str().unwrap())
    };
    let body = (method == "PUT").then(|| {
        json!({
            "location": REGION,
            "sku": {"family": "B", "name": "Standard_B1"},
            "properties": {
                "tenantId": "00000000-0000-0000-0000-000000000000",
                "initialAdminObjectIds": [ADMIN],
                "enableSoftDelete": true,
                "softDeleteRetentionInDays": 7,
                "networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow"},
            },
        })
        .to_string()
    });
    let agent = s.hsm.agent();
    let auth = format!("Bearer {}", s.hsm.token);
    let result = match method {
        "GET" => agent.get(&url).header("Authorization", &auth).call(),
        "DELETE" => agent.delete(&url).header("Authorization", &auth).call(),
        "PUT" => agent
            .put(&url)
            .header("Authorization", &auth)
            .header("Content-Type", "application/json")
            .send(body.unwrap_or_default().as_bytes()),
        "POST" => agent.post(&url).header("Authorization", &auth).send(&b""[..]),
        m => panic!("{}: method {m} not replayed", record["id"]),
    };
    let mut resp = result.unwrap_or_else(|e| panic!("{}: {e}", record["id"]));
    let headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    if let Some((_, l)) = headers.iter().find(|(k, _)| k == "location") {
        s.manager.as_mut().unwrap().location = Some(l.clone());
    }
    let status = resp.status().as_u16();
    (status, headers, resp.body_mut().read_to_vec().unwrap_or_default())
}

/// True when `actual` fits `pattern`, whose `{placeholders}` and `…` stand for anything.
fn fits(pattern: &str, actual: &str) -> bool {
    let mut literals = Vec::new();
    let mut rest = pattern;
    while let Some(i) = rest.find(['{', '…']) {
        literals.push(&rest[..i]);
        rest = match rest[i..].starts_with('{') {
            true => rest[i..].find('}').map_or("", |j| &rest[i + j + 1..]),
            false => &rest[i + '…'.len_utf8()..],
        };
    }
    let tail = rest;
    let mut at = 0;
    for (n, lit) in literals.iter().enumerate() {
        match actual[at..].find(lit) {
            Some(0) => at += lit.len(),
            Some(i) if n > 0 => at += i + lit.len(),
            _ => return false,
        }
    }
    tail.is_empty() || actual.ends_with(tail)
}

/// Compares one answer with its record; returns the differences.
fn compare(
    s: &Session,
    record: &Value,
    shapes: &Value,
    status: u16,
    headers: &[(String, String)],
    raw: &[u8],
) -> Vec<String> {
    let mut errors = Vec::new();
    let resp = &record["response"];
    if resp["status"].as_u64() != Some(u64::from(status)) {
        errors.push(format!("status {status}, recorded {}", resp["status"]));
    }
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let host = s.host();
    for (name, recorded) in resp["headers"].as_object().into_iter().flatten() {
        let expected = recorded
            .as_str()
            .unwrap_or_default()
            .replace("https://{hsm}.managedhsm.azure.net", &format!("https://{host}"))
            .replace("{tenant}", "00000000-0000-0000-0000-000000000000");
        let expected =
            expected.replace("https://management.azure.com", s.manager.as_ref().map_or("", |m| &m.url));
        match header(name) {
            Some(v) if v == expected || (name == "location" && fits(&expected, v)) => {}
            Some(v) => errors.push(format!("header {name}: {v:?}, recorded {expected:?}")),
            None => errors.push(format!("header {name} missing")),
        }
    }
    for name in resp["absent"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if let Some(v) = header(name) {
            errors.push(format!("header {name} sent ({v:?}); the real service sends none"));
        }
    }
    match resp["body"].as_str() {
        None if !raw.is_empty() && status != 401 => {
            errors.push(format!("a body was sent: {}", String::from_utf8_lossy(raw)))
        }
        None => {
            if status == 401 && !raw.is_empty() {
                errors.push("a 401 body on a request recorded with none".into());
            }
        }
        Some(name) => {
            let shape = &shapes[name];
            if let Some(text) = shape.get("$text") {
                if raw != text.as_str().unwrap_or_default().as_bytes() {
                    errors.push(format!("body {:?}, recorded {text}", String::from_utf8_lossy(raw)));
                }
            } else {
                match serde_json::from_slice::<Value>(raw) {
                    Ok(v) => check_shape(shape, &v, name, &mut errors),
                    Err(_) => errors.push(format!("body is not JSON: {}", String::from_utf8_lossy(raw))),
                }
            }
        }
    }
    errors
}

/// Where the two recordings of one step disagree, only one can be matched:
/// `rec25` (transcribed page by page) lists one data action per built-in
/// role, `sd24` (parsed from the YAML) up to 19. The emulator follows sd24;
/// for these rec25 records the test checks everything but that one length.
fn known_disagreement(id: &str, error: &str) -> bool {
    matches!(id, "rec25-10" | "rec25-12" | "rec25-31" | "rec25-33")
        && error.contains(".dataActions: expected 1 to 1 items")
}

/// Recordings whose Resource Manager exchanges are replayed too. Only the
/// 2025 one can be: in sd24, mgmt24 and mgmt21 the subscription's lists held
/// other people's (soft-deleted) HSMs, 13 and 14 of them, and in 2021 a PUT
/// answered 200 `Provisioning` where the service now answers 202.
const MANAGED: [&str; 1] = ["rec25"];

/// The recordings, one test each (they are independent sessions, so they
/// run side by side); [`every_recording_is_replayed`] keeps this list whole.
const RECORDINGS: [&str; 6] = ["aes23", "keys23", "mgmt24", "rec25", "rng23", "sd24"];

/// The exchanges replayed: every data-plane exchange; and the Resource
/// Manager exchanges of the 2025 recording (older ones' subscriptions listed
/// other, zombie HSMs, and 2021's service answered a PUT differently: see the
/// note at MANAGED).
fn replayed(rec: &Value) -> Vec<&Value> {
    rec["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["plane"] == "data"
                || (e["plane"] == "arm" && MANAGED.contains(&e["source"].as_str().unwrap_or_default()))
        })
        .collect()
}

#[test]
fn every_recording_is_replayed() {
    let rec = recordings();
    let sources: BTreeSet<&str> = replayed(&rec).iter().map(|e| e["source"].as_str().unwrap()).collect();
    assert_eq!(sources, RECORDINGS.into_iter().collect(), "one test per recording below");
}

#[test]
fn aes23() {
    replay("aes23");
}

#[test]
fn keys23() {
    replay("keys23");
}

#[test]
fn mgmt24() {
    replay("mgmt24");
}

#[test]
fn rec25() {
    replay("rec25");
}

#[test]
fn rng23() {
    replay("rng23");
}

#[test]
fn sd24() {
    replay("sd24");
}

/// Replays one recording's exchanges in order against fresh emulators and
/// compares every answer.
fn replay(source: &str) {
    let rec = recordings();
    let shapes = &rec["shapes"];
    let records: Vec<&Value> = replayed(&rec).into_iter().filter(|e| e["source"] == source).collect();
    assert!(!records.is_empty(), "no exchanges recorded for {source}");
    let mut report = Vec::new();
    let mut compared = 0;
    // Sequences that begin with the security domain start from a new HSM.
    let starts_with_sd = records[0]["path"].as_str().unwrap_or_default().starts_with("/securitydomain");
    let managed = records.iter().any(|r| r["plane"] == "arm");
    let mut s = Session::new(source, !starts_with_sd && !managed, managed);
    for record in records.iter().copied() {
        let id = record["id"].as_str().unwrap();
        let path = record["path"].as_str().unwrap_or_default();
        let arm = record["plane"] == "arm";
        if !arm && s.manager.is_some() && s.started == 1 && s.hsm.url == s.first().url {
            // Data-plane requests go to the HSM the recording provisioned.
            s.hsm = Plane::provisioned(s.first(), &hsm_name(1));
        }
        // The recordings recover into a second, new HSM.
        if !arm && path.starts_with("/securitydomain/upload") && s.started == 1 {
            s.hsm = if s.manager.is_some() {
                Plane::provisioned(s.first(), &hsm_name(2))
            } else {
                let e = Session::start(&s.dir, 2);
                let plane = Plane::of(&e);
                s.emulators.push(e);
                plane
            };
            s.started = 2;
        }
        let wanted = record["response"]["body"].as_str().map(|b| &shapes[b]);
        let deadline = Instant::now() + Duration::from_secs(20);
        let (status, headers, raw) = loop {
            let answer = if arm { send_arm(&mut s, record) } else { send(&mut s, record, shapes) };
            // A poll is repeated until the recorded state comes (timings compress).
            if arm && record["method"] == "GET" && Instant::now() < deadline {
                if compare(&s, record, shapes, answer.0, &answer.1, &answer.2).is_empty() {
                    break answer;
                }
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            let is_poll = path.ends_with("/pending");
            let state_reached = wanted.is_none_or(|w| {
                serde_json::from_slice::<Value>(&answer.2)
                    .is_ok_and(|v| w["status"]["$enum"].as_array().is_none_or(|e| e.contains(&v["status"])))
            });
            if !is_poll || state_reached || Instant::now() > deadline {
                break answer;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        let errors: Vec<String> = compare(&s, record, shapes, status, &headers, &raw)
            .into_iter()
            .filter(|e| !known_disagreement(id, e))
            .collect();
        compared += 1;
        if !errors.is_empty() {
            report.push(format!("{id} {} {path}:\n    {}", record["method"], errors.join("\n    ")));
        }
        s.learn(record, &body, &raw);
    }
    let arm = records.iter().filter(|e| e["plane"] == "arm").count();
    println!(
        "{source}: replayed {compared} recorded exchanges ({} data plane, {arm} Resource Manager)",
        compared - arm
    );
    assert_eq!(compared, records.len());
    assert!(report.is_empty(), "{} of {compared} exchanges differ:\n{}", report.len(), report.join("\n"));
}
