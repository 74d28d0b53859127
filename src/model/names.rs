//! Names that become Terraform identifiers or AWS resource names, as validated newtypes. A value
//! of one of these types has passed its rule, so generation may write it where HCL takes no
//! escaping (block labels, provider aliases, references); every other value goes through
//! `generate::hcl`'s escaping. Snapshots, configuration and `scan --region` check their input
//! with the same rules, so bad input is refused where it is read, naming the file and path.

use std::fmt;

use serde::Serialize;

use crate::support::stable_hash;

/// CloudWatch's limit on alarm names.
pub const MAX_ALARM_NAME: usize = 255;

/// A value refused by a name's rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not {what}")]
pub struct NameError {
    what: &'static str,
    value: String,
}

fn refuse<T>(what: &'static str, value: &str) -> Result<T, NameError> {
    Err(NameError { what, value: value.to_string() })
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

name_type!(
    /// An AWS region name: lowercase words and a number joined by `-` (`eu-west-1`, `us-gov-west-1`).
    Region
);
name_type!(
    /// An AWS account id: twelve digits.
    AccountId
);
name_type!(
    /// An alert severity of `config/alert_thresholds.json`: it names SNS topic resources and
    /// starts generated alarm names, so a letter, then letters, digits and `_` (no `-`: the
    /// delivery rules match alarm names on `<prefix>-<severity>-`).
    SeverityName
);
name_type!(
    /// A Terraform identifier (a block label, a provider alias, one step of a reference): a letter
    /// or `_`, then letters, digits, `_` and `-`.
    TerraformIdentifier
);
name_type!(
    /// A provider reference, `aws.<alias>`, always built from a [`Region`].
    ProviderRef
);
name_type!(
    /// A CloudWatch alarm name: 1 to 255 characters, no control characters.
    AlarmName
);
name_type!(
    /// A CloudWatch dashboard name: 1 to 255 letters, digits, `_` and `-`.
    DashboardName
);

/// The JSON Schema pattern of [`SeverityName`] (checked by the same rule in [`SeverityName::parse`]).
pub const SEVERITY_PATTERN: &str = r"^[a-z][a-z0-9_]{0,63}$";

impl Region {
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let parts: Vec<&str> = text.split('-').collect();
        let (number, words) = parts.split_last().expect("split yields at least one part");
        let valid = words.len() >= 2
            && words.iter().all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
            && (1..=3).contains(&number.len())
            && number.bytes().all(|b| b.is_ascii_digit());
        if valid {
            Ok(Region(text.to_string()))
        } else {
            refuse("an AWS region name (such as eu-west-1)", text)
        }
    }

    /// The provider alias of the region (`us-east-1` → `us_east_1`).
    pub fn label(&self) -> TerraformIdentifier {
        TerraformIdentifier(self.0.replace('-', "_"))
    }

    /// `aws.<alias>`: the provider the region's resources are declared with.
    pub fn provider(&self) -> ProviderRef {
        ProviderRef(format!("aws.{}", self.label()))
    }
}

impl AccountId {
    pub fn parse(text: &str) -> Result<Self, NameError> {
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(text.to_string()))
        } else {
            refuse("an AWS account id (12 digits)", text)
        }
    }
}

impl SeverityName {
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let mut chars = text.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && text.len() <= 64;
        if valid {
            Ok(SeverityName(text.to_string()))
        } else {
            refuse("a severity name (a lowercase letter, then up to 63 lowercase letters, digits and _)", text)
        }
    }
}

