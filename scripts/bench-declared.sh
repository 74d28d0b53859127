#!/usr/bin/env bash
# Wall time of `onwatch check --terraform DIR` without an inventory on a repository of FILES .tf
# files declaring RESOURCES Lambda functions, half of them with the three alarms the shipped
# policy requires (dimensions by reference: `aws_lambda_function.fn_N.function_name`).
#
#   scripts/bench-declared.sh [FILES] [RESOURCES]      (defaults: 500 10000)
#
# Builds onwatch in the release profile (ONWATCH_BENCH_PROFILE=dev for the debug binary; ONWATCH_BIN
# names a binary to use as it is) and prints the best and median wall time of 5 runs, and the
# report's summary.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
files="${1:-500}"
resources="${2:-10000}"
profile="${ONWATCH_BENCH_PROFILE:-release}"
target="${CARGO_TARGET_DIR:-$repo_root/target}"
if [ -n "${ONWATCH_BIN:-}" ]; then
  onwatch="$ONWATCH_BIN"
  profile="$ONWATCH_BIN"
else
  cargo build --profile "$profile" --locked --bin onwatch >&2
  if [ "$profile" = dev ]; then onwatch="$target/debug/onwatch"; else onwatch="$target/$profile/onwatch"; fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$work" "$files" "$resources" <<'PY'
import os, sys
work, files, resources = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tf = os.path.join(work, "terraform")
os.makedirs(tf)
with open(os.path.join(tf, "main.tf"), "w") as f:
    f.write('provider "aws" {\n  region = "eu-west-1"\n  default_tags {\n    tags = { team = "bench" }\n  }\n}\n\n'
            'resource "aws_sns_topic" "oncall" {\n  name = "oncall"\n}\n\n'
            'resource "aws_sns_topic_subscription" "oncall" {\n  topic_arn = aws_sns_topic.oncall.arn\n  protocol  = "email"\n  endpoint  = "oncall@example.com"\n}\n')
alarms = [("errors", "Errors", 'statistic = "Sum"', 3, "GreaterThanThreshold", 1),
          ("throttles", "Throttles", 'statistic = "Sum"', 5, "GreaterThanOrEqualToThreshold", 1),
          ("duration", "Duration", 'extended_statistic = "p90"', 15, "GreaterThanThreshold", 5000)]
per_file = -(-resources // (files - 1))
n = 0
for index in range(files - 1):
    with open(os.path.join(tf, f"functions_{index:03}.tf"), "w") as f:
        for _ in range(per_file):
            if n == resources:
                break
            f.write(f'resource "aws_lambda_function" "fn_{n}" {{\n  function_name = "fn-{n:05}"\n  role = "arn:aws:iam::111111111111:role/fn"\n'
                    f'  handler = "main.handler"\n  runtime = "python3.12"\n  filename = "fn.zip"\n}}\n\n')
            if n % 2 == 0:
                for rule, metric, statistic, periods, comparison, threshold in alarms:
                    f.write(f'''resource "aws_cloudwatch_metric_alarm" "fn_{n}_{rule}" {{
  alarm_name          = "fn-{n:05}-{rule}"
  namespace           = "AWS/Lambda"
  metric_name         = "{metric}"
  {statistic}
  period              = 60
  evaluation_periods  = {periods}
  datapoints_to_alarm = {periods}
  comparison_operator = "{comparison}"
  threshold           = {threshold}
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.oncall.arn]
  dimensions = {{
    FunctionName = aws_lambda_function.fn_{n}.function_name
  }}
}}

''')
            n += 1
PY
du -sh "$work/terraform" | awk '{print "repository: " $1}'
times=()
for _ in 1 2 3 4 5; do
  start=$(date +%s.%N)
  code=0
  "$onwatch" check --terraform "$work/terraform" --config config --policies policies --format json --fail-on never >"$work/report.json" 2>/dev/null || code=$?
  end=$(date +%s.%N)
  [ "$code" = 0 ] || { echo "onwatch check exited $code" >&2; exit 1; }
  times+=("$(echo "$end - $start" | bc)")
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "best $(echo "$sorted" | head -1) s, median $(echo "$sorted" | sed -n 3p) s ($profile)"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print({k: s[k] for k in ("resources","required","covered","missing","declared_resources","declared_without_alarms","declared_not_live")})' "$work/report.json"
