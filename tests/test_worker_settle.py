"""gunicorn's workers freeze the loaded app out of Python's cyclic collector (caseapp.worker.settle), which otherwise
went over its ~240,000 long-lived objects in a 75-100 ms pause every few hundred requests; and that step does not
displace the proxy's header handling done in the same hook."""
import gc
import os
import runpy
from types import SimpleNamespace

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def collector_restored():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.parametrize("hops", ["0", "1"])
def test_a_worker_freezes_the_loaded_app_and_still_trusts_its_proxy(app, monkeypatch, collector_restored, hops):
    monkeypatch.setenv("RUTA_PROXY_HOPS", hops)
    # the file sets these for the server with setdefault: held here so that they are undone after the test
    for name, value in (("CASEAPP_CONFIG", "testing"), ("CASEAPP_LOG_FORMAT", "text")):
        monkeypatch.setenv(name, os.environ.get(name, value))
    conf = runpy.run_path(os.path.join(ROOT, "gunicorn.conf.py"))
    gc.unfreeze()
    worker = SimpleNamespace(wsgi=app)
    conf["post_worker_init"](worker)
    assert gc.get_freeze_count() > 10_000  # the app's modules and mappers, at least
    assert gc.get_threshold()[0] == 10_000
    assert isinstance(worker.wsgi, ProxyFix) == (hops == "1")
