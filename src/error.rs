//! Operational errors. Policy violations are findings, not errors; these are the
//! failures that stop a run with exit code 2 and write nothing.

use std::{fmt, io, path::PathBuf};

/// One thing wrong with one input file, located as precisely as the parser allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file (or `<built-in>/name` for embedded defaults).
    pub file: String,
    /// JSONPath-style location (`$.alarms[0].threshold`); `$` for the whole document.
    pub json_path: String,
    /// Line and column where the parser knows them.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": at {}: {}", self.json_path, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: cannot read: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path}: cannot write: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{}", list(.0))]
    Invalid(Vec<Problem>),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Generate(String),
    /// A safety guard refused to go on (for example, a generation that would delete many alarms).
    #[error("{0}")]
    Refused(String),
    /// Another process holds the lock on an output directory and did not release it in time.
    #[error("{}: another onwatch holds the lock on this directory (waited {waited_seconds} s); nothing was written. Run again when it has finished, or raise --lock-wait", path.display())]
    Locked { path: PathBuf, waited_seconds: u64 },
    /// SIGINT or SIGTERM arrived while an output was being written; what was staged was removed.
    #[error("interrupted by {}: every output is the old one or the new one, whole", match signal { 2 => "SIGINT".to_string(), 15 => "SIGTERM".to_string(), n => format!("signal {n}") })]
    Interrupted { signal: i32 },
    /// A Terraform file does not parse.
    #[error("{file}:{line}:{column}: HCL syntax error: {message}")]
    Syntax { file: String, line: usize, column: usize, message: String },
    /// A Terraform file is valid but exceeds a bound of the reader (expanded instances).
    #[error("{file}:{line}: {message}")]
    TerraformBound { file: String, line: usize, message: String },
    /// A Terraform file parses but a value in it is invalid (a cycle of locals, a provider
    /// region that is not a region name).
    #[error("{file}:{line}: {message}")]
    TerraformInvalid { file: String, line: usize, message: String },
    /// A live scan call failed after the SDK's retries; the scan wrote nothing.
    #[error("scan failed: {action} in {account}/{region}: {message}")]
    Scan {
        account: String,
        region: String,
        /// The IAM action of the call, such as `cloudwatch:DescribeAlarms`.
        action: String,
        message: String,
    },
    /// Two snapshots given to `onwatch merge` cannot be combined; nothing was written.
    #[error("merge: {first} and {second}: {message}; nothing was written")]
    Merge { first: String, second: String, message: String },
    /// Reading the audit table failed after the SDK's retries.
    #[error("reading the audit trail failed: {action} in {region}: {message}")]
    Audit {
        region: String,
        /// The IAM action of the call, such as `dynamodb:Scan`.
        action: String,
        message: String,
    },
}

fn list(problems: &[Problem]) -> String {
    let mut text = format!("{} problem{} in the input:", problems.len(), if problems.len() == 1 { "" } else { "s" });
    for problem in problems {
        text.push_str("\n  ");
        text.push_str(&problem.to_string());
    }
    text
}

impl Error {
    pub fn invalid(file: impl Into<String>, json_path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid(vec![Problem { file: file.into(), json_path: json_path.into(), position: None, message: message.into() }])
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Converts a JSON pointer (`/alarms/0/threshold`) to the JSONPath form users read (`$.alarms[0].threshold`).
pub fn pointer_to_path(pointer: &str) -> String {
    let mut path = String::from("$");
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            path.push_str(&format!("[{segment}]"));
        } else if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            path.push('.');
            path.push_str(&segment);
        } else {
            path.push_str(&format!("[{}]", serde_json::to_string(&segment).unwrap()));
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_readable_paths() {
        assert_eq!(pointer_to_path(""), "$");
        assert_eq!(pointer_to_path("/alarms/0/threshold"), "$.alarms[0].threshold");
        assert_eq!(pointer_to_path("/thresholds/ec2:instance/CPU"), "$.thresholds[\"ec2:instance\"].CPU");
        assert_eq!(pointer_to_path("/a~1b"), "$[\"a/b\"]");
    }
}
