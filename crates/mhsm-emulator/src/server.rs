//! Starting the emulator: one path for the HSM of the data folder and for
//! each HSM provisioned through the management plane. Each gets its state
//! (made on first start: an exchange key attested by the simulated
//! platform), its files for scripts (`url`, `principal`), and a data plane
//! served over TLS; the emulator's own listener also answers the management
//! plane.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use sd_core::pki::{cert, private_key};
use sd_core::primitives::b64;
use sgx_simulator::{EnclaveClaims, SimulatedPlatform, evidence_extension};

use crate::clock::{Clock, signing_now};
use crate::dataplane::app::App;
use crate::dataplane::state::HsmState;
use crate::directions::{self, Directions};
use crate::error::StartError;
use crate::management::lifecycle::Arm;
use crate::{dataplane, management, store};

/// How the emulator is run (its command line).
#[derive(Debug, Clone)]
pub struct Config {
    /// The data folder.
    pub data_dir: PathBuf,
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// A file holding the administrator's bearer token (else a random one).
    pub token_file: Option<PathBuf>,
    /// How long a download or upload stays `InProgress`.
    pub activation_delay: Duration,
    /// The exchange key size (3072 or 4096).
    pub transfer_key_bits: usize,
    /// How long provisioning a Managed HSM takes.
    pub provisioning: Duration,
    /// The name of the data folder's own HSM.
    pub hsm_name: String,
}

/// What every HSM's data plane is started with.
pub struct Planes {
    /// The administrator's bearer token (data planes and the management plane alike).
    pub token: String,
    /// How long a download or upload stays `InProgress`.
    pub activation_delay: Duration,
    /// The exchange key size.
    pub transfer_key_bits: usize,
    /// The clock operations complete by.
    pub clock: Clock,
    /// The TLS certificate every listener serves.
    pub tls: RustlsConfig,
    /// The platform every exchange key is attested by.
    pub platform: SimulatedPlatform,
}

impl Planes {
    /// Opens the HSM whose data folder is `dir` (made on first start, with
    /// an exchange key attested for `name` and `admin` as its administrator,
    /// a random object ID if none), publishes `url` and `principal` there,
    /// and returns its data plane.
    pub fn open_hsm(
        &self,
        dir: &Path,
        name: &str,
        admin: Option<String>,
        url: &str,
    ) -> Result<Arc<App>, StartError> {
        std::fs::create_dir_all(dir).map_err(StartError::file(dir))?;
        let mut state = match store::load_hsm(dir)? {
            Some(s) => s,
            None => self.new_hsm(dir, name, admin)?,
        };
        if state.fail_interrupted_jobs(self.clock.now_ms() / 1000) {
            store::save_hsm(dir, &state).map_err(StartError::file(store::hsm_state_path(dir)))?;
        }
        // Who DIR/token belongs to, for role assignments (`uploader role assign --principal`).
        store::publish(&dir.join("principal"), &format!("{}\n", state.admin_principal))?;
        store::publish(&dir.join("url"), url)?;
        Ok(Arc::new(App {
            name: name.to_owned(),
            dir: dir.to_owned(),
            base_url: url.to_owned(),
            token: self.token.clone(),
            activation_delay: self.activation_delay,
            clock: self.clock.clone(),
            state: Mutex::new(state),
        }))
    }

    /// A newly provisioned HSM, attested like a real Managed HSM: the enclave binds this very key.
    fn new_hsm(&self, dir: &Path, name: &str, admin: Option<String>) -> Result<HsmState, StartError> {
        let key = private_key::generate(&mut getrandom::SysRng, self.transfer_key_bits)?;
        let spki = cert::spki_der(&sd_core::RsaPublicKey::from(&key))?;
        let evidence = self.platform.evidence(&spki, &EnclaveClaims::default())?;
        let certificate = cert::exchange_certificate(
            &mut getrandom::SysRng,
            &key,
            name,
            vec![evidence_extension(&evidence)?],
            cert::backdated(signing_now()),
            365,
        )?;
        let admin = match admin {
            Some(a) => a,
            None => azure_shapes::Guid::random()
                .map_err(|e| StartError::Server(format!("random object ID: {e}")))?
                .to_string(),
        };
        let state = HsmState::new(private_key::to_plain_pem(&key)?.to_string(), certificate.to_pem(), admin);
        store::save_hsm(dir, &state).map_err(StartError::file(store::hsm_state_path(dir)))?;
        Ok(state)
    }
}

