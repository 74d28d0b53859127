//! The example CI workflows under examples/ci/ are valid YAML, authenticate to AWS with OIDC
//! rather than stored keys, and every `onwatch ...` command line in them parses with the real
//! command-line definition.

use std::{
    fs,
    path::{Path, PathBuf},
};

use serde_norway::Value;

fn examples() -> Vec<(PathBuf, Value, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/ci");
    let mut files = Vec::new();
    for dir in ["github", "gitlab"] {
        for entry in fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yml") {
                let text = fs::read_to_string(&path).unwrap();
                let value: Value = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: invalid YAML: {e}", path.display()));
                files.push((path, value, text));
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

/// The shell scripts of a workflow: GitHub's `run:` and GitLab's `script:`/`before_script:`.
fn scripts(value: &Value, key: Option<&str>, out: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            for (k, v) in map {
                scripts(v, k.as_str(), out);
            }
        }
        Value::Sequence(items) => {
            for item in items {
                scripts(item, key, out);
            }
        }
        Value::String(text) if matches!(key, Some("run" | "script" | "before_script" | "after_script")) => out.push(text.clone()),
        _ => {}
    }
}

/// Splits a command line into words as a shell would for these simple lines: quotes group,
/// and the command ends at `||`, `&&`, `;`, a pipe or a redirection.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, ';' | '|' | '&' | '>' | '<') => break,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The first value of every job-matrix variable of a workflow, as the text a script writes for
/// it: GitHub's `${{ matrix.NAME }}` (under `strategy.matrix`) and GitLab's `$NAME` and `${NAME}`
/// (under `parallel.matrix`). A command line is parsed as the first job of its matrix runs it.
fn matrix_values(value: &Value, out: &mut Vec<(String, String)>) {
    let first = |v: &Value| match v {
        Value::Sequence(items) => items.first().map(|i| match i {
            Value::Number(n) => n.to_string(),
            other => other.as_str().unwrap_or_default().to_string(),
        }),
        _ => None,
    };
    match value {
        Value::Mapping(map) => {
            if let Some(Value::Mapping(matrix)) = map.get("strategy").and_then(|s| s.get("matrix")) {
                for (k, v) in matrix {
                    if let (Some(name), Some(v)) = (k.as_str(), first(v)) {
                        out.push((format!("${{{{ matrix.{name} }}}}"), v));
                    }
                }
            }
            if let Some(Value::Sequence(matrix)) = map.get("parallel").and_then(|p| p.get("matrix")) {
                for (k, v) in matrix.iter().filter_map(Value::as_mapping).flatten() {
                    if let (Some(name), Some(v)) = (k.as_str(), first(v)) {
                        out.push((format!("${{{name}}}"), v.clone()));
                        out.push((format!("${name}"), v));
                    }
                }
            }
            map.values().for_each(|v| matrix_values(v, out));
        }
        Value::Sequence(items) => items.iter().for_each(|v| matrix_values(v, out)),
        _ => {}
    }
}

/// Every `onwatch ...` command line in a workflow's scripts, as words, each checked to parse with
/// the real command-line definition (a panic names the file and the line that does not).
pub(crate) fn parsed_onwatch_commands(path: &Path, value: &Value) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    scripts(value, None, &mut found);
    let mut matrix = Vec::new();
    matrix_values(value, &mut matrix);
    let mut commands = Vec::new();
    for script in found {
        let script = matrix.iter().fold(script, |text, (name, first)| text.replace(name, first));
        for line in script.replace("\\\n", " ").lines() {
            let line = line.trim();
            if !line.starts_with("onwatch ") {
                continue;
            }
            let args = words(line);
            if let Err(error) = onwatch::cli::Cli::try_parse_from(&args) {
                panic!("{}: `{line}` does not parse:\n{error}", path.display());
            }
            commands.push(args);
        }
    }
    commands
}

