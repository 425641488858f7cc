//! (being written) the mlx_lm format.

use crate::discover::FileEntry;
use crate::load::{FolderView, SourceText};
use crate::model::Run;

/// The files of this folder that make a run of this format; empty if none.
pub fn claim(_view: &FolderView) -> Vec<FileEntry> {
    Vec::new()
}

/// Turn the claimed files' texts into runs.
pub fn read_run(run: Run, _texts: &[SourceText]) -> Vec<Run> {
    vec![run]
}
