//! Resource types from ARNs, named as the resource type catalogue (`config/resource_types.json`)
//! names them.

use crate::{config::Catalog, model::Arn};

/// The type of the resource an ARN names: the catalogue's type whose `arn_resource` and `arn`
/// template fit it ([`Catalog::classify`]); for an ARN of no catalogued type, `service:` and the
/// first segment of the resource part, before `/` or `:` (`key/1234` → `kms:key`), which no
/// policy selects. `None` when the text is not an ARN.
pub fn resource_type(catalog: &Catalog, arn: &str) -> Option<String> {
    if let Some(known) = catalog.classify(arn) {
        return Some(known.name.clone());
    }
    let parsed = Arn::parse(arn)?;
    let kind = parsed.resource.trim_start_matches('/').split(['/', ':']).next().unwrap_or_default();
    Some(format!("{}:{kind}", parsed.service))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogued_arns_take_their_type_and_others_their_first_segment() {
        let catalog = crate::config::load_catalog(None).unwrap();
        let named = |arn: &str| resource_type(&catalog, arn);
        assert_eq!(named("arn:aws:sqs:us-east-1:1:orders.fifo").as_deref(), Some("sqs:queue"));
        assert_eq!(named("arn:aws-cn:ec2:cn-north-1:1:instance/i-0a1b2c3d4e5f60001").as_deref(), Some("ec2:instance"));
        assert_eq!(named("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/edge/50dc6c495c0c9189").as_deref(), Some("elasticloadbalancing:loadbalancer/net"));
        assert_eq!(named("arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod").as_deref(), Some("apigateway:stage"));
        // Not catalogued: a classic load balancer, a listener, a REST API, an alarm.
        assert_eq!(named("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/classic").as_deref(), Some("elasticloadbalancing:loadbalancer"));
        assert_eq!(named("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/1/2").as_deref(), Some("elasticloadbalancing:listener"));
        assert_eq!(named("arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5").as_deref(), Some("apigateway:restapis"));
        assert_eq!(named("arn:aws:cloudwatch:us-east-1:1:alarm:cpu-high").as_deref(), Some("cloudwatch:alarm"));
        // A CloudFront ARN with a region is not the catalogue's shape: the template has none.
        assert_eq!(named("arn:aws:cloudfront:us-east-1:1:distribution/E2ABCDEFGHIJKL").as_deref(), Some("cloudfront:distribution"));
        assert!(catalog.classify("arn:aws:cloudfront:us-east-1:1:distribution/E2ABCDEFGHIJKL").is_none());
        assert_eq!(named("not-an-arn"), None);
    }
}
