//! Typed calls to the cloud's HTTP API. Every failure becomes a [`CloudError`] that
//! says whether trying again can help.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tessera_api::{
    Account, CodePatch, CodeView, Credentials, ErrorBody, ErrorCode, IDEMPOTENCY_KEY, LockPatch, LockView,
    NewCode, NewLock, NewShare, OpenShare, RefreshRequest, SealedShare, Secret, ShareView, SyncPage, Tokens,
};
use tessera_model::{CodeId, LockId};
use uuid::Uuid;

use super::tls;
use crate::Result;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a call to the cloud failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CloudError {
    /// No answer: no network, the cloud is down, a timeout. Worth retrying.
    #[error("the cloud cannot be reached: {reason}")]
    Unreachable { reason: String },
    /// The cloud answered with an error.
    #[error("the cloud refused: {message}")]
    Rejected {
        status: u16,
        code: ErrorCode,
        message: String,
        field: Option<String>,
        retry_after: Option<Duration>,
    },
    /// The answer made no sense (a proxy's page, a different API version).
    #[error("unexpected answer from the cloud: {reason}")]
    Protocol { reason: String },
    /// No session, or it has ended (revoked, or its refresh token replayed): log in again.
    #[error("signed out; log in again")]
    SignedOut,
    /// Keeping the session's tokens on this device failed.
    #[error("cannot keep the session on this device: {reason}")]
    Local { reason: String },
}

