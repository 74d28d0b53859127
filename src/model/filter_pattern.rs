//! CloudWatch Logs filter patterns: parsed once, then matched against log events, with the
//! semantics CloudWatch Logs documents for metric filters. This is how onwatch decides whether a
//! metric filter on the CloudTrail log group covers a security control: the filter must match
//! every CloudTrail event that the control must detect.
//!
//! Supported, as documented in "Filter pattern syntax for metric filters":
//! - JSON patterns: `{ $.a.b[0] = "x" }` with `=`, `!=` (strings: quoted or bare, `*` wildcards;
//!   regular expressions between `%`), `<`, `<=`, `>`, `>=`, `=`, `!=` on numbers, `IS NULL`,
//!   `IS TRUE`, `IS FALSE`, `NOT EXISTS`, `&&`, `||` and parentheses;
//! - term patterns: `ERROR`, `"quoted term"`, `?any ?of`, `-excluded`, and the empty pattern,
//!   which matches every event.
//!
//! Space-delimited patterns (`[ip, user, ...]`) are not supported and are reported as such. A
//! comparison whose selector is absent from the event does not match, whatever the operator:
//! `NOT EXISTS` is the way to require absence.

use regex::Regex;
use serde_json::Value;

/// A parsed filter pattern.
#[derive(Debug, Clone)]
pub enum FilterPattern {
    /// `{ ... }`: a condition over the fields of a JSON event.
    Json(Expr),
    /// Terms that must (or may, or must not) appear in the raw event text.
    Terms(Vec<Term>),
}

#[derive(Debug, Clone)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Test(Selector, Test),
}

/// A path into the event: `$.userIdentity.type`, `$.resources[0].ARN`.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector(Vec<Step>);

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
}

#[derive(Debug, Clone)]
pub enum Test {
    /// `=` or `!=` on a string: exact text, or a `*` wildcard match.
    Text { negated: bool, glob: Glob },
    /// `=` or `!=` with a regular expression between `%`.
    Regex { negated: bool, regex: Regex },
    Number { op: NumberOp, value: f64 },
    IsNull,
    IsBool(bool),
    NotExists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
pub struct Term {
    pub text: String,
    pub kind: TermKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermKind {
    /// Must appear.
    Required,
    /// `?term`: at least one of these must appear.
    Optional,
    /// `-term`: must not appear.
    Excluded,
}

/// Why a pattern could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at character {at}")]
pub struct PatternError {
    pub message: String,
    /// 1-based character position in the pattern.
    pub at: usize,
}

impl FilterPattern {
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let trimmed = text.trim();
        if trimmed.starts_with('{') {
            let mut parser = Parser { chars: text.chars().collect(), at: 0 };
            parser.skip_space();
            parser.expect('{')?;
            let expr = parser.or()?;
            parser.skip_space();
            parser.expect('}')?;
            parser.skip_space();
            if parser.at < parser.chars.len() {
                return Err(parser.error("unexpected text after the closing brace"));
            }
            return Ok(FilterPattern::Json(expr));
        }
        if trimmed.starts_with('[') {
            return Err(PatternError { message: "space-delimited patterns ([...]) are not supported".into(), at: 1 });
        }
        parse_terms(text).map(FilterPattern::Terms)
    }

    /// Whether the pattern matches one log event (its raw text; JSON patterns parse it).
    pub fn matches_text(&self, event: &str) -> bool {
        match self {
            FilterPattern::Json(expr) => serde_json::from_str::<Value>(event).is_ok_and(|value| expr.matches(&value)),
            FilterPattern::Terms(terms) => terms_match(terms, event),
        }
    }

