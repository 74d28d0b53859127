//! Organisation scale, items 3 and 4 of issue 12: `scan --shard I/N` and `onwatch merge` (shards of
//! a multi-account scan against the emulator merge to the single scan byte for byte; bad shards
//! and bad merges exit 2 and write nothing).

use std::{fs, path::Path};

use crate::harness::{onwatch, text, tool, Emulator, ACCOUNT};

const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];
const OTHER_ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];

/// In each account (picked by moto's `x-moto-account-id` header: the emulator refuses AssumeRole
/// into a role that does not exist yet, as AWS does): the role onwatch assumes, and in each region a
/// tagged queue with an alarm.
const SEED_ACCOUNTS: &str = r#"
import sys, boto3
endpoint, accounts, regions = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
keys = dict(endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")
def client(service, account, region):
    made = boto3.client(service, region_name=region, **keys)
    made.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
    return made
for account in accounts:
    client("iam", account, "us-east-1").create_role(RoleName="onwatch-read", AssumeRolePolicyDocument="{}")
    for region in regions:
        queue = f"jobs-{account[:3]}-{region}"
        client("sqs", account, region).create_queue(QueueName=queue, tags={"team": "payments"})
        client("cloudwatch", account, region).put_metric_alarm(
            AlarmName=f"{queue}-age", Namespace="AWS/SQS", MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": queue}], Statistic="Maximum", Period=60, EvaluationPeriods=1,
            Threshold=300.0, ComparisonOperator="GreaterThanThreshold")
"#;

fn seed_accounts(emulator: &Emulator, accounts: &[&str]) {
    let output = std::process::Command::new(tool("ONWATCH_PYTHON"))
        .args(["-c", SEED_ACCOUNTS, &emulator.endpoint, &accounts.join(","), &REGIONS.join(",")])
        .output()
        .unwrap();
    assert!(output.status.success(), "seeding the accounts failed:\n{}\nemulator:\n{}", text(&output.stderr), emulator.stderr());
}

fn scan_args<'a>(emulator: &'a Emulator, roles: &'a [String], output: &'a str) -> Vec<&'a str> {
    let mut args = vec!["scan", "--endpoint-url", &emulator.endpoint, "--output", output];
    for region in REGIONS {
        args.extend(["--region", region]);
    }
    for role in roles {
        args.extend(["--role-arn", role.as_str()]);
    }
    args
}

fn run_ok(args: &[&str], dir: &Path, emulator: &Emulator) -> String {
    let result = onwatch(args, dir);
    assert_eq!(result.status.code(), Some(0), "{args:?} failed:\n{}\nemulator:\n{}", text(&result.stderr), emulator.stderr());
    text(&result.stderr)
}

#[test]
#[ignore = "conformance: needs the moto emulator; scripts/test.sh runs it"]
fn shards_of_a_multi_account_scan_merge_to_the_single_scan_byte_for_byte() {
    let emulator = Emulator::private(); // cross-account: assumed roles must reach other accounts, which a per-account endpoint would pin
    emulator.seed(&[]);
    seed_accounts(&emulator, &[&[ACCOUNT][..], &OTHER_ACCOUNTS[..]].concat());
    let dir = tempfile::tempdir().unwrap();
    let roles: Vec<String> = [ACCOUNT].iter().chain(OTHER_ACCOUNTS.iter()).map(|a| format!("arn:aws:iam::{a}:role/onwatch-read")).collect();

    let stderr = run_ok(&scan_args(&emulator, &roles, "single.json"), dir.path(), &emulator);
    assert!(stderr.contains("scanned 4 accounts in 2 regions"), "{stderr}");
    let single = fs::read_to_string(dir.path().join("single.json")).unwrap();
    let inventory = onwatch::snapshot::parse("single.json", single.as_bytes()).unwrap();
    assert_eq!(inventory.scopes.len(), 8);
    for account in OTHER_ACCOUNTS {
        for region in REGIONS {
            let queue = format!("arn:aws:sqs:{region}:{account}:jobs-{}-{region}", &account[..3]);
            assert!(inventory.resources.iter().any(|r| r.arn == queue), "{queue} not scanned");
            assert!(inventory.alarms.iter().any(|a| a.account == account && a.region == region), "no alarm of {account}/{region}");
        }
    }

    let mut shard_scopes = 0;
    let mut merge = vec!["merge".to_string(), "--output".into(), "merged.json".into()];
    for index in 1..=3 {
        let (shard, output) = (format!("{index}/3"), format!("shard-{index}.json"));
        let mut args = scan_args(&emulator, &roles, &output);
        args.extend(["--shard", &shard]);
        run_ok(&args, dir.path(), &emulator);
        let part = onwatch::snapshot::read(&dir.path().join(&output)).unwrap();
        assert!(part.scopes.len() < 8, "shard {shard} scanned everything");
        shard_scopes += part.scopes.len();
        merge.push(output);
    }
    assert_eq!(shard_scopes, 8, "every pair in exactly one shard");
    // Given in reverse order: the order of the inputs does not matter.
    merge[3..].reverse();
    let merge: Vec<&str> = merge.iter().map(String::as_str).collect();
    run_ok(&merge, dir.path(), &emulator);
    let merged = fs::read_to_string(dir.path().join("merged.json")).unwrap();
    assert!(merged == single, "the merged shards differ from the single scan:\n{}", similar::TextDiff::from_lines(&single, &merged).unified_diff());
}

