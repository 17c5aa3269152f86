#!/usr/bin/env bash
# Builds the static musl binary for a target and proves it is static, starts, and answers
# /healthz over HTTPS (verified against the CA it made). Usage: scripts/static-check.sh [TRIPLE]
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-x86_64-unknown-linux-musl}"
run=()
case "$target" in
  x86_64-unknown-linux-musl) ;;
  aarch64-unknown-linux-musl) run=(qemu-aarch64) ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac

rustup target add "$target" >/dev/null
cargo build --release --locked --target "$target"
bin="target/$target/release/hotline"

if readelf -l "$bin" | grep -q 'INTERP'; then
  echo "FAIL: $bin asks for a dynamic loader" >&2
  exit 1
fi
size=$(stat -c %s "$bin")
echo "static binary $bin: $size bytes ($(( size / 1024 / 1024 )) MiB)"
"${run[@]}" "$bin" --version

# A release binary never trusts the repository's development key (its private half is in git).
devbundle=$(mktemp)
"${run[@]}" "$bin" update sign --key keys/dev-update.key --binary "$bin" --version 99.0.0 \
  --target "$target" --out "$devbundle" >/dev/null
if verdict=$("${run[@]}" "$bin" update verify "$devbundle" 2>&1); then
  echo "FAIL: the release binary accepts a bundle signed with the development key" >&2
  exit 1
fi
rm -f "$devbundle"
echo "release binary refuses the development key: $verdict"

data=$(mktemp -d)
port=$(( 20000 + RANDOM % 20000 ))
"${run[@]}" "$bin" serve --data "$data" --listen "127.0.0.1:$port" >"$data/stdout.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
ok=
for _ in $(seq 1 100); do
  if curl -fsS --cacert "$data/tls/ca.pem" "https://127.0.0.1:$port/healthz" 2>/dev/null | grep -q '"ok"'; then
    ok=1
    break
  fi
  sleep 0.2
done
if [ -z "$ok" ]; then
  echo "FAIL: no /healthz answer" >&2
  cat "$data/stdout.log" >&2
  exit 1
fi
kill -TERM "$pid"
wait "$pid"
echo "static $target binary starts, answers /healthz and stops cleanly on SIGTERM"
