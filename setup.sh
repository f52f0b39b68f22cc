#!/usr/bin/env bash
# Set up everything the installation needs on Debian 12+: system packages (idempotent),
# a virtual environment in .venv, and the package itself (a plain, non-editable install).
#   ./setup.sh            install or update
#   HER_SKIP_APT=1 ./setup.sh   skip the Debian packages (no root, already installed)
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(
    python3-venv            # venv for the system Python
    jackd2                  # real-time audio server (JACK); tests use its dummy driver
    liblo-tools             # oscsend / oscdump: a second, non-Python OSC implementation
    libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri   # EGL + Mesa: headless OpenGL rendering
    xvfb xauth              # a virtual display for window tests
    espeak-ng sox           # synthetic speech and audio checks in tests
)

log() { printf '\033[1;33m[setup]\033[0m %s\n' "$*"; }

if [[ "${HER_SKIP_APT:-0}" != 1 ]]; then
    missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        SUDO=""
        [[ $(id -u) -ne 0 ]] && SUDO="sudo"
        log "installing Debian packages: ${missing[*]}"
        $SUDO apt-get update -q
        # jackd2 asks about real-time priority unless told not to.
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            --no-install-recommends "${missing[@]}"
    else
        log "Debian packages already installed"
    fi
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "Python >= 3.11 is needed ($PYTHON is $("$PYTHON" --version 2>&1))" >&2; exit 1; }

if [[ ! -x .venv/bin/python ]]; then
    log "creating the virtual environment .venv"
    "$PYTHON" -m venv .venv
fi
log "installing the package and its dependencies into .venv"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q ".[test]"
log "ready: .venv/bin/installation --help"
