//! The HTML report: one self-contained page (inline CSS, inline SVG charts, a little plain
//! JavaScript, no network access) for people to open, print or read on a phone.
//!
//! Every value from the inventory goes through [`Esc`] (text and attributes) or [`push_json_island`]
//! (the data the script pages through). A Content-Security-Policy that allows only this page's own
//! style and script, and no request at all, backs the escaping up. The findings table renders its
//! first page here and pages, filters and searches the rest from a JSON data island, so a page of
//! 100,000 resources opens as fast as a small one.

mod sections;
mod table;

use std::fmt::{self, Write};

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::{
    check::{baseline::Delta, drift::DriftReport, Evaluation},
    report::{Document, Options, Printer, Section, TOOL_VERSION},
};

/// `--format html`: one page, of the coverage (`check`) or of the drift (`drift`).
pub struct Html;

impl Printer for Html {
    const NAME: &'static str = "html";
    const SECTIONS: &'static [Section] = &[Section::Coverage, Section::Drift];
    /// The rows open to the policy line that required each finding.
    const NEEDS_REQUIREMENTS: bool = true;

    fn write(document: &Document, _: &Options, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let page = match (&document.coverage, document.drift) {
            (Some(coverage), _) => check_page(coverage.evaluation, coverage.delta, document.inventory, &document.as_of),
            (None, Some(drift)) => drift_page(drift, document.terraform.unwrap_or_default(), document.inventory, &document.as_of),
            (None, None) => return Ok(()),
        };
        out.write_all(page.as_bytes())
    }
}

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// The `check --format html` page.
pub fn check_page(evaluation: &Evaluation, delta: Option<&Delta>, inventory: &str, as_of: &str) -> String {
    let title = format!("onwatch: {}% alarm coverage", evaluation.summary.coverage_percent);
    let mut out = page_start(&title, evaluation.findings.len());
    sections::check_headline(&mut out, evaluation, inventory, as_of);
    if let Some(delta) = delta {
        sections::delta(&mut out, delta);
    }
    sections::coverage_charts(&mut out, evaluation);
    sections::accounts(&mut out, evaluation);
    let rows = table::check_rows(evaluation);
    table::render(&mut out, &rows, table::Labels::CHECK);
    sections::security(&mut out, evaluation);
    sections::hygiene(&mut out, &evaluation.findings);
    let _ = writeln!(out, "</main>\n<footer><p>onwatch {TOOL_VERSION} · inventory <code>{}</code> · exemptions as of {}</p></footer>", Esc(inventory), Esc(as_of));
    table::push_data(&mut out, &rows, table::Labels::CHECK);
    page_end(out)
}

/// The `drift --format html` page.
pub fn drift_page(report: &DriftReport, terraform: &str, inventory: &str, as_of: &str) -> String {
    let title = if report.has_drift() { "onwatch: drift" } else { "onwatch: no drift" };
    let mut out = page_start(title, report.items.len());
    sections::drift_headline(&mut out, report, terraform, inventory, as_of);
    let rows = table::drift_rows(report);
    table::render(&mut out, &rows, table::Labels::DRIFT);
    let _ = writeln!(
        out,
        "</main>\n<footer><p>onwatch {TOOL_VERSION} · terraform <code>{}</code> · inventory <code>{}</code> · ignore rules as of {}</p></footer>",
        Esc(terraform),
        Esc(inventory),
        Esc(as_of)
    );
    table::push_data(&mut out, &rows, table::Labels::DRIFT);
    page_end(out)
}

/// The document up to the opening of `<main>`; `findings` sizes the buffer.
fn page_start(title: &str, findings: usize) -> String {
    let mut out = String::with_capacity(64 * 1024 + findings * 400);
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"generator\" content=\"onwatch {TOOL_VERSION}\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>",
        content_security_policy(),
        Esc(title)
    );
    out
}

