//! The cloud client's TLS: it needs no system CA store (phones and bare containers
//! have none it can use), trusts the bundled public roots, refuses a certificate no
//! root vouches for, and takes extra roots for a private cloud. A TLS-terminating
//! proxy in front of a real `tessera-cloud` process plays the private cloud.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test helpers: a failure is a failed test.

use std::sync::Arc;

use tessera_core::api::ErrorCode;
use tessera_core::cloud::{CloudApi, CloudError};
use tessera_e2e::Cloud;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Terminates TLS for `localhost` with a fresh self-signed certificate and forwards
/// the bytes to `backend`. Returns the proxy's port and the certificate (DER and PEM).
async fn tls_proxy(backend: u16) -> (u16, CertificateDer<'static>, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let pem = certified.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake (the client distrusts us) simply ends here.
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", backend)).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    (port, cert, pem)
}

fn cloud_port(cloud: &Cloud) -> u16 {
    cloud.url().rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn bundled_roots_refuse_a_private_certificate_and_extra_roots_accept_it() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(dir.path(), &[]);
    let (port, cert, _) = tls_proxy(cloud_port(&cloud)).await;
    let url = format!("https://localhost:{port}");

    // Bundled roots only: the self-signed certificate is refused.
    let bundled = CloudApi::new(&url, &[]).expect("the client builds without any system CA store");
    match bundled.account(&tessera_core::api::Secret::new("tsa_none")).await {
        Err(CloudError::Unreachable { reason }) => {
            assert!(
                reason.to_lowercase().contains("certificate") || reason.contains("UnknownIssuer"),
                "{reason}"
            );
        }
        other => panic!("an untrusted certificate was accepted: {other:?}"),
    }

    // With the private cloud's root added, the handshake succeeds and the real cloud
    // answers (401: no valid token was sent).
    let trusted = CloudApi::new(&url, &[cert.to_vec()]).unwrap();
    match trusted.account(&tessera_core::api::Secret::new("tsa_none")).await {
        Err(CloudError::Rejected {
            status: 401,
            code: ErrorCode::Unauthorized,
            ..
        }) => {}
        other => panic!("expected the cloud's 401 through TLS, got {other:?}"),
    }
}

/// The `tessera` process with the system CA store pointed at nothing: it still
/// builds its client, refuses the private cloud's certificate, and with the private
/// root given (`TESSERA_CA_CERTS`) signs up and syncs over TLS.
#[tokio::test(flavor = "multi_thread")]
async fn the_cli_needs_no_system_ca_store() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(dir.path(), &[]);
    let (port, _, root) = tls_proxy(cloud_port(&cloud)).await;
    let url = format!("https://localhost:{port}");
    let pem = dir.path().join("private-root.pem");
    std::fs::write(&pem, root).unwrap();
    let phone = tessera_e2e::Tessera::new(&dir.path().join("phone"));
    let without_system_store = |args: &[&str], extra_roots: bool| {
        let mut command = phone.command(args);
        command
            .env("SSL_CERT_FILE", "/nonexistent/ca.pem")
            .env("SSL_CERT_DIR", "/nonexistent")
            .env_remove("TESSERA_CA_CERTS");
        if extra_roots {
            command.env("TESSERA_CA_CERTS", &pem);
        }
        command.output().unwrap()
    };
    let signup = [
        "--json",
        "signup",
        "--cloud",
        url.as_str(),
        "--email",
        "tls@example.com",
    ];
    let refused = tokio::task::block_in_place(|| without_system_store(&signup, false));
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("\"offline\"") && stderr.to_lowercase().contains("certificate"),
        "{stderr}"
    );

    let accepted = tokio::task::block_in_place(|| without_system_store(&signup, true));
    assert_eq!(
        accepted.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    let lock = ["--json", "lock", "add", "--name", "Gate", "--tz", "UTC"];
    let added = tokio::task::block_in_place(|| without_system_store(&lock, true));
    let added: serde_json::Value = serde_json::from_slice(&added.stdout).unwrap();
    assert_eq!(added["sync_run"]["state"], "synced");
}
