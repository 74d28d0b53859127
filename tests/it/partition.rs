//! Partitions: an account in GovCloud (`aws-us-gov`) or China (`aws-cn`) gets alarm ARNs,
//! findings and Terraform in its own partition, never the commercial `aws` one.

use std::path::Path;

use onwatch::{
    check::evaluate,
    config::{self, Sources},
    generate::{self, GenerateOptions, Templates},
    model::Inventory,
};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `text` moved to `partition`, its regions renamed.
fn moved(text: &str, partition: &str, east: &str, west: &str) -> String {
    text.replace("arn:aws:", &format!("arn:{partition}:")).replace("us-east-1", east).replace("eu-west-1", west)
}

/// The example account moved to `partition`; alarm ARNs left out, so that onwatch has to build them.
fn example_in(partition: &str, east: &str, west: &str) -> Inventory {
    let text = moved(&std::fs::read_to_string(root().join("examples/inventory.json")).unwrap(), partition, east, west);
    let mut inventory = onwatch::snapshot::parse("example", text.as_bytes()).unwrap();
    for alarm in &mut inventory.alarms {
        alarm.arn = None;
    }
    inventory
}

/// The built-in configuration and policy pack moved the same way (policy exemptions and the
/// audit trail's break-glass role name ARNs).
fn settings_in(partition: &str, east: &str, west: &str) -> (config::Settings, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["config", "policies"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        for entry in std::fs::read_dir(root().join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let text = moved(&std::fs::read_to_string(&path).unwrap(), partition, east, west);
            std::fs::write(dir.path().join(sub).join(path.file_name().unwrap()), text).unwrap();
        }
    }
    let sources = Sources { config_dir: Some(dir.path().join("config")), policies_dir: Some(dir.path().join("policies")) };
    (config::load(&sources).unwrap(), dir)
}

fn assert_in_partition(partition: &str, east: &str, west: &str) {
    let (commercial_settings, _dir) = settings_in("aws", "us-east-1", "eu-west-1");
    let commercial = evaluate(&example_in("aws", "us-east-1", "eu-west-1"), &commercial_settings, crate::common::today());
    let (settings, _dir) = settings_in(partition, east, west);
    let inventory = example_in(partition, east, west);
    let evaluation = evaluate(&inventory, &settings, crate::common::today());
    // Same account, same gaps: the partition changes names, not verdicts.
    let codes = |e: &onwatch::check::Evaluation| e.findings.iter().map(|f| f.code).collect::<Vec<_>>();
    assert_eq!(codes(&evaluation), codes(&commercial));
    let arns: Vec<&str> = evaluation.findings.iter().map(|f| f.resource.as_str()).filter(|r| r.starts_with("arn:")).collect();
    assert!(!arns.is_empty());
    let wrong: Vec<&&str> = arns.iter().filter(|arn| !arn.starts_with(&format!("arn:{partition}:"))).collect();
    assert!(wrong.is_empty(), "findings outside {partition}: {wrong:?}");
    let alarm_prefix = format!("arn:{partition}:cloudwatch:{east}:");
    assert!(arns.iter().any(|arn| arn.starts_with(&alarm_prefix)), "no alarm finding with a built ARN {alarm_prefix}...");

    let files = generate::generate(&inventory, &settings, &evaluation, &Templates::load(None).unwrap(), &GenerateOptions { all: false }).unwrap();
    for file in &files {
        assert!(!file.contents.contains("arn:aws:"), "{} names the commercial partition", file.path);
    }
    let module: String = files.iter().map(|f| f.contents.as_str()).collect();
    let account = &inventory.resources[0].account;
    for expected in [format!("arn:{partition}:iam::{account}:root"), format!("arn:{partition}:states:::dynamodb:putItem"), format!("arn:{partition}:cloudwatch:{east}:{account}:alarm:")] {
        assert!(module.contains(&expected), "the module lacks {expected}");
    }
}

#[test]
fn a_govcloud_account_stays_in_aws_us_gov() {
    assert_in_partition("aws-us-gov", "us-gov-west-1", "us-gov-east-1");
}

#[test]
fn a_china_account_stays_in_aws_cn() {
    assert_in_partition("aws-cn", "cn-north-1", "cn-northwest-1");
}
