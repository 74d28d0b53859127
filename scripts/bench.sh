#!/usr/bin/env bash
# Benchmark `onwatch check --format json` and `onwatch generate` on synthetic accounts of 1k,
# 10k and 100k resources, and gate on the performance requirements (release build):
#   check     100k resources in under 2 s wall and under 1 GiB peak RSS;
#   generate  10k resources in under 1 s, 100k in under 10 s, under 2 GiB peak RSS;
#   merge     10 snapshots of 10k resources each (disjoint accounts, as shards are) in under 2 s.
# Exits non-zero when a gate fails. `generate` writes one module per account, so its
# inventories hold one account (`synth --accounts 1`).
#
# Inventories come from `cargo run --release --example synth` (deterministic) and are cached
# in target/bench/, keyed by size, seed and a hash of examples/synth.rs.
#
# Environment:
#   SIZES       sizes to run                    (default "1000 10000 100000")
#   SEED        synth seed                      (default 1)
#   RUNS        timed runs per size; median     (default 3)
#   GATE_SIZE   size the gate applies to        (default 100000; skipped if not in SIZES)
#   MAX_WALL_S  gate: wall seconds              (default 2)
#   MAX_RSS_MIB gate: peak RSS in MiB           (default 1024)
#
# The report goes to stdout (redirected to /dev/null), not `--output /dev/null`: --output
# writes atomically (temp file + rename), which would replace /dev/null itself when run as root.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

SIZES="${SIZES:-1000 10000 100000}"
SEED="${SEED:-1}"
RUNS="${RUNS:-3}"
GATE_SIZE="${GATE_SIZE:-100000}"
MAX_WALL_S="${MAX_WALL_S:-2}"
MAX_RSS_MIB="${MAX_RSS_MIB:-1024}"
AS_OF="2026-11-25"

bench_dir="$repo_root/target/bench"
mkdir -p "$bench_dir"

log() { printf '[bench.sh] %s\n' "$*" >&2; }
die() {
    printf '[bench.sh] error: %s\n' "$*" >&2
    exit 2
}

# GNU time measures wall time and peak RSS in one go.
gnu_time=/usr/bin/time
if ! { [ -x "$gnu_time" ] && "$gnu_time" -f '%e %M' true >/dev/null 2>&1; }; then
    [ "$(id -u)" -eq 0 ] || die "GNU time (/usr/bin/time) is required: apt-get install time"
    log "installing GNU time"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
command -v jq >/dev/null || die "jq is required to read the report summary"

log "cargo build --release --example synth --bin onwatch"
cargo build --release --example synth --bin onwatch >&2
target_dir="$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)"
onwatch="$target_dir/release/onwatch"
synth="$target_dir/release/examples/synth"

synth_hash="$(sha256sum examples/synth.rs | cut -c1-12)"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

