#!/usr/bin/env python3
"""`make bench`: every scenario of docs/benchmarks.md ("make bench") beside its baseline, same run.

Run through scripts/run-bench.sh, which builds the binaries and starts PostgreSQL and moto on
free loopback ports (DRIPR_TEST_PG_URL, DRIPR_TEST_MOTO_URL). Standard library only.

  run_bench.py --build DIR [--runs N] [--only B1,B2,B2PG,B3,B5] [--smoke] [--out FILE]

Runs per scenario: 5 for the throughput scenarios B2 and B2PG (on a shared 2-core VM a run of
them swings by up to ~20 %), 3 for the others; --runs N sets every scenario's.

--smoke runs every scenario at a tiny size (a few seconds; the ctest bench.smoke) so that the
drivers cannot rot; its figures mean nothing. Prints per-scenario lines, one
`BENCH name=… value=… unit=… baseline=… ratio=…` line per figure, and the final table (machine,
commands, figures, ratios, targets MET/MISSED). Exit 0 when every scenario ran (missed targets
are reported, not failures), 1 when one failed, 2 for bad arguments.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = []  # (scenario, name, value, unit, baseline, ratio, target_text, met)
COMMANDS = []
FAILURES = []


class BenchError(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def pct(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = (len(s) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def poll(seconds, what, fn, every=0.05):
    """Calls fn until it returns a truthy value or `seconds` pass (then BenchError)."""
    deadline = time.monotonic() + seconds
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise BenchError("timed out waiting for " + what)
        time.sleep(every)


def record(scenario, name, value, unit, baseline=None, target=None, met=None):
    ratio = value / baseline if baseline else None
    ROWS.append((scenario, name, value, unit, baseline, ratio, target or "", met))
    log("BENCH name=%s value=%.3f unit=%s baseline=%s ratio=%s" %
        (name, value, unit, "-" if baseline is None else "%.3f" % baseline,
         "-" if ratio is None else "%.3f" % ratio))


# ---------------------------------------------------------------- processes and /proc


def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS"):
                    out[k] = int(v.split()[0]) / 1024.0  # MiB
                elif k == "Threads":
                    out[k] = int(v)
    except OSError:
        pass
    return out


def proc_cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def thread_cpu_ns(pid):
    """{tid: nanoseconds on a CPU} of every live thread of pid (/proc/PID/task/*/schedstat,
    whose first field is the scheduler's exact run time), {} once the process is gone."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                out[int(tid)] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # the thread ended between the listing and the read
    return out


def cpu_stat():
    """(total, steal) clock ticks of all CPUs since boot (/proc/stat's first line). Steal is
    time this VM wanted a CPU and the hypervisor ran something else: on the 2-core VM it rises
    from ~3 % to ~40 % within 15 s of full load (stop 29), so every throughput run reports it."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]), (v[7] if len(v) > 7 else 0)


class StealSpan:
    """The share of the machine's CPU time the hypervisor stole over a span, in %."""

    def __init__(self):
        self.total, self.steal = cpu_stat()

    def percent(self):
        total, steal = cpu_stat()
        return 100.0 * (steal - self.steal) / max(1, total - self.total)


class CpuSpan:
    """A process's CPU time over a span, to the nanosecond: the sum over its threads of their
    schedstat run time at the end minus at the start (a thread born in between counts from 0).
    A thread that ends inside the span takes its time with it, so such a span is refused
    (BenchError) rather than under-counted; the 10 ms ticks of /proc/PID/stat are read too, as
    a check that no thread came and went unseen in between."""

    def __init__(self, pid):
        self.pid = pid
        self.start_threads = thread_cpu_ns(pid)
        self.start_ticks = proc_cpu_seconds(pid)

    def seconds(self, what):
        end = thread_cpu_ns(self.pid)
        ticks = proc_cpu_seconds(self.pid) - self.start_ticks
        gone = set(self.start_threads) - set(end)
        if not end or gone:
            raise BenchError("%s: %d thread(s) ended during the CPU measurement" %
                             (what, len(gone) if end else len(self.start_threads)))
        ns = sum(v - self.start_threads.get(t, 0) for t, v in end.items())
        secs = ns / 1e9
        # Ticks are the same run time rounded to 10 ms at each end: more than a few ticks above
        # the per-thread sum means threads were born and ended unseen within the span.
        if ticks > secs + 3.0 / os.sysconf("SC_CLK_TCK") + 0.02 * secs:
            raise BenchError("%s: %.3f s CPU by /proc/PID/stat but %.3f s by its threads' "
                             "schedstat (threads came and went)" % (what, ticks, secs))
        return secs


class Sampler(threading.Thread):
    """Peak RSS (VmHWM) and the most threads of a process while it runs, read every 50 ms."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.hwm, self.threads, self.cpu = pid, 0.0, 0, 0.0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            s = proc_status(self.pid)
            if not s:
                break
            self.hwm = max(self.hwm, s.get("VmHWM", 0.0))
            self.threads = max(self.threads, s.get("Threads", 0))
            self.cpu = proc_cpu_seconds(self.pid)
            self.stop.wait(0.05)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Ctx:
    def __init__(self, args):
        self.build = os.path.abspath(args.build)
        self.dripr = os.path.join(self.build, "dripr")
        self.smoke = args.smoke
        # B2 and B2PG: 5 runs unless --runs says otherwise (docstring); the rest 3.
        self.runs = 1 if args.smoke else (args.runs or 3)
        self.throughput_runs = 1 if args.smoke else (args.runs or 5)
        self.tmp = tempfile.mkdtemp(prefix="dripr-bench.")
        self.procs = []
        self.pg_url = os.environ.get("DRIPR_TEST_PG_URL", "")
        self.moto_url = os.environ.get("DRIPR_TEST_MOTO_URL", "")

    def env(self, **kw):
        e = dict(os.environ)
        for k in list(e):  # the bench decides the shape, not the caller's shell
            if k in ("DATABASE_URL", "EVENT_BUS", "EMBEDDED_BUS_PATH", "DATA_PROVIDER",
                     "DRIPR_MAX_IN_FLIGHT") or k.startswith("RENTCAST_"):
                del e[k]
        e.update({"DRIPR_LOG_FORMAT": "json", "DRIPR_OPS_ADDR": "off",
                  "DRIPR_LOG_LEVEL": "info"})
        e.update({k: str(v) for k, v in kw.items()})
        return e

    def spawn(self, argv, env, logname):
        f = open(os.path.join(self.tmp, logname), "wb")
        p = subprocess.Popen(argv, env=env, stdout=f, stderr=subprocess.STDOUT,
                             start_new_session=True)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, wait=20):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(wait)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def run(self, argv, env=None, timeout=600, check=True):
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise BenchError("%s exited %d: %s" % (" ".join(argv[:3]), r.returncode,
                                                   (r.stderr or r.stdout).strip()[-400:]))
        return r

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def campaigns_csv(path, n, prefix):
    """n campaigns over zip codes spread across the centroid table; every third a newsletter."""
    with open(os.path.join(ROOT, "data", "zip_codes.csv")) as f:
        rows = [l.strip().split(",") for l in f.read().splitlines()[1:]]
    step = max(1, len(rows) // n)
    with open(path, "w") as out:
        out.write("id,zip,address,lat,lng\n")
        for i in range(n):
            z, lat, lng = rows[(i * step + 3) % len(rows)]
            if i % 3 == 2:
                out.write("%s-%05d,%s,,,\n" % (prefix, i, z))
            else:
                out.write("%s-%05d,%s,%d Bench Rd,%.5f,%.5f\n" %
                          (prefix, i, z, i, float(lat) + 0.004, float(lng) - 0.003))


def iso_ms(s):
    """'2026-11-30T16:00:00.123Z' (or with +00:00 / microseconds) -> epoch milliseconds."""
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?", s)
    if not m:
        raise BenchError("unparsable timestamp %r" % s)
    y, mo, d, h, mi, se = (int(x) for x in m.groups()[:6])
    frac = float("0." + m.group(7)) if m.group(7) else 0.0
    import calendar
    return (calendar.timegm((y, mo, d, h, mi, se)) + frac) * 1000.0


def json_log_records(lines):
    """The JSON log records (objects) among `lines`; other lines are skipped."""
    for line in lines:
        if not line.startswith("{"):
            continue
        try:
            yield json.loads(line)
        except ValueError:
            continue


def handler_starts(logpath):
    """campaign id -> earliest handler start (epoch ms) from the fetcher's JSON 'handled'
    lines: the line's ts (logged when the message is done) minus its duration_ms."""
    starts = {}
    with open(logpath, errors="replace") as f:
        for j in json_log_records(f):
            if "duration_ms" not in j or not j.get("campaign_id"):
                continue
            t = iso_ms(j["ts"]) - float(j["duration_ms"])
            cid = j["campaign_id"]
            starts[cid] = min(starts.get(cid, t), t)
    return starts


def sqlite_rows(path, sql):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def psql_rows(url, sql):
    r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "|", "-d", url, "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise BenchError("psql: " + r.stderr.strip()[-300:])
    return [tuple(l.split("|")) for l in r.stdout.splitlines() if l]


def count_ready(ctx, db):
    """Campaigns finished: READY_TO_CREATE_EMAIL or ERROR (the fake RentCast world has zips
    without market data, whose campaigns end in ERROR; they count as done work)."""
    sql = ("SELECT count(*) FROM campaigns WHERE campaign_status IN "
           "('READY_TO_CREATE_EMAIL', 'ERROR')")
    if db.startswith("sqlite:"):
        try:
            return int(sqlite_rows(db[len("sqlite:"):], sql)[0][0])
        except sqlite3.Error:
            return 0
    return int(psql_rows(db, sql)[0][0])


def pg_wait_finished(db, n, seconds):
    """Waits until n campaigns of PostgreSQL database `db` are finished (as count_ready), or
    `seconds` pass (then BenchError). One session checks every 50 ms inside the server: a
    psql process per check (a process start and a server backend each) took CPU from the two
    cores the measured run shares, and the ceiling has no such poll."""
    done = ("(SELECT count(*) FROM campaigns WHERE campaign_status IN "
            "('READY_TO_CREATE_EMAIL', 'ERROR')) >= %d" % n)
    sql = ("DO $$ DECLARE deadline timestamptz := clock_timestamp() + interval '%d s'; BEGIN "
           "WHILE NOT (%s) AND clock_timestamp() < deadline LOOP PERFORM pg_sleep(0.05); "
           "END LOOP; END $$" % (seconds, done))
    r = subprocess.run(["psql", "-X", "-q", "-d", db, "-c", sql], capture_output=True,
                       text=True, timeout=seconds + 60)
    if r.returncode != 0:
        raise BenchError("psql: " + r.stderr.strip()[-300:])
    if psql_rows(db, "SELECT " + done)[0][0] != "t":
        raise BenchError("timed out waiting for %d campaigns finished" % n)


def fresh_pg_db(ctx, name):
    """A new empty database on the bench's PostgreSQL server; its URL."""
    if not ctx.pg_url:
        raise BenchError("no PostgreSQL server (DRIPR_TEST_PG_URL)")
    psql_rows(ctx.pg_url, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
    psql_rows(ctx.pg_url, "CREATE DATABASE %s" % name)
    return re.sub(r"/[^/?]*(\?|$)", "/" + name + r"\1", ctx.pg_url, count=1) \
        if "://" in ctx.pg_url else ctx.pg_url + " dbname=" + name


def aws_env(ctx, prefix):
    if not ctx.moto_url:
        raise BenchError("no moto server (DRIPR_TEST_MOTO_URL)")
    return {"EVENT_BUS": "aws", "AWS_ENDPOINT_URL": ctx.moto_url, "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDBENCHKEY",
            "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_EC2_METADATA_DISABLED": "true",
            "DRIPR_RECEIVE_WAIT_SECONDS": "20"}


def start_fetcher(ctx, env, name, db):
    """A data-fetcher on `env`, waited for until it has migrated and logged its start."""
    p = ctx.spawn([ctx.dripr, "data-fetcher"], env, name + ".log")
    logpath = os.path.join(ctx.tmp, name + ".log")

    def up():
        if p.poll() is not None:
            raise BenchError("data-fetcher %s exited %d: %s" %
                             (name, p.returncode, open(logpath, errors="replace").read()[-600:]))
        with open(logpath, errors="replace") as f:
            return "data-fetcher started" in f.read()
    poll(60, "data-fetcher " + name + " up", up)
    return p, logpath


def infra_env(ctx, env, name):
    """moto emptied (its reset API), then `dripr infra up --env dev`; the KEY=VALUE lines it
    prints are added to env. `name` only labels errors."""
    try:
        urllib.request.urlopen(urllib.request.Request(ctx.moto_url + "/moto-api/reset",
                                                      method="POST"), timeout=30).read()
    except OSError as e:
        raise BenchError("moto reset (%s): %s" % (name, e))
    r = ctx.run([ctx.dripr, "infra", "up", "--env", "dev"], env=env, timeout=120)
    for line in r.stdout.splitlines():
        k, sep, v = line.partition("=")
        if sep and re.match(r"^[A-Z_][A-Z0-9_]*$", k):
            env[k] = v
    return env


# ---------------------------------------------------------------- B1 pickup latency


# Pickups per B1 run, and the pause between two (pickups never queue behind each other). The
# percentiles are read over all runs' pickups together: the p99 of one run of 40 was its
# slowest pickup (docs/decisions/bench.md, "B1's percentiles over all runs").
B1_PER_RUN = 50
B1_SPACING = 0.15


def cli_commits(stderr):
    """campaign id -> epoch ms of the CLI's 'transition committed' debug lines (JSON logs)."""
    out = {}
    for j in json_log_records(stderr.splitlines()):
        if j.get("msg", "").startswith("transition committed") and j.get("campaign_id"):
            out[j["campaign_id"]] = iso_ms(j["ts"])
    return out


def b1_pickups(ctx, env, db, name, k, floor=None):
    """k campaigns started one at a time from the CLI while a fetcher waits; per campaign the
    ms to the first handler start in the fetcher (its 'handled' line's ts minus duration_ms)
    (a) from the CLI's commit of WAITING_FOR_DATA, as the issue defines B1: the ts of the CLI's
    debug line logged when its transaction's COMMIT has returned (the fetcher may see the
    commit ~0.1 ms before that, so this reads up to ~0.1 ms short); and (b) from the
    created_at of the STATUS_CHANGE outbox row, stamped when the CLI's transaction began (what
    B1 read until stop 25: it adds the CLI's own transaction, ~1 ms). With a WakeFloor,
    pokes it halfway between two pickups. Returns (a, b)."""
    fetcher, logpath = start_fetcher(ctx, env, name, db)
    csv = os.path.join(ctx.tmp, name + ".csv")
    campaigns_csv(csv, k, name)
    ctx.run([ctx.dripr, "campaign", "import", csv], env=env)
    ids = ["%s-%05d" % (name, i) for i in range(k)]
    cli_env = dict(env, DRIPR_LOG_FORMAT="json", DRIPR_LOG_LEVEL="debug")
    committed = {}
    for cid in ids:
        r = ctx.run([ctx.dripr, "campaign", "start", cid], env=cli_env)
        committed.update(cli_commits(r.stderr))
        if floor:
            time.sleep(B1_SPACING / 2)
            floor.poke()
            time.sleep(B1_SPACING / 2)
        else:
            time.sleep(B1_SPACING)
    poll(120, "%d campaigns finished (%s)" % (k, name), lambda: count_ready(ctx, db) >= k, 0.1)
    ctx.stop(fetcher)
    sql = ("SELECT campaign_id, min(created_at) FROM outbox WHERE event_type = 'STATUS_CHANGE' "
           "GROUP BY campaign_id")
    rows = sqlite_rows(db[len("sqlite:"):], sql) if db.startswith("sqlite:") \
        else psql_rows(db, sql.replace("min(created_at)",
                                       "to_char(min(created_at) AT TIME ZONE 'UTC', "
                                       "'YYYY-MM-DD\"T\"HH24:MI:SS.US')"))
    created = {r[0]: iso_ms(r[1]) for r in rows}
    starts = handler_starts(logpath)
    lat = [starts[c] - committed[c] for c in ids if c in starts and c in committed]
    lat_created = [starts[c] - created[c] for c in ids if c in starts and c in created]
    if len(lat) < k or len(lat_created) < k:
        raise BenchError("%s: %d (%d) of %d pickups observed" %
                         (name, len(lat), len(lat_created), k))
    return lat, lat_created


def b1_baseline(ctx, k):
    """The old design: a 5 s SELECT … FOR UPDATE SKIP LOCKED poller (bench/baselines/), the
    CLI's commit replaced by psql committing the same status change."""
    if not ctx.pg_url:
        raise BenchError("no PostgreSQL server (DRIPR_TEST_PG_URL)")
    url = fresh_pg_db(ctx, "dripr_bench_poll")
    poller = os.path.join(ctx.build, "bench", "skip_locked_poller")
    ctx.run([poller, "--url", url, "--setup"])
    values = ",".join("('p-%d')" % i for i in range(k))
    psql_rows(url, "INSERT INTO bench_poll_campaigns (id) VALUES " + values)
    interval = "500" if ctx.smoke else "5000"
    p = subprocess.Popen([poller, "--url", url, "--count", str(k), "--interval-ms", interval],
                         stdout=subprocess.PIPE, text=True)
    ctx.procs.append(p)
    gap = 0.05 if ctx.smoke else 0.77  # not a divisor of the interval: starts land all over it
    for i in range(k):
        psql_rows(url, "UPDATE bench_poll_campaigns SET campaign_status = 'WAITING_FOR_DATA', "
                  "status_changed_at = clock_timestamp() WHERE id = 'p-%d'" % i)
        time.sleep(gap)
    out, _ = p.communicate(timeout=60)
    lat = [float(l.split()[2]) for l in out.splitlines() if l.startswith("PICKUP ")]
    if len(lat) < k:
        raise BenchError("baseline poller: %d of %d pickups" % (len(lat), k))
    return lat


class WakeFloor:
    """B1's floor: the machine's own wake-up tail. bench/baselines/wake_chain.cc does the
    fetcher's four hand-offs (an inotify wake-up on another process's write, then three
    condition variables) with no work; each sample is a fresh `wake_chain --poke` process,
    like the CLI. Poked between the embedded pickups, so that both see the same minutes of
    the machine (a VM's stalls come in bursts)."""

    def __init__(self, ctx, k):
        self.ctx, self.k, self.poked = ctx, k, {}
        self.prog = os.path.join(ctx.build, "bench", "wake_chain")
        fd, self.path = tempfile.mkstemp(prefix="wake_chain.", dir=ctx.tmp)
        os.close(fd)
        self.p = subprocess.Popen([self.prog, "--watch", self.path, "--count", str(k)],
                                  stdout=subprocess.PIPE, text=True)
        ctx.procs.append(self.p)
        if self.p.stdout.readline().strip() != "READY":
            raise BenchError("wake_chain --watch did not start")

    def poke(self):
        i = len(self.poked)
        out = self.ctx.run([self.prog, "--poke", self.path, "--seq", str(i)]).stdout.split()
        self.poked[i] = int(out[2])

    def latencies(self):
        """The k wake-ups' latencies in ms, once k pokes were made."""
        out, _ = self.p.communicate(timeout=60)
        woke = {int(l.split()[1]): int(l.split()[2]) for l in out.splitlines()
                if l.startswith("WOKE ")}
        lat = [(woke[i] - t) / 1000.0 for i, t in self.poked.items() if i in woke]
        if len(lat) < self.k:
            raise BenchError("wake_chain: %d of %d wake-ups" % (len(lat), self.k))
        return lat


def b1_record(shape, runs, target50=None, target99=None, baseline=None):
    """Records a B1 shape's p50 and p99 over all runs' samples (`runs`: one list per run)."""
    pooled = [x for r in runs for x in r]
    p50, p99 = pct(pooled, 50), pct(pooled, 99)
    for q, v, t in (("p50", p50, target50), ("p99", p99, target99)):
        record("B1", "b1_%s_%s_ms" % (shape, q), v, "ms", baseline and baseline[q],
               "<= %g ms" % t if t else "", v <= t if t else None)
    # The per-run figures' median, as B1 read until stop 30, for comparison.
    record("B1", "b1_%s_p99_median_of_runs_ms" % shape, median([pct(r, 99) for r in runs]), "ms")
    return p50, p99


def scenario_b1(ctx):
    k = 5 if ctx.smoke else B1_PER_RUN
    base = b1_baseline(ctx, 4 if ctx.smoke else 16)
    b50, b99 = pct(base, 50), pct(base, 99)
    log("B1 baseline (5 s SKIP LOCKED poller, PostgreSQL): p50 %.1f ms p99 %.1f ms (n=%d)" %
        (b50, b99, len(base)))
    poller = {"p50": b50, "p99": b99}
    floors, f50, f99 = [], float("nan"), float("nan")  # the floor is measured with the embedded
    shapes = [("embedded", {}), ("moto", None)]
    for shape, extra in shapes:
        runs, created = [], []
        for r in range(ctx.runs):
            name = "b1%s%d" % (shape[:3], r)
            db = "sqlite:" + os.path.join(ctx.tmp, name + ".db")
            if extra is None:
                env = ctx.env(DATABASE_URL=db, **aws_env(ctx, name))
                infra_env(ctx, env, name)
            else:
                env = ctx.env(DATABASE_URL=db)
            floor = WakeFloor(ctx, k) if shape == "embedded" else None
            lat, lat_created = b1_pickups(ctx, env, db, name, k, floor)
            if floor:
                floors.append(floor.latencies())
                log("B1 floor run %d (wake_chain: the same four hand-offs, no work, between "
                    "the pickups): p50 %.2f ms p99 %.2f ms max %.2f ms (n=%d)" %
                    (r + 1, pct(floors[-1], 50), pct(floors[-1], 99), max(floors[-1]), k))
            runs.append(lat)
            created.append(lat_created)
            log("B1 %s run %d: from the commit p50 %.2f ms p99 %.2f ms max %.2f ms; from "
                "created_at p50 %.2f ms p99 %.2f ms (n=%d)" %
                (shape, r + 1, pct(lat, 50), pct(lat, 99), max(lat), pct(lat_created, 50),
                 pct(lat_created, 99), len(lat)))
        emb = shape == "embedded"
        if emb:
            f50, f99 = b1_record("floor", floors)
        p50, p99 = b1_record(shape, runs, 3 if emb else None, 10 if emb else None, poller)
        log("B1 %s over %d pickups: p50 %.2f ms p99 %.2f ms; the floor's over %d: p50 %.2f ms "
            "p99 %.2f ms" % (shape, sum(len(r) for r in runs), p50, p99,
                             sum(len(f) for f in floors), f50, f99))
        # The same pickups from the outbox row's created_at (the CLI's transaction included).
        pooled = [x for r in created for x in r]
        record("B1", "b1_%s_from_created_p50_ms" % shape, pct(pooled, 50), "ms", b50)
        record("B1", "b1_%s_from_created_p99_ms" % shape, pct(pooled, 99), "ms", b99)


# ---------------------------------------------------------------- B2 throughput, B4 memory


# Each campaign's listing and sale rows as the pipeline stored them, in creation order: the
# ceilings write the same (their --rows, docs/decisions/bench.md).
PART_ROWS_SQL = ("SELECT (SELECT count(*) FROM active_listings a WHERE a.campaign_id = c.id), "
                 "(SELECT count(*) FROM recent_sales s WHERE s.campaign_id = c.id) "
                 "FROM campaigns c ORDER BY c.created_at, c.id")


def rows_arg(rows):
    """The ceilings' --rows: listings and sales of each campaign in turn ("18,25,10,...")."""
    if not rows:
        raise BenchError("the pipeline's run stored no campaigns to take part rows from")
    return ",".join("%d,%d" % (int(l), int(s)) for l, s in rows)


def mean_part_rows(rows_text):
    counts = [int(x) for x in rows_text.split(",")]
    return sum(counts) / float(len(counts))


def demo_run(ctx, n):
    """`dripr demo --campaigns n` (embedded default, fetcher in-process): campaigns/s as the
    demo prints it (all created and started, to the last READY as stored: docs/decisions/bench.md),
    its peak RSS and threads, and its part rows for the ceiling (rows_arg; the database is kept
    for them, then removed)."""
    env = ctx.env()
    env.pop("DRIPR_LOG_LEVEL")  # the demo's own default (warnings only)
    p = subprocess.Popen([ctx.dripr, "demo", "--campaigns", str(n), "--timeout", "600", "--keep"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ctx.procs.append(p)
    s = Sampler(p.pid)
    s.start()
    steal = StealSpan()
    out, _ = p.communicate(timeout=900)
    steal_pct = steal.percent()
    s.stop.set()
    s.join()
    # The rate it prints comes from the unrounded span; "in 0.40 s" is rounded to 10 ms (up to
    # ±1.3 % of a 1,000-campaign run).
    m = re.search(r"(\d+)/(\d+) campaigns READY_TO_CREATE_EMAIL, (\d+) ERROR, in ([\d.]+) s "
                  r"\((\d+) campaigns/s\)", out)
    if p.returncode != 0 or not m or m.group(1) != m.group(2):
        raise BenchError("dripr demo --campaigns %d exited %d: %s" % (n, p.returncode,
                                                                      out[-300:]))
    kept = re.search(r" in (/\S+)", out)
    if not kept:
        raise BenchError("dripr demo --keep printed no directory")
    rows = rows_arg(sqlite_rows(os.path.join(kept.group(1), "demo.db"), PART_ROWS_SQL))
    shutil.rmtree(kept.group(1), ignore_errors=True)
    return float(m.group(5)), s.hwm, s.threads, rows, steal_pct


def schema_db(ctx):
    """A SQLite file with the product's schema (store and bus tables): `dripr demo
    --campaigns 1 --keep`'s database."""
    if getattr(ctx, "schema", None):
        return ctx.schema
    env = ctx.env()
    r = ctx.run([ctx.dripr, "demo", "--campaigns", "1", "--keep"], env=env)
    m = re.search(r" in (/\S+)", r.stdout)
    if not m:
        raise BenchError("dripr demo --keep printed no directory")
    ctx.schema = os.path.join(ctx.tmp, "schema.db")
    src = sqlite3.connect(os.path.join(m.group(1), "demo.db"))
    dst = sqlite3.connect(ctx.schema)
    src.backup(dst)
    src.close()
    dst.close()
    shutil.rmtree(m.group(1), ignore_errors=True)
    return ctx.schema


def ceiling_run(ctx, n, mode, rows):
    """bench/sqlite_ceiling on a copy of the product's schema, writing the part rows `rows`
    (rows_arg of the pipeline's run): (campaigns/s, % of the CPU stolen meanwhile)."""
    db = os.path.join(ctx.tmp, "ceiling.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    shutil.copy(schema_db(ctx), db)
    steal = StealSpan()
    r = ctx.run([os.path.join(ctx.build, "bench", "sqlite_ceiling"), "--db", db, "--campaigns",
                 str(n), "--mode", mode, "--rows", rows])
    m = re.search(r"per_s=([\d.]+)", r.stdout)
    if not m:
        raise BenchError("sqlite_ceiling printed no figure: " + r.stdout)
    return float(m.group(1)), steal.percent()


def scenario_b2_b4(ctx):
    sizes = [30, 60] if ctx.smoke else [1000, 3000]
    hwm_b2, thr_b2 = 0.0, 0
    for n in sizes:
        demo, one, pipe = [], [], []
        steal_demo, steal_one = [], []
        for r in range(ctx.throughput_runs):  # alternating: load bursts hit all three alike
            rate, hwm, thr, rows, st = demo_run(ctx, n)
            demo.append(rate)
            steal_demo.append(st)
            hwm_b2, thr_b2 = max(hwm_b2, hwm), max(thr_b2, thr)
            o1, st1 = ceiling_run(ctx, n, "one", rows)
            one.append(o1)
            steal_one.append(st1)
            pipe.append(ceiling_run(ctx, n, "pipeline", rows)[0])
            log("B2 embedded n=%d run %d: %.0f campaigns/s; ceiling one-tx %.0f/s, "
                "14-commit %.0f/s (%.1f part rows per part, as the demo's); peak RSS %.1f MiB, "
                "%d threads; CPU stolen by the hypervisor %.0f %% (demo), %.0f %% (one-tx)" % (
                    n, r + 1, rate, one[-1], pipe[-1], mean_part_rows(rows), hwm, thr, st, st1))
        d, o, p = median(demo), median(one), median(pipe)
        record("B2", "b2_embedded_%d_steal_pct" % n, median(steal_demo), "%")
        record("B2", "b2_ceiling_one_tx_%d_steal_pct" % n, median(steal_one), "%")
        big = n == sizes[-1]
        record("B2", "b2_embedded_%d_per_s" % n, d, "campaigns/s", o,
               ">= 1000/s and >= 0.6 of ceiling" if big else "",
               (d >= 1000 and d >= 0.6 * o) if big else None)
        record("B2", "b2_embedded_%d_vs_14commit" % n, d, "campaigns/s", p)
        record("B2", "b2_ceiling_one_tx_%d_per_s" % n, o, "campaigns/s")
        record("B2", "b2_ceiling_14commit_%d_per_s" % n, p, "campaigns/s")
    record("B4", "b4_b2_peak_rss_mib", hwm_b2, "MiB", None, "<= 100 MB", hwm_b2 * 1.048576 <= 100)
    record("B4", "b4_b2_threads", thr_b2, "threads")
    # Idle: a data-fetcher on an empty database, 3 s after it started.
    db = "sqlite:" + os.path.join(ctx.tmp, "idle.db")
    p, _ = start_fetcher(ctx, ctx.env(DATABASE_URL=db), "idle", db)
    # To the nanosecond (CpuSpan): the 10 ms ticks of /proc/PID/stat made 3 s of an idle
    # fetcher read 0 % or 0.33 % (one tick) of a core.
    span = CpuSpan(p.pid)
    time.sleep(1 if ctx.smoke else 3)  # the idle period being measured
    idle_cpu = span.seconds("B4 idle data-fetcher")
    st = proc_status(p.pid)
    ctx.stop(p)
    idle_s = 1 if ctx.smoke else 3
    record("B4", "b4_idle_peak_rss_mib", st.get("VmHWM", 0), "MiB", None, "<= 30 MB",
           st.get("VmHWM", 0) * 1.048576 <= 30)
    record("B4", "b4_idle_threads", st.get("Threads", 0), "threads")
    record("B4", "b4_idle_cpu_percent", 100.0 * idle_cpu / idle_s, "% of a core")


# ---------------------------------------------------------------- B3 slow provider


def scenario_b3(ctx):
    fake = os.path.join(ctx.build, "tests", "fake_rentcast")
    latency_ms = 50 if ctx.smoke else 200
    levels = [1, 8] if ctx.smoke else [1, 8, 32, 128]
    for k in levels:
        rates = []
        for r in range(ctx.runs):
            port = free_port()
            srv = ctx.spawn([fake, "--port", str(port), "--api-key", "bench-key", "--threads",
                             "512", "--fault", "latency:-1:%d" % latency_ms],
                            dict(os.environ), "fake%d_%d.log" % (k, r))
            poll(30, "fake_rentcast up", lambda: "listening" in
                 open(os.path.join(ctx.tmp, "fake%d_%d.log" % (k, r))).read())
            name = "b3k%dr%d" % (k, r)
            db = "sqlite:" + os.path.join(ctx.tmp, name + ".db")
            env = ctx.env(DATABASE_URL=db, DATA_PROVIDER="rentcast", RENTCAST_API_KEY="bench-key",
                          RENTCAST_BASE_URL="http://127.0.0.1:%d" % port, RENTCAST_MAX_RPS=1000,
                          DRIPR_MAX_IN_FLIGHT=k)
            # Enough campaigns for about 4 s at the ideal rate (at least 20, so that the 10th-90th
            # percentile window holds 16 at k = 1; 6 in the smoke run): the busiest queue
            # makes about 1.4 requests per campaign (docs/decisions/bench.md).
            ideal_guess = k / (1.5 * latency_ms / 1000.0)
            n = max(6 if ctx.smoke else 20,
                    min(1500, int(ideal_guess * (1 if ctx.smoke else 4))))
            csv = os.path.join(ctx.tmp, name + ".csv")
            campaigns_csv(csv, n, name)
            fetcher, _ = start_fetcher(ctx, env, name, db)
            t0 = time.monotonic()
            ctx.run([ctx.dripr, "campaign", "import", csv, "--start"], env=env)
            poll(120 if ctx.smoke else 600, "B3 campaigns finished", lambda: count_ready(ctx, db) >= n, 0.05)
            secs = time.monotonic() - t0
            stats = json.loads(urllib.request.urlopen(
                "http://127.0.0.1:%d/__stats" % port, timeout=10).read())
            ctx.stop(fetcher)
            ctx.stop(srv)
            # Each queue has k slots; the busiest queue's requests per campaign set the pace.
            by_path = stats.get("by_path") or {}
            counts = [v.get("requests", 0) if isinstance(v, dict) else v for v in by_path.values()]
            per_queue = max(counts) if counts else stats.get("requests", 0) / 3.0
            rates.append((steady_rate(db, n, secs), n / secs, per_queue / float(n)))
        rate = median([x[0] for x in rates])
        whole = median([x[1] for x in rates])
        rpc = median([x[2] for x in rates])
        ideal = k / (rpc * latency_ms / 1000.0)
        log("B3 in_flight=%d: %.1f campaigns/s steady (%.1f/s over the whole run), %.2f "
            "requests/campaign on the busiest queue, ideal %.1f/s" % (k, rate, whole, rpc, ideal))
        record("B3", "b3_in_flight_%d_per_s" % k, rate, "campaigns/s", ideal,
               ">= 0.9 of ideal" if k <= 32 else "", rate >= 0.9 * ideal if k <= 32 else None)
        record("B3", "b3_in_flight_%d_whole_run_per_s" % k, whole, "campaigns/s", ideal)


def steady_rate(db, n, secs):
    """Campaigns/s between the 10th and the 90th percentile of the finish times (each
    campaign's last status change): the rate the ideal describes, without the start (import,
    first pickup) and the tail (the last campaigns' slots emptying one by one), which do not
    depend on the in-flight limit (docs/decisions/bench.md). n / secs when there are too few."""
    done = sorted(iso_ms(r[0]) for r in sqlite_rows(
        db[len("sqlite:"):], "SELECT status_changed_at FROM campaigns WHERE campaign_status IN "
        "('READY_TO_CREATE_EMAIL', 'ERROR')"))
    lo, hi = len(done) // 10, len(done) * 9 // 10
    if hi - lo < 5 or done[hi] <= done[lo]:
        return n / secs
    return (hi - lo) / ((done[hi] - done[lo]) / 1000.0)


# ---------------------------------------------------------------- B2 on PostgreSQL


def pg_commits(ctx, name):
    """Transactions committed in database `name` (pg_stat_database.xact_commit: every explicit
    COMMIT and every statement run outside a transaction). A backend reports its counts when it
    has been idle a while or exits, so this waits until no other session is connected."""
    poll(30, "sessions on %s to end" % name, lambda: psql_rows(
        ctx.pg_url, "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s' AND pid <> "
        "pg_backend_pid()" % name)[0][0] == "0", 0.05)
    return int(psql_rows(ctx.pg_url, "SELECT xact_commit FROM pg_stat_database WHERE "
                         "datname = '%s'" % name)[0][0])


def stored_span_seconds(db):
    """Seconds from the first campaign's creation to the last one's READY_TO_CREATE_EMAIL or
    ERROR, as the PostgreSQL database `db` recorded them (0 when it holds none)."""
    rows = psql_rows(db, "SELECT coalesce(extract(epoch FROM max(status_changed_at) - "
                     "min(created_at)), 0) FROM campaigns WHERE campaign_status IN "
                     "('READY_TO_CREATE_EMAIL', 'ERROR')")
    return float(rows[0][0])


def separate_run(ctx, env, db, name, n):
    """A data-fetcher process and `dripr campaign import FILE --start` (n campaigns): campaigns/s
    from the first campaign's creation to the last READY_TO_CREATE_EMAIL as stored (not to the
    driver's wait that noticed it, nor from the import process's start-up), the fetcher's CPU
    milliseconds per campaign (utime + stime from the import's start to the end of that wait)
    and the database's transactions per campaign (the driver's few own included)."""
    ctx.run([ctx.dripr, "migrate"], env=env)
    fetcher, _ = start_fetcher(ctx, env, name, db)
    csv = os.path.join(ctx.tmp, name + ".csv")
    campaigns_csv(csv, n, name)
    dbname = "dripr_bench_" + name
    tx0 = int(psql_rows(ctx.pg_url, "SELECT xact_commit FROM pg_stat_database WHERE "
                        "datname = '%s'" % dbname)[0][0])
    cpu0, t0 = proc_cpu_seconds(fetcher.pid), time.monotonic()
    steal = StealSpan()
    ctx.run([ctx.dripr, "campaign", "import", csv, "--start"], env=env)
    pg_wait_finished(db, n, 120 if ctx.smoke else 900)
    secs = time.monotonic() - t0
    steal_pct = steal.percent()
    cpu1 = proc_cpu_seconds(fetcher.pid)
    span = stored_span_seconds(db)
    ctx.stop(fetcher)
    # Includes the fetcher's start-up and shutdown (a few) and the driver's wait and reads.
    return (n / span if span > 0 else n / secs, 1000.0 * (cpu1 - cpu0) / n,
            (pg_commits(ctx, dbname) - tx0) / float(n), steal_pct)


def pg_ceiling_run(ctx, n, mode, rows, connections):
    """bench/pg_ceiling on a fresh database migrated by `dripr migrate` (the product's schema):
    campaigns/s with one transaction per campaign (`one`) or per pipeline step (`pipeline`),
    on `connections` connections (a thread each), writing the part rows `rows` (rows_arg of
    the pipeline's run). Returns (campaigns/s, % of the CPU stolen meanwhile)."""
    url = fresh_pg_db(ctx, "dripr_bench_ceiling")
    ctx.run([ctx.dripr, "migrate"], env=ctx.env(DATABASE_URL=url))
    steal = StealSpan()
    r = ctx.run([os.path.join(ctx.build, "bench", "pg_ceiling"), "--url", url, "--campaigns",
                 str(n), "--mode", mode, "--connections", str(connections), "--rows", rows])
    steal_pct = steal.percent()
    psql_rows(ctx.pg_url, "DROP DATABASE IF EXISTS dripr_bench_ceiling WITH (FORCE)")
    m = re.search(r"per_s=([\d.]+)", r.stdout)
    if not m:
        raise BenchError("pg_ceiling printed no figure: " + r.stdout)
    return float(m.group(1)), steal_pct


# The product's default pool for a remote server, and for every server before stop 24
# (DRIPR_DB_POOL_SIZE; DefaultPoolSize in src/dripr/store/factory.cc: a server on this machine
# now gets one connection more than the cores).
PRODUCT_POOL_SIZE = 8


def ceiling_connections():
    """The connection counts the PostgreSQL ceiling runs at: one and two per core and the
    product's pool. Its figure is the best of them (docs/decisions/bench.md): on the 2-core VM
    two connections run ~30 % more campaigns/s than eight, while the pipeline's rate does not
    move with its pool size, so the ceiling at the product's pool alone was not a ceiling."""
    cores = os.cpu_count() or 2
    return sorted({cores, 2 * cores, PRODUCT_POOL_SIZE})


def best_ceiling(by_connections):
    """(campaigns/s, connections) of the connection count with the highest median."""
    return max((median(v), k) for k, v in by_connections.items())


def scenario_b2_pg(ctx):
    """PostgreSQL + embedded bus (1,000 campaigns) and PostgreSQL + moto (300: moto manages
    ~15/s here) beside bench/pg_ceiling, runs alternating so that load bursts hit all alike."""
    sizes = {"embedded": 30 if ctx.smoke else 1000, "moto": 30 if ctx.smoke else 300}
    n_ceiling = 30 if ctx.smoke else 1000
    conns = ceiling_connections()
    res = {"embedded": [], "moto": []}
    one, pipe = {k: [] for k in conns}, {k: [] for k in conns}
    steal_one = {k: [] for k in conns}
    for r in range(ctx.throughput_runs):
        for shape in ("embedded", "moto"):
            n = sizes[shape]
            name = "b2pg%s%d" % (shape[:3], r)
            db = fresh_pg_db(ctx, "dripr_bench_" + name)
            if shape == "moto":
                env = ctx.env(DATABASE_URL=db, **aws_env(ctx, name))
                infra_env(ctx, env, name)
            else:
                env = ctx.env(DATABASE_URL=db,
                              EMBEDDED_BUS_PATH=os.path.join(ctx.tmp, name + "-bus.db"))
            res[shape].append(separate_run(ctx, env, db, name, n))
            if shape == "embedded":  # the ceiling writes the part rows this run stored
                rows = rows_arg(psql_rows(db, PART_ROWS_SQL))
            psql_rows(ctx.pg_url, "DROP DATABASE IF EXISTS dripr_bench_%s WITH (FORCE)" % name)
            rate, cpu, tx, st = res[shape][-1]
            log("B2 PostgreSQL + %s n=%d run %d: %.0f campaigns/s, fetcher CPU %.2f ms and %.1f "
                "transactions per campaign; CPU stolen by the hypervisor %.0f %%" % (
                    shape, n, r + 1, rate, cpu, tx, st))
        for k in conns:
            rate_k, steal_k = pg_ceiling_run(ctx, n_ceiling, "one", rows, k)
            one[k].append(rate_k)
            steal_one[k].append(steal_k)
            pipe[k].append(pg_ceiling_run(ctx, n_ceiling, "pipeline", rows, k)[0])
        log("B2 PostgreSQL ceiling n=%d run %d (%.1f part rows per part, as the embedded run's): "
            "one-tx %s; per-step %s" % (
                n_ceiling, r + 1, mean_part_rows(rows),
                ", ".join("%.0f/s on %d (%.0f %% stolen)" % (one[k][-1], k, steal_one[k][-1])
                          for k in conns),
                ", ".join("%.0f/s on %d" % (pipe[k][-1], k) for k in conns)))
    o, o_conns = best_ceiling(one)
    p, p_conns = best_ceiling(pipe)
    log("B2 PostgreSQL ceiling: the best medians are one-tx %.0f/s on %d connections, per-step "
        "%.0f/s on %d" % (o, o_conns, p, p_conns))
    for shape in ("embedded", "moto"):
        n = sizes[shape]
        rate = median([x[0] for x in res[shape]])
        record("B2", "b2_postgres_%s_%d_per_s" % (shape, n), rate, "campaigns/s", o,
               ">= 0.5 of libpq ceiling" if shape == "embedded" else "",
               rate >= 0.5 * o if shape == "embedded" else None)
        if shape == "embedded":  # beside the ceiling that commits per step as the pipeline
            record("B2", "b2_postgres_embedded_%d_vs_per_step" % n, rate, "campaigns/s", p)
            # and beside the ceiling on the product's pool size alone (the figure before stop 19)
            record("B2", "b2_postgres_embedded_%d_vs_one_tx_on_%d" % (n, PRODUCT_POOL_SIZE),
                   rate, "campaigns/s", median(one[PRODUCT_POOL_SIZE]))
        record("B2", "b2_pg_%s_cpu_ms_per_campaign" % shape,
               median([x[1] for x in res[shape]]), "ms")
        record("B2", "b2_pg_%s_tx_per_campaign" % shape,
               median([x[2] for x in res[shape]]), "transactions")
        record("B2", "b2_pg_%s_steal_pct" % shape, median([x[3] for x in res[shape]]),
               "%")
    for k in conns:
        record("B2", "b2_pg_ceiling_one_tx_%d_on_%d_per_s" % (n_ceiling, k), median(one[k]),
               "campaigns/s")
        record("B2", "b2_pg_ceiling_per_step_%d_on_%d_per_s" % (n_ceiling, k), median(pipe[k]),
               "campaigns/s")
    record("B2", "b2_pg_ceiling_one_tx_%d_per_s" % n_ceiling, o, "campaigns/s")
    record("B2", "b2_pg_ceiling_one_tx_%d_on_%d_steal_pct" % (n_ceiling, o_conns),
           median(steal_one[o_conns]), "%")
    record("B2", "b2_pg_ceiling_per_step_%d_per_s" % n_ceiling, p, "campaigns/s")


# ---------------------------------------------------------------- B5 against sqs-consumer

NOOP_BODY = json.dumps({"event_type": "STATUS_CHANGE", "payload": {
    "campaign_id": "bench-noop", "zip_code": "02139", "from_status": "WAITING_FOR_DATA",
    "to_status": "DORMANT", "timestamp": "2026-11-30T12:00:00.000Z",
    "event_id": "00000000-0000-4000-8000-000000000000", "data_cycle": 1}})


def consumer_run(ctx, argv, env, name, n, done):
    """Starts a consumer over n waiting messages; from its start-up marker to `done(log)`:
    messages/s, CPU seconds per message (CpuSpan: every thread's run time, to the
    nanosecond) and peak RSS."""
    p = ctx.spawn(argv, env, name + ".log")
    logpath = os.path.join(ctx.tmp, name + ".log")
    read = lambda: open(logpath, errors="replace").read()
    poll(60, name + " started", lambda: p.poll() is None and
         ("started" in read()) or (p.poll() is not None and _die(name, p, read())))
    s = Sampler(p.pid)
    s.start()
    cpu, t0 = CpuSpan(p.pid), time.monotonic()
    poll(300, "%s handled %d messages" % (name, n),
         lambda: done(read()) >= n or (p.poll() is not None and _die(name, p, read())), 0.02)
    secs, cpu_s = time.monotonic() - t0, cpu.seconds(name)
    s.stop.set()
    s.join()
    ctx.stop(p)
    return n / secs, cpu_s / n, s.hwm


def _die(name, p, text):
    raise BenchError("%s exited %d: %s" % (name, p.returncode, text[-400:]))


def scenario_b5(ctx):
    node_dir = os.path.join(ROOT, "bench", "node")
    if not os.path.isdir(os.path.join(node_dir, "node_modules", "sqs-consumer")):
        if ctx.smoke:  # the smoke test must not need the npm registry, and the sender is node
            log("B5: sqs-consumer not installed (npm ci --prefix bench/node); B5 skipped")
            return
        else:
            raise BenchError("sqs-consumer not installed: npm ci --prefix bench/node")
    # CPU time is read to the nanosecond (CpuSpan: the threads' schedstat), the same way for
    # both consumers. Until stop 14 it was read in 10 ms clock ticks, ~22 of them for dripr
    # over 900 messages, so one tick moved the ratio by ~0.01 and the rounding at both ends
    # by up to ~0.02 (docs/benchmarks.md). 900 messages still: moto slows down as a queue
    # holds more, and a slower drain adds idle CPU (timers, polls) to every message.
    n = 200 if ctx.smoke else 900
    script = os.path.join(node_dir, "consume.js")
    # sqs-consumer both ways (docs/decisions/bench.md): `handleMessage`, a handler per message
    # as dripr's handlers are (the target's baseline), and `handleMessageBatch`, a receive's
    # messages at once and one DeleteMessageBatch per receive (shown beside it, no target).
    # Each consumer: its short name (the run's queues) and its consume.js mode (None: dripr).
    consumers = {"dripr": ("dri", None), "sqs-consumer": ("sqs", "consume"),
                 "sqs-consumer-batch": ("sqb", "consume-batch")}
    res = {who: [] for who in consumers}
    for r in range(ctx.runs):
        for who, (short, node_mode) in consumers.items():  # alternating
            name = "b5%s%d" % (short, r)
            env = ctx.env(DATABASE_URL="sqlite:" + os.path.join(ctx.tmp, name + ".db"),
                          **aws_env(ctx, name))
            infra_env(ctx, env, name)
            url = env.get("SQS_ACTIVE_LISTINGS_QUEUE_URL", "")
            if not url:
                raise BenchError("infra up printed no SQS_ACTIVE_LISTINGS_QUEUE_URL")
            ctx.run(["node", script, "send", url, str(n), NOOP_BODY], env=env, timeout=600)
            if node_mode is None:
                res[who].append(consumer_run(
                    ctx, [ctx.dripr, "data-fetcher"], env, name, n,
                    lambda t: t.count('"outcome":"done"')))
            else:
                res[who].append(consumer_run(
                    ctx, ["node", script, node_mode, url, str(n)], env, name, n,
                    lambda t: n if re.search(r"^done ", t, re.M) else 0))
            log("B5 %s run %d: %.0f messages/s, %.1f us CPU per message, peak RSS %.1f MiB" %
                ((who, r + 1, res[who][-1][0], res[who][-1][1] * 1e6, res[who][-1][2])))
    # messages/s, CPU seconds per message, peak RSS (MiB): medians per consumer
    d, o, b = ([median([x[i] for x in res[who]]) for i in range(3)] for who in consumers)
    record("B5", "b5_dripr_messages_per_s", d[0], "messages/s", o[0])
    record("B5", "b5_dripr_cpu_us_per_message", d[1] * 1e6, "us", o[1] * 1e6,
           "<= 1/5 of sqs-consumer", d[1] <= o[1] / 5)
    record("B5", "b5_dripr_peak_rss_mib", d[2], "MiB", o[2])
    record("B5", "b5_dripr_cpu_us_per_message_vs_batch", d[1] * 1e6, "us", b[1] * 1e6)
    record("B5", "b5_dripr_peak_rss_mib_vs_batch", d[2], "MiB", b[2])


# ---------------------------------------------------------------- report


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "nproc %d, %s, Linux %s" % (os.cpu_count() or 0, model, platform.release())


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def table(ctx, load_before, load_after, seconds):
    lines = ["", "=" * 100, "make bench — %s" % time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                                              time.gmtime()),
             "machine: " + machine(),
             "load average (1/5/15 min): before %s, after %s; %.0f s in all" %
             (load_before, load_after, seconds),
             "runs (medians of): B2, B2PG %d; B1, B3, B5 %d" % (ctx.throughput_runs, ctx.runs),
             "commands:"]
    lines += ["  " + c for c in COMMANDS]
    lines.append("")
    lines.append("%-4s %-34s %12s %-12s %12s %7s  %-32s %s" %
                 ("", "figure", "value", "unit", "baseline", "ratio", "target", ""))
    for sc, name, value, unit, base, ratio, target, met in ROWS:
        verdict = "" if met is None else ("MET" if met else "MISSED")
        lines.append("%-4s %-34s %12.2f %-12s %12s %7s  %-32s %s" %
                     (sc, name, value, unit, "-" if base is None else "%.2f" % base,
                      "-" if ratio is None else "%.3f" % ratio, target, verdict))
    for f in FAILURES:
        lines.append("FAILED: " + f)
    lines.append("=" * 100)
    return "\n".join(lines)


SCENARIOS = [
    ("B1", scenario_b1, "B1 pickup latency: embedded, moto; 5 s SKIP LOCKED poller on PostgreSQL; "
     "build/bench/wake_chain (the same hand-offs, no work)"),
    ("B2", scenario_b2_b4, "B2 + B4: dripr demo --campaigns N vs build/bench/sqlite_ceiling"),
    ("B2PG", scenario_b2_pg, "B2 on PostgreSQL: data-fetcher + campaign import --start vs "
     "build/bench/pg_ceiling (best of 1 and 2 connections per core and the pool of 8)"),
    ("B3", scenario_b3, "B3: fake_rentcast --fault latency:-1:200, DRIPR_MAX_IN_FLIGHT 1/8/32/128"),
    ("B5", scenario_b5, "B5: data-fetcher vs node bench/node/consume.js (sqs-consumer, "
     "handleMessage and handleMessageBatch), no-op messages on one moto queue"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--only", default="")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    if args.runs is not None and (args.runs < 1 or args.runs > 20):
        ap.error("--runs must be 1..20")
    only = {x.strip().upper() for x in args.only.split(",") if x.strip()}
    unknown = only - {s[0] for s in SCENARIOS}
    if unknown:
        ap.error("unknown scenario(s): " + ",".join(sorted(unknown)))
    ctx = Ctx(args)
    if not os.access(ctx.dripr, os.X_OK):
        ap.error("no dripr binary in " + ctx.build)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    load_before, t0 = loadavg(), time.monotonic()
    try:
        for key, fn, what in SCENARIOS:
            if only and key not in only:
                continue
            COMMANDS.append(what)
            log("--- " + what)
            try:
                fn(ctx)
            except Exception as e:  # one broken scenario must not hide the others' figures
                FAILURES.append("%s: %s" % (key, e))
                log("FAILED %s: %s" % (key, e))
    except KeyboardInterrupt:
        return 130
    finally:
        ctx.cleanup()
    text = table(ctx, load_before, loadavg(), time.monotonic() - t0)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
