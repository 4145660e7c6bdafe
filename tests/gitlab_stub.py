"""A stand-in for the few GitLab API endpoints a release and a deploy call, on 127.0.0.1, for CI jobs.

`responses` fakes GitLab inside the test process; jobs that gitlab-ci-local runs
are other processes, so they get this server instead: tags, generic packages,
Releases, the job-artifacts lookup of the baseline and the container registry's
tag lookup (alops image resolve), with the request shapes
python-gitlab sends (tests/release/ checks those shapes with `responses`). It
keeps what it is sent, and every request with its token headers, for the test
to read.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    job_token: str | None
    private_token: str | None
    body: bytes


@dataclass
class State:
    project: str
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {commit, message}
    files: dict[tuple[str, str, str], bytes] = field(default_factory=dict)  # (package, version, file) -> bytes
    releases: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    #: The container registry: repository location (NAME) -> {tag: digest}.
    registry: dict[str, dict[str, str]] = field(default_factory=dict)


class GitLabStub:
    """``with GitLabStub("42") as gl:`` ... ``gl.api`` is the CI_API_V4_URL to give the jobs."""

    def __init__(self, project: str = "42") -> None:
        self.state = State(project)
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _reply(self, code: int, doc: Any = None, raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(doc if doc is not None else {}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/octet-stream" if raw is not None else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                url = urlsplit(self.path)
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size) if size else b""
                call = Call(
                    self.command,
                    unquote(url.path),
                    parse_qs(url.query),
                    self.headers.get("JOB-TOKEN"),
                    self.headers.get("PRIVATE-TOKEN"),
                    body,
                )
                state.calls.append(call)
                base = f"/api/v4/projects/{state.project}"
                path = call.path
                if not path.startswith(base):
                    return self._reply(404, {"message": "404 Project Not Found"})
                rest = path[len(base) :]
                # The container registry API (https://docs.gitlab.com/api/container_registry/): repository ids
                # are 1-based positions in state.registry; one page, no pagination headers.
                if rest == "/registry/repositories" and self.command == "GET":
                    listed = [
                        {"id": i, "name": loc.rsplit("/", 1)[-1], "path": loc.split("/", 1)[-1], "location": loc}
                        for i, loc in enumerate(state.registry, 1)
                    ]
                    return self._reply(200, listed)
                registry_tag = re.fullmatch(r"/registry/repositories/(\d+)/tags/([^/]+)", rest)
                if registry_tag and self.command == "GET":
                    locations = list(state.registry)
                    index = int(registry_tag[1]) - 1
                    location = locations[index] if 0 <= index < len(locations) else None
                    digest = state.registry[location].get(registry_tag[2]) if location else None
                    if digest is None:
                        return self._reply(404, {"message": "404 Tag Not Found"})
                    found = {"name": registry_tag[2], "location": f"{location}:{registry_tag[2]}", "digest": digest}
                    return self._reply(200, found)
                if rest.startswith("/jobs/artifacts/"):
                    return self._reply(404, {"message": "404 Not Found"})
                if rest == "/repository/tags" and self.command == "GET":
                    prefix = call.query.get("search", [""])[0].lstrip("^")
                    listed = [
                        {"name": n, "message": t["message"], "target": "f" * 40, "commit": {"id": t["commit"]}}
                        for n, t in state.tags.items()
                        if n.startswith(prefix)
                    ]
                    return self._reply(200, listed)
                if rest == "/repository/tags" and self.command == "POST":
                    doc = json.loads(body)
                    if doc["tag_name"] in state.tags:
                        return self._reply(400, {"message": "Tag " + doc["tag_name"] + " already exists"})
                    state.tags[doc["tag_name"]] = {"commit": doc["ref"], "message": doc.get("message")}
                    return self._reply(201, {"name": doc["tag_name"], "commit": {"id": doc["ref"]}})
                if rest == "/releases" and self.command == "POST":
                    doc = json.loads(body)
                    state.releases.append(doc)
                    state.tags.setdefault(doc["tag_name"], {"commit": doc["ref"], "message": doc.get("tag_message")})
                    return self._reply(
                        201,
                        {
                            "tag_name": doc["tag_name"],
                            "_links": {"self": f"http://gitlab.test/-/releases/{doc['tag_name']}"},
                        },
                    )
                generic = re.fullmatch(r"/packages/generic/([^/]+)/([^/]+)/([^/]+)", rest)
                if generic and self.command == "PUT":
                    state.files[generic.groups()] = body  # type: ignore[index]
                    return self._reply(201, {"file_name": generic[3], "file_sha256": hashlib.sha256(body).hexdigest()})
                if generic and self.command == "GET":
                    data = state.files.get(generic.groups())  # type: ignore[arg-type]
                    return (
                        self._reply(404, {"message": "404 Not Found"}) if data is None else self._reply(200, raw=data)
                    )
                if rest == "/packages" and self.command == "GET":
                    versions = sorted({(p, v) for p, v, _ in state.files})
                    return self._reply(
                        200,
                        [
                            {"id": i, "name": p, "version": v, "package_type": "generic"}
                            for i, (p, v) in enumerate(versions, 1)
                        ],
                    )
                files = re.fullmatch(r"/packages/(\d+)/package_files", rest)
                if files:
                    versions = sorted({(p, v) for p, v, _ in state.files})
                    p, v = versions[int(files[1]) - 1]
                    listed = [
                        {"id": i, "file_name": f, "file_sha256": hashlib.sha256(d).hexdigest()}
                        for i, ((pp, vv, f), d) in enumerate(state.files.items(), 1)
                        if (pp, vv) == (p, v)
                    ]
                    return self._reply(200, listed)
                return self._reply(404, {"message": f"404 {self.command} {rest} is not in the stub"})

            do_GET = do_POST = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api = f"http://127.0.0.1:{self.server.server_address[1]}/api/v4"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> GitLabStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
