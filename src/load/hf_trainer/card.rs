//! The model card `README.md` of a Hugging Face output folder: front matter and markdown.
//!
//! `trainer.create_model_card()` (and `push_to_hub`, PEFT's `save_pretrained`)
//! write a card whose YAML front matter, between `---` lines, holds
//! `library_name`, `base_model`, `license`, `tags`, `datasets`, `model-index`,
//! and whose body is markdown prose. Both are kept as written: the front matter
//! as a params-like tree, the body as text that only the run page renders, and
//! sanitizes. A card is prose, never the run: front matter that does not parse
//! is a warning with its line and the card keeps its body, and a card over
//! [`MAX_CARD_BYTES`] is cut at a line with a warning.

use crate::load::config::parse_yaml_params;
use crate::model::{ModelCard, Problem, Severity};

/// The card's file name, beside `trainer_state.json`.
pub(super) const CARD_FILE: &str = "README.md";
/// More than any real card (the Trainer's are a few KB); a page must stay openable.
const MAX_CARD_BYTES: usize = 256 * 1024;

/// Split a card into front matter and body; problems name `file` and the line.
pub(super) fn parse_model_card(text: &str, file: &str) -> (ModelCard, Vec<Problem>) {
    let mut problems = Vec::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = if text.len() > MAX_CARD_BYTES {
        let cut = cut_at_line(text, MAX_CARD_BYTES);
        let line = text[..cut].matches('\n').count() + 1;
        let message = format!(
            "the model card is {} bytes; only its first {} KiB (up to this line) are kept",
            text.len(),
            MAX_CARD_BYTES / 1024
        );
        problems.push(Problem::warning(file, Some(line), message));
        &text[..cut]
    } else {
        text
    };
    let (front_matter, body) = match split_front_matter(text) {
        FrontMatter::None => (serde_json::json!({}), text),
        FrontMatter::Unclosed => {
            let message =
                "front matter opened with --- is never closed; the card is read as markdown";
            problems.push(Problem::warning(file, Some(1), message));
            (serde_json::json!({}), text)
        }
        FrontMatter::Yaml { yaml, body } => {
            let (value, yaml_problems) = parse_yaml_params(yaml, file);
            // The YAML starts on line 2; a card's YAML is never worth an error.
            problems.extend(yaml_problems.into_iter().map(|mut p| {
                p.severity = p.severity.min(Severity::Warning);
                p.line = p.line.map(|l| l + 1);
                p.message = format!("model card front matter: {}", p.message);
                p
            }));
            (value, body)
        }
    };
    let card = ModelCard {
        file: file.to_string(),
        front_matter,
        body: body.to_string(),
    };
    (card, problems)
}

/// What the start of a card holds.
#[derive(Debug, PartialEq)]
enum FrontMatter<'a> {
    /// No `---` first line: it is all markdown.
    None,
    /// A `---` first line and no closing one.
    Unclosed,
    /// The YAML between the `---` lines and the markdown after them.
    Yaml { yaml: &'a str, body: &'a str },
}

/// Find the front matter: a first line `---`, closed by a line `---` (or YAML's `...`).
fn split_front_matter(text: &str) -> FrontMatter<'_> {
    let mut lines = text.split_inclusive('\n');
    let is_fence = |line: &str, ends: &[&str]| ends.contains(&line.trim_end());
    match lines.next() {
        Some(first) if is_fence(first, &["---"]) => {
            let start = first.len();
            let mut at = start;
            for line in lines {
                if is_fence(line, &["---", "..."]) {
                    return FrontMatter::Yaml {
                        yaml: &text[start..at],
                        body: &text[at + line.len()..],
                    };
                }
                at += line.len();
            }
            FrontMatter::Unclosed
        }
        _ => FrontMatter::None,
    }
}

