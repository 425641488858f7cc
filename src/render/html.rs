//! HTML pages from Tera templates embedded in the binary.
//!
//! Built-in templates are compiled in with `include_str!`; `--templates DIR`
//! replaces any of them by file name (a user's `run.html` wins over ours).
//! Tera autoescapes every `.html` template, so every string from a run is
//! escaped unless a template explicitly marks it `safe` (only our own
//! pre-escaped SVG and links made from slugs are, and a model card's HTML
//! once [`super::card`] has sanitized it). `charts.html` holds the chart
//! figure macros both pages import.

use anyhow::{Context, Result};
use serde::Serialize;
use std::path::Path;
use tera::Tera;

/// The built-in templates, by the names user templates override.
pub const BUILTIN_TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("index.html", include_str!("../../templates/index.html")),
    ("run.html", include_str!("../../templates/run.html")),
    ("group.html", include_str!("../../templates/group.html")),
    ("charts.html", include_str!("../../templates/charts.html")),
    ("tables.html", include_str!("../../templates/tables.html")),
];

/// Static files copied into `assets/` of every site.
pub const ASSETS: &[(&str, &[u8])] = &[
    ("assets/style.css", include_bytes!("../../assets/style.css")),
    (
        "assets/runboard.js",
        include_bytes!("../../assets/runboard.js"),
    ),
    (
        "assets/fonts/DejaVuSans.ttf",
        include_bytes!("../../assets/fonts/DejaVuSans.ttf"),
    ),
    (
        "assets/fonts/LICENSE-DejaVu.txt",
        include_bytes!("../../assets/fonts/LICENSE-DejaVu.txt"),
    ),
];

/// The loaded templates.
pub struct Theme {
    tera: Tera,
    /// A hash of every template's name and text: a cached run page is reused only under the same one.
    pub fingerprint: u128,
}

impl Theme {
    /// Built-in templates, with any `*.html` in `user_dir` replacing the one of the same name.
    pub fn load(user_dir: Option<&Path>) -> Result<Theme> {
        let mut sources: Vec<(String, String)> = BUILTIN_TEMPLATES
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        if let Some(dir) = user_dir {
            let entries = std::fs::read_dir(dir)
                .with_context(|| format!("cannot read templates folder {}", dir.display()))?;
            let mut names = Vec::new();
            for entry in entries {
                let entry = entry
                    .with_context(|| format!("cannot read templates folder {}", dir.display()))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(".html") {
                    names.push(name);
                }
            }
            names.sort();
            for name in names {
                let path = dir.join(&name);
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read template {}", path.display()))?;
                sources.retain(|(n, _)| n != &name);
                sources.push((name, text));
            }
        }
        let mut key = crate::cache::KeyMaker::new("templates");
        for (name, text) in &sources {
            key.text(name).text(text);
        }
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html"]);
        tera.add_raw_templates(sources)
            .map_err(|e| anyhow::anyhow!("bad template: {}", tera_error_chain(&e)))?;
        Ok(Theme {
            tera,
            fingerprint: key.finish().0,
        })
    }

    /// Render template `name` with `view` as its context.
    pub fn render<T: Serialize>(&self, name: &str, view: &T) -> Result<String> {
        let context =
            tera::Context::from_serialize(view).context("cannot serialize the page data")?;
        self.tera
            .render(name, &context)
            .map_err(|e| anyhow::anyhow!("cannot render {name}: {}", tera_error_chain(&e)))
    }
}

/// Tera nests the useful message (line, column, what is wrong) in its sources.
fn tera_error_chain(err: &tera::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_parse() {
        Theme::load(None).unwrap();
    }

    #[test]
    fn a_user_template_replaces_the_builtin_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "custom {{ title }}").unwrap();
        let theme = Theme::load(Some(dir.path())).unwrap();
        let out = theme
            .render("index.html", &serde_json::json!({"title": "<b>x</b>"}))
            .unwrap();
        assert_eq!(out, "custom &lt;b&gt;x&lt;&#x2F;b&gt;");
    }

    #[test]
    fn a_broken_template_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("run.html"), "{% if %}").unwrap();
        let err = Theme::load(Some(dir.path())).err().unwrap().to_string();
        assert!(err.contains("run.html"), "{err}");
    }
}
