#!/usr/bin/env bash
# Installs what building and testing wsqt needs on Debian 12 (as root), only
# what is missing. Usage: scripts/deps.sh [run|test]
set -euo pipefail

purpose=${1:-test}
packages=(cmake ninja-build g++ pkg-config qt6-base-dev qt6-declarative-dev libssl-dev zlib1g-dev
          qml6-module-qtquick qml6-module-qtquick-controls qml6-module-qtquick-layouts
          qml6-module-qtquick-window qml6-module-qtqml-workerscript qml6-module-qtquick-templates)
if [ "$purpose" = test ]; then
    packages+=(qml6-module-qttest qt6-httpserver-dev qt6-websockets-dev python3 python3-websockets
               openssl clang libclang-rt-14-dev libbenchmark-dev tinyproxy dante-server microsocks chromium
               iproute2 nftables doxygen)
    command -v node >/dev/null 2>&1 || packages+=(nodejs)
    command -v npm >/dev/null 2>&1 || packages+=(npm)
fi

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