fn page_end(mut out: String) -> String {
    let _ = writeln!(out, "<script>{SCRIPT}</script>\n</body>\n</html>");
    out
}

/// Nothing may load or be sent, and only this page's own style and script may run: should a value
/// ever escape its escaping, the browser still refuses it.
fn content_security_policy() -> String {
    let hash = |text: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; base-uri 'none'; form-action 'none'",
        hash(STYLE),
        hash(SCRIPT)
    )
}

/// Inventory text for HTML text or a quoted attribute value: markup characters become character
/// references; control characters and noncharacters (which HTML forbids) are shown escaped, as
/// the text report shows them.
pub(crate) struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0;
        let mut start = 0;
        for (at, c) in text.char_indices() {
            let reference = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                c if forbidden_in_html(c) => "",
                _ => continue,
            };
            f.write_str(&text[start..at])?;
            if reference.is_empty() {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_str(reference)?;
            }
            start = at + c.len_utf8();
        }
        f.write_str(&text[start..])
    }
}

/// Characters an HTML document may not contain as text.
fn forbidden_in_html(c: char) -> bool {
    let code = c as u32;
    c.is_control() || (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE
}

/// Inventory text as the data island holds it: shown the way [`Esc`] shows it once the script
/// puts it in the page (control characters and noncharacters escaped).
fn island_text(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(forbidden_in_html) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if forbidden_in_html(c) {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    std::borrow::Cow::Owned(shown)
}

/// Appends `<script type="application/json" id=ID>` with `json` in it. `<`, `>` and `&` become
/// `\u003c`, `\u003e` and `\u0026` (so no `</script>` or `<!--` can end or bend the element),
/// U+2028 and U+2029 become `\u2028` and `\u2029`; all are JSON string escapes, so the data is unchanged.
fn push_json_island(out: &mut String, id: &str, json: &str) {
    let _ = write!(out, "<script type=\"application/json\" id=\"{id}\">");
    let bytes = json.as_bytes();
    let mut start = 0;
    let mut at = 0;
    while at < bytes.len() {
        let (escape, len) = match bytes[at] {
            b'<' => ("\\u003c", 1),
            b'>' => ("\\u003e", 1),
            b'&' => ("\\u0026", 1),
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8.
            0xE2 if bytes.get(at + 1) == Some(&0x80) && bytes.get(at + 2) == Some(&0xA8) => ("\\u2028", 3),
            0xE2 if bytes.get(at + 1) == Some(&0x80) && bytes.get(at + 2) == Some(&0xA9) => ("\\u2029", 3),
            _ => {
                at += 1;
                continue;
            }
        };
        out.push_str(&json[start..at]);
        out.push_str(escape);
        at += len;
        start = at;
    }
    out.push_str(&json[start..]);
    out.push_str("</script>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_become_markup() {
        assert_eq!(Esc("<script>\"a\" & 'b'</script>").to_string(), "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;");
        assert_eq!(Esc("bell\u{7}\u{fffe}é").to_string(), "bell\\u{7}\\u{fffe}é");
        assert_eq!(island_text("a\u{1b}b"), "a\\u{1b}b");
    }

    #[test]
    fn the_data_island_cannot_close_its_element() {
        let json = serde_json::to_string(&["</script><!--", "a&b", "line\u{2028}para\u{2029}"]).unwrap();
        let mut out = String::new();
        push_json_island(&mut out, "d", &json);
        assert_eq!(out, "<script type=\"application/json\" id=\"d\">[\"\\u003c/script\\u003e\\u003c!--\",\"a\\u0026b\",\"line\\u2028para\\u2029\"]</script>\n");
        let inner = out.trim_start_matches("<script type=\"application/json\" id=\"d\">").trim_end_matches("</script>\n");
        let back: Vec<String> = serde_json::from_str(inner).unwrap();
        assert_eq!(back, ["</script><!--", "a&b", "line\u{2028}para\u{2029}"]);
    }
}
