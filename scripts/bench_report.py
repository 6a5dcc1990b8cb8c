"""Writes BENCHMARKS.md (to standard output) from the results scripts/bench.sh leaves in
target/bench/.

usage: bench_report.py RESULTS_DIR
"""

import datetime
import json
import os
import platform
import subprocess
import sys

INIT_TARGET_MS, ZIP_TARGET_MIB, FIRST_OVER_WARM = 40, 4.0, 2.0


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        memory = int(f.readline().split()[1]) / 1024 / 1024
    rustc = subprocess.run(["rustc", "-V"], capture_output=True, text=True).stdout.strip()
    return (f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.system()} "
            f"{platform.release()} ({platform.machine()}); {rustc}")


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def main(results):
    read = lambda name: open(os.path.join(results, name)).read()
    cold = json.loads(read("cold.json"))
    floor = cold.pop("_endpoint")["tls_getitem_ms"]
    sizes = {}
    for line in read("sizes.txt").split("\n"):
        if line.strip():
            name, zipped, unzipped = line.split()
            sizes[name] = (int(zipped), int(unzipped))
    rows, misses = [], []
    for function, c in cold.items():
        zipped, unzipped = sizes[function]
        ratio = c["first_ms"]["median"] / c["warm_ms"]["median"]
        mib = zipped / 1024 / 1024
        rows.append([
            f"`{function}`", f"{mib:.2f} MiB ({unzipped / 1024 / 1024:.1f} MiB unzipped)",
            f"{c['init_ms']['median']:.1f} / {c['init_ms']['p90']:.1f}",
            f"{c['init_cpu_ms']['median']:.1f}",
            f"{c['first_ms']['median']:.1f} / {c['first_ms']['p90']:.1f}",
            f"{c['warm_ms']['median']:.1f}", f"{ratio:.1f}×",
            f"{c['peak_rss_kib']['median'] / 1024:.1f} MiB", c["event"],
            ", ".join(c["statuses"]),
        ])
        if c["init_ms"]["median"] > INIT_TARGET_MS:
            misses.append(f"`{function}` init {c['init_ms']['median']:.1f} ms > {INIT_TARGET_MS} ms")
        if mib > ZIP_TARGET_MIB:
            misses.append(f"`{function}` zip {mib:.2f} MiB > {ZIP_TARGET_MIB} MiB")
        if ratio > FIRST_OVER_WARM:
            misses.append(f"`{function}` first event {ratio:.1f}× a warm one")
    runs = next(iter(cold.values()))["runs"]

    counts = {}
    for line in read("requests.md").split("\n"):
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 and cells[1].startswith("`"):
            counts[cells[1]] = cells[2]
    route_rows = []
    for line in read("routes.md").split("\n"):
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 4 and cells[1].startswith("`"):
            route_rows.append([cells[1], counts.get(cells[1], "?"), cells[2], cells[3], cells[4]])

    load_rows = []
    for line in read("load.jsonl").split("\n"):
        if line.strip():
            r = json.loads(line)
            label = {"public": "public read: `GET /products/all_products`",
                     "authenticated": "authenticated read: `GET /cart/details`",
                     "order": "order path: register → login → add to cart → checkout"}[r["scenario"]]
            load_rows.append([label, r["concurrency"], f"{r['completed']:,}",
                              f"{r['per_second']:,.0f}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}"])

    out = [
        "# Benchmarks",
        "",
        f"Written by `scripts/bench.sh` on {datetime.date.today().isoformat()}. Machine: "
        f"{machine()}. Every figure below comes from that one run; run the script again to "
        "reproduce them on yours.",
        "",
        "## Functions: size, cold start through TLS, memory",
        "",
        "Zips: `cargo lambda build --release --arm64 --output-format zip` (what `sam build` "
        "deploys). Times: the x86-64 release binaries of this machine, each started "
        f"{runs} times under a fake Lambda Runtime API (`scripts/lambda_rig.py`) with the AWS "
        "endpoint served over HTTPS on loopback (moto, with a certificate authority made for "
        "the run and trusted through `SSL_CERT_FILE`, the SDK's normal certificate loading). "
        "*Init* is process start to the first poll for an event (configuration, SDK clients, "
        "the warm-up requests); *init CPU* is the CPU time the process used in that time (all "
        "threads, from `/proc/PID/task/*/schedstat`): its own work, the rest is waiting for the "
        "endpoint; *first event* is the first customer's wait on a new instance; "
        "*warm* is the same work on the instance's next event. Times in ms, median / p90.",
        "",
        table(["function", "zip (arm64)", "init", "init CPU", "first event", "warm event", "first ÷ warm",
               "peak RSS", "event", "answers"], rows),
        "",
        f"Targets: init ≤ {INIT_TARGET_MS} ms, zip ≤ {ZIP_TARGET_MIB} MiB, first event within "
        f"{FIRST_OVER_WARM:.0f}× a warm one. The endpoint's own share of a warm-up, measured "
        f"from an already running client (a new TLS connection to moto and one `GetItem`): "
        f"{floor:.1f} ms median. "
        + ("All met." if not misses else "Not met: " + "; ".join(misses) + " (see docs/performance.md "
           "for why)."),
        "",
        "## Routes: DynamoDB requests and in-process latency",
        "",
        "DynamoDB requests per call: counted at the SDK by "
        "`tests/tests/request_counts.rs` against moto (the test fails if a route costs more "
        "than the table in docs/performance.md). Latency: `cargo bench -p e2e --bench routes`, every route "
        "through the composed router on the memory store, one thread, token check included "
        "(what the code costs, without the network or DynamoDB). Register, login, refresh and "
        "logout are dominated by argon2id hashing (register, login).",
        "",
        table(["route", "DynamoDB requests", "median µs", "p99 µs", "calls"], route_rows),
        "",
        "## Load: the local server on the memory store",
        "",
        "`cargo bench -p e2e --bench load`: closed loop (each client sends its next request "
        "when the last is answered), the local server pinned to core 0 (`taskset -c 0`), the "
        "generator to core 1, plain HTTP/1.1 keep-alive on loopback. A run stops at its time "
        "or request budget; any non-2xx answer fails it. The order path is one unit of four "
        "requests, two of them hashing a password.",
        "",
        table(["scenario", "concurrency", "completed", "per second", "p50 ms", "p99 ms"],
              load_rows),
        "",
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
