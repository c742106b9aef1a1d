//! The one list of the cloud's routes. The authorization test walks it for every
//! kind of caller, and another test checks that the OpenAPI document lists
//! exactly these routes, so a route added without both fails a test.

/// Who a route is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// No credentials (sign-up, login, refresh, the document, opening a share
    /// link, the visitor page and its files).
    Anyone,
    /// An account's access token.
    Account,
    /// A lock's device credential.
    Device,
}

/// What the route's path parameters and body are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Nothing of another account (its own data, or none).
    Own,
    /// A lock (and what is in it), named in the path.
    Lock,
    /// A code, named in the path (or, for creating a share link, in the body).
    Code,
    /// A session, named in the path.
    Session,
    /// A share link, named in the path.
    Share,
}

#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub caller: Caller,
    pub scope: Scope,
    /// Only the lock's owner may call it (members get `forbidden`).
    pub owner_only: bool,
}

const fn route(method: &'static str, path: &'static str, caller: Caller, scope: Scope) -> Route {
    Route {
        method,
        path,
        caller,
        scope,
        owner_only: false,
    }
}

const fn owner_only(method: &'static str, path: &'static str) -> Route {
    Route {
        method,
        path,
        caller: Caller::Account,
        scope: Scope::Lock,
        owner_only: true,
    }
}

use Caller::{Account, Anyone, Device};
use Scope::{Code, Lock, Own, Session, Share};

pub const ROUTES: &[Route] = &[
    route("POST", "/v1/accounts", Anyone, Own),
    route("GET", "/v1/account", Account, Own),
    route("POST", "/v1/sessions", Anyone, Own),
    route("GET", "/v1/sessions", Account, Own),
    route("POST", "/v1/sessions/refresh", Anyone, Own),
    route("DELETE", "/v1/sessions/current", Account, Own),
    route("DELETE", "/v1/sessions/{id}", Account, Session),
    route("POST", "/v1/locks", Account, Own),
    route("GET", "/v1/locks", Account, Own),
    route("GET", "/v1/locks/{id}", Account, Lock),
    route("PATCH", "/v1/locks/{id}", Account, Lock),
    owner_only("POST", "/v1/locks/{id}/device-credentials"),
    route("GET", "/v1/locks/{id}/members", Account, Lock),
    owner_only("POST", "/v1/locks/{id}/members"),
    owner_only("DELETE", "/v1/locks/{id}/members/{account_id}"),
    route("GET", "/v1/locks/{id}/codes", Account, Lock),
    route("POST", "/v1/locks/{id}/codes", Account, Lock),
    route("GET", "/v1/codes/{id}", Account, Code),
    route("PATCH", "/v1/codes/{id}", Account, Code),
    route("POST", "/v1/codes/{id}/revoke", Account, Code),
    route("GET", "/v1/locks/{id}/events", Account, Lock),
    route("POST", "/v1/locks/{id}/events", Device, Lock),
    route("GET", "/v1/device/codes", Device, Own),
    route("POST", "/v1/shares", Account, Code),
    route("GET", "/v1/codes/{id}/shares", Account, Code),
    route("DELETE", "/v1/shares/{id}", Account, Share),
    route("POST", "/v1/shares/{id}/open", Anyone, Share),
    route("GET", "/s/{id}", Anyone, Own),
    route("GET", "/s/", Anyone, Own),
    route("GET", "/s/assets/{file}", Anyone, Own),
    route("GET", "/v1/sync", Account, Own),
    route("GET", "/openapi.json", Anyone, Own),
];
