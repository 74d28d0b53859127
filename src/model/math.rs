//! Metric math as alarms use it: what an anomaly-detection alarm's band is, which expression a
//! metric-math alarm evaluates, and the canonical form two expressions are compared in.

use super::{MetricAlarm, MetricQuery, MetricStat};

/// CloudWatch's band width when `ANOMALY_DETECTION_BAND` is given no second argument.
pub const DEFAULT_BAND_WIDTH: f64 = 2.0;

/// The kind of an alarm, read off its queries.
#[derive(Debug, Clone, PartialEq)]
pub enum AlarmKind<'a> {
    /// One metric against a static threshold (`MetricName`, no `Metrics`).
    Static,
    /// `ANOMALY_DETECTION_BAND(id, width)` on one metric, named by `ThresholdMetricId`.
    Anomaly { metric: &'a MetricStat, width: f64 },
    /// An expression over metric queries, returned by the one query that returns data.
    Math { expression: &'a str, metrics: Vec<(&'a str, &'a MetricStat)> },
    /// Queries onwatch cannot read as one of the above (several returned, nested expressions...).
    Other,
}

impl MetricAlarm {
    /// What kind of alarm this is.
    pub fn kind(&self) -> AlarmKind<'_> {
        if self.metrics.is_empty() {
            return AlarmKind::Static;
        }
        let query = |id: &str| self.metrics.iter().find(|q| q.id == id);
        if let Some(band_id) = &self.threshold_metric_id {
            return query(band_id)
                .and_then(|band| parse_band(band.expression.as_deref()?))
                .and_then(|(id, width)| Some(AlarmKind::Anomaly { metric: query(id)?.metric.as_ref()?, width }))
                .unwrap_or(AlarmKind::Other);
        }
        let returned: Vec<&MetricQuery> = self.metrics.iter().filter(|q| q.return_data).collect();
        let metrics: Vec<(&str, &MetricStat)> = self.metrics.iter().filter_map(|q| Some((q.id.as_str(), q.metric.as_ref()?))).collect();
        let expressions = self.metrics.iter().filter(|q| q.expression.is_some()).count();
        match returned.as_slice() {
            [only] if expressions == 1 => match &only.expression {
                Some(expression) => AlarmKind::Math { expression, metrics },
                None => AlarmKind::Other,
            },
            _ => AlarmKind::Other,
        }
    }
}

/// `ANOMALY_DETECTION_BAND(m1, 3)` → (`m1`, 3); the width defaults to 2.
pub fn parse_band(expression: &str) -> Option<(&str, f64)> {
    let inner = expression.trim().strip_prefix("ANOMALY_DETECTION_BAND")?.trim_start().strip_prefix('(')?.strip_suffix(')')?;
    let mut parts = inner.split(',').map(str::trim);
    let id = parts.next().filter(|id| is_identifier(id))?;
    let width = match parts.next() {
        Some(width) => width.parse::<f64>().ok().filter(|w| w.is_finite() && *w > 0.0)?,
        None => DEFAULT_BAND_WIDTH,
    };
    parts.next().is_none().then_some((id, width))
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The identifiers of an expression that are not function names (a name followed by `(`).
pub fn expression_names(expression: &str) -> Vec<&str> {
    tokens(expression).windows(2).filter(|pair| is_identifier(pair[0]) && pair[1] != "(").map(|pair| pair[0]).collect()
}

/// The expression's tokens, whitespace dropped and each identifier that `rename` knows replaced,
/// joined by single spaces: two expressions are the same math when their canonical forms are equal.
pub fn canonical_expression(expression: &str, rename: impl Fn(&str) -> Option<String>) -> String {
    let tokens = tokens(expression);
    let mut out = Vec::with_capacity(tokens.len());
    for (index, token) in tokens.iter().enumerate() {
        let call = tokens.get(index + 1) == Some(&"(");
        match (is_identifier(token) && !call).then(|| rename(token)).flatten() {
            Some(name) => out.push(name),
            None => out.push(canonical_number(token)),
        }
    }
    out.pop(); // the end marker
    out.join(" ")
}

/// `100.0` and `100` are one number.
fn canonical_number(token: &str) -> String {
    match token.parse::<f64>() {
        Ok(value) if token.starts_with(|c: char| c.is_ascii_digit() || c == '.') => crate::support::format_number(value),
        _ => token.to_string(),
    }
}

/// Identifiers, numbers, strings and single-character operators, then an empty end marker.
fn tokens(expression: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = expression.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let c = bytes[at];
        let start = at;
        if c.is_ascii_whitespace() {
            at += 1;
            continue;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' {
            while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_' || bytes[at] == b'.') {
                at += 1;
            }
        } else if c == b'"' || c == b'\'' {
            at += 1;
            while at < bytes.len() && bytes[at] != c {
                at += 1;
            }
            at = (at + 1).min(bytes.len());
        } else {
            at += expression[at..].chars().next().map_or(1, char::len_utf8);
        }
        out.push(&expression[start..at]);
    }
    out.push("");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_read_with_their_width_or_the_default() {
        assert_eq!(parse_band("ANOMALY_DETECTION_BAND(m1, 3)"), Some(("m1", 3.0)));
        assert_eq!(parse_band(" ANOMALY_DETECTION_BAND (m1)"), Some(("m1", 2.0)));
        assert_eq!(parse_band("ANOMALY_DETECTION_BAND(m1, -1)"), None);
        assert_eq!(parse_band("ANOMALY_DETECTION_BAND(m1, 2, 3)"), None);
        assert_eq!(parse_band("m1 * 2"), None);
    }

    #[test]
    fn the_same_math_under_other_ids_and_spacing_is_one_canonical_form() {
        let ours = canonical_expression("100*errors/invocations", |id| Some(format!("<{id}>")));
        let theirs = canonical_expression("100.0 * e / i", |id| match id {
            "e" => Some("<errors>".into()),
            "i" => Some("<invocations>".into()),
            _ => None,
        });
        assert_eq!(ours, theirs);
        assert_eq!(ours, "100 * <errors> / <invocations>");
        let other = canonical_expression("100 * invocations / errors", |id| Some(format!("<{id}>")));
        assert_ne!(ours, other);
    }

    #[test]
    fn function_names_are_not_metric_names() {
        assert_eq!(expression_names("FILL(errors, 0) / MAX([a, b])"), vec!["errors", "a", "b"]);
        assert_eq!(canonical_expression("FILL(e, 0)", |_| Some("x".into())), "FILL ( x , 0 )");
    }
}
