//! Finding locks on the local network: DNS-SD over multicast DNS. A lock announces
//! `_tessera-lock._tcp.local.` with TXT `id=<32 hex>` (its own id), `name=` and
//! `v=1`. Multicast does not cross routers and is often filtered (guest Wi-Fi,
//! containers, loopback without the MULTICAST flag): a manual address is the fallback.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent};

use crate::{Error, Result};

/// The DNS-SD service type locks announce.
pub const SERVICE_TYPE: &str = "_tessera-lock._tcp.local.";

/// A lock that announced itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    pub lock_id: [u8; 16],
    pub name: String,
    /// Where it listens, IPv4 first.
    pub addresses: Vec<SocketAddr>,
    /// The protocol version it announced (`v=`).
    pub version: Option<String>,
}

/// Listens for announcements for `timeout` and returns the locks heard, by id.
pub async fn browse(timeout: Duration) -> Result<Vec<Announced>> {
    tokio::task::spawn_blocking(move || browse_blocking(timeout))
        .await
        .map_err(|e| Error::Discovery {
            reason: format!("the browser failed: {e}"),
        })?
}

fn browse_blocking(timeout: Duration) -> Result<Vec<Announced>> {
    let failed = |e: mdns_sd::Error| Error::Discovery {
        reason: e.to_string(),
    };
    let daemon = ServiceDaemon::new().map_err(failed)?;
    // Loopback too: a lock on this machine is found where the interface allows multicast.
    let _ = daemon.enable_interface(IfKind::LoopbackV4);
    let events = daemon.browse(SERVICE_TYPE).map_err(failed)?;
    let deadline = Instant::now() + timeout;
    let mut found: BTreeMap<[u8; 16], Announced> = BTreeMap::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match events.recv_timeout(left) {
            Ok(ServiceEvent::ServiceResolved(service)) => {
                let Some(lock_id) = service
                    .get_property_val_str("id")
                    .and_then(super::wire::parse_lock_id)
                else {
                    tracing::debug!(
                        service = service.get_fullname(),
                        "an announcement without a lock id"
                    );
                    continue;
                };
                let port = service.get_port();
                let mut addresses: Vec<SocketAddr> = service
                    .get_addresses()
                    .iter()
                    .map(|ip| ip.to_ip_addr())
                    // A link-local IPv6 address needs its interface, which a socket address here lacks.
                    .filter(|ip| !matches!(ip, IpAddr::V6(v6) if v6.is_unicast_link_local()))
                    .map(|ip| SocketAddr::new(ip, port))
                    .collect();
                addresses.sort_by_key(|address| (address.is_ipv6(), *address));
                let entry = found.entry(lock_id).or_insert_with(|| Announced {
                    lock_id,
                    name: String::new(),
                    addresses: Vec::new(),
                    version: None,
                });
                if let Some(name) = service.get_property_val_str("name") {
                    entry.name = name.to_owned();
                }
                entry.version = service.get_property_val_str("v").map(str::to_owned);
                for address in addresses {
                    if !entry.addresses.contains(&address) {
                        entry.addresses.push(address);
                    }
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let _ = daemon.stop_browse(SERVICE_TYPE);
    if let Ok(stopped) = daemon.shutdown() {
        let _ = stopped.recv_timeout(Duration::from_secs(1));
    }
    Ok(found.into_values().collect())
}
