"""The benchmark harness's own logic (bench/run.py, bench/table.py), without running a benchmark: which endpoints a
run measures, how the appends script's output is read, and the side-by-side table the README quotes."""
from __future__ import annotations

import importlib.util
import json
import os
import sys

import pytest

import config


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", config.ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run, table = _load("run"), _load("table")


def test_only_measures_the_named_endpoints_and_always_the_floor(tmp_path):
    args = run.parse_args(["--only", "search, detail,console", "--sample", str(tmp_path / "s.json")])
    assert args.chosen == ["floor", "search", "detail", "console"]
    assert run.parse_args([]).chosen == list(run.ENDPOINTS)
    assert run.parse_args(["--mixed-workers", "1", "2", "4"]).mixed_workers == [1, 2, 4]


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_the_benchmark_server_runs_sync_workers(monkeypatch, workers):
    """The issue's figures are for sync workers. gunicorn reads the production gunicorn.conf.py too, whose 4 threads
    a worker would turn a "sync" worker into gthread (as it did in every run until stop 37): the command is read
    here as gunicorn reads it, config file included."""
    from gunicorn.app.wsgiapp import WSGIApplication

    # the config file's own settings, not this machine's (RUTA_*, GUNICORN_CMD_ARGS); what it sets goes with the test
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("RUTA_", "GUNICORN_"))}
    monkeypatch.setattr(os, "environ", environ)
    monkeypatch.setitem(sys.modules, "__config__", None)  # gunicorn keeps the loaded config file there
    cmd = run.gunicorn_command(8000, workers)
    monkeypatch.chdir(config.ROOT)  # gunicorn looks for ./gunicorn.conf.py where it starts: run.py starts it here
    monkeypatch.setattr("sys.argv", ["gunicorn", *cmd[cmd.index("gunicorn") + 1:]])
    cfg = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").cfg
    assert cfg.worker_class_str == "sync" and cfg.threads == 1 and cfg.workers == workers
    assert cfg.max_requests == 0


def test_an_unknown_endpoint_is_refused_before_anything_runs(capsys):
    with pytest.raises(SystemExit):
        run.parse_args(["--only", "search,dashbord"])
    assert "dashbord" in capsys.readouterr().err


@pytest.mark.parametrize("url, name", [
    ("sqlite:////tmp/x.sqlite3", "sqlite"),
    ("postgresql+psycopg://u:p@127.0.0.1:5432/ruta", "postgresql"),
])
def test_results_are_named_after_the_database(url, name):
    assert run.dialect(url) == name


def test_appends_output_read_as_json_or_plain_lines():
    assert run.parse_appends('starting\n{"1": 900.5, "4": 2500.0}\n') == {"1": 900.5, "4": 2500.0}
    assert run.parse_appends("1 writer: 812.3 appends/s\n16 writers: 4,100 appends/s\n") == {"1": 812.3, "16": 4100.0}
    table = ("| writers | appends | appends/s | seal after (s) | chain |\n|---:|---:|---:|---:|---|\n"
             "| 1 | 4694 | 939 | 0.00 | intact, every append once |\n| 16 | 4210 | 1,842 | 0.00 | intact |\n")
    assert run.parse_appends(table) == {"1": 939.0, "16": 1842.0}  # bench/audit_appends.py's own table
    assert run.parse_appends("nothing to say\n42\n") is None


def _results(ratios: dict, mixed: dict, floor: float = 0.5, **endpoints) -> dict:
    eps = {"floor (/healthz)": {"server": {"p50": floor}}}
    eps.update({name: {"server": {"p50": floor * r}} for name, r in ratios.items()})
    eps.update(endpoints)
    return {"endpoints": eps, "ratios": {f"{k} / floor": v for k, v in {"floor (/healthz)": 1.0, **ratios}.items()},
            "mixed": mixed}


def _mixed(rps: float, floor_rps: float) -> dict:
    share = rps / floor_rps
    return {"mixed": {"requests_per_s": rps}, "floor": {"requests_per_s": floor_rps}, "share": share,
            "one_in": round(1 / share, 1), "goal_met": share >= 1 / 4}


