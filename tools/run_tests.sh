#!/bin/sh
# Runs every Check suite given on the command line, prints each suite's own
# summary and, last, one line "N passed, N failed" over all of them.
# Exit status: 0 only if every suite ran and every check passed.
: "${CK_DEFAULT_TIMEOUT:=900}"
export CK_DEFAULT_TIMEOUT
passed=0; failed=0; broken=0
log=$(mktemp) || exit 1
trap 'rm -f "$log"' EXIT
for t in "$@"; do
    echo "== $t"
    "$t" >"$log" 2>&1
    rc=$?
    cat "$log"
    line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "!! $t ended (status $rc) without a Check summary"
        broken=$((broken + 1)); failed=$((failed + 1)); continue
    fi
    n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
    f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
    e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
    passed=$((passed + n - f - e)); failed=$((failed + f + e))
    [ "$rc" -ne 0 ] && [ $((f + e)) -eq 0 ] && { echo "!! $t exited $rc"; failed=$((failed + 1)); }
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