impl CloudError {
    /// Whether the same request may succeed later without any change.
    pub fn is_transient(&self) -> bool {
        match self {
            CloudError::Unreachable { .. } => true,
            CloudError::Rejected { status, .. } => *status == 429 || *status >= 500,
            CloudError::Protocol { .. } | CloudError::SignedOut | CloudError::Local { .. } => false,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CloudError::Rejected { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            CloudError::Rejected { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// The cloud's API at one address.
#[derive(Clone)]
pub struct CloudApi {
    http: reqwest::Client,
    base: Url,
}

impl std::fmt::Debug for CloudApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudApi")
            .field("base", &self.base.as_str())
            .finish()
    }
}

impl CloudApi {
    /// A client for the cloud at `base` (`https://cloud.example`), trusting the bundled
    /// roots and `extra_roots` (DER certificates).
    pub fn new(base: &str, extra_roots: &[Vec<u8>]) -> Result<Self> {
        let base = parse_base(base)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls::client_config(extra_roots)?)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| crate::Error::Config {
                reason: format!("the HTTP client cannot be built: {e}"),
            })?;
        Ok(CloudApi { http, base })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    pub async fn sign_up(&self, credentials: &Credentials) -> Result<Tokens, CloudError> {
        self.send(self.request(Method::POST, "v1/accounts").json(credentials))
            .await
    }

    pub async fn log_in(&self, credentials: &Credentials) -> Result<Tokens, CloudError> {
        self.send(self.request(Method::POST, "v1/sessions").json(credentials))
            .await
    }

    pub async fn refresh(&self, refresh_token: &Secret) -> Result<Tokens, CloudError> {
        let body = RefreshRequest {
            refresh_token: refresh_token.clone(),
        };
        self.send(self.request(Method::POST, "v1/sessions/refresh").json(&body))
            .await
    }

    pub async fn log_out(&self, access: &Secret) -> Result<(), CloudError> {
        self.send_empty(self.authorized(Method::DELETE, "v1/sessions/current", access))
            .await
    }

    pub async fn account(&self, access: &Secret) -> Result<Account, CloudError> {
        self.send(self.authorized(Method::GET, "v1/account", access))
            .await
    }

    pub async fn lock(&self, access: &Secret, id: LockId) -> Result<LockView, CloudError> {
        self.send(self.authorized(Method::GET, &format!("v1/locks/{id}"), access))
            .await
    }

    pub async fn create_lock(
        &self,
        access: &Secret,
        lock: &NewLock,
        key: Uuid,
    ) -> Result<LockView, CloudError> {
        self.mutate(Method::POST, "v1/locks", access, lock, key).await
    }

    pub async fn patch_lock(
        &self,
        access: &Secret,
        id: LockId,
        patch: &LockPatch,
        key: Uuid,
    ) -> Result<LockView, CloudError> {
        self.mutate(Method::PATCH, &format!("v1/locks/{id}"), access, patch, key)
            .await
    }

    pub async fn create_code(
        &self,
        access: &Secret,
        lock: LockId,
        code: &NewCode,
        key: Uuid,
    ) -> Result<CodeView, CloudError> {
        self.mutate(Method::POST, &format!("v1/locks/{lock}/codes"), access, code, key)
            .await
    }

    pub async fn patch_code(
        &self,
        access: &Secret,
        id: CodeId,
        patch: &CodePatch,
        key: Uuid,
    ) -> Result<CodeView, CloudError> {
        self.mutate(Method::PATCH, &format!("v1/codes/{id}"), access, patch, key)
            .await
    }

    pub async fn revoke_code(&self, access: &Secret, id: CodeId, key: Uuid) -> Result<CodeView, CloudError> {
        let request = self
            .authorized(Method::POST, &format!("v1/codes/{id}/revoke"), access)
            .header(IDEMPOTENCY_KEY, key.to_string());
        self.send(request).await
    }

    pub async fn create_share(&self, access: &Secret, share: &NewShare) -> Result<ShareView, CloudError> {
        self.send(self.authorized(Method::POST, "v1/shares", access).json(share))
            .await
    }

    pub async fn code_shares(&self, access: &Secret, code: CodeId) -> Result<Vec<ShareView>, CloudError> {
        self.send(self.authorized(Method::GET, &format!("v1/codes/{code}/shares"), access))
            .await
    }

    pub async fn revoke_share(&self, access: &Secret, id: &str) -> Result<(), CloudError> {
        self.send_empty(self.authorized(Method::DELETE, &format!("v1/shares/{id}"), access))
            .await
    }

    /// Opens a hosted link: the visitor's call, with no account.
    pub async fn open_share(&self, id: &str, open: &OpenShare) -> Result<SealedShare, CloudError> {
        self.send(
            self.request(Method::POST, &format!("v1/shares/{id}/open"))
                .json(open),
        )
        .await
    }

    /// One page of the change feed after `cursor`.
    pub async fn sync_page(
        &self,
        access: &Secret,
        cursor: Option<u64>,
        limit: u32,
    ) -> Result<SyncPage, CloudError> {
        let mut request = self
            .authorized(Method::GET, "v1/sync", access)
            .query(&[("limit", limit)]);
        if let Some(cursor) = cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        self.send(request).await
    }

    async fn mutate<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        access: &Secret,
        body: &B,
        key: Uuid,
    ) -> Result<T, CloudError> {
        let request = self
            .authorized(method, path, access)
            .header(IDEMPOTENCY_KEY, key.to_string())
            .json(body);
        self.send(request).await
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        // `base` ends with a slash (see `parse_base`), so joining keeps its path.
        let url = self.base.join(path).unwrap_or_else(|_| self.base.clone());
        self.http.request(method, url)
    }

    fn authorized(&self, method: Method, path: &str, access: &Secret) -> RequestBuilder {
        self.request(method, path).bearer_auth(access.expose())
    }

    async fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, CloudError> {
        let response = Self::checked(request).await?;
        response.json().await.map_err(|e| CloudError::Protocol {
            reason: format!("the body is not what the API promises: {e}"),
        })
    }

    async fn send_empty(&self, request: RequestBuilder) -> Result<(), CloudError> {
        Self::checked(request).await.map(drop)
    }

    async fn checked(request: RequestBuilder) -> Result<reqwest::Response, CloudError> {
        let unreachable = |e: reqwest::Error| CloudError::Unreachable {
            reason: without_url(&e),
        };
        let (http, request) = request.build_split();
        let request = request.map_err(unreachable)?;
        // The cloud refuses larger bodies, often before reading them all: the write then
        // fails (broken pipe) and the refusal would look like a network failure.
        if request
            .body()
            .and_then(reqwest::Body::as_bytes)
            .is_some_and(|body| body.len() > tessera_api::MAX_BODY_BYTES)
        {
            return Err(CloudError::Rejected {
                status: StatusCode::PAYLOAD_TOO_LARGE.as_u16(),
                code: ErrorCode::PayloadTooLarge,
                message: format!("the body is larger than {} bytes", tessera_api::MAX_BODY_BYTES),
                field: None,
                retry_after: None,
            });
        }
        let response = http.execute(request).await.map_err(unreachable)?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body: Option<ErrorBody> = response.json().await.ok();
        Err(match body {
            Some(ErrorBody { error }) => CloudError::Rejected {
                status: status.as_u16(),
                code: error.code,
                message: error.message,
                field: error.field,
                retry_after,
            },
            None => CloudError::Rejected {
                status: status.as_u16(),
                code: fallback_code(status),
                message: format!("HTTP {status}"),
                field: None,
                retry_after,
            },
        })
    }
}

/// reqwest's messages name the URL; keep them short and free of query strings.
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    // The deepest error of the chain names the cause (refused, a certificate ...).
    let mut cause: Option<&dyn std::error::Error> = None;
    let mut source = std::error::Error::source(error);
    while let Some(next) = source {
        cause = Some(next);
        source = next.source();
    }
    match cause {
        Some(cause) => format!("{kind}: {cause}"),
        None => kind.to_owned(),
    }
}

