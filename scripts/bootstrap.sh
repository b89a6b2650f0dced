# Sourced by ./run and ./test: installs what Legato needs on a Debian/Ubuntu machine.
# Debian packages are installed only when missing (as root) or named in one exact line otherwise;
# the virtualenv is rebuilt only when pyproject.toml changes.

RUN_DEBS=(libportaudio2 libasound2-plugins libegl1 libgl1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
          libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xinerama0
          libxcb-xkb1
          libfontconfig1 libglib2.0-0 libdbus-1-3)
# nginx: the edge cache of `legato-server edge` (Debian's build has the slice module), in its tests and the
# release-day benchmark. sound-theme-freedesktop and vorbis-tools: Ogg Vorbis nobody here made, and oggdec.
# wamerican: the word list `legato-server catalog synth` names tracks from (search tests and benchmark).
# postgresql: the server's second engine; tests start a private cluster of their own with its binaries
# (tests/helpers/postgres.py), never the system one.
TEST_DEBS=(pulseaudio pulseaudio-utils dbus dbus-x11 gnome-keyring libglib2.0-bin xvfb xauth nginx
           sound-theme-freedesktop vorbis-tools wamerican postgresql)

missing_debs() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
    done
}

ensure_debs() {
    local missing
    missing=$(missing_debs "$@" | tr '\n' ' ')
    [ -z "${missing// /}" ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        echo "legato: installing Debian packages: $missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq $missing >/dev/null
    else
        echo "legato: missing Debian packages. Install them with:" >&2
        echo "  sudo apt-get install -y $missing" >&2
        return 1
    fi
}

ensure_venv() {
    local extras="$1" stamp
    command -v python3 >/dev/null || { echo "legato: python3 (>= 3.11) is required" >&2; return 1; }
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || { echo "legato: Python >= 3.11 is required, found $(python3 --version)" >&2; return 1; }
    [ -x .venv/bin/python ] || python3 -m venv .venv
    stamp=".venv/.legato-$(sha256sum pyproject.toml | cut -c1-16)-${extras:-base}"
    if [ ! -e "$stamp" ]; then
        echo "legato: installing Python packages into .venv"
        if ! { .venv/bin/python -m pip install -q --upgrade pip \
               && .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"; } >.venv/pip.log 2>&1; then
            tail -n 30 .venv/pip.log >&2
            echo "legato: installing Python packages failed; the whole log is in .venv/pip.log" >&2
            return 1
        fi
        rm -f .venv/.legato-*
        touch "$stamp"
    fi
}
