//! The command line: `runboard build` and `runboard check`, parsed with clap.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Turn a folder of ML training runs into a static report site.
#[derive(Debug, Parser)]
#[command(name = "runboard", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read every run under ROOT and write the report site to --out.
    Build(BuildArgs),
    /// Read and analyze every run under ROOT and print its problems; write nothing.
    Check(CommonArgs),
    /// List the formats runboard reads, in the order it tries them, with what each detects.
    Formats,
    /// Print a markdown summary of the runs under ROOT for a pull-request comment.
    Summary(SummaryArgs),
    /// Print a markdown diff of two runs: differing params, metric changes, diagnostics.
    Compare(CompareArgs),
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The first run (name, id or path).
    pub run_a: String,
    /// The second run.
    pub run_b: String,
    /// The experiments folder to read.
    #[arg(long, value_name = "ROOT", default_value = ".")]
    pub root: PathBuf,
    /// Override one diagnostic threshold (as for build).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Group runs by this param's value instead of by folder: a flattened key
    /// (`optimizer.lr`) or its last part (`lr`). Runs without it form one group.
    #[arg(long, value_name = "PARAM")]
    pub group_by: Option<String>,
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Run to compare against, by name, id or path (default: a run named `baseline`, else the best).
    #[arg(long, value_name = "RUN")]
    pub baseline: Option<String>,
    /// Never print more than this many characters (GitHub's comment limit by default).
    #[arg(long, value_name = "N", default_value_t = 65_536)]
    pub max_chars: usize,
    /// Where the site is published: adds chart images and a link as absolute URLs.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Add a mermaid xychart of the main loss of the top runs.
    #[arg(long)]
    pub mermaid: bool,
    /// Rows of the top-runs table; the rest go in a collapsed section.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Also append the summary to the file named by $GITHUB_STEP_SUMMARY.
    #[arg(long)]
    pub step_summary: bool,
    /// Heading of the summary.
    #[arg(long, value_name = "TEXT", default_value = "Experiments")]
    pub title: String,
}

/// Flags shared by every command that reads runs.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// The experiments folder to read.
    #[arg(default_value = ".")]
    pub root: PathBuf,
    /// Worker threads for reading and rendering, 1 to 1024 (default: one per core). The output does not depend on it.
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,
    /// Print nothing but fatal errors (no progress bar, no problems, no summary line).
    #[arg(short, long)]
    pub quiet: bool,
    /// Exit with code 2 when any run has an error-level problem.
    #[arg(long)]
    pub strict: bool,
    /// Override one diagnostic threshold for this build, e.g. `--set overfit_gap_warning=0.2`
    /// (repeatable; the names are those of runboard.toml's [diagnostics] table).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Group runs by this param's value instead of by folder: a flattened key
    /// (`optimizer.lr`) or its last part (`lr`). Runs without it form one group.
    #[arg(long, value_name = "PARAM")]
    pub group_by: Option<String>,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Folder to write the site into. It is replaced whole, and only if it is empty or an earlier runboard site.
    #[arg(short, long, value_name = "DIR", default_value = "site")]
    pub out: PathBuf,
    /// Title shown on every page and in experiments.md.
    #[arg(long, value_name = "TEXT", default_value = "Experiments")]
    pub title: String,
    /// Chart smoothing (TensorBoard's EMA weight), 0 (off) to 0.999; default 0.6 or runboard.toml's [charts] smoothing.
    #[arg(long, value_name = "W")]
    pub smoothing: Option<f64>,
    /// Folder of Tera templates (base.html, index.html, run.html) that replace the built-in ones of the same name.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Where to keep what the next build can reuse (default: `.runboard-cache/<name of --out>`
    /// beside the output folder).
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,
    /// Build every run anew, without reading or writing the cache.
    #[arg(long)]
    pub no_cache: bool,
}

impl BuildArgs {
    /// The build cache's folder, `None` with `--no-cache`.
    pub fn cache(&self) -> Option<PathBuf> {
        if self.no_cache {
            return None;
        }
        if let Some(dir) = &self.cache_dir {
            return Some(dir.clone());
        }
        let name = self.out.file_name().unwrap_or(self.out.as_os_str());
        let beside = self.out.parent().unwrap_or(std::path::Path::new(""));
        Some(beside.join(".runboard-cache").join(name))
    }
}
