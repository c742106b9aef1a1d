//! The OpenAPI 3.1 document, generated from the routes' annotations and the
//! contract's types, served at `GET /openapi.json`.

use std::sync::Arc;

use axum::extract::Extension;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera cloud",
        description = "The reference cloud of Tessera: accounts and sessions, locks and who may manage them, \
                       access codes, share links, lock events, and the change feed phones sync from. Every error is an \
                       `ErrorBody` with a stable `code`.",
    ),
    modifiers(&SecuritySchemes),
    components(schemas(tessera_api::ErrorBody, tessera_api::ErrorCode, tessera_api::Change)),
    tags(
        (name = "accounts", description = "Sign-up and the current account"),
        (name = "sessions", description = "Login, refresh, logout and signed-in devices"),
        (name = "locks", description = "Locks and their device credentials"),
        (name = "members", description = "Who may manage a lock"),
        (name = "codes", description = "Access codes"),
        (name = "events", description = "What happened at a lock"),
        (name = "device", description = "What a Wi-Fi lock fetches with its device credential"),
        (name = "shares", description = "Share links: sealed visitor passes, and opening them"),
        (name = "visitor", description = "The visitor page that opens share links in a browser"),
        (name = "sync", description = "The change feed"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// `bearer`: an account's access token; `device`: a lock's device credential.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        components.add_security_scheme("device", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The document as served, rendered once at start-up.
#[derive(Debug, Clone)]
pub struct Document(pub Arc<str>);

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
pub async fn openapi_json(Extension(document): Extension<Document>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.0.to_string(),
    )
}
