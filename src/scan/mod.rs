//! The live scanner: reads accounts and regions through the AWS SDK into one [`Inventory`].
//!
//! - Credentials come from aws-config's default chain (environment, profile, SSO, web identity,
//!   container and instance roles); `role_arns` assume one role per account.
//! - Each (account, region) is one [`Target`]; targets are scanned concurrently, at most
//!   [`CONCURRENCY`] at once, and within a target the five sources are read concurrently.
//! - The SDK retries in adaptive mode ([`retry_config`]). A call that still fails fails the whole
//!   scan with [`Error::Scan`]: there is no partial inventory.
//! - The result is sorted, so the same account gives a byte-identical snapshot (set
//!   `SOURCE_DATE_EPOCH` to pin `generated_at` too).
//!
//! Only [`aws`] sees SDK types; everything else works on onwatch's own.

pub mod arn;
pub mod aws;
pub mod calls;
pub mod discovery;
pub mod net;
pub mod shard;

use std::time::Duration;

use aws_config::{retry::RetryConfig, BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use futures_util::{StreamExt, TryStreamExt};

pub use aws::AwsClients;
pub use calls::{audit_reader_policy, iam_policy, organization_caller_policy, CallLog, AUDIT_OPERATIONS, OPERATIONS, ORGANIZATION_OPERATIONS};
pub use discovery::Place;
pub use shard::Shard;

use crate::{
    config::Catalog,
    error::{Error, Result},
    model::{assemble, DiscoveredBy, Inventory, Scope, ScopePart},
};

/// Regions enabled by default in every commercial AWS account (all regions launched before
/// March 2019): what `--all-regions` scans. A static list, so the scanner needs no EC2 client
/// and no `ec2:DescribeRegions` permission. Opt-in regions (af-south-1, ap-east-1, eu-south-1,
/// me-south-1, ...) are named with `--region`: an account that has not enabled one rejects
/// calls there, which would fail the scan.
pub const DEFAULT_REGIONS: &[&str] = &[
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// (account, region) targets scanned at once.
pub const CONCURRENCY: usize = 4;

/// What to scan and how to reach it; the CLI's flags, validated by [`run`].
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Regions to scan; empty means the region of the profile or environment.
    pub regions: Vec<String>,
    /// Scan [`DEFAULT_REGIONS`].
    pub all_regions: bool,
    /// Named profile for the credential chain.
    pub profile: Option<String>,
    /// Roles to assume, one account each; empty means the caller's own account.
    pub role_arns: Vec<String>,
    /// Send every call to this endpoint (an emulator).
    pub endpoint_url: Option<String>,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// The bound on one AWS call, retries included [default: [`net::DEFAULT_TIMEOUT`]].
    pub timeout: Option<Duration>,
    /// Scan the accounts of the caller's AWS organisation (instead of `role_arns`).
    pub organization: Option<Organization>,
    /// Record an account or region that fails as a failed scope instead of failing the scan.
    pub allow_partial: bool,
    /// (account, region) targets scanned at once [default: [`CONCURRENCY`]].
    pub concurrency: Option<usize>,
    /// Scan only this share of the (account, region) pairs ([`shard`]).
    pub shard: Option<Shard>,
    /// Read this many days of alarm state changes (DescribeAlarmHistory), for the flapping check
    /// (`alarm_hygiene.flapping` in the configuration); none reads no history.
    pub alarm_history_days: Option<u32>,
}

/// Which accounts of an organisation to scan, and the role to assume in each.
#[derive(Debug, Clone)]
pub struct Organization {
    /// Assumed as `arn:<partition>:iam::<account>:role/<role_name>` [default: [`DEFAULT_ROLE_NAME`]].
    pub role_name: String,
    /// Only the accounts under these OUs (or roots), child OUs included; empty means every account.
    pub ous: Vec<String>,
    /// Only these accounts; empty means every one listed.
    pub accounts: Vec<String>,
    pub exclude_accounts: Vec<String>,
}

/// The role `scan --organization` assumes in each account unless `--role-name` says otherwise.
pub const DEFAULT_ROLE_NAME: &str = "onwatch-read";

impl Default for Organization {
    fn default() -> Self {
        Organization { role_name: DEFAULT_ROLE_NAME.to_string(), ous: Vec::new(), accounts: Vec::new(), exclude_accounts: Vec::new() }
    }
}

/// A finished scan.
#[derive(Debug)]
pub struct Scan {
    pub inventory: Inventory,
    /// Every AWS call the scan made.
    pub calls: CallLog,
    /// Organisation accounts left out because they are not active, one line each (`ID (NAME): SUSPENDED`).
    pub skipped: Vec<String>,
}

impl Scan {
    /// The scopes that could not be read (with `--allow-partial`), one line each.
    pub fn failures(&self) -> Vec<String> {
        self.inventory
            .scopes
            .iter()
            .filter_map(|s| s.failed.as_ref().map(|why| format!("{}/{}: {why}", s.account, s.region)))
            .collect()
    }
}

impl Scan {
    /// One line for stderr: what was found and how many calls it took.
    pub fn summary(&self) -> String {
        let inv = &self.inventory;
        let accounts: std::collections::BTreeSet<&str> = inv.scopes.iter().map(|s| s.account.as_str()).collect();
        let regions: std::collections::BTreeSet<&str> = inv.scopes.iter().map(|s| s.region.as_str()).collect();
        let through_metrics = inv.resources.iter().filter(|r| r.discovered_by == DiscoveredBy::Metrics).count();
        format!(
            "scanned {} account{} in {} region{}: {} resources ({} found through metrics), {} alarms, {} composite alarms, {} metrics, {} dashboards, {} SNS topics, {} trails, {} metric filters; {} API calls",
            accounts.len(),
            plural(accounts.len()),
            regions.len(),
            plural(regions.len()),
            inv.resources.len(),
            through_metrics,
            inv.alarms.len(),
            inv.composite_alarms.len(),
            inv.metrics.len(),
            inv.dashboards.len(),
            inv.sns_topics.len(),
            inv.trails.len(),
            inv.log_metric_filters.len(),
            self.calls.total()
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Adaptive retries: client-side rate limiting that backs off when AWS throttles, up to 6 attempts.
pub fn retry_config() -> RetryConfig {
    RetryConfig::adaptive().with_max_attempts(6)
}

/// One account and region, with the clients that reach it.
#[derive(Debug, Clone)]
pub struct Target {
    pub place: Place,
    pub clients: AwsClients,
    /// Whether to read what belongs to the whole account here: dashboards (global to an account)
    /// and CloudTrail trails (every region lists the multi-region ones), read in one region per
    /// account only.
    pub account_wide: bool,
    /// Days of alarm history to read ([`ScanOptions::alarm_history_days`]).
    pub alarm_history_days: Option<u32>,
}

/// Scans what `options` name, the resources of `catalog`'s types. Blocks; builds its own
/// single-threaded runtime.
pub fn run(options: &ScanOptions, catalog: &Catalog) -> Result<Scan> {
    for region in &options.regions {
        if !is_region_name(region) {
            return Err(Error::Usage(format!("--region {region:?} is not an AWS region name (such as eu-west-1)")));
        }
    }
    if let Some(organization) = &options.organization {
        validate_organization(organization)?;
    }
    for arn in &options.role_arns {
        let valid = crate::model::Arn::parse(arn).is_some_and(|a| a.service == "iam" && a.resource.starts_with("role/"));
        if !valid {
            return Err(Error::Usage(format!("--role-arn {arn:?} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")));
        }
    }
    runtime()?.block_on(run_async(options, catalog))
}

fn validate_organization(organization: &Organization) -> Result<()> {
    for (flag, ids) in [("--account", &organization.accounts), ("--exclude-account", &organization.exclude_accounts)] {
        for id in ids {
            crate::model::names::AccountId::parse(id).map_err(|_| Error::Usage(format!("{flag} {id:?} is not an AWS account id (12 digits)")))?;
        }
    }
    for ou in &organization.ous {
        let (prefix, rest) = ou.split_once('-').unwrap_or(("", ""));
        let valid = matches!(prefix, "ou" | "r") && !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(Error::Usage(format!("--ou {ou:?} is not an organizational unit or root id (ou-xxxx-yyyyyyyy or r-xxxx)")));
        }
    }
    let name = &organization.role_name;
    let valid = !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !valid {
        return Err(Error::Usage(format!("--role-name {name:?} is not an IAM role name (letters, digits and +=,.@_-, at most 64)")));
    }
    Ok(())
}

/// The rule snapshots are read with too ([`crate::model::names::Region`]).
pub fn is_region_name(region: &str) -> bool {
    crate::model::names::Region::parse(region).is_ok()
}

/// The SDK configuration of the caller: the standard credential chain (or `--profile`), the first
/// `--region`, `--endpoint-url`, and the scanner's retries and timeouts ([`net::timeout_config`]).
pub async fn base_config(options: &ScanOptions) -> SdkConfig {
    let timeouts = net::timeout_config(options.timeout.unwrap_or(net::DEFAULT_TIMEOUT));
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry_config()).timeout_config(timeouts);
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(first) = options.regions.first() {
        loader = loader.region(Region::new(first.clone()));
    }
    loader.load().await
}

/// A single-threaded runtime for one blocking call into the SDK.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))
}

async fn run_async(options: &ScanOptions, catalog: &Catalog) -> Result<Scan> {
    let calls = CallLog::new();
    let mut base = base_config(options).await;
    let regions = scan_regions(options, &base)?;
    if base.region().is_none() {
        base = base.into_builder().region(Region::new(regions[0].clone())).build();
    }
    let concurrency = options.concurrency.unwrap_or(CONCURRENCY).max(1);
    let (accounts, skipped) = match &options.organization {
        Some(organization) => organization_accounts(&base, &calls, organization, concurrency).await?,
        None => (role_accounts(options, &base, &calls, concurrency).await?, Vec::new()),
    };
    let (mut targets, failed) = targets(accounts, &regions, &calls, options.allow_partial)?;
    for target in &mut targets {
        target.alarm_history_days = options.alarm_history_days;
    }
    let targets = shard::select(targets, options.shard, |t| (t.place.account.as_str(), t.place.region.as_str()));
    let failed = shard::select(failed, options.shard, |s| (s.account.as_str(), s.region.as_str()));
    let inventory = scan_targets_partial(targets, failed, catalog, concurrency, options).await?;
    Ok(Scan { inventory, calls, skipped })
}

/// The regions to scan, sorted: `--all-regions`, the `--region`s, or the configuration's.
fn scan_regions(options: &ScanOptions, base: &SdkConfig) -> Result<Vec<String>> {
    let mut regions: Vec<String> = if options.all_regions {
        DEFAULT_REGIONS.iter().map(|r| r.to_string()).collect()
    } else if !options.regions.is_empty() {
        options.regions.clone()
    } else {
        match base.region() {
            Some(region) => vec![region.to_string()],
            None => {
                return Err(Error::Usage(
                    "no region to scan: pass --region (or --all-regions), or set AWS_REGION or a region in the AWS profile".into(),
                ))
            }
        }
    };
    regions.sort();
    regions.dedup();
    Ok(regions)
}

/// An account to scan: reached (its id, partition and configuration), or failed on the way
/// (assuming its role), with the error. Boxing the config saves nothing worth having: even
/// 1,000 accounts hold under half a megabyte.
#[allow(clippy::large_enum_variant)]
enum Account {
    Reached { id: String, partition: String, config: SdkConfig },
    Failed { id: String, error: Error },
}

impl Account {
    fn id(&self) -> &str {
        match self {
            Account::Reached { id, .. } | Account::Failed { id, .. } => id,
        }
    }
}

fn home_label(base: &SdkConfig, account: &str, partition: &str) -> Place {
    Place { partition: partition.into(), account: account.into(), region: base.region().map(|r| r.to_string()).unwrap_or_default() }
}

/// The caller's own account, or one per `--role-arn`, each identified through GetCallerIdentity.
async fn role_accounts(options: &ScanOptions, base: &SdkConfig, calls: &CallLog, concurrency: usize) -> Result<Vec<Account>> {
    let mut configs: Vec<(Place, SdkConfig)> = Vec::new();
    if options.role_arns.is_empty() {
        configs.push((home_label(base, "(caller)", "aws"), base.clone()));
    } else {
        for role in &options.role_arns {
            let arn = crate::model::Arn::parse(role).expect("validated above");
            let provider = aws_config::sts::AssumeRoleProvider::builder(role.clone()).session_name("onwatch-scan").configure(base).build().await;
            let config = base.to_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build();
            configs.push((home_label(base, arn.account, arn.partition), config));
        }
    }
    let (allow_partial, calls) = (options.allow_partial, calls);
    let mut accounts: Vec<Account> = futures_util::stream::iter(configs)
        .map(|(label, config)| async move {
            match aws::caller_identity(&config, calls, &label).await {
                Ok((id, partition)) => Ok(Account::Reached { id, partition, config }),
                Err(error) if allow_partial && label.account != "(caller)" => Ok(Account::Failed { id: label.account, error }),
                Err(error) => Err(error),
            }
        })
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;
    accounts.sort_by(|a, b| a.id().cmp(b.id()));
    accounts.dedup_by(|a, b| a.id() == b.id());
    Ok(accounts)
}

/// The organisation's active accounts that `organization` selects, each reached through its
/// role; and the accounts skipped because they are not active.
async fn organization_accounts(
    base: &SdkConfig,
    calls: &CallLog,
    organization: &Organization,
    concurrency: usize,
) -> Result<(Vec<Account>, Vec<String>)> {
    let label = home_label(base, "(organization)", "aws");
    let listed = aws::organization_accounts(base, calls, &label, &organization.ous).await?;
    let (active, skipped) = select_accounts(listed, organization)?;
    if active.is_empty() {
        return Err(Error::Usage(format!(
            "the organisation lists no active account to scan ({} skipped); is the caller its management or a delegated-administrator account?",
            skipped.len()
        )));
    }
    let mut accounts: Vec<Account> = futures_util::stream::iter(active)
        .map(|account| async move {
            let role = format!("arn:{}:iam::{}:role/{}", account.partition, account.id, organization.role_name);
            let at = home_label(base, &account.id, &account.partition);
            match aws::assume_role(base, calls, &at, &role).await {
                Ok(credentials) => {
                    let config = base.to_builder().credentials_provider(SharedCredentialsProvider::new(credentials)).build();
                    Account::Reached { id: account.id, partition: account.partition, config }
                }
                Err(error) => Account::Failed { id: account.id, error },
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    accounts.sort_by(|a, b| a.id().cmp(b.id()));
    Ok((accounts, skipped))
}

/// Applies `--account` and `--exclude-account` to the listing, and sets the accounts that are
/// not active aside (`ID (NAME): STATUS`). An `--account` the organisation does not list is an error.
fn select_accounts(listed: Vec<aws::OrganizationAccount>, organization: &Organization) -> Result<(Vec<aws::OrganizationAccount>, Vec<String>)> {
    for wanted in &organization.accounts {
        if !listed.iter().any(|a| &a.id == wanted) {
            return Err(Error::Usage(format!(
                "--account {wanted}: the organisation lists no such account{}",
                if organization.ous.is_empty() { "" } else { " under the --ou given" }
            )));
        }
    }
    let chosen = listed.into_iter().filter(|a| organization.accounts.is_empty() || organization.accounts.contains(&a.id));
    let chosen = chosen.filter(|a| !organization.exclude_accounts.contains(&a.id));
    let (active, inactive): (Vec<_>, Vec<_>) = chosen.partition(|a| a.status == "ACTIVE");
    let skipped = inactive.iter().map(|a| format!("{} ({}): {}", a.id, a.name, a.status)).collect();
    Ok((active, skipped))
}

/// The (account, region) targets, in one list (a shard filter applies here), and the scopes of
/// the accounts that could not be reached. Without `allow_partial`, an unreached account fails.
fn targets(accounts: Vec<Account>, regions: &[String], calls: &CallLog, allow_partial: bool) -> Result<(Vec<Target>, Vec<Scope>)> {
    let (mut targets, mut failed) = (Vec::new(), Vec::new());
    for account in accounts {
        match account {
            Account::Reached { id, partition, config } => {
                for (index, region) in regions.iter().enumerate() {
                    let regional = config.to_builder().region(Region::new(region.clone())).build();
                    targets.push(Target {
                        place: Place { partition: partition.clone(), account: id.clone(), region: region.clone() },
                        clients: AwsClients::new(&regional, calls),
                        account_wide: index == 0,
                        alarm_history_days: None,
                    });
                }
            }
            Account::Failed { error, .. } if !allow_partial => return Err(error),
            Account::Failed { id, error } => {
                let why = error.to_string();
                failed.extend(regions.iter().map(|region| Scope { account: id.clone(), region: region.clone(), failed: Some(why.clone()) }));
            }
        }
    }
    Ok((targets, failed))
}

/// Scans the targets; with `allow_partial`, a target that fails becomes a failed scope.
async fn scan_targets_partial(targets: Vec<Target>, failed: Vec<Scope>, catalog: &Catalog, concurrency: usize, options: &ScanOptions) -> Result<Inventory> {
    if !options.allow_partial {
        return scan_targets(targets, catalog, concurrency, options.progress).await;
    }
    let mut inventory = scan_targets_allowing_failures(targets, catalog, concurrency, options.progress).await;
    inventory.scopes.extend(failed);
    inventory.scopes.sort();
    Ok(inventory)
}

/// Scans `targets` as [`scan_targets`] does, except that a target whose reads fail (after the
/// SDK's retries) becomes a failed scope holding the error, and the others are kept.
pub async fn scan_targets_allowing_failures(targets: Vec<Target>, catalog: &Catalog, concurrency: usize, progress: bool) -> Inventory {
    scan_targets_recording(targets, catalog, concurrency, progress, true).await.expect("failures are recorded as failed scopes, not returned")
}

/// Scans `targets`, `concurrency` at a time, into one sorted inventory of the resources of
/// `catalog`'s types. The first failure cancels the scans in flight and is returned.
pub async fn scan_targets(targets: Vec<Target>, catalog: &Catalog, concurrency: usize, progress: bool) -> Result<Inventory> {
    scan_targets_recording(targets, catalog, concurrency, progress, false).await
}

/// The one scan loop: with `record_failures`, a target that fails becomes a failed scope instead
/// of failing the scan.
async fn scan_targets_recording(targets: Vec<Target>, catalog: &Catalog, concurrency: usize, progress: bool, record_failures: bool) -> Result<Inventory> {
    let bar = Progress::new(progress, targets.len());
    let bar = &bar;
    let parts: Vec<ScopePart> = futures_util::stream::iter(targets)
        .map(|target| async move {
            let part = match scan_target(&target, catalog).await {
                Err(error) if record_failures => {
                    let (account, region) = (target.place.account.clone(), target.place.region.clone());
                    Ok(ScopePart::new(Scope { account, region, failed: Some(error.to_string()) }))
                }
                part => part,
            };
            bar.done(&target.place);
            part
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    Ok(assemble(parts, Some(generated_at())))
}

async fn scan_target(target: &Target, catalog: &Catalog) -> Result<ScopePart> {
    let (clients, at) = (&target.clients, &target.place);
    let account_wide = async {
        if target.account_wide {
            futures_util::future::try_join(clients.dashboards(at), clients.trails(at)).await
        } else {
            Ok((Vec::new(), Vec::new()))
        }
    };
    let alarms_with_history = async {
        match target.alarm_history_days {
            Some(days) => {
                let ((mut alarms, composite_alarms), mut history) = futures_util::future::try_join(clients.alarms(at), clients.alarm_history(at, days)).await?;
                for alarm in &mut alarms {
                    alarm.state_changes = Some(history.remove(&alarm.name).unwrap_or_default());
                }
                Ok((alarms, composite_alarms))
            }
            None => clients.alarms(at).await,
        }
    };
    let ((mut resources, (alarms, composite_alarms), metrics), (topics, metric_filters), (dashboards, trails)) = futures_util::future::try_join3(
        futures_util::future::try_join3(clients.resources(at, catalog), alarms_with_history, clients.metrics(at)),
        futures_util::future::try_join(clients.topics(at), clients.metric_filters(at)),
        account_wide,
    )
    .await?;
    discovery::complete(&mut resources, &metrics, at, catalog);
    let scope = Scope { account: target.place.account.clone(), region: target.place.region.clone(), failed: None };
    Ok(ScopePart { scope, resources, alarms, composite_alarms, metrics, dashboards, topics, trails, metric_filters })
}


/// Now, in RFC 3339 UTC to the second; `SOURCE_DATE_EPOCH` (seconds) pins it for reproducible output.
fn generated_at() -> String {
    let when = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or_else(time::OffsetDateTime::now_utc);
    when.replace_nanosecond(0)
        .expect("zero nanoseconds")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 formats every date")
}

/// A progress bar on stderr, or nothing.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new(enabled: bool, total: usize) -> Self {
        if !enabled {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::with_draw_target(Some(total as u64), indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} scanning {pos}/{len} account regions {wide_msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(bar))
    }

    fn done(&self, place: &Place) {
        if let Some(bar) = &self.0 {
            bar.set_message(format!("{}/{} done", place.account, place.region));
            bar.inc(1);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names() {
        assert!(is_region_name("eu-west-1"));
        assert!(is_region_name("us-gov-west-1"));
        assert!(!is_region_name("eu-west"));
        assert!(!is_region_name("EU-west-1"));
        assert!(!is_region_name("eu--1"));
        for region in DEFAULT_REGIONS {
            assert!(is_region_name(region));
        }
    }
}
