//! What templates see of charts: a run page's figures (inline SVG, the PNG
//! beside it, the same chart against other x axes).
//!
//! Kept apart from [`super::view`] so the page views stay about runs; the
//! chart renderer escapes everything in the SVG, and every path here is made
//! from slugs and fixed names, so templates print them `safe`.

use serde::Serialize;

/// A chart on a run page.
#[derive(Serialize)]
pub struct ChartView {
    pub title: String,
    /// What the chart shows: a family (`loss`) or `gpu_cpu`; its figure's id is `chart-<family>`.
    pub family: &'static str,
    /// Inline SVG (already escaped by the chart renderer).
    pub svg: String,
    /// File name of the PNG beside the page.
    pub png: String,
    /// The same chart against other x axes (wall time, epoch, tokens), as PNGs beside the page.
    pub alternates: Vec<AltChartView>,
}

/// A chart against another x axis.
#[derive(Serialize)]
pub struct AltChartView {
    /// `wall_time`, `epoch`, `tokens`: for ids.
    pub axis: &'static str,
    /// `wall time`, `epoch`, `tokens`: for people.
    pub label: &'static str,
    /// File name of the PNG beside the page.
    pub png: String,
}