    /// Whether the pattern matches a JSON event (for term patterns, its compact JSON text).
    pub fn matches(&self, event: &Value) -> bool {
        match self {
            FilterPattern::Json(expr) => expr.matches(event),
            FilterPattern::Terms(terms) => terms_match(terms, &event.to_string()),
        }
    }
}

impl Expr {
    pub fn matches(&self, event: &Value) -> bool {
        match self {
            Expr::And(a, b) => a.matches(event) && b.matches(event),
            Expr::Or(a, b) => a.matches(event) || b.matches(event),
            Expr::Test(selector, test) => test.holds(selector.resolve(event)),
        }
    }
}

impl Selector {
    fn resolve<'a>(&self, event: &'a Value) -> Option<&'a Value> {
        let mut value = event;
        for step in &self.0 {
            value = match step {
                Step::Field(name) => value.as_object()?.get(name)?,
                Step::Index(index) => value.as_array()?.get(*index)?,
            };
        }
        Some(value)
    }
}

impl Test {
    fn holds(&self, value: Option<&Value>) -> bool {
        let Some(value) = value else {
            return matches!(self, Test::NotExists);
        };
        match self {
            Test::NotExists => false,
            Test::IsNull => value.is_null(),
            Test::IsBool(expected) => value.as_bool() == Some(*expected),
            Test::Text { negated, glob } => match scalar_text(value) {
                Some(text) => glob.matches(&text) != *negated,
                None => false,
            },
            Test::Regex { negated, regex } => match scalar_text(value) {
                Some(text) => regex.is_match(&text) != *negated,
                None => false,
            },
            Test::Number { op, value: wanted } => {
                let Some(actual) = value.as_f64() else { return false };
                match op {
                    NumberOp::Eq => actual == *wanted,
                    NumberOp::Ne => actual != *wanted,
                    NumberOp::Lt => actual < *wanted,
                    NumberOp::Le => actual <= *wanted,
                    NumberOp::Gt => actual > *wanted,
                    NumberOp::Ge => actual >= *wanted,
                }
            }
        }
    }
}

/// The text a string comparison sees: strings as they are, numbers and booleans as written.
/// Objects, arrays and null are not strings.
fn scalar_text(value: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match value {
        Value::String(text) => Some(text.as_str().into()),
        Value::Number(number) => Some(number.to_string().into()),
        Value::Bool(flag) => Some(flag.to_string().into()),
        _ => None,
    }
}

/// A string value with `*` wildcards, split at them once so matching allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    /// The text between the stars; one part when there is no star.
    parts: Vec<String>,
}

impl Glob {
    pub fn new(text: &str) -> Self {
        Glob { parts: text.split('*').map(str::to_string).collect() }
    }

    /// `*` matches any run of characters; everything else matches itself, case-sensitively.
    pub fn matches(&self, text: &str) -> bool {
        let (first, rest) = self.parts.split_first().expect("split yields at least one part");
        let Some((last, middle)) = rest.split_last() else {
            return text == first;
        };
        // Anchored at both ends, the parts between found leftmost in order: for `*` alone this
        // is exact.
        if text.len() < first.len() + last.len() || !text.starts_with(first.as_str()) || !text.ends_with(last.as_str()) {
            return false;
        }
        let mut inner = &text[first.len()..text.len() - last.len()];
        for part in middle {
            match inner.find(part.as_str()) {
                Some(at) => inner = &inner[at + part.len()..],
                None => return false,
            }
        }
        true
    }
}

