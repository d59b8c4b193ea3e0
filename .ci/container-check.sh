#!/usr/bin/env bash
# The container, really built and run (called by .ci/run; runnable alone: `bash .ci/container-check.sh`).
# Builds the Dockerfile with podman (offline from image registries: podman-setup.sh makes a local
# node:24-slim), creates a key, runs the image, creates a generation against its built-in simulator
# through the published port and watches it complete, runs the HEALTHCHECK, checks that nothing runs
# as root, stops it with SIGTERM and expects a clean exit, and prints the image size.
# Every step is one check; the last line is `container: N passed, N failed` (.ci/run adds it to its
# totals). A machine without podman and without the setup script skips loudly and counts one failure
# under CI (CI=true), none elsewhere.
set -uo pipefail
cd "$(dirname "$0")/.."

IMAGE=veo-gateway:ci
NAME=veo-gateway-ci-$$
VOLUME=veo-gateway-ci-data-$$
passed=0
failed=0
work=$(mktemp -d)

pass() { echo "  ok   $1"; passed=$((passed + 1)); }
fail() {
  echo "  FAIL $1"
  failed=$((failed + 1))
}
finish() {
  podman rm -f "$NAME" >/dev/null 2>&1
  podman volume rm -f "$VOLUME" >/dev/null 2>&1
  rm -rf "$work"
  echo "container: ${passed} passed, ${failed} failed"
  exit $((failed > 0))
}
trap finish EXIT

# The setup script lives next to the checkout (../shared from the main clone, ../../shared from a worktree).
setup=""
for candidate in "${PODMAN_SETUP:-}" ../shared/container/podman-setup.sh ../../shared/container/podman-setup.sh; do
  if [ -n "$candidate" ] && [ -f "$candidate" ]; then setup=$candidate; break; fi
done

echo "== container: podman setup"
if [ -n "$setup" ]; then
  if base=$(bash "$setup" 2>"$work/setup.log" | tail -n 1); then pass "podman and the base image ($base)"; else
    tail -20 "$work/setup.log"
    fail "podman setup ($setup)"
    exit
  fi
elif command -v podman >/dev/null; then
  pass "podman present (no setup script found; using the machine's podman and its images)"
else
  echo "!! SKIPPED: no podman and no podman-setup.sh: the container was NOT built or checked"
  if [ "${CI:-}" = true ]; then fail "container check could not run under CI"; fi
  exit
fi

echo "== container: build"
started=$(date +%s)
if podman build --format docker --network host -t "$IMAGE" . >"$work/build.log" 2>&1; then
  pass "image built in $(($(date +%s) - started)) s"
else
  tail -40 "$work/build.log"
  fail "podman build"
  exit
fi
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "  image size: $((size / 1000000)) MB ($size bytes)"

user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
if [ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ]; then pass "image runs as user '$user', not root"; else
  fail "image user is '${user:-root (unset)}'"
fi
healthcheck=$(podman image inspect --format '{{json .Config.Healthcheck}}' "$IMAGE")
if grep -q healthz <<<"$healthcheck"; then pass "HEALTHCHECK kept in the image"; else fail "no HEALTHCHECK in the image: $healthcheck"; fi

echo "== container: a key, then the gateway"
podman volume create "$VOLUME" >/dev/null
# The embedded store has one user at a time: the key is created before the gateway starts, as docs/operations.md says.
if key_output=$(timeout 180 podman run --rm -v "$VOLUME:/data" "$IMAGE" node dist/cli/keys.js create --owner ci 2>&1) &&
  key=$(sed -nE 's/.*Key \(shown once, store it now\): (vgw_[A-Za-z0-9_-]+).*/\1/p' <<<"$key_output") && [ -n "$key" ]; then
  pass "key created with the image's key CLI"
else
  echo "$key_output" | tail -20
  fail "key CLI"
  exit
fi

# Without systemd podman cannot schedule the HEALTHCHECK and says so on stderr; it is run by hand below.
# TRUSTED_DOCUMENTS=off: the checks below send documents of their own, which the image's production default (require) refuses.
if podman run -d --name "$NAME" -p 127.0.0.1::4000 -v "$VOLUME:/data" -e SIMULATOR_TIME_SCALE=0.02 -e TRUSTED_DOCUMENTS=off "$IMAGE" >/dev/null 2>"$work/run.log"; then
  port=$(podman port "$NAME" 4000 | head -n 1 | sed -E 's/.*:([0-9]+)$/\1/')
  origin="http://127.0.0.1:${port}"
  ready=""
  for _ in $(seq 1 120); do
    if curl -fs -m 2 "$origin/readyz" >/dev/null 2>&1; then ready=yes; break; fi
    sleep 1
  done
  if [ -n "$ready" ]; then pass "ready on the published port $port"; else
    podman logs "$NAME" 2>&1 | tail -30
    fail "not ready within 120 s"
    exit
  fi
else
  cat "$work/run.log"
  fail "podman run"
  exit
fi

process_user=$(podman exec "$NAME" id -u 2>/dev/null)
if [ -n "$process_user" ] && [ "$process_user" != 0 ]; then pass "gateway process runs as uid $process_user"; else fail "gateway process uid '${process_user}'"; fi

echo "== container: a generation through the published port"
gql() {
  curl -s -m 10 "$origin/graphql" -H "authorization: Bearer $key" -H 'content-type: application/json' -d "$1"
}
created=$(gql '{"query":"mutation { createVideoGeneration(input: {model: \"google/veo-3.0-fast\", prompt: \"A lighthouse at dusk\", durationSeconds: 4}) { id status } }"}')
id=$(node -e 'const r = JSON.parse(process.argv[1]); process.stdout.write(r.data?.createVideoGeneration?.id ?? "")' "$created" 2>/dev/null)
if [ -n "$id" ]; then pass "generation $id created"; else
  echo "  answer: $created"
  fail "create"
  exit
fi
status=""
for _ in $(seq 1 120); do
  answer=$(gql "{\"query\":\"{ videoGeneration(id: \\\"$id\\\") { status video { url } } }\"}")
  status=$(node -e 'const r = JSON.parse(process.argv[1]); process.stdout.write(r.data?.videoGeneration?.status ?? "")' "$answer" 2>/dev/null)
  case "$status" in COMPLETED | FAILED | CANCELLED | TIMED_OUT) break ;; esac
  sleep 1
done
if [ "$status" = COMPLETED ]; then pass "generation COMPLETED with a video URL"; else
  echo "  last answer: $answer"
  fail "generation ended '${status:-still pending}'"
fi

echo "== container: HEALTHCHECK and SIGTERM"
if podman healthcheck run "$NAME" >/dev/null 2>&1; then pass "the HEALTHCHECK command succeeds"; else fail "the HEALTHCHECK command failed"; fi

started=$(date +%s)
podman stop -t 30 "$NAME" >/dev/null 2>&1
took=$(($(date +%s) - started))
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$NAME")
if [ "$exit_code" = 0 ] && [ "$took" -lt 30 ] && podman logs "$NAME" 2>&1 | grep -q '"msg":"stopped"'; then
  pass "SIGTERM: stopped cleanly in ${took} s (exit code 0)"
else
  podman logs "$NAME" 2>&1 | tail -10
  fail "SIGTERM: exit code ${exit_code} after ${took} s"
fi
