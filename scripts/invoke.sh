#!/usr/bin/env bash
# Runs a function's real Lambda binary on an event, without Docker (the Docker-free
# `sam local invoke`): moto server and the local server on loopback provide the table, the
# queue, SES, and real tokens and ids for the event's {{placeholders}}.
#
#   scripts/invoke.sh FUNCTION [EVENT]   e.g. scripts/invoke.sh cart cart-add_item
#   scripts/invoke.sh --all              one sample event through each of the nine functions
#
# FUNCTION: auth, products, coupons, cart, orders, order-emails, order-webhooks, outbox-relay, payment-jobs. EVENT: a name
# in events/ (default: a read the function serves). Set PROFILE=release for release builds.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
profile="${PROFILE:-dev}"
packages=(-p local)
if [[ "${1:-}" == "--all" ]]; then
    for f in auth products coupons cart orders order-emails order-webhooks outbox-relay payment-jobs; do packages+=(-p "$f"); done
else
    packages+=(-p "${1:?usage: scripts/invoke.sh FUNCTION [EVENT] | --all}")
fi
cargo build --quiet --profile "$profile" "${packages[@]}"
dir="target/$([[ "$profile" == dev ]] && echo debug || echo "$profile")"
exec "$PY" scripts/invoke.py "$dir" "$@"
