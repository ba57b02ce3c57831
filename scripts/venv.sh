# Sourced by the other scripts: make .venv with a Python 3.11 or newer.
for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
  [ -n "$candidate" ] || continue
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    PYTHON_FOR_VENV=$candidate
    break
  fi
done
if [ -z "${PYTHON_FOR_VENV:-}" ]; then
  echo "kizuna needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON_FOR_VENV" -m venv .venv
fi