/// Whether `text` is a Terraform identifier.
fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Whether `text` is a reference made of identifiers joined by `.` (`aws.us_east_1`,
/// `critical_us_east_1`): what a template may write without quotes.
pub fn is_reference(text: &str) -> bool {
    text.split('.').all(is_identifier)
}

impl TerraformIdentifier {
    pub fn parse(text: &str) -> Result<Self, NameError> {
        if is_identifier(text) {
            Ok(TerraformIdentifier(text.to_string()))
        } else {
            refuse("a Terraform identifier", text)
        }
    }

    /// Words joined by `_`, each `-` made `_` (`["cis", "root-account-usage"]` →
    /// `cis_root_account_usage`); refused unless the result is an identifier.
    pub fn snake(words: &[&str]) -> Result<Self, NameError> {
        Self::parse(&words.join("_").replace('-', "_"))
    }

    /// The SNS topic resource of a severity in a region (`critical_us_east_1`).
    pub fn topic(severity: &SeverityName, region: &Region) -> Self {
        TerraformIdentifier(format!("{severity}_{}", region.label()))
    }

    /// This identifier with `_` and `words` appended (`critical_us_east_1_email_0a1b2c3d`).
    pub fn extended(&self, words: &[&str]) -> Result<Self, NameError> {
        let mut all = vec![self.as_str()];
        all.extend_from_slice(words);
        Self::snake(&all)
    }

    /// A label made from parts that may hold any character. Readable where it can be, always
    /// suffixed with a short hash of the unsanitized identity so that distinct inputs never
    /// collide and the label never depends on inventory order.
    pub fn hashed(readable: &[&str], identity: &[&str]) -> Self {
        let mut name = String::new();
        for part in readable {
            if !name.is_empty() {
                name.push('_');
            }
            for c in part.chars() {
                name.push(if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' });
            }
        }
        if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            name.insert(0, '_');
        }
        // Keep addresses short enough to read in a plan.
        name.truncate(72);
        TerraformIdentifier(format!("{name}_{:08x}", stable_hash(identity) as u32))
    }
}

impl AlarmName {
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let count = text.chars().count();
        if (1..=MAX_ALARM_NAME).contains(&count) && !text.chars().any(char::is_control) {
            Ok(AlarmName(text.to_string()))
        } else {
            refuse("a CloudWatch alarm name (1 to 255 characters, no control characters)", text)
        }
    }

    /// Parts joined by `-` (`onwatch-security-cis-root-account-usage`).
    pub fn joined(parts: &[&str]) -> Result<Self, NameError> {
        Self::parse(&parts.join("-"))
    }

    /// `<prefix>-<severity>-<policy>-<resource>-<rule>`: the severity prefix is what the delivery
    /// rules match on. Over-long names keep their ends and a hash of the whole.
    pub fn generated(prefix: &str, severity: &SeverityName, policy: &str, resource: &str, rule: &str) -> Result<Self, NameError> {
        let name = format!("{prefix}-{severity}-{policy}-{resource}-{rule}");
        if name.chars().count() <= MAX_ALARM_NAME {
            return Self::parse(&name);
        }
        let hash = format!("{:08x}", stable_hash(&[&name]) as u32);
        let fixed = format!("{prefix}-{severity}-{policy}--{rule}-{hash}").chars().count();
        let keep = MAX_ALARM_NAME.saturating_sub(fixed + 1);
        let chars: Vec<char> = resource.chars().collect();
        let tail: String = chars[chars.len().saturating_sub(keep)..].iter().collect();
        Self::parse(&format!("{prefix}-{severity}-{policy}-~{tail}-{rule}-{hash}"))
    }
}

impl DashboardName {
    pub fn parse(text: &str) -> Result<Self, NameError> {
        if (1..=255).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            Ok(DashboardName(text.to_string()))
        } else {
            refuse("a CloudWatch dashboard name (1 to 255 letters, digits, _ and -)", text)
        }
    }
}

