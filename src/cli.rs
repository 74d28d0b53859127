//! The command line: raw flags are parsed by clap, turned into settings, and handed to the
//! library. This is the edge where errors become messages and exit codes.

use std::{
    io::{IsTerminal, Write},
    path::PathBuf,
    process::ExitCode,
};

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

use crate::{
    check,
    config::{self, parse_date, Sources},
    drift::{self, report::DriftFormat},
    generate,
    error::Error,
    findings::{Code, Severity},
    inventory::Inventory,
    output::{write_atomic, write_atomic_with},
    report::{Format, Report},
    scan, snapshot, terraform,
};

/// Exit codes, as documented in the README.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

#[derive(Debug, Parser)]
#[command(name = "onwatch", version, about = "Monitoring-as-code for AWS: find missing and misconfigured CloudWatch alarms.")]
#[command(after_help = "Exit codes: 0 clean, 1 findings at or above --fail-on, 2 error.")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// Parses arguments as the binary does, without exiting: for tests that check command lines
    /// (for example the ones in the example CI workflows) against the real definition.
    pub fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        <Cli as Parser>::try_parse_from(args)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check an inventory against the coverage policies and report findings.
    Check(CheckArgs),
    /// Validate configuration and policies without checking anything.
    Validate(ConfigArgs),
    /// Write the Terraform module that gives every selected resource its alarms, dashboards and alert delivery.
    Generate(GenerateArgs),
    /// Read AWS accounts and regions into an inventory snapshot.
    Scan(ScanArgs),
    /// Compare the repository's Terraform with the account: missing, changed and unmanaged alarms and dashboards.
    Drift(DriftArgs),
    /// Print the least-privilege, read-only IAM policy that `scan` and `--live` need (or, with --audit, `audit list`).
    IamPolicy(IamPolicyArgs),
    /// Read the audit trail: alerts raised and resolved, and security detections.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Explain a finding code (or list them all).
    Explain {
        /// A finding code such as missing-alarm; omit to list every code.
        code: Option<String>,
    },
}

#[derive(Debug, Args)]
struct IamPolicyArgs {
    /// The policy of an audit reader (`onwatch audit list`) instead of the scanner's.
    #[arg(long)]
    audit: bool,
    /// Configuration directory holding audit_log_schema.json [default: ./config if present].
    #[arg(long, value_name = "DIR")]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// List audit records, oldest first.
    List(AuditListArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AuditFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 listed (also when nothing matches), 2 error.")]
struct AuditListArgs {
    /// Records of the last DURATION: 30m, 24h, 7d, 2w.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    since: String,
    /// Only records whose alarm or resource is this ARN.
    #[arg(long, value_name = "ARN")]
    resource: Option<String>,
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    format: AuditFormat,
    /// Write the listing to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The audit table [default: table_name in config/audit_log_schema.json].
    #[arg(long, value_name = "NAME")]
    table: Option<String>,
    /// Configuration directory holding audit_log_schema.json [default: ./config if present, else built-in].
    #[arg(long, value_name = "DIR")]
    config: Option<PathBuf>,
    /// The table's region [default: region in audit_log_schema.json, else the AWS profile's or environment's].
    #[arg(long, value_name = "REGION", help_heading = "AWS")]
    region: Option<String>,
    /// AWS profile for credentials and region [default: the standard credential chain].
    #[arg(long, value_name = "PROFILE", help_heading = "AWS")]
    profile: Option<String>,
    /// Send every AWS call to this endpoint, such as a local emulator.
    #[arg(long, value_name = "URL", help_heading = "AWS")]
    endpoint_url: Option<String>,
}

#[derive(Debug, Args)]
struct ConfigArgs {
    /// Configuration directory [default: ./config if present, else built-in defaults].
    #[arg(long, value_name = "DIR")]
    config: Option<PathBuf>,
    /// Coverage policies directory [default: ./policies if present, else the built-in pack].
    #[arg(long, value_name = "DIR")]
    policies: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Never,
}

/// How to reach AWS, for `scan` and `--live`.
#[derive(Debug, Args)]
#[command(next_help_heading = "AWS")]
struct AwsArgs {
    /// Region to scan; repeat for several [default: the region of the AWS profile or environment].
    #[arg(long = "region", value_name = "REGION")]
    regions: Vec<String>,
    /// Scan every region enabled by default in a commercial AWS account (opt-in regions need --region).
    #[arg(long, conflicts_with = "regions")]
    all_regions: bool,
    /// AWS profile for credentials and region [default: the standard credential chain].
    #[arg(long, value_name = "PROFILE")]
    profile: Option<String>,
    /// Assume this IAM role and scan its account; repeat for several accounts.
    #[arg(long = "role-arn", value_name = "ARN")]
    role_arns: Vec<String>,
    /// Send every AWS call to this endpoint, such as a local emulator.
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

impl AwsArgs {
    fn given(&self) -> bool {
        !self.regions.is_empty() || self.all_regions || self.profile.is_some() || !self.role_arns.is_empty() || self.endpoint_url.is_some()
    }

    fn options(&self) -> scan::ScanOptions {
        scan::ScanOptions {
            regions: self.regions.clone(),
            all_regions: self.all_regions,
            profile: self.profile.clone(),
            role_arns: self.role_arns.clone(),
            endpoint_url: self.endpoint_url.clone(),
            progress: std::io::stderr().is_terminal(),
        }
    }
}

#[derive(Debug, Args)]
struct ScanArgs {
    #[command(flatten)]
    aws: AwsArgs,
    /// Write the inventory snapshot (JSON) to FILE, atomically; nothing is written when the scan fails.
    #[arg(long, value_name = "FILE")]
    output: PathBuf,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["inventory", "live"])))]
