//! The lock on the local network: an mDNS / DNS-SD announcement of
//! `_tessera-lock._tcp.local.` with TXT `id=<lock id hex>`, `name=<name>`, `v=1`.
//!
//! Where multicast does not reach (another subnet, a guest network, a VPN), the
//! phone connects to the address the owner types in: the announcement only
//! saves typing it.
//!
//! mdns-sd joins the multicast group on every interface it finds; tests run the
//! lock and the browser in a network namespace of their own (loopback only) so
//! that nothing leaves the machine.

use std::net::{IpAddr, SocketAddr};

use mdns_sd::{ServiceDaemon, ServiceInfo};

use crate::lock::LockHandle;
use crate::{Error, Result};

/// The DNS-SD service type of Tessera locks.
pub const SERVICE_TYPE: &str = "_tessera-lock._tcp.local.";
/// The protocol version announced in TXT `v`.
pub const PROTOCOL_VERSION: &str = "1";

/// A running announcement; withdrawn on drop.
pub struct Announcement {
    daemon: ServiceDaemon,
    fullname: String,
}

impl std::fmt::Debug for Announcement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Announcement")
            .field("fullname", &self.fullname)
            .finish()
    }
}

impl Announcement {
    /// The announced instance's full name (`tessera-<id>._tessera-lock._tcp.local.`).
    pub fn fullname(&self) -> &str {
        &self.fullname
    }
}

impl Drop for Announcement {
    fn drop(&mut self) {
        // Goodbye packets, then the daemon's thread ends.
        if let Ok(done) = self.daemon.unregister(&self.fullname) {
            let _ = done.recv_timeout(std::time::Duration::from_secs(1));
        }
        let _ = self.daemon.shutdown();
    }
}

impl LockHandle {
    /// Announces the lock serving at `address`: that address when it is a
    /// specific one, every address of the host when it is unspecified (`0.0.0.0`).
    pub fn announce(&self, address: SocketAddr) -> Result<Announcement> {
        let failed = |e: mdns_sd::Error| Error::Announce(e.to_string());
        let daemon = ServiceDaemon::new().map_err(failed)?;
        let id = self.id_hex();
        let info = self.info();
        let instance = format!("tessera-{id}");
        let host = format!("tessera-{}.local.", &id[..12]);
        let properties = [
            ("id", id.as_str()),
            ("name", info.name.as_str()),
            ("v", PROTOCOL_VERSION),
        ];
        let ip: IpAddr = address.ip();
        let service = if ip.is_unspecified() {
            ServiceInfo::new(
                SERVICE_TYPE,
                &instance,
                &host,
                "",
                address.port(),
                &properties[..],
            )
            .map(ServiceInfo::enable_addr_auto)
        } else {
            ServiceInfo::new(
                SERVICE_TYPE,
                &instance,
                &host,
                ip,
                address.port(),
                &properties[..],
            )
        }
        .map_err(failed)?;
        let fullname = service.get_fullname().to_owned();
        daemon.register(service).map_err(failed)?;
        tracing::info!(%fullname, "announced over mDNS");
        Ok(Announcement { daemon, fullname })
    }
}
