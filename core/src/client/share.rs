//! Sharing a code with a visitor, and opening a shared link (the visitor's side,
//! which needs no account).

use chrono::{DateTime, Duration, Utc};
use tessera_api::{ErrorCode, NewShare, OpenShare, ShareView};
use tessera_model::{CodeId, CodeStatus, ScheduleKind, schedule::Timing};
use zeroize::Zeroizing;

use super::TesseraClient;
use crate::cloud::{CloudApi, CloudError};
use crate::share::{self, MAX_INTERVALS, PASS_VERSION, PassInterval, ShareLink, ShareSecret, VisitorPass};
use crate::{Error, Result};

/// A link to a permanent code lasts this long unless asked otherwise.
const PERMANENT_LINK_DAYS: i64 = 30;
/// No link lasts longer.
const LONGEST_LINK_DAYS: i64 = 365;

/// What the owner adds to a share.
#[derive(Debug, Clone, Default)]
pub struct ShareRequest {
    /// The whole pass in the link, for sharing with no network: it cannot be revoked
    /// on the cloud (revoking the code still works on the lock).
    pub self_contained: bool,
    /// Times the hosted link may be opened (none: until it expires).
    pub max_views: Option<u32>,
    /// When the link stops working; by default when the code does (30 days for a
    /// permanent code), never later.
    pub expires_at: Option<DateTime<Utc>>,
    pub address: Option<String>,
    pub instructions: Option<String>,
    pub host_note: Option<String>,
    pub host_contact: Option<String>,
}

/// A link made for a visitor.
pub struct Shared {
    /// The link; its fragment holds the secret.
    pub url: Zeroizing<String>,
    /// The cloud's id for a hosted link.
    pub id: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub max_views: Option<u32>,
    pub pass: VisitorPass,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("id", &self.id)
            .field("expires_at", &self.expires_at)
            .field("max_views", &self.max_views)
            .finish_non_exhaustive()
    }
}