struct CheckArgs {
    /// Inventory snapshot (JSON) to check.
    #[arg(long, value_name = "FILE")]
    inventory: Option<PathBuf>,
    /// Scan AWS now (as `onwatch scan` does) and check that instead of a snapshot.
    #[arg(long)]
    live: bool,
    #[command(flatten)]
    config: ConfigArgs,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 when a finding is at least this severe.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Judge exemption expiry as of this date (YYYY-MM-DD) [default: today, UTC].
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Count alarms declared in this Terraform directory, not yet live, as coverage (for pull requests).
    #[arg(long, value_name = "DIR")]
    terraform: Option<PathBuf>,
    /// A previous `check --format json` report: show coverage before and after and the findings introduced and fixed.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    #[command(flatten)]
    aws: AwsArgs,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["inventory", "live"])))]
#[command(after_help = "Exit codes: 0 no drift, 1 drift (missing live, changed, unmanaged, dashboard body), 2 error.")]
struct DriftArgs {
    /// Directory of Terraform to read, recursively (every .tf file; terraform.tfvars and *.auto.tfvars).
    #[arg(long, value_name = "DIR")]
    terraform: PathBuf,
    /// Inventory snapshot (JSON) of the account.
    #[arg(long, value_name = "FILE")]
    inventory: Option<PathBuf>,
    /// Scan AWS now (as `onwatch scan` does) and compare with that instead of a snapshot.
    #[arg(long)]
    live: bool,
    /// Configuration directory holding drift_ignore.json [default: ./config if present].
    #[arg(long, value_name = "DIR")]
    config: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = DriftFormat::Text)]
    format: DriftFormat,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Report only unmanaged alarms and dashboards whose name starts with PREFIX; repeat for several.
    #[arg(long = "unmanaged-prefix", value_name = "PREFIX")]
    unmanaged_prefixes: Vec<String>,
    /// Judge ignore-rule expiry as of this date (YYYY-MM-DD) [default: today, UTC].
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    #[command(flatten)]
    aws: AwsArgs,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["inventory", "live"])))]
