//! Between the domain's types and the wire's.

use tessera_api::{CodePatch, CodeView, LockView, NewCode, NewLock, Secret};
use tessera_model::lock::parse_time_zone;
use tessera_model::{AccessCode, Lock, Pin};

use crate::store::CodeField;

pub(crate) fn new_lock(lock: &Lock) -> NewLock {
    NewLock {
        id: lock.id,
        name: lock.name.clone(),
        time_zone: lock.time_zone.name().to_owned(),
        capabilities: lock.capabilities.clone(),
    }
}

pub(crate) fn lock_from_view(view: &LockView) -> Result<Lock, String> {
    Ok(Lock {
        id: view.id,
        name: view.name.clone(),
        time_zone: parse_time_zone(&view.time_zone).map_err(|e| e.to_string())?,
        capabilities: view.capabilities.clone(),
    })
}

pub(crate) fn new_code(code: &AccessCode) -> NewCode {
    NewCode {
        id: code.id,
        label: code.label.clone(),
        pin: Secret::new(code.pin.expose()),
        schedule: code.schedule.clone(),
        allow_widening: code.allow_widening,
        max_uses: code.max_uses,
    }
}

/// The patch carrying `fields` of `code`.
pub(crate) fn code_patch(code: &AccessCode, fields: &[CodeField]) -> CodePatch {
    let mut patch = CodePatch::default();
    for field in fields {
        match field {
            CodeField::Label => patch.label = Some(code.label.clone()),
            CodeField::Pin => patch.pin = Some(Secret::new(code.pin.expose())),
            CodeField::Schedule => patch.schedule = Some(code.schedule.clone()),
            CodeField::AllowWidening => patch.allow_widening = Some(code.allow_widening),
            CodeField::MaxUses => patch.max_uses = Some(code.max_uses),
        }
    }
    patch
}

pub(crate) fn code_from_view(view: &CodeView) -> Result<AccessCode, String> {
    Ok(AccessCode {
        id: view.id,
        lock_id: view.lock_id,
        label: view.label.clone(),
        pin: Pin::parse(view.pin.expose()).map_err(|e| e.to_string())?,
        schedule: view.schedule.clone(),
        allow_widening: view.allow_widening,
        max_uses: view.max_uses,
        status: view.status,
        created_at: view.created_at,
        updated_at: view.updated_at,
        version: view.version,
    })
}