#[test]
fn every_onwatch_command_in_the_examples_exists() {
    let mut subcommands = std::collections::BTreeSet::new();
    let mut count = 0;
    for (path, value, _) in examples() {
        let commands = parsed_onwatch_commands(&path, &value);
        // The fork publisher runs no code of the fork (see the fork test below).
        assert!(!commands.is_empty() || path.ends_with("onwatch-fork-publish.yml"), "{} runs no onwatch command", path.display());
        count += commands.len();
        subcommands.extend(commands.into_iter().map(|args| args[1].clone()));
    }
    // Fewer since one check run writes every report with --report (there were 20 with a run per format).
    assert!(count >= 14, "only {count} onwatch commands found");
    assert_eq!(subcommands.into_iter().collect::<Vec<_>>(), ["check", "drift", "generate", "merge", "scan"]);
    // The linter itself rejects what does not exist.
    assert!(onwatch::cli::Cli::try_parse_from(words("onwatch drift --terraform x --inventory y --no-such-flag")).is_err());
    assert!(onwatch::cli::Cli::try_parse_from(words("onwatch drfit --terraform x")).is_err());
    assert!(onwatch::cli::Cli::try_parse_from(words("onwatch drift --terraform x --inventory y --report junit=x.xml")).is_err(), "a format drift cannot print");
    assert!(onwatch::cli::Cli::try_parse_from(words("onwatch check --inventory y --report sarif")).is_err(), "a spec without a path");
}

/// The reports a workflow publishes (code scanning, the comment, the test report, the drift
/// issue) are written by ONE onwatch run with `--report`, and each is read by a later step.
#[test]
fn each_workflow_writes_its_reports_in_one_run() {
    // (file, GitLab job or None for the whole workflow, subcommand, reports)
    let expected: &[(&str, Option<&str>, &str, &[&str])] = &[
        ("onwatch-pull-request.yml", None, "check", &["onwatch.md", "onwatch.sarif", "onwatch-junit.xml"]),
        ("onwatch-fork-check.yml", None, "check", &["onwatch.md", "onwatch.sarif", "onwatch-junit.xml"]),
        (".gitlab-ci.yml", Some("onwatch-merge-request"), "check", &["onwatch.md", "onwatch.sarif", "onwatch-junit.xml"]),
        (".gitlab-ci.yml", Some("onwatch-merge-request-fork"), "check", &["onwatch.md", "onwatch.sarif", "onwatch-junit.xml"]),
        ("onwatch-drift.yml", None, "drift", &["drift.md", "drift.json"]),
        (".gitlab-ci.yml", Some("onwatch-drift"), "drift", &["drift.md", "drift.json"]),
        ("onwatch-organization.yml", None, "check", &["onwatch.md", "onwatch.sarif", "onwatch-junit.xml"]),
        ("onwatch-organization.gitlab-ci.yml", None, "check", &["onwatch.md", "onwatch.sarif", "onwatch-junit.xml"]),
    ];
    let files = examples();
    for (name, job, subcommand, reports) in expected {
        let (path, value, text) = files.iter().find(|f| f.0.ends_with(name)).unwrap_or_else(|| panic!("no {name}"));
        let value = match job {
            Some(job) => value.get(*job).unwrap_or_else(|| panic!("{name} has no job {job}")),
            None => value,
        };
        let writers: Vec<Vec<String>> = parsed_onwatch_commands(path, value)
            .into_iter()
            .filter(|args| args[1] == *subcommand)
            .map(|args| args.windows(2).filter(|w| w[0] == "--report").map(|w| w[1].split_once('=').expect("FORMAT=PATH").1.to_string()).collect())
            .filter(|written: &Vec<String>| !written.is_empty())
            .collect();
        assert_eq!(writers.len(), 1, "{}: {subcommand} reports should come from one run with --report: {writers:?}", path.display());
        for report in *reports {
            assert!(writers[0].iter().any(|w| w == report), "{}: no --report writes {report}", path.display());
            assert!(text.matches(report).count() >= 2, "{}: {report} is written but no step reads it", path.display());
        }
    }
}

#[test]
fn the_examples_use_oidc_and_no_stored_keys() {
    let files = examples();
    assert_eq!(files.len(), 8, "six GitHub workflows and two GitLab pipelines");
    for (path, _, text) in &files {
        for forbidden in ["aws-access-key-id", "aws-secret-access-key", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"] {
            assert!(!text.contains(forbidden), "{} mentions {forbidden}", path.display());
        }
        if path.to_string_lossy().contains("onwatch-fork-") {
            // The fork jobs: checked in the_fork_pull_request_jobs_need_no_credentials.
        } else if path.to_string_lossy().contains("github") {
            assert!(text.contains("id-token: write") && text.contains("role-to-assume:"), "{} does not assume a role with OIDC", path.display());
        } else {
            assert!(text.contains("id_tokens:") && text.contains("AWS_WEB_IDENTITY_TOKEN_FILE") && text.contains("AWS_ROLE_ARN"), "{}", path.display());
        }
    }
    let pull_request = &files.iter().find(|f| f.0.ends_with("onwatch-pull-request.yml")).unwrap().2;
    for needed in ["upload-sarif", "sticky-pull-request-comment", "junit", "--baseline"] {
        assert!(pull_request.contains(needed), "the pull-request workflow lacks {needed}");
    }
}

