//! Speed of the operations a ceremony waits for: custodian key generation,
//! opening one share, and rebuilding the master key + writing a restore blob
//! for Azure's real 2020 SD file. `bench/run.sh` runs these next to the same
//! operations done by the `openssl` command.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use sd_core::azure::restore_blob::RestoreBlob;
use sd_core::azure::sd_file::SecurityDomain;
use sd_core::pki::cert::Certificate;
use sd_core::{pki::private_key, primitives::kdf, primitives::secret::MasterKey};

fn vectors() -> PathBuf {
    std::env::var_os("HSM_CEREMONY_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"))
}

fn read(rel: &str) -> Vec<u8> {
    let p = vectors().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e} (set HSM_CEREMONY_VECTORS)", p.display()))
}

const KEYS: &str = "azure-sdk-for-python/sdk/keyvault/azure-keyvault-securitydomain/tests/resources";

fn key(i: usize) -> sd_core::RsaPrivateKey {
    private_key::from_pem(&String::from_utf8(read(&format!("{KEYS}/certificate{i}.pem"))).unwrap(), None)
        .unwrap()
}

fn keygen(c: &mut Criterion) {
    let mut g = c.benchmark_group("custodian_keygen");
    g.sample_size(10);
    for bits in [3072usize, 4096] {
        g.bench_function(format!("rsa{bits}"), |b| {
            b.iter(|| private_key::generate(&mut getrandom::SysRng, black_box(bits)).unwrap())
        });
    }
    g.finish();
}

fn shares(c: &mut Criterion) {
    let sd = SecurityDomain::parse(&read("azure-cli/security_domain_keys/sdtest/sdfile.json")).unwrap();
    let k0 = key(0);
    let k2 = key(2);
    let tp = Certificate::from_pem_or_der(&read(&format!("{KEYS}/certificate2.cer"))).unwrap().x5t_s256();
    c.bench_function("open_share/by_thumbprint", |b| {
        b.iter(|| sd.open_share(black_box(&k2), Some(&tp)).unwrap())
    });
    // Without the certificate every share is tried: the worst case is the last one.
    c.bench_function("open_share/by_trying_3", |b| b.iter(|| sd.open_share(black_box(&k2), None).unwrap()));
    let opened = [sd.open_share(&k0, None).unwrap(), sd.open_share(&k2, None).unwrap()];
    c.bench_function("recover/master_key_and_enc_data_2020", |b| {
        b.iter(|| sd.recover(black_box(&opened)).unwrap())
    });
    let exchange =
        Certificate::from_pem_or_der(&read("generated/az-2.91.0-restore-blob/test-exchange.pem")).unwrap();
    let secrets = sd.recover(&opened).unwrap().secrets;
    c.bench_function("restore_blob/build_2020", |b| {
        b.iter(|| RestoreBlob::build(&mut getrandom::SysRng, black_box(&secrets), &exchange).unwrap())
    });
    let master = MasterKey::from_bytes([7; 32]);
    c.bench_function("kdf/sp800_108_512", |b| {
        b.iter(|| kdf::enc_data_key(black_box(&master), "hsm_backup").unwrap())
    });
}

/// Verifying the exchange key's SGX attestation (Azure's real 2025 response),
/// and the honest quorum rebuild when one of three shares is bad.
fn attestation_and_quorum(c: &mut Criterion) {
    use sd_core::attestation::{ExchangeKeySource, Pins, VerifiedExchangeKey};
    let body = read("azure-cli/transfer-keys/azure-cli-2025-04-22-test-mhsm-sd2q2avldvp4tl.json");
    let pins = Pins::default();
    c.bench_function("attestation/verify_2025_response", |b| {
        b.iter(|| {
            VerifiedExchangeKey::attested(
                ExchangeKeySource::Response(black_box(&body)),
                "test-mhsm-sd2q2avldvp4tl",
                &pins,
                1_745_312_400,
            )
            .unwrap()
        })
    });
    let sd = SecurityDomain::parse(&read("azure-cli/security_domain_keys/sdtest/sdfile.json")).unwrap();
    let mut opened: Vec<_> = (0..3).map(|i| sd.open_share(&key(i), None).unwrap()).collect();
    // The first share is bad: the first subset tried fails, as does the second.
    let mut bytes = opened[0].share.to_bytes().expose().to_vec();
    let word = u16::from_le_bytes([bytes[0], bytes[1]]);
    bytes[..2].copy_from_slice(&((word & !0x1ff) | (((word & 0x1ff) + 1) % 257)).to_le_bytes());
    opened[0].share = sd_core::primitives::shamir::Share::from_bytes(&bytes).unwrap();
    c.bench_function("recover/one_bad_share_of_3_2020", |b| {
        b.iter(|| {
            let r = sd.recover(black_box(&opened)).unwrap();
            assert_eq!(r.disagreeing, [0]);
        })
    });
}

criterion_group!(benches, keygen, shares, attestation_and_quorum);
criterion_main!(benches);
