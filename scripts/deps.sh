#!/usr/bin/env bash
# Installs the Debian packages sluice builds and tests with, when any is missing.
# Idempotent: a machine that has them all runs no apt command at all.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libssl-dev libsqlite3-dev sqlite3 libpq-dev
  # the PostgreSQL pool's tests and benchmarks start throwaway servers (scripts/pg_server.sh)
  postgresql-15 postgresql-client-15
  libsnappy-dev libzstd-dev zlib1g-dev liblz4-dev libbrotli-dev
  libexpat1-dev nlohmann-json3-dev libsimdjson-dev libcli11-dev libyaml-cpp-dev
  libargon2-dev  # admin users' passwords (Argon2id)
  libcurl4-openssl-dev  # webhook and e-mail alerts (src/sluice/alerts)
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev llvm clang-format clang-tidy
  # the real S3 clients of the end-to-end tests, and the upload benchmark's reference server
  curl openssl s3cmd rclone nginx-light
  # the SMTP sink of the alert tests (tests/e2e/test_alerts.py runs Debian's python3 with it)
  python3-aiosmtpd
  # the web console's browser tests (tests/browser), driven by npm playwright-core
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
