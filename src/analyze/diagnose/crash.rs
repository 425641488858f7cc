//! `crashed`: the run failed, or stopped before the steps it planned.

use super::{diagnostic, Curves};
use crate::analyze::Diagnostic;
use crate::model::{Event, EventKind, Severity, Status};

/// Error quotes are clipped to this many characters.
const MAX_QUOTE: usize = 200;

/// An error when the run failed (quoting the error line and its file:line); a
/// warning when it stopped short of its planned steps without saying why.
pub fn crashed(c: &Curves) -> Option<Diagnostic> {
    let run = c.run;
    let last = c.last_step();
    let at = last.map_or_else(String::new, |s| format!(" at step {s}"));
    match run.status {
        Status::Failed => {
            let mut message = format!("crashed{at}: {}", run.status_reason);
            if let Some((quote, place)) = first_error(&run.events) {
                // The reason often quotes the same line already (clipped its own way).
                let opening: String = quote.chars().take(40).collect();
                if !run.status_reason.contains(&opening) {
                    message.push_str(&format!("; error: \"{quote}\" ({place})"));
                }
            }
            if let (Some(planned), Some(last)) = (c.planned_steps, last) {
                if (last as f64) < planned && !run.status_reason.contains("planned") {
                    message.push_str(&format!(" ({} of {planned} planned steps)", last));
                }
            }
            Some(diagnostic("crashed", Severity::Error, message, last))
        }
        Status::Running if c.planned_steps.is_none() || last.is_none() => {
            let message = if run.status_reason.starts_with("never closed") {
                run.status_reason.clone()
            } else {
                format!("never closed{at}: {}", run.status_reason)
            };
            Some(diagnostic("crashed", Severity::Warning, message, last))
        }
        Status::Running | Status::Unknown => {
            let (planned, last) = (c.planned_steps?, last?);
            if planned <= 0.0 || last as f64 >= planned {
                return None;
            }
            let percent = last as f64 / planned * 100.0;
            let why = if run.status == Status::Running {
                "it was never closed: killed, out of time, or still running"
            } else {
                "nothing says why: killed, out of time, or stopped by hand"
            };
            let message =
                format!("stopped at step {last} of {planned} planned ({percent:.0}%); {why}");
            Some(diagnostic(
                "crashed",
                Severity::Warning,
                message,
                Some(last),
            ))
        }
        Status::Completed => None,
    }
}

/// The last line of the first traceback or error event, and where it was logged.
fn first_error(events: &[Event]) -> Option<(String, String)> {
    let event = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Traceback | EventKind::Error))?;
    let line = event
        .message
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())?
        .trim();
    let quote: String = line.chars().take(MAX_QUOTE).collect();
    let quote = if quote.len() < line.len() {
        format!("{quote}…")
    } else {
        quote
    };
    let place = match event.line {
        Some(n) => format!("{}:{n}", event.file),
        None => event.file.clone(),
    };
    Some((quote, place))
}
