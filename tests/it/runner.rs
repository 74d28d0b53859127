//! The organisation runner module, `infrastructure/runner/` (issue 12, item 5): its Terraform
//! passes the checks the generated modules pass (hcl-rs parses it, hclfmt's canonical layout,
//! Checkov with a documented reason per skip), its state machine definition is valid Amazon
//! States Language (asl-validator, from npm) and reads every deployment-specific value from the
//! execution input the schedule passes, its JSONata expressions compute the accounts, the manifest
//! and a scan command that parses (evaluated by jsonata-python, as the emulator does), its roles grant no wildcard action, and the StackSet's
//! member role carries exactly the policy `onwatch iam-policy` prints.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use hcl::{Block, Body, Expression};
use serde_json::Value;

fn module() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("infrastructure/runner")
}

fn tf_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(module()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "tf")).collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    files
}

fn bodies() -> Vec<(PathBuf, Body)> {
    tf_files()
        .into_iter()
        .map(|path| {
            let body = hcl::parse(&fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, body)
        })
        .collect()
}

fn blocks<'a>(bodies: &'a [(PathBuf, Body)], kind: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    bodies.iter().flat_map(move |(_, body)| body.blocks().filter(move |b| b.identifier() == kind))
}

fn labelled<'a>(bodies: &'a [(PathBuf, Body)], kind: &'a str, labels: &[&str]) -> &'a Block {
    blocks(bodies, kind)
        .find(|b| b.labels().iter().map(|l| l.as_str()).eq(labels.iter().copied()))
        .unwrap_or_else(|| panic!("no {kind} {labels:?}"))
}

fn attribute<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

fn state_machine() -> Value {
    serde_json::from_str(&fs::read_to_string(module().join("state_machine.asl.json")).unwrap()).expect("the definition is JSON")
}

#[test]
fn the_runner_module_parses_and_documents_every_variable_and_output() {
    let bodies = bodies();
    let readme = fs::read_to_string(module().join("README.md")).unwrap();
    let variables: Vec<&Block> = blocks(&bodies, "variable").collect();
    assert!(variables.len() >= 15, "{} variables", variables.len());
    for variable in &variables {
        let name = variable.labels()[0].as_str();
        assert!(matches!(attribute(variable.body(), "description"), Some(Expression::String(d)) if d.len() > 10), "variable {name} has no description");
        assert!(attribute(variable.body(), "type").is_some(), "variable {name} has no type");
        assert!(readme.contains(&format!("`{name}`")), "README.md does not list the variable {name}");
    }
    // Every variable whose values AWS restricts is validated (booleans, tags and the time zone are free).
    let unvalidated: Vec<&str> = variables.iter().filter(|v| !v.body().blocks().any(|b| b.identifier() == "validation")).map(|v| v.labels()[0].as_str()).collect();
    assert_eq!(unvalidated, ["schedule_timezone", "open_pull_request", "tags"]);
    let outputs: Vec<&Block> = blocks(&bodies, "output").collect();
    assert!(outputs.len() >= 4);
    for output in outputs {
        let name = output.labels()[0].as_str();
        assert!(attribute(output.body(), "description").is_some(), "output {name} has no description");
        assert!(readme.contains(&format!("`{name}`")), "README.md does not list the output {name}");
    }
    // The definition is the static file, loaded as it is.
    let machine = labelled(&bodies, "resource", &["aws_sfn_state_machine", "runner"]);
    assert_eq!(attribute(machine.body(), "definition").unwrap().to_string(), "file(\"${path.module}/state_machine.asl.json\")");
}

