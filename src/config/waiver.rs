//! Waivers: a finding knowingly accepted, with a reason and a last day. Policy exemptions,
//! security-control exemptions and drift ignore rules are all waivers, validated the same way
//! and judged against `--as-of` in one place. An expired waiver waives nothing and is reported.

use time::Date;

use crate::{error::Problem, findings::Origin};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    pub reason: String,
    /// The last day it holds (UTC).
    pub expires: Date,
    /// The file and line of its `"expires"`, for reports that point at it.
    pub origin: Origin,
}

/// Whether a waiver holds on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judged {
    Holds,
    Expired,
}

impl Waiver {
    /// Validates a waiver as written: a reason that says something and an ISO date. Problems are
    /// reported at `json_path.reason` and `json_path.expires`; `what` names it in messages.
    pub fn check(file: &str, json_path: &str, what: &str, reason: &str, expires: &str, line: usize, problems: &mut Vec<Problem>) -> Option<Waiver> {
        let problem = |field: &str, message: String| Problem { file: file.to_string(), json_path: format!("{json_path}.{field}"), position: None, message };
        if reason.trim().is_empty() {
            problems.push(problem("reason", format!("reason is empty: say why this {what} is accepted")));
        }
        match super::parse_date(expires) {
            Some(date) => Some(Waiver { reason: reason.to_string(), expires: date, origin: Origin { file: file.to_string(), line } }),
            None => {
                problems.push(problem("expires", format!("{expires:?} is not a date (YYYY-MM-DD)")));
                None
            }
        }
    }

    /// A waiver holds through its expiry day.
    pub fn judge(&self, today: Date) -> Judged {
        if today <= self.expires {
            Judged::Holds
        } else {
            Judged::Expired
        }
    }

    /// `exempted until 2026-12-31: <reason>`, the detail of what it waives.
    pub fn describe(&self) -> String {
        format!("exempted until {}: {}", self.expires, self.reason)
    }
}

/// The 1-based lines of the `"expires"` keys after the first line holding `"<section>"`, in order;
/// 1 where the text is laid out unusually. Waivers are listed one per object, so the n-th
/// `"expires"` is the n-th waiver's.
pub fn expiry_lines(text: &str, section: &str, count: usize) -> Vec<usize> {
    let key = format!("\"{section}\"");
    let start = text.lines().position(|line| line.contains(&key)).unwrap_or(0);
    let mut lines: Vec<usize> =
        text.lines().enumerate().skip(start).filter(|(_, line)| line.contains("\"expires\"")).map(|(index, _)| index + 1).collect();
    lines.resize(count, 1);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiver_holds_through_its_last_day_and_needs_a_reason() {
        let mut problems = Vec::new();
        let waiver = Waiver::check("f.json", "$.rules[0]", "rule", "known noisy", "2026-12-31", 7, &mut problems).unwrap();
        assert!(problems.is_empty());
        assert_eq!(waiver.judge(time::macros::date!(2026 - 12 - 31)), Judged::Holds);
        assert_eq!(waiver.judge(time::macros::date!(2027 - 01 - 01)), Judged::Expired);
        assert_eq!(waiver.origin, Origin { file: "f.json".into(), line: 7 });
        assert!(Waiver::check("f.json", "$.x", "rule", " ", "tomorrow", 1, &mut problems).is_none());
        let paths: Vec<&str> = problems.iter().map(|p| p.json_path.as_str()).collect();
        assert_eq!(paths, ["$.x.reason", "$.x.expires"]);
    }

    #[test]
    fn expiry_lines_follow_the_section() {
        let text = "{\n  \"expires\": \"x\",\n  \"exemptions\": [\n    {\"expires\": \"a\"},\n    {\n      \"expires\": \"b\"\n    }\n  ]\n}";
        assert_eq!(expiry_lines(text, "exemptions", 2), [4, 6]);
        assert_eq!(expiry_lines(text, "exemptions", 3), [4, 6, 1]);
    }
}
