//! The numbers of the lock's policies, in one place (README: the lockout
//! arithmetic).

use std::time::Duration;

/// Wrong keypad entries before the first lockout.
pub const KEYPAD_FREE_TRIES: u32 = 5;
/// The first keypad lockout; each further wrong entry doubles it ...
pub const KEYPAD_FIRST_LOCKOUT: Duration = Duration::from_secs(60);
/// ... up to this.
pub const KEYPAD_MAX_LOCKOUT: Duration = Duration::from_secs(60 * 60);

/// Failed pairings (wrong setup code, or an attempt abandoned half-way) before
/// pairing is refused for a while.
pub const PAIRING_FREE_TRIES: u32 = 5;
/// The first pairing block; each further block doubles it ...
pub const PAIRING_FIRST_BLOCK: Duration = Duration::from_secs(10 * 60);
/// ... up to this.
pub const PAIRING_MAX_BLOCK: Duration = Duration::from_secs(24 * 60 * 60);

/// Events the log keeps; the oldest is dropped first.
pub const EVENT_LOG_LEN: usize = 1_000;
/// Phones that can be paired at once.
pub const MAX_PHONES: usize = 32;
/// Longest keypad entry (the keypad stops taking digits after this).
pub const MAX_ENTRY_DIGITS: usize = 20;
/// Most events one `ReadEvents` answer carries (a frame holds 32 KiB).
pub const MAX_EVENTS_PER_READ: usize = 256;
/// Codes a lock holds unless configured.
pub const DEFAULT_CAPACITY: u32 = 250;
/// Most codes a lock may be configured for (a code list must fit in one frame).
pub const MAX_CAPACITY: u32 = 500;
/// Offline codes remembered after their first use, unless configured.
pub const DEFAULT_OFFLINE_CAPACITY: u32 = 128;
/// A connection with no traffic for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Connections served at once; more are closed on arrival.
pub const MAX_CONNECTIONS: usize = 16;

/// `first`, doubled `level` times, capped at `max`.
pub fn doubling(first: Duration, level: u32, max: Duration) -> Duration {
    first
        .saturating_mul(1u32.checked_shl(level.min(31)).unwrap_or(u32::MAX))
        .min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_double_up_to_the_cap() {
        let lockout = |level| doubling(KEYPAD_FIRST_LOCKOUT, level, KEYPAD_MAX_LOCKOUT).as_secs();
        assert_eq!(
            (0..8).map(lockout).collect::<Vec<_>>(),
            [60, 120, 240, 480, 960, 1920, 3600, 3600]
        );
        assert_eq!(lockout(u32::MAX), 3600);
    }
}