#[test]
#[ignore = "conformance: needs hclfmt; scripts/test.sh runs it"]
fn the_runner_module_is_in_canonical_terraform_fmt_layout() {
    let hclfmt = std::env::var("ONWATCH_HCLFMT").expect("ONWATCH_HCLFMT is not set: run the suite with scripts/test.sh, which builds HashiCorp's hclfmt");
    for path in tf_files() {
        let output = Command::new(&hclfmt).args(["-check", "-require-no-change"]).arg(&path).output().unwrap();
        assert!(output.status.success(), "{} is not in canonical layout:\n{}", path.display(), String::from_utf8_lossy(&output.stderr));
    }
    // And the check is worth something: a misaligned copy is rejected.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("main.tf");
    fs::write(&bad, fs::read_to_string(module().join("outputs.tf")).unwrap().replacen("  value       =", "  value =", 1)).unwrap();
    assert!(!Command::new(&hclfmt).args(["-check", "-require-no-change"]).arg(&bad).output().unwrap().status.success());
}

/// Checkov's rules that do not fit the runner, each skipped in the module with its reason next to it.
const SKIPPED: &[(&str, &str)] = &[
    ("CKV2_AWS_5", "aws_security_group.tasks"),
    ("CKV2_AWS_62", "aws_s3_bucket.runner"),
    ("CKV_AWS_109", "aws_iam_policy_document.key"),
    ("CKV_AWS_111", "aws_iam_policy_document.execution"),
    ("CKV_AWS_111", "aws_iam_policy_document.key"),
    ("CKV_AWS_111", "aws_iam_policy_document.state_machine"),
    ("CKV_AWS_144", "aws_s3_bucket.runner"),
    ("CKV_AWS_18", "aws_s3_bucket.runner"),
    ("CKV_AWS_356", "aws_iam_policy_document.execution"),
    ("CKV_AWS_356", "aws_iam_policy_document.key"),
    ("CKV_AWS_356", "aws_iam_policy_document.state_machine"),
];

/// Checks that must have run and passed on the runner, by resource type.
const REQUIRED: &[(&str, &str)] = &[
    ("CKV_AWS_145", "aws_s3_bucket"),             // encrypted with KMS
    ("CKV2_AWS_6", "aws_s3_bucket"),              // public access blocked
    ("CKV_AWS_7", "aws_kms_key"),                 // key rotation
    ("CKV_AWS_158", "aws_cloudwatch_log_group"),  // logs encrypted with KMS
    ("CKV_AWS_338", "aws_cloudwatch_log_group"),  // retention of at least a year
    ("CKV_AWS_65", "aws_ecs_cluster"),            // Container Insights
    ("CKV_AWS_336", "aws_ecs_task_definition"),   // read-only root file system
    ("CKV_AWS_249", "aws_ecs_task_definition"),   // task role is not the execution role
    ("CKV_AWS_284", "aws_sfn_state_machine"),     // X-Ray tracing
    ("CKV_AWS_285", "aws_sfn_state_machine"),     // execution history logging
    ("CKV_AWS_297", "aws_scheduler_schedule"),    // schedule encrypted with a customer-managed key
    ("CKV_AWS_382", "aws_security_group"),        // no unrestricted egress
];

#[test]
#[ignore = "conformance: needs Checkov; scripts/test.sh runs it"]
fn the_runner_module_passes_checkov() {
    let report = crate::iac_scan::scan(&module());
    assert_eq!(crate::iac_scan::checks(&report, "failed_checks"), vec![], "{:#}", report["results"]["failed_checks"]);
    let skipped: BTreeSet<(String, String)> = crate::iac_scan::checks(&report, "skipped_checks").into_iter().collect();
    let expected: BTreeSet<(String, String)> = SKIPPED.iter().map(|(c, r)| (c.to_string(), r.to_string())).collect();
    assert_eq!(skipped, expected, "every skip is a documented one");
    for skip in report["results"]["skipped_checks"].as_array().unwrap() {
        let reason = skip["check_result"]["suppress_comment"].as_str().unwrap_or_default();
        assert!(reason.trim().len() > 20, "a skip needs its reason: {skip:#}");
    }
    let passed = crate::iac_scan::checks(&report, "passed_checks");
    for (check, resource_type) in REQUIRED {
        assert!(passed.iter().any(|(c, r)| c == check && r.starts_with(&format!("{resource_type}."))), "{check} did not pass on any {resource_type}");
    }
}

