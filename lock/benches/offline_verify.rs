//! Offline-code verification per keypad entry: HMAC evaluations and wall time on
//! this machine, without the candidate cache (every candidate computed, as a
//! lock with no memory to spare would) and with the per-hour cache the
//! reference lock keeps; SHA-256 compressions per entry and an estimate for a
//! 64 MHz Cortex-M4. Also a whole keypad entry on the reference lock (state
//! saved twice, fsync included).
//!
//! `cargo bench -p tessera-lock --bench offline_verify` measures (release);
//! `cargo test` runs it once, quickly, as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use tessera_lock::{Lock, LockConfig};
use tessera_protocol::offline::{
    ACTIVATION_HOURS, COMPRESSIONS_PER_HMAC, Header, OfflineClass, OfflineKey, SLOTS, TOLERANCE_SECONDS,
    hmacs_per_entry, hour_of,
};
use tessera_protocol::wire::{LockCode, Request, Response, WireSchedule};

/// Cycles per SHA-256 compression (64-byte block) on a Cortex-M4, software
/// only: wolfSSL 5.6.4's published benchmark of an STM32L4A6Z (Cortex-M4,
/// 80 MHz, GCC -Os, no assembly, no hash accelerator) hashes 847.458 KiB/s,
/// i.e. 80e6 / (847.458 * 1024) = 92.2 cycles per byte, 5,900 per block
/// (IDE/STM32Cube/STM32_Benchmarks.md in the wolfSSL repository).
const M4_CYCLES_PER_COMPRESSION: f64 = 80.0e6 / (847.458 * 1024.0) * 64.0;
/// The same board with its SHA-256 accelerator: 7.104 MiB/s, 10.7 cycles per
/// byte (the same table), before the cost of feeding it 2 blocks per HMAC.
const M4_HW_CYCLES_PER_COMPRESSION: f64 = 80.0e6 / (7.104 * 1024.0 * 1024.0) * 64.0;
const M4_HZ: f64 = 64.0e6;
const TARGET_MS: f64 = 250.0;

/// What a lock without memory for the candidate set does per entry: derive
/// the PIN of every header whose first use can be now, and compare.
fn verify_uncached(key: &OfflineKey, entered: &str, now: i64) -> (Option<Header>, usize) {
    let latest = hour_of(now + TOLERANCE_SECONDS).unwrap();
    let earliest = hour_of(now - i64::from(ACTIVATION_HOURS) * 3_600 - TOLERANCE_SECONDS).unwrap();
    let mut found = None;
    let mut hmacs = 0;
    for start_hour in earliest..=latest {
        for class in OfflineClass::ALL {
            for slot in 0..SLOTS {
                let header = Header {
                    start_hour,
                    class,
                    slot,
                };
                hmacs += 1;
                // No early exit: the time must not depend on where the code is.
                if key.pin(header) == entered && found.is_none() {
                    found = Some(header);
                }
            }
        }
    }
    (found, hmacs)
}