def test_side_by_side_table_marks_what_misses_its_goal(tmp_path):
    sqlite = _results({"search by document": 7.5, "case detail": 31.6},
                      {"1": _mixed(100, 300), "2": _mixed(50, 600)},
                      **{"coordinator dashboard": {"error": "GET /indicators/ -> 500"}})
    (tmp_path / "s.json").write_text(json.dumps(sqlite))
    out = table.table(table.load(tmp_path / "s.json"), table.load(tmp_path / "missing.json"))
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ")[1:] for line in out.splitlines() if line.startswith("| ")}
    assert rows["search by document (API)"] == ["7.5", "–", "≤ 8 |"]
    assert rows["case detail"] == ["**31.6**", "–", "≤ 8 |"]  # missed: bold
    assert rows["coordinator dashboard"][0] == "failed"
    assert rows["case list page"][0] == "–"  # not measured in that run
    two = rows["mixed load, share of the floor's requests/s, 2 workers"]
    assert two[0] == "**1/12.0 (50 of 600/s)**" and two[2] == "≥ 1/4 |"
    assert rows["mixed load, share of the floor's requests/s, 1 worker"][0] == "1/3.0 (100 of 300/s)"
    # The row (2 workers) comes first, then every other worker count measured.
    mixed_rows = [k for k in rows if k.startswith("mixed")]
    assert mixed_rows[0].endswith("2 workers")


def _publish_by_cron(app):
    result = app.test_cli_runner().invoke(args=["stats", "publish", "--stale"])
    assert result.exit_code == 0, result.output
    return [line for line in result.output.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("path", ["bench", "cron"])
@pytest.mark.parametrize("today", ["2026-12-06 10:00", "2027-01-15 10:00", "2027-03-15 10:00"])
def test_the_publications_the_dashboard_reads_are_counted_before_the_run(app, client, factory, login_as, clock,
                                                                         monkeypatch, path, today):
    """On a database fresh from generate.py no publication exists: the dashboard would start a background build
    inside the measured server at its first read, one for each year it reads (its trajectory reads every year of
    the plan, product 3.5's from 2025), and each phase stops its server before a build stores anything. After
    run.py's step, which is cron's `flask stats publish --stale`, it starts none, and nothing is counted twice."""
    from caseapp.services.indicators.publication import rebuild

    clock.set(today)
    app.config.update(PUBLICATION_BUILD="background", PUBLICATION_REFRESH="monthly")
    publish = run.publish_stale_in if path == "bench" else _publish_by_cron
    started = []
    monkeypatch.setattr(rebuild, "schedule", lambda territory, year, _refresh: started.append((territory, year)))
    login_as(factory.user("coord", roles=("coordinator",), entity="CTG"))
    assert client.get("/indicators/").status_code == 200
    assert started, "the fresh database's dashboard started no build: nothing here is checked"
    counted = {(row["territory"], row["year"]) for row in map(json.loads, publish(app))}
    assert set(started) <= counted
    started.clear()
    assert client.get("/indicators/").status_code == 200
    assert started == []
    assert publish(app) == []  # nothing out of date: nothing counted again


@pytest.mark.parametrize("page", ["/cases/", "/"])
def test_the_benchmark_browser_keeps_the_cookie_it_was_given(app, factory, page):
    """bench/run.py's clients send the same session cookie with every request, as a browser signed in from that
    client that kept the cookie its first page gave it: no page sets it again, and Flask-Login's session protection
    finds the sign-in's client. (With the cookie first signed, every page added a CSRF token and signed and set the
    cookie again, at every request of the run, and the protection tripped each time.)"""
    from flask_login import session_protected

    user = factory.user("sw_bench", roles=("social_worker",), entity="CTG")
    name, value = run.browser_cookie(app, user.id).split("=", 1)
    tripped = []
    with session_protected.connected_to(lambda *_a, **_k: tripped.append(1), app):
        for _ in range(2):
            browser = app.test_client()  # a new one each time: nothing kept but the cookie given here
            browser.environ_base = dict(run.CLIENT_ENVIRON)
            browser.set_cookie(name, value)
            response = browser.get(page)
            assert response.status_code == 200
            assert "Set-Cookie" not in response.headers
    assert tripped == []