fn asl_validator() -> String {
    std::env::var("ONWATCH_ASL_VALIDATOR").expect("ONWATCH_ASL_VALIDATOR is not set: run the suite with scripts/test.sh, which installs asl-validator")
}

fn validate(path: &Path) -> (bool, String) {
    let output = Command::new(asl_validator()).arg("--json-path").arg(path).output().expect("asl-validator runs");
    (output.status.success(), format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
}

#[test]
#[ignore = "conformance: needs asl-validator; scripts/test.sh runs it"]
fn the_state_machine_definition_is_valid_amazon_states_language() {
    let (valid, output) = validate(&module().join("state_machine.asl.json"));
    assert!(valid, "asl-validator:\n{output}");
    assert!(output.contains("is valid"), "{output}");
}

#[test]
#[ignore = "conformance: needs asl-validator; scripts/test.sh runs it"]
fn asl_validator_rejects_a_broken_definition() {
    // The test above is only worth something if the validator refuses what Step Functions would.
    let dir = tempfile::tempdir().unwrap();
    let mut broken = state_machine();
    broken["States"]["MoreAccounts"]["Default"] = Value::from("NoSuchState");
    let path = dir.path().join("next.asl.json");
    fs::write(&path, serde_json::to_string(&broken).unwrap()).unwrap();
    assert!(!validate(&path).0, "a transition to a missing state passed");
    let mut broken = state_machine();
    broken["States"]["ScanAccounts"]["ItemProcessor"]["ProcessorConfig"]["Mode"] = Value::from("SIDEWAYS");
    let path = dir.path().join("mode.asl.json");
    fs::write(&path, serde_json::to_string(&broken).unwrap()).unwrap();
    assert!(!validate(&path).0, "an unknown Map mode passed");
}

/// Every `$config.KEY` and `$states.input.config.KEY` the definition reads.
fn config_keys(definition: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for marker in ["$config.", "$states.input.config.", ").exclude_accounts"] {
        for (at, _) in definition.match_indices(marker) {
            let rest = &definition[at + marker.len()..];
            let key: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            keys.insert(if marker.starts_with(')') { "exclude_accounts".to_string() } else { key });
        }
    }
    keys
}

#[test]
fn the_definition_reads_every_deployment_value_from_the_execution_input() {
    let text = fs::read_to_string(module().join("state_machine.asl.json")).unwrap();
    let definition = state_machine();
    // No deployment-specific value in the file: no account id, no ARN but the service integrations'.
    let digits = regex::Regex::new(r"\b[0-9]{12}\b").unwrap();
    assert!(!digits.is_match(&text), "an account id in the definition");
    // (The scan task's role ARN is built from the input: `'arn:' & $states.input.config.partition & ...`.)
    for arn in regex::Regex::new(r#"arn:[a-z0-9-]+:[^"]*"#).unwrap().find_iter(&text) {
        assert!(arn.as_str().starts_with("arn:aws:states:::"), "a deployment ARN in the definition: {}", arn.as_str());
    }
    // What it reads is exactly what the schedule passes.
    let bodies = bodies();
    let locals = blocks(&bodies, "locals").find(|b| attribute(b.body(), "execution_input").is_some()).expect("locals.execution_input");
    let Some(Expression::Object(input)) = attribute(locals.body(), "execution_input") else { panic!("execution_input is not an object") };
    let passed: BTreeSet<String> = input.keys().map(|k| k.to_string()).collect();
    assert_eq!(config_keys(&text), passed, "keys read by the definition vs keys the schedule passes");
    let schedule = labelled(&bodies, "resource", &["aws_scheduler_schedule", "runner"]);
    let target = schedule.body().blocks().find(|b| b.identifier() == "target").unwrap();
    assert_eq!(attribute(target.body(), "input").unwrap().to_string(), "jsonencode(local.execution_input)");
    // The fan-out: a Distributed Map reading the S3 manifest the first steps write, bounded by the
    // input's concurrency and failure tolerance, each item an ECS Fargate task waited for.
    let map = &definition["States"]["ScanAccounts"];
    assert_eq!(map["ItemProcessor"]["ProcessorConfig"]["Mode"], "DISTRIBUTED");
    assert_eq!(map["ItemReader"]["Resource"], "arn:aws:states:::s3:getObject");
    assert_eq!(map["ItemReader"]["Arguments"]["Key"], definition["States"]["WriteManifest"]["Arguments"]["Key"], "the map reads the manifest that was written");
    assert_eq!(map["MaxConcurrency"], "{% $config.max_concurrency %}");
    assert_eq!(map["ToleratedFailurePercentage"], "{% $config.tolerated_failure_percentage %}");
    let scan = &map["ItemProcessor"]["States"]["ScanAccount"];
    assert_eq!(scan["Resource"], "arn:aws:states:::ecs:runTask.sync");
    assert_eq!(scan["Arguments"]["LaunchType"], "FARGATE");
    let command = scan["Arguments"]["Overrides"]["ContainerOverrides"][0]["Command"].as_str().unwrap();
    for word in ["'scan'", "'--role-arn'", "'--region'", "'--output'"] {
        assert!(command.contains(word), "the scan task's command lacks {word}: {command}");
    }
    assert_eq!(definition["States"]["MergeAndCheck"]["Resource"], "arn:aws:states:::ecs:runTask.sync");
    // The pull request is opt-in: off unless the input says so.
    let Some(Expression::Variable(_) | Expression::Traversal(_)) = input.iter().find(|(k, _)| k.to_string() == "open_pull_request").map(|(_, v)| v) else {
        panic!("open_pull_request comes from the variable")
    };
    let open = labelled(&bodies, "variable", &["open_pull_request"]);
    assert_eq!(attribute(open.body(), "default").unwrap().to_string(), "false");
}

#[test]
fn the_member_role_has_exactly_the_scanners_policy_and_trusts_the_runner_only() {
    let template: Value = serde_json::from_str(&fs::read_to_string(module().join("member_role.cfn.json")).unwrap()).unwrap();
    let role = &template["Resources"]["OnwatchReadRole"];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    let policies = role["Properties"]["Policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0]["PolicyDocument"], onwatch::scan::calls::iam_policy(), "the member role's policy is not what `onwatch iam-policy` prints");
    let trust = &role["Properties"]["AssumeRolePolicyDocument"]["Statement"];
    assert_eq!(trust.as_array().unwrap().len(), 1);
    assert_eq!(trust[0]["Principal"], serde_json::json!({ "AWS": { "Ref": "RunnerRoleArn" } }));
    assert_eq!(trust[0]["Action"], "sts:AssumeRole");
    assert!(role["Properties"]["ManagedPolicyArns"].is_null());

    let bodies = bodies();
    let stack_set = labelled(&bodies, "resource", &["aws_cloudformation_stack_set", "read_role"]);
    let body = stack_set.body();
    assert_eq!(attribute(body, "permission_model").unwrap().to_string(), "\"SERVICE_MANAGED\"");
    assert_eq!(attribute(body, "template_body").unwrap().to_string(), "file(\"${path.module}/member_role.cfn.json\")");
    let auto = body.blocks().find(|b| b.identifier() == "auto_deployment").expect("auto_deployment");
    assert_eq!(attribute(auto.body(), "enabled").unwrap().to_string(), "true");
    let Some(Expression::Object(parameters)) = attribute(body, "parameters") else { panic!("parameters") };
    let runner = parameters.iter().find(|(k, _)| k.to_string() == "RunnerRoleArn").map(|(_, v)| v.to_string());
    assert_eq!(runner.as_deref(), Some("aws_iam_role.scan_task.arn"));
    // The scan tasks assume that role by name, and the name is the one the StackSet creates.
    let scan_task = hcl::to_string(labelled(&bodies, "data", &["aws_iam_policy_document", "scan_task"]).body()).unwrap();
    assert!(scan_task.contains("role/${var.role_name}"), "{scan_task}");
    assert!(parameters.iter().any(|(k, v)| k.to_string() == "RoleName" && v.to_string() == "var.role_name"));
}

/// Every `actions` list in the module's policy documents, as written.
fn actions(body: &Body, out: &mut Vec<String>) {
    for attr in body.attributes() {
        if attr.key() == "actions" {
            match attr.expr() {
                Expression::Array(items) => out.extend(items.iter().map(|i| i.to_string())),
                other => out.push(other.to_string()),
            }
        }
    }
    for block in body.blocks() {
        actions(block.body(), out);
    }
}

#[test]
fn the_runner_roles_grant_no_wildcard_action() {
    let bodies = bodies();
    let mut all = Vec::new();
    for (_, body) in &bodies {
        actions(body, &mut all);
    }
    assert!(all.len() >= 40, "{all:?}");
    let wild: Vec<&String> = all.iter().filter(|a| a.contains('*')).collect();
    assert!(wild.is_empty(), "wildcard actions: {wild:?}");
    // `local.key_use` is the one list by reference; it is explicit too.
    let locals = bodies.iter().flat_map(|(_, b)| b.blocks()).filter(|b| b.identifier() == "locals").find_map(|b| attribute(b.body(), "key_use")).unwrap();
    assert!(!locals.to_string().contains('*'));
}

#[test]
fn the_runner_runs_the_repository_image_as_its_non_root_user() {
    let dockerfile = fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Dockerfile")).unwrap();
    let user = dockerfile.lines().filter_map(|l| l.strip_prefix("USER ")).next_back().expect("the image drops root").trim();
    assert_ne!(user, "0");
    assert_ne!(user, "root");
    assert!(dockerfile.contains("ENTRYPOINT [\"onwatch\"]"));
    let tasks = fs::read_to_string(module().join("tasks.tf")).unwrap();
    // The merge task runs onwatch from a shell, so the runtime stage needs one; the binary it copies
    // is the static musl build scripts/build-static.sh makes outside Docker.
    let runtime = dockerfile.lines().filter_map(|l| l.strip_prefix("FROM ")).next_back().unwrap();
    if tasks.contains("\"/bin/sh\", \"-c\"") {
        assert!(!["scratch", "distroless"].iter().any(|no_shell| runtime.contains(no_shell)), "the merge task needs a shell in {runtime}");
    }
    let target = "x86_64-unknown-linux-musl";
    assert!(dockerfile.contains(&format!("--target {target}")) && dockerfile.contains(&format!("COPY --from=build /src/target/{target}/release/onwatch")));
    let script = fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/build-static.sh")).unwrap();
    assert!(script.contains(&format!("target={target}")));
    assert!(tasks.contains(&format!("user                   = \"{user}\"")), "the task definitions run as another user than the image's {user}");
    assert!(tasks.contains("readonlyRootFilesystem = true"));
    // The onwatch containers run the image built from that Dockerfile, pinned by digest.
    assert_eq!(tasks.matches("image       = var.onwatch_image").count(), 2, "the scan and the merge task run the onwatch image");
    let bodies = bodies();
    let image = labelled(&bodies, "variable", &["onwatch_image"]);
    let validation = hcl::to_string(image.body().blocks().find(|b| b.identifier() == "validation").unwrap().body()).unwrap();
    assert!(validation.contains("@sha256:"), "{validation}");
}

/// Evaluates JSONata expressions with `tests/emulator/jsonata_eval.py` (jsonata-python, installed
/// with the emulator by scripts/test.sh), each with its variables.
fn jsonata(cases: &[(&Value, Value)]) -> Vec<Value> {
    use std::io::Write;
    let python = std::env::var("ONWATCH_PYTHON").expect("ONWATCH_PYTHON is not set: run the suite with scripts/test.sh, which installs the emulator's Python");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/emulator/jsonata_eval.py");
    let input: Vec<Value> = cases.iter().map(|(expression, bindings)| serde_json::json!({ "expression": expression, "bindings": bindings })).collect();
    let mut child = Command::new(python).arg(script).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(serde_json::to_string(&input).unwrap().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
#[ignore = "conformance: needs the emulator's Python with jsonata-python; scripts/test.sh runs it"]
fn the_definitions_expressions_list_the_active_accounts_and_build_each_scan() {
    use serde_json::json;
    let definition = state_machine();
    let config = json!({ "exclude_accounts": ["222222222222"], "regions": ["us-east-1", "eu-west-1"], "bucket": "runs-bucket", "partition": "aws-us-gov", "role_name": "onwatch-read" });
    let page = json!({ "Accounts": [
        { "Id": "111111111111", "Status": "ACTIVE" }, { "Id": "222222222222", "Status": "ACTIVE" },
        { "Id": "333333333333", "Status": "SUSPENDED" }, { "Id": "444444444444", "Status": "ACTIVE" } ], "NextToken": "page-2" });
    let states = json!({ "input": config, "result": page, "context": { "Execution": { "Name": "run-1" } } });
    let list = &definition["States"]["ListAccounts"];
    let scan = &definition["States"]["ScanAccounts"]["ItemProcessor"]["States"]["ScanAccount"];
    let overrides = &scan["Arguments"]["Overrides"]["ContainerOverrides"];
    let item = json!({ "input": { "account": "444444444444", "regions": config["regions"], "config": config, "run": "run-1" } });
    let succeeded = &definition["States"]["ScanAccounts"]["ItemProcessor"]["States"]["ScanSucceeded"]["Choices"][0]["Condition"];
    let results = jsonata(&[
        (&list["Assign"]["accounts"], json!({ "states": states })),
        (&list["Assign"]["accounts"], json!({ "states": states, "accounts": ["999999999999"], "config": config })),
        (&list["Assign"]["nextToken"], json!({ "states": states })),
        (&list["Assign"]["nextToken"], json!({ "states": { "result": { "Accounts": [] } } })),
        (&list["Arguments"], json!({ "states": states, "nextToken": "page-2" })),
        (&definition["States"]["WriteManifest"]["Arguments"]["Body"], json!({ "states": states, "accounts": ["444444444444"], "config": config })),
        (&overrides[0]["Command"], json!({ "states": item })),
        (&overrides[1]["Command"], json!({ "states": item })),
        (&scan["Output"], json!({ "states": { "result": { "Containers": [{ "Name": "onwatch", "ExitCode": 0 }, { "Name": "upload" }] } } })),
        (succeeded, json!({ "states": { "input": [0, 0] } })),
        (succeeded, json!({ "states": { "input": [0, -1] } })),
    ]);
    // Active accounts only, the excluded one left out, pages accumulated.
    assert_eq!(results[0], json!(["111111111111", "444444444444"]));
    assert_eq!(results[1], json!(["999999999999", "111111111111", "444444444444"]));
    assert_eq!((&results[2], &results[3], &results[4]), (&json!("page-2"), &json!(""), &json!({ "NextToken": "page-2" })));
    // The manifest is a JSON array of items, even of one account.
    let manifest: Value = serde_json::from_str(results[5].as_str().expect("the body is a string")).unwrap();
    assert_eq!(manifest, json!([{ "account": "444444444444" }]));
    // The scan command parses with the real command line and names the account's role and every region.
    let command: Vec<String> = serde_json::from_value(results[6].clone()).unwrap();
    assert_eq!(command, ["scan", "--quiet", "--role-arn", "arn:aws-us-gov:iam::444444444444:role/onwatch-read", "--output", "/data/scan.json", "--region", "us-east-1", "--region", "eu-west-1"]);
    onwatch::cli::Cli::try_parse_from(std::iter::once("onwatch".to_string()).chain(command)).expect("the scan command parses");
    assert_eq!(results[7], json!(["test -s /data/scan.json && aws s3 cp --only-show-errors /data/scan.json s3://runs-bucket/runs/run-1/scans/444444444444.json"]));
    // A container that never ran counts as failed.
    assert_eq!(results[8], json!([0, -1]));
    assert_eq!((&results[9], &results[10]), (&json!(true), &json!(false)));
}
