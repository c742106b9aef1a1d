//! The visit as a calendar event (.ics, RFC 5545), so the visitor's calendar
//! reminds them when the code starts working. The PIN is not in it: calendars sync
//! to many places.

use icalendar::{Calendar, Component, Event, EventLike};

use super::pass::VisitorPass;

/// One event per interval of access (at most a pass's few), or none for permanent codes.
pub fn ics(pass: &VisitorPass, link: &str) -> String {
    let mut calendar = Calendar::new();
    calendar.name(&format!("{} – {}", pass.lock_name, pass.label));
    for (index, interval) in pass.intervals.iter().enumerate() {
        let mut description = format!("{}\nYour code is in the link: {link}", pass.summary);
        if let Some(instructions) = &pass.instructions {
            description.push_str(&format!("\n{instructions}"));
        }
        let mut event = Event::new();
        event
            .uid(&format!("{}-{index}@tessera", interval.start.timestamp()))
            .summary(&format!("Access to {}", pass.lock_name))
            .description(&description)
            .starts(interval.start)
            .ends(interval.end);
        if let Some(address) = &pass.address {
            event.location(address);
        }
        calendar.push(event.done());
    }
    calendar.done().to_string()
}
