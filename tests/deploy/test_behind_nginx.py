"""Keep-alive behind nginx: the proxy, never the instance, ends an idle upstream connection."""

import re
import time
from pathlib import Path

import httpx

from keyhouse.config import Settings
from tests.cluster import NGINX_TEMPLATE, running_cluster

# uvicorn's own default, which closed idle connections under nginx's feet.
UVICORN_DEFAULT_KEEP_ALIVE_SECONDS = 5
ESTABLISHED = "01"


def _upstream_connections(port: int) -> set[str]:
    """Local ends of the established TCP connections to 127.0.0.1:`port` (nginx's side)."""
    found: set[str] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, remote, state = line.split()[1:4]
        if state == ESTABLISHED and remote == f"0100007F:{port:04X}":
            found.add(local)
    return found


def test_nginx_keeps_its_upstream_connections_for_less_time_than_keyhouse() -> None:
    match = re.search(r"keepalive_timeout (\d+)s;", NGINX_TEMPLATE.read_text())
    assert match is not None, "deploy/nginx.conf states its upstream keep-alive"
    assert Settings().keep_alive_seconds > int(match.group(1))


def test_an_idle_upstream_connection_outlives_uvicorns_default_and_a_post_reuses_it(
    settings: Settings, tmp_path: Path
) -> None:
    with running_cluster(settings, tmp_path, count=1) as cluster:
        port = int(cluster.instances[0].url.rsplit(":", 1)[1])
        assert httpx.get(f"{cluster.proxy}/healthz").status_code == 200
        kept = _upstream_connections(port)
        assert kept, "nginx keeps its connection to the instance open"
        # Idle past uvicorn's default keep-alive: the instance must not have closed it.
        time.sleep(UVICORN_DEFAULT_KEEP_ALIVE_SECONDS + 1.5)
        assert kept <= _upstream_connections(port)
        response = httpx.post(f"{cluster.proxy}/api/v1/distributions", json={})
        assert response.status_code == 401  # Keyhouse's answer, not nginx's 502
        assert "prematurely closed" not in (tmp_path / "nginx" / "error.log").read_text()
