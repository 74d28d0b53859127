//! Mutation properties over every input format onwatch reads (issue 15): inventory snapshots,
//! configuration and policy files, `--baseline` reports, Terraform source and plan JSON. Each case takes a
//! valid file, damages it (bytes flipped, cut, repeated, tokens of the format spliced in) and
//! reads it: the reader must answer Ok or an error that names the file, never panic, hang or
//! abort. `fuzz_memory::` runs the same properties in a child process under an address-space
//! limit, so a case that allocates without bound fails instead of passing on a big machine.
//!
//! Short in the suite (`ONWATCH_FUZZ_CASES`, default 48 per format); longer by hand:
//! `ONWATCH_FUZZ_CASES=20000 cargo test --test it fuzz:: -- --include-ignored`. A failing case is
//! kept by proptest in `tests/it/fuzz.proptest-regressions` and replayed first on every run.

use std::{
    fs,
    path::Path,
    time::{Duration, Instant},
};

use onwatch::{
    config::{self, Sources},
    Error,
};
use proptest::{prelude::*, sample::Index};

/// Longest a single case may take in a debug build before it counts as a hang.
const CASE_TIME_LIMIT: Duration = Duration::from_secs(20);

pub fn cases() -> u32 {
    std::env::var("ONWATCH_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48)
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One change to a file's bytes. Positions are indices into the bytes as they are when the
/// change applies, so any sequence of changes is valid on any input.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(Index, u8),
    Delete(Index, usize),
    Insert(Index, Index),
    Repeat(Index, usize, usize),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip(at, byte)),
        (any::<Index>(), 1..64usize).prop_map(|(at, len)| Mutation::Delete(at, len)),
        (any::<Index>(), any::<Index>()).prop_map(|(at, token)| Mutation::Insert(at, token)),
        (any::<Index>(), 1..256usize, 2..40usize).prop_map(|(at, len, times)| Mutation::Repeat(at, len, times)),
        any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation], tokens: &[&str]) -> Vec<u8> {
    for m in mutations {
        let at = |i: &Index| if bytes.is_empty() { 0 } else { i.index(bytes.len() + 1) };
        match m {
            Mutation::Flip(i, byte) if !bytes.is_empty() => {
                let at = i.index(bytes.len());
                bytes[at] = *byte;
            }
            Mutation::Flip(..) => {}
            Mutation::Delete(i, len) => {
                let at = at(i);
                bytes.drain(at..(at + len).min(bytes.len()));
            }
            Mutation::Insert(i, token) => {
                let at = at(i);
                let token = tokens[token.index(tokens.len())].as_bytes();
                bytes.splice(at..at, token.iter().copied());
            }
            Mutation::Repeat(i, len, times) => {
                let at = at(i);
                let slice = bytes[at..(at + len).min(bytes.len())].to_vec();
                for _ in 1..*times {
                    bytes.splice(at..at, slice.iter().copied());
                }
            }
            Mutation::Truncate(i) => bytes.truncate(at(i)),
        }
    }
    bytes
}

const JSON_TOKENS: &[&str] = &[
    "{", "}", "[", "]", "\"", ",", ":", "null", "true", "1e400", "-0", "-1", "1.5", "99999999999999999999999", "\"\\u0000\"",
    "\"\\ud800\"", "\u{feff}", "\u{0}", "\u{1b}[31m", "\"\"", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "{\"a\":{\"a\":{\"a\":{\"a\":", "\"$schema\"",
    "\"__onwatch_blocks_alarm_blocks__\"", "\"<script>alert(1)</script>\"", "\"x + file(path.root).y\"", "\"${var.x}\"", "\"%{if}\"",
    "\"arn:aws:ec2:us-east-1:111111111111:instance/i-1\"", "\"us-east-1\"", "\"111111111111\"", "\"2026-13-40\"", "\u{fffd}",
];

const HCL_TOKENS: &[&str] = &[
    "{", "}", "[", "]", "(", ")", "\"", "${", "%{", "}", "<<EOF\n", "\nEOF\n", "\n", "=", ",", "#", "/*", "*/", "//", "\u{feff}", "\u{0}",
    "1e400", "-1", "99999999999999999999999", "count = 100000\n", "for_each = toset([\"a\", \"b\"])\n", "local.a", "var.x", "each.key",
    "count.index", "module.m.x", "data.aws_caller_identity.c.account_id", "locals { a = [local.b, local.b] }\n", "locals { b = local.a }\n",
    "? 1 : 2", "...", "[for x in local.a : x]", "{for k, v in var.m : k => v}", "merge(", "lookup(", "jsonencode(", "tostring(",
    "resource \"aws_cloudwatch_metric_alarm\" \"x\" {\n", "module \"m\" {\n  source = \"./m\"\n", "provider \"aws\" {\n  region = \"eu-west-1\"\n",
    "variable \"x\" {\n  default = \"a\"\n}\n", "dynamic \"x\" {\n", "\u{2028}", "é", "\\", "\\u0000",
];

