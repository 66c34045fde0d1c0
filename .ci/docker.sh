#!/usr/bin/env bash
# CI for the docker platform, as root on a fresh Debian bookworm machine (or any machine with an
# engine): install Docker and debootstrap when missing, start dockerd when none answers, build
# every image with one command, run the docker tests. No container registry needed: without one
# the build makes its base images from the machine's apt mirror (debootstrap).
#
#   .ci/docker.sh                  PYTHON=/path/to/python .ci/docker.sh
#
# Leaves nothing running: runs this harness left behind are removed and a dockerd this script
# started is stopped at exit, whether the steps pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$1" "$(($(date +%s) - started))"; }

export CI="${CI:-true}" REQUIRE_DOCKER=1 DEBIAN_FRONTEND=noninteractive
DOCKERD_LOG="${DOCKERD_LOG:-/tmp/chaos-dockerd.log}"
dockerd_pid=""

step "packages"
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if ((${#missing[@]})); then
    [ "$(id -u)" = 0 ] || { echo "need root to install ${missing[*]}" >&2; exit 3; }
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" ca-certificates >/dev/null
fi

PYTHON="${PYTHON:-.venv/bin/python}"
if [ ! -x "$PYTHON" ]; then
    step "python environment (.venv)"
    python3 -m venv .venv
    PYTHON=.venv/bin/python
    "$PYTHON" -m pip install --quiet --upgrade pip
fi
"$PYTHON" -c 'import fastapi, PIL, psycopg2, pytest, redis, requests' 2>/dev/null \
    || "$PYTHON" -m pip install --quiet -e '.[test]'

cleanup() {
    status=$?
    step "cleanup"
    if docker info >/dev/null 2>&1; then
        "$PYTHON" -c 'from chaos.platforms.docker import DockerPlatform as P
print("removed", P.cleanup_leftovers())' || true
    fi
    if [ -n "$dockerd_pid" ]; then
        kill "$dockerd_pid" 2>/dev/null || true
        wait "$dockerd_pid" 2>/dev/null || true
        echo "stopped dockerd"
    fi
    echo "total $(($(date +%s) - started)) s, exit $status"
    exit "$status"
}
trap cleanup EXIT

if ! docker info >/dev/null 2>&1; then
    step "dockerd"
    rm -f /var/run/docker.pid
    dockerd >"$DOCKERD_LOG" 2>&1 &
    dockerd_pid=$!
    for _ in $(seq 60); do
        docker info >/dev/null 2>&1 && break
        kill -0 "$dockerd_pid" 2>/dev/null || break
        sleep 1
    done
    docker info >/dev/null 2>&1 || { tail -n 30 "$DOCKERD_LOG" >&2; exit 3; }
fi

step "images"
"$PYTHON" -m chaos.images.build

step "docker tests"
"$PYTHON" -m pytest tests/docker tests/contract -q -p no:cacheprovider

step "the runbook scenarios on the docker platform"
"$PYTHON" -m chaos run --platform docker --out "${CHAOS_DOCKER_OUT:-runs/docker}" \
    redis-restart job-recovery db-restart scale-under-load redis-partition
step "done"