/// The organisation workflows fan out over a job matrix: the matrix lists shards 1..=N, each job
/// scans `--shard I/N` of the organisation into its own artifact, and one job that waits for all
/// of them merges every shard and checks the result.
#[test]
fn organization_workflows_scan_every_shard_then_merge() {
    let files = examples();
    for (name, shard_word) in [("onwatch-organization.yml", "${{ matrix.shard }}/"), ("onwatch-organization.gitlab-ci.yml", "$SHARD/")] {
        let (path, value, text) = files.iter().find(|f| f.0.ends_with(name)).unwrap_or_else(|| panic!("no {name}"));
        let mut matrix = Vec::new();
        matrix_values(value, &mut matrix);
        assert!(!matrix.is_empty(), "{}: no job matrix", path.display());
        let shards: Vec<String> = if name.ends_with(".gitlab-ci.yml") {
            value["onwatch-organization-scan"]["parallel"]["matrix"][0]["SHARD"].as_sequence().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
        } else {
            value["jobs"]["scan"]["strategy"]["matrix"]["shard"].as_sequence().unwrap().iter().map(|v| v.as_u64().unwrap().to_string()).collect()
        };
        let n = shards.len();
        assert!(n >= 2, "{}: {shards:?}", path.display());
        assert_eq!(shards, (1..=n).map(|i| i.to_string()).collect::<Vec<_>>(), "{}: the shards are 1..=N", path.display());
        // Every scan line takes its shard from the matrix and the N from the matrix's length.
        let scan_lines: Vec<&str> = text.lines().filter(|l| l.contains("onwatch scan")).collect();
        assert_eq!(scan_lines.len(), 1, "{}: {scan_lines:?}", path.display());
        assert!(scan_lines[0].contains(&format!("--shard \"{shard_word}{n}\"")), "{}: {}", path.display(), scan_lines[0]);
        let commands = parsed_onwatch_commands(path, value);
        let scan = commands.iter().find(|c| c[1] == "scan").unwrap();
        assert!(scan.contains(&"--organization".to_string()), "{scan:?}");
        let output = &scan[scan.iter().position(|w| w == "--output").unwrap() + 1];
        let merge = commands.iter().find(|c| c[1] == "merge").expect("a merge job");
        let inventory = &merge[merge.iter().position(|w| w == "--output").unwrap() + 1];
        assert!(commands.iter().any(|c| c[1] == "check" && c.windows(2).any(|w| w[0] == "--inventory" && &w[1] == inventory)), "the merged inventory is checked");
        // The merge reads every shard's artifact: its inputs are a glob that matches each output.
        let inputs: Vec<&String> = merge[2..].iter().take_while(|w| !w.starts_with("--")).collect();
        assert_eq!(inputs.len(), 1, "{merge:?}");
        let (prefix, suffix) = inputs[0].split_once('*').expect("a glob over the shards");
        let artifact = Path::new(output.as_str()).file_name().unwrap().to_string_lossy().to_string();
        let name_prefix = prefix.rsplit('/').next().unwrap_or_default();
        assert!(artifact.starts_with(name_prefix) && artifact.ends_with(suffix), "{artifact} is not matched by {}", inputs[0]);
        if name.ends_with(".gitlab-ci.yml") {
            assert_eq!(value["onwatch-organization-merge"]["needs"][0].as_str(), Some("onwatch-organization-scan"));
            assert!(value["onwatch-organization-scan"]["artifacts"]["paths"][0].as_str().unwrap().contains("$SHARD"));
        } else {
            assert_eq!(value["jobs"]["merge"]["needs"].as_str(), Some("scan"));
            assert!(text.contains("actions/upload-artifact") && text.contains("actions/download-artifact") && text.contains("merge-multiple: true"));
        }
    }
}