/// A listener on `addr` for a server of ours.
pub fn listen(addr: SocketAddr) -> Result<(TcpListener, String), StartError> {
    let listener = TcpListener::bind(addr).map_err(|source| StartError::Listen { addr, source })?;
    let bound = listener
        .set_nonblocking(true)
        .and_then(|()| listener.local_addr())
        .map_err(|source| StartError::Listen { addr, source })?;
    let host = match bound.ip() {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    Ok((listener, format!("https://{host}:{}", bound.port())))
}

/// Serves `router` over TLS on `listener` in the background until `handle` stops it.
pub fn spawn(
    listener: TcpListener,
    tls: RustlsConfig,
    router: Router,
    handle: Handle<SocketAddr>,
) -> Result<(), StartError> {
    let server = axum_server::from_tcp_rustls(listener, tls)
        .map_err(|e| StartError::Server(e.to_string()))?
        .handle(handle)
        .serve(router.into_make_service());
    tokio::spawn(async move {
        if let Err(e) = server.await {
            eprintln!("mhsm-emulator: a listener stopped: {e}");
        }
    });
    Ok(())
}

/// Runs the emulator until SIGINT or SIGTERM.
pub fn run(config: Config) -> Result<(), StartError> {
    let dir = &config.data_dir;
    std::fs::create_dir_all(dir).map_err(StartError::file(dir))?;
    let platform = attestation_platform(dir)?;
    let (cert_pem, key_pem) = tls_material(dir)?;
    let token = token(dir, config.token_file.as_deref())?;
    let arm_state = store::load_arm(dir)?;
    let (listener, base_url) = listen(config.listen)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| StartError::Server(format!("async runtime: {e}")))?;
    runtime.block_on(async move {
        let tls = RustlsConfig::from_pem(cert_pem.into_bytes(), key_pem.into_bytes())
            .await
            .map_err(|e| StartError::Server(format!("TLS configuration: {e}")))?;
        let planes = Planes {
            token,
            activation_delay: config.activation_delay,
            transfer_key_bits: config.transfer_key_bits,
            clock: Clock::system(),
            tls: tls.clone(),
            platform,
        };
        // name and subscription, principal, then url, arm-url and env: scripts wait for the last.
        let absolute = std::fs::canonicalize(dir).map_err(StartError::file(dir))?;
        let subscription = directions::subscription(dir)?;
        let mut directions = Directions {
            dir: &absolute,
            url: &base_url,
            hsm_name: &config.hsm_name,
            subscription: &subscription,
            principal: "",
        };
        directions.publish_name()?;
        let app = planes.open_hsm(dir, &config.hsm_name, None, &base_url)?;
        let principal = app.current().map(|s| s.admin_principal.clone()).unwrap_or_default();
        directions.principal = &principal;
        store::publish(&dir.join("arm-url"), &base_url)?;
        directions.publish_env()?;
        let arm = Arc::new(Arm::new(dir.clone(), base_url.clone(), config.provisioning, planes, arm_state));
        // HSMs provisioned before a restart get their data planes back (on new ports).
        arm.start_all()?;
        let handle = Handle::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            else {
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
            eprintln!("mhsm-emulator: stopping");
            stopper.graceful_shutdown(Some(Duration::from_secs(2)));
        });
        println!("mhsm-emulator listening on {base_url} (data {})", dir.display());
        println!("{}", directions.text());
        axum_server::from_tcp_rustls(listener, tls)
            .map_err(|e| StartError::Server(e.to_string()))?
            .handle(handle)
            .serve(dataplane::router(app).merge(management::router(arm)).into_make_service())
            .await
            .map_err(|e| StartError::Server(e.to_string()))
    })
}

/// Reuses `DIR/tls.key` + `DIR/ca.pem`, or makes a self-signed server
/// certificate for localhost, 127.0.0.1 and ::1.
fn tls_material(dir: &Path) -> Result<(String, String), StartError> {
    let key_path = dir.join("tls.key");
    let cert_path = dir.join("ca.pem");
    if key_path.is_file() && cert_path.is_file() {
        let key = std::fs::read_to_string(&key_path).map_err(StartError::file(&key_path))?;
        let cert = std::fs::read_to_string(&cert_path).map_err(StartError::file(&cert_path))?;
        return Ok((cert, key));
    }
    let key = private_key::generate(&mut getrandom::SysRng, 2048)?;
    let ips = [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)];
    let cert = cert::self_signed_server(
        &mut getrandom::SysRng,
        &key,
        &["localhost"],
        &ips,
        // TLS clients judge it by the machine's clock, whatever the rehearsal's.
        cert::backdated(Clock::system().now()),
        3650,
    )?;
    let key_pem = private_key::to_plain_pem(&key)?;
    store::write_atomic(&key_path, key_pem.as_bytes(), 0o600).map_err(StartError::file(&key_path))?;
    store::publish(&cert_path, &cert.to_pem())?;
    Ok((cert.to_pem(), key_pem.to_string()))
}

/// The administrator's bearer token: from `token_file`, kept in `DIR/token`
/// (0600), or made at random on first start.
fn token(dir: &Path, token_file: Option<&Path>) -> Result<String, StartError> {
    let path = dir.join("token");
    let existing = match token_file {
        Some(f) => Some(std::fs::read_to_string(f).map_err(StartError::file(f))?),
        None if path.is_file() => Some(std::fs::read_to_string(&path).map_err(StartError::file(&path))?),
        None => None,
    };
    let token = match existing {
        Some(t) => t.trim().to_owned(),
        None => {
            let mut raw = [0u8; 32];
            getrandom::fill(&mut raw).map_err(|e| StartError::Server(format!("random token: {e}")))?;
            b64::url_encode(&raw)
        }
    };
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(StartError::BadToken);
    }
    store::write_atomic(&path, token.as_bytes(), 0o600).map_err(StartError::file(&path))?;
    Ok(token)
}

/// The simulated SGX platform that attests the exchange keys: made once,
/// kept in DIR/attestation-platform.pem (0600); its root in DIR/attestation-root.pem.
fn attestation_platform(dir: &Path) -> Result<SimulatedPlatform, StartError> {
    let path = dir.join("attestation-platform.pem");
    let platform = if path.is_file() {
        let text = std::fs::read_to_string(&path).map_err(StartError::file(&path))?;
        SimulatedPlatform::from_pem(&text)
            .map_err(|e| StartError::Corrupt { path: path.clone(), problem: e.to_string() })?
    } else {
        let p = SimulatedPlatform::generate(
            &mut getrandom::SysRng,
            "hsm-ceremony emulator attestation root (NOT Intel)",
            cert::backdated(signing_now()),
            3650,
        )?;
        store::write_atomic(&path, p.to_pem()?.as_bytes(), 0o600).map_err(StartError::file(&path))?;
        p
    };
    store::publish(&dir.join("attestation-root.pem"), &platform.root_pem()?)?;
    Ok(platform)
}
