//! What the platform provides: its secret storage and its log. Both are foreign
//! traits the Kotlin, Swift or Python app implements.

use std::sync::{Arc, OnceLock, RwLock};

use tessera_core::SecureStoreError as CoreSecureStoreError;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// The platform's secret storage (keychain, keystore): bytes by key. Tessera keeps
/// there the key that seals PINs on disk and the session's tokens.
#[uniffi::export(foreign)]
pub trait SecureStore: Send + Sync {
    fn get(&self, key: String) -> Result<Option<Vec<u8>>, SecureStoreError>;
    fn put(&self, key: String, value: Vec<u8>) -> Result<(), SecureStoreError>;
    /// Deleting a missing entry succeeds.
    fn delete(&self, key: String) -> Result<(), SecureStoreError>;
}

/// The secure store failed (locked keychain, keystore error ...).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum SecureStoreError {
    #[error("{reason}")]
    Failed { reason: String },
}

/// Whatever else the platform threw becomes a failure of the secure store.
impl From<uniffi::UnexpectedUniFFICallbackError> for SecureStoreError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        SecureStoreError::Failed { reason: error.reason }
    }
}

/// The platform's store, as tessera-core's trait.
pub(crate) struct PlatformSecureStore(pub(crate) Arc<dyn SecureStore>);

impl tessera_core::SecureStore for PlatformSecureStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CoreSecureStoreError> {
        self.0.get(key.to_owned()).map_err(into_core)
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), CoreSecureStoreError> {
        self.0.put(key.to_owned(), value.to_vec()).map_err(into_core)
    }

    fn delete(&self, key: &str) -> Result<(), CoreSecureStoreError> {
        self.0.delete(key.to_owned()).map_err(into_core)
    }
}

fn into_core(error: SecureStoreError) -> CoreSecureStoreError {
    CoreSecureStoreError {
        reason: error.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LogRecord {
    pub level: LogLevel,
    /// The Rust module that logged (`tessera_core::sync`).
    pub target: String,
    /// The message and its fields; tokens are redacted.
    pub message: String,
}

/// The platform's log (Logcat, os_log, Python's logging). A logger that throws is ignored.
#[uniffi::export(foreign)]
pub trait Logger: Send + Sync {
    fn log(&self, record: LogRecord) -> Result<(), crate::ListenerError>;
}

/// The logger events go to: the latest client's. Set once as tracing's global
/// subscriber; replacing the logger does not reinstall it.
static LOGGER: RwLock<Option<Arc<dyn Logger>>> = RwLock::new(None);

pub(crate) fn install_logger(logger: Arc<dyn Logger>) {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    match LOGGER.write() {
        Ok(mut current) => *current = Some(logger),
        Err(poisoned) => *poisoned.into_inner() = Some(logger),
    }
    INSTALLED.get_or_init(|| {
        let filter = tracing_subscriber::filter::Targets::new()
            .with_target("tessera_core", tracing::Level::DEBUG)
            .with_target("tessera_ffi", tracing::Level::DEBUG)
            .with_default(tracing::Level::WARN);
        // Another subscriber set by the host (tests) wins; ours is then unused.
        let _ = tracing_subscriber::registry()
            .with(ForwardToPlatform.with_filter(filter))
            .try_init();
    });
}

struct ForwardToPlatform;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ForwardToPlatform {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let logger = match LOGGER.read() {
            Ok(logger) => logger.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let Some(logger) = logger else {
            return;
        };
        let mut message = MessageVisitor(String::new());
        event.record(&mut message);
        let metadata = event.metadata();
        let level = match *metadata.level() {
            tracing::Level::ERROR => LogLevel::Error,
            tracing::Level::WARN => LogLevel::Warn,
            tracing::Level::INFO => LogLevel::Info,
            tracing::Level::DEBUG => LogLevel::Debug,
            tracing::Level::TRACE => LogLevel::Trace,
        };
        // A failing platform logger must not take the app down with it.
        let _ = logger.log(LogRecord {
            level,
            target: metadata.target().to_owned(),
            message: redact(&message.0),
        });
    }
}

use tracing_subscriber::Layer as _;

struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        if field.name() == "message" {
            self.0.push_str(&format!("{value:?}"));
        } else {
            self.0.push_str(&format!("{}={value:?}", field.name()));
        }
    }
}

/// Blanks out anything shaped like one of the cloud's tokens (`tsa_…`, `tsr_…`,
/// `tsd_…`) or a bearer credential: the core never logs secrets, and this makes
/// sure a careless message cannot either.
pub(crate) fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = ["tsa_", "tsr_", "tsd_", "Bearer "]
        .iter()
        .filter_map(|marker| rest.find(marker).map(|i| (i, marker.len())))
        .min()
    {
        let (start, marker) = at;
        out.push_str(&rest[..start + marker]);
        out.push_str("<redacted>");
        let secret = rest[start + marker..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len() - start - marker);
        rest = &rest[start + marker + secret..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn tokens_and_bearer_credentials_are_redacted() {
        assert_eq!(
            redact("refreshed tsr_AbC-123_x and sent Bearer tsa_zz9; ok"),
            "refreshed tsr_<redacted> and sent Bearer <redacted>; ok"
        );
        assert_eq!(redact("nothing secret"), "nothing secret");
    }
}
