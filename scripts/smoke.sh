#!/usr/bin/env bash
# Post-deploy smoke test (see scripts/smoke.py): scripts/smoke.sh API_URL
# Python 3's standard library only; set SMOKE_ADMIN_EMAIL/SMOKE_ADMIN_PASSWORD to buy a product
# made for the test rather than the first one in stock.
exec python3 "$(dirname "$0")/smoke.py" "$@"
