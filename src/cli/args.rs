//! The command line's arguments, as clap parses them. The handlers (`super`) turn them into the
//! library's settings; nothing else reads raw flags.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

use crate::{
    report::{Format, ReportSpec, Section},
    scan,
};

#[derive(Debug, Parser)]
#[command(name = "onwatch", version, about = "Monitoring-as-code for AWS: find missing and misconfigured CloudWatch alarms.")]
#[command(after_help = "Exit codes: 0 clean, 1 findings at or above --fail-on, 2 error.")]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Write nothing on standard error but errors: no progress bars, no notes.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
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
pub(crate) enum Command {
    /// Check an inventory against the coverage policies and report findings.
    Check(CheckArgs),
    /// Validate configuration and policies without checking anything.
    Validate(ConfigArgs),
    /// Write the Terraform module that gives every selected resource its alarms, dashboards and alert delivery.
    Generate(GenerateArgs),
    /// Read AWS accounts and regions into an inventory snapshot.
    Scan(ScanArgs),
    /// Combine inventory snapshots (the shards of a scan) into one, as one scan of all their scopes would have written it.
    Merge(MergeArgs),
    /// Compare the repository's Terraform with the account: missing, changed and unmanaged alarms and dashboards.
    Drift(DriftArgs),
    /// Print the least-privilege, read-only IAM policy that `scan` and `--live` need (or, with --audit, `audit list`).
    IamPolicy(IamPolicyArgs),
    /// Read the audit trail: alerts raised and resolved, and security detections.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a starting configuration (the built-in config/ and policies/, a README) and, with --ci, CI workflows.
    Init(InitArgs),
    /// Explain a finding code (or list them all).
    Explain {
        /// A finding code such as missing-alarm; omit to list every code.
        code: Option<String>,
    },
}

/// The CI system `init --ci` writes workflows for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CiChoice {
    Github,
    Gitlab,
    None,
}

#[derive(Debug, Args)]
#[command(after_help = "Asks nothing: without --ci it writes no CI files.\n\nExit codes: 0 written, 2 error (a file that exists, without --force: nothing is written).")]
pub(crate) struct InitArgs {
    /// Directory to write into; created when missing.
    #[arg(value_name = "DIR", default_value = ".")]
    pub(crate) dir: PathBuf,
    /// Also write the pull-request, regeneration and drift workflows: .github/workflows/ or .gitlab-ci.yml.
    #[arg(long, value_enum, default_value_t = CiChoice::None)]
    pub(crate) ci: CiChoice,
    /// Replace files that exist (by default an existing file stops init before it writes anything).
    #[arg(long)]
    pub(crate) force: bool,
}