rows=()
gate_status=0
gate_message=""
for size in $SIZES; do
    inventory="$bench_dir/inventory-$size-s$SEED.json"
    stats="$inventory.stats"
    if [ -f "$inventory" ] && [ -f "$stats" ] && grep -q "^synth-hash $synth_hash\$" "$stats"; then
        log "$size: reusing $inventory"
    else
        log "$size: generating $inventory"
        "$synth" --resources "$size" --seed "$SEED" --output "$inventory.tmp" 2>"$stats.tmp"
        mv "$inventory.tmp" "$inventory"
        echo "synth-hash $synth_hash" >>"$stats.tmp"
        mv "$stats.tmp" "$stats"
    fi
    file_mb="$(awk -v b="$(stat -c %s "$inventory")" 'BEGIN { printf "%.1f", b / 1e6 }')"
    alarms="$(sed -n 's/.* resources, \([0-9]*\) alarms,.*/\1/p' "$stats" | head -n1)"

    # One run that writes the report (and warms the page cache); its summary goes in the table.
    report="$bench_dir/report-$size.json"
    "$onwatch" check --inventory "$inventory" --format json --output "$report" --fail-on never --as-of "$AS_OF" ||
        die "$size: onwatch check failed (exit $?)"

    walls=()
    rsss=()
    for run in $(seq "$RUNS"); do
        measured="$(mktemp)"
        if ! "$gnu_time" -f '%e %M' -o "$measured" \
            "$onwatch" check --inventory "$inventory" --format json --fail-on never --as-of "$AS_OF" >/dev/null; then
            die "$size: onwatch check failed on run $run"
        fi
        read -r wall rss_kib < <(tail -n1 "$measured")
        rm -f "$measured"
        log "$size run $run: ${wall}s, $((rss_kib / 1024)) MiB"
        walls+=("$wall")
        rsss+=("$rss_kib")
    done
    wall="$(printf '%s\n' "${walls[@]}" | median)"
    rss_kib="$(printf '%s\n' "${rsss[@]}" | median)"
    rss_mib="$(awk -v k="$rss_kib" 'BEGIN { printf "%.0f", k / 1024 }')"

    read -r resources required covered missing misconfigured orphaned exempted coverage errors warnings infos < <(
        jq -r '.summary | [.resources, .required, .covered, .missing, .misconfigured, .orphaned, .exempted, .coverage_percent,
            .findings.error, .findings.warning, .findings.info] | map(tostring) | join(" ")' "$report"
    )
    coverage="$(printf '%.1f' "$coverage")"
    rows+=("| $size | $file_mb | $resources | $alarms | $wall | $rss_mib | $required | $covered | $missing | $misconfigured | $orphaned | $exempted | $coverage | $errors/$warnings/$infos |")

    if [ "$size" = "$GATE_SIZE" ]; then
        if awk -v w="$wall" -v mw="$MAX_WALL_S" -v r="$rss_kib" -v mr="$MAX_RSS_MIB" 'BEGIN { exit !(w <= mw && r <= mr * 1024) }'; then
            gate_message="PASS: $size resources in ${wall}s (limit ${MAX_WALL_S}s), peak RSS ${rss_mib} MiB (limit ${MAX_RSS_MIB} MiB)"
        else
            gate_status=1
            gate_message="FAIL: $size resources in ${wall}s (limit ${MAX_WALL_S}s), peak RSS ${rss_mib} MiB (limit ${MAX_RSS_MIB} MiB)"
        fi
    fi
done

# --- generate ---------------------------------------------------------------------------------
# Median wall seconds and peak RSS (KiB) of RUNS runs of a command; prints "wall rss_kib".
measure() {
    local walls=() rsss=() run measured wall rss_kib
    for run in $(seq "$RUNS"); do
        measured="$(mktemp)"
        "$gnu_time" -f '%e %M' -o "$measured" "$@" >/dev/null || die "failed: $*"
        read -r wall rss_kib < <(tail -n1 "$measured")
        rm -f "$measured"
        walls+=("$wall")
        rsss+=("$rss_kib")
    done
    echo "$(printf '%s\n' "${walls[@]}" | median) $(printf '%s\n' "${rsss[@]}" | median)"
}

GENERATE_SIZES="${GENERATE_SIZES:-$SIZES}"
generate_rows=()
for size in $GENERATE_SIZES; do
    inventory="$bench_dir/inventory-$size-s$SEED-1account.json"
    stats="$inventory.stats"
    if [ -f "$inventory" ] && [ -f "$stats" ] && grep -q "^synth-hash $synth_hash\$" "$stats"; then
        log "generate $size: reusing $inventory"
    else
        log "generate $size: generating $inventory"
        "$synth" --resources "$size" --seed "$SEED" --accounts 1 --output "$inventory.tmp" 2>"$stats.tmp"
        mv "$inventory.tmp" "$inventory"
        echo "synth-hash $synth_hash" >>"$stats.tmp"
        mv "$stats.tmp" "$stats"
    fi
    out="$bench_dir/generated-$size"
    rm -rf "$out"
    # The first run writes the module; the timed runs rewrite it (files compared, unchanged ones skipped).
    "$onwatch" generate --inventory "$inventory" --out "$out" --as-of "$AS_OF" --allow-deletions 2>/dev/null ||
        die "generate $size failed"
    alarms_out="$(grep -c '^resource "aws_cloudwatch_metric_alarm"' "$out/alarms.tf" || true)"
    module_mb="$(du -sb "$out" | awk '{ printf "%.1f", $1 / 1e6 }')"
    read -r wall rss_kib < <(measure "$onwatch" generate --inventory "$inventory" --out "$out" --as-of "$AS_OF" --allow-deletions)
    read -r cwall crss_kib < <(measure "$onwatch" generate --inventory "$inventory" --out "$out" --as-of "$AS_OF" --check)
    rss_mib="$(awk -v k="$rss_kib" 'BEGIN { printf "%.0f", k / 1024 }')"
    crss_mib="$(awk -v k="$crss_kib" 'BEGIN { printf "%.0f", k / 1024 }')"
    log "generate $size: ${wall}s, ${rss_mib} MiB; --check ${cwall}s"
    generate_rows+=("| $size | $alarms_out | $module_mb | $wall | $rss_mib | $cwall | $crss_mib |")
    limit=""
    case "$size" in
        10000) limit=1 ;;
        100000) limit=10 ;;
    esac
    if [ -n "$limit" ]; then
        if awk -v w="$wall" -v l="$limit" -v r="$rss_kib" 'BEGIN { exit !(w <= l && r <= 2048 * 1024) }'; then
            gate_message="$gate_message