/// Runs `read` on `bytes` with a time limit, and checks the outcome: Ok, or an error that names
/// `file`. A panic fails the property through proptest.
fn check_case<T>(file: &str, read: impl FnOnce() -> Result<T, Error>) -> Result<(), TestCaseError> {
    let started = Instant::now();
    let outcome = read();
    let took = started.elapsed();
    prop_assert!(took < CASE_TIME_LIMIT, "{file}: one case took {took:?}");
    if let Err(error) = outcome {
        let message = error.to_string();
        prop_assert!(!matches!(error, Error::Generate(_) | Error::Refused(_) | Error::Scan { .. } | Error::Audit { .. }), "{file}: unexpected error kind: {message}");
        prop_assert!(message.contains(file), "{file}: the error does not name the file: {message}");
        if let Error::Invalid(problems) = &error {
            prop_assert!(!problems.is_empty());
            for problem in problems {
                prop_assert!(problem.json_path.starts_with('$'), "{file}: not a JSON path: {problem}");
            }
        }
    }
    Ok(())
}

fn config_files() -> Vec<String> {
    let mut files = Vec::new();
    for sub in ["config", "policies"] {
        for entry in fs::read_dir(root().join(sub)).unwrap() {
            files.push(format!("{sub}/{}", entry.unwrap().file_name().to_string_lossy()));
        }
    }
    files.sort();
    files
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::SourceParallel("proptest-regressions"))), ..ProptestConfig::default() })]

    #[test]
    fn inventory_snapshots_damaged_are_read_or_refused_naming_the_file(mutations in prop::collection::vec(mutation(), 1..6)) {
        let seed = fs::read(root().join("examples/inventory.json")).unwrap();
        let bytes = apply(seed, &mutations, JSON_TOKENS);
        check_case("inventory.json", || onwatch::snapshot::parse("inventory.json", &bytes))?;
    }

    #[test]
    fn config_and_policy_files_damaged_are_read_or_refused_naming_the_file(which in any::<Index>(), mutations in prop::collection::vec(mutation(), 1..6)) {
        let files = config_files();
        let name = &files[which.index(files.len())];
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("config")).unwrap();
        fs::create_dir_all(dir.path().join("policies")).unwrap();
        for file in &files {
            fs::copy(root().join(file), dir.path().join(file)).unwrap();
        }
        let bytes = apply(fs::read(root().join(name)).unwrap(), &mutations, JSON_TOKENS);
        fs::write(dir.path().join(name), &bytes).unwrap();
        let sources = Sources { config_dir: Some(dir.path().join("config")), policies_dir: Some(dir.path().join("policies")) };
        // A damaged file that still parses may be reported through the files that depend on it
        // (a policy naming a type the catalogue lost): any file of the directory will do then.
        let parses = serde_json::from_slice::<serde_json::Value>(&bytes).is_ok();
        let named = if parses { dir.path().to_string_lossy().into_owned() } else { name.clone() };
        check_case(&named, || config::load(&sources))?;
    }

    #[test]
    fn composites_files_damaged_are_read_or_refused_naming_the_file(mutations in prop::collection::vec(mutation(), 1..6)) {
        // config/composites.json has no built-in; this is the documented example.
        let seed = br#"{ "tag": "app", "severities": ["critical", "warning"], "suppressor": { "alarm": "maintenance-window", "wait_period": 120, "extension_period": 300 } }"#;
        let dir = tempfile::tempdir().unwrap();
        for entry in fs::read_dir(root().join("config")).unwrap() {
            let entry = entry.unwrap();
            fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
        let bytes = apply(seed.to_vec(), &mutations, JSON_TOKENS);
        fs::write(dir.path().join("composites.json"), &bytes).unwrap();
        // No policies: they take most of a load's time, and composites.json depends on none.
        let policies = dir.path().join("no-policies");
        fs::create_dir(&policies).unwrap();
        let sources = Sources { config_dir: Some(dir.path().to_path_buf()), policies_dir: Some(policies) };
        check_case("composites.json", || config::load(&sources))?;
    }

    #[test]
    fn baseline_reports_damaged_are_read_or_refused_naming_the_file(mutations in prop::collection::vec(mutation(), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        let bytes = apply(baseline_seed().into_bytes(), &mutations, JSON_TOKENS);
        fs::write(&path, &bytes).unwrap();
        check_case("baseline.json", || onwatch::check::baseline::read(&path))?;
    }

    #[test]
    fn terraform_files_damaged_are_read_or_refused_naming_the_file(seed in 0..3usize, mutations in prop::collection::vec(mutation(), 1..8)) {
        let (name, seed) = [
            ("main.tf", root().join("tests/fixtures/terraform/main.tf")),
            ("dashboards.tf", root().join("infrastructure/generated/dashboards.tf")),
            ("variables.tf", root().join("infrastructure/generated/variables.tf")),
        ][seed].clone();
        let dir = tempfile::tempdir().unwrap();
        let bytes = apply(fs::read(seed).unwrap(), &mutations, HCL_TOKENS);
        fs::write(dir.path().join(name), &bytes).unwrap();
        check_case(name, || onwatch::terraform::read_dir(dir.path()))?;
    }

    #[test]
    fn terraform_plans_damaged_are_read_or_refused_naming_the_file(seed in 0..2usize, mutations in prop::collection::vec(mutation(), 1..6)) {
        let seed = ["tests/fixtures/plans/hand/changes.json", "tests/fixtures/plans/checkov-plan-provisioners.json"][seed];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        fs::write(&path, apply(fs::read(root().join(seed)).unwrap(), &mutations, JSON_TOKENS)).unwrap();
        let watch = onwatch::terraform::Watch { arguments: plan_watch().clone() };
        check_case("plan.json", || onwatch::terraform::plan::read(&path, &watch))?;
    }
}

/// The Terraform types and arguments the built-in catalogue reads, as `check --plan` watches them.
fn plan_watch() -> &'static std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    static WATCH: std::sync::OnceLock<std::collections::BTreeMap<String, std::collections::BTreeSet<String>>> = std::sync::OnceLock::new();
    WATCH.get_or_init(|| onwatch::config::load_catalog(None).unwrap().terraform_arguments())
}

