//! Report printers. Each output format is its own small module with one entry point that
//! renders a [`Report`] to a string; the CLI picks one.

pub mod drift;
mod html;
mod junit;
mod markdown;
mod sarif;
mod text;

use serde::Serialize;

use crate::{
    check::baseline::Delta,
    check::{Evaluation, Summary},
    findings::Finding,
};

pub use markdown::GITHUB_COMMENT_LIMIT;

/// What every printer needs: the evaluation plus where it came from.
pub struct Report<'a> {
    pub evaluation: &'a Evaluation,
    /// The inventory as the user named it (file path, or `live`).
    pub inventory: &'a str,
    /// The date exemptions were judged against.
    pub as_of: String,
    /// The change from a baseline report (`check --baseline`).
    pub delta: Option<&'a Delta>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Sarif,
    Junit,
    Html,
}

pub const TOOL_NAME: &str = "onwatch";
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
pub const INFORMATION_URI: &str = "https://github.com/onwatch/onwatch";

impl Report<'_> {
    /// Renders the report to a string. `color` applies to text only.
    pub fn render(&self, format: Format, color: bool) -> String {
        let mut out = Vec::new();
        self.write(format, color, &mut out).expect("writing to memory does not fail");
        String::from_utf8(out).expect("reports are UTF-8")
    }

    /// Writes the report; JSON is streamed rather than built in memory first, since on large
    /// accounts it is the biggest output.
    pub fn write(&self, format: Format, color: bool, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let text = match format {
            Format::Text => text::render(self, color),
            Format::Json => return self.write_json(out),
            Format::Markdown => markdown::render(self, GITHUB_COMMENT_LIMIT),
            Format::Sarif => sarif::render(self),
            Format::Junit => junit::render(self),
            Format::Html => html::check_page(self.evaluation, self.delta, self.inventory, &self.as_of),
        };
        out.write_all(text.as_bytes())
    }

    fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        #[derive(Serialize)]
        struct Tool {
            name: &'static str,
            version: &'static str,
        }
        #[derive(Serialize)]
        struct JsonReport<'r> {
            tool: Tool,
            inventory: &'r str,
            as_of: &'r str,
            summary: &'r Summary,
            #[serde(skip_serializing_if = "Option::is_none")]
            delta: Option<&'r Delta>,
            findings: &'r [Finding],
        }
        let report = JsonReport {
            tool: Tool { name: TOOL_NAME, version: TOOL_VERSION },
            inventory: self.inventory,
            as_of: &self.as_of,
            summary: &self.evaluation.summary,
            delta: self.delta,
            findings: &self.evaluation.findings,
        };
        serde_json::to_writer_pretty(&mut *out, &report)?;
        out.write_all(b"\n")
    }
}

/// "1 finding", "2 findings".
fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Inventory text made safe for a terminal or a report line: every control character (ESC, BEL,
/// SOH, newline...) is shown escaped (`\u{1b}`, `\n`), so a value cannot send escape sequences or
/// forge a line. The one helper the text and Markdown printers use.
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_printable(&mut escaped, c);
    }
    std::borrow::Cow::Owned(escaped)
}

/// Appends one character, escaped if it is a control character.
pub(crate) fn push_printable(out: &mut String, c: char) {
    if c.is_control() {
        out.extend(c.escape_default());
    } else {
        out.push(c);
    }
}
