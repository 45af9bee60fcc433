#!/usr/bin/env bash
# venomqa in CI: replays the learned journeys, mutated, against the test
# target and leaves everything a CI publishes in $VENOMQA_OUT (default
# venomqa-out/): junit.xml, venomqa.json, report.html and reproducers/.
# The exit code is venomqa's: 0 clean (everything planned was tested),
# 1 findings, 2 configuration, 3 target unusable, 4 incomplete (a budget ran
# out first). Both recipes in this directory run exactly this script.
#
#   QA_DIR          the directory `venomqa init` wrote (default qa)
#   VENOMQA_TARGET  the target's URL, when not the one in QA_DIR/venomqa.toml
#   VENOMQA         the venomqa binary (default: venomqa on the PATH)
#   VENOMQA_*_PASSWORD and the like: the test users' secrets `init` listed
set -uo pipefail

venomqa="${VENOMQA:-venomqa}"
qa="${QA_DIR:-qa}"
out="${VENOMQA_OUT:-venomqa-out}"
mkdir -p "$out"

args=(run "$qa" --color never
  --junit "$out/junit.xml" --json "$out/venomqa.json"
  --html "$out/report.html" --out "$out/reproducers")
if [ -n "${VENOMQA_TARGET:-}" ]; then
  args+=(--target "$VENOMQA_TARGET")
fi

"$venomqa" "${args[@]}"
code=$?
case "$code" in
  0) echo "venomqa: clean: every planned test ran, nothing found" ;;
  1) echo "venomqa: findings: see $out/report.html and $out/reproducers/" ;;
  4) echo "venomqa: incomplete: a budget ran out before the plan was tested; raise [budget] in $qa/venomqa.toml" ;;
  *) echo "venomqa: could not test (exit $code): see the error above and $out/junit.xml" ;;
esac
exit "$code"
