//! Resource types from ARNs, named as the resource type catalogue (`config/resource_types.json`)
//! names them.

use crate::model::Arn;

/// The `service:type` of the resource an ARN names: the type is the first segment of the
/// resource part, before `/` or `:` (`instance/i-1` → `ec2:instance`, `db:orders` → `rds:db`).
/// ARNs without a type segment, and types that need more than one segment to be told apart,
/// are normalised:
///
/// - SQS queues → `sqs:queue`, SNS topics → `sns:topic`, S3 buckets → `s3:bucket`;
/// - load balancers → `elasticloadbalancing:loadbalancer/app`, `/net` or `/gwy`
///   (a classic load balancer stays `elasticloadbalancing:loadbalancer`);
/// - API Gateway REST API stages (`/restapis/ID/stages/NAME`) → `apigateway:stage`; other API
///   Gateway paths take their first segment (`apigateway:restapis`, `apigateway:apis`).
///
/// `None` when the text is not an ARN.
pub fn resource_type(arn: &str) -> Option<String> {
    let parsed = Arn::parse(arn)?;
    let service = parsed.service;
    let resource = parsed.resource;
    let kind = match service {
        "sqs" => "queue".to_string(),
        "sns" => "topic".to_string(),
        "s3" if !resource.contains('/') && !resource.contains(':') => "bucket".to_string(),
        "elasticloadbalancing" => {
            let mut segments = resource.split('/');
            match (segments.next(), segments.next(), segments.next()) {
                (Some("loadbalancer"), Some(kind @ ("app" | "net" | "gwy")), Some(_)) => format!("loadbalancer/{kind}"),
                (Some(first), _, _) => first.to_string(),
                _ => String::new(),
            }
        }
        "apigateway" => {
            let segments: Vec<&str> = resource.trim_start_matches('/').split('/').collect();
            match segments.as_slice() {
                ["restapis", _, "stages", _] => "stage".to_string(),
                [first, ..] => first.to_string(),
                [] => String::new(),
            }
        }
        _ => resource.split(['/', ':']).next().unwrap_or_default().to_string(),
    };
    Some(format!("{service}:{kind}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, Sources};

    #[test]
    fn every_catalogued_type_is_derived_from_its_arn() {
        let settings = config::load(&Sources::default()).unwrap();
        // The examples are the catalogue's own (`example_arns`), so a new type brings its own.
        let mut examples: Vec<(&str, &str)> =
            settings.catalog.types().flat_map(|t| t.example_arns.iter().map(move |arn| (arn.as_str(), t.name.as_str()))).collect();
        examples.sort_unstable();
        let mut catalogued: Vec<&str> = settings.catalog.types().map(|t| t.name.as_str()).collect();
        catalogued.sort_unstable();
        let mut covered: Vec<&str> = examples.iter().map(|(_, t)| *t).collect();
        covered.sort_unstable();
        covered.dedup();
        assert_eq!(covered, catalogued, "every catalogued type needs an example ARN");

        for (arn, expected) in examples {
            assert_eq!(resource_type(arn).as_deref(), Some(expected), "{arn}");
            let resource = crate::model::Resource {
                arn: arn.to_string(),
                resource_type: expected.to_string(),
                region: "us-east-1".into(),
                account: "123456789012".into(),
                tags: Default::default(),
                attributes: [("LoadBalancer", "app/web/50dc6c495c0c9188"), ("ApiName", "shop"), ("InstanceId", "i-1")]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                discovered_by: Default::default(),
            };
            let catalogued = settings.catalog.get(expected).unwrap();
            for namespace in catalogued.namespaces.keys() {
                assert!(catalogued.dimensions(&resource, namespace).is_ok(), "{arn} does not fit the catalogue's pattern");
            }
        }
    }

    #[test]
    fn other_shapes() {
        assert_eq!(resource_type("arn:aws:s3:::my-bucket").as_deref(), Some("s3:bucket"));
        assert_eq!(resource_type("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/classic").as_deref(), Some("elasticloadbalancing:loadbalancer"));
        assert_eq!(resource_type("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/1/2").as_deref(), Some("elasticloadbalancing:listener"));
        assert_eq!(resource_type("arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5").as_deref(), Some("apigateway:restapis"));
        assert_eq!(resource_type("arn:aws:cloudwatch:us-east-1:1:alarm:cpu-high").as_deref(), Some("cloudwatch:alarm"));
        assert_eq!(resource_type("arn:aws-cn:ec2:cn-north-1:1:instance/i-1").as_deref(), Some("ec2:instance"));
        assert_eq!(resource_type("not-an-arn"), None);
    }
}