/// Whether `name` is a severity name (`alert_thresholds.json`'s keys).
pub fn is_severity_name(name: &str) -> bool {
    SeverityName::parse(name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_follow_aws_names() {
        for good in ["eu-west-1", "us-gov-west-1", "cn-north-1", "ap-southeast-10"] {
            assert_eq!(Region::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "eu-west", "EU-west-1", "eu--1", "eu-west-+1", "eu-west-1 ", "x + file(pathexpand(path.root)).y", "eu-west-1000", "-eu-west-1"] {
            assert!(Region::parse(bad).is_err(), "{bad:?}");
        }
        let region = Region::parse("us-east-1").unwrap();
        assert_eq!(region.label().as_str(), "us_east_1");
        assert_eq!(region.provider().as_str(), "aws.us_east_1");
    }

    #[test]
    fn accounts_severities_and_dashboards_refuse_what_cannot_be_a_name() {
        assert!(AccountId::parse("123456789012").is_ok());
        for bad in ["", "1", "12345678901a", "1234567890123", " 23456789012"] {
            assert!(AccountId::parse(bad).is_err(), "{bad:?}");
        }
        for good in ["critical", "p1", "high_urgency"] {
            assert!(SeverityName::parse(good).is_ok(), "{good:?}");
        }
        for bad in ["", "P1", "x + file(path.root).y", "crit-high", "1st", "_x", &"a".repeat(65)] {
            assert!(SeverityName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(DashboardName::parse("shop-prod_1").is_ok());
        assert!(DashboardName::parse("a b").is_err() && DashboardName::parse("").is_err());
        let error = Region::parse("x y").unwrap_err();
        assert_eq!(error.to_string(), "\"x y\" is not an AWS region name (such as eu-west-1)");
    }

    #[test]
    fn identifiers_are_valid_and_distinct() {
        let a = TerraformIdentifier::hashed(&["sqs", "my-queue", "age"], &["arn:aws:sqs:r:1:my-queue", "age"]);
        let b = TerraformIdentifier::hashed(&["sqs", "my_queue", "age"], &["arn:aws:sqs:r:1:my_queue", "age"]);
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("sqs_my-queue_age_"));
        let odd = TerraformIdentifier::hashed(&["9/x:y"], &["z"]);
        assert!(odd.as_str().starts_with("_9_x_y_"), "{odd}");
        assert!(TerraformIdentifier::hashed(&[&"x".repeat(300)], &["z"]).as_str().len() <= 72 + 9);
        assert!(TerraformIdentifier::parse(odd.as_str()).is_ok());
        assert_eq!(TerraformIdentifier::snake(&["cis", "root-account-usage"]).unwrap().as_str(), "cis_root_account_usage");
        assert!(TerraformIdentifier::snake(&["x + y"]).is_err() && TerraformIdentifier::parse("").is_err());
        let topic = TerraformIdentifier::topic(&SeverityName::parse("critical").unwrap(), &Region::parse("eu-west-1").unwrap());
        assert_eq!(topic.as_str(), "critical_eu_west_1");
        assert_eq!(topic.extended(&["email", "0a1b"]).unwrap().as_str(), "critical_eu_west_1_email_0a1b");
        assert!(is_reference("aws.us_east_1") && !is_reference("aws.x + file(y)") && !is_reference("") && !is_reference("a..b"));
    }

    #[test]
    fn alarm_names_stay_within_the_limit_and_refuse_control_characters() {
        let severity = SeverityName::parse("critical").unwrap();
        let long = "q".repeat(300);
        let a = AlarmName::generated("onwatch", &severity, "sqs-queue", &long, "age").unwrap();
        let b = AlarmName::generated("onwatch", &severity, "sqs-queue", &format!("{long}x"), "age").unwrap();
        assert!(a.as_str().chars().count() <= MAX_ALARM_NAME && b.as_str().chars().count() <= MAX_ALARM_NAME);
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("onwatch-critical-sqs-queue-~q"));
        assert_eq!(AlarmName::generated("onwatch", &severity, "ec2", "i-1", "cpu").unwrap().as_str(), "onwatch-critical-ec2-i-1-cpu");
        assert!(AlarmName::generated("onwatch", &severity, "ec2", "i-1\u{1b}[31m", "cpu").is_err());
        assert!(AlarmName::parse("").is_err());
        assert_eq!(AlarmName::joined(&["onwatch", "security", "cis", "x"]).unwrap().as_str(), "onwatch-security-cis-x");
    }
}
