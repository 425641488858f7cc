//! The card sanitizer on hostile markdown: what survives and what does not.

use super::*;

/// Nothing in `html` that runs, styles, embeds or loads: checked on every tag.
fn assert_inert(html: &str) {
    let lower = html.to_ascii_lowercase();
    // Text has `<` escaped, so every `<` opens a tag (attribute values never hold `>` here).
    for tag in lower.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or("");
        let name = tag.split([' ', '/']).find(|n| !n.is_empty()).unwrap_or("");
        assert!(
            ![
                "script", "img", "iframe", "object", "embed", "style", "svg", "math", "form",
                "input", "link", "meta", "base", "image", "video", "audio", "source", "picture"
            ]
            .contains(&name),
            "<{name}> survived in {html}"
        );
        for word in tag.split_whitespace().skip(1) {
            assert!(
                !word.starts_with("on"),
                "handler {word:?} survived in {html}"
            );
            for attr in ["style=", "src=", "srcset=", "background=", "poster="] {
                assert!(!word.starts_with(attr), "{attr} survived in {html}");
            }
            if let Some(url) = word.strip_prefix("href=\"") {
                for scheme in ["javascript:", "data:", "vbscript:", "file:"] {
                    assert!(
                        !url.trim_start().starts_with(scheme),
                        "{scheme} link survived in {html}"
                    );
                }
            }
        }
    }
}

#[test]
fn script_tags_are_dropped_with_their_content() {
    let html =
        card_html("# Title\n\n<script>alert(1)</script>\n\ntext <script>alert(2)</script> after\n");
    assert_inert(&html);
    assert!(!html.contains("alert"), "{html}");
    assert!(html.contains("<h3>Title</h3>"), "{html}");
    assert!(html.contains("after"), "{html}");
}

#[test]
fn an_image_with_an_error_handler_loses_the_handler_and_loads_nothing() {
    let html = card_html("<img src=x onerror=alert(1)>\n\nand inline <img src=\"y.png\" onload=\"alert(2)\" alt=\"Y\">\n");
    assert_inert(&html);
    assert!(!html.contains("alert"), "{html}");
    assert!(
        html.contains("<a href=\"y.png\" rel=\"noopener noreferrer\">[image: Y]</a>"),
        "{html}"
    );
}

#[test]
fn javascript_and_data_links_lose_their_url_and_keep_their_text() {
    let html = card_html(
        "[click](javascript:alert(1)) [upper](JaVaScRiPt:alert(2)) [spaced]( javascript:alert(3))\n\n\
         <a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">data</a> \
         <a href=\"&#106;avascript:alert(4)\">entity</a> <a href=\"vbscript:x\">vb</a>\n",
    );
    assert_inert(&html);
    for text in ["click", "upper", "data", "entity", "vb"] {
        assert!(
            html.contains(&format!(">{text}</a>")),
            "{text} lost: {html}"
        );
    }
    assert!(!html.contains("href"), "{html}");
}

#[test]
fn frames_objects_styles_and_forms_are_gone() {
    let html = card_html(
        "<iframe src=\"https://evil.example\">framed</iframe>\n\n<object data=\"x.swf\">fallback</object>\n\n\
         <embed src=\"x.swf\">\n\n<style>body { background: url(https://evil.example/x) }</style>\n\n\
         <svg onload=alert(1)><text>drawn</text></svg>\n\n<form action=\"https://evil.example\"><input name=q></form>\n\n\
         <p style=\"background:url(https://evil.example/bg.png)\">styled</p>\n\n\
         <base href=\"https://evil.example/\"><link rel=stylesheet href=\"https://evil.example/s.css\">\n",
    );
    assert_inert(&html);
    for gone in ["framed", "fallback", "background", "drawn", "evil.example"] {
        assert!(!html.contains(gone), "{gone:?} survived: {html}");
    }
    assert!(html.contains("<p>styled</p>"), "{html}");
}

#[test]
fn an_external_image_becomes_a_link_showing_its_alt_text() {
    let html = card_html("![Loss curve](https://example.com/loss.png \"the loss\")\n\n![](https://example.com/a.png)\n");
    assert_inert(&html);
    assert!(
        html.contains("<a href=\"https://example.com/loss.png\" title=\"the loss\" rel=\"noopener noreferrer\">[image: Loss curve]</a>"),
        "{html}"
    );
    assert!(
        html.contains(">[image: https://example.com/a.png]</a>"),
        "{html}"
    );
}

#[test]
fn an_image_inside_a_link_is_its_alt_text_inside_that_link() {
    let html = card_html(
        "[![CI badge](https://img.shields.io/badge/ci-passing-green.svg)](https://github.com/o/r)\n\n\
         <a href=\"https://hf.co\"><img src=\"https://hf.co/logo.png\" alt=\"HF <logo>\"></a>\n\n\
         ![x](javascript:alert(1))\n",
    );
    assert_inert(&html);
    assert!(
        html.contains(
            "<a href=\"https://github.com/o/r\" rel=\"noopener noreferrer\">[image: CI badge]</a>"
        ),
        "{html}"
    );
    assert!(html.contains(">[image: HF &lt;logo&gt;]</a>"), "{html}");
    assert!(
        html.contains("<p>[image: x]</p>"),
        "an unsafe src leaves the text: {html}"
    );
}