/// Where to cut `text` to at most `max` bytes: after the last whole line, or
/// at a char boundary when there is no line break before `max`.
fn cut_at_line(text: &str, max: usize) -> usize {
    let mut cut = max.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].rfind('\n').map_or(cut, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRAINER_CARD: &str = "---\nlibrary_name: transformers\nlicense: apache-2.0\n\
        base_model: TinyLlama/TinyLlama-1.1B\ntags:\n- generated_from_trainer\n\
        model-index:\n- name: out\n  results: []\n---\n\n# out\n\nThis model is a fine-tuned version.\n";

    #[test]
    fn front_matter_and_body_of_a_trainer_card() {
        let (card, problems) = parse_model_card(TRAINER_CARD, "r/README.md");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(card.file, "r/README.md");
        let flat = card.flat_front_matter();
        assert_eq!(flat["library_name"], "transformers");
        assert_eq!(flat["base_model"], "TinyLlama/TinyLlama-1.1B");
        assert_eq!(flat["tags"], "[\"generated_from_trainer\"]");
        assert!(flat["model-index"].contains("\"name\":\"out\""));
        assert_eq!(
            card.body,
            "\n# out\n\nThis model is a fine-tuned version.\n"
        );
    }

    #[test]
    fn a_card_without_front_matter_is_all_body() {
        let (card, problems) = parse_model_card("# Title\n---\ntext\n", "README.md");
        assert!(problems.is_empty());
        assert!(card.flat_front_matter().is_empty());
        assert_eq!(card.body, "# Title\n---\ntext\n");
        let crlf = "\u{feff}---\r\nlicense: mit\r\n...\r\nbody\r\n";
        let (card, problems) = parse_model_card(crlf, "README.md");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(card.flat_front_matter()["license"], "mit");
        assert_eq!(card.body, "body\r\n");
    }

    #[test]
    fn bad_front_matter_is_a_warning_with_its_line_and_the_body_is_kept() {
        let text = "---\nlicense: mit\ntags: [a, b\nbase_model: x\n---\n# Kept\n";
        let (card, problems) = parse_model_card(text, "r/README.md");
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert_eq!(
            (p.severity, p.file.as_str()),
            (Severity::Warning, "r/README.md")
        );
        assert!(matches!(p.line, Some(3..=5)), "{p:?}");
        assert!(p
            .message
            .starts_with("model card front matter: not valid YAML"));
        assert!(card.flat_front_matter().is_empty());
        assert_eq!(card.body, "# Kept\n");

        let (card, problems) = parse_model_card("---\nlicense: mit\n# no end\n", "README.md");
        assert_eq!((problems.len(), problems[0].line), (1, Some(1)));
        assert_eq!(card.body, "---\nlicense: mit\n# no end\n");

        let (card, problems) = parse_model_card("---\n- a\n- b\n---\nx\n", "README.md");
        assert_eq!(problems.len(), 1, "a list is no mapping: {problems:?}");
        assert_eq!(card.flat_front_matter()["value"], "[\"a\",\"b\"]");
    }

    #[test]
    fn a_huge_card_is_cut_at_a_line_with_a_warning() {
        let line = "é".repeat(99) + "\n";
        let text = format!("---\nlicense: mit\n---\n{}", line.repeat(3000));
        let (card, problems) = parse_model_card(&text, "r/README.md");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("256 KiB"), "{problems:?}");
        assert!(card.body.len() < MAX_CARD_BYTES && card.body.ends_with('\n'));
        assert_eq!(card.flat_front_matter()["license"], "mit");
        let one_line = "x".repeat(MAX_CARD_BYTES + 10);
        let (card, _) = parse_model_card(&one_line, "README.md");
        assert_eq!(card.body.len(), MAX_CARD_BYTES);
    }

    #[test]
    fn no_input_panics() {
        let pieces = [
            "---", "\n", "\r\n", "...", "a: [", "é", "\u{feff}", "*x", "- ", ": ",
        ];
        let mut state = 7u64;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(state % 12) {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(state >> 33) as usize % pieces.len()]);
            }
            let _ = parse_model_card(&text, "README.md");
        }
    }
}
