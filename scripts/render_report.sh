#!/usr/bin/env bash
# Looks at a study report as a person would: renders DIR/report.html with
# Debian's headless Chromium to DIR/report.png (installed on first use).
# Usage: scripts/render_report.sh DIR [WIDTH] [HEIGHT]
set -euo pipefail
DIR=${1:?usage: scripts/render_report.sh STUDY_DIR [WIDTH] [HEIGHT]}
WIDTH=${2:-1200}
HEIGHT=${3:-9000}
[ -f "$DIR/report.html" ] || { echo "render_report: no $DIR/report.html (run smoes study first)" >&2; exit 1; }
command -v chromium >/dev/null || EXTRA_PACKAGES=chromium bash "$(dirname "$0")/bootstrap.sh"
html=$(readlink -f "$DIR/report.html")
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="$WIDTH,$HEIGHT" \
  --screenshot="$(readlink -f "$DIR")/report.png" "file://$html" 2>/dev/null
echo "render_report: wrote $DIR/report.png"
