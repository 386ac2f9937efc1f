# Sourced by the view's shell tests: fail MESSAGE, a scratch folder $tmp
# removed on exit, $here (the tests folder), and SDL on its dummy video
# driver with no X display, so a test draws the same pixels everywhere.
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset DISPLAY
export SDL_VIDEODRIVER=dummy
