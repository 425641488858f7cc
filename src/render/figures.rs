//! What templates see of charts: a run page's figures (inline SVG, the PNG
//! beside it, the same chart against other x axes) and the index's
//! comparison figures (files under `charts/`, loaded lazily).
//!
//! Kept apart from [`super::view`] so the page views stay about runs; the
//! chart renderer escapes everything in the SVG, and every path here is made
//! from slugs and fixed names, so templates print them `safe`.

use super::chart::ChartSpec;
use super::compare::GroupComparison;
use serde::Serialize;

/// A chart on a run page.
#[derive(Serialize)]
pub struct ChartView {
    pub title: String,
    /// What the chart shows: a family (`loss`) or `gpu_cpu`; its figure's id is `chart-<family>`.
    pub family: &'static str,
    /// Inline SVG (already escaped by the chart renderer).
    pub svg: String,
    /// File name of the PNG beside the page; empty for a system chart (no PNG).
    pub png: String,
    /// The same chart against other x axes (wall time, epoch, tokens), as SVG files beside the page.
    pub alternates: Vec<AltChartView>,
}

/// A chart against another x axis.
#[derive(Serialize)]
pub struct AltChartView {
    /// `wall_time`, `epoch`, `tokens`: for ids.
    pub axis: &'static str,
    /// `wall time`, `epoch`, `tokens`: for people.
    pub label: &'static str,
    /// File name of the SVG beside the page.
    pub file: String,
}

/// One group's comparison charts on the index.
#[derive(Serialize)]
pub struct ComparisonGroupView<'a> {
    /// The group as runs name it (`""` at the top level).
    pub group: &'a str,
    /// How the heading names it: the group, or `Top level`.
    pub heading: String,
    pub runs: usize,
    /// The group's page, from the site root.
    pub page: String,
    pub charts: Vec<ComparisonView>,
}

/// A comparison chart (a group's runs overlaid, or a sweep) on the index or a group page.
#[derive(Serialize, Clone)]
pub struct ComparisonView {
    /// The chart's title, for `alt` text and the caption.
    pub title: String,
    /// Links from the site root: `charts/<group>-<family>-<split>.svg` and `.png`.
    pub svg: String,
    pub png: String,
    /// Logical height for the `<img>` (640 wide): 360, more with a long legend.
    pub height: u32,
}

impl ComparisonView {
    /// The view of a chart at `path` (no extension) drawn `height` tall.
    pub fn of(spec: &ChartSpec, path: &str, height: u32) -> ComparisonView {
        ComparisonView {
            title: spec.title.clone(),
            svg: format!("{path}.svg"),
            png: format!("{path}.png"),
            height,
        }
    }
}

impl<'a> ComparisonGroupView<'a> {
    /// The index's view of `group`, whose page is `page` and charts `charts`.
    pub fn of(
        group: &GroupComparison<'a>,
        page: String,
        charts: Vec<ComparisonView>,
    ) -> ComparisonGroupView<'a> {
        ComparisonGroupView {
            group: group.group,
            heading: match group.group {
                "" => "Top level".to_string(),
                g => g.to_string(),
            },
            runs: group.members.len(),
            page,
            charts,
        }
    }
}
