#!/usr/bin/env python3
"""Deep pages, the public Open311 list and staff sign-in beside them (issue 14, docs/PERFORMANCE.md).

Starts `BINARY demo` with --cases demo cases on an empty data folder (SQLite), waits for them, then
measures, each as the median of --runs runs:
  - GET /cases?page=100000 and /cases?page=200 as the leader (a signed-in page session);
  - staff sign-in (POST /api/v1/auth/token) alone, beside 8 clients reading /cases?page=100000 in a
    loop, and beside 16 anonymous clients reading /open311/v2/requests.json in a loop;
  - the size of the default requests.json answer.
Works against any build (before and after a change): only HTTP is used.

Usage: scripts/bench-bounds.py BINARY [--cases 50000] [--runs 5] [--port 18090] [--data DIR] [--config-extra 'k = v']
"""

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse


def request(port, method, path, body=None, headers=None, timeout=120):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    headers = {}
    for k, v in r.getheaders():  # Set-Cookie repeats: keep them all
        k = k.lower()
        headers[k] = f"{headers[k]}, {v}" if k in headers else v
    return r.status, headers, data


def token(port, user):
    body = json.dumps({"username": user, "password": "demo"})
    status, _, data = request(port, "POST", "/api/v1/auth/token", body, {"Content-Type": "application/json"})
    assert status == 201, (status, data[:300])
    return json.loads(data)["token"]


def page_session(port, user):
    status, headers, data = request(port, "GET", "/login", headers={"Accept": "text/html"})
    planted = re.search(r"gz_signin=([^;]+)", headers.get("set-cookie", "")).group(1)
    form_token = re.search(rb'name="form_token" value="([^"]+)"', data).group(1).decode()
    body = urllib.parse.urlencode({"username": user, "password": "demo", "form_token": form_token, "next": "/"})
    status, headers, _ = request(port, "POST", "/login", body, {
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html", "Cookie": f"gz_signin={planted}"})
    cookie = re.search(r"gz_session=([^;]+)", headers.get("set-cookie", "")).group(1)
    return f"gz_session={cookie}"


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000, out


def sign_in_ms(port, n):
    """Median of n staff sign-ins through the API."""
    took = [timed(lambda: token(port, "clerk"))[0] for _ in range(n)]
    return statistics.median(took)


def beside(port, readers, read, n):
    """Median sign-in with `readers` threads calling read() back to back; answers by status."""
    stop = threading.Event()
    statuses = {}
    lock = threading.Lock()

    def loop():
        while not stop.is_set():
            try:
                s = read()
            except Exception as e:  # a timeout counts, as the client would see it
                s = type(e).__name__
            with lock:
                statuses[s] = statuses.get(s, 0) + 1

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(readers)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    ms = sign_in_ms(port, n)
    stop.set()
    for t in threads:
        t.join(timeout=130)
    return ms, statuses


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--cases", type=int, default=50000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--port", type=int, default=18090)
    ap.add_argument("--data", help="a data folder kept between runs: a second build reuses its cases "
                    "(copy it first: a newer build migrates it forward)")
    ap.add_argument("--config-extra", action="append", default=[],
                    help="a line under [security] (e.g. open311_reads_per_minute = 0)")
    a = ap.parse_args()
    port = a.port
    data = a.data or tempfile.mkdtemp(prefix="gongzhi-bench-bounds-")
    os.makedirs(data, exist_ok=True)
    config = os.path.join(data, "bench.toml")
    with open(config, "w") as f:
        # Sign-in is measured many times from one address: its own throttle is not what is measured.
        f.write("[security]\nsign_in_attempts_per_minute = 0\n" + "".join(l + "\n" for l in a.config_extra))
    server = subprocess.Popen(
        [a.binary, "--config", config, "demo", "--data-dir", os.path.join(data, "d"), "--listen", f"127.0.0.1:{port}",
         "--demo-cases", str(a.cases), "--demo-registry-scale", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "GONGZHI_LOG": "warn"})
    try:
        started = time.time()
        while True:
            try:
                if request(port, "GET", "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None:
                sys.exit(f"the server exited with {server.returncode}")
            time.sleep(0.2)
        leader = token(port, "leader")
        while True:
            s, _, d = request(port, "GET", "/api/v1/cases?limit=1", headers={"Authorization": f"Bearer {leader}"})
            total = json.loads(d).get("total", 0) if s == 200 else 0
            if total >= a.cases:
                break
            time.sleep(2)
        print(f"{total} cases loaded in {time.time() - started:.0f} s")
        cookie = page_session(port, "leader")
        page_headers = {"Cookie": cookie, "Accept": "text/html"}

        def deep():
            return request(port, "GET", "/cases?page=100000", headers=page_headers)[0]

        def open311():
            return request(port, "GET", "/open311/v2/requests.json")[0]

        results = {k: [] for k in ["page100000", "page200", "signin", "signin_deep8", "signin_open311x16"]}
        statuses = {}
        for run in range(a.runs):
            ms, status = timed(deep)
            results["page100000"].append(ms)
            statuses["page100000"] = status
            ms, r = timed(lambda: request(port, "GET", "/cases?page=200", headers=page_headers)[0])
            results["page200"].append(ms)
            statuses["page200"] = r
            results["signin"].append(sign_in_ms(port, 5))
            ms, st = beside(port, 8, deep, 5)
            results["signin_deep8"].append(ms)
            statuses["deep8"] = st
            ms, st = beside(port, 16, open311, 5)
            results["signin_open311x16"].append(ms)
            statuses["open311x16"] = st
            print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.0f} ms" for k, v in results.items()), flush=True)
        # Once the buckets have refilled: the size of one default answer.
        time.sleep(5)
        s, _, body = request(port, "GET", "/open311/v2/requests.json")
        print(f"default requests.json: {s}, {len(body) / 1024:.0f} KB, {len(json.loads(body)) if s == 200 else '-'} requests")
        for k, v in results.items():
            print(f"median {k}: {statistics.median(v):.1f} ms  (runs: {', '.join(f'{x:.0f}' for x in v)})")
        print(f"statuses (last run): {statuses}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        if not a.data:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