/// A `check --format json` report of the example account: what `--baseline` reads.
fn baseline_seed() -> String {
    static SEED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SEED.get_or_init(|| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_onwatch"))
            .args(["check", "--inventory", "examples/inventory.json", "--format", "json", "--as-of", "2026-11-25"])
            .current_dir(root())
            .output()
            .unwrap();
        assert!(output.status.code() == Some(1), "the example account has findings: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    })
    .clone()
}

/// Inputs the properties found, and the reader defects of issue 15, kept as plain cases.
#[test]
fn known_hostile_inputs_are_read_or_refused_naming_the_file() {
    let inventories: &[&[u8]] = &[b"{", b"", b"\xef\xbb\xbf{}", b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", b"{\"resources\": 1e400}"];
    for bytes in inventories {
        check_case("inventory.json", || onwatch::snapshot::parse("inventory.json", bytes)).unwrap();
    }
    let deep = format!("a = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
    for text in ["a = 1e400\n", "\u{feff}locals {}\n", "locals {\n  a = \"${\"\n}\n", deep.as_str(), "locals { a = local.a }\n"] {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("main.tf"), text).unwrap();
        check_case("main.tf", || onwatch::terraform::read_dir(dir.path())).unwrap();
    }
}

/// The properties above prove something only if the mutations damage the inputs: with a fixed
/// seed, most damaged inventories and Terraform files are refused, and some still read.
#[test]
fn the_mutations_damage_most_inputs() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut inventory_refused, mut terraform_refused) = (0, 0);
    let seed = fs::read(root().join("examples/inventory.json")).unwrap();
    let tf = fs::read(root().join("tests/fixtures/terraform/main.tf")).unwrap();
    for _ in 0..100 {
        let mutations = prop::collection::vec(mutation(), 1..6).new_tree(&mut runner).unwrap().current();
        inventory_refused += usize::from(onwatch::snapshot::parse("inventory.json", &apply(seed.clone(), &mutations, JSON_TOKENS)).is_err());
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("main.tf"), apply(tf.clone(), &mutations, HCL_TOKENS)).unwrap();
        terraform_refused += usize::from(onwatch::terraform::read_dir(dir.path()).is_err());
    }
    assert!((60..100).contains(&inventory_refused), "{inventory_refused} of 100 damaged inventories refused");
    assert!((40..100).contains(&terraform_refused), "{terraform_refused} of 100 damaged Terraform files refused");
}
