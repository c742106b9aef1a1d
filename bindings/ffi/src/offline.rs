//! Offline codes on the surface: issued with no network at all from the secret
//! pairing fetched, verified by the lock with its clock alone. Their digits are a
//! secret, so they live in an object whose description never shows them.

use std::sync::Arc;

use tessera_core::model::LockId;
use tessera_core::offline::{self, OfflinePin as CorePin};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::types::{LocalDateTime, OfflineClass, Timestamp};
use crate::{TesseraClient, TesseraError};

/// The digits of an offline code; shown when the owner asks.
#[derive(uniffi::Object)]
pub struct OfflinePin(Zeroizing<String>);

impl std::fmt::Debug for OfflinePin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OfflinePin(<redacted>)")
    }
}

impl From<&CorePin> for OfflinePin {
    fn from(pin: &CorePin) -> Self {
        OfflinePin(Zeroizing::new(pin.expose().to_owned()))
    }
}

#[uniffi::export]
impl OfflinePin {
    pub fn digits(&self) -> String {
        self.0.to_string()
    }
}

/// What the owner asks for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OfflineCodeRequest {
    pub offline_class: OfflineClass,
    /// When the code starts, in the lock's wall-clock time; None: now.
    #[uniffi(default = None)]
    pub start: Option<LocalDateTime>,
    /// Who it is for (kept on this device only).
    pub label: String,
}

/// An issued offline code, with what it grants, to show before it is shared.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OfflineCode {
    pub lock_id: Uuid,
    pub label: String,
    pub pin: Arc<OfflinePin>,
    pub pin_length: u8,
    pub offline_class: OfflineClass,
    /// What the class grants, in words.
    pub description: String,
    /// The lock's IANA zone.
    pub lock_zone: String,
    /// The start the owner asked for, in the lock's wall-clock time.
    pub requested_start: LocalDateTime,
    /// The code's start: a whole hour of the lock's standard time; later than asked
    /// (never earlier, unless the start asked for had passed) when `adjusted`.
    pub start: Timestamp,
    /// When it stops working for good.
    pub end: Timestamp,
    /// It must be entered for the first time before this, or it never works.
    pub first_use_by: Timestamp,
    /// Codes still available for this start hour and class on this device.
    pub remaining: u8,
    pub adjusted: bool,
    /// The offline-code epoch it belongs to: rotating it revokes the code.
    pub epoch: u32,
    /// Which code of its start hour and class it is.
    pub start_hour: u32,
    pub slot: u8,
}

/// An offline code issued on this device, as it lists them.
#[derive(Debug, Clone, uniffi::Record)]
pub struct IssuedOfflineCode {
    pub lock_id: Uuid,
    pub label: String,
    /// None for a class this build does not know.
    pub offline_class: Option<OfflineClass>,
    pub epoch: u32,
    /// Hours since 2020 in the lock's standard time, and which code of that hour.
    pub start_hour: u32,
    pub slot: u8,
    pub issued_at: Timestamp,
    /// Its digits while it belongs to the lock's current epoch; None once revoked.
    pub pin: Option<Arc<OfflinePin>>,
    /// The epoch was rotated since: the lock refuses it.
    pub revoked: bool,
}

/// What a class grants, in words.
#[uniffi::export]
pub fn offline_class_description(offline_class: OfflineClass) -> String {
    offline::describe_class(offline_class.into()).to_owned()
}

#[uniffi::export]
impl TesseraClient {
    /// Issues an offline code for a paired lock; works with no network at all.
    /// The result says what the code grants before it is shared: its window, the
    /// deadline for its first use and how many more this start hour and class allow.
    pub fn issue_offline_code(
        &self,
        lock_id: Uuid,
        request: OfflineCodeRequest,
    ) -> Result<OfflineCode, TesseraError> {
        let request = offline::OfflineRequest {
            class: request.offline_class.into(),
            start: request.start.map(TryInto::try_into).transpose()?,
            label: request.label,
        };
        let code = self
            .core()
            .issue_offline_code(LockId::from_uuid(lock_id), request)?;
        Ok(OfflineCode {
            lock_id: *code.lock_id.as_uuid(),
            label: code.label,
            pin_length: u8::try_from(code.pin.expose().len()).unwrap_or(u8::MAX),
            pin: Arc::new((&code.pin).into()),
            offline_class: code.class.into(),
            description: offline::describe_class(code.class).to_owned(),
            lock_zone: code.time_zone.name().to_owned(),
            requested_start: code.requested_start.into(),
            start: code.start,
            end: code.end,
            first_use_by: code.first_use_by,
            remaining: code.remaining,
            adjusted: code.adjusted,
            epoch: code.epoch,
            start_hour: code.start_hour,
            slot: code.slot,
        })
    }

    /// The offline codes issued on this device for a lock, newest first.
    pub fn offline_codes(&self, lock_id: Uuid) -> Result<Vec<IssuedOfflineCode>, TesseraError> {
        Ok(self
            .core()
            .offline_codes(LockId::from_uuid(lock_id))?
            .into_iter()
            .map(|(code, pin)| IssuedOfflineCode {
                lock_id: *code.lock_id.as_uuid(),
                label: code.label,
                offline_class: offline::OfflineClass::from_code(code.class).map(Into::into),
                epoch: code.epoch,
                start_hour: code.start_hour,
                slot: code.slot,
                issued_at: code.issued_at,
                revoked: pin.is_none(),
                pin: pin.as_ref().map(|pin| Arc::new(pin.into())),
            })
            .collect())
    }
}