struct GenerateArgs {
    /// Inventory snapshot (JSON) to generate for.
    #[arg(long, value_name = "FILE")]
    inventory: Option<PathBuf>,
    /// Scan AWS now (as `onwatch scan` does) and generate for that instead of a snapshot.
    #[arg(long)]
    live: bool,
    #[command(flatten)]
    config: ConfigArgs,
    /// Templates directory; its *.hbs files replace or add to the built-in templates.
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// Output directory of the generated module.
    #[arg(long, value_name = "DIR", default_value = "infrastructure/generated")]
    out: PathBuf,
    /// Write nothing; exit 1 and print a diff when the files on disk differ from what would be generated.
    #[arg(long)]
    check: bool,
    /// Emit every required alarm, not only those the account lacks or has wrong.
    #[arg(long)]
    all: bool,
    /// Allow a generation that removes more than --max-deletions percent of the alarms in --out.
    #[arg(long)]
    allow_deletions: bool,
    /// The share of the alarms declared in --out that one generation may remove.
    #[arg(long, value_name = "PERCENT", default_value_t = 20.0)]
    max_deletions: f64,
    /// Judge exemption expiry as of this date (YYYY-MM-DD) [default: today, UTC].
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    #[command(flatten)]
    aws: AwsArgs,
}

/// Parses arguments, runs, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Check(args) => run_check(args),
        Command::Generate(args) => run_generate(args),
        Command::Drift(args) => run_drift(args),
        Command::Scan(args) => {
            let scan = scan::run(&args.aws.options())?;
            write_atomic(&args.output, snapshot::to_json(&scan.inventory).as_bytes())?;
            eprintln!("{}: {}", args.output.display(), scan.summary());
            Ok(EXIT_CLEAN)
        }
        Command::Audit(AuditCommand::List(args)) => run_audit_list(args),
        Command::IamPolicy(args) => {
            let policy = if args.audit {
                let settings = config::load(&Sources::from_flags(args.config, None)?)?;
                scan::audit_reader_policy(&settings.audit.table_name, &generate::security::audit_key_alias(&settings.thresholds.alarm_name_prefix))
            } else {
                scan::iam_policy()
            };
            let mut policy = serde_json::to_string_pretty(&policy).expect("policies serialize");
            policy.push('\n');
            print_stdout(&policy)?;
            Ok(EXIT_CLEAN)
        }
        Command::Validate(args) => {
            let settings = config::load(&Sources::from_flags(args.config, args.policies)?)?;
            let rules: usize = settings.policies.iter().map(|p| p.alarms.len()).sum();
            print_stdout(&format!(
                "ok: {} resource types, {} policies with {} alarm rules, {} severities\n",
                settings.catalog.types().count(),
                settings.policies.len(),
                rules,
                settings.thresholds.severities.len()
            ))?;
            Ok(EXIT_CLEAN)
        }
        Command::Explain { code: Some(code) } => {
            let code: Code = code.parse().map_err(Error::Usage)?;
            print_stdout(&format!("{code} ({})\n\n{}\n\nFix: {}\n", code.severity().as_str(), code.summary(), code.fix()))?;
            Ok(EXIT_CLEAN)
        }
        Command::Explain { code: None } => {
            let listing: String = Code::ALL
                .iter()
                .map(|code| format!("{:<28} {:<8} {}\n", code.as_str(), code.severity().as_str(), code.summary()))
                .collect();
            print_stdout(&listing)?;
            Ok(EXIT_CLEAN)
        }
    }
}

fn as_of(flag: &Option<String>) -> Result<time::Date, Error> {
    match flag {
        Some(text) => parse_date(text).ok_or_else(|| Error::Usage(format!("--as-of {text:?} is not a date (YYYY-MM-DD)"))),
        None => Ok(time::OffsetDateTime::now_utc().date()),
    }
}

