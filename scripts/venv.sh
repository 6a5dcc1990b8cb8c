# Sourced by the scripts: makes ./.venv from requirements-dev.txt (pinned) when it is missing
# or the requirements changed, and sets PY to its python. Needs only python3.
VENV="${VENV:-$PWD/.venv}"
stamp="$VENV/.requirements-$(python3 -c 'import hashlib,sys;print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest()[:16])' requirements-dev.txt)"
if [[ ! -f "$stamp" ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
    rm -f "$VENV"/.requirements-*
    touch "$stamp"
fi
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"
