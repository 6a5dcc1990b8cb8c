"""Sends events through a function's real Lambda binary, without Docker: the path
`sam local invoke` takes, with a fake Runtime API instead of the container. See
`scripts/invoke.sh`, which builds the binaries first.

usage: invoke.py BIN_DIR FUNCTION [EVENT]   one event (default: the function's sample in
                                            lambda_rig.DEFAULT_EVENTS); prints the answer
       invoke.py BIN_DIR --all              one sample event through each of the eight
                                            functions; fails unless every answer succeeds
                                            and printed its metrics (ColdStart and the
                                            event's own, as CloudWatch EMF lines)
EVENT is a name in events/ (without .json) or a path. Its {{placeholders}} are filled with
real tokens and ids made through the local server on the same moto table.
"""

import json
import sys

import lambda_rig
from stack import Stack


def succeeded(function, answer):
    """Whether a function's answer is a success: a 2xx for the API functions, no failed
    message for the e-mail worker, a report for the relay and the payment jobs."""
    if function in ("order-emails", "order-webhooks"):
        return isinstance(answer, dict) and answer.get("batchItemFailures") == []
    if function == "outbox-relay":
        return isinstance(answer, dict) and "published" in answer
    if function == "payment-jobs":
        return isinstance(answer, dict) and ("checked" in answer or answer.get("payments") == "off")
    status = lambda_rig.status_of(answer)
    return isinstance(status, int) and 200 <= status < 300


def emf_metrics(output, function):
    """The metric names of the EMF lines `function` printed (CloudWatch's format: a JSON
    object whose `_aws` declares the metrics, dimensions function and operation)."""
    names = set()
    for line in output.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if not isinstance(document, dict) or document.get("function") != function:
            continue
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            if directive.get("Dimensions") == [["function", "operation"]]:
                names.update(m["Name"] for m in directive["Metrics"] if m["Name"] in document)
    return names


def metrics_expected(function):
    """What one sample event must make a binary print, besides its ColdStart."""
    return {"order-emails": {"EmailsSent"},
            "order-webhooks": {"WebhooksDelivered", "WebhooksFailed"},
            "outbox-relay": {"OutboxEventsRelayed", "OutboxOldestEventAgeSeconds"},
            "payment-jobs": set()}.get(
        function, {"DynamoDbRequests"}) | {"ColdStart"}


def invoke(stack, bin_dir, function, event_name, logs=sys.stderr):
    event = lambda_rig.load_event(event_name, stack.values)
    result = lambda_rig.run(f"{bin_dir}/{function}", [event], stack.env, stderr=logs)
    return result["answers"][0], result


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    bin_dir, function = argv[0], argv[1]
    with Stack(bin_dir) as stack:
        if function == "--all":
            failed = []
            for name, event in lambda_rig.DEFAULT_EVENTS.items():
                with open(f"{stack.log_dir}/{name}.log", "w") as logs:
                    answer, result = invoke(stack, bin_dir, name, event, logs)
                with open(f"{stack.log_dir}/{name}.log") as logs:
                    metrics = emf_metrics(logs.read(), name)
                ok = succeeded(name, answer) and metrics_expected(name) <= metrics
                print(f"{name:<15} {event or 'scheduled event':<24} "
                      f"{lambda_rig.status_of(answer)!s:<4} init {result['init_ms']:.0f} ms, "
                      f"event {result['event_ms'][0]:.0f} ms, metrics {sorted(metrics)}"
                      f"{'' if ok else '  FAILED: ' + json.dumps(answer)}")
                if not ok:
                    failed.append(name)
                    with open(f"{stack.log_dir}/{name}.log") as logs:
                        sys.stderr.write(logs.read())
            if failed:
                sys.exit(f"failed: {', '.join(failed)}")
            return
        event = argv[2] if len(argv) > 2 else lambda_rig.DEFAULT_EVENTS.get(function)
        answer, _ = invoke(stack, bin_dir, function, event)
        print(json.dumps(answer, indent=2))
        if not succeeded(function, answer):
            sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