#[test]
fn bad_shards_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for shard in ["4/3", "0/0", "1/0", "x/2", "0/3", "1/2/3"] {
        let result = onwatch(&["scan", "--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:9", "--shard", shard, "--output", "out.json"], dir.path());
        assert_eq!(result.status.code(), Some(2), "--shard {shard}");
        let stderr = text(&result.stderr);
        assert!(stderr.contains("--shard") && stderr.contains("is not a shard") && stderr.contains("I/N"), "--shard {shard}: {stderr}");
        assert!(!dir.path().join("out.json").exists());
    }
}

fn snapshot(dir: &Path, name: &str, version: u32, scopes: &[(&str, &str, Option<&str>)], queues: &[(&str, &str)]) {
    let scopes: Vec<_> = scopes.iter().map(|(a, r, f)| serde_json::json!({ "account": a, "region": r, "failed": f })).collect();
    let resources: Vec<_> = queues
        .iter()
        .map(|(a, r)| serde_json::json!({ "arn": format!("arn:aws:sqs:{r}:{a}:jobs"), "type": "sqs:queue", "account": a, "region": r }))
        .collect();
    let mut value = serde_json::json!({ "version": version, "scopes": scopes, "resources": resources });
    for scope in value["scopes"].as_array_mut().unwrap() {
        if scope["failed"].is_null() {
            scope.as_object_mut().unwrap().remove("failed");
        }
    }
    fs::write(dir.join(name), serde_json::to_string_pretty(&value).unwrap()).unwrap();
}

fn merge_fails(dir: &Path, inputs: &[&str], expected: &[&str]) {
    let mut args = vec!["merge", "--output", "merged.json"];
    args.extend_from_slice(inputs);
    let result = onwatch(&args, dir);
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    for part in expected {
        assert!(stderr.contains(part), "{part:?} not in: {stderr}");
    }
    assert!(!dir.join("merged.json").exists(), "an output was written");
}

#[test]
fn merge_refuses_disagreeing_scopes_and_versions_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = ("111111111111", "222222222222");
    snapshot(dir.path(), "one.json", 1, &[(a, "eu-west-1", None)], &[(a, "eu-west-1")]);
    snapshot(dir.path(), "two.json", 1, &[(a, "eu-west-1", None), (b, "eu-west-1", None)], &[(b, "eu-west-1")]);
    snapshot(dir.path(), "failed.json", 1, &[(a, "eu-west-1", Some("sts:AssumeRole: AccessDenied"))], &[]);
    snapshot(dir.path(), "v2.json", 2, &[(b, "us-east-1", None)], &[]);
    merge_fails(dir.path(), &["one.json", "two.json"], &["one.json and two.json", "scope 111111111111/eu-west-1", "resources differ"]);
    merge_fails(dir.path(), &["one.json", "failed.json"], &["one.json and failed.json", "scope 111111111111/eu-west-1", "scope record"]);
    merge_fails(dir.path(), &["one.json", "v2.json"], &["one.json and v2.json", "versions differ (1 and 2)"]);
    merge_fails(dir.path(), &["one.json", "missing.json"], &["missing.json", "cannot read"]);

    // Agreeing overlaps and disjoint scopes merge, in scope order.
    snapshot(dir.path(), "three.json", 1, &[(b, "us-east-1", None), (a, "eu-west-1", None)], &[(a, "eu-west-1")]);
    let result = onwatch(&["merge", "--output", "merged.json", "three.json", "one.json"], dir.path());
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    let merged = onwatch::snapshot::read(&dir.path().join("merged.json")).unwrap();
    let scopes: Vec<(&str, &str)> = merged.scopes.iter().map(|s| (s.account.as_str(), s.region.as_str())).collect();
    assert_eq!(scopes, [(a, "eu-west-1"), (b, "us-east-1")]);
    assert_eq!(merged.resources.len(), 1);
}

