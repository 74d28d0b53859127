//! Report printers. Each output format is its own small module with one entry point that
//! renders a [`Report`] to a string; the CLI picks one.

mod junit;
mod markdown;
mod sarif;
mod text;

use serde::Serialize;

use crate::{
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Sarif,
    Junit,
}

pub const TOOL_NAME: &str = "onwatch";
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
pub const INFORMATION_URI: &str = "https://github.com/onwatch/onwatch";

impl Report<'_> {
    /// Renders the report. `color` applies to text only.
    pub fn render(&self, format: Format, color: bool) -> String {
        match format {
            Format::Text => text::render(self, color),
            Format::Json => self.json(),
            Format::Markdown => markdown::render(self, GITHUB_COMMENT_LIMIT),
            Format::Sarif => sarif::render(self),
            Format::Junit => junit::render(self),
        }
    }

    fn json(&self) -> String {
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
            findings: &'r [Finding],
        }
        let report = JsonReport {
            tool: Tool { name: TOOL_NAME, version: TOOL_VERSION },
            inventory: self.inventory,
            as_of: &self.as_of,
            summary: &self.evaluation.summary,
            findings: &self.evaluation.findings,
        };
        let mut text = serde_json::to_string_pretty(&report).expect("reports serialize");
        text.push('\n');
        text
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
