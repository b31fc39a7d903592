//! Retries: connection errors, 5xx and 429 are retried with backoff (honouring
//! Retry-After); other 4xx are not. And what a hostile server cannot do: move
//! the terminal with escape sequences, or get an Azure token. A scripted HTTPS
//! server stands in for the HSM and counts the requests it gets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ceremony_tests::*;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

struct Scripted {
    url: String,
    hits: Arc<AtomicUsize>,
}

/// Serves `responses` in order (the last one repeats), one request per connection.
fn serve(dir: &std::path::Path, responses: Vec<(u16, Option<&'static str>, &'static str)>) -> Scripted {
    let key = sd_core::pki::private_key::generate(&mut getrandom::SysRng, 2048).unwrap();
    let ips = [std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)];
    let cert = sd_core::pki::cert::self_signed_server(
        &mut getrandom::SysRng,
        &key,
        &["localhost"],
        &ips,
        sd_core::pki::cert::backdated(now()),
        30,
    )
    .unwrap();
    std::fs::write(dir.join("ca.pem"), cert.to_pem()).unwrap();
    std::fs::write(dir.join("token"), "test-token").unwrap();
    let key_pem = sd_core::pki::private_key::to_plain_pem(&key).unwrap();
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.der().to_vec())],
                PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap(),
            )
            .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                return;
            };
            let mut tls = rustls::StreamOwned::new(conn, stream);
            let mut reader = BufReader::new(&mut tls);
            let mut length = 0usize;
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let (status, retry_after, body) = responses[n.min(responses.len() - 1)];
            let extra = retry_after.map(|r| format!("Retry-After: {r}\r\n")).unwrap_or_default();
            let resp = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tls.write_all(resp.as_bytes());
            let _ = tls.flush();
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    Scripted { url, hits }
}

fn status(dir: &std::path::Path, s: &Scripted) -> std::process::Output {
    run(dir, "uploader", &["--hsm-url", &s.url, "--ca-cert", "ca.pem", "--token-file", "token", "status"])
}

const OK: &str = r#"{"status":"Success","status_details":"The resource is active."}"#;

#[test]
fn server_errors_are_retried_until_an_answer() {
    let dir = scratch("retry-5xx");
    let s = serve(&dir, vec![(503, None, ""), (502, None, ""), (200, None, OK)]);
    let o = status(&dir, &s);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(ok(o).trim(), "Success: The resource is active.");
    assert_eq!(s.hits.load(Ordering::SeqCst), 3);
    assert!(
        err.contains("HTTP 503; retrying in 0.5 s") && err.contains("HTTP 502; retrying in 1.0 s"),
        "{err}"
    );
}

