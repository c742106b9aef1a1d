//! Every failure becomes one `ErrorBody` with its stable code and HTTP status.
//! Messages are for people and never contain a secret; internal causes are
//! logged here, once, and answered as `internal`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_api::{ErrorBody, ErrorCode, ErrorDetail};

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    /// Seconds, for `rate_limited`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn unauthorized() -> Self {
        ApiError::new(ErrorCode::Unauthorized, "a valid access token is required")
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(ErrorCode::NotFound, format!("no such {what}"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Forbidden, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Conflict, message)
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidRequest, message)
    }

    pub fn invalid_input(field: &str, message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidInput, message).with_field(field)
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut error = ApiError::new(ErrorCode::RateLimited, "too many attempts; try again later");
        error.retry_after = Some(retry_after_secs.max(1));
        error
    }

    /// A failure of the cloud itself. The cause is logged (it names no secret:
    /// SQL errors carry statements, never bound values) and not shown.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(ErrorCode::Internal, "the cloud failed; try again later")
    }

    /// The answer for an HTTP status that arose outside the handlers (routing,
    /// a layer), so that it too carries an `ErrorBody`.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => ApiError::new(ErrorCode::NotFound, "no such route"),
            StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this route does not take this method",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => payload_too_large(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ApiError::invalid_request("the body must be JSON (Content-Type: application/json)")
            }
            status if status.is_client_error() => ApiError::invalid_request("the request is not valid"),
            _ => ApiError::new(ErrorCode::Internal, "the cloud failed; try again later"),
        }
    }

    /// A domain rule refused the input: the domain's code, and the request field at fault.
    pub fn domain(error: tessera_model::Error) -> Self {
        let field = domain_field(&error);
        let mut api = ApiError::new(ErrorCode::from_domain(&error), error.to_string());
        api.field = field.map(str::to_owned);
        api
    }
}

pub fn payload_too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("the body is larger than {} bytes", tessera_api::MAX_BODY_BYTES),
    )
}

/// The request field a domain error is about, in the contract's spelling.
fn domain_field(error: &tessera_model::Error) -> Option<&'static str> {
    use tessera_model::Error as E;
    match error {
        E::InvalidSchedule { .. } | E::ScheduleNotSupported { .. } => Some("schedule"),
        E::WeakPin { .. }
        | E::PinConflict { .. }
        | E::ConstraintViolated { .. }
        | E::PinLength { .. }
        | E::InvalidPin { .. }
        | E::NoPinAvailable { .. } => Some("pin"),
        E::UnknownTimeZone { .. } => Some("time_zone"),
        E::CapacityExceeded { .. } => None,
        E::InvalidInput { field, .. } => Some(match *field {
            "lock name" => "name",
            "max uses" => "max_uses",
            "PIN lengths" | "max codes" | "schedule kinds" | "constraint" => "capabilities",
            other => other,
        }),
        _ => None,
    }
}

impl From<tessera_model::Error> for ApiError {
    fn from(error: tessera_model::Error) -> Self {
        ApiError::domain(error)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::internal(error)
    }
}

impl From<crate::crypto::SealError> for ApiError {
    fn from(error: crate::crypto::SealError) -> Self {
        ApiError::internal(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_client_error() {
            tracing::debug!(code = ?self.code, field = self.field.as_deref(), "request refused");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
