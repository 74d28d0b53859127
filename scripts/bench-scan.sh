#!/usr/bin/env bash
# Wall time and API calls of `onwatch scan` against the AWS API emulator (moto), for an account
# seeded with N tagged resources (SQS queues) and M metric alarms.
#
#   scripts/bench-scan.sh [RESOURCES] [ALARMS]      (defaults: 1000 2000)
#
# Needs the emulator that scripts/test.sh installs into .tools/venv. Builds onwatch in the
# release profile (ONWATCH_BENCH_PROFILE=dev for the faster-to-build debug binary). Prints the seeding time, the scan's summary line (resources, alarms and the
# number of API calls) and its wall time.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
resources="${1:-1000}"
alarms="${2:-2000}"
python="${ONWATCH_PYTHON:-$repo_root/.tools/venv/bin/python}"
[ -x "$python" ] || { echo "no emulator at $python: run scripts/test.sh once first" >&2; exit 1; }

profile="${ONWATCH_BENCH_PROFILE:-release}"
cargo build --profile "$profile" --locked --bin onwatch >&2
if [ "$profile" = dev ]; then onwatch="$repo_root/target/debug/onwatch"; else onwatch="$repo_root/target/$profile/onwatch"; fi

work="$(mktemp -d)"
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$python" tests/emulator/server.py -H 127.0.0.1 -p "$port" >"$work/emulator.log" 2>&1 &
emulator=$!
trap 'kill "$emulator" 2>/dev/null; wait "$emulator" 2>/dev/null; rm -rf "$work"' EXIT
endpoint="http://127.0.0.1:$port"
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

start=$(date +%s.%N)
"$python" tests/emulator/seed.py --endpoint "$endpoint" --bench-resources "$resources" --bench-alarms "$alarms" >/dev/null
seeded=$(date +%s.%N)
echo "seeded $resources resources and $alarms alarms in $(echo "$seeded - $start" | bc) s"

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE="$work/none" AWS_SHARED_CREDENTIALS_FILE="$work/none"
unset AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION AWS_SESSION_TOKEN AWS_ENDPOINT_URL
for run in 1 2 3; do
    start=$(date +%s.%N)
    "$onwatch" scan --endpoint-url "$endpoint" --region us-east-1 --output "$work/inventory.json"
    end=$(date +%s.%N)
    echo "scan $run: $(echo "$end - $start" | bc) s wall"
done
