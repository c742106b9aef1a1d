//! What every request handler shares.

use std::ops::Deref;
use std::sync::Arc;

use chrono::TimeDelta;

use crate::auth::passwords::Passwords;
use crate::auth::rate_limit::RateLimiter;
use crate::db::Database;

/// Cheap to clone: one `Arc`.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Services>);

#[derive(Debug)]
pub struct Services {
    pub db: Database,
    pub passwords: Passwords,
    pub limiter: RateLimiter,
    pub access_token_ttl: TimeDelta,
    pub refresh_token_ttl: TimeDelta,
}

impl AppState {
    pub fn new(services: Services) -> Self {
        AppState(Arc::new(services))
    }
}

impl Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}
