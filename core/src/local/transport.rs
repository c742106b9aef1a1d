//! What the protocol driver runs over: a byte pipe to one lock. TCP on the local
//! network here; Bluetooth in [`super::ble`]; tests use in-memory pipes. Frames may
//! arrive in any chunking: the protocol reassembles them.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{Error, Result};

/// How long a TCP connection to a lock on the local network may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A byte pipe to one lock. `receive` must be cancel-safe: the driver drops it when
/// a deadline comes first.
pub trait LocalTransport: Send {
    fn send(&mut self, bytes: &[u8]) -> impl Future<Output = Result<()>> + Send;
    /// The next bytes from the lock; `None` once it closed the connection.
    fn receive(&mut self) -> impl Future<Output = Result<Option<Vec<u8>>>> + Send;
}

/// A lock on the local network, over TCP.
#[derive(Debug)]
pub struct TcpTransport {
    stream: TcpStream,
    peer: SocketAddr,
    buffer: Box<[u8]>,
}

impl TcpTransport {
    /// Connects to `address` (`host:port`) within [`CONNECT_TIMEOUT`].
    pub async fn connect(address: &str) -> Result<Self> {
        let unreachable = |reason: String| Error::LockUnreachable { reason };
        let addresses: Vec<SocketAddr> =
            tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::lookup_host(address))
                .await
                .map_err(|_| unreachable(format!("looking up {address} timed out")))?
                .map_err(|e| unreachable(format!("{address}: {e}")))?
                .collect();
        let mut last = format!("{address} has no address");
        for peer in addresses {
            match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(peer)).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(TcpTransport {
                        stream,
                        peer,
                        buffer: vec![0; 4096].into_boxed_slice(),
                    });
                }
                Ok(Err(e)) => last = format!("{peer}: {e}"),
                Err(_) => last = format!("{peer}: no answer within {} s", CONNECT_TIMEOUT.as_secs()),
            }
        }
        Err(unreachable(last))
    }

    /// The address the connection went to.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }
}

impl LocalTransport for TcpTransport {
    async fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| Error::LockUnreachable {
                reason: format!("writing to {} failed: {e}", self.peer),
            })
    }

    async fn receive(&mut self) -> Result<Option<Vec<u8>>> {
        match self.stream.read(&mut self.buffer).await {
            Ok(0) => Ok(None),
            Ok(n) => Ok(Some(self.buffer[..n].to_vec())),
            Err(e) => Err(Error::LockUnreachable {
                reason: format!("reading from {} failed: {e}", self.peer),
            }),
        }
    }
}
