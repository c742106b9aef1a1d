//! The visitor page: one static HTML page, its script and its stylesheet
//! (cloud/web/, built into the binary). `/s/{id}` (hosted links) and `/s/`
//! (self-contained links) serve the same page; the link's secret is in the URL
//! fragment, which browsers never send, and the page opens the link itself.
//!
//! A GET never reads or changes a share: chat apps fetch links to build previews,
//! and that must not consume a view. Every answer here carries a strict CSP, no
//! referrer, no caching and no indexing.

use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

const INDEX_HTML: &str = include_str!("../../web/index.html");
const VISITOR_JS: &str = include_str!("../../web/visitor.js");
const SHARE_CRYPTO_JS: &str = include_str!("../../web/share-crypto.js");
const VISITOR_CSS: &str = include_str!("../../web/visitor.css");

/// The page's Content-Security-Policy: our own script, style and API only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                                           img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
                                           form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::CACHE_CONTROL, "no-store"),
    (HeaderName::from_static("x-robots-tag"), "noindex, nofollow"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
];

fn with_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn serve(content_type: &'static str, body: &'static str) -> Response {
    with_security_headers(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

fn page() -> Response {
    serve("text/html; charset=utf-8", INDEX_HTML)
}

/// The visitor page for a hosted link (`/s/ID#SECRET.EXPIRY`).
#[utoipa::path(
    get,
    path = "/s/{id}",
    tag = "visitor",
    params(("id" = String, Path, description = "The link id (not checked here: the page opens the link)")),
    responses((status = 200, description = "The visitor page (static; reads no share)", content_type = "text/html"))
)]
pub async fn hosted_page() -> Response {
    page()
}

/// The visitor page for a self-contained link (`/s/#1.PAYLOAD`).
#[utoipa::path(
    get,
    path = "/s/",
    tag = "visitor",
    responses((status = 200, description = "The visitor page (static)", content_type = "text/html"))
)]
pub async fn self_contained_page() -> Response {
    page()
}

/// The page's script and stylesheet.
#[utoipa::path(
    get,
    path = "/s/assets/{file}",
    tag = "visitor",
    params(("file" = String, Path, description = "`visitor.js`, `share-crypto.js` or `visitor.css`")),
    responses(
        (status = 200, description = "The file: a script (text/javascript) or the stylesheet (text/css)", content_type = "text/javascript"),
        (status = 404, description = "`not_found`", body = tessera_api::ErrorBody),
    )
)]
pub async fn asset(path: Result<Path<String>, axum::extract::rejection::PathRejection>) -> Response {
    let file = path.map(|Path(file)| file).unwrap_or_default();
    match file.as_str() {
        "visitor.js" => serve("text/javascript; charset=utf-8", VISITOR_JS),
        "share-crypto.js" => serve("text/javascript; charset=utf-8", SHARE_CRYPTO_JS),
        "visitor.css" => serve("text/css; charset=utf-8", VISITOR_CSS),
        _ => with_security_headers(ApiError::not_found("file").into_response()),
    }
}