#[test]
fn nested_html_inside_markdown_keeps_only_plain_tags() {
    let html = card_html(
        "<div align=\"center\" onclick=\"steal()\">\n<p><b>bold</b> <span onmouseover=\"x()\" class=\"c\">hover</span></p>\n\
         <details><summary>More</summary>hidden <img src=\"https://example.com/p.png\" alt=\"pic\"></details>\n</div>\n\n\
         Text with <em onfocus=\"x()\">em</em>, **strong**, `<script>code</script>` and <!-- a comment -->.\n",
    );
    assert_inert(&html);
    assert!(
        html.contains("<p><b>bold</b> <span>hover</span></p>"),
        "{html}"
    );
    assert!(html.contains("<details><summary>More</summary>"), "{html}");
    assert!(html.contains("[image: pic]</a>"), "{html}");
    assert!(
        html.contains("<em>em</em>, <strong>strong</strong>"),
        "{html}"
    );
    assert!(
        html.contains("<code>&lt;script&gt;code&lt;/script&gt;</code>"),
        "{html}"
    );
    assert!(!html.contains("comment"), "{html}");
}

#[test]
fn what_a_trainer_card_needs_survives() {
    let md = "# out\n\nFine-tuned from [TinyLlama](https://huggingface.co/TinyLlama) on [data](./data.md); \
              mail <mailto:a@b.org>.\n\n## Training results\n\n| Step | Loss |\n|:-----|-----:|\n| 10 | 2.31 |\n\n\
              - learning_rate: 5e-05\n- ~~old~~ new\n\n```text\npip install x\n```\n";
    let html = card_html(md);
    assert_inert(&html);
    assert!(
        html.contains("<h3>out</h3>") && html.contains("<h4>Training results</h4>"),
        "{html}"
    );
    assert!(html.contains("<a href=\"https://huggingface.co/TinyLlama\" rel=\"noopener noreferrer\">TinyLlama</a>"), "{html}");
    assert!(html.contains("<a href=\"./data.md\""), "{html}");
    assert!(html.contains("<a href=\"mailto:a@b.org\""), "{html}");
    assert!(
        html.contains("<table>") && html.contains("<td>2.31</td>"),
        "{html}"
    );
    assert!(
        html.contains("<li>learning_rate: 5e-05</li>") && html.contains("<del>old</del>"),
        "{html}"
    );
    assert!(
        html.contains("<pre><code>pip install x\n</code></pre>"),
        "{html}"
    );
}

#[test]
fn deep_nesting_and_floods_are_quick_and_never_overflow_the_stack() {
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            for md in [
                ">".repeat(100_000),
                "<div>".repeat(50_000),
                "<div></b>".repeat(30_000),
                "<b a=1>".repeat(30_000) + &"<p>x".repeat(10_000),
                (0..200)
                    .map(|i| " ".repeat(i * 2) + "- x\n")
                    .collect::<String>(),
                "[".repeat(100_000),
                "![".repeat(50_000),
                "<a href=x>".repeat(30_000) + &"<img src=y>".repeat(30_000),
                "<p>a <b>b</b> <i>c</i></p>\n".repeat(9_000),
            ] {
                let started = std::time::Instant::now();
                let html = card_html(&md);
                assert_inert(&html);
                let took = started.elapsed();
                assert!(took.as_secs() < 5, "{took:?} for {}...", &md[..30]);
            }
            let deep = card_html(&format!("# T\n\n{}<script>x</script>", ">".repeat(100)));
            assert!(
                deep.starts_with("<p><em>This card nests more than 64 levels"),
                "{deep}"
            );
            assert!(deep.contains("&lt;script&gt;x&lt;/script&gt;"), "{deep}");
        })
        .unwrap();
    handle.join().expect("no stack overflow");
}

#[test]
fn random_hostile_mixtures_stay_inert() {
    let pieces = [
        "<img src=x onerror=alert(1)>",
        "![a](https://e.x/i.png)",
        "[l](javascript:alert(1))",
        "<a href=\"",
        "\"",
        "<script>",
        "</script>",
        "<iframe>",
        "<svg onload=x>",
        "<",
        ">",
        "`",
        "\n",
        "\n\n",
        "<div>",
        "</div>",
        "*",
        "[",
        "]",
        "(",
        ")",
        "data:text/html,x",
        "<style>",
        "&",
        "&quot;",
        "'",
        " on",
        "=",
        "<!--",
        "-->",
        "<![CDATA[",
        "<a href=x>",
        "</a>",
        "<math><mi xlink:href=x>",
        "|",
        "---",
    ];
    let mut state = 11u64;
    for _ in 0..2000 {
        let mut md = String::new();
        for _ in 0..(state % 24) {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            md.push_str(pieces[(state >> 33) as usize % pieces.len()]);
        }
        assert_inert(&card_html(&md));
    }
}