/// Whether `text` matches `glob` (see [`Glob::matches`]).
pub fn glob_match(glob: &str, text: &str) -> bool {
    Glob::new(glob).matches(text)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn error(&self, message: &str) -> PatternError {
        PatternError { message: message.to_string(), at: self.at + 1 }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, text: &str) -> bool {
        let wanted: Vec<char> = text.chars().collect();
        if self.chars[self.at.min(self.chars.len())..].starts_with(&wanted) {
            self.at += wanted.len();
            true
        } else {
            false
        }
    }

    /// Eats a keyword (case-insensitive) that is followed by a non-word character.
    fn eat_keyword(&mut self, word: &str) -> bool {
        let end = self.at + word.chars().count();
        if end > self.chars.len() {
            return false;
        }
        let found: String = self.chars[self.at..end].iter().collect();
        let boundary = self.chars.get(end).is_none_or(|c| !c.is_alphanumeric() && *c != '_');
        if found.eq_ignore_ascii_case(word) && boundary {
            self.at = end;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), PatternError> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected {c:?}")))
        }
    }

    fn or(&mut self) -> Result<Expr, PatternError> {
        let mut left = self.and()?;
        loop {
            self.skip_space();
            if !self.eat("||") {
                return Ok(left);
            }
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
    }

    fn and(&mut self) -> Result<Expr, PatternError> {
        let mut left = self.unary()?;
        loop {
            self.skip_space();
            if !self.eat("&&") {
                return Ok(left);
            }
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, PatternError> {
        self.skip_space();
        if self.peek() == Some('(') {
            self.at += 1;
            let inner = self.or()?;
            self.skip_space();
            self.expect(')')?;
            return Ok(inner);
        }
        let selector = self.selector()?;
        self.skip_space();
        let test = self.test()?;
        Ok(Expr::Test(selector, test))
    }

    fn selector(&mut self) -> Result<Selector, PatternError> {
        if !self.eat("$") {
            return Err(self.error("expected a property selector ($.field)"));
        }
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Some('.') => {
                    self.at += 1;
                    let start = self.at;
                    while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '@' || c == ':') {
                        self.at += 1;
                    }
                    if start == self.at {
                        return Err(self.error("expected a field name after '.'"));
                    }
                    steps.push(Step::Field(self.chars[start..self.at].iter().collect()));
                }
                Some('[') => {
                    self.at += 1;
                    let start = self.at;
                    while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                        self.at += 1;
                    }
                    let digits: String = self.chars[start..self.at].iter().collect();
                    let index = digits.parse().map_err(|_| self.error("expected an array index"))?;
                    self.expect(']')?;
                    steps.push(Step::Index(index));
                }
                _ => break,
            }
        }
        if steps.is_empty() {
            return Err(self.error("a selector names at least one field"));
        }
        Ok(Selector(steps))
    }

    fn test(&mut self) -> Result<Test, PatternError> {
        if self.eat_keyword("IS") {
            self.skip_space();
            if self.eat_keyword("NULL") {
                return Ok(Test::IsNull);
            }
            if self.eat_keyword("TRUE") {
                return Ok(Test::IsBool(true));
            }
            if self.eat_keyword("FALSE") {
                return Ok(Test::IsBool(false));
            }
            return Err(self.error("expected NULL, TRUE or FALSE after IS"));
        }
        if self.eat_keyword("NOT") {
            self.skip_space();
            if self.eat_keyword("EXISTS") {
                return Ok(Test::NotExists);
            }
            return Err(self.error("expected EXISTS after NOT"));
        }
        let op = if self.eat("!=") {
            NumberOp::Ne
        } else if self.eat("<=") {
            NumberOp::Le
        } else if self.eat(">=") {
            NumberOp::Ge
        } else if self.eat("=") {
            NumberOp::Eq
        } else if self.eat("<") {
            NumberOp::Lt
        } else if self.eat(">") {
            NumberOp::Gt
        } else {
            return Err(self.error("expected a comparison (=, !=, <, <=, >, >=, IS, NOT EXISTS)"));
        };
        self.skip_space();
        let equality = matches!(op, NumberOp::Eq | NumberOp::Ne);
        match self.peek() {
            Some('"') => {
                if !equality {
                    return Err(self.error("strings are compared with = or != only"));
                }
                let text = self.quoted()?;
                Ok(Test::Text { negated: op == NumberOp::Ne, glob: Glob::new(&text) })
            }
            Some('%') if equality => {
                self.at += 1;
                let start = self.at;
                while self.peek().is_some_and(|c| c != '%') {
                    self.at += 1;
                }
                let source: String = self.chars[start..self.at].iter().collect();
                self.expect('%')?;
                let regex = Regex::new(&source).map_err(|e| self.error(&format!("invalid regular expression: {e}")))?;
                Ok(Test::Regex { negated: op == NumberOp::Ne, regex })
            }
            _ => {
                let start = self.at;
                while self.peek().is_some_and(|c| !c.is_whitespace() && !matches!(c, ')' | '}' | '&' | '|')) {
                    self.at += 1;
                }
                let bare: String = self.chars[start..self.at].iter().collect();
                if bare.is_empty() {
                    return Err(self.error("expected a value"));
                }
                match bare.parse::<f64>() {
                    Ok(value) if value.is_finite() => Ok(Test::Number { op, value }),
                    _ if equality => Ok(Test::Text { negated: op == NumberOp::Ne, glob: Glob::new(&bare) }),
                    _ => Err(PatternError { message: format!("{bare:?} is not a number"), at: start + 1 }),
                }
            }
        }
    }

    /// A double-quoted string; `\"` and `\\` are escapes.
    fn quoted(&mut self) -> Result<String, PatternError> {
        self.expect('"')?;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some('"') => {
                    self.at += 1;
                    return Ok(text);
                }
                Some('\\') if matches!(self.chars.get(self.at + 1), Some('"' | '\\')) => {
                    text.push(self.chars[self.at + 1]);
                    self.at += 2;
                }
                Some(c) => {
                    text.push(c);
                    self.at += 1;
                }
            }
        }
    }
}