fn per_iteration(iterations: u32, mut run: impl FnMut()) -> Duration {
    run();
    let start = Instant::now();
    for _ in 0..iterations {
        run();
    }
    start.elapsed() / iterations
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn us(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn main() {
    let measuring = std::env::args().any(|arg| arg == "--bench");
    let (slow, fast, entries) = if measuring { (40, 200_000, 200) } else { (1, 10, 3) };

    let key = OfflineKey::derive(&[0x5a; 32], &[0xa0; 16], 0, 10);
    // 2031-03-28 09:05 lock standard time: five minutes into an hour, so the
    // window spans its most hours (26).
    let now = 1_932_454_800 + 300;
    let (header, pin) = key
        .issue(hour_of(now).unwrap() - 3, OfflineClass::Hours8, |_, _| true)
        .unwrap();
    let wrong = "0123456789";

    let (found, hmacs) = verify_uncached(&key, &pin, now);
    assert_eq!(found, Some(header));
    assert_eq!(hmacs, hmacs_per_entry());
    let uncached = per_iteration(slow, || {
        black_box(verify_uncached(&key, black_box(&pin), now));
    });
    let build = per_iteration(slow, || {
        black_box(key.candidates(black_box(now)));
    });
    let candidates = key.candidates(now);
    assert_eq!(candidates.len(), hmacs_per_entry());
    assert!(candidates.matching(&pin, now).any(|h| h == header));
    let cached_right = per_iteration(fast, || {
        black_box(candidates.matching(black_box(&pin), now).count());
    });
    let cached_wrong = per_iteration(fast, || {
        black_box(candidates.matching(black_box(wrong), now).count());
    });

    // The reference lock, end to end: a stored code opens (state saved twice).
    let dir = tempfile::tempdir().unwrap();
    let mut config = LockConfig::new(dir.path());
    config.time_zone = Some("Europe/Berlin".into());
    let lock = Lock::open(config).unwrap();
    let code = LockCode {
        id: [7; 16],
        pin: "4829163".into(),
        schedule: WireSchedule::Permanent,
        max_uses: None,
    };
    assert_eq!(lock.request([1; 16], Request::SetCode(code)), Response::Done);
    let keypad = per_iteration(entries, || {
        assert!(lock.enter("4829163").unwrap().is_open());
    });

    let compressions = hmacs_per_entry() * COMPRESSIONS_PER_HMAC;
    let m4_ms = |cycles_per_compression: f64| compressions as f64 * cycles_per_compression / M4_HZ * 1e3;
    let m4_software = m4_ms(M4_CYCLES_PER_COMPRESSION);
    let m4_hardware = m4_ms(M4_HW_CYCLES_PER_COMPRESSION);
    let hour_refresh = (OfflineClass::ALL.len() * usize::from(SLOTS) * COMPRESSIONS_PER_HMAC) as f64
        * M4_CYCLES_PER_COMPRESSION
        / M4_HZ
        * 1e3;

    println!(
        "offline-code verification per keypad entry{}",
        if measuring {
            ""
        } else {
            " (smoke run, not measured)"
        }
    );
    println!(
        "  HMAC evaluations per entry, uncached (26 start hours x 15 classes x 4 slots): {hmacs} HMAC-SHA256"
    );
    println!(
        "  SHA-256 compressions per entry ({COMPRESSIONS_PER_HMAC} per HMAC, keyed state kept): {compressions}"
    );
    println!(
        "  wall time per entry, this machine, without the cache (every candidate computed): {:.3} ms",
        ms(uncached)
    );
    println!(
        "  wall time, this machine, building the cache (all candidates, sorted; twice an hour): {:.3} ms",
        ms(build)
    );
    println!(
        "  wall time per entry, this machine, with the cache, right code: {:.3} us",
        us(cached_right)
    );
    println!(
        "  wall time per entry, this machine, with the cache, wrong code: {:.3} us",
        us(cached_wrong)
    );
    println!(
        "  Cortex-M4 @ 64 MHz estimate per entry, software SHA-256 ({M4_CYCLES_PER_COMPRESSION:.0} cycles/compression), without the cache: {m4_software:.0} ms (target <= {TARGET_MS:.0} ms: {})",
        if m4_software <= TARGET_MS { "met" } else { "missed" }
    );
    println!(
        "  Cortex-M4 @ 64 MHz estimate per entry, hash accelerator ({M4_HW_CYCLES_PER_COMPRESSION:.0} cycles/compression), without the cache: {m4_hardware:.0} ms"
    );
    println!(
        "  Cortex-M4 @ 64 MHz, with a cache slid by one hour ({} HMACs once an hour): {hour_refresh:.0} ms per hour, 0 HMACs per entry",
        OfflineClass::ALL.len() * usize::from(SLOTS)
    );
    println!(
        "  reference lock, one keypad entry end to end (stored code, 2 atomic saves with fsync): {:.3} ms",
        ms(keypad)
    );
}