#[test]
fn merge_refuses_unsupported_versions_and_bad_account_ids_and_leaves_the_output_alone() {
    let dir = tempfile::tempdir().unwrap();
    let a = "111111111111";
    snapshot(dir.path(), "one.json", 1, &[(a, "eu-west-1", None)], &[(a, "eu-west-1")]);
    snapshot(dir.path(), "v2.json", 2, &[(a, "us-east-1", None)], &[]);
    snapshot(dir.path(), "v2-too.json", 2, &[(a, "eu-west-1", None)], &[]);
    snapshot(dir.path(), "v0.json", 0, &[(a, "us-east-1", None)], &[]);
    snapshot(dir.path(), "short.json", 1, &[("123", "us-east-1", None)], &[]);
    let before = "an earlier merge, kept\n";
    fs::write(dir.path().join("merged.json"), before).unwrap();
    let refused = |inputs: &[&str], expected: &[&str]| {
        let mut args = vec!["merge", "--output", "merged.json"];
        args.extend_from_slice(inputs);
        let result = onwatch(&args, dir.path());
        let stderr = text(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{inputs:?}: {stderr}");
        for part in expected {
            assert!(stderr.contains(part), "{part:?} not in: {stderr}");
        }
        assert_eq!(fs::read_to_string(dir.path().join("merged.json")).unwrap(), before, "{inputs:?} replaced the output");
    };
    refused(&["v2.json", "v2-too.json"], &["v2.json", "$.version", "snapshot version 2 is not supported (this onwatch reads version 1)"]);
    refused(&["v0.json", "one.json"], &["v0.json and one.json", "snapshot versions differ (0 and 1)", "nothing was written"]);
    refused(&["one.json", "short.json"], &["short.json", "$.scopes[0].account", "12 digits"]);
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The example account copied into `count` accounts, merged into one inventory.
fn accounts_inventory(count: usize) -> (Vec<String>, onwatch::model::Inventory) {
    let example = fs::read_to_string(root().join("examples/inventory.json")).unwrap();
    let accounts: Vec<String> = (0..count).map(|i| format!("{:012}", 400_000_000_000u64 + i as u64 * 1_013)).collect();
    let inputs = accounts
        .iter()
        .map(|account| (account.clone(), onwatch::snapshot::parse(account, example.replace("123456789012", account).as_bytes()).unwrap()))
        .collect();
    (accounts, onwatch::snapshot::merge::merge(inputs).unwrap())
}

fn generate_args<'a>(inventory: &'a str, out: &'a str, config: &'a str, policies: &'a str) -> Vec<&'a str> {
    vec!["generate", "--inventory", inventory, "--per-account", out, "--config", config, "--policies", policies, "--as-of", "2026-11-25"]
}

#[test]
#[ignore = "conformance: needs hclfmt; scripts/test.sh runs it"]
fn per_account_generation_writes_one_canonical_module_per_account_equal_to_that_account_alone() {
    let (accounts, inventory) = accounts_inventory(30);
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("org.json"), onwatch::snapshot::to_json(&inventory)).unwrap();
    let (config, policies) = (root().join("config").display().to_string(), root().join("policies").display().to_string());
    let args = generate_args("org.json", "modules", &config, &policies);
    let result = onwatch(&args, dir.path());
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    assert!(text(&result.stderr).contains("30 account modules, 30 changed"), "{}", text(&result.stderr));

    let modules: Vec<String> = fs::read_dir(dir.path().join("modules")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(modules.len(), 30);
    let settings = onwatch::config::load(&onwatch::config::Sources { config_dir: Some(root().join("config")), policies_dir: Some(root().join("policies")) }).unwrap();
    let templates = onwatch::generate::Templates::load(None).unwrap();
    let hclfmt = tool("ONWATCH_HCLFMT");
    for account in &accounts {
        let alone = onwatch::model::of_account(&inventory, account);
        assert!(alone.resources.len() >= 30, "{account}: {} resources", alone.resources.len());
        let evaluation = onwatch::check::evaluate(&alone, &settings, time::macros::date!(2026 - 11 - 25));
        let files = onwatch::generate::generate(&alone, &settings, &evaluation, &templates, &onwatch::generate::GenerateOptions { all: false }).unwrap();
        let module = dir.path().join("modules").join(account);
        for file in &files {
            let written = fs::read_to_string(module.join(&file.path)).unwrap_or_else(|_| panic!("{account}: no {}", file.path));
            assert!(written == file.contents, "{account}/{} differs from generating the account alone", file.path);
            if file.path.ends_with(".tf") {
                let output = std::process::Command::new(&hclfmt).args(["-check", "-require-no-change"]).arg(module.join(&file.path)).output().unwrap();
                assert!(output.status.success(), "{account}/{} is not canonical: {}", file.path, text(&output.stderr));
            }
        }
        let on_disk = walk(&module);
        assert_eq!(on_disk.len(), files.len(), "{account}: files beyond what one generation writes: {on_disk:?}");
    }

    // --check: clean, then exit 1 naming the stale module.
    let mut check = args.clone();
    check.push("--check");
    assert_eq!(onwatch(&check, dir.path()).status.code(), Some(0));
    let stale = dir.path().join("modules").join(&accounts[7]).join("alarms.tf");
    let edited = fs::read_to_string(&stale).unwrap().replacen("threshold", "threshold ", 1);
    fs::write(&stale, edited).unwrap();
    let result = onwatch(&check, dir.path());
    assert_eq!(result.status.code(), Some(1), "{}", text(&result.stderr));
    let stderr = text(&result.stderr);
    assert!(stderr.contains("1 of 30 modules are stale") && stderr.contains(&format!("modules/{}", accounts[7])), "{stderr}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else if !path.file_name().unwrap().to_string_lossy().starts_with('.') {
            found.push(path);
        }
    }
    found
}

#[test]
fn per_account_deletion_guard_refuses_before_any_module_is_written() {
    let (accounts, inventory) = accounts_inventory(3);
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("org.json"), onwatch::snapshot::to_json(&inventory)).unwrap();
    let (config, policies) = (root().join("config").display().to_string(), root().join("policies").display().to_string());
    let result = onwatch(&generate_args("org.json", "modules", &config, &policies), dir.path());
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    let before: Vec<(std::path::PathBuf, String)> = walk(&dir.path().join("modules")).into_iter().map(|p| (p.clone(), fs::read_to_string(p).unwrap())).collect();

    // The first account's resources vanish (a broken scan): its module would lose every alarm,
    // and the other two, which changed, are not written either.
    let mut broken = inventory.clone();
    broken.resources.retain(|r| r.account != accounts[0]);
    broken.alarms.retain(|a| a.account != accounts[1]);
    fs::write(dir.path().join("broken.json"), onwatch::snapshot::to_json(&broken)).unwrap();
    let result = onwatch(&generate_args("broken.json", "modules", &config, &policies), dir.path());
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("refusing to write") && stderr.contains(&accounts[0]), "{stderr}");
    // Its module is still for its own account, not a placeholder one.
    let mut alone = onwatch::model::of_account(&broken, &accounts[0]);
    alone.alarms.clear();
    let settings = onwatch::config::load(&onwatch::config::Sources { config_dir: Some(root().join("config")), policies_dir: Some(root().join("policies")) }).unwrap();
    let evaluation = onwatch::check::evaluate(&alone, &settings, time::macros::date!(2026 - 11 - 25));
    let files = onwatch::generate::generate(&alone, &settings, &evaluation, &onwatch::generate::Templates::load(None).unwrap(), &Default::default()).unwrap();
    assert!(files.iter().any(|f| f.contents.contains(&format!("arn:aws:iam::{}:root", accounts[0]))), "the module names another account");
    assert!(!files.iter().any(|f| f.contents.contains("000000000000")));
    for (path, contents) in before {
        assert_eq!(fs::read_to_string(&path).unwrap(), contents, "{} changed", path.display());
    }
}
