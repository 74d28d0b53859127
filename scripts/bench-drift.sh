#!/usr/bin/env bash
# Wall time of `onwatch drift` on a repository of FILES .tf files holding ALARMS alarm blocks
# (written as `onwatch generate` writes them: provider aliases, topic references, dimensions,
# merged tags) against an inventory of the same alarms with 1% of thresholds changed, 1% deleted
# and 1% unmanaged extras.
#
#   scripts/bench-drift.sh [FILES] [ALARMS]      (defaults: 500 10000)
#
# Builds onwatch in the release profile (ONWATCH_BENCH_PROFILE=dev for the debug binary) and
# prints the best and median wall time of 5 runs, and the report's summary line.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
files="${1:-500}"
alarms="${2:-10000}"
profile="${ONWATCH_BENCH_PROFILE:-release}"
target="${CARGO_TARGET_DIR:-$repo_root/target}"
cargo build --profile "$profile" --locked --bin onwatch >&2
if [ "$profile" = dev ]; then onwatch="$target/debug/onwatch"; else onwatch="$target/$profile/onwatch"; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$work" "$files" "$alarms" <<'EOF'
import json, os, sys
work, files, alarms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
account, region = "111122223333", "us-east-1"
tf = os.path.join(work, "terraform")
os.makedirs(tf)
with open(os.path.join(tf, "providers.tf"), "w") as f:
    f.write('provider "aws" {\n  alias  = "us_east_1"\n  region = "us-east-1"\n}\n\n'
            'variable "tags" {\n  type    = map(string)\n  default = {}\n}\n\n'
            'resource "aws_sns_topic" "critical_us_east_1" {\n  provider = aws.us_east_1\n  name     = "onwatch-critical"\n}\n')
topic = f"arn:aws:sns:{region}:{account}:onwatch-critical"
live = []
per_file = -(-alarms // (files - 1))
n = 0
for index in range(files - 1):
    with open(os.path.join(tf, f"alarms_{index:03}.tf"), "w") as f:
        for _ in range(per_file):
            if n == alarms:
                break
            name = f"onwatch-critical-i-{n:08x}-cpu-high"
            f.write(f'''resource "aws_cloudwatch_metric_alarm" "i-{n:08x}_cpu-high_{n:08x}" {{
  provider            = aws.us_east_1
  alarm_name          = "{name}"
  alarm_description   = "Required by onwatch policy ec2-instance/cpu-high for arn:aws:ec2:{region}:{account}:instance/i-{n:08x}"
  namespace           = "AWS/EC2"
  metric_name         = "CPUUtilization"
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 80
  treat_missing_data  = "missing"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.critical_us_east_1.arn]
  ok_actions          = [aws_sns_topic.critical_us_east_1.arn]

  dimensions = {{
    InstanceId = "i-{n:08x}"
  }}

  tags = merge(var.tags, {{
    "onwatch:policy"   = "ec2-instance/cpu-high"
    "onwatch:resource" = "arn:aws:ec2:{region}:{account}:instance/i-{n:08x}"
  }})
}}

''')
            if n % 100 != 1:  # 1% deleted
                live.append({
                    "name": name, "region": region, "account": account,
                    "description": f"Required by onwatch policy ec2-instance/cpu-high for arn:aws:ec2:{region}:{account}:instance/i-{n:08x}",
                    "namespace": "AWS/EC2", "metric_name": "CPUUtilization", "dimensions": {"InstanceId": f"i-{n:08x}"},
                    "statistic": "Average", "period": 300, "evaluation_periods": 3, "datapoints_to_alarm": 3,
                    "comparison_operator": "GreaterThanThreshold",
                    "threshold": 90 if n % 100 == 0 else 80,  # 1% changed
                    "treat_missing_data": "missing", "alarm_actions": [topic], "ok_actions": [topic],
                })
            n += 1
for extra in range(alarms // 100):  # 1% unmanaged
    live.append({"name": f"hand-made-{extra}", "region": region, "account": account, "namespace": "AWS/EC2",
                 "metric_name": "CPUUtilization", "evaluation_periods": 1, "comparison_operator": "GreaterThanThreshold", "threshold": 1})
with open(os.path.join(work, "inventory.json"), "w") as f:
    json.dump({"version": 1, "scopes": [{"account": account, "region": region}], "alarms": live}, f)
EOF

count=$(find "$work/terraform" -name '*.tf' | wc -l)
blocks=$(cat "$work"/terraform/*.tf | grep -c '^resource "aws_cloudwatch_metric_alarm"')
echo "repository: $count .tf files, $blocks alarm blocks, $(du -sh "$work/terraform" | cut -f1)"
times=()
for _ in 1 2 3 4 5; do
    start=$(date +%s.%N)
    code=0
    "$onwatch" drift --terraform "$work/terraform" --inventory "$work/inventory.json" --format json --output "$work/drift.json" || code=$?
    end=$(date +%s.%N)
    [ "$code" -eq 1 ] || { echo "onwatch drift exited $code, expected 1 (drift)" >&2; exit 1; }
    times+=("$(echo "$end - $start" | bc)")
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "onwatch drift: best $(echo "$sorted" | head -n1) s, median $(echo "$sorted" | sed -n 3p) s (5 runs, $profile)"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print("summary:", {k: s[k] for k in ("declared_alarms","in_sync","missing_live","changed","unmanaged","unresolved")})' "$work/drift.json"
