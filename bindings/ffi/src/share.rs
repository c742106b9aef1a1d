//! Share links on the surface: the owner's `share_code`, the visitor's
//! `open_share_link`. Link URLs and codes are secrets, so they live in objects
//! whose description never shows them, not in records.

use std::sync::Arc;

use tessera_core::model::{CodeId, ScheduleKind as CoreKind};
use tessera_core::share::{self, PassInterval};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::types::{ScheduleKind, Timestamp};
use crate::{TesseraClient, TesseraError, runtime};

/// What the owner adds to a share.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct ShareRequest {
    /// The whole pass in the link (works with no cloud; cannot be revoked there).
    #[uniffi(default = false)]
    pub self_contained: bool,
    /// Times a hosted link may be opened; none: until it expires.
    #[uniffi(default = None)]
    pub max_views: Option<u32>,
    /// When the link stops working; by default when the code does.
    #[uniffi(default = None)]
    pub expires_at: Option<Timestamp>,
    #[uniffi(default = None)]
    pub address: Option<String>,
    #[uniffi(default = None)]
    pub instructions: Option<String>,
    #[uniffi(default = None)]
    pub host_note: Option<String>,
    #[uniffi(default = None)]
    pub host_contact: Option<String>,
}

/// A link made for a visitor. Its URL holds the secret: hand it to the share sheet,
/// never to a log.
#[derive(uniffi::Object)]
pub struct SharedLink {
    url: Zeroizing<String>,
    id: Option<String>,
    expires_at: Timestamp,
    max_views: Option<u32>,
    pass: share::VisitorPass,
}

impl std::fmt::Debug for SharedLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLink")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[uniffi::export]
impl SharedLink {
    pub fn url(&self) -> String {
        self.url.to_string()
    }

    /// The cloud's id of a hosted link (for `revoke_share`); none when self-contained.
    pub fn id(&self) -> Option<String> {
        self.id.clone()
    }

    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }

    pub fn max_views(&self) -> Option<u32> {
        self.max_views
    }

    /// The message for the share sheet (the code stays inside the link).
    pub fn share_text(&self) -> String {
        share::share_text(&self.pass, &self.url)
    }

    pub fn qr_svg(&self) -> Result<String, TesseraError> {
        Ok(share::qr_svg(&self.url)?)
    }

    pub fn qr_png(&self) -> Result<Vec<u8>, TesseraError> {
        Ok(share::qr_png(&self.url)?)
    }

    /// The visit as an .ics calendar event (no code inside).
    pub fn calendar(&self) -> String {
        share::ics(&self.pass, &self.url)
    }
}

/// The code a pass carries; shown when the visitor asks.
#[derive(uniffi::Object)]
pub struct PassCode(Zeroizing<String>);

impl std::fmt::Debug for PassCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PassCode(<redacted>)")
    }
}

#[uniffi::export]
impl PassCode {
    pub fn digits(&self) -> String {
        self.0.to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct PassWindow {
    pub start: Timestamp,
    pub end: Timestamp,
}

/// What a visitor's link shows: the code, when and where.
#[derive(Debug, Clone, uniffi::Record)]
pub struct VisitorPass {
    pub lock_name: String,
    pub label: String,
    pub code: Arc<PassCode>,
    pub kind: ScheduleKind,
    pub one_time: bool,
    /// The lock's IANA zone; the intervals are instants (show them in any zone).
    pub lock_zone: String,
    pub summary: String,
    pub intervals: Vec<PassWindow>,
    pub first_use_minutes: Option<u32>,
    pub first_use_by: Option<Timestamp>,
    pub address: Option<String>,
    pub instructions: Option<String>,
    pub host_note: Option<String>,
    pub host_contact: Option<String>,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

impl From<share::VisitorPass> for VisitorPass {
    fn from(pass: share::VisitorPass) -> Self {
        VisitorPass {
            lock_name: pass.lock_name.clone(),
            label: pass.label.clone(),
            code: Arc::new(PassCode(Zeroizing::new(pass.code.expose().to_owned()))),
            kind: pass.kind.into(),
            one_time: pass.kind == CoreKind::OneTime,
            lock_zone: pass.lock_zone.clone(),
            summary: pass.summary.clone(),
            intervals: pass
                .intervals
                .iter()
                .map(|PassInterval { start, end }| PassWindow {
                    start: *start,
                    end: *end,
                })
                .collect(),
            first_use_minutes: pass.first_use_minutes,
            first_use_by: pass.first_use_by,
            address: pass.address.clone(),
            instructions: pass.instructions.clone(),
            host_note: pass.host_note.clone(),
            host_contact: pass.host_contact.clone(),
            issued_at: pass.issued_at,
            expires_at: pass.expires_at,
        }
    }
}

/// A hosted link as the cloud keeps it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ShareInfo {
    pub id: String,
    pub expires_at: Timestamp,
    pub max_views: Option<u32>,
    pub views: u32,
    pub revoked: bool,
    pub created_at: Timestamp,
}

#[uniffi::export]
impl TesseraClient {
    /// Makes a link for a code: hosted by the cloud (default) or self-contained.
    pub async fn share_code(
        &self,
        code_id: Uuid,
        request: ShareRequest,
    ) -> Result<Arc<SharedLink>, TesseraError> {
        let inner = self.core();
        runtime::run(async move {
            let shared = inner
                .share_code(
                    CodeId::from_uuid(code_id),
                    tessera_core::ShareRequest {
                        self_contained: request.self_contained,
                        max_views: request.max_views,
                        expires_at: request.expires_at,
                        address: request.address,
                        instructions: request.instructions,
                        host_note: request.host_note,
                        host_contact: request.host_contact,
                    },
                )
                .await?;
            Ok(Arc::new(SharedLink {
                url: shared.url,
                id: shared.id,
                expires_at: shared.expires_at,
                max_views: shared.max_views,
                pass: shared.pass,
            }))
        })
        .await
    }

    /// Opens a share link as its visitor (no account needed).
    pub async fn open_share_link(&self, url: String) -> Result<VisitorPass, TesseraError> {
        let inner = self.core();
        runtime::run(async move { Ok(inner.open_share_link(&url).await?.into()) }).await
    }

    /// Revokes a hosted link: it stops opening at once.
    pub async fn revoke_share(&self, id: String) -> Result<(), TesseraError> {
        let inner = self.core();
        runtime::run(async move { Ok(inner.revoke_share(&id).await?) }).await
    }

    /// The hosted links of a code.
    pub async fn code_shares(&self, code_id: Uuid) -> Result<Vec<ShareInfo>, TesseraError> {
        let inner = self.core();
        runtime::run(async move {
            Ok(inner
                .shares(CodeId::from_uuid(code_id))
                .await?
                .into_iter()
                .map(|share| ShareInfo {
                    id: share.id,
                    expires_at: share.expires_at,
                    max_views: share.max_views,
                    views: share.views,
                    revoked: share.revoked,
                    created_at: share.created_at,
                })
                .collect())
        })
        .await
    }
}