PASS: generate $size resources in ${wall}s (limit ${limit}s), peak RSS ${rss_mib} MiB (limit 2048 MiB)"
        else
            gate_status=1
            gate_message="$gate_message
FAIL: generate $size resources in ${wall}s (limit ${limit}s), peak RSS ${rss_mib} MiB (limit 2048 MiB)"
        fi
    fi
done

# --- merge -------------------------------------------------------------------------------------
# Ten 10k-resource snapshots of ten different accounts (one synth account renamed per snapshot:
# shards hold disjoint scopes), merged into one.
MERGE_INPUTS="${MERGE_INPUTS:-10}"
MERGE_SIZE="${MERGE_SIZE:-10000}"
merge_inputs=()
for i in $(seq 0 $((MERGE_INPUTS - 1))); do
    part="$bench_dir/merge-$MERGE_SIZE-s$SEED-$i.json"
    if ! [ -f "$part" ] || ! grep -q "^synth-hash $synth_hash\$" "$part.stats" 2>/dev/null; then
        "$synth" --resources "$MERGE_SIZE" --seed "$((SEED + i))" --accounts 1 --output - 2>/dev/null |
            sed "s/111122223333/$(printf '5000000000%02d' "$i")/g" >"$part.tmp"
        mv "$part.tmp" "$part"
        echo "synth-hash $synth_hash" >"$part.stats"
    fi
    merge_inputs+=("$part")
done
merged="$bench_dir/merged.json"
read -r mwall mrss_kib < <(measure "$onwatch" merge "${merge_inputs[@]}" --output "$merged")
mrss_mib="$(awk -v k="$mrss_kib" 'BEGIN { printf "%.0f", k / 1024 }')"
mresources="$(jq '.resources | length' "$merged")"
log "merge $MERGE_INPUTS x $MERGE_SIZE: ${mwall}s, ${mrss_mib} MiB"
if awk -v w="$mwall" 'BEGIN { exit !(w <= 2) }'; then
    gate_message="$gate_message
PASS: merge of $MERGE_INPUTS snapshots of $MERGE_SIZE resources in ${mwall}s (limit 2s), peak RSS ${mrss_mib} MiB"
else
    gate_status=1
    gate_message="$gate_message
FAIL: merge of $MERGE_INPUTS snapshots of $MERGE_SIZE resources in ${mwall}s (limit 2s), peak RSS ${mrss_mib} MiB"
fi

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo
echo "onwatch check --format json, release build, median of $RUNS runs; $machine; seed $SEED"
echo
echo "| size | inventory (MB) | resources | alarms | wall (s) | peak RSS (MiB) | required | covered | missing | misconfigured | orphaned | exempted | coverage % | findings e/w/i |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "onwatch generate (one account), release build, median of $RUNS runs"
echo
echo "| resources | alarms generated | module (MB) | generate wall (s) | peak RSS (MiB) | --check wall (s) | --check peak RSS (MiB) |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${generate_rows[@]}"
echo
echo "onwatch merge, release build, median of $RUNS runs"
echo
echo "| snapshots | resources each | resources merged | wall (s) | peak RSS (MiB) |"
echo "|---:|---:|---:|---:|---:|"
echo "| $MERGE_INPUTS | $MERGE_SIZE | $mresources | $mwall | $mrss_mib |"
echo
if [ -n "$gate_message" ]; then
    echo "${gate_message#$'\n'}"
else
    echo "gates skipped: size $GATE_SIZE not in SIZES"
fi
exit "$gate_status"
