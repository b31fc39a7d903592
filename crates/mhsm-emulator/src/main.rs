//! `mhsm-emulator`: a local Azure Managed HSM data plane over HTTPS, so that
//! every ceremony and drill can run on one machine with no cloud account.
//!
//! It speaks Azure's security-domain protocol (paths, bodies, status codes,
//! the 401 challenge, api-versions), the key API (RSA-HSM, EC-HSM and oct-HSM
//! keys, their operations, versions, soft delete) and local RBAC, as real
//! HSMs answered them in Azure's recordings. State is persisted in the data folder.
#![forbid(unsafe_code)]

mod aes_modes;
mod app;
mod arm;
mod domain;
mod keys;
mod rbac;
mod routes;
mod state;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use sd_core::{pki::cert, pki::private_key, primitives::b64};
use sgx_simulator::{EnclaveClaims, SimulatedPlatform, evidence_extension};

use crate::app::App;

/// A local Azure Managed HSM data plane for hsm-ceremony drills.
#[derive(Parser)]
#[command(
    name = "mhsm-emulator",
    version,
    about,
    after_help = "\
Writes DIR/url, DIR/ca.pem (the server certificate to trust), DIR/token (the
bearer token of the initial administrator, mode 0600), DIR/principal (that
administrator's object ID) and DIR/attestation-root.pem (the test root its exchange
key's SGX evidence chains to: pass it to the tools with --attestation-root; it is
not Intel's) so scripts can find them. Further principals: a file
DIR/tokens/OBJECT_ID.token holding a bearer token makes that token OBJECT_ID's
(read at each request); what it may do is decided by local RBAC role assignments,
as on a real HSM (the administrator holds Managed HSM Administrator at /, which
grants no key operation). State is kept in DIR/state.json
(mode 0600: it holds the emulated HSM's secrets; this is a test tool, not an HSM).
Stops cleanly on SIGINT or SIGTERM."
)]
struct Cli {
    /// Folder for state, TLS certificate and token (created if missing).
    #[arg(long, value_name = "DIR", required_unless_present = "list_routes")]
    data_dir: Option<PathBuf>,
    /// Print every data-plane route with the data action a caller's role must
    /// grant and its scope, then exit (no other route is answered).
    #[arg(long)]
    list_routes: bool,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Read the bearer token from FILE instead of making a random one.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// How long a download or upload stays InProgress before the HSM is active.
    #[arg(long, value_name = "MS", default_value_t = 1500)]
    activation_delay_ms: u64,
    /// Size of the exchange (transfer) key; the real service uses 4096, and
    /// an attested exchange key must have at least 3072.
    #[arg(long, default_value_t = 4096, value_parser = parse_bits)]
    transfer_key_bits: usize,
    /// How long provisioning a Managed HSM through the management plane takes
    /// (Azure: about 15 minutes; a drill need not wait that long).
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    provisioning_ms: u64,
    /// The HSM's name: its exchange certificate is for NAME.managedhsm.azure.net.
    #[arg(long, value_name = "NAME", default_value = "emulated-hsm")]
    hsm_name: String,
}

fn parse_bits(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(b @ (3072 | 4096)) => Ok(b),
        _ => Err("use 3072 or 4096".into()),
    }
}

/// The emulator's clock for what it signs (the exchange certificate): the
/// tools' clock, so a rehearsal years ahead gets an HSM made "then".
fn now() -> u64 {
    ceremony_cli::now_unix()
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("mhsm-emulator: error: {msg}");
    ExitCode::FAILURE
}

