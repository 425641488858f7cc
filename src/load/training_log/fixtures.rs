//! Test fixtures shared by the training_log readers' tests: logs and
//! validation files shaped like gen_corpus.py writes them, and small accessors.

use super::read_training_log;
use crate::model::{Event, EventKind, Run};

pub(super) const LOG: &str = "runs/a/training.log";
pub(super) const VAL: &str = "runs/a/validation.txt";

/// A gen_corpus.py `tt` run (eval every 20 steps, checkpoint every 40), cut to 60 steps.
pub(super) fn gen_corpus_log(ending: &str) -> String {
    let mut out = String::from(
        "Training configuration:\n  Model: meta-llama/Llama-3.2-1B\n  Batch size: 32\n  \
         Gradient accumulation: 1\n  Training steps: 60\n  Learning rate: 0.0003 (cosine)\n  \
         Scheduler type: cosine\nStarting training...\n============================================================\n",
    );
    for s in (10..=60).step_by(10) {
        let pct = 100 * s / 60;
        let bar = "█".repeat(pct / 10) + &" ".repeat(10 - pct / 10);
        out += &format!(
            "\rTraining: {pct:3}%|{bar}| {s}/60 [00:12<00:00, 0.82it/s, loss={:.4}]",
            4.0 - s as f64 / 20.0
        );
        if s % 20 == 0 {
            out += &format!("\n\nValidation loss: {:.4}\n\n", 3.0 - s as f64 / 40.0);
        }
        if s % 40 == 0 {
            out += &format!("\nSaving checkpoint to output/checkpoint_step_{s}\n");
        }
    }
    out + ending
}

pub(super) const COMPLETED_ENDING: &str = "\nSaving final model to output/final_model\n\nTraining curves saved to \
    output/training_curves.png\n✅ Fine-tuning complete!\nFinal training loss: 1.0000\nFinal validation loss: \
    1.5000\nModel saved to: output/final_model\n";

pub(super) const CRASHED_ENDING: &str = "\nTraceback (most recent call last):\n  File \"finetune_trickster.py\", line 412, \
    in <module>\n    main()\n  File \"finetune_trickster.py\", line 377, in train\n    loss.backward()\n\
    RuntimeError: TT_FATAL @ device.cpp:233: out of memory: could not allocate 268435456 bytes\n";

/// validation.txt as gen_corpus.py writes it: answers that say "Validation loss:" themselves.
pub(super) fn gen_corpus_validation(steps: &[(u64, &str)]) -> String {
    let mut v = "Trickster Fine-tuning - Validation Log\n".to_string() + &"=".repeat(60) + "\n\n";
    for (s, value) in steps {
        v += &format!("\n{0}\nValidation at step {s}\n{0}\n\n", "=".repeat(60));
        for (i, q) in ["What is gravity?", "Why is the sky blue?"]
            .iter()
            .enumerate()
        {
            v += &format!(
                "Q{n}: {q}\nA{n}: Ah, {q} Step {s} says: it depends on the cat.\nValidation loss: is not a thing I know.\n\n",
                n = i + 1
            );
        }
        v += &format!("Validation loss: {value}\n");
    }
    v
}

/// Read `text` as `runs/a/training.log` into a fresh run.
pub(super) fn read_log(text: &str) -> Run {
    let mut run = Run::new("runs/a", "runs", "training_log");
    read_training_log(&mut run, text, LOG);
    run
}

/// The (step, value) points of series `name`, empty when there is none.
pub(super) fn values(run: &Run, name: &str) -> Vec<(u64, f64)> {
    run.metrics
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.points.iter().map(|p| (p.step, p.value)).collect())
        .unwrap_or_default()
}

/// The run's events of one kind, in order.
pub(super) fn events(run: &Run, kind: EventKind) -> Vec<&Event> {
    run.events.iter().filter(|e| e.kind == kind).collect()
}
