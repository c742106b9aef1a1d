//! Sharing a code with a visitor: the pass (what they need), sealed into a link
//! (hosted by the cloud, or self-contained), and the link's QR code, share text
//! and calendar event. The cloud and link previewers never see the code.

mod calendar;
mod capsule;
mod pass;
mod qr;
mod text;

pub use calendar::ics;
pub use capsule::{ShareLink, ShareSecret, access_key_hash, new_link_id, open, seal, self_contained};
pub use pass::{MAX_INTERVALS, PASS_VERSION, PassInterval, VisitorPass};
pub use qr::{png as qr_png, svg as qr_svg, terminal as qr_terminal};
pub use text::share_text;

#[cfg(test)]
mod vectors;