impl InitArgs {
    pub(crate) fn ci(&self) -> crate::init::Ci {
        match self.ci {
            CiChoice::Github => crate::init::Ci::Github,
            CiChoice::Gitlab => crate::init::Ci::Gitlab,
            CiChoice::None => crate::init::Ci::None,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct IamPolicyArgs {
    /// The policy of an audit reader (`onwatch audit list`) instead of the scanner's.
    #[arg(long)]
    pub(crate) audit: bool,
    /// The policy of the caller of `scan --organization` (list the organisation, assume the role) instead of the scanner's.
    #[arg(long, conflicts_with = "audit")]
    pub(crate) organization: bool,
    /// The role `scan --organization` assumes in each account.
    #[arg(long, value_name = "NAME", requires = "organization", default_value = scan::DEFAULT_ROLE_NAME)]
    pub(crate) role_name: String,
    /// Configuration directory holding audit_log_schema.json [default: ./config if present].
    #[arg(long, value_name = "DIR")]
    pub(crate) config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// List audit records, oldest first.
    List(AuditListArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 listed (also when nothing matches), 2 error.")]
pub(crate) struct AuditListArgs {
    /// Records of the last DURATION: 30m, 24h, 7d, 2w.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub(crate) since: String,
    /// Only records whose alarm or resource is this ARN.
    #[arg(long, value_name = "ARN")]
    pub(crate) resource: Option<String>,
    #[arg(long, default_value = "text", value_parser = format_parser(Section::Audit))]
    pub(crate) format: Format,
    /// Write the listing to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Also write the listing in FORMAT (a --format value) to PATH, atomically; repeat for several.
    #[arg(long = "report", value_name = "FORMAT=PATH", value_parser = report_parser(Section::Audit))]
    pub(crate) reports: Vec<ReportSpec>,
    /// The audit table [default: table_name in config/audit_log_schema.json].
    #[arg(long, value_name = "NAME")]
    pub(crate) table: Option<String>,
    /// Configuration directory holding audit_log_schema.json [default: ./config if present, else built-in].
    #[arg(long, value_name = "DIR")]
    pub(crate) config: Option<PathBuf>,
    /// The table's region [default: region in audit_log_schema.json, else the AWS profile's or environment's].
    #[arg(long, value_name = "REGION", help_heading = "AWS")]
    pub(crate) region: Option<String>,
    /// AWS profile for credentials and region [default: the standard credential chain].
    #[arg(long, value_name = "PROFILE", help_heading = "AWS")]
    pub(crate) profile: Option<String>,
    /// Send every AWS call to this endpoint, such as a local emulator.
    #[arg(long, value_name = "URL", help_heading = "AWS")]
    pub(crate) endpoint_url: Option<String>,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
    /// Read at most this many pages of the table; a longer listing is an error, not a shorter one.
    #[arg(long, value_name = "N", default_value_t = crate::audit::dynamodb::DEFAULT_MAX_PAGES, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_pages: u32,
}

/// `--format`'s values for a command: the library's formats that print its section.
fn format_parser(section: Section) -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Format::names_for(section)).map(|name| name.parse::<Format>().expect("the possible values are format names"))
}

/// `--report FORMAT=PATH` for a command, with the formats of `--format`.
fn report_parser(section: Section) -> impl Fn(&str) -> Result<ReportSpec, String> + Clone + Send + Sync + 'static {
    move |text| ReportSpec::parse(text, section)
}

/// The bound on each AWS call, shared by every command that reaches AWS.
#[derive(Debug, Args)]
pub(crate) struct NetworkArgs {
    /// Give up on an AWS call (its retries included) after this many seconds; the run fails with exit 2 naming the call [default: 60].
    #[arg(long, value_name = "SECONDS", help_heading = "AWS", value_parser = clap::value_parser!(u64).range(1..=scan::net::MAX_TIMEOUT_SECONDS))]
    pub(crate) timeout: Option<u64>,
}

impl NetworkArgs {
    pub(crate) fn timeout(&self) -> Option<std::time::Duration> {
        self.timeout.map(std::time::Duration::from_secs)
    }
}

#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    /// Configuration directory [default: ./config if present, else built-in defaults].
    #[arg(long, value_name = "DIR")]
    pub(crate) config: Option<PathBuf>,
    /// Coverage policies directory [default: ./policies if present, else the built-in pack].
    #[arg(long, value_name = "DIR")]
    pub(crate) policies: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    Error,
    Warning,
    Never,
}

/// How to reach AWS, for `scan` and `--live`.
#[derive(Debug, Args)]
#[command(next_help_heading = "AWS")]
pub(crate) struct AwsArgs {
    /// Region to scan; repeat for several [default: the region of the AWS profile or environment].
    #[arg(long = "region", value_name = "REGION")]
    pub(crate) regions: Vec<String>,
    /// Scan every region enabled by default in a commercial AWS account (opt-in regions need --region).
    #[arg(long, conflicts_with = "regions")]
    pub(crate) all_regions: bool,
    /// AWS profile for credentials and region [default: the standard credential chain].
    #[arg(long, value_name = "PROFILE")]
    pub(crate) profile: Option<String>,
    /// Assume this IAM role and scan its account; repeat for several accounts.
    #[arg(long = "role-arn", value_name = "ARN")]
    pub(crate) role_arns: Vec<String>,
    /// Send every AWS call to this endpoint, such as a local emulator.
    #[arg(long, value_name = "URL")]
    pub(crate) endpoint_url: Option<String>,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
}

impl AwsArgs {
    pub(crate) fn given(&self) -> bool {
        let network = self.network.timeout.is_some();
        !self.regions.is_empty() || self.all_regions || self.profile.is_some() || !self.role_arns.is_empty() || self.endpoint_url.is_some() || network
    }

