"""Stimmen benchmarks, always as ratios against a baseline measured in the same run (see bench/README.md).

    .venv/bin/python -m bench.run            # quick mode (make bench), under 3 minutes
    .venv/bin/python -m bench.run --full     # make bench-full: longer load, 10k/100k/1M responses

Uses its own PostgreSQL database (``stimmen_bench``, dropped and re-created) and Redis db 12 on 127.0.0.1;
nothing else is touched and no traffic leaves the machine. Prints a table and writes JSON
(``bench/results/latest.json`` unless ``--json`` says otherwise).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
#: The bench's own database; BENCH_DATABASE picks another name (it is dropped and re-created).
BENCH_DB = os.environ.get("BENCH_DATABASE", "stimmen_bench")
PG = "postgres://postgres@127.0.0.1:5432"
ENV = {
    "DATABASE_URL": f"{PG}/{BENCH_DB}",
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
    "DEBUG": "0",
    "SECRET_KEY": "bench-throwaway-secret-key-not-for-production",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "STATIC_MANIFEST": "0",
    "ALLOWED_HOSTS": "127.0.0.1",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "PYTHONPATH": str(ROOT),
    # Simulated respondents finish in seconds; the product refuses completions faster than a person reads
    # (a bot guard). The bench measures the server's cost per request, not people's reading speed.
    "STIMMEN_MIN_COMPLETION_SECONDS": "0",
    # Every simulated phone sends its own made-up private address in X-Forwarded-For, as a proxy in front
    # would, so the per-address start limit sees many phones and not one address 127.0.0.1.
    "STIMMEN_TRUSTED_PROXY_HOPS": "1",
    # As docker-compose.yml runs it: database connections kept between requests (and checked before reuse).
    "CONN_MAX_AGE": "60",
}
CAMPAIGN = "demo"
#: Address-space cap of every measured phase: the machine is shared, and a phase that needs more fails with
#: ``MemoryError`` (reported) instead of pushing other people's processes into the OOM killer.
PHASE_MEMORY_CAP = 12 * 1024**3


@dataclass(frozen=True)
class Mode:
    name: str
    users: int
    load_seconds: float
    warmup_seconds: float
    paced_rate: float
    max_requests: int
    sizes: tuple[int, ...]
    anonymise_budget: float
    aggregate_budget: float
    workers: int
    threads: int


# gunicorn as the Dockerfile runs it: 3 gthread workers with 4 threads each, for the baseline and the survey alike.
QUICK = Mode("quick", 50, 8, 3, 150, 20_000, (10_000,), 25, 75, 3, 4)
FULL = Mode("full", 50, 45, 5, 150, 100_000, (10_000, 100_000, 1_000_000), 120, 1800, 3, 4)


# --- processes --------------------------------------------------------------------------------------


@dataclass
class Phase:
    """A phase run as its own process: wall time, peak RSS of that process, and how it ended."""

    name: str
    seconds: float
    peak_rss_mb: float
    returncode: int | None
    finished: bool
    output: str
    rate_per_s: float | None = None


def _cap_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (PHASE_MEMORY_CAP, PHASE_MEMORY_CAP))


def run_phase(name: str, args: list[str], *, budget: float, progress: Callable[[], int] | None = None) -> Phase:
    """Run ``args`` with the bench environment; kill it after ``budget`` seconds. Peak RSS via ``wait4``.

    ``progress`` (optional) is polled about once a second and should return how many items are done; the
    phase's ``rate_per_s`` is then measured from the first to the last item seen, which leaves out the
    seconds a process needs to start Django (many on a busy machine).
    """
    env = {**os.environ, **ENV}
    out_path = ROOT / "bench" / "results" / f"{name}.out"
    with out_path.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_cap_memory
        )
        finished = True
        samples: list[tuple[float, int]] = []
        polled = started
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if progress is not None and time.perf_counter() - polled >= 1:
                polled = time.perf_counter()
                samples.append((polled, progress()))
            if time.perf_counter() - started > budget:
                process.send_signal(signal.SIGTERM)
                finished = False
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if progress is not None:
        samples.append((time.perf_counter(), progress()))
    moving = [sample for sample in samples if sample[1] > 0]
    rate = None
    if len(moving) >= 2 and moving[-1][0] > moving[0][0]:
        rate = (moving[-1][1] - moving[0][1]) / (moving[-1][0] - moving[0][0])
    return Phase(
        rate_per_s=round(rate, 1) if rate is not None else None,
        name=name,
        seconds=seconds,
        peak_rss_mb=usage.ru_maxrss / 1024,
        returncode=process.returncode,
        finished=finished,
        output=out_path.read_text()[-2000:],
    )


def manage(*args: str) -> list[str]:
    return [PYTHON, "manage.py", *args]


def sql(statement: str, *, database: str = BENCH_DB, fetch: bool = False) -> Any:
    import psycopg

    with psycopg.connect(f"{PG}/{database}", autocommit=True) as connection:
        cursor = connection.execute(statement)
        return cursor.fetchall() if fetch else None


def prepare_database() -> None:
    sql(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)", database="postgres")
    sql(f"CREATE DATABASE {BENCH_DB}", database="postgres")
    for args in (manage("migrate", "--noinput", "-v0"), manage("seed_demo")):
        subprocess.run(args, cwd=ROOT, env={**os.environ, **ENV}, check=True, capture_output=True)
    from bench.baseline_app import CREATE_TABLE

    sql(CREATE_TABLE)


def clear_responses() -> None:
    sql(
        "TRUNCATE survey_response, survey_draft, survey_stepreach, survey_dailytally, "
        "analysis_anonymisedresponse, analysis_responseanonymisation, analysis_anonymisationrun, "
        "analysis_aggregatesnapshot CASCADE"
    )


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(ENV["REDIS_URL"]).flushdb()


# --- 1. respondent throughput -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(settings_module: str, port: int, mode: Mode, probe_path: str) -> subprocess.Popen:
    env = {**os.environ, **ENV, "DJANGO_SETTINGS_MODULE": settings_module}
    args = [
        str(Path(PYTHON).with_name("gunicorn")),
        "bench.wsgi:application",
        "--preload",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(mode.workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(mode.threads),
        "--no-control-socket",
        "--log-level",
        "warning",
    ]
    log = (ROOT / "bench" / "results" / f"gunicorn-{settings_module}.log").open("w")
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    # Each worker imports the URLconf (and with it the staff pages' PDF libraries) on its first request,
    # which takes seconds on a busy machine: wait generously, the warm-up run then reaches every worker.
    deadline = time.monotonic() + 180
    import urllib.request

    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe_path}", timeout=30) as reply:
                if reply.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"gunicorn ({settings_module}) did not answer on {probe_path}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def summarise(result: Any) -> dict[str, Any]:
    stats = result.stats
    every = [value for values in stats.latencies.values() for value in values]
    posts = stats.latencies.get("step_post", [])
    return {
        "seconds": round(result.seconds, 2),
        "requests": stats.requests,
        "requests_per_s": round(stats.requests / result.seconds, 1),
        "completed_surveys": stats.completed_surveys,
        "surveys_per_s": round(stats.completed_surveys / result.seconds, 2),
        "step_posts_per_s": round(len(posts) / result.seconds, 1),
        "p50_ms": round(percentile(every, 50) * 1000, 1),
        "p95_ms": round(percentile(every, 95) * 1000, 1),
        "p99_ms": round(percentile(every, 99) * 1000, 1),
        "mean_ms": round(statistics.fmean(every) * 1000, 1) if every else None,
        "by_kind_p95_ms": {kind: round(percentile(values, 95) * 1000, 1) for kind, values in stats.latencies.items()},
        "errors": stats.errors,
        "client_cpu_s": round(result.client_cpu_seconds, 1),
    }


def throughput(mode: Mode) -> dict[str, Any]:
    import django

    os.environ.update(ENV)
    django.setup()
    from bench.http_load import run_load
    from survey.definition import load_definition_file
    from survey.districts import DORTMUND_DISTRICTS
    from survey.synthetic import district_values

    definition, _data = load_definition_file(ROOT / "survey" / "definitions" / "ausbildung-arbeit-2023.yaml")
    districts = district_values(DORTMUND_DISTRICTS)
    survey = {"campaign": CAMPAIGN, "definition": definition, "districts": districts}
    results: dict[str, Any] = {"workers": mode.workers, "worker_class": "gthread", "threads": mode.threads}
    results["users"] = mode.users

    def measure(label: str, port: int, *, rate: float | None, walk: bool) -> None:
        kwargs = survey if walk else {}
        run_load(port=port, users=mode.users, seconds=mode.warmup_seconds, max_requests=mode.max_requests, **kwargs)
        result = run_load(
            port=port, users=mode.users, seconds=mode.load_seconds, max_requests=mode.max_requests, rate=rate, **kwargs
        )
        results[label] = summarise(result) | {"load_average_after": os.getloadavg()}
        print(f"  {label}: {results[label]['requests_per_s']} req/s, p95 {results[label]['p95_ms']} ms", flush=True)

    port = free_port()
    server = start_gunicorn("bench.settings_baseline", port, mode, "/baseline/")
    try:
        measure("baseline_saturated", port, rate=None, walk=False)
        measure("baseline_paced", port, rate=mode.paced_rate, walk=False)
    finally:
        stop(server)
    port = free_port()
    server = start_gunicorn("config.settings", port, mode, "/healthz")
    try:
        # A load window is shorter than a survey at saturation, so few surveys finish inside it: measure how
        # many requests one survey takes (two respondents, unhurried) and convert requests/s into surveys/s.
        calibration = run_load(port=port, users=2, seconds=60, max_requests=60, **survey)
        walks = calibration.stats.survey_requests
        results["requests_per_survey"] = round(statistics.fmean(walks), 1) if walks else None
        measure("survey_saturated", port, rate=None, walk=True)
        measure("survey_paced", port, rate=mode.paced_rate, walk=True)
    finally:
        stop(server)
    for label in ("survey_saturated", "survey_paced"):
        if results["requests_per_survey"]:
            equivalent = results[label]["requests_per_s"] / results["requests_per_survey"]
            results[label]["surveys_per_s_equivalent"] = round(equivalent, 2)
    results["ratio_saturated"] = round(
        results["survey_saturated"]["requests_per_s"] / results["baseline_saturated"]["requests_per_s"], 3
    )
    results["paced_target_rate"] = mode.paced_rate
    return results


# --- 2. pipeline ------------------------------------------------------------------------------------


def pipeline(mode: Mode, sizes: tuple[int, ...]) -> dict[str, Any]:
    # What every phase pays before its first row: starting Python and Django. Subtracted as "net" times.
    startup = run_phase("startup", [PYTHON, "-c", "import django; django.setup()"], budget=300)
    runs = []
    for size in sizes:
        clear_responses()
        row: dict[str, Any] = {"n": size}
        phase = run_phase(
            f"synthesize-{size}",
            manage("synthesize", "--campaign", CAMPAIGN, "--count", str(size), "--seed", "1"),
            budget=3600,
        )
        row["synthesize"] = asdict(phase) | {"per_s": round(size / phase.seconds)}
        print(f"  n={size}: synthesize {phase.seconds:.1f} s", flush=True)
        sql("VACUUM ANALYZE survey_response")

        floors = run_phase(f"floors-{size}", [PYTHON, "-m", "bench.floors", "--campaign", CAMPAIGN], budget=3600)
        measured = json.loads(floors.output.strip().splitlines()[-1])
        row["floors"] = measured | {"peak_rss_mb": floors.peak_rss_mb, "process_s": floors.seconds}
        print(f"  n={size}: COPY floor {measured['copy_s']:.2f} s, bincount {measured['bincount_s'] * 1000:.1f} ms")

        # The product's anonymiser, for at most the budget; the rate is measured on what it finished.
        def marks() -> int:
            return sql("SELECT count(*) FROM analysis_responseanonymisation", fetch=True)[0][0]

        anonymise = run_phase(
            f"anonymise-{size}",
            manage("anonymise", "--campaign", CAMPAIGN),
            budget=mode.anonymise_budget,
            progress=marks,
        )
        done = marks()
        rate = anonymise.rate_per_s or (done / anonymise.seconds)
        row["anonymise"] = asdict(anonymise) | {
            "anonymised": done,
            "per_s": round(rate, 1),
            "extrapolated_s": round(size / rate) if rate else None,
        }
        print(f"  n={size}: anonymise {done} in {anonymise.seconds:.1f} s ({rate:.0f}/s once started)", flush=True)
        if done < size:
            fill = run_phase(
                f"fill-{size}", [PYTHON, "-m", "bench.fill_anonymised", "--campaign", CAMPAIGN], budget=7200
            )
            row["fill"] = asdict(fill)
            print(f"  n={size}: bench fill of the rest {fill.seconds:.1f} s", flush=True)

        sql("VACUUM ANALYZE analysis_anonymisedresponse")
        # The floors of what the aggregation actually reads: the stored codes of the anonymised records.
        codes = run_phase(
            f"floors-codes-{size}", [PYTHON, "-m", "bench.floors", "--campaign", CAMPAIGN, "--codes"], budget=3600
        )
        measured_codes = json.loads(codes.output.strip().splitlines()[-1])
        row["codes_floors"] = measured_codes | {"peak_rss_mb": codes.peak_rss_mb, "process_s": codes.seconds}
        print(
            f"  n={size}: codes COPY {measured_codes['codes_copy_s']:.2f} s,"
            f" decode {measured_codes['codes_decode_s'] * 1000:.1f} ms,"
            f" bincount {measured_codes['codes_bincount_s'] * 1000:.1f} ms"
        )
        aggregate = run_phase(
            f"aggregate-{size}",
            manage("aggregate", "--campaign", CAMPAIGN, "--breakdown", "status"),
            budget=mode.aggregate_budget,
        )
        net = max(aggregate.seconds - startup.seconds, 1e-3)
        row["aggregate"] = asdict(aggregate) | {
            "net_s": round(net, 2),
            "per_s": round(size / net) if aggregate.finished and aggregate.returncode == 0 else None,
        }
        print(
            f"  n={size}: aggregate {aggregate.seconds:.1f} s, {aggregate.peak_rss_mb:.0f} MB,"
            f" finished {aggregate.finished}"
        )
        bincount = measured["bincount_s"]
        codes_floor = measured_codes["codes_copy_s"] + measured_codes["codes_decode_s"]
        codes_floor += measured_codes["codes_bincount_s"]
        row["ratios"] = {
            "aggregate_over_bincount": round(net / bincount) if bincount else None,
            "aggregate_over_codes_bincount": round(net / measured_codes["codes_bincount_s"])
            if measured_codes["codes_bincount_s"]
            else None,
            "aggregate_over_codes_copy_decode_bincount": round(net / codes_floor, 1),
            "aggregate_over_copy_decode_bincount": round(
                net / (measured["copy_s"] + measured["decode_s"] + bincount), 1
            ),
            "anonymise_extrapolated_plus_aggregate_over_copy": round(
                ((row["anonymise"]["extrapolated_s"] or math.inf) + net) / measured["copy_s"], 1
            ),
        }
        if aggregate.finished and aggregate.returncode == 0:
            row["pages"] = pages(size)
        runs.append(row)
    # t ~ n^x between the smallest and the largest n that finished (x = 1: linear). Net of start-up.
    timings = {
        "synthesize": [
            (r["n"], r["synthesize"]["seconds"] - startup.seconds) for r in runs if r["synthesize"]["finished"]
        ],
        "anonymise": [(r["n"], r["anonymise"]["extrapolated_s"]) for r in runs if r["anonymise"]["extrapolated_s"]],
        "aggregate": [(r["n"], r["aggregate"]["net_s"]) for r in runs if r["aggregate"]["per_s"]],
    }
    growth = {}
    for phase_name, points in timings.items():
        if len(points) >= 2 and points[0][1] > 0 and points[-1][1] > 0:
            (n1, t1), (n2, t2) = points[0], points[-1]
            growth[phase_name] = round(math.log(t2 / t1) / math.log(n2 / n1), 2)
    return {"startup_s": round(startup.seconds, 2), "runs": runs, "growth_exponent": growth}


def pages(size: int) -> dict[str, Any]:
    out = run_phase(f"pages-{size}", [PYTHON, "-m", "bench.pages", "--campaign", CAMPAIGN], budget=600)
    if out.returncode != 0:
        return {"error": out.output[-500:]}
    return json.loads(out.output.strip().splitlines()[-1]) | {"peak_rss_mb": out.peak_rss_mb}


# --- report -----------------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    lines = []
    t = results.get("throughput")
    if t:
        server = f"gunicorn {t['workers']} {t['worker_class']} workers x {t.get('threads', 1)} threads"
        lines.append(f"Respondent throughput ({t['users']} users, {server})")
        lines.append(
            f"  {'run':<20}{'req/s':>8}{'surveys/s':>11}{'posts/s':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}  errors"
        )
        for label in ("baseline_saturated", "survey_saturated", "baseline_paced", "survey_paced"):
            r = t[label]
            lines.append(
                f"  {label:<20}{r['requests_per_s']:>8}{r['surveys_per_s']:>11}{r['step_posts_per_s']:>9}"
                f"{r['p50_ms']:>8}{r['p95_ms']:>8}{r['p99_ms']:>8}  {sum(r['errors'].values())}"
            )
        lines.append(
            f"  requests per completed survey: {t['requests_per_survey']}; surveys/s equivalent (req/s / that):"
            f" saturated {t['survey_saturated'].get('surveys_per_s_equivalent')},"
            f" paced {t['survey_paced'].get('surveys_per_s_equivalent')}"
        )
        lines.append(f"  ratio survey/baseline (saturated): {t['ratio_saturated']}  (target >= 0.5)")
        lines.append(
            f"  at {t['paced_target_rate']:.0f} req/s offered: survey achieved {t['survey_paced']['requests_per_s']} "
            f"req/s, p95 {t['survey_paced']['p95_ms']} ms (target >= 150 req/s, p95 < 100 ms)"
        )
    p = results.get("pipeline")
    if p:
        lines.append(f"Pipeline (seconds, net of {p['startup_s']} s process start-up where marked; peak RSS MB)")
        lines.append(
            f"  {'n':>9}{'synth':>8}{'COPY':>7}{'decode':>8}{'bincnt':>8}{'anon/s':>8}{'anon est':>9}"
            f"{'aggr net':>9}{'aggr MB':>9}{'aggr/bincnt':>12}{'aggr/codes':>12}"
        )
        for r in p["runs"]:
            f = r["floors"]
            lines.append(
                f"  {r['n']:>9}{r['synthesize']['seconds']:>8.1f}{f['copy_s']:>7.2f}{f['decode_s']:>8.2f}"
                f"{f['bincount_s']:>8.4f}{r['anonymise']['per_s']:>8}{r['anonymise']['extrapolated_s'] or '-':>9}"
                f"{r['aggregate']['net_s']:>9.1f}{r['aggregate']['peak_rss_mb']:>9.0f}"
                f"{r['ratios']['aggregate_over_bincount']:>12}"
                f"{r['ratios'].get('aggregate_over_codes_copy_decode_bincount', '-'):>12}"
                + ("" if r["aggregate"]["finished"] else "  (aggregate stopped at its budget)")
            )
            if "pages" in r and "overview_ms" in r["pages"]:
                lines.append(
                    f"  {'':>9}pages: overview {r['pages']['overview_ms']} ms, crosstab {r['pages']['crosstab_ms']} ms"
                )
        lines.append(f"  growth exponent (t ~ n^x): {p['growth_exponent']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="Longer load runs and 10k/100k/1M responses.")
    parser.add_argument("--only", choices=("throughput", "pipeline"), help="Run one benchmark only.")
    parser.add_argument("--sizes", help="Comma-separated response counts (overrides the mode's).")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "latest.json"))
    options = parser.parse_args()
    mode = FULL if options.full else QUICK
    sizes = tuple(int(size) for size in options.sizes.split(",")) if options.sizes else mode.sizes
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "mode": mode.name,
        "command": " ".join([Path(sys.executable).name, "-m", "bench.run", *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average_at_start": os.getloadavg(),
    }
    print(f"Preparing {BENCH_DB} ...", flush=True)
    prepare_database()
    flush_redis()
    try:
        if options.only in (None, "throughput"):
            print("1. Respondent throughput", flush=True)
            results["throughput"] = throughput(mode)
        if options.only in (None, "pipeline"):
            print("2. Pipeline (and 3. analysis pages)", flush=True)
            results["pipeline"] = pipeline(mode, sizes)
    finally:
        flush_redis()
        results["total_seconds"] = round(time.perf_counter() - started, 1)
        Path(options.json).write_text(json.dumps(results, indent=2, default=str))
    print()
    print(table(results))
    print(f"\nJSON: {options.json}  ({results['total_seconds']} s)")


if __name__ == "__main__":
    main()
