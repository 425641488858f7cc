//! The plain log reader on the real logs and on small strings.

use super::*;
use crate::model::{Family, Split};

const MODDED: &str = include_str!(
    "../../../tests/fixtures/realruns/nanogpt_style/KellerJordan__modded-nanogpt/records/track_3_optimization/results/20260610_tuned_baseline_3250/263ea3c4-2b13-4adf-8a71-0410386b20e1.txt"
);
const TORCHTUNE: &str = include_str!(
    "../../../tests/fixtures/realruns/plain_text_logs/shanshanwangcsc__torchtune-gpu-benchmark/csc-scripts/logs/a100_g1b6-6076452.out"
);

fn read(text: &str) -> Run {
    let mut run = Run::new("logs", "", "plain_log");
    read_plain_log(&mut run, text, "logs/x.log");
    run.finish_metrics();
    run
}

fn series<'a>(run: &'a Run, name: &str) -> &'a crate::model::Series {
    run.metrics.iter().find(|s| s.name == name).expect(name)
}

fn head_tail(text: &str) -> (&str, &str) {
    let cut = |i: usize| {
        (0..=i)
            .rev()
            .find(|&j| text.is_char_boundary(j))
            .unwrap_or(0)
    };
    let head = &text[..cut(8192.min(text.len()))];
    let tail = if text.len() > 8192 {
        &text[cut(text.len() - 8192)..]
    } else {
        ""
    };
    (head, tail)
}

#[test]
fn modded_nanogpt_record_skips_its_source() {
    let (head, tail) = head_tail(MODDED);
    assert!(looks_like_plain_log(head, tail));
    let run = read(MODDED);
    let names: Vec<&str> = run.metrics.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["val_loss", "step_avg_ms", "train_time_s"]);
    let val = series(&run, "val_loss");
    assert_eq!((val.family, val.split), (Family::Loss, Split::Val));
    assert_eq!(val.points.len(), 38);
    assert_eq!(val.points[0].value, 10.82584);
    assert_eq!(
        val.points.last().map(|p| (p.step, p.value)),
        Some((3250, 3.27722))
    );
    assert_eq!(series(&run, "step_avg_ms").points.len(), 37);
    assert_eq!(run.params["train_steps"], 3250);
    assert_eq!(run.status, Status::Unknown); // the planned-steps check runs later
    assert!(run.problems.is_empty());
}

#[test]
fn torchtune_frames_in_one_line() {
    let (head, tail) = head_tail(TORCHTUNE);
    assert!(looks_like_plain_log(head, tail));
    let run = read(TORCHTUNE);
    assert_eq!(run.metrics.len(), 1);
    let loss = series(&run, "loss");
    assert_eq!((loss.family, loss.split), (Family::Loss, Split::Train));
    assert_eq!(loss.points.len(), 512);
    assert_eq!(loss.points[0].value, 1.9749605655670166);
    assert_eq!(
        loss.points.last().map(|p| (p.step, p.value)),
        Some((512, 1.018775463104248))
    );
    assert!(run.events.iter().any(|e| e.kind == EventKind::Checkpoint));
    assert_eq!(run.status, Status::Unknown);
}

#[test]
fn nanogpt_epoch_and_traceback() {
    let log = "iter 0: loss 10.9, time 900.1ms, mfu -100.00%\niter 10: loss 3.2, time 120.0ms, mfu 12.3%\n\
               step 10: train loss 3.1, val loss 3.3\niter 20: loss 2.9, time 119.0ms, mfu 12.4%\n\
               Traceback (most recent call last):\n  File \"train.py\", line 9, in <module>\n\
               KeyboardInterrupt\n";
    let run = read(log);
    assert_eq!(series(&run, "loss").points.len(), 3);
    assert_eq!(series(&run, "mfu").points.len(), 2);
    assert_eq!(series(&run, "val_loss").points[0].step, 10);
    assert_eq!(run.status, Status::Failed);
    assert_eq!(run.status_reason, "KeyboardInterrupt (logs/x.log:7)");

    let log = "Epoch 1/2 - Train Loss: 0.9, Val Loss: 1.0\r\nEpoch 2/2 - Train Loss: 0.5, Val Loss: 0.7\r\n";
    let run = read(log);
    assert_eq!(series(&run, "train_loss").points.len(), 2);
    assert_eq!(run.status, Status::Completed);
}

#[test]
fn prose_is_not_a_log() {
    let readme = "# Title\nstep 1: install\nEpoch of the run - a story\n| a | b |\n";
    assert!(!looks_like_plain_log(readme, ""));
    let logging_only = "INFO:x:one\nINFO:x:two\nINFO:x:three\n";
    assert!(!looks_like_plain_log(logging_only, ""));
}

#[test]
fn mangled_logs_never_panic() {
    let texts = [
        &MODDED[MODDED.len() - 3000..],
        &TORCHTUNE[..6000],
        "iter 1: loss 2, time 3ms\n",
    ];
    for text in texts {
        for cut in (0..text.len()).step_by(37) {
            if let Some(t) = text.get(..cut) {
                read(t);
            }
        }
        let mut bytes = text.as_bytes().to_vec();
        for i in (0..bytes.len()).step_by(13) {
            bytes[i] ^= 0x5a;
            let t = String::from_utf8_lossy(&bytes);
            read(&t);
            looks_like_plain_log(&t, "");
            bytes[i] ^= 0x5a;
        }
    }
}