/// Reuses `DIR/tls.key` + `DIR/ca.pem`, or makes a self-signed server
/// certificate for localhost, 127.0.0.1 and ::1.
fn tls_material(dir: &Path) -> Result<(String, String), String> {
    let key_path = dir.join("tls.key");
    let cert_path = dir.join("ca.pem");
    if key_path.is_file() && cert_path.is_file() {
        let key = std::fs::read_to_string(&key_path).map_err(|e| format!("{}: {e}", key_path.display()))?;
        let cert =
            std::fs::read_to_string(&cert_path).map_err(|e| format!("{}: {e}", cert_path.display()))?;
        return Ok((cert, key));
    }
    let key = private_key::generate(&mut getrandom::SysRng, 2048).map_err(|e| e.to_string())?;
    let ips = [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)];
    let cert = cert::self_signed_server(
        &mut getrandom::SysRng,
        &key,
        &["localhost"],
        &ips,
        // TLS clients judge it by the machine's clock, whatever the rehearsal's.
        cert::backdated(app::now_ms() / 1000),
        3650,
    )
    .map_err(|e| e.to_string())?;
    let key_pem = private_key::to_plain_pem(&key).map_err(|e| e.to_string())?;
    state::write_atomic(&key_path, key_pem.as_bytes(), 0o600)
        .map_err(|e| format!("{}: {e}", key_path.display()))?;
    state::write_atomic(&cert_path, cert.to_pem().as_bytes(), 0o644)
        .map_err(|e| format!("{}: {e}", cert_path.display()))?;
    Ok((cert.to_pem(), key_pem.to_string()))
}