fn parse_terms(text: &str) -> Result<Vec<Term>, PatternError> {
    let chars: Vec<char> = text.chars().collect();
    let mut terms = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        if chars[at].is_whitespace() {
            at += 1;
            continue;
        }
        let kind = match chars[at] {
            '?' => TermKind::Optional,
            '-' => TermKind::Excluded,
            _ => TermKind::Required,
        };
        if kind != TermKind::Required {
            at += 1;
        }
        let mut term = String::new();
        if chars.get(at) == Some(&'"') {
            at += 1;
            loop {
                match chars.get(at) {
                    None => return Err(PatternError { message: "unterminated quoted term".into(), at: at + 1 }),
                    Some('"') => {
                        at += 1;
                        break;
                    }
                    Some('\\') if matches!(chars.get(at + 1), Some('"' | '\\')) => {
                        term.push(chars[at + 1]);
                        at += 2;
                    }
                    Some(&c) => {
                        term.push(c);
                        at += 1;
                    }
                }
            }
        } else {
            while at < chars.len() && !chars[at].is_whitespace() {
                term.push(chars[at]);
                at += 1;
            }
        }
        if term.is_empty() {
            return Err(PatternError { message: "empty term".into(), at: at + 1 });
        }
        terms.push(Term { text: term, kind });
    }
    Ok(terms)
}

