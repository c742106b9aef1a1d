//! Errors: every failure answers `{"error": {"code", "message", "field"?}}` with
//! a stable `code` a client can act on.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// For people; never contains a secret.
    pub message: String,
    /// The request field at fault, where there is one (`pin`, `schedule`, `email` ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Stable error codes, with the HTTP status each comes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ErrorCode {
    /// 400: the body is not JSON.
    InvalidJson,
    /// 400: a field is unknown, missing or of the wrong type; a bad query or header.
    InvalidRequest,
    /// 413: the body is larger than the cloud reads.
    PayloadTooLarge,
    /// 401: no valid access token.
    Unauthorized,
    /// 401: the access token has expired; refresh it.
    TokenExpired,
    /// 401: wrong email or password.
    InvalidCredentials,
    /// 401: a spent refresh token was presented again; the whole session is ended.
    RefreshTokenReused,
    /// 403: the caller may see this but not do that (a member managing members).
    Forbidden,
    /// 404: no such thing, or not the caller's.
    NotFound,
    /// 405: the path exists but not with this method (`Allow` lists the methods it takes).
    MethodNotAllowed,
    /// 409: the email already has an account.
    EmailTaken,
    /// 409: the id is taken by something else.
    Conflict,
    /// 409: the code is revoked and can no longer change.
    CodeRevoked,
    /// 422: the same idempotency key came with a different request.
    IdempotencyKeyReused,
    /// 422: a field is out of range (`field` says which).
    InvalidInput,
    /// 422: the domain's rules refuse it (see tessera-model's `Error::code`).
    InvalidSchedule,
    ScheduleNotSupported,
    WeakPin,
    PinConflict,
    ConstraintViolated,
    PinLength,
    InvalidPin,
    NoPinAvailable,
    CapacityExceeded,
    UnknownTimeZone,
    /// 429: too many attempts; see `Retry-After`.
    RateLimited,
    /// 500: the cloud failed; try again later.
    Internal,
    /// A code this build does not know (a newer cloud).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    pub fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidJson | InvalidRequest => 400,
            Unauthorized | TokenExpired | InvalidCredentials | RefreshTokenReused => 401,
            Forbidden => 403,
            NotFound => 404,
            MethodNotAllowed => 405,
            EmailTaken | Conflict | CodeRevoked => 409,
            PayloadTooLarge => 413,
            IdempotencyKeyReused | InvalidInput | InvalidSchedule | ScheduleNotSupported | WeakPin
            | PinConflict | ConstraintViolated | PinLength | InvalidPin | NoPinAvailable
            | CapacityExceeded | UnknownTimeZone => 422,
            RateLimited => 429,
            Internal | Unknown => 500,
        }
    }

    /// The code for a domain error, from its stable name (`tessera_model::Error::code`).
    pub fn from_domain(error: &tessera_model::Error) -> Self {
        use tessera_model::Error as E;
        match error {
            E::InvalidSchedule { .. } => ErrorCode::InvalidSchedule,
            E::ScheduleNotSupported { .. } => ErrorCode::ScheduleNotSupported,
            E::WeakPin { .. } => ErrorCode::WeakPin,
            E::PinConflict { .. } => ErrorCode::PinConflict,
            E::ConstraintViolated { .. } => ErrorCode::ConstraintViolated,
            E::PinLength { .. } => ErrorCode::PinLength,
            E::InvalidPin { .. } => ErrorCode::InvalidPin,
            E::NoPinAvailable { .. } => ErrorCode::NoPinAvailable,
            E::CapacityExceeded { .. } => ErrorCode::CapacityExceeded,
            E::UnknownTimeZone { .. } => ErrorCode::UnknownTimeZone,
            _ => ErrorCode::InvalidInput,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_codes_keep_the_domain_names() {
        let weak = tessera_model::Error::WeakPin {
            rule: tessera_model::WeakPinRule::Sequence,
        };
        let code = ErrorCode::from_domain(&weak);
        assert_eq!(serde_json::to_value(code).unwrap(), weak.code());
        assert_eq!(code.status(), 422);
    }

    #[test]
    fn unknown_codes_from_a_newer_cloud_still_parse() {
        let code: ErrorCode = serde_json::from_str("\"quota_exhausted\"").unwrap();
        assert_eq!(code, ErrorCode::Unknown);
    }
}
