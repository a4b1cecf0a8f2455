#!/bin/sh
# docs/make-gui-images.sh - remake the timeline images of docs/user-guide.md
# (docs/images/timeline-example.png, window-selection.png, window-lock-flows.png,
# window-dark.png: the lock and flows picture under GTK_THEME=Adwaita:dark; window-search.png:
# the function record found and its waits highlighted; window-critpath.png: the critical path;
# window-whatif.png: hist_lock chosen and replayed without its waits;
# window-waits.png: the Waits page zoomed to the workers' function worker, the box record chosen;
# window-openmp.png: tests/programs/fx-openmp, an OpenMP program, and its findings)
# from a new recording of the bundled example, and print what the text around
# them quotes: the report's summary and findings, the Selection page's numbers,
# and the longest wait on hist_lock.
# SPDX-License-Identifier: MIT
#
# usage: sh docs/make-gui-images.sh [BUILD_DIR]   (from the source root; needs xvfb-run)
set -eu
B=${1:-build}
W=$B/analyzer/weft
G=$B/gui/weft-gui
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

"$W" record -q -f -o "$T/example.db" -- "$B/tests/example/weft-example" >/dev/null
"$W" report --top 3 "$T/example.db" | sed -n '/^Summary/,/^$/p;/^Findings/,/^$/p'
lock=$(sqlite3 "$T/example.db" "SELECT object_id FROM sync_object WHERE name = 'hist_lock'")

shot() { # IMAGE [ARGS...]
  img=$1
  shift
  xvfb-run -a "$G" --screenshot "docs/images/$img" "$@" "$T/example.db"
}
shot timeline-example.png --size 1400x420
shot window-selection.png --window --size 1600x800 --select 20ms..70ms --page selection
shot window-lock-flows.png --window --size 1600x840 --lock "$lock" --actions flows --page details
shot window-search.png --window --size 1600x700 --search record --pick 1
shot window-critpath.png --window --size 1600x700 --actions critical-path
shot window-whatif.png --window --size 1600x700 --lock "$lock" --what-if "lock:#$lock"
# the boxes of the functions worker and record (their indices in the dump's preorder, 1-based)
xvfb-run -a "$G" --dump "$T/waits.json" --page waits "$T/example.db"
box() { python3 -c 'import json, sys; print(1 + [n["function"] for n in json.load(open(sys.argv[1]))["waits"]["nodes"]].index(sys.argv[2]))' "$T/waits.json" "$1"; }
shot window-waits.png --window --size 1600x700 --zoom-frame "$(box worker)" --frame "$(box record)"
GTK_THEME=Adwaita:dark xvfb-run -a "$G" --screenshot docs/images/window-dark.png --window --size 1600x600 \
  --lock "$lock" --actions flows --page findings "$T/example.db"

echo "== the Selection page, 20 ms .. 70 ms"
xvfb-run -a "$G" --dump - --select 20ms..70ms "$T/example.db" |
  python3 -c 'import json, sys; p = json.load(sys.stdin)["panel"]; print(json.dumps(p["summary"], indent=1)); print([(o["label"], o["wait_share"]) for o in p["sync_objects"]])'
echo "== hist_lock (--lock $lock): the longest wait"
xvfb-run -a "$G" --dump - --lock "$lock" "$T/example.db" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["details"]["text"])'

# window-openmp.png: an OpenMP program (tests/programs/fx-openmp: 4 unbalanced regions with serial
# code between, a loop region, critical sections) and its findings
if [ -x "$B/tests/programs/fx-openmp" ]; then
  "$W" record -q -f -o "$T/openmp.db" -- "$B/tests/programs/fx-openmp" 4 20000 50 >/dev/null
  xvfb-run -a "$G" --screenshot docs/images/window-openmp.png --window --size 1500x600 --page findings "$T/openmp.db"
fi
