//! Admitting a code to a lock: the checks every party runs before it accepts a
//! code — the phone before it stores one offline, the cloud before it takes one
//! from a phone. One implementation, so both always agree.

use chrono::{DateTime, Utc};
use rand::CryptoRng;

use crate::code::{validate_label, validate_max_uses};
use crate::pin::{Pin, PinRules, TakenPin};
use crate::schedule::{CompileOptions, EffectiveSchedule, Schedule, ScheduleKind};
use crate::{AccessCode, Error, Lock, Result};

/// How the PIN of a code is chosen.
#[derive(Debug, Clone)]
pub enum PinRequest {
    /// Drawn at random from every PIN the lock and its other codes allow;
    /// `None` takes the lock's default length.
    Generate { length: Option<u8> },
    /// Given digits (the owner's, or a phone's generated PIN reaching the cloud),
    /// checked against the same rules.
    Chosen(Pin),
}

/// What the owner asks for.
#[derive(Debug, Clone)]
pub struct CodeDraft {
    pub label: String,
    pub schedule: Schedule,
    pub allow_widening: bool,
    pub max_uses: Option<u32>,
    pub pin: PinRequest,
}

/// A draft that passed every check.
#[derive(Debug, Clone)]
pub struct Admitted {
    /// The label, trimmed.
    pub label: String,
    pub pin: Pin,
    pub effective: EffectiveSchedule,
}

/// The lock as a new (or changed) code finds it.
#[derive(Debug, Clone, Copy)]
pub struct LockState<'a> {
    pub lock: &'a Lock,
    /// Live codes of the lock (not revoked, not ended), the one being changed excluded.
    pub live_codes: usize,
    /// Live codes of the lock whose first-to-last span of access meets the new
    /// schedule's (`EffectiveSchedule::bounds`), the one being changed excluded.
    /// Storage finds them with an index; only these can clash.
    pub neighbours: &'a [AccessCode],
    pub now: DateTime<Utc>,
}

impl LockState<'_> {
    /// Checks the draft against the lock and its other codes: label and use limit,
    /// the schedule compiled for the lock and not already over, the lock's capacity,
    /// and a PIN that is strong, fits the keypad and clashes with no code active at
    /// the same time (generated if asked).
    pub fn admit<R: CryptoRng + ?Sized>(&self, draft: CodeDraft, rng: &mut R) -> Result<Admitted> {
        let label = validate_label(&draft.label)?;
        validate_max_uses(draft.max_uses)?;
        let options = CompileOptions {
            allow_widening: draft.allow_widening,
        };
        let effective = EffectiveSchedule::compile(&draft.schedule, self.lock, options)?;
        if effective.has_ended_by(self.now) {
            return Err(Error::InvalidSchedule {
                reason: "the window has already ended".to_owned(),
            });
        }
        let capabilities = &self.lock.capabilities;
        capabilities.check_capacity(self.live_codes)?;
        let clashing = self.clash_candidates(&effective)?;
        let rules = PinRules::new(
            capabilities,
            clashing.iter().map(|code| TakenPin {
                code: code.id,
                pin: &code.pin,
            }),
        );
        let pin = match draft.pin {
            PinRequest::Generate { length } => {
                rules.generate(length.unwrap_or(capabilities.default_pin_length()), rng)?
            }
            PinRequest::Chosen(pin) => {
                rules.check(&pin)?;
                pin
            }
        };
        Ok(Admitted {
            label,
            pin,
            effective,
        })
    }

    /// The neighbours whose schedules can be active at the same time as `new`.
    ///
    /// Spans meeting is exact for schedules that grant one unbroken span (permanent,
    /// window, one-time, expiring after first use), and whenever either side is
    /// permanent; only weekly schedules have gaps that need the compiled schedules
    /// compared.
    fn clash_candidates(&self, new: &EffectiveSchedule) -> Result<Vec<&AccessCode>> {
        let mut clashing = Vec::with_capacity(self.neighbours.len());
        for code in self.neighbours {
            let kinds = [new.kind, code.schedule.kind()];
            let gaps = kinds.contains(&ScheduleKind::Weekly) && !kinds.contains(&ScheduleKind::Permanent);
            if gaps {
                let theirs = EffectiveSchedule::compile(&code.schedule, self.lock, code.compile_options())?;
                if !theirs.may_overlap(new) {
                    continue;
                }
            }
            clashing.push(code);
        }
        Ok(clashing)
    }
}