/// The inventory to work on, from `--inventory FILE` or `--live`, and the name reports give it.
fn load_inventory(file: Option<&PathBuf>, live: bool, aws: &AwsArgs) -> Result<(Inventory, String), Error> {
    if live {
        let scan = scan::run(&aws.options())?;
        eprintln!("live: {}", scan.summary());
        return Ok((scan.inventory, "live scan".to_string()));
    }
    if aws.given() {
        return Err(Error::Usage("--region, --all-regions, --profile, --role-arn and --endpoint-url need --live".into()));
    }
    let file = file.expect("clap requires --inventory or --live");
    Ok((snapshot::read(file)?, file.display().to_string()))
}

fn run_generate(args: GenerateArgs) -> Result<u8, Error> {
    let as_of = as_of(&args.as_of)?;
    if !(0.0..=100.0).contains(&args.max_deletions) {
        return Err(Error::Usage(format!("--max-deletions {} is not a percentage", args.max_deletions)));
    }
    let settings = config::load(&Sources::from_flags(args.config.config, args.config.policies)?)?;
    let templates = generate::Templates::load(args.templates.as_deref())?;
    let (inventory, _) = load_inventory(args.inventory.as_ref(), args.live, &args.aws)?;
    let evaluation = check::evaluate(&inventory, &settings, as_of);
    let files = generate::generate(&inventory, &settings, &evaluation, &templates, &generate::GenerateOptions { all: args.all })?;
    if args.check {
        return match generate::check_files(&args.out, &files)? {
            generate::Drift::UpToDate => Ok(EXIT_CLEAN),
            generate::Drift::Stale(diff) => {
                print_stdout(&diff)?;
                eprintln!("{} is stale: run onwatch generate to update it", args.out.display());
                Ok(EXIT_FINDINGS)
            }
        };
    }
    let options = generate::WriteOptions { allow_deletions: args.allow_deletions, max_deletion_percent: args.max_deletions };
    let changed = generate::write_files(&args.out, &files, &options)?;
    eprintln!("{}: {} files, {} changed", args.out.display(), files.len(), changed.len());
    // As in check: the OS reclaims a large account's memory faster than dropping it piece by piece.
    std::mem::forget((inventory, evaluation, files));
    Ok(EXIT_CLEAN)
}

fn run_audit_list(args: AuditListArgs) -> Result<u8, Error> {
    let since = crate::audit::parse_duration(&args.since)?;
    let settings = config::load(&Sources::from_flags(args.config, None)?)?;
    let options = crate::audit::ListOptions {
        aws: scan::ScanOptions {
            regions: args.region.into_iter().collect(),
            profile: args.profile,
            endpoint_url: args.endpoint_url,
            ..Default::default()
        },
        table: args.table,
        query: crate::audit::Query { since: Some(time::OffsetDateTime::now_utc() - since), resource: args.resource },
    };
    let listing = crate::audit::list(&options, &settings.audit)?;
    let text = match args.format {
        AuditFormat::Text => crate::audit::render_text(&listing.records, &listing.table),
        AuditFormat::Json => crate::audit::render_json(&listing.records, &listing.table, &listing.region, &options.query),
    };
    match &args.output {
        Some(path) => write_atomic(path, text.as_bytes())?,
        None => print_stdout(&text)?,
    }
    Ok(EXIT_CLEAN)
}

fn run_drift(args: DriftArgs) -> Result<u8, Error> {
    let as_of = as_of(&args.as_of)?;
    let config_dir = config::Sources::from_flags(args.config, None)?.config_dir;
    let ignore = drift::ignore::load(config_dir.as_deref())?;
    let declared = terraform::read_dir(&args.terraform)?;
    let (inventory, inventory_name) = load_inventory(args.inventory.as_ref(), args.live, &args.aws)?;
    let options = drift::DriftOptions { unmanaged_prefixes: args.unmanaged_prefixes, ignore, today: Some(as_of) };
    let report = drift::drift(&declared, &inventory, &options);
    let terraform_name = args.terraform.display().to_string();
    let printer = drift::report::DriftPrinter { report: &report, terraform: &terraform_name, inventory: &inventory_name, as_of: as_of.to_string() };
    let text = printer.render(args.format);
    match &args.output {
        Some(path) => write_atomic(path, text.as_bytes())?,
        None => print_stdout(&text)?,
    }
    let drifted = report.has_drift();
    std::mem::forget((declared, inventory, report));
    Ok(if drifted { EXIT_FINDINGS } else { EXIT_CLEAN })
}