    pub(crate) fn options(&self) -> scan::ScanOptions {
        scan::ScanOptions {
            regions: self.regions.clone(),
            all_regions: self.all_regions,
            profile: self.profile.clone(),
            role_arns: self.role_arns.clone(),
            endpoint_url: self.endpoint_url.clone(),
            progress: super::progress::wanted(),
            timeout: self.network.timeout(),
            ..Default::default()
        }
    }
}

/// Where the inventory comes from: a snapshot, or a scan of AWS now (reached with the AWS flags,
/// which each command flattens last so that their help heading stays theirs). One definition for
/// `check`, `generate` and `drift` (each command says whether one is required: `check` reads
/// Terraform alone).
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").args(["inventory", "live"])))]
pub(crate) struct SourceArgs {
    /// Inventory snapshot (JSON) to read.
    #[arg(long, value_name = "FILE")]
    pub(crate) inventory: Option<PathBuf>,
    /// Scan AWS now (as `onwatch scan` does) and use that instead of a snapshot.
    #[arg(long)]
    pub(crate) live: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    #[command(flatten)]
    pub(crate) aws: AwsArgs,
    /// Write the inventory snapshot (JSON) to FILE, atomically; nothing is written when the scan fails.
    #[arg(long, value_name = "FILE")]
    pub(crate) output: PathBuf,
    /// Configuration directory holding resource_types.json, the types to scan [default: ./config if present, else built-in].
    #[arg(long, value_name = "DIR")]
    pub(crate) config: Option<PathBuf>,
    /// Scan only shard I of N of the (account, region) pairs (a stable hash of each pair picks its shard); join the shards with onwatch merge.
    #[arg(long, value_name = "I/N")]
    pub(crate) shard: Option<scan::Shard>,
    #[command(flatten)]
    pub(crate) organization: OrganizationArgs,
}

/// `scan --organization` and partial scans.
#[derive(Debug, Args)]
#[command(next_help_heading = "Organization")]
pub(crate) struct OrganizationArgs {
    /// Scan every active account of the caller's AWS organisation (from the management or a delegated-administrator account).
    #[arg(long, conflicts_with = "role_arns")]
    pub(crate) organization: bool,
    /// The IAM role to assume in each account of the organisation.
    #[arg(long, value_name = "NAME", requires = "organization", default_value = scan::DEFAULT_ROLE_NAME)]
    pub(crate) role_name: String,
    /// Only the accounts under this OU or root (child OUs included); repeat for several.
    #[arg(long = "ou", value_name = "OU-ID", requires = "organization")]
    pub(crate) ous: Vec<String>,
    /// Only this account of the organisation; repeat for several.
    #[arg(long = "account", value_name = "ID", requires = "organization")]
    pub(crate) accounts: Vec<String>,
    /// Leave this account of the organisation out; repeat for several.
    #[arg(long = "exclude-account", value_name = "ID", requires = "organization")]
    pub(crate) exclude_accounts: Vec<String>,
    /// (account, region) pairs scanned at once [default: 4].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) concurrency: Option<u16>,
    /// Record an account or region that fails as a failed scope, write the snapshot and exit 1, instead of failing the scan.
    #[arg(long)]
    pub(crate) allow_partial: bool,
}

impl OrganizationArgs {
    pub(crate) fn apply(&self, options: &mut scan::ScanOptions) {
        options.allow_partial = self.allow_partial;
        options.concurrency = self.concurrency.map(usize::from);
        if self.organization {
            options.organization = Some(scan::Organization {
                role_name: self.role_name.clone(),
                ous: self.ous.clone(),
                accounts: self.accounts.clone(),
                exclude_accounts: self.exclude_accounts.clone(),
            });
        }
    }
}

#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 merged, 2 error (different snapshot versions, a scope two snapshots hold differently: nothing is written).")]
pub(crate) struct MergeArgs {
    /// Inventory snapshots to combine, such as the outputs of scan --shard 1/N .. N/N.
    #[arg(value_name = "SNAPSHOT", required = true)]
    pub(crate) snapshots: Vec<PathBuf>,
    /// Write the merged snapshot (JSON) to FILE, atomically; nothing is written on error.
    #[arg(long, value_name = "FILE")]
    pub(crate) output: PathBuf,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("input").required(true).multiple(true).args(["inventory", "live", "terraform", "plan"])))]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub(crate) source: SourceArgs,
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    #[arg(long, default_value = "text", value_parser = format_parser(Section::Coverage))]
    pub(crate) format: Format,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Also write the report in FORMAT (a --format value) to PATH, atomically; repeat for several.
    #[arg(long = "report", value_name = "FORMAT=PATH", value_parser = report_parser(Section::Coverage))]
    pub(crate) reports: Vec<ReportSpec>,
    /// Exit 1 when a finding is at least this severe.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub(crate) fail_on: FailOn,
    /// Judge exemption expiry as of this date (YYYY-MM-DD) [default: today, UTC].
    #[arg(long, value_name = "DATE")]
    pub(crate) as_of: Option<String>,
    /// Check the resources declared in this Terraform directory, and count its alarms not yet live as coverage (for pull requests; works without an inventory).
    #[arg(long, value_name = "DIR")]
    pub(crate) terraform: Option<PathBuf>,
    /// Check what a plan creates or updates: the JSON of `terraform show -json PLANFILE` (works without an inventory).
    #[arg(long, value_name = "FILE", conflicts_with = "terraform")]
    pub(crate) plan: Option<PathBuf>,
    /// A previous `check --format json` report: show coverage before and after and the findings introduced and fixed.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) aws: AwsArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 no drift, 1 drift (missing live, changed, unmanaged, dashboard body), 2 error.")]
