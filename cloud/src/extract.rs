//! Request extractors that refuse bad input with the contract's errors: JSON
//! bodies (content type, size, syntax, unknown/missing/mistyped fields with the
//! field's path), query strings, path ids, the `Idempotency-Key` header and the
//! client's address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, RawPathParams, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use tessera_api::{IDEMPOTENCY_KEY, MAX_BODY_BYTES};

use crate::error::{ApiError, payload_too_large};

/// A JSON body, checked strictly.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers().get(CONTENT_TYPE)) {
            return Err(ApiError::invalid_request(
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
            return Err(payload_too_large());
        }
        // Reading stops at the limit whatever the body claims (chunked bodies have no length).
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| payload_too_large())?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn is_json(content_type: Option<&axum::http::HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a body: syntax errors are `invalid_json`; a well-formed body with an
/// unknown, missing or mistyped field is `invalid_request` naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let invalid_json = || ApiError::new(tessera_api::ErrorCode::InvalidJson, "the body is not valid JSON");
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        // Typed parsing stops at the first problem; a body that is not JSON at all
        // is `invalid_json` even when a wrong type came first.
        let well_formed = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
        match inner.classify() {
            serde_json::error::Category::Data if well_formed => data_error(&path, &inner),
            _ => invalid_json(),
        }
    })?;
    deserializer.end().map_err(|_| invalid_json())?;
    Ok(value)
}

/// Describes a data error without repeating the offending value (it may be a PIN
/// or a password sent as the wrong type).
fn data_error(path: &str, error: &dyn std::fmt::Display) -> ApiError {
    let text = error.to_string();
    let text = text.split(" at line ").next().unwrap_or_default();
    let path = if path == "." { "" } else { path };
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    let quoted = text.split('`').nth(1).unwrap_or_default();
    if text.starts_with("missing field") {
        let field = join(quoted);
        return ApiError::invalid_request(format!("missing field `{field}`")).with_field(field);
    }
    if text.starts_with("unknown field") {
        // serde_path_to_error already names the unknown key in the path.
        let field = if path.ends_with(quoted) && !quoted.is_empty() {
            path.to_owned()
        } else {
            join(quoted)
        };
        return ApiError::invalid_request(format!("unknown field `{field}`")).with_field(field);
    }
    if text.starts_with("unknown variant") {
        let expected = text.split(", expected ").nth(1).unwrap_or("another value");
        let message = format!("`{path}` is not one of the accepted values (expected {expected})");
        return ApiError::invalid_request(message).with_field(path);
    }
    if text.starts_with("duplicate field") {
        let field = join(quoted);
        return ApiError::invalid_request(format!("field `{field}` is given twice")).with_field(field);
    }
    let expected = text
        .split(", expected ")
        .nth(1)
        .map(|e| format!(" (expected {e})"))
        .unwrap_or_default();
    let message = if path.is_empty() {
        format!("the body has the wrong shape{expected}")
    } else {
        format!("`{path}` has the wrong type or value{expected}")
    };
    let error = ApiError::invalid_request(message);
    if path.is_empty() {
        error
    } else {
        error.with_field(path)
    }
}

/// A query string, with unknown parameters and bad values refused as `invalid_request`.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|error| {
                let path = error.path().to_string();
                let text = error.into_inner().to_string();
                let quoted = text.split('`').nth(1).unwrap_or_default();
                if text.starts_with("unknown field") || text.starts_with("duplicate field") {
                    ApiError::invalid_request(format!("query parameter `{quoted}` is not accepted here"))
                        .with_field(quoted)
                } else if path.is_empty() || path == "." {
                    ApiError::invalid_request("the query string is not valid")
                } else {
                    ApiError::invalid_request(format!("query parameter `{path}` has a bad value"))
                        .with_field(path)
                }
            })
    }
}

/// Path parameters (ids); a malformed one is `invalid_request` naming the parameter.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => {
                use axum::extract::path::ErrorKind;
                // The parameter's name as the route spells it (`id`, `account_id`).
                let raw = RawPathParams::from_request_parts(parts, state).await.ok();
                let name_at = |index: usize| {
                    raw.as_ref()
                        .and_then(|raw| raw.iter().nth(index))
                        .map(|(k, _)| k.to_owned())
                };
                let field = match error.kind() {
                    ErrorKind::ParseErrorAtKey { key, .. }
                    | ErrorKind::InvalidUtf8InPathParam { key }
                    | ErrorKind::DeserializeError { key, .. } => Some(key.clone()),
                    ErrorKind::ParseErrorAtIndex { index, .. } => name_at(*index),
                    ErrorKind::ParseError { .. } => name_at(0),
                    _ => None,
                };
                let error = ApiError::invalid_request("a path parameter is not a valid id");
                Err(match field {
                    Some(field) => error.with_field(field),
                    None => error,
                })
            }
            Err(other) => Err(ApiError::internal(other)),
        }
    }
}

/// The client's `Idempotency-Key`, if it sent one: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let mut values = parts.headers.get_all(IDEMPOTENCY_KEY).iter();
        let Some(value) = values.next() else {
            return Ok(IdempotencyKey(None));
        };
        let bad = || {
            ApiError::invalid_request(format!(
                "{IDEMPOTENCY_KEY} must be one value of 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"
            ))
            .with_field(IDEMPOTENCY_KEY)
        };
        if values.next().is_some() {
            return Err(bad());
        }
        let key = value.to_str().map_err(|_| bad())?;
        if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(bad());
        }
        Ok(IdempotencyKey(Some(key.to_owned())))
    }
}

/// The address the request came from (the TCP peer), for rate limiting.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        Ok(ClientIp(ip))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use tessera_api::ErrorCode;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn refusal(body: &str) -> (ErrorCode, Option<String>, String) {
        let error = parse_json::<Outer>(body.as_bytes()).unwrap_err();
        (error.code, error.field, error.message)
    }

    #[test]
    fn syntax_errors_are_invalid_json() {
        for body in ["", "{", "{\"name\": }", "[1,", "{} trailing", "nul"] {
            assert_eq!(refusal(body).0, ErrorCode::InvalidJson, "{body:?}");
        }
    }

    #[test]
    fn field_errors_name_the_field() {
        let cases = [
            (r#"{"inner": {"count": 1}}"#, "name"),
            (r#"{"name": "a", "inner": {}}"#, "inner.count"),
            (r#"{"name": "a", "inner": {"count": 1}, "extra": 1}"#, "extra"),
            (r#"{"name": "a", "inner": {"count": 1, "more": 2}}"#, "inner.more"),
            (r#"{"name": 5, "inner": {"count": 1}}"#, "name"),
            (r#"{"name": "a", "inner": {"count": "x"}}"#, "inner.count"),
        ];
        for (body, field) in cases {
            let (code, got, _) = refusal(body);
            assert_eq!(code, ErrorCode::InvalidRequest, "{body}");
            assert_eq!(got.as_deref(), Some(field), "{body}");
        }
    }

    #[test]
    fn messages_do_not_repeat_values() {
        let (_, _, message) = refusal(r#"{"name": 48213917, "inner": {"count": 1}}"#);
        assert!(!message.contains("48213917"), "{message}");
        let (_, _, message) = refusal(r#"{"name": "a", "inner": {"count": "s3cret-pass"}}"#);
        assert!(!message.contains("s3cret"), "{message}");
    }
}
