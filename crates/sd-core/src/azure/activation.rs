//! The activation exchange closed: the SD file the HSM answered a download
//! request with, accepted only when it names exactly the custodians that were
//! sent, in the order sent, and the quorum sent. An [`ActivatedSd`] is the
//! only thing an activation record is signed over, so the operator can
//! never vouch for an SD file that splits the key to anyone else.

use super::download_request::DownloadRequest;
use super::sd_file::SecurityDomain;
use crate::Error;

/// An SD file checked against the request that made it.
#[derive(Debug)]
pub struct ActivatedSd(SecurityDomain);

impl ActivatedSd {
    /// The security domain.
    pub fn security_domain(&self) -> &SecurityDomain {
        &self.0
    }
}

impl DownloadRequest {
    /// Accepts `sd_file` (the `value` of the HSM's answer) as the answer to
    /// this request: it must parse, and name this request's custodians in
    /// this order and its quorum.
    pub fn accept(&self, sd_file: &[u8]) -> Result<ActivatedSd, Error> {
        let sd = SecurityDomain::parse(sd_file)?;
        let sent = self
            .certificates
            .iter()
            .map(|jwk| jwk.certificate().map(|c| c.x5t_s256()))
            .collect::<Result<Vec<_>, _>>()?;
        if sd.thumbprints() != sent || sd.required() != self.required {
            return Err(Error::NotWhatWasSent);
        }
        Ok(ActivatedSd(sd))
    }
}
