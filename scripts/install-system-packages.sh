#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the tests and the demo need, only those missing.
# Usage: scripts/install-system-packages.sh [test|demo]
set -euo pipefail

want=(mosquitto mosquitto-clients ffmpeg gir1.2-gst-rtsp-server-1.0 python3-gi python3-gst-1.0
      gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
      gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools fonts-dejavu-core)
if [ "${1:-test}" = "test" ]; then
  want+=(chromium postgresql)
fi

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
# apt drops privileges to _apt for downloads; where /dev/null is not writable by other users
# (some containers) that fails, so apt must stay root.
apt_opts=()
if ! runuser -u _apt -- test -w /dev/null 2>/dev/null; then
  apt_opts=(-o APT::Sandbox::User=root)
fi
echo "installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get "${apt_opts[@]}" update -qq || apt-get -o APT::Sandbox::User=root update -qq
apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
