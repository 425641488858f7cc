//! The table of formats: each says whether a candidate folder is its own, and reads it.
pub mod config;
pub mod metrics_jsonl;
pub mod training_log;
