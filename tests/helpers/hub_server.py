"""A tiny stand-in for the Hugging Face Hub on 127.0.0.1, for tests without network.

It implements the part of the Hub's HTTP API that ``huggingface_hub`` 2.4 uses
to create a model repository, commit regular (non-LFS) files and download a
snapshot; everything it receives is kept in memory:

* ``POST /api/repos/create``: 200 ``{"url"}``, 409 when it exists;
* ``POST /api/validate-yaml``: model card front matter must be a YAML mapping;
* ``POST /api/models/<repo>/preupload/<rev>``: every file ``uploadMode: regular``
  (no LFS / Xet transfer needed);
* ``POST /api/models/<repo>/commit/<rev>``: the ndjson commit (``header`` and
  base64 ``file`` lines);
* ``GET /api/models/<repo>[/revision/<rev>]``: ``id``, ``sha``, ``siblings``;
* ``GET /api/models/<repo>/tree/<rev>``: the files (``type``, ``path``,
  ``size``, ``oid``);
* ``HEAD`` / ``GET /<repo>/resolve/<rev>/<path>``: the file, with the headers
  ``snapshot_download`` needs (``X-Repo-Commit``, ``ETag``, ``Content-Length``).

Errors carry the Hub's ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``,
``EntryNotFound``) so that huggingface_hub raises its usual exceptions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import yaml

__all__ = ["FakeHub", "Repo"]

_API = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?P<rest>(/.*)?)$")
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")


def _git_blob_sha1(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class Repo:
    """A model repository: commits (oldest first) and the files of each."""

    commits: list[str] = field(default_factory=list)
    trees: dict[str, dict[str, bytes]] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)

    def commit(self, files: dict[str, bytes], message: str) -> str:
        parent = self.commits[-1] if self.commits else ""
        oid = hashlib.sha1(f"{parent}\0{message}\0{len(files)}".encode()).hexdigest()
        for path, content in sorted(files.items()):
            entry = f"{oid}{path}{_git_blob_sha1(content)}"
            oid = hashlib.sha1(entry.encode()).hexdigest()
        self.commits.append(oid)
        self.trees[oid] = files
        self.messages[oid] = message
        return oid

    def resolve(self, revision: str) -> str | None:
        if revision == "main" and self.commits:
            return self.commits[-1]
        return revision if revision in self.trees else None


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format: str, *args) -> None:  # quiet test output
        pass

    # -- responses -------------------------------------------------------------
    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers)

    def _error(self, status: int, code: str, message: str, **headers: str) -> None:
        self._json(status, {"error": message}, {"X-Error-Code": code, **headers})

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    # -- dispatch --------------------------------------------------------------
    def do_HEAD(self) -> None:
        self._record()
        self._resolve()

    def do_GET(self) -> None:
        self._record()
        path = urlsplit(self.path).path
        if _RESOLVE.match(path):
            self._resolve()
        elif match := _API.match(path):
            self._api_get(match.group("repo"), match.group("rest"))
        else:
            self._error(404, "NotFound", f"no route {path}")

    def do_POST(self) -> None:
        self._record()
        path = urlsplit(self.path).path
        body = self._body()
        if path == "/api/repos/create":
            self._create(json.loads(body))
        elif path == "/api/validate-yaml":
            self._validate_yaml(json.loads(body))
        elif (match := _API.match(path)) and match.group("rest").startswith(
            ("/preupload/", "/commit/")
        ):
            repo_id, rest = match.group("repo"), match.group("rest")
            if repo_id not in self.server.hub.repos:
                self._error(404, "RepoNotFound", f"no repository {repo_id}")
            elif rest.startswith("/preupload/"):
                self._preupload(json.loads(body))
            else:
                self._commit(repo_id, body)
        else:
            self._error(404, "NotFound", f"no route {path}")

    def _record(self) -> None:
        self.server.hub.requests.append(
            (self.command, urlsplit(self.path).path, self.headers.get("authorization"))
        )

    # -- endpoints -------------------------------------------------------------
    def _create(self, payload: dict) -> None:
        repo_id = f"{payload['organization']}/{payload['name']}"
        url = f"{self.server.hub.url}/{repo_id}"
        if repo_id in self.server.hub.repos:
            self._json(409, {"error": "You already created this repo", "url": url})
            return
        repo = Repo()
        repo.commit({}, "initial commit")
        self.server.hub.repos[repo_id] = repo
        self._json(200, {"url": url, "name": repo_id})

    def _validate_yaml(self, payload: dict) -> None:
        content = payload["content"]
        match = re.match(r"^---\n(.*?)\n---\n", content, re.S)
        data = yaml.safe_load(match.group(1)) if match else None
        if not isinstance(data, dict):
            self._json(400, {"errors": [{"message": "no YAML front matter"}]})
        else:
            self._json(200, {"errors": [], "warnings": []})

    def _preupload(self, payload: dict) -> None:
        files = [
            {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
            for f in payload["files"]
        ]
        self._json(200, {"files": files})

    def _commit(self, repo_id: str, body: bytes) -> None:
        repo = self.server.hub.repos[repo_id]
        files = dict(repo.trees[repo.commits[-1]])
        message = ""
        for line in body.decode().splitlines():
            item = json.loads(line)
            value = item["value"]
            if item["key"] == "header":
                message = value["summary"]
            elif item["key"] == "file" and value.get("encoding") == "base64":
                files[value["path"]] = base64.b64decode(value["content"])
            elif item["key"] == "deletedFile":
                files.pop(value["path"], None)
            else:
                self._json(400, {"error": f"unsupported commit line {item['key']}"})
                return
        oid = repo.commit(files, message)
        self.server.hub.commit_count += 1
        url = f"{self.server.hub.url}/{repo_id}/commit/{oid}"
        self._json(200, {"commitUrl": url, "commitOid": oid, "pullRequestUrl": None})

    def _api_get(self, repo_id: str, rest: str) -> None:
        repo = self.server.hub.repos.get(repo_id)
        if repo is None:
            self._error(404, "RepoNotFound", f"no repository {repo_id}")
            return
        parts = [unquote(p) for p in rest.strip("/").split("/")] if rest else []
        revision = parts[1] if len(parts) > 1 else "main"
        oid = repo.resolve(revision)
        if oid is None:
            self._error(404, "RevisionNotFound", f"no revision {revision}")
            return
        files = repo.trees[oid]
        if parts[:1] == ["tree"]:
            self._json(
                200,
                [
                    {
                        "type": "file",
                        "path": path,
                        "size": len(content),
                        "oid": _git_blob_sha1(content),
                    }
                    for path, content in sorted(files.items())
                ],
            )
        elif not parts or parts[0] == "revision":
            self._json(
                200,
                {
                    "id": repo_id,
                    "modelId": repo_id,
                    "sha": oid,
                    "private": False,
                    "siblings": [{"rfilename": p} for p in sorted(files)],
                },
            )
        else:
            self._error(404, "NotFound", f"no route {rest}")

    def _resolve(self) -> None:
        match = _RESOLVE.match(urlsplit(self.path).path)
        if match is None:
            self._error(404, "NotFound", "no route")
            return
        repo = self.server.hub.repos.get(match.group("repo"))
        if repo is None:
            self._error(404, "RepoNotFound", "no repository")
            return
        oid = repo.resolve(unquote(match.group("rev")))
        if oid is None:
            self._error(404, "RevisionNotFound", "no revision")
            return
        content = repo.trees[oid].get(unquote(match.group("path")))
        if content is None:
            self._error(404, "EntryNotFound", "no such file", **{"X-Repo-Commit": oid})
            return
        etag = f'"{_git_blob_sha1(content)}"'
        self._send(
            200,
            content,
            {"X-Repo-Commit": oid, "ETag": etag},
            content_type="application/octet-stream",
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hub: "FakeHub"


class FakeHub:
    """The server, running in a thread while used as a context manager.

    Attributes:
        url: the endpoint, e.g. ``http://127.0.0.1:40123``.
        repos: repository id -> :class:`Repo`.
        requests: ``(method, path, authorization header)`` of every request.
        commit_count: number of commits received (repository creation aside).
    """

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        self.commit_count = 0
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.hub = self
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeHub":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
