//! Report printers. A command fills one [`Document`] with the sections it has (coverage, drift,
//! the audit listing); each output format is one file here, a [`Printer`] that prints every
//! section it supports. [`Format`] is the list of formats the command line offers: a new format
//! is its printer file and one line of `formats!` below.

use std::{io, path::PathBuf, str::FromStr};

use crate::{
    audit::{AuditRecord, Query},
    check::{baseline::Delta, drift::DriftReport, Evaluation},
};

pub use markdown::GITHUB_COMMENT_LIMIT;

pub const TOOL_NAME: &str = "onwatch";
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
pub const INFORMATION_URI: &str = "https://github.com/onwatch/onwatch";

/// The one document every printer reads: where it came from, and the sections the command had.
pub struct Document<'a> {
    /// The inventory as the user named it (file path, or `live scan`); empty for the audit listing.
    pub inventory: &'a str,
    /// The date exemptions or ignore rules were judged against; empty for the audit listing.
    pub as_of: String,
    /// The Terraform directory read (drift).
    pub terraform: Option<&'a str>,
    pub coverage: Option<Coverage<'a>>,
    pub drift: Option<&'a DriftReport>,
    pub audit: Option<AuditListing<'a>>,
}

/// `check`: the evaluation (coverage, security, hygiene) and the change from `--baseline`.
pub struct Coverage<'a> {
    pub evaluation: &'a Evaluation,
    pub delta: Option<&'a Delta>,
}

/// `audit list`: the records, the table they were read from, and the query.
pub struct AuditListing<'a> {
    pub records: &'a [AuditRecord],
    pub table: &'a str,
    pub region: &'a str,
    pub query: &'a Query,
}

/// The sections of a [`Document`], in the order printers print them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Coverage,
    Drift,
    Audit,
}

/// How to print; the same for every format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// ANSI colours (text only; the CLI asks for them when stdout is a terminal and NO_COLOR is unset).
    pub color: bool,
}

/// One output format. Printers print the sections of a document they support, in [`Section`]
/// order, and leave the others out.
pub trait Printer {
    /// The name on the command line (`--format NAME`, `--report NAME=PATH`).
    const NAME: &'static str;
    /// The sections it prints: a command offers the format when it prints the command's section.
    const SECTIONS: &'static [Section];
    /// Whether it reads the per-requirement records (`Evaluation::requirements`), which `check`
    /// keeps only when asked since they cost time and memory on large accounts.
    const NEEDS_REQUIREMENTS: bool = false;
    fn write(document: &Document, options: &Options, out: &mut dyn io::Write) -> io::Result<()>;
}

/// Declares the printer modules and the [`Format`] enum that lists them.
macro_rules! formats {
    ($($variant:ident in $module:ident::$printer:ident,)*) => {
        $(mod $module;)*

        /// An output format, as the library knows it (no clap here: the CLI builds its flag values
        /// from [`Format::ALL`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Format {
            $($variant,)*
        }

        impl Format {
            pub const ALL: &'static [Format] = &[$(Format::$variant,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Format::$variant => <$module::$printer as Printer>::NAME,)*
                }
            }

            pub fn sections(self) -> &'static [Section] {
                match self {
                    $(Format::$variant => <$module::$printer as Printer>::SECTIONS,)*
                }
            }

            pub fn needs_requirements(self) -> bool {
                match self {
                    $(Format::$variant => <$module::$printer as Printer>::NEEDS_REQUIREMENTS,)*
                }
            }

            fn printer_write(self, document: &Document, options: &Options, out: &mut dyn io::Write) -> io::Result<()> {
                match self {
                    $(Format::$variant => <$module::$printer as Printer>::write(document, options, out),)*
                }
            }
        }
    };
}

formats! {
    Text in text::Text,
    Json in json::Json,
    Markdown in markdown::Markdown,
    Sarif in sarif::Sarif,
    Junit in junit::Junit,
    Html in html::Html,
}

