//! Sacred's `run.json`: how the run went (status, times, failure trace) and
//! where it ran.
//!
//! Sacred rewrites `run.json` at every heartbeat: `status` is `RUNNING` until
//! the run ends as `COMPLETED`, `FAILED` (with `fail_trace`, the traceback as a
//! list of lines), `INTERRUPTED` (Ctrl-C) or `TIMED_OUT`; `QUEUED` runs never
//! started. Times are naive ISO 8601 in UTC (`2024-02-08T23:02:14.620335`) and
//! are kept as written.

use crate::load::lenient_json::{self, Document};
use crate::load::mlflow::clock;
use crate::model::{Event, EventKind, Problem, Run, Status};
use serde_json::Value;

/// What `run.json` says, beyond what goes straight into the run.
#[derive(Debug, Default)]
pub(super) struct Record {
    /// `experiment.name`.
    pub experiment: Option<String>,
    /// `start_time` in seconds since the Unix epoch.
    pub start_seconds: Option<f64>,
    /// The last line of `fail_trace` (`AttributeError: ...`).
    pub error_line: Option<String>,
}

/// Read `run.json` into `run`: status, times, the failure trace, host params.
pub(super) fn read_record(run: &mut Run, text: &str, file: &str) -> Record {
    let doc = lenient_json::parse_object(text);
    if let Some(err) = &doc.error {
        let message = format!("not valid JSON: {}", err.message);
        run.problems.push(Problem::error(file, err.line, message));
    }
    let top = &doc.top;
    let text_of = |key: &str| top.get(key).and_then(Value::as_str).map(str::trim);
    let mut record = Record {
        experiment: top
            .get("experiment")
            .and_then(|e| e.get("name"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string),
        start_seconds: text_of("start_time").and_then(clock::unix_seconds_from_iso),
        error_line: None,
    };
    read_times(run, top.get("start_time"), top.get("stop_time"));
    if let Some(trace) = top.get("fail_trace") {
        record.error_line = read_trace(run, trace, &doc, file);
    }
    read_status(run, text_of("status"), text_of("heartbeat"), &record, file);
    if let Some(Value::Object(host)) = top.get("host") {
        let mut host = host.clone();
        // Captured environment variables may hold anything; they are not the run's settings.
        host.remove("ENV");
        insert_param(run, "host", Value::Object(host));
    }
    match top.get("result") {
        None | Some(Value::Null) => {}
        Some(result) => insert_param(run, "result", lenient_json::plain(result.clone())),
    }
    record
}

fn read_times(run: &mut Run, start: Option<&Value>, stop: Option<&Value>) {
    let written = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    run.started = written(start);
    run.ended = written(stop);
    let seconds = |s: &Option<String>| s.as_deref().and_then(clock::unix_seconds_from_iso);
    if let (Some(start), Some(stop)) = (seconds(&run.started), seconds(&run.ended)) {
        if stop >= start {
            // Microseconds are what Sacred writes; the rest is float noise of large epoch seconds.
            run.duration_seconds = Some(((stop - start) * 1e6).round() / 1e6);
        }
    }
    if run.date.is_none() && seconds(&run.started).is_some() {
        run.date = run.started.as_ref().map(|s| s[..10].to_string());
    }
}

/// A Traceback event for `fail_trace`; returns its last non-empty line.
fn read_trace(run: &mut Run, trace: &Value, doc: &Document, file: &str) -> Option<String> {
    let message = match trace {
        Value::Array(lines) => lines
            .iter()
            .map(|l| l.as_str().map_or_else(|| l.to_string(), str::to_string))
            .collect::<String>(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    let message = message.trim_end().to_string();
    let last = message
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())?
        .to_string();
    run.events.push(Event {
        kind: EventKind::Traceback,
        step: None,
        message,
        file: file.to_string(),
        line: doc.member_lines.get("fail_trace").copied(),
    });
    Some(last)
}

fn read_status(
    run: &mut Run,
    status: Option<&str>,
    heartbeat: Option<&str>,
    record: &Record,
    file: &str,
) {
    let (status, reason) = match status {
        Some("COMPLETED") => (Status::Completed, "run.json: status COMPLETED".to_string()),
        Some("FAILED") => match &record.error_line {
            Some(line) => (Status::Failed, line.clone()),
            None => (Status::Failed, "run.json: status FAILED".to_string()),
        },
        Some("INTERRUPTED") => (
            Status::Failed,
            "run.json: status INTERRUPTED (stopped by hand)".to_string(),
        ),
        Some("TIMED_OUT") => (Status::Failed, "run.json: status TIMED_OUT".to_string()),
        Some("RUNNING") => {
            let beat = heartbeat.map_or(String::new(), |h| format!("; last heartbeat {h}"));
            let reason = format!(
                "run.json: status RUNNING{beat}: still running, or its process died without a word"
            );
            (Status::Running, reason)
        }
        Some("QUEUED") => (
            Status::Unknown,
            "run.json: status QUEUED (the run never started)".to_string(),
        ),
        Some(other) => {
            let message = format!(
                "unknown Sacred run status {:?}",
                other.chars().take(40).collect::<String>()
            );
            run.problems.push(Problem::warning(file, None, message));
            (Status::Unknown, format!("run.json: status {other}"))
        }
        None => (Status::Unknown, "run.json records no status".to_string()),
    };
    run.status = status;
    run.status_reason = reason;
}

/// Add a top-level param unless the config already has one of that name.
fn insert_param(run: &mut Run, key: &str, value: Value) {
    if let Value::Object(params) = &mut run.params {
        params.entry(key).or_insert(value);
    }
}