#[test]
fn pre_commit_hooks_run_existing_onwatch_commands() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    let hooks: Value = serde_norway::from_str(&fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{}: invalid YAML: {e}", path.display()));
    let mut ids = Vec::new();
    for hook in hooks.as_sequence().expect("a list of hooks") {
        let id = hook["id"].as_str().expect("every hook has an id");
        let mut args = words(hook["entry"].as_str().expect("every hook has an entry"));
        if let Some(extra) = hook.get("args") {
            args.extend(extra.as_sequence().unwrap().iter().map(|a| a.as_str().unwrap().to_string()));
        }
        assert_eq!(args[0], "onwatch", "{id} runs {args:?}");
        if let Err(error) = onwatch::cli::Cli::try_parse_from(&args) {
            panic!("{id}: `{}` does not parse:\n{error}", args.join(" "));
        }
        assert_eq!(hook["pass_filenames"].as_bool(), Some(false), "{id}: onwatch reads directories, not file names");
        ids.push(id.to_string());
    }
    assert_eq!(ids, ["onwatch-validate", "onwatch-generate-check"]);
}

#[test]
fn action_runs_check_with_flags_that_exist_and_passes_inputs_through_the_environment() {
    use clap::CommandFactory;
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    let text = fs::read_to_string(&path).unwrap();
    let action: Value = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: invalid YAML: {e}", path.display()));
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let inputs = action["inputs"].as_mapping().expect("inputs");
    let check = onwatch::cli::Cli::command().find_subcommand("check").expect("a check subcommand").clone();
    let flags: Vec<String> = check.get_arguments().filter_map(|a| a.get_long().map(|l| format!("--{l}"))).collect();
    for name in inputs.keys().map(|k| k.as_str().unwrap()) {
        assert!(flags.contains(&format!("--{name}")), "input {name} mirrors no flag of onwatch check");
    }
    let step = action["runs"]["steps"].as_sequence().unwrap().iter().find(|s| s["name"].as_str() == Some("onwatch check")).expect("the check step");
    let script = step["run"].as_str().unwrap();
    assert!(!script.contains("${{"), "inputs are spliced into the script");
    // Every input reaches the script as ONWATCH_<NAME>; with the defaults the command line parses.
    let mut line = script.lines().find(|l| l.trim_start().starts_with("onwatch ")).expect("an onwatch command").replace("\"${args[@]}\"", "");
    for (name, input) in inputs {
        let var = format!("ONWATCH_{}", name.as_str().unwrap().to_uppercase().replace('-', "_"));
        assert_eq!(step["env"][var.as_str()].as_str(), Some(format!("${{{{ inputs.{} }}}}", name.as_str().unwrap()).as_str()), "{var}");
        line = line.replace(&format!("\"${var}\""), &format!("\"{}\"", input["default"].as_str().unwrap()));
    }
    if let Err(error) = onwatch::cli::Cli::try_parse_from(words(line.trim())) {
        panic!("`{line}` does not parse:\n{error}");
    }
    let passed: Vec<String> = script.lines().flat_map(|l| l.split(';')).flat_map(words).map(|w| w.trim_start_matches("args+=(").to_string()).collect();
    assert!(passed.iter().filter(|w| w.starts_with("--")).count() >= 8, "{passed:?}");
    for word in passed.into_iter().filter(|w| w.starts_with("--")) {
        assert!(flags.contains(&word), "action.yml passes {word}, which onwatch check does not have");
    }
}

