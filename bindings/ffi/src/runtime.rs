//! The tokio runtime the core runs on, made once for the process. Async calls from
//! Kotlin, Swift or Python run their work here; the platform only awaits the result.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Runtime;

use crate::TesseraError;

fn runtime() -> Result<&'static Runtime, TesseraError> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("tessera")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|reason| TesseraError::Internal {
            reason: format!("the runtime could not start: {reason}"),
        })
}

/// Runs `work` on the core's runtime and waits for it from any executor.
pub(crate) async fn run<T, F>(work: F) -> Result<T, TesseraError>
where
    F: Future<Output = Result<T, TesseraError>> + Send + 'static,
    T: Send + 'static,
{
    runtime()?.spawn(work).await.map_err(|e| TesseraError::Internal {
        reason: format!("the task failed: {e}"),
    })?
}

/// Starts `work` on the core's runtime in the background.
pub(crate) fn spawn<F>(work: F) -> Result<tokio::task::JoinHandle<()>, TesseraError>
where
    F: Future<Output = ()> + Send + 'static,
{
    Ok(runtime()?.spawn(work))
}
