//! Tag selectors: `key=value`, `key!=value`, `key` (present), `!key` (absent); `*` in a value
//! matches any run of characters. A key `attr:Name` reads the resource attribute `Name`
//! instead of a tag (`attr:LoadBalancer=net/*` selects target groups behind an NLB).

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Equals(String, String),
    NotEquals(String, String),
    Present(String),
    Absent(String),
}

impl Selector {
    pub fn parse(text: &str) -> Result<Self, String> {
        let valid_key = |key: &str| !key.is_empty() && !key.contains(['=', '!', '*']);
        let selector = if let Some((key, value)) = text.split_once("!=") {
            Selector::NotEquals(key.trim().to_string(), value.trim().to_string())
        } else if let Some((key, value)) = text.split_once('=') {
            Selector::Equals(key.trim().to_string(), value.trim().to_string())
        } else if let Some(key) = text.strip_prefix('!') {
            Selector::Absent(key.trim().to_string())
        } else {
            Selector::Present(text.trim().to_string())
        };
        let key = match &selector {
            Selector::Equals(key, _) | Selector::NotEquals(key, _) | Selector::Present(key) | Selector::Absent(key) => key,
        };
        if valid_key(key) {
            Ok(selector)
        } else {
            Err(format!("{text:?} is not a tag selector (key=value, key!=value, key or !key)"))
        }
    }

    pub fn matches(&self, tags: &BTreeMap<String, String>, attributes: &BTreeMap<String, String>) -> bool {
        let lookup = |key: &str| match key.strip_prefix("attr:") {
            Some(attribute) => attributes.get(attribute),
            None => tags.get(key),
        };
        match self {
            Selector::Equals(key, pattern) => lookup(key).is_some_and(|value| glob_match(pattern, value)),
            Selector::NotEquals(key, pattern) => !lookup(key).is_some_and(|value| glob_match(pattern, value)),
            Selector::Present(key) => lookup(key).is_some(),
            Selector::Absent(key) => lookup(key).is_none(),
        }
    }
}

pub fn all_match(selectors: &[Selector], tags: &BTreeMap<String, String>, attributes: &BTreeMap<String, String>) -> bool {
    selectors.iter().all(|selector| selector.matches(tags, attributes))
}

/// Matches `text` against `pattern`, where `*` stands for any run of characters.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn selectors_parse_and_match() {
        let none = tags(&[]);
        let prod = tags(&[("env", "prod"), ("team", "payments")]);
        let dev = tags(&[("env", "dev")]);
        let eq = Selector::parse("env=prod").unwrap();
        assert!(eq.matches(&prod, &none) && !eq.matches(&dev, &none));
        let ne = Selector::parse("env!=prod").unwrap();
        assert!(!ne.matches(&prod, &none) && ne.matches(&dev, &none) && ne.matches(&tags(&[]), &none));
        let present = Selector::parse("team").unwrap();
        assert!(present.matches(&prod, &none) && !present.matches(&dev, &none));
        let absent = Selector::parse("!team").unwrap();
        assert!(!absent.matches(&prod, &none) && absent.matches(&dev, &none));
        assert!(Selector::parse("team=pay*").unwrap().matches(&prod, &none));
        let target_group = tags(&[("LoadBalancer", "net/ingest/1a2b")]);
        assert!(Selector::parse("attr:LoadBalancer=net/*").unwrap().matches(&none, &target_group));
        assert!(!Selector::parse("attr:LoadBalancer=app/*").unwrap().matches(&none, &target_group));
        assert!(!Selector::parse("LoadBalancer").unwrap().matches(&none, &target_group), "plain keys read tags only");
        assert!(Selector::parse("=x").is_err());
        assert!(Selector::parse("").is_err());
    }

    #[test]
    fn glob_matches_wildcards_anywhere() {
        assert!(glob_match("*", ""));
        assert!(glob_match("a*c", "abc") && glob_match("a*c", "ac"));
        assert!(!glob_match("a*c", "ab"));
        assert!(glob_match("arn:aws:ec2:*:instance/*", "arn:aws:ec2:us-east-1:1:instance/i-1"));
        assert!(!glob_match("ab*ba", "aba"));
        assert!(glob_match("exact", "exact") && !glob_match("exact", "exact2"));
    }
}