fn token(dir: &Path, token_file: Option<&Path>) -> Result<String, String> {
    let path = dir.join("token");
    let existing = match token_file {
        Some(f) => Some(std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?),
        None if path.is_file() => {
            Some(std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let token = match existing {
        Some(t) => t.trim().to_owned(),
        None => {
            let mut raw = [0u8; 32];
            getrandom::fill(&mut raw).map_err(|e| e.to_string())?;
            b64::url_encode(&raw)
        }
    };
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the token must be non-empty printable ASCII".into());
    }
    state::write_atomic(&path, token.as_bytes(), 0o600).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(token)
}

/// The simulated SGX platform that attests the exchange key: made once,
/// kept in DIR/attestation-platform.pem (0600); its root in DIR/attestation-root.pem.
fn attestation_platform(dir: &Path) -> Result<SimulatedPlatform, String> {
    let path = dir.join("attestation-platform.pem");
    let root_path = dir.join("attestation-root.pem");
    let platform = if path.is_file() {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        SimulatedPlatform::from_pem(&text).map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        let p = SimulatedPlatform::generate(
            &mut getrandom::SysRng,
            "hsm-ceremony emulator attestation root (NOT Intel)",
            cert::backdated(now()),
            3650,
        )
        .map_err(|e| e.to_string())?;
        state::write_atomic(&path, p.to_pem().map_err(|e| e.to_string())?.as_bytes(), 0o600)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        p
    };
    let root = platform.root_pem().map_err(|e| e.to_string())?;
    state::write_atomic(&root_path, root.as_bytes(), 0o644)
        .map_err(|e| format!("{}: {e}", root_path.display()))?;
    Ok(platform)
}

/// The state of the HSM whose data folder is `dir`: as saved, or a newly
/// provisioned one with an exchange key attested by `platform` for
/// `hsm_name`, administered by `admin` (a random object ID if none).
pub(crate) fn initial_state(
    dir: &Path,
    bits: usize,
    hsm_name: &str,
    platform: &SimulatedPlatform,
    admin: Option<String>,
) -> Result<state::State, String> {
    if let Some(s) = state::load(dir)? {
        return Ok(s);
    }
    let key = private_key::generate(&mut getrandom::SysRng, bits).map_err(|e| e.to_string())?;
    // Attested like a real Managed HSM's: the enclave binds this very key.
    let spki = cert::spki_der(&sd_core::RsaPublicKey::from(&key)).map_err(|e| e.to_string())?;
    let evidence = platform.evidence(&spki, &EnclaveClaims::default()).map_err(|e| e.to_string())?;
    let ext = evidence_extension(&evidence).map_err(|e| e.to_string())?;
    let cert = cert::exchange_certificate(
        &mut getrandom::SysRng,
        &key,
        hsm_name,
        vec![ext],
        cert::backdated(now()),
        365,
    )
    .map_err(|e| e.to_string())?;
    let s = state::State::new(
        private_key::to_plain_pem(&key).map_err(|e| e.to_string())?.to_string(),
        cert.to_pem(),
        match admin {
            Some(a) => a,
            None => app::new_guid().map_err(|e| e.to_string())?,
        },
    );
    state::save(dir, &s).map_err(|e| format!("{}: {e}", state::path(dir).display()))?;
    Ok(s)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.list_routes {
        for line in routes::listing() {
            ceremony_cli::outln!("{line}");
        }
        return ExitCode::SUCCESS;
    }
    let Some(dir) = &cli.data_dir else {
        return fail("--data-dir is required".to_owned());
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        return fail(format!("{}: {e}", dir.display()));
    }
    let setup = (|| {
        let platform = attestation_platform(dir)?;
        let st = initial_state(dir, cli.transfer_key_bits, &cli.hsm_name, &platform, None)?;
        let arm_state = arm::load(dir)?;
        let (cert_pem, key_pem) = tls_material(dir)?;
        let token = token(dir, cli.token_file.as_deref())?;
        let listener =
            TcpListener::bind(cli.listen).map_err(|e| format!("cannot listen on {}: {e}", cli.listen))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        Ok::<_, String>((st, platform, arm_state, cert_pem, key_pem, token, listener, addr))
    })();
    let (st, platform, arm_state, cert_pem, key_pem, token, listener, addr) = match setup {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let host = match addr.ip() {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    let base_url = format!("https://{host}:{}", addr.port());
    // Who DIR/token belongs to, for role assignments (`uploader role assign --principal`).
    let principal = dir.join("principal");
    if let Err(e) = state::write_atomic(&principal, format!("{}\n", st.admin_principal).as_bytes(), 0o644) {
        return fail(format!("{}: {e}", principal.display()));
    }
    if let Err(e) = state::write_atomic(&dir.join("url"), base_url.as_bytes(), 0o644) {
        return fail(format!("{}: {e}", dir.join("url").display()));
    }
    let arm_url = dir.join("arm-url");
    if let Err(e) = state::write_atomic(&arm_url, base_url.as_bytes(), 0o644) {
        return fail(format!("{}: {e}", arm_url.display()));
    }
    let app = Arc::new(App {
        dir: dir.clone(),
        base_url: base_url.clone(),
        token: token.clone(),
        activation_delay: Duration::from_millis(cli.activation_delay_ms),
        state: Mutex::new(st),
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let result = runtime.block_on(async move {
        let config =
            axum_server::tls_rustls::RustlsConfig::from_pem(cert_pem.into_bytes(), key_pem.into_bytes())
                .await
                .map_err(|e| format!("TLS configuration: {e}"))?;
        let arm = Arc::new(routes::arm::Arm::new(
            dir.clone(),
            base_url.clone(),
            token,
            Duration::from_millis(cli.provisioning_ms),
            Duration::from_millis(cli.activation_delay_ms),
            cli.transfer_key_bits,
            config.clone(),
            platform,
            arm_state,
        ));
        // HSMs provisioned before a restart get their data planes back (on new ports).
        arm.start_all()?;
        let handle = axum_server::Handle::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return,
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
            eprintln!("mhsm-emulator: stopping");
            stopper.graceful_shutdown(Some(Duration::from_secs(2)));
        });
        println!("mhsm-emulator listening on {base_url} (data {})", app.dir.display());
        axum_server::from_tcp_rustls(listener, config)
            .map_err(|e| e.to_string())?
            .handle(handle)
            .serve(routes::router(app).merge(routes::arm::router(arm)).into_make_service())
            .await
            .map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