impl TesseraClient {
    /// Makes a link for a code: the pass is sealed here; a hosted link's ciphertext
    /// goes to the cloud, a self-contained one stays in the link.
    pub async fn share_code(&self, id: CodeId, request: ShareRequest) -> Result<Shared> {
        let now = Utc::now();
        let record = self.code(id)?;
        let code = record.code;
        if code.status == CodeStatus::Revoked {
            return Err(invalid("code", "a revoked code cannot be shared"));
        }
        let lock = self.lock(code.lock_id)?;
        let effective = self.effective_schedule(&code)?;
        if effective.has_ended_by(now) {
            return Err(invalid("code", "the code's window has ended"));
        }
        let code_end = effective.bounds().1;
        let longest = now + Duration::days(LONGEST_LINK_DAYS);
        let default_end = code_end.unwrap_or(now + Duration::days(PERMANENT_LINK_DAYS));
        let expires_at = request.expires_at.unwrap_or(default_end).min(longest);
        if code_end.is_some_and(|end| expires_at > end) {
            return Err(invalid("expires_at", "the link would outlive the code"));
        }
        if expires_at <= now {
            return Err(invalid("expires_at", "the link would expire at once"));
        }
        // Whole seconds: the expiry is part of the link and of the associated data.
        let expires_at = DateTime::from_timestamp(expires_at.timestamp(), 0).unwrap_or(expires_at);
        let preview = effective.preview(now, None, MAX_INTERVALS);
        let window_end = match &effective.timing {
            Timing::Window(window) => Some(window.end),
            _ => None,
        };
        let pass = VisitorPass {
            version: PASS_VERSION,
            lock_name: lock.name.clone(),
            label: code.label.clone(),
            code: code.pin.clone(),
            kind: code.schedule.kind(),
            lock_zone: lock.time_zone.name().to_owned(),
            summary: preview.summary.chars().take(300).collect(),
            intervals: preview
                .occurrences
                .iter()
                .map(|o| PassInterval {
                    start: o.start.instant,
                    end: o.end.instant,
                })
                .collect(),
            first_use_minutes: effective.first_use_minutes,
            first_use_by: match code.schedule.kind() {
                ScheduleKind::OneTime | ScheduleKind::ExpiringAfterFirstUse => window_end,
                _ => None,
            },
            address: request.address,
            instructions: request.instructions,
            host_note: request.host_note,
            host_contact: request.host_contact,
            issued_at: DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now),
            expires_at,
        };
        pass.validate()?;
        if request.self_contained {
            let link = share::self_contained(&self.share_base()?, &pass)?;
            return Ok(Shared {
                url: link.url(),
                id: None,
                expires_at,
                max_views: None,
                pass,
            });
        }
        self.share_hosted(id, pass, request.max_views, record.server_version.is_some())
            .await
    }

    async fn share_hosted(
        &self,
        code: CodeId,
        pass: VisitorPass,
        max_views: Option<u32>,
        on_cloud: bool,
    ) -> Result<Shared> {
        let session = self.current_session().ok_or(Error::SignedOut)?;
        if !on_cloud {
            // The cloud links shares to codes it knows: push this one first.
            self.sync().await?;
        }
        let id = share::new_link_id()?;
        let secret = ShareSecret::generate()?;
        let sealed = share::seal(&pass, &id, &secret)?;
        let body = NewShare {
            id: id.clone(),
            code_id: code,
            sealed: base64url(&sealed),
            access_key_hash: base64url(&share::access_key_hash(secret.access_key().as_slice())),
            expires_at: pass.expires_at,
            max_views,
        };
        session
            .call(|api, token| {
                let body = body.clone();
                async move { api.create_share(&token, &body).await }
            })
            .await?;
        let link = ShareLink::Hosted {
            base: session.api().base().as_str().trim_end_matches('/').to_owned(),
            id: id.clone(),
            secret,
            expires_at: pass.expires_at.timestamp(),
        };
        Ok(Shared {
            url: link.url(),
            id: Some(id),
            expires_at: pass.expires_at,
            max_views,
            pass,
        })
    }

    /// The hosted links of a code, as the cloud keeps them.
    pub async fn shares(&self, code: CodeId) -> Result<Vec<ShareView>> {
        let session = self.current_session().ok_or(Error::SignedOut)?;
        Ok(session
            .call(|api, token| async move { api.code_shares(&token, code).await })
            .await?)
    }

    /// Revokes a hosted link: it stops opening at once.
    pub async fn revoke_share(&self, id: &str) -> Result<()> {
        let session = self.current_session().ok_or(Error::SignedOut)?;
        let id = id.to_owned();
        Ok(session
            .call(|api, token| {
                let id = id.clone();
                async move { api.revoke_share(&token, &id).await }
            })
            .await?)
    }

    /// Opens a share link as its visitor: parses it strictly, fetches a hosted pass
    /// from the cloud (no account needed), decrypts and validates every field.
    pub async fn open_share_link(&self, url: &str) -> Result<VisitorPass> {
        let link = ShareLink::parse(url)?;
        if link.expires_at().is_none_or(|at| at <= Utc::now()) {
            return Err(Error::ShareLinkExpired);
        }
        if let Some(pass) = link.open_self_contained()? {
            return Ok(pass);
        }
        let ShareLink::Hosted {
            base,
            id,
            secret,
            expires_at,
        } = &link
        else {
            return Err(Error::ShareLinkInvalid {
                reason: "unknown link".to_owned(),
            });
        };
        let api = CloudApi::new(base, &self.config.extra_root_certificates)?;
        let access_key = OpenShare {
            access_key: base64url(secret.access_key().as_slice()),
        };
        let sealed = match api.open_share(id, &access_key).await {
            Ok(sealed) => sealed,
            Err(CloudError::Rejected {
                code: ErrorCode::NotFound,
                ..
            }) => return Err(Error::ShareLinkUnavailable),
            Err(error) => return Err(error.into()),
        };
        if sealed.id != *id || sealed.version != PASS_VERSION || sealed.expires_at.timestamp() != *expires_at
        {
            return Err(Error::ShareLinkInvalid {
                reason: "the cloud answered for another link".to_owned(),
            });
        }
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &sealed.sealed)
            .map_err(|_| Error::ShareLinkInvalid {
                reason: "the cloud sent a garbled pass".to_owned(),
            })?;
        share::open(&bytes, id, *expires_at, secret)
    }

    /// Where links point: the configured share host, else the signed-in cloud.
    fn share_base(&self) -> Result<String> {
        self.config
            .share_host
            .clone()
            .or_else(|| self.current_session().map(|s| s.api().base().as_str().to_owned()))
            .map(|base| base.trim_end_matches('/').to_owned())
            .ok_or_else(|| Error::Config {
                reason: "no share host: sign in to a cloud or configure one".to_owned(),
            })
    }
}

fn base64url(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
}

fn invalid(field: &'static str, reason: &str) -> Error {
    tessera_model::Error::InvalidInput {
        field,
        reason: reason.to_owned(),
    }
    .into()
}
