#!/usr/bin/env bash
# The HTML report on the example account and on synthetic accounts: its size, the time to write it
# (`onwatch check --format html --output FILE`, median of RUNS, with peak RSS), and in headless
# Chromium the time to first contentful paint, to the load event, and to filter, search and page the
# findings table (tests/browser/report.mjs, scenario `measure`, timed inside the page).
#
#   scripts/bench-html.sh        SIZES (default "10000 100000"), RUNS (default 3), SEED (default 1)
#
# Inventories come from examples/synth.rs and are cached in target/bench/ as scripts/bench.sh
# caches them. Builds the release profile (ONWATCH_BENCH_PROFILE=dev for the debug build). Needs
# Chromium and playwright-core as scripts/test.sh installs them (ONWATCH_CHROMIUM,
# ONWATCH_PLAYWRIGHT; defaults /usr/bin/chromium and .tools/browser/node_modules/playwright-core).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
SIZES="${SIZES:-10000 100000}"
RUNS="${RUNS:-3}"
SEED="${SEED:-1}"
AS_OF="2026-11-25"
profile="${ONWATCH_BENCH_PROFILE:-release}"
export ONWATCH_CHROMIUM="${ONWATCH_CHROMIUM:-/usr/bin/chromium}"
export ONWATCH_PLAYWRIGHT="${ONWATCH_PLAYWRIGHT:-$repo_root/.tools/browser/node_modules/playwright-core}"
bench_dir="$repo_root/target/bench"
mkdir -p "$bench_dir"

log() { printf '[bench-html.sh] %s\n' "$*" >&2; }
die() {
    printf '[bench-html.sh] error: %s\n' "$*" >&2
    exit 2
}
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is required: apt-get install time"

cargo build --profile "$profile" --locked --example synth --bin onwatch >&2
target="${CARGO_TARGET_DIR:-$repo_root/target}"
if [ "$profile" = dev ]; then bin="$target/debug"; else bin="$target/$profile"; fi
onwatch="$bin/onwatch"
synth="$bin/examples/synth"
synth_hash="$(sha256sum examples/synth.rs | cut -c1-12)"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# One row: the inventory's label and path.
measure() {
    local label=$1 inventory=$2 html="$bench_dir/report-$1.html" json="$bench_dir/report-$1.json" walls=() rsss=() run wall rss
    "$onwatch" check --inventory "$inventory" --as-of "$AS_OF" --fail-on never --format json --output "$json"
    for run in $(seq "$RUNS"); do
        read -r wall rss < <(/usr/bin/time -f '%e %M' "$onwatch" check --inventory "$inventory" --as-of "$AS_OF" --fail-on never \
            --format html --output "$html" 2>&1 >/dev/null | tail -n1)
        walls+=("$wall")
        rsss+=("$rss")
    done
    wall="$(printf '%s\n' "${walls[@]}" | median)"
    rss="$(printf '%s\n' "${rsss[@]}" | median)"
    local browser
    browser="$(node tests/browser/report.mjs measure "$html" "$json" "$bench_dir/browser-$label" | grep '^{')" || die "$label: the browser run failed"
    local figures
    figures="$(printf '%s' "$browser" | jq -r '[.bytes / 1e6, .findings, .first_contentful_paint_ms, .load_event_ms, .severity_filter_ms, .search_ms, .next_page_ms]
        | map(if type == "number" then (. * 10 | round / 10) else . end) | map(tostring) | join(" | ")')"
    log "$label: $browser"
    echo "| $label | $figures | $wall | $((rss / 1024)) |"
}

rows=("$(measure example examples/inventory.json)")
for size in $SIZES; do
    inventory="$bench_dir/inventory-$size-s$SEED.json"
    stats="$inventory.stats"
    if ! { [ -f "$inventory" ] && [ -f "$stats" ] && grep -q "^synth-hash $synth_hash\$" "$stats"; }; then
        log "$size: generating $inventory"
        "$synth" --resources "$size" --seed "$SEED" --output "$inventory.tmp" 2>"$stats.tmp"
        mv "$inventory.tmp" "$inventory"
        echo "synth-hash $synth_hash" >>"$stats.tmp"
        mv "$stats.tmp" "$stats"
    fi
    rows+=("$(measure "$size" "$inventory")")
done

echo
echo "onwatch check --format html, $profile build, write time median of $RUNS runs; $(nproc) cores; Chromium $(chromium --version 2>/dev/null | awk '{print $2}')"
echo
echo "| inventory | page (MB) | findings | first contentful paint (ms) | load event (ms) | severity filter (ms) | search (ms) | next page (ms) | write wall (s) | write peak RSS (MiB) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