impl Format {
    pub fn supports(self, section: Section) -> bool {
        self.sections().contains(&section)
    }

    /// The names of the formats that print `section`, for a command's `--format` values.
    pub fn names_for(section: Section) -> Vec<&'static str> {
        Format::ALL.iter().filter(|format| format.supports(section)).map(|format| format.name()).collect()
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Format, String> {
        Format::ALL.iter().copied().find(|format| format.name() == text).ok_or_else(|| {
            format!("unknown format {text:?}; known formats: {}", Format::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", "))
        })
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One `--report FORMAT=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    pub format: Format,
    pub path: PathBuf,
}

impl ReportSpec {
    /// Parses `FORMAT=PATH` for a command whose document has `section`: the format must print it.
    pub fn parse(text: &str, section: Section) -> Result<ReportSpec, String> {
        let (name, path) = text.split_once('=').ok_or_else(|| format!("{text:?} is not FORMAT=PATH (such as sarif=onwatch.sarif)"))?;
        let names = Format::names_for(section);
        let format = name
            .parse::<Format>()
            .ok()
            .filter(|format| format.supports(section))
            .ok_or_else(|| format!("{name:?} is not a format of this command; possible formats: {}", names.join(", ")))?;
        if path.is_empty() {
            return Err(format!("{text:?} names no file after '='"));
        }
        Ok(ReportSpec { format, path: PathBuf::from(path) })
    }
}

impl<'a> Document<'a> {
    /// The document of `check`.
    pub fn coverage(evaluation: &'a Evaluation, delta: Option<&'a Delta>, inventory: &'a str, as_of: String) -> Self {
        Document { inventory, as_of, terraform: None, coverage: Some(Coverage { evaluation, delta }), drift: None, audit: None }
    }

    /// The document of `drift`.
    pub fn drift(report: &'a DriftReport, terraform: &'a str, inventory: &'a str, as_of: String) -> Self {
        Document { inventory, as_of, terraform: Some(terraform), coverage: None, drift: Some(report), audit: None }
    }

    /// The document of `audit list`.
    pub fn audit(listing: AuditListing<'a>) -> Self {
        Document { inventory: "", as_of: String::new(), terraform: None, coverage: None, drift: None, audit: Some(listing) }
    }

    /// Renders the document to a string.
    pub fn render(&self, format: Format, options: &Options) -> String {
        let mut out = Vec::new();
        self.write(format, options, &mut out).expect("writing to memory does not fail");
        String::from_utf8(out).expect("reports are UTF-8")
    }

    /// Writes the document in `format`; JSON is streamed rather than built in memory first, since
    /// on large accounts it is the biggest output.
    pub fn write(&self, format: Format, options: &Options, out: &mut dyn io::Write) -> io::Result<()> {
        format.printer_write(self, options, out)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_parses_from_its_name() {
        for format in Format::ALL {
            assert_eq!(format.name().parse::<Format>(), Ok(*format));
        }
        assert!("yaml".parse::<Format>().unwrap_err().contains("known formats: text, json"));
    }

    #[test]
    fn report_specs_need_a_format_of_the_command_and_a_path() {
        let spec = ReportSpec::parse("sarif=out/onwatch.sarif", Section::Drift).unwrap();
        assert_eq!(spec, ReportSpec { format: Format::Sarif, path: PathBuf::from("out/onwatch.sarif") });
        assert_eq!(ReportSpec::parse("json=a=b", Section::Audit).unwrap().path, PathBuf::from("a=b"));
        assert!(ReportSpec::parse("sarif", Section::Coverage).unwrap_err().contains("not FORMAT=PATH"));
        assert!(ReportSpec::parse("junit=x.xml", Section::Drift).unwrap_err().contains("possible formats: text, json, markdown, sarif"));
        assert!(ReportSpec::parse("yaml=x", Section::Coverage).is_err());
        assert!(ReportSpec::parse("json=", Section::Coverage).unwrap_err().contains("names no file"));
    }
}
