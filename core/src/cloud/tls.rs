//! TLS for the cloud client. Roots are bundled (Mozilla's, via webpki-roots) so the
//! client works the same on a phone, a desktop and a bare container without a
//! system CA store; extra roots can be added (a private cloud, tests).

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

use crate::{Error, Result};

pub(crate) fn client_config(extra_roots: &[Vec<u8>]) -> Result<rustls::ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in extra_roots {
        roots
            .add(CertificateDer::from(der.clone()))
            .map_err(|e| Error::Config {
                reason: format!("an extra root certificate is invalid: {e}"),
            })?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config {
            reason: format!("TLS set-up failed: {e}"),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // A preconfigured TLS set-up gets no protocols from reqwest: offer both.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
