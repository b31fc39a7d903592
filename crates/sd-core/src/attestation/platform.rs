//! The platform a PCK certificate describes: its SGX extension
//! (OID 1.2.840.113741.1.13.1) names the FMSPC, the PCE and the TCB level
//! (16 component SVNs and the PCE SVN) the certificate was issued for.

use const_oid::ObjectIdentifier;
use der::asn1::{Any, OctetString};
use der::{Decode, Encode};

const SGX_EXTENSIONS: &str = "1.2.840.113741.1.13.1";
const TCB: &str = "1.2.840.113741.1.13.1.2";
const PCE_ID: &str = "1.2.840.113741.1.13.1.3";
const FMSPC: &str = "1.2.840.113741.1.13.1.4";
const PCESVN_ARC: u32 = 17;

/// Platform values from the PCK certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Platform {
    /// FMSPC (family-model-stepping-platform-customSKU), 6 bytes, hex.
    pub fmspc: String,
    /// PCE ID, 2 bytes, hex.
    pub pce_id: String,
    /// The 16 TCB component SVNs.
    pub tcb_components: [u8; 16],
    /// The PCE SVN.
    pub pce_svn: u16,
}

fn entries(bytes: &[u8]) -> Option<Vec<(ObjectIdentifier, Any)>> {
    let seq: Vec<Any> = Vec::from_der(bytes).ok()?;
    seq.into_iter()
        .map(|item| {
            let pair: Vec<Any> = Vec::from_der(&item.to_der().ok()?).ok()?;
            let [oid, value]: [Any; 2] = pair.try_into().ok()?;
            Some((oid.decode_as::<ObjectIdentifier>().ok()?, value))
        })
        .collect()
}

impl Platform {
    /// Reads the SGX extension of a PCK certificate; `None` when it is absent or malformed.
    pub fn from_pck(cert: &x509_cert::Certificate) -> Option<Platform> {
        let oid = ObjectIdentifier::new(SGX_EXTENSIONS).ok()?;
        let ext = cert.tbs_certificate().extensions()?.iter().find(|e| e.extn_id == oid)?;
        let mut p = Platform::default();
        for (id, value) in entries(ext.extn_value.as_bytes())? {
            let id = id.to_string();
            if id == FMSPC {
                p.fmspc =
                    crate::primitives::hex::hex_lower(value.decode_as::<OctetString>().ok()?.as_bytes());
            } else if id == PCE_ID {
                p.pce_id =
                    crate::primitives::hex::hex_lower(value.decode_as::<OctetString>().ok()?.as_bytes());
            } else if id == TCB {
                for (comp, v) in entries(&value.to_der().ok()?)? {
                    let arc = comp.arcs().last()?;
                    let n = value_u32(&v);
                    match (arc, n) {
                        (1..=16, Some(n)) => p.tcb_components[arc as usize - 1] = u8::try_from(n).ok()?,
                        (PCESVN_ARC, Some(n)) => p.pce_svn = u16::try_from(n).ok()?,
                        _ => {}
                    }
                }
            }
        }
        Some(p)
    }
}

fn value_u32(v: &Any) -> Option<u32> {
    v.decode_as::<u32>().ok()
}