fn fallback_code(status: StatusCode) -> ErrorCode {
    match status.as_u16() {
        401 => ErrorCode::Unauthorized,
        404 => ErrorCode::NotFound,
        413 => ErrorCode::PayloadTooLarge,
        429 => ErrorCode::RateLimited,
        _ => ErrorCode::Internal,
    }
}

/// Longest cloud address accepted. The HTTP stack refuses far longer URIs only when
/// sending, which would look like a network failure (offline) instead of bad input.
const MAX_BASE_LEN: usize = 2048;

fn parse_base(base: &str) -> Result<Url> {
    if base.len() > MAX_BASE_LEN {
        return Err(crate::Error::Config {
            reason: format!("a cloud address has at most {MAX_BASE_LEN} characters"),
        });
    }
    let invalid = |reason: &str| crate::Error::Config {
        reason: format!("{base:?} is not a cloud address: {reason}"),
    };
    let mut url = Url::parse(base.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(invalid("use https://"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(invalid("no query, fragment or user name"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use tessera_api::{Credentials, ErrorCode, Secret};

    use super::{CloudApi, CloudError, parse_base};

    #[test]
    fn a_huge_cloud_address_is_bad_input_not_a_network_failure() {
        let huge = format!("http://{}.example", "x".repeat(70_000));
        match parse_base(&huge) {
            Err(crate::Error::Config { reason }) => {
                assert_eq!(reason, "a cloud address has at most 2048 characters");
            }
            other => panic!("expected a config error, got {other:?}"),
        }
        assert_eq!(
            parse_base("http://127.0.0.1:8080")
                .map(|url| url.to_string())
                .ok(),
            Some("http://127.0.0.1:8080/".to_owned())
        );
    }

    #[tokio::test]
    async fn a_body_the_cloud_would_refuse_is_refused_before_sending() {
        // Nothing listens on port 1: had it been sent, this would be a network failure.
        let api = CloudApi::new("http://127.0.0.1:1", &[]).unwrap();
        let credentials = Credentials {
            email: "owner@example.com".to_owned(),
            password: Secret::new("x".repeat(tessera_api::MAX_BODY_BYTES)),
            device_name: None,
        };
        match api.sign_up(&credentials).await {
            Err(CloudError::Rejected { status, code, .. }) => {
                assert_eq!((status, code), (413, ErrorCode::PayloadTooLarge));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