fn run_check(args: CheckArgs) -> Result<u8, Error> {
    let as_of = as_of(&args.as_of)?;
    let settings = config::load(&Sources::from_flags(args.config.config, args.config.policies)?)?;
    let baseline = args.baseline.as_deref().map(crate::baseline::read).transpose()?;
    let (mut inventory, inventory_name) = load_inventory(args.inventory.as_ref(), args.live, &args.aws)?;
    let mut declared_names = rustc_hash::FxHashSet::default();
    if let Some(dir) = &args.terraform {
        let declared = terraform::read_dir(dir)?;
        let added = drift::declared_as_live(&declared, &inventory);
        for (address, reason) in &added.skipped {
            eprintln!("terraform: {address} not counted: {reason}");
        }
        eprintln!("terraform: {} alarms declared in {} and not yet live, counted as coverage", added.alarms.len(), dir.display());
        declared_names.extend(added.alarms.iter().map(|a| a.name.clone()));
        inventory.alarms.extend(added.alarms);
        inventory.sns_topics.extend(added.topics);
        if !added.log_metric_filters.is_empty() {
            eprintln!("terraform: {} metric filters declared in {} and not yet live, counted for the security controls", added.log_metric_filters.len(), dir.display());
        }
        inventory.log_metric_filters.extend(added.log_metric_filters);
    }
    let options = check::EvaluateOptions { requirements: args.format == Format::Junit || !declared_names.is_empty(), ..Default::default() };
    let mut evaluation = check::evaluate_with(&inventory, &settings, as_of, options);
    if !declared_names.is_empty() {
        evaluation.summary.declared_not_live = evaluation
            .requirements
            .iter()
            .filter(|r| r.status == check::Status::Covered && r.alarm.as_ref().is_some_and(|a| declared_names.contains(a)))
            .count();
        if args.format != Format::Junit {
            evaluation.requirements = Vec::new();
        }
    }
    let delta = baseline.as_ref().map(|baseline| crate::baseline::delta(baseline, &evaluation));
    let report = Report { evaluation: &evaluation, inventory: &inventory_name, as_of: as_of.to_string(), delta: delta.as_ref() };
    let color = args.format == Format::Text && args.output.is_none() && std::io::stdout().is_terminal() && !no_color();
    match &args.output {
        Some(path) => write_atomic_with(path, |out| report.write(args.format, color, out))?,
        None => {
            let mut stdout = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            ignore_broken_pipe(report.write(args.format, color, &mut stdout).and_then(|()| stdout.flush()))?;
        }
    }
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Never => None,
    };
    let failing = matches!((threshold, evaluation.worst()), (Some(limit), Some(worst)) if worst >= limit);
    // The process ends here: returning the memory of a large account to the allocator piece by
    // piece costs a second at 100k resources, and the OS takes it back at once.
    std::mem::forget(evaluation);
    std::mem::forget(inventory);
    Ok(if failing { EXIT_FINDINGS } else { EXIT_CLEAN })
}

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty())
}

/// A closed pipe (`onwatch check | head`) is not an error.
fn ignore_broken_pipe(result: std::io::Result<()>) -> Result<(), Error> {
    match result {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write { path: PathBuf::from("<stdout>"), source: error }),
        _ => Ok(()),
    }
}

fn print_stdout(text: &str) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    ignore_broken_pipe(stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()))
}
