//! How results look: aligned text for people, JSON for scripts. Both are built
//! for every command; `--json` picks one.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tessera_core::model::{CodeStatus, EffectiveSchedule, Lock, Preview, Tz};
use tessera_core::{CodeRecord, CodeSync};

/// Occurrences listed for a recurring code.
const OCCURRENCES_SHOWN: usize = 3;

/// A command's result in both forms.
pub struct Output {
    pub text: String,
    pub json: Value,
}

/// A code with everything needed to describe it.
pub struct CodeView<'a> {
    pub record: &'a CodeRecord,
    pub lock: &'a Lock,
    pub effective: &'a EffectiveSchedule,
    pub viewer: Option<Tz>,
    pub now: DateTime<Utc>,
}

impl CodeView<'_> {
    fn preview(&self, limit: usize) -> Preview {
        // A viewer in the lock's own zone would only repeat the lock's times.
        let viewer = self.viewer.filter(|zone| *zone != self.lock.time_zone);
        self.effective.preview(self.now, viewer, limit)
    }

    /// Where the code stands now: revoked, expired, active now or scheduled.
    pub fn state(&self) -> &'static str {
        if self.record.code.status == CodeStatus::Revoked {
            "revoked"
        } else if self.effective.has_ended_by(self.now) {
            "expired"
        } else if self.effective.is_active_at(self.now) {
            "active now"
        } else {
            "scheduled"
        }
    }
}

/// `1 change`, `3 changes`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The last eight characters of an id: UUIDv7 ids begin with their creation time,
/// so their ends tell codes made together apart.
pub fn short_id(id: &impl ToString) -> String {
    let id = id.to_string();
    id[id.len().saturating_sub(8)..].to_owned()
}

pub fn lock_json(lock: &Lock) -> Value {
    json!({
        "id": lock.id,
        "name": lock.name,
        "time_zone": lock.time_zone,
        "capabilities": lock.capabilities,
    })
}

pub fn locks_table(locks: &[Lock]) -> String {
    if locks.is_empty() {
        return "No locks yet. Add one with: tessera lock add --name NAME --tz ZONE\n".to_owned();
    }
    let rows = locks
        .iter()
        .map(|lock| {
            let caps = &lock.capabilities;
            vec![
                short_id(&lock.id),
                lock.name.clone(),
                lock.time_zone.name().to_owned(),
                format!("{}-{}", caps.pin_lengths.min, caps.pin_lengths.max),
                caps.granularity.to_string(),
                caps.max_codes.to_string(),
            ]
        })
        .collect();
    table(
        &["LOCK", "NAME", "TIME ZONE", "PIN", "GRANULARITY", "MAX CODES"],
        rows,
    )
}

/// How far the code got: to the cloud, to the lock, or refused.
pub fn sync_text(sync: &CodeSync) -> String {
    match sync {
        CodeSync::Pending => "pending sync".to_owned(),
        CodeSync::Synced => "synced".to_owned(),
        CodeSync::SetOnLock { at } => format!("set on lock {}", at.format("%Y-%m-%d %H:%M UTC")),
        CodeSync::Failed { reason } => format!("failed: {reason}"),
    }
}

fn sync_json(sync: &CodeSync) -> Value {
    match sync {
        CodeSync::Pending => json!({ "state": "pending" }),
        CodeSync::Synced => json!({ "state": "synced" }),
        CodeSync::SetOnLock { at } => json!({ "state": "set_on_lock", "at": at }),
        CodeSync::Failed { reason } => json!({ "state": "failed", "reason": reason }),
    }
}

pub fn code_json(view: &CodeView) -> Value {
    let code = &view.record.code;
    json!({
        "id": code.id,
        "lock_id": code.lock_id,
        "lock_name": view.lock.name,
        "label": code.label,
        "pin": code.pin.expose(),
        "schedule": code.schedule,
        "allow_widening": code.allow_widening,
        "max_uses": code.max_uses,
        "status": code.status,
        "state": view.state(),
        "created_at": code.created_at,
        "updated_at": code.updated_at,
        "version": code.version,
        "sync": sync_json(&view.record.sync),
        "effective": view.preview(OCCURRENCES_SHOWN),
    })
}

pub fn code_detail(view: &CodeView) -> String {
    let code = &view.record.code;
    let preview = view.preview(OCCURRENCES_SHOWN);
    let mut out = format!(
        "{:?} on {}: {}, {}\n",
        code.label,
        view.lock.name,
        code.schedule.kind(),
        view.state()
    );
    let mut field = |name: &str, value: &str| out.push_str(&format!("  {name:<9} {value}\n"));
    field("code", &code.id.to_string());
    field("PIN", code.pin.expose());
    field("sync", &sync_text(&view.record.sync));
    field("when", &preview.summary);
    for occurrence in &preview.occurrences {
        field(
            "lock time",
            &format!("{}  ->  {}", occurrence.start.lock, occurrence.end.lock),
        );
        if let (Some(start), Some(end)) = (&occurrence.start.viewer, &occurrence.end.viewer) {
            field("your time", &format!("{start}  ->  {end}"));
        }
    }
    if preview.more {
        field("", "... and more");
    }
    if let Some(max) = code.max_uses {
        field("uses", &format!("at most {max}"));
    }
    for (i, adjustment) in preview.adjustments.iter().enumerate() {
        field(if i == 0 { "adjusted" } else { "" }, &adjustment.to_string());
    }
    out
}

pub fn codes_table(views: &[CodeView]) -> String {
    if views.is_empty() {
        return "No codes yet. Create one with: tessera code create --lock LOCK --label LABEL ...\n"
            .to_owned();
    }
    let rows = views
        .iter()
        .map(|view| {
            vec![
                short_id(&view.record.code.id),
                view.lock.name.clone(),
                view.record.code.label.clone(),
                view.record.code.schedule.kind().to_string(),
                view.state().to_owned(),
                sync_text(&view.record.sync),
                view.effective.summary(),
            ]
        })
        .collect();
    table(
        &[
            "CODE",
            "LOCK",
            "LABEL",
            "KIND",
            "STATE",
            "SYNC",
            "WHEN (LOCK TIME)",
        ],
        rows,
    )
}

/// Left-aligned columns; the last one is not padded.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if i == last {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  "));
            }
        }
        text.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        out.push_str(&line(row));
    }
    out
}
