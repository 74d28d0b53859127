#!/usr/bin/env bash
# Wall time of `onwatch check --plan FILE` without an inventory on a plan JSON of about SIZE_MB
# megabytes (`terraform show -json` format 1.2): Lambda functions being created, each with the
# unknown-after-apply attributes and the configuration's expressions a real plan carries, half of
# them with their three alarms (dimensions by reference, resolved through `configuration`).
#
#   scripts/bench-plan.sh [SIZE_MB]      (default 100)
#
# Builds onwatch in the release profile (ONWATCH_BENCH_PROFILE=dev for the debug binary; ONWATCH_BIN
# names a binary to use as it is) and prints the best and median wall time of 5 runs, and the
# report's summary (RUNS sets the number of runs).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
size_mb="${1:-100}"
profile="${ONWATCH_BENCH_PROFILE:-release}"
target="${CARGO_TARGET_DIR:-$repo_root/target}"
if [ -n "${ONWATCH_BIN:-}" ]; then
  onwatch="$ONWATCH_BIN"
else
  cargo build --profile "$profile" --locked --bin onwatch >&2
  if [ "$profile" = dev ]; then onwatch="$target/debug/onwatch"; else onwatch="$target/$profile/onwatch"; fi
fi

work="$(mktemp -d)"
trap '[ -n "${ONWATCH_BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT

python3 - "$work/plan.json" "$size_mb" <<'PY'
import json, sys
path, size_mb = sys.argv[1], int(sys.argv[2])
alarms = [("errors", "Errors", "Sum", 3, "GreaterThanThreshold", 1),
          ("throttles", "Throttles", "Sum", 5, "GreaterThanOrEqualToThreshold", 1),
          ("duration", "Duration", None, 15, "GreaterThanThreshold", 5000)]
# The description pads each function to a realistic size (real plans carry environment maps,
# policies and the provider's defaults for every attribute).
padding = "x" * 1500
changes, config, size = [], [], 0
def add(address, type_, name, after, unknown, expressions):
    global size
    changes.append({"address": address, "mode": "managed", "type": type_, "name": name,
                    "provider_name": "registry.terraform.io/hashicorp/aws",
                    "change": {"actions": ["create"], "before": None, "after": after, "after_unknown": unknown}})
    config.append({"address": address, "mode": "managed", "type": type_, "name": name,
                   "provider_config_key": "aws", "expressions": expressions, "schema_version": 0})
    size += len(json.dumps(changes[-1])) + len(json.dumps(config[-1])) + 4
add("aws_sns_topic.oncall", "aws_sns_topic", "oncall", {"name": "oncall", "tags": {}, "tags_all": {"team": "bench"}},
    {"arn": True, "id": True}, {"name": {"constant_value": "oncall"}})
add("aws_sns_topic_subscription.oncall", "aws_sns_topic_subscription", "oncall", {"protocol": "email", "endpoint": "oncall@example.com"},
    {"arn": True, "id": True, "topic_arn": True},
    {"topic_arn": {"references": ["aws_sns_topic.oncall.arn", "aws_sns_topic.oncall"]}, "protocol": {"constant_value": "email"},
     "endpoint": {"constant_value": "oncall@example.com"}})
n = 0
while size < size_mb * 1_000_000:
    name = f"fn_{n}"
    after = {"function_name": f"fn-{n:06}", "role": "arn:aws:iam::111111111111:role/fn", "handler": "main.handler",
             "runtime": "python3.12", "filename": "fn.zip", "memory_size": 128, "timeout": 3,
             "description": padding, "tags": {"Name": f"fn-{n:06}"}, "tags_all": {"Name": f"fn-{n:06}", "team": "bench"}}
    add(f"aws_lambda_function.{name}", "aws_lambda_function", name, after,
        {"arn": True, "id": True, "invoke_arn": True, "qualified_arn": True, "version": True, "last_modified": True},
        {"function_name": {"constant_value": after["function_name"]}, "role": {"constant_value": after["role"]}})
    if n % 2 == 0:
        for rule, metric, statistic, periods, comparison, threshold in alarms:
            alarm = {"alarm_name": f"fn-{n:06}-{rule}", "namespace": "AWS/Lambda", "metric_name": metric,
                     "period": 60, "evaluation_periods": periods, "datapoints_to_alarm": periods,
                     "comparison_operator": comparison, "threshold": threshold, "treat_missing_data": "notBreaching",
                     "dimensions": {"FunctionName": after["function_name"]}, "actions_enabled": True,
                     "alarm_actions": [None], "ok_actions": [None], "tags": {}, "tags_all": {"team": "bench"}}
            if statistic: alarm["statistic"] = statistic
            else: alarm["extended_statistic"] = "p90"
            add(f"aws_cloudwatch_metric_alarm.{name}_{rule}", "aws_cloudwatch_metric_alarm", f"{name}_{rule}", alarm,
                {"arn": True, "id": True, "alarm_actions": [True], "ok_actions": [True]},
                {"alarm_actions": {"references": ["aws_sns_topic.oncall.arn", "aws_sns_topic.oncall"]},
                 "ok_actions": {"references": ["aws_sns_topic.oncall.arn", "aws_sns_topic.oncall"]},
                 "dimensions": {"references": [f"aws_lambda_function.{name}.function_name", f"aws_lambda_function.{name}"]}})
    n += 1
plan = {"format_version": "1.2", "terraform_version": "1.9.8", "variables": {},
        "planned_values": {"root_module": {}}, "resource_changes": changes,
        "configuration": {"provider_config": {"aws": {"name": "aws", "expressions": {"region": {"constant_value": "eu-west-1"}}}},
                          "root_module": {"resources": config}}}
with open(path, "w") as f:
    json.dump(plan, f)
print(f"{n} functions, {len(changes)} resource changes", file=sys.stderr)
PY
ls -l "$work/plan.json" | awk '{printf "plan: %.1f MB\n", $5 / 1e6}'
times=()
for _ in $(seq "${RUNS:-5}"); do
  start=$(date +%s.%N)
  code=0
  "$onwatch" check --plan "$work/plan.json" --config config --policies policies --format json --fail-on never >"$work/report.json" 2>"$work/stderr" || code=$?
  end=$(date +%s.%N)
  [ "$code" = 0 ] || { echo "onwatch check exited $code" >&2; cat "$work/stderr" >&2; exit 1; }
  times+=("$(echo "$end - $start" | bc)")
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "check --plan: best $(echo "$sorted" | head -1) s, median $(echo "$sorted" | sed -n "$(( (${RUNS:-5} + 1) / 2 ))p") s, ${RUNS:-5} runs ($onwatch)"
jq -c '.summary | {resources, required, covered, missing, declared_resources, declared_without_alarms}' "$work/report.json"
