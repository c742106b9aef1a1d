//! The message for the platform's share sheet: who it is for, when, where, and
//! the link. The PIN stays inside the link.

use super::pass::VisitorPass;

pub fn share_text(pass: &VisitorPass, link: &str) -> String {
    let mut text = format!("Your access code for {}", pass.lock_name);
    if let Some(address) = &pass.address {
        text.push_str(&format!(", {address}"));
    }
    text.push_str(&format!(":\n{}\n", pass.summary));
    if pass.is_one_time() {
        text.push_str("It opens the door once.\n");
    }
    text.push_str(&format!("Open to see the code: {link}\n"));
    if let Some(note) = &pass.host_note {
        text.push_str(&format!("{note}\n"));
    }
    text
}