/// Terms match case-sensitively anywhere in the event text.
fn terms_match(terms: &[Term], event: &str) -> bool {
    let mut any_optional = false;
    let mut optional_found = false;
    for term in terms {
        let found = event.contains(&term.text);
        match term.kind {
            TermKind::Required if !found => return false,
            TermKind::Excluded if found => return false,
            TermKind::Optional => {
                any_optional = true;
                optional_found |= found;
            }
            _ => {}
        }
    }
    !any_optional || optional_found
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn matches(pattern: &str, event: Value) -> bool {
        FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}")).matches(&event)
    }

    #[test]
    fn strings_quoted_and_bare_with_wildcards() {
        let event = json!({"eventName": "ConsoleLogin", "errorCode": "Client.UnauthorizedOperation", "n": 7});
        assert!(matches(r#"{ $.eventName = "ConsoleLogin" }"#, event.clone()));
        assert!(matches("{($.eventName=ConsoleLogin)}", event.clone()));
        assert!(!matches(r#"{ $.eventName = "consolelogin" }"#, event.clone()), "case-sensitive");
        assert!(matches(r#"{ $.errorCode = "*UnauthorizedOperation" }"#, event.clone()));
        assert!(!matches(r#"{ $.errorCode = "AccessDenied*" }"#, event.clone()));
        assert!(matches(r#"{ $.errorCode = "Client.*Op*" }"#, event.clone()));
        assert!(matches(r#"{ $.eventName != "HeadBucket" }"#, event.clone()));
        assert!(!matches(r#"{ $.eventName != "Console*" }"#, event.clone()));
        assert!(matches(r#"{ $.eventName = %^Console[A-Z]% }"#, event.clone()));
        assert!(matches(r#"{ $.n = "7" }"#, event), "a string comparison sees a number as written");
    }

    #[test]
    fn absent_fields_match_only_not_exists() {
        let event = json!({"userIdentity": {"type": "Root"}});
        assert!(matches(r#"{ $.userIdentity.invokedBy NOT EXISTS }"#, event.clone()));
        assert!(!matches(r#"{ $.userIdentity.type NOT EXISTS }"#, event.clone()));
        assert!(!matches(r#"{ $.additionalEventData.MFAUsed != "Yes" }"#, event.clone()));
        assert!(!matches(r#"{ $.missing = "*" }"#, event));
    }

    #[test]
    fn numbers_booleans_nulls_and_arrays() {
        let event = json!({"bytes": 1500, "ok": true, "gone": null, "resources": [{"ARN": "arn:a"}, {"ARN": "arn:b"}]});
        assert!(matches("{ $.bytes > 1000 }", event.clone()));
        assert!(matches("{ $.bytes >= 1500 && $.bytes <= 1500 }", event.clone()));
        assert!(!matches("{ $.bytes < 1000 }", event.clone()));
        assert!(matches("{ $.bytes != 1 }", event.clone()));
        assert!(matches("{ $.ok IS TRUE }", event.clone()));
        assert!(!matches("{ $.ok IS FALSE }", event.clone()));
        assert!(matches("{ $.gone IS NULL }", event.clone()));
        assert!(!matches("{ $.bytes IS NULL }", event.clone()));
        assert!(matches(r#"{ $.resources[1].ARN = "arn:b" }"#, event.clone()));
        assert!(!matches(r#"{ $.resources[2].ARN = "*" }"#, event.clone()));
        assert!(!matches(r#"{ $.resources = "*" }"#, event), "an array is not a string");
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let event = json!({"a": "1", "b": "2", "c": "3"});
        assert!(matches(r#"{ $.a = "x" && $.b = "x" || $.c = "3" }"#, event.clone()));
        assert!(!matches(r#"{ $.a = "x" && ($.b = "x" || $.c = "3") }"#, event.clone()));
        assert!(matches(r#"{ (($.a = "1") || ($.a = "9")) && (($.b != "x") && ($.c != "x")) }"#, event));
    }

    #[test]
    fn terms_and_the_empty_pattern() {
        let event = r#"{"eventName":"ConsoleLogin","errorMessage":"Failed authentication"}"#;
        let pattern = |text: &str| FilterPattern::parse(text).unwrap();
        assert!(pattern("").matches_text(event));
        assert!(pattern("ConsoleLogin").matches_text(event));
        assert!(pattern(r#""Failed authentication""#).matches_text(event));
        assert!(!pattern("ConsoleLogin -Failed").matches_text(event));
        assert!(pattern("?Nope ?Failed").matches_text(event));
        assert!(!pattern("?Nope ?Never").matches_text(event));
    }

    #[test]
    fn malformed_patterns_say_where() {
        for (text, at) in [("{ $.a = }", 9), ("{ $.a = \"x\" ", 13), ("{ a = 1 }", 3), ("{ $.a ~ 1 }", 7), ("{ $.a > x }", 9)] {
            let error = FilterPattern::parse(text).expect_err(text);
            assert_eq!(error.at, at, "{text}: {error}");
        }
        assert!(FilterPattern::parse("[ip, user]").is_err());
    }

    #[test]
    fn glob_backtracks() {
        assert!(glob_match("*a*b", "xaybzab"));
        assert!(!glob_match("*a*b", "xaybza"));
        assert!(glob_match("**", ""));
        assert!(glob_match("Put*Policy", "PutRolePolicy"));
        assert!(!glob_match("ab*ba", "aba"), "the two ends may not overlap");
        assert!(glob_match("a*a*a", "aaa"));
        assert!(!glob_match("a*a*a", "aa"));
        assert!(glob_match("*", "") && glob_match("", "") && !glob_match("", "x"));
        assert!(glob_match("中*🔥", "中文🔥"));
    }
}
