"""Cold-start proxy of a Lambda binary built for this machine: a fake Lambda Runtime API on
127.0.0.1 starts the binary, times how long it takes to ask for its first event (process
start + configuration + SDK clients + warm-up read = the init phase), serves it one event and
times the answer (the first invocation). Repeated, median reported.

usage: cold_start.py BINARY EVENT_JSON [RUNS]
The binary's other settings (TABLE_NAME, AWS_ENDPOINT_URL, ...) come from the environment.
"""

import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
import time


def run_once(binary, event):
    marks = {}
    done = threading.Event()

    class Runtime(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if not self.path.endswith("/invocation/next"):
                self.send_error(404)
                return
            if "next" in marks:
                done.wait(10)  # the second poll: hold it until the run is over
                try:
                    self.send_error(503)
                except OSError:
                    pass  # the binary was stopped meanwhile
                return
            marks["next"] = time.perf_counter()
            body = json.dumps(event).encode()
            self.send_response(200)
            self.send_header("Lambda-Runtime-Aws-Request-Id", "cold-start-1")
            self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
            self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
            self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            marks["answer"] = json.loads(self.rfile.read(length) or b"null")
            marks["response"] = time.perf_counter()
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            done.set()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": "bench",
    })
    start = time.perf_counter()
    process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not done.wait(30):
            sys.exit("the binary never answered its first event")
    finally:
        process.kill()
        process.wait()
        server.shutdown()
    return marks["next"] - start, marks["response"] - marks["next"], marks["answer"]


def main():
    binary, event_path = sys.argv[1:3]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 21
    with open(event_path) as f:
        event = json.load(f)
    results = [run_once(binary, event) for _ in range(runs)]
    init = statistics.median(r[0] for r in results) * 1000
    first = statistics.median(r[1] for r in results) * 1000
    print(f"{os.path.basename(binary)}: {runs} cold starts; init (start to first poll) median {init:.1f} ms, "
          f"first event median {first:.1f} ms; answer {json.dumps(results[-1][2])}")


if __name__ == "__main__":
    main()