#[command(group(ArgGroup::new("drift_source").required(true).args(["inventory", "live"])))]
pub(crate) struct DriftArgs {
    /// Directory of Terraform to read, recursively (every .tf file; terraform.tfvars and *.auto.tfvars).
    #[arg(long, value_name = "DIR")]
    pub(crate) terraform: PathBuf,
    #[command(flatten)]
    pub(crate) source: SourceArgs,
    /// Configuration directory holding drift_ignore.json and, for --live, resource_types.json [default: ./config if present].
    #[arg(long, value_name = "DIR")]
    pub(crate) config: Option<PathBuf>,
    #[arg(long, default_value = "text", value_parser = format_parser(Section::Drift))]
    pub(crate) format: Format,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Also write the report in FORMAT (a --format value) to PATH, atomically; repeat for several.
    #[arg(long = "report", value_name = "FORMAT=PATH", value_parser = report_parser(Section::Drift))]
    pub(crate) reports: Vec<ReportSpec>,
    /// Report only unmanaged alarms and dashboards whose name starts with PREFIX; repeat for several.
    #[arg(long = "unmanaged-prefix", value_name = "PREFIX")]
    pub(crate) unmanaged_prefixes: Vec<String>,
    /// Judge ignore-rule expiry as of this date (YYYY-MM-DD) [default: today, UTC].
    #[arg(long, value_name = "DATE")]
    pub(crate) as_of: Option<String>,
    #[command(flatten)]
    pub(crate) aws: AwsArgs,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("generate_source").required(true).multiple(true).args(["inventory", "live", "into"])))]
pub(crate) struct GenerateArgs {
    #[command(flatten)]
    pub(crate) source: SourceArgs,
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    /// Templates directory; its *.hbs files replace or add to the built-in templates.
    #[arg(long, value_name = "DIR")]
    pub(crate) templates: Option<PathBuf>,
    /// Output directory of the generated module.
    #[arg(long, value_name = "DIR", default_value = "infrastructure/generated")]
    pub(crate) out: PathBuf,
    /// Write one root module per account of the inventory, each in DIR/<account-id>/ with its own deletion guard (instead of --out).
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    pub(crate) per_account: Option<PathBuf>,
    /// Read the Terraform in DIR and write the alarms its declared resources need into DIR/onwatch_alarms.tf
    /// (dimensions known only after apply by reference), instead of a module in --out.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["out", "live"])]
    pub(crate) into: Option<PathBuf>,
    /// With --into: read the declared resources from a plan (the JSON of `terraform show -json PLANFILE`) instead of the Terraform in DIR.
    #[arg(long, value_name = "FILE", requires = "into")]
    pub(crate) plan: Option<PathBuf>,
    /// Write nothing; exit 1 and print a diff when the files on disk differ from what would be generated.
    #[arg(long)]
    pub(crate) check: bool,
    /// Emit every required alarm, not only those the account lacks or has wrong.
    #[arg(long)]
    pub(crate) all: bool,
    /// Allow a generation that removes more than --max-deletions percent of the alarms in --out.
    #[arg(long)]
    pub(crate) allow_deletions: bool,
    /// The share of the alarms declared in --out that one generation may remove.
    #[arg(long, value_name = "PERCENT", default_value_t = 20.0)]
    pub(crate) max_deletions: f64,
    /// Seconds to wait for another onwatch writing or checking --out before giving up (exit 2).
    #[arg(long, value_name = "SECONDS", default_value_t = crate::generate::DEFAULT_LOCK_WAIT.as_secs())]
    pub(crate) lock_wait: u64,
    /// Judge exemption expiry as of this date (YYYY-MM-DD) [default: today, UTC].
    #[arg(long, value_name = "DATE")]
    pub(crate) as_of: Option<String>,
    #[command(flatten)]
    pub(crate) aws: AwsArgs,
}