#[test]
fn throttling_honours_retry_after() {
    let dir = scratch("retry-429");
    let s = serve(
        &dir,
        vec![(429, Some("1"), r#"{"error":{"code":"Throttled","message":"slow down"}}"#), (200, None, OK)],
    );
    let started = std::time::Instant::now();
    let o = status(&dir, &s);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    ok(o);
    assert!(started.elapsed() >= std::time::Duration::from_millis(950), "Retry-After was not honoured");
    assert!(err.contains("HTTP 429; retrying in 1.0 s"), "{err}");
    assert_eq!(s.hits.load(Ordering::SeqCst), 2);
}

#[test]
fn client_errors_are_not_retried_and_persistent_failures_give_up() {
    let dir = scratch("no-retry-4xx");
    let s = serve(&dir, vec![(404, None, r#"{"error":{"code":"NotFound","message":"nothing here"}}"#)]);
    fails(status(&dir, &s), &["HTTP 404 NotFound: nothing here"]);
    assert_eq!(s.hits.load(Ordering::SeqCst), 1);

    let dir = scratch("give-up-5xx");
    let s = serve(&dir, vec![(500, None, r#"{"error":{"code":"InternalError","message":"down"}}"#)]);
    fails(status(&dir, &s), &["HTTP 500 InternalError: down"]);
    assert_eq!(s.hits.load(Ordering::SeqCst), 5, "five attempts, then the error");
}

#[test]
fn escape_sequences_from_the_server_are_printed_escaped() {
    let dir = scratch("hostile-escapes");
    let evil = r#"{"error":{"code":"Bad\u001b[2J","message":"clear\u009b31m\u202eesrever"}}"#;
    let s = serve(&dir, vec![(400, None, evil)]);
    let o = status(&dir, &s);
    let err = fails(o, &["Bad\\u{1b}[2J", "clear\\u{9b}31m\\u{202e}esrever"]);
    assert!(!err.contains('\u{1b}') && !err.contains('\u{9b}') && !err.contains('\u{202e}'), "{err:?}");
    let dir = scratch("hostile-status");
    let s =
        serve(&dir, vec![(200, None, r#"{"status":"Success","status_details":"ok\u001b]0;owned\u0007"}"#)]);
    let out = ok(status(&dir, &s));
    assert!(out.contains("ok\\u{1b}]0;owned\\u{7}") && !out.contains('\u{1b}'), "{out:?}");
}

#[test]
fn an_azure_token_is_never_sent_to_another_host() {
    let dir = scratch("token-host");
    let s = serve(&dir, vec![(200, None, OK)]);
    let o = std::process::Command::new(bin("uploader"))
        .args(["--hsm-url", &s.url, "--ca-cert", "ca.pem", "status"])
        .current_dir(&dir)
        .env("AZURE_ACCESS_TOKEN", "a-real-azure-token")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    fails(
        o,
        &["is not a Managed HSM (https://NAME.managedhsm.azure.net)", "never sent there", "--token-file"],
    );
    assert_eq!(s.hits.load(Ordering::SeqCst), 0, "refused before any connection");
}

/// N4 of the attack review: a URL whose text names Azure but whose host is
/// another (user information before an `@`) is refused before any
/// connection, with a real token in the environment, for the data plane and
/// for Resource Manager alike.
#[test]
fn a_url_that_only_looks_like_azure_gets_no_connection() {
    let dir = scratch("token-host-userinfo");
    let s = serve(&dir, vec![(200, None, OK)]);
    let port = s.url.rsplit(':').next().unwrap().to_owned();
    let hsm = format!("https://contoso.managedhsm.azure.net:443@127.0.0.1:{port}");
    let arm = format!("https://management.azure.com@127.0.0.1:{port}");
    let cases: [(Vec<&str>, &str, &str); 3] = [
        (vec!["--hsm-url", &hsm, "--ca-cert", "ca.pem", "status"], "AZURE_ACCESS_TOKEN", "--hsm-url"),
        (
            vec!["--hsm-url", &hsm, "--ca-cert", "ca.pem", "--token-file", "token", "status"],
            "AZURE_ACCESS_TOKEN",
            "--hsm-url",
        ),
        (
            vec![
                "--ca-cert",
                "ca.pem",
                "list-deleted",
                "--arm-url",
                &arm,
                "--subscription",
                TEST_SUBSCRIPTION,
            ],
            "AZURE_ARM_ACCESS_TOKEN",
            "--arm-url",
        ),
    ];
    for (args, env, flag) in cases {
        let o = std::process::Command::new(bin("uploader"))
            .args(&args)
            .current_dir(&dir)
            .env(env, "a-real-azure-token")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        fails(o, &[&format!("error: {flag} \""), "has user information", "hint: give the base URL alone"]);
    }
    assert_eq!(s.hits.load(Ordering::SeqCst), 0, "refused before any connection");
}

/// N7 of the attack review: what a server says reaches stdout escaped and
/// capped; a 15 MB status line comes back as one short line saying how much
/// was cut.
#[test]
fn a_huge_status_from_the_server_is_capped() {
    let dir = scratch("status-capped");
    let huge: &'static str = Box::leak(
        format!(r#"{{"status":"Success","status_details":"{}"}}"#, "A".repeat(15_000_000)).into_boxed_str(),
    );
    let s = serve(&dir, vec![(200, None, huge)]);
    let out = ok(status(&dir, &s));
    assert!(out.len() < 1_000, "{} bytes printed", out.len());
    assert!(out.starts_with("Success: AAAA") && out.contains("more bytes not shown"), "{out}");
}

/// `uploader wait` polls until the HSM reports the end: success is exit 0,
/// failure exit 1 with the HSM's reason and where to look.
#[test]
fn wait_follows_the_operation_to_its_end() {
    let dir = scratch("wait");
    const BUSY: &str = r#"{"status":"InProgress","status_details":"Restoring."}"#;
    const FAILED: &str = r#"{"status":"Failed","status_details":"The blob is for another exchange key."}"#;
    let s = serve(&dir, vec![(200, None, BUSY), (200, None, OK)]);
    let args = ["--hsm-url", &s.url, "--ca-cert", "ca.pem", "--token-file", "token", "wait"];
    let o = run(&dir, "uploader", &args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let out = ok(o);
    assert_eq!(out.trim(), "Success: The resource is active. (upload)");
    assert!(err.contains("recovery: InProgress: Restoring."), "{err}");
    assert_eq!(s.hits.load(Ordering::SeqCst), 2);
    let s = serve(&dir, vec![(200, None, BUSY), (200, None, FAILED)]);
    let args = ["--hsm-url", &s.url, "--ca-cert", "ca.pem", "--token-file", "token", "wait"];
    fails(
        run(&dir, "uploader", &args),
        &["recovery failed: The blob is for another exchange key.", "hint: `uploader status`"],
    );
}
