//! Model cards on run pages: their markdown made into HTML that is safe to inline.
//!
//! A card is text from a run, so it is hostile until cleaned. pulldown-cmark
//! renders it (raw HTML passes through), then ammonia, an allowlist sanitizer
//! built on a real HTML parser, keeps only plain document tags: no script,
//! style, iframe, object, form or event-handler attribute survives, and links
//! keep only http, https, mailto and relative URLs (`javascript:` and `data:`
//! are dropped).
//!
//! The site must work offline and never fetch anything when opened, so no
//! image of a card is loaded: each one, markdown `![alt](url)` or raw `<img>`,
//! becomes a link whose text is its alt text (plain text inside a link). That
//! takes two passes: the first keeps `img` with its checked `src`, so that every
//! image reaches [`images_as_links`] in the one shape html5ever serializes;
//! the second, with no `img` allowed, is what makes the page safe, so the
//! rewrite between them needs no trust. Headings move down two levels, so a
//! card's `#` sits below the page's own `h1` and `h2`.
//!
//! An HTML parser spends time per tag in proportion to how deeply it is
//! nested, so a hostile card of `>` or `<div>` floods would take minutes: a
//! card whose HTML nests deeper than [`MAX_NESTING`] is shown as plain text.

use crate::model::ModelCard;
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Serialize;
use std::collections::HashSet;
use std::sync::LazyLock;

/// What a run page shows of a model card.
#[derive(Serialize)]
pub struct ModelCardView<'a> {
    /// The card's file, relative to ROOT.
    pub file: &'a str,
    /// Front matter flattened to dot keys, sorted.
    pub front_matter: Vec<(String, String)>,
    /// The body as sanitized HTML ([`card_html`]); templates print it `safe`.
    pub html: String,
}

/// Build the view of a run's card.
pub fn model_card_view(card: &ModelCard) -> ModelCardView<'_> {
    ModelCardView {
        file: &card.file,
        front_matter: card.flat_front_matter().into_iter().collect(),
        html: card_html(&card.body),
    }
}

/// Link schemes a card may keep; relative links stay too.
const URL_SCHEMES: [&str; 3] = ["http", "https", "mailto"];
/// Tags dropped with everything inside them (script and style are ammonia's
/// own): their content is code or fallback for active content, not prose.
const DROPPED_WITH_CONTENT: [&str; 7] = [
    "iframe", "object", "embed", "noscript", "template", "svg", "math",
];

/// The first pass: ammonia's allowlist with our schemes, images kept for the rewrite.
static KEEPING_IMAGES: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| sanitizer(true));
/// The last pass: the same allowlist with no images.
static WITHOUT_IMAGES: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| sanitizer(false));

fn sanitizer(keep_images: bool) -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    builder
        .url_schemes(HashSet::from(URL_SCHEMES))
        .add_clean_content_tags(DROPPED_WITH_CONTENT)
        .link_rel(Some("noopener noreferrer"));
    if !keep_images {
        builder.rm_tags(["img"]);
    }
    builder
}

/// Deeper than any real card (a table in a list in a quote is about 10).
const MAX_NESTING: usize = 64;

/// A card's markdown as HTML that is safe to put in a page.
pub fn card_html(markdown: &str) -> String {
    let html = markdown_html(markdown);
    if nesting_bound(&html) > MAX_NESTING {
        return format!(
            "<p><em>This card nests more than {MAX_NESTING} levels deep; it is shown as text.</em></p>\n<pre>{}</pre>",
            escape_text(markdown)
        );
    }
    let normalized = KEEPING_IMAGES.clean(&html).to_string();
    WITHOUT_IMAGES
        .clean(&images_as_links(&normalized))
        .to_string()
}

/// Markdown to HTML with GitHub-style tables and strikethrough (cards use
/// both), headings two levels down.
fn markdown_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: two_levels_down(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(two_levels_down(level))),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

fn two_levels_down(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// Elements that never hold others, so never nest.
const VOID_ELEMENTS: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track",
];

/// An upper bound of how deep `html` nests: every start tag of a non-void
/// element opens a level (`<div/>` too, as HTML parsers read it) and an end
/// tag closes one only when an element of its name is open. Tags inside
/// comments or attribute values count too, which only makes the bound higher.
fn nesting_bound(html: &str) -> usize {
    let mut open: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let (mut depth, mut deepest) = (0usize, 0usize);
    for piece in html.split('<').skip(1) {
        let (closing, rest) = match piece.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, piece),
        };
        let name: String = rest
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if name.is_empty() || !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        if closing {
            if let Some(count) = open.get_mut(&name).filter(|c| **c > 0) {
                *count -= 1;
                depth -= 1;
            }
        } else if !VOID_ELEMENTS.contains(&name.as_str()) {
            *open.entry(name).or_default() += 1;
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    deepest
}

/// Text for an HTML element's content.
fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Every `<img>` of serialized HTML as a link to its `src` showing its alt
/// text, or as that text alone inside another link or without a `src`.
/// Tags are found quote-aware: html5ever escapes `<` in text and `"` in
/// attribute values, so a `<` outside quotes always opens a tag.
fn images_as_links(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut link_depth = 0usize;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        let Some(len) = tag_length(rest) else {
            break;
        };
        let tag = &rest[..len];
        if tag == "</a>" {
            link_depth = link_depth.saturating_sub(1);
        } else if tag_name_is(tag, "a") {
            link_depth += 1;
        }
        if tag_name_is(tag, "img") {
            out.push_str(&image_as_link(tag, link_depth > 0));
        } else {
            out.push_str(tag);
        }
        rest = &rest[len..];
    }
    out.push_str(rest);
    out
}

/// Length of the tag at the start of `html` up to its `>` outside quotes.
fn tag_length(html: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in html.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '>' if !quoted => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// `<img ...>` for name `img`: the name followed by a space, `/` or `>`.
fn tag_name_is(tag: &str, name: &str) -> bool {
    tag.strip_prefix('<')
        .and_then(|t| t.strip_prefix(name))
        .is_some_and(|t| t.starts_with([' ', '>', '/']))
}

/// The replacement of one `<img ...>` tag.
fn image_as_link(tag: &str, inside_link: bool) -> String {
    let attrs = attributes(tag);
    let value = |name: &str| attrs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    let src = value("src").filter(|s| !s.is_empty());
    let alt = value("alt").filter(|a| !a.trim().is_empty());
    // Attribute values come escaped for attributes (`&amp;`, `&quot;`); text also needs `<` and `>` escaped.
    let label = format!(
        "[image: {}]",
        alt.or(src)
            .unwrap_or("no description")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    );
    match src {
        Some(src) if !inside_link => {
            let title = value("title").map_or(String::new(), |t| format!(" title=\"{t}\""));
            format!("<a href=\"{src}\"{title}>{label}</a>")
        }
        _ => label,
    }
}

/// `name="value"` pairs of a serialized tag (values stay escaped as written).
fn attributes(tag: &str) -> Vec<(&str, &str)> {
    let inner = tag.trim_start_matches('<').trim_end_matches('>');
    let mut rest = inner.split_once(' ').map_or("", |(_, r)| r);
    let mut out = Vec::new();
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq].trim();
        let after = &rest[eq + 2..];
        let Some(close) = after.find('"') else {
            break;
        };
        out.push((name, &after[..close]));
        rest = &after[close + 1..];
    }
    out
}

#[cfg(test)]
mod tests;
