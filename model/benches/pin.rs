//! Generating a PIN for a busy lock: 1,000 codes whose windows overlap the new one's.
//!
//! Measures the whole path a client takes for a new code: compile its schedule, check
//! the lock has room, keep the lock's codes whose schedules may overlap it, build the
//! PIN rules from their PINs, and draw a six-digit PIN.
//!
//! Run: `cargo bench -p tessera-model --bench pin`.

#![allow(
    clippy::expect_used,
    reason = "benchmark setup: any failure should abort the run"
)]

use std::hint::black_box;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tessera_model::schedule::{CompileOptions, EffectiveSchedule, Schedule};
use tessera_model::{CodeId, Lock, LockCapabilities, Pin, PinRules, TakenPin};

const EXISTING_CODES: usize = 1_000;

struct Code {
    id: CodeId,
    pin: Pin,
    schedule: EffectiveSchedule,
}

fn at(day: u32, minute: i64) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2027, 3, day)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t + Duration::minutes(minute))
        .expect("valid date")
}

/// A lock (in a zone with DST, its capacity raised to 2,000) holding 1,000 codes whose
/// windows overlap each other and the new code's: they start ten minutes apart from
/// 1 March and run for 30 days.
fn busy_lock() -> (Lock, Vec<Code>) {
    let capabilities = LockCapabilities {
        max_codes: 2_000,
        ..LockCapabilities::default()
    };
    let lock = Lock::new("Holiday flats", "Europe/Berlin", capabilities).expect("valid lock");
    let mut rng = StdRng::seed_from_u64(2027);
    let mut codes: Vec<Code> = Vec::with_capacity(EXISTING_CODES);
    for i in 0..EXISTING_CODES {
        let start = at(1, 10 * i as i64);
        let schedule = Schedule::Window {
            start,
            end: start + Duration::days(30),
        };
        let schedule =
            EffectiveSchedule::compile(&schedule, &lock, CompileOptions::default()).expect("valid schedule");
        let taken = codes
            .iter()
            .filter(|c| c.schedule.may_overlap(&schedule))
            .map(|c| TakenPin {
                code: c.id,
                pin: &c.pin,
            });
        let pin = PinRules::new(&lock.capabilities, taken)
            .generate(6, &mut rng)
            .expect("a free PIN");
        codes.push(Code {
            id: CodeId::new(),
            pin,
            schedule,
        });
    }
    (lock, codes)
}

fn generate_for_busy_lock(c: &mut Criterion) {
    let (lock, codes) = busy_lock();
    // The new code: a weekend visit inside all 1,000 windows, across the DST change.
    let new_schedule = Schedule::Window {
        start: at(27, 10 * 60),
        end: at(29, 10 * 60),
    };
    let overlapping = {
        let new = EffectiveSchedule::compile(&new_schedule, &lock, CompileOptions::default())
            .expect("valid schedule");
        codes.iter().filter(|c| c.schedule.may_overlap(&new)).count()
    };
    assert_eq!(
        overlapping, EXISTING_CODES,
        "every existing code overlaps the new one"
    );

    c.bench_function("generate 6-digit PIN, lock with 1,000 overlapping codes", |b| {
        b.iter(|| {
            let lock = black_box(&lock);
            let new = EffectiveSchedule::compile(black_box(&new_schedule), lock, CompileOptions::default())
                .expect("valid schedule");
            lock.capabilities.check_capacity(codes.len()).expect("room");
            let taken = codes
                .iter()
                .filter(|c| c.schedule.may_overlap(&new))
                .map(|c| TakenPin {
                    code: c.id,
                    pin: &c.pin,
                });
            let rules = PinRules::new(&lock.capabilities, taken);
            rules.generate(6, &mut rand::rng()).expect("a free PIN")
        })
    });
}

criterion_group!(benches, generate_for_busy_lock);
criterion_main!(benches);