#[test]
#[ignore = "conformance: needs hadolint; scripts/test.sh runs it"]
fn dockerfile_passes_hadolint_and_builds_in_stages() {
    let hadolint = std::env::var("ONWATCH_HADOLINT").expect("ONWATCH_HADOLINT is not set: run the suite with scripts/test.sh, which installs hadolint");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(&hadolint).arg("--no-color").arg(root.join("Dockerfile")).output().expect("hadolint runs");
    assert!(out.status.success(), "hadolint:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let text = fs::read_to_string(root.join("Dockerfile")).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with("FROM ")).count(), 2, "a build stage and a slim runtime stage");
    assert!(text.contains("COPY --from=build") && text.contains("\nUSER "), "the runtime stage copies the binary and drops root");
    let ignored = fs::read_to_string(root.join(".dockerignore")).unwrap();
    assert!(ignored.lines().any(|l| l.trim_end_matches('/') == "target"), "target/ would be sent to the daemon");
}

/// Item 7 of issue 10: a pull request from a fork has no AWS credentials and no secrets. Its job
/// checks what the Terraform declares (`check --terraform` without an inventory, against the base
/// branch as the baseline) and still gets the SARIF upload and the sticky comment, published by a
/// second GitHub workflow that runs none of the fork's code.
#[test]
fn the_fork_pull_request_jobs_need_no_credentials() {
    let files = examples();
    let file = |name: &str| files.iter().find(|f| f.0.ends_with(name)).unwrap_or_else(|| panic!("no {name}"));
    let no_credentials = |what: &str, text: &str| {
        for forbidden in ["secrets.", "id-token", "role-to-assume", "id_tokens", "AWS_ROLE_ARN", "configure-aws-credentials", "onwatch scan", "--live", "--inventory"] {
            assert!(!text.contains(forbidden), "{what} uses {forbidden}");
        }
    };
    let checks_declared = |what: &str, commands: &[Vec<String>]| {
        let checks: Vec<&Vec<String>> = commands.iter().filter(|args| args[1] == "check").collect();
        assert!(checks.len() >= 3, "{what}: baseline, reports, gate: {commands:?}");
        for args in &checks {
            assert!(args.iter().any(|a| a == "--terraform" || a == "--plan"), "{what}: {args:?} checks neither --terraform nor --plan");
        }
        assert!(checks.iter().any(|args| args.iter().any(|a| a == "--baseline")), "{what}: no check against the base branch");
    };

    let (path, value, text) = file("onwatch-fork-check.yml");
    no_credentials("onwatch-fork-check.yml", text);
    assert_eq!(value["permissions"]["contents"].as_str(), Some("read"));
    assert_eq!(value["permissions"].as_mapping().unwrap().len(), 1, "the fork's code runs with a read-only token");
    assert!(value["on"].get("pull_request").is_some() && value["on"].get("pull_request_target").is_none(), "pull_request_target would run the fork's code with a writing token");
    assert!(text.contains("head.repo.full_name != github.repository"), "runs for forks only");
    checks_declared("onwatch-fork-check.yml", &parsed_onwatch_commands(path, value));
    assert!(text.contains("upload-artifact") && text.contains("onwatch-fork-reports"));

    let (path, value, text) = file("onwatch-fork-publish.yml");
    no_credentials("onwatch-fork-publish.yml", text);
    assert!(parsed_onwatch_commands(path, value).is_empty(), "the publisher runs no code of the fork");
    assert!(!text.contains("actions/checkout"), "the publisher checks out nothing");
    let workflows = value["on"]["workflow_run"]["workflows"].as_sequence().unwrap();
    assert_eq!(workflows[0].as_str(), file("onwatch-fork-check.yml").1["name"].as_str(), "publishes the fork check's run");
    for needed in ["download-artifact", "onwatch-fork-reports", "upload-sarif", "sticky-pull-request-comment", "*[!0-9]*"] {
        assert!(text.contains(needed), "the publisher lacks {needed}");
    }
    for permission in ["pull-requests", "security-events", "actions"] {
        assert!(value["permissions"].get(permission).is_some(), "the publisher lacks the {permission} permission");
    }
    // The credentialed job leaves forks to these two.
    assert!(file("onwatch-pull-request.yml").2.contains("head.repo.full_name == github.repository"));

    let (path, value, _) = file(".gitlab-ci.yml");
    let job = &value["onwatch-merge-request-fork"];
    let job_text = serde_norway::to_string(job).unwrap();
    no_credentials("onwatch-merge-request-fork", &job_text);
    assert!(job.get("extends").is_none(), "the .onwatch template assumes the AWS role");
    assert!(job_text.contains("CI_MERGE_REQUEST_SOURCE_PROJECT_ID != $CI_MERGE_REQUEST_PROJECT_ID"));
    assert!(serde_norway::to_string(&value["onwatch-merge-request"]).unwrap().contains("CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_MERGE_REQUEST_PROJECT_ID"));
    checks_declared("onwatch-merge-request-fork", &parsed_onwatch_commands(path, job));
    assert!(job_text.contains("<!-- onwatch -->") && job_text.contains("onwatch.sarif"), "the note and the SARIF artifact");
}
