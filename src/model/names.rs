//! The names that become Terraform identifiers (provider aliases, resource labels): AWS regions,
//! account ids and severity names. One validator per kind, shared by `scan --region`, snapshot
//! reading and configuration loading, so a name accepted anywhere is safe everywhere.

/// An AWS region name: lowercase words joined by `-`, ending in a number (`eu-west-1`, `us-gov-west-1`).
pub fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

/// An AWS account id: exactly 12 digits.
pub fn is_account_id(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

/// The JSON Schema pattern of a severity name (kept in step with [`is_severity_name`]).
pub const SEVERITY_NAME_PATTERN: &str = "^[a-z][a-z0-9_]{0,63}$";

/// A severity name (`warning`, `critical`, `p1`): a lowercase letter, then up to 63 lowercase
/// letters, digits or `_`, so it can be part of a Terraform label and an SNS topic name.
pub fn is_severity_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=64).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names() {
        assert!(is_region_name("eu-west-1"));
        assert!(is_region_name("us-gov-west-1"));
        assert!(!is_region_name("eu-west"));
        assert!(!is_region_name("EU-west-1"));
        assert!(!is_region_name("eu--1"));
        assert!(!is_region_name(""));
        assert!(!is_region_name("x + file(pathexpand(path.root)).y"));
    }

    #[test]
    fn account_ids() {
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901"));
        assert!(!is_account_id("12345678901a"));
        assert!(!is_account_id(""));
    }

    #[test]
    fn severity_names_match_their_pattern() {
        let pattern = schema_pattern(SEVERITY_NAME_PATTERN);
        for (name, ok) in [("warning", true), ("p1", true), ("crit_2", true), ("", false), ("1st", false), ("Warn", false), ("a b", false), ("x+y", false)] {
            assert_eq!(is_severity_name(name), ok, "{name:?}");
            assert_eq!(pattern(name), ok, "{name:?} against the schema pattern");
        }
        assert!(is_severity_name(&"a".repeat(64)));
        assert!(!is_severity_name(&"a".repeat(65)));
    }

    /// Checks a name against the schema pattern with the JSON Schema validator the crate uses.
    fn schema_pattern(pattern: &str) -> impl Fn(&str) -> bool {
        let validator = jsonschema::validator_for(&serde_json::json!({"type": "string", "pattern": pattern})).unwrap();
        move |name| validator.is_valid(&serde_json::json!(name))
    }
}
