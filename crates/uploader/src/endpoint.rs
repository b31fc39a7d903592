//! Where the uploader sends requests (and tokens): a base URL parsed once, by
//! the same URI parser the HTTP client connects with (`http::Uri`, through
//! ureq), so the host a rule judges is the host the client reaches. A check
//! on the text and a connection to another reading of it is how
//! `https://contoso.managedhsm.azure.net:443@127.0.0.1` once passed for a
//! Managed HSM; here it is refused before any connection.
//!
//! A base URL is `https://HOST[:PORT][/]`: no user information, no path, no
//! query, no fragment.

use std::fmt;

use ceremony_cli::error::{CliError, CliResult};
use sd_core::hsm_name::HSM_DNS_SUFFIX;
use ureq::http::Uri;

/// Resource Manager's host.
const ARM_HOST: &str = "management.azure.com";

/// An HTTPS origin the uploader may talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Lower-case host, as the client will resolve it.
    host: String,
    /// An explicit port other than 443.
    port: Option<u16>,
}

impl Endpoint {
    /// Parses a base URL given with `flag`; anything but `https://HOST[:PORT][/]` is refused.
    pub fn parse(text: &str, flag: &str) -> CliResult<Endpoint> {
        let bad = |why: &str| {
            CliError::general(format!("{flag} {:?}: {why}", ceremony_cli::terminal::capped(text)))
                .hint("give the base URL alone: https://HOST or https://HOST:PORT")
        };
        // http::Uri drops a fragment silently; a base URL has none.
        if text.contains('#') {
            return Err(bad("a base URL has no fragment (#)"));
        }
        let uri: Uri = text.parse().map_err(|_| bad("not a URL"))?;
        if uri.scheme_str() != Some("https") {
            return Err(bad("must start with https://"));
        }
        let authority = uri.authority().ok_or_else(|| bad("has no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("has user information (NAME@HOST): the host would not be the one it seems"));
        }
        if uri.query().is_some() {
            return Err(bad("a base URL has no query (?)"));
        }
        if !matches!(uri.path(), "" | "/") {
            return Err(bad("a base URL has no path"));
        }
        let host = authority.host().trim_matches(['[', ']']).to_ascii_lowercase();
        if host.is_empty() {
            return Err(bad("has no host"));
        }
        let port = authority.port_u16().filter(|p| *p != 443);
        if authority.port().is_some() && authority.port_u16().is_none() {
            return Err(bad("its port is not a number from 1 to 65535"));
        }
        Ok(Endpoint { host, port })
    }

    /// The endpoint of a Managed HSM by name: `https://NAME.managedhsm.azure.net`.
    pub fn managed_hsm(name: &sd_core::HsmName) -> Endpoint {
        Endpoint { host: format!("{}{HSM_DNS_SUFFIX}", name.as_str()), port: None }
    }

    /// The Managed HSM this is, when it is `https://NAME.managedhsm.azure.net`
    /// on the standard port with NAME a valid HSM name.
    pub fn managed_hsm_name(&self) -> Option<&str> {
        let name = self.host.strip_suffix(HSM_DNS_SUFFIX)?;
        (self.port.is_none() && sd_core::hsm_name::is_managed_hsm_name(name)).then_some(name)
    }

    /// True for Azure Resource Manager, `https://management.azure.com`.
    pub fn is_resource_manager(&self) -> bool {
        self.host == ARM_HOST && self.port.is_none()
    }

    /// True when `url` (a full URL a service handed back, such as an
    /// operation's `Location`) is on this origin, with no user information.
    pub fn same_origin(&self, url: &str) -> bool {
        let Ok(uri) = url.parse::<Uri>() else { return false };
        let Some(authority) = uri.authority() else { return false };
        uri.scheme_str() == Some("https")
            && !authority.as_str().contains('@')
            && authority.host().trim_matches(['[', ']']).eq_ignore_ascii_case(&self.host)
            && authority.port_u16().filter(|p| *p != 443) == self.port
    }
}

/// `https://HOST[:PORT]`, the form requests are built on.
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        match self.port {
            Some(p) => write!(f, "https://{host}:{p}"),
            None => write!(f, "https://{host}"),
        }
    }
}

/// One path segment, percent-encoded: everything but RFC 3986's unreserved
/// characters, so a name can never add a segment, a query or a fragment.
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> CliResult<Endpoint> {
        Endpoint::parse(text, "--hsm-url")
    }

    #[test]
    fn a_managed_hsm_is_its_host_as_the_client_reads_it() {
        let e = parse("https://Contoso.managedhsm.azure.net/").unwrap();
        assert_eq!(e.managed_hsm_name(), Some("contoso"));
        assert_eq!(e.to_string(), "https://contoso.managedhsm.azure.net");
        assert_eq!(
            parse("https://contoso.managedhsm.azure.net:443").unwrap().managed_hsm_name(),
            Some("contoso")
        );
        // N4: the host a client connects to here is 127.0.0.1.
        let err = parse("https://contoso.managedhsm.azure.net:443@127.0.0.1:8443").unwrap_err();
        assert!(err.to_string().contains("user information"), "{err}");
        for (url, why) in [
            ("http://contoso.managedhsm.azure.net", "https://"),
            ("https://contoso.managedhsm.azure.net/keys", "no path"),
            ("https://contoso.managedhsm.azure.net?x=1", "no query"),
            ("https://contoso.managedhsm.azure.net#x", "no fragment"),
            ("https://", "not a URL"),
        ] {
            let err = parse(url).unwrap_err().to_string();
            assert!(err.contains(why), "{url}: {err}");
        }
        // Not a Managed HSM: another port, another suffix, a name Azure would not give.
        for url in [
            "https://contoso.managedhsm.azure.net:8443",
            "https://contoso.managedhsm.azure.net.evil.example",
            "https://127.0.0.1:8443",
            "https://a--b.managedhsm.azure.net",
        ] {
            assert_eq!(parse(url).unwrap().managed_hsm_name(), None, "{url}");
        }
    }

    #[test]
    fn resource_manager_and_origins() {
        assert!(Endpoint::parse("https://management.azure.com/", "--arm-url").unwrap().is_resource_manager());
        assert!(
            !Endpoint::parse("https://management.azure.com:444", "--arm-url").unwrap().is_resource_manager()
        );
        let e = parse("https://127.0.0.1:8443").unwrap();
        assert!(e.same_origin("https://127.0.0.1:8443/op/1?api-version=x"));
        assert!(!e.same_origin("https://127.0.0.1:8443@evil.example/op"));
        assert!(!e.same_origin("https://127.0.0.1:9443/op"));
        assert!(!e.same_origin("http://127.0.0.1:8443/op"));
    }

    #[test]
    fn segments_cannot_escape() {
        assert_eq!(segment("rg/providers/x?"), "rg%2Fproviders%2Fx%3F");
        assert_eq!(segment("my-rg_(1).a"), "my-rg_%281%29.a");
        assert_eq!(segment("é"), "%C3%A9");
    }
}
