//! runboard: turn a folder of ML training runs into a static report site.
//!
//! The pipeline, one module per stage: [`discover`] walks ROOT, [`load`] turns
//! candidates into normalized [`model::Run`]s, [`analyze`] summarizes them,
//! [`render`] makes pages, charts and markdown in memory, and [`output`] writes
//! the site atomically.

pub mod analyze;
pub mod discover;
pub mod load;
pub mod model;
pub mod output;
pub mod render;
