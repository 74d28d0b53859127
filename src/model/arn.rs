//! ARNs, parsed and built. Every ARN onwatch writes is built here, with the partition of the
//! account it belongs to: `aws`, `aws-cn` (China), `aws-us-gov` (GovCloud) and the isolated ones.

/// The parts of an ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    pub fn parse(arn: &'a str) -> Option<Self> {
        let mut parts = arn.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        Some(Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        })
    }
}

impl std::fmt::Display for Arn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "arn:{}:{}:{}:{}:{}", self.partition, self.service, self.region, self.account, self.resource)
    }
}

/// The partition a region belongs to (`cn-north-1` → `aws-cn`, `us-gov-west-1` → `aws-us-gov`).
/// An empty region (a global resource) is in the commercial partition.
pub fn partition_of_region(region: &str) -> &'static str {
    const PREFIXES: &[(&str, &str)] = &[
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("eu-isoe-", "aws-iso-e"),
        ("us-iso-", "aws-iso"),
    ];
    PREFIXES.iter().find(|(prefix, _)| region.starts_with(prefix)).map_or("aws", |(_, partition)| partition)
}

/// The ARN of a CloudWatch alarm.
pub fn alarm_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    Arn { partition, service: "cloudwatch", region, account, resource: &format!("alarm:{name}") }.to_string()
}

/// The ARN of a CloudWatch dashboard (dashboards are global: no region in the ARN).
pub fn dashboard_arn(partition: &str, account: &str, name: &str) -> String {
    Arn { partition, service: "cloudwatch", region: "", account, resource: &format!("dashboard/{name}") }.to_string()
}

/// The ARN of an account's root principal, as IAM policies name it.
pub fn account_root_arn(partition: &str, account: &str) -> String {
    format!("arn:{partition}:iam::{account}:root")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_keeps_colons_in_the_resource_part() {
        let arn = Arn::parse("arn:aws:rds:eu-west-1:123456789012:db:orders").unwrap();
        assert_eq!(arn.service, "rds");
        assert_eq!(arn.region, "eu-west-1");
        assert_eq!(arn.resource, "db:orders");
        assert_eq!(arn.to_string(), "arn:aws:rds:eu-west-1:123456789012:db:orders");
        assert!(Arn::parse("not-an-arn").is_none());
        assert!(Arn::parse("arn:aws:s3").is_none());
    }

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition_of_region("eu-west-1"), "aws");
        assert_eq!(partition_of_region(""), "aws");
        assert_eq!(partition_of_region("cn-northwest-1"), "aws-cn");
        assert_eq!(partition_of_region("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of_region("us-iso-east-1"), "aws-iso");
        assert_eq!(partition_of_region("us-isob-east-1"), "aws-iso-b");
        assert_eq!(alarm_arn("aws-us-gov", "us-gov-west-1", "1", "cpu"), "arn:aws-us-gov:cloudwatch:us-gov-west-1:1:alarm:cpu");
    }
}
