#!/bin/sh
# docs/make-python-images.sh - remake the images of docs/python.md
# (docs/images/python-*.png) from the example scripts, with /usr/bin/python3,
# and print each example's findings for the text around them.
# SPDX-License-Identifier: MIT
#
# usage: sh docs/make-python-images.sh [BUILD_DIR]   (from the source root; needs xvfb-run)
set -eu
B=${1:-build}
W=$B/analyzer/weft
G=$B/gui/weft-gui
P=tests/programs/python
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

rec() { # NAME SCRIPT [ARGS...]
  name=$1
  shift
  "$W" record -q -f -o "$T/$name.db" -- /usr/bin/python3 "$P/$@" >/dev/null
  echo "== $name"
  "$W" report --top 3 "$T/$name.db" | sed -n '/^Findings/,/^$/p'
}
shot() { # NAME IMAGE [ARGS...]
  name=$1 img=$2
  shift 2
  xvfb-run -a -s "-screen 0 1920x1080x24" "$G" --screenshot "docs/images/$img" "$@" "$T/$name.db"
}

rec threading gil_threads.py
shot threading python-threading.png --size 1400x500
shot threading python-findings.png --window --size 1400x600 --page findings --finding 1
rec multiprocessing unbalanced_pool.py
shot multiprocessing python-multiprocessing.png --size 1400x500
rec futures io_threads.py
shot futures python-futures.png --size 1400x500
rec joblib joblib_pool.py
shot joblib python-joblib.png --size 1400x500
rec pipeline slow_consumer.py
shot pipeline python-pipeline.png --window --size 1400x600 --page findings --finding 1
