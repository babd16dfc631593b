"""Clinic against a real n8n, end to end, on this machine: `scripts/n8n-check`.

Installs a pinned n8n from the npm registry under var/n8n/ (kept for the next run), then, in a
fresh var/n8n-check/: sets n8n up the way the README's command-line route says (the SMTP
credential, `import:workflow` of docs/n8n-workflow.json exactly as shipped, `update:workflow
--active=true`, CLINIC_WEBHOOK_SECRET and NODE_FUNCTION_ALLOW_BUILTIN=crypto in its
environment), starts an SMTP sink, n8n, and Clinic (gunicorn and its worker, on a SQLite file)
pointed at n8n, and uses Clinic through its pages as people do:

1. a patient books and cancels, an admin activates a waiting account;
2. n8n is restarted while a patient books (refused connections, then the 404s n8n answers
   while its webhooks are not registered yet);
3. forged requests go straight to n8n: unsigned, a bad signature, a tampered body, a stale
   timestamp, and a replay of a real delivery;
4. n8n runs for a while with a wrong secret while patients book, then the secret is fixed;
5. n8n runs without `crypto` allowed while a patient books, then with it;
6. the SMTP server is down while a patient books, then back;
7. the workflow is imported again: inactive (404) while a patient books, then activated, and
   an event it handled before the re-import is still known.

Then it prints what happened, from Clinic's outbox, n8n's own execution log and the SMTP
sink's inbox, and exits non-zero when an event was lost. Everything listens on 127.0.0.1 only,
on free ports; every process it starts is stopped when it ends, and it gives up after
--timeout seconds (20 minutes by default; a run takes 5 to 11 on a busy 2-core machine, the
first install 10 more, bounded at 30).
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import email
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from aiosmtpd.controller import Controller

N8N_VERSION = "1.123.81"
ROOT = Path(__file__).resolve().parents[1]
INSTALL = ROOT / "var" / "n8n"
WORK = ROOT / "var" / "n8n-check"
WORKFLOW = ROOT / "docs" / "n8n-workflow.json"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
HOST = "127.0.0.1"

# What npm installs: n8n pinned; n8n-nodes-base asks for xlsx from the SheetJS CDN, which no
# registry serves, so the registry's last xlsx stands in (n8n's spreadsheet node is not used).
PACKAGE_JSON = {
    "name": "clinic-n8n-check",
    "private": True,
    "description": "The n8n that scripts/n8n-check runs (installed by it; not part of Clinic).",
    "dependencies": {"n8n": N8N_VERSION},
    "overrides": {"xlsx": "0.18.5"},
}

started_at = time.monotonic()
deadline = started_at + 1200.0


def say(message: str) -> None:
    print(f"[{time.monotonic() - started_at:6.1f}s] {message}", flush=True)


def left() -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("scripts/n8n-check ran out of time")
    return remaining


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.5) -> Any:
    end = time.monotonic() + min(timeout, left())
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > end:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:g} s")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --- Installing n8n -----------------------------------------------------------------------


def install_n8n() -> Path:
    """npm install of the pinned n8n under var/n8n/, skipped when it is already there.

    On Node 20: `--ignore-scripts`, since isolated-vm (n8n's new expression sandbox) does not
    build here and n8n runs with N8N_EXPRESSION_ENGINE=legacy without it; then only sqlite3
    is built, from source against the Node headers of Debian's nodejs (no prebuilt binary is
    downloaded: the registries are all this machine reaches)."""
    binary = INSTALL / "node_modules" / ".bin" / "n8n"
    sqlite_addon = INSTALL / "node_modules" / "sqlite3" / "build" / "Release" / "node_sqlite3.node"
    installed = INSTALL / "node_modules" / "n8n" / "package.json"
    if (
        binary.exists()
        and sqlite_addon.exists()
        and installed.exists()
        and json.loads(installed.read_text())["version"] == N8N_VERSION
    ):
        say(f"n8n {N8N_VERSION} is installed in {INSTALL.relative_to(ROOT)}")
        return binary
    INSTALL.mkdir(parents=True, exist_ok=True)
    (INSTALL / "package.json").write_text(json.dumps(PACKAGE_JSON, indent=2) + "\n")
    say(f"installing n8n {N8N_VERSION} into {INSTALL.relative_to(ROOT)} (a few minutes)")
    log = INSTALL / "install.log"
    with log.open("w") as out:
        subprocess.run(
            ["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=INSTALL,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=left(),
        )
        env = os.environ | {"npm_config_build_from_source": "true"}
        if Path("/usr/include/node/node.h").exists():
            env["npm_config_nodedir"] = "/usr"
        say("building sqlite3 for this Node")
        subprocess.run(
            ["npm", "rebuild", "sqlite3", "--foreground-scripts"],
            cwd=INSTALL,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=left(),
        )
    return binary


# --- Processes ----------------------------------------------------------------------------


class Process:
    """A child process in its own process group, logging to a file, stopped on exit."""

    running: list[Process] = []

    def __init__(self, name: str, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.name, self.args, self.env, self.cwd = name, args, env, cwd
        self.log = WORK / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        out = self.log.open("ab")
        self.popen = subprocess.Popen(
            self.args,
            cwd=self.cwd,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        Process.running.append(self)
        return self

    def stop(self, timeout: float = 20.0) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        if self in Process.running:
            Process.running.remove(self)
        self.popen = None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @classmethod
    def stop_all(cls) -> None:
        for process in reversed(list(cls.running)):
            process.stop()


# --- The SMTP sink ------------------------------------------------------------------------


class Sink:
    """A real SMTP server that keeps what it is sent; stop() is an outage."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[email.message.Message] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"

    def start(self) -> None:
        self.controller = Controller(self, hostname=HOST, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


# --- n8n ----------------------------------------------------------------------------------


class N8n:
    def __init__(self, binary: Path, port: int, secret: str, smtp_port: int) -> None:
        self.binary, self.port, self.secret, self.smtp_port = binary, port, secret, smtp_port
        self.home = WORK / "n8n-home"
        self.process: Process | None = None
        self.url = f"http://{HOST}:{port}"
        self.broker_port = free_port()
        self.allow_crypto = True
        self.probes = 0  # unsigned POSTs of the readiness check that reached the workflow

    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TZ")}
        return keep | {
            "HOME": str(self.home),
            "N8N_USER_FOLDER": str(self.home),
            "N8N_LISTEN_ADDRESS": HOST,
            "N8N_HOST": HOST,
            "N8N_PORT": str(self.port),
            "N8N_PROTOCOL": "http",
            "WEBHOOK_URL": self.url + "/",
            "N8N_RUNNERS_BROKER_LISTEN_ADDRESS": HOST,
            "N8N_RUNNERS_BROKER_PORT": str(self.broker_port),
            # What the README asks of every n8n that runs the Clinic workflow:
            "CLINIC_WEBHOOK_SECRET": self.secret,
            "NODE_FUNCTION_ALLOW_BUILTIN": "crypto" if self.allow_crypto else "",
            # On Node 20 isolated-vm is not built (see install_n8n).
            "N8N_EXPRESSION_ENGINE": "legacy",
            # Nothing leaves the machine.
            "N8N_DIAGNOSTICS_ENABLED": "false",
            "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
            "N8N_TEMPLATES_ENABLED": "false",
            "N8N_PERSONALIZATION_ENABLED": "false",
            "N8N_SECURE_COOKIE": "false",
            "N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS": "true",
            "GENERIC_TIMEZONE": "UTC",
            "N8N_LOG_LEVEL": "info",
        }

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [str(self.binary), *args],
            cwd=WORK,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=min(180, left()),
        )
        output = result.stdout + result.stderr
        (WORK / "n8n-cli.log").open("a").write(f"$ n8n {' '.join(args)}\n{output}\n")
        if result.returncode != 0 or "error occurred" in output.lower():
            raise RuntimeError(f"n8n {' '.join(args)} failed:\n{output}")
        return output

    def set_up(self) -> None:
        """The README's command-line route: the SMTP credential, the workflow as shipped,
        activated (n8n is stopped meanwhile; it registers the webhook when it starts)."""
        credentials = WORK / "smtp-credential.json"
        credentials.write_text(
            json.dumps(
                [
                    {
                        # Any id: the import links the workflow's e-mail node by the name.
                        "id": "n8nCheckSmtp0001",
                        "name": "Clinic SMTP",
                        "type": "smtp",
                        "data": {
                            "user": "",
                            "password": "",
                            "host": HOST,
                            "port": self.smtp_port,
                            "secure": False,
                            "disableStartTls": True,
                        },
                    }
                ]
            )
        )
        self.cli("import:credentials", f"--input={credentials}")
        self.cli("import:workflow", f"--input={WORKFLOW}")
        workflow_id = json.loads(WORKFLOW.read_text())["id"]
        self.cli("update:workflow", f"--id={workflow_id}", "--active=true")
        linked = self.query("SELECT nodes FROM workflow_entity WHERE id = ?", (workflow_id,))[0][0]
        [mail_node] = [n for n in json.loads(linked) if n["type"] == "n8n-nodes-base.emailSend"]
        if mail_node["credentials"]["smtp"]["id"] != "n8nCheckSmtp0001":
            raise RuntimeError(f"the e-mail node was not linked: {mail_node['credentials']}")

    def start(self, secret: str | None = None, allow_crypto: bool = True) -> None:
        if secret is not None:
            self.secret = secret
        self.allow_crypto = allow_crypto
        log = WORK / "n8n.log"
        self.log_from = log.stat().st_size if log.exists() else 0
        self.process = Process("n8n", [str(self.binary), "start"], self.env(), WORK).start()

    def started(self) -> bool:
        """n8n says it is done starting. Before that its webhooks can answer 404 even after
        answering once: at start it serves the registrations left in its database, then
        activates the workflows afresh."""
        with (WORK / "n8n.log").open("rb") as log:
            log.seek(self.log_from)
            return b"Editor is now accessible" in log.read()

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def webhook_registered(self) -> bool:
        # An unsigned POST: the workflow refuses it (401) once its webhook is registered;
        # until then n8n answers 404.
        try:
            registered = self.post(b"{}", {}).status_code != 404
        except requests.RequestException:
            return False
        self.probes += registered
        return registered

    def wait_ready(self) -> tuple[float, float]:
        """Seconds until /healthz answered, and until the webhook did."""
        t0 = time.monotonic()
        wait_for("n8n's /healthz", self.healthy, 180)
        t1 = time.monotonic()
        wait_for("n8n to finish starting", self.started, 120, every=0.2)
        wait_for("the Clinic webhook in n8n", self.webhook_registered, 120, every=0.2)
        return t1 - t0, time.monotonic() - t0

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=30)
            self.process = None

    def post(self, body: bytes, headers: dict[str, str]) -> requests.Response:
        return requests.post(
            f"{self.url}/webhook/clinic",
            data=body,
            headers={"Content-Type": "application/json"} | headers,
            timeout=10,
        )

    def workflow_state(self) -> tuple[bool, str, bool]:
        """(active, the e-mail node's credential id, whether handled ids are remembered)."""
        workflow_id = json.loads(WORKFLOW.read_text())["id"]
        [(active, nodes, static)] = self.query(
            "SELECT active, nodes, staticData FROM workflow_entity WHERE id = ?", (workflow_id,)
        )
        [mail] = [n for n in json.loads(nodes) if n["type"] == "n8n-nodes-base.emailSend"]
        remembered = bool(static and json.loads(static).get("global", {}).get("ids"))
        return bool(active), mail["credentials"]["smtp"]["id"], remembered

    def answers(self) -> collections.Counter[str]:
        """n8n's executions by the node they ended in (its answer), or by their status."""
        ended: collections.Counter[str] = collections.Counter()
        rows = self.query(
            "SELECT e.status, d.data FROM execution_entity e"
            " LEFT JOIN execution_data d ON d.executionId = e.id"
        )
        for status, data in rows:
            last = None
            if status == "success" and data:
                # n8n stores run data "flatted": objects refer to other entries by index.
                flat = json.loads(data)
                result = flat[int(flat[0]["resultData"])]
                index = result.get("lastNodeExecuted")
                # None: no node ran (a request n8n took while it was shutting down).
                last = flat[int(index)] if index is not None else "no node (n8n stopping)"
            ended[last or status] += 1
        return ended

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with contextlib.closing(
            sqlite3.connect(f"file:{self.home / '.n8n' / 'database.sqlite'}?mode=ro", uri=True)
        ) as db:
            return db.execute(sql, params).fetchall()


# --- Clinic -------------------------------------------------------------------------------


class Clinic:
    def __init__(self, port: int, n8n_url: str, secret: str) -> None:
        self.port, self.url = port, f"http://{HOST}:{port}"
        self.database = WORK / "clinic.sqlite3"
        self.n8n_url, self.secret = n8n_url, secret
        self.processes: list[Process] = []

    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "HOME", "TZ")}
        return keep | {
            "CLINIC_IGNORE_DOTENV": "1",
            "DATABASE_URL": f"sqlite:///{self.database}",
            "SECRET_KEY": "n8n-check-" + secrets.token_urlsafe(32),
            "LOCAL_HTTP": "1",
            "DEBUG": "0",
            "ALLOWED_HOSTS": HOST,
            "N8N_WEBHOOK_URL": f"{self.n8n_url}/webhook/clinic",
            "WEBHOOK_SECRET": self.secret,
            # Clinic's own e-mails are not what this checks; n8n's go to the sink.
            "EMAIL_URL": "dummymail://",
            "PYTHONUNBUFFERED": "1",
        }

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=min(300, left()),
            check=True,
        )
        return result.stdout

    def set_up(self) -> None:
        self.manage("migrate", "--noinput", "--verbosity", "0")
        self.manage("collectstatic", "--noinput", "--verbosity", "0")
        self.manage("seed_demo")

    def start(self) -> None:
        env = self.env()
        self.processes = [
            Process(
                "clinic-web",
                [
                    str(ROOT / ".venv" / "bin" / "gunicorn"),
                    "clinic.wsgi",
                    "--bind",
                    f"{HOST}:{self.port}",
                    "--workers",
                    "1",
                    "--threads",
                    "4",
                ],
                env,
                ROOT,
            ).start(),
            Process("clinic-worker", [PYTHON, "manage.py", "run_worker"], env, ROOT).start(),
        ]

        def up() -> bool:
            try:
                return requests.get(f"{self.url}/health/", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for("Clinic's /health/", up, 60)

    def stop(self) -> None:
        for process in self.processes:
            process.stop()
        self.processes = []

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10)

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with contextlib.closing(self.db()) as db:
            return db.execute(sql, params).fetchall()


class Browser:
    """Clinic's pages, as a person uses them (a requests session: cookies and CSRF)."""

    def __init__(self, clinic: Clinic) -> None:
        self.base = clinic.url
        self.session = requests.Session()

    def get(self, path: str) -> requests.Response:
        response = self.session.get(self.base + path, timeout=30)
        response.raise_for_status()
        return response

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        token = self.session.cookies.get("csrftoken", "")
        response = self.session.post(
            self.base + path,
            data=data | {"csrfmiddlewaretoken": token},
            headers={"Referer": self.base + path, "X-CSRFToken": token},
            timeout=30,
        )
        response.raise_for_status()
        return response

    def log_in(self, national_id: str, password: str) -> None:
        self.get("/accounts/login/")
        response = self.post("/accounts/login/", {"username": national_id, "password": password})
        if "/accounts/login/" in response.url:
            raise RuntimeError(f"could not log in as {national_id}")

    def book_first_free(self, doctor_slug: str) -> str:
        """Books the first free time on the doctor's page that this patient can take (not
        one overlapping their other bookings); returns the appointment's public id."""
        page = self.get(f"/doctors/{doctor_slug}/").text
        links = [
            link.replace("&amp;", "&") for link in re.findall(r'class="slot" href="([^"]+)"', page)
        ]
        for link in links[:40]:
            confirm = self.session.get(self.base + link, timeout=30)
            if confirm.status_code != 200:
                continue  # overlaps one of the patient's own appointments
            date = re.search(r'name="date" value="([^"]+)"', confirm.text).group(1)
            slot = re.search(r'name="slot" value="([^"]+)"', confirm.text).group(1)
            token = self.session.cookies.get("csrftoken", "")
            response = self.session.post(
                f"{self.base}/doctors/{doctor_slug}/book/",
                data={
                    "date": date,
                    "slot": slot,
                    "reason": "Check-up",
                    "csrfmiddlewaretoken": token,
                },
                headers={"Referer": self.base + link},
                timeout=30,
            )
            found = re.search(r"/appointments/([0-9a-f-]{36})/", response.url)
            if response.status_code == 200 and found:
                return found.group(1)
        raise RuntimeError(f"could not book a time with {doctor_slug}")

    def cancel(self, public_id: str) -> None:
        self.get(f"/appointments/{public_id}/cancel/")
        self.post(f"/appointments/{public_id}/cancel/", {"reason": "Something came up"})

    def activate_in_admin(self, national_id: str, user_pk: int) -> None:
        self.get("/admin/accounts/user/")
        self.post(
            "/admin/accounts/user/",
            {"action": "activate_accounts", "_selected_action": str(user_pk), "index": "0"},
        )


# --- Signing (for the forged requests) ----------------------------------------------------


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = (
        base64.b64decode(secret.removeprefix("whsec_"))
        if secret.startswith("whsec_")
        else secret.encode()
    )
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


# --- The run ------------------------------------------------------------------------------


class Check:
    def __init__(self, binary: Path) -> None:
        self.secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        self.sink = Sink(free_port())
        self.n8n = N8n(binary, free_port(), self.secret, self.sink.port)
        self.clinic = Clinic(free_port(), self.n8n.url, self.secret)
        self.figures: dict[str, Any] = {}
        self.notes: list[str] = []

    # Reading Clinic's outbox.

    def deliveries(self) -> list[tuple[str, str, str, int, str]]:
        """(event id, event type, status, attempts, last error) of each webhook delivery."""
        return self.clinic.rows(
            "SELECT e.id, e.type, d.status, d.attempts, d.last_error"
            " FROM notifications_delivery d JOIN notifications_event e ON e.id = d.event_id"
            " WHERE d.channel = 'webhook' ORDER BY d.id"
        )

    def attempts_of(self, event_ids: list[str]) -> list[tuple[str, int | None, str]]:
        marks = ",".join("?" * len(event_ids))
        return self.clinic.rows(
            "SELECT REPLACE(d.event_id, '-', ''), a.status_code, a.outcome"
            " FROM notifications_deliveryattempt a"
            " JOIN notifications_delivery d ON d.id = a.delivery_id"
            f" WHERE d.channel = 'webhook' AND REPLACE(d.event_id, '-', '') IN ({marks})"
            " ORDER BY a.id",
            tuple(e.replace("-", "") for e in event_ids),
        )

    def event_of(self, appointment: str, event_type: str) -> str:
        def found() -> str | None:
            rows = self.clinic.rows(
                "SELECT id FROM notifications_event WHERE type = ?"
                " AND REPLACE(appointment_public_id, '-', '') = ?",
                (event_type, appointment.replace("-", "")),
            )
            return rows[0][0] if rows else None

        return wait_for(f"the {event_type} event", found, 10)

    def delivered(self, event_ids: list[str], timeout: float) -> None:
        wanted = {e.replace("-", "") for e in event_ids}

        def done() -> bool:
            return all(
                status == "delivered"
                for event, _, status, _, _ in self.deliveries()
                if event.replace("-", "") in wanted
            )

        wait_for(f"{len(wanted)} deliveries to be delivered", done, timeout, every=1)

    def run(self) -> None:
        shutil.rmtree(WORK, ignore_errors=True)
        WORK.mkdir(parents=True)
        self.sink.start()
        say("setting up n8n as the README says (credential, import, activate)")
        self.n8n.set_up()
        self.n8n.start()
        to_health, to_hook = self.n8n.wait_ready()
        say(f"n8n is up: /healthz after {to_health:.1f} s, the webhook after {to_hook:.1f} s")
        self.figures["health_before_webhook"] = to_hook - to_health
        say("setting up Clinic (migrate, seed_demo) and starting its web process and worker")
        self.clinic.set_up()
        demo_events = self.clinic.rows("SELECT COUNT(*) FROM notifications_event")[0][0]
        self.figures["demo_events"] = demo_events
        self.clinic.start()

        patient = Browser(self.clinic)
        patient.log_in("300000001", "demo-pass-123")
        admin = Browser(self.clinic)
        admin.log_in("100000001", "demo-pass-123")

        self.phase_everyday(patient, admin)
        self.phase_restart(patient)
        self.phase_forged()
        self.phase_wrong_secret(patient)
        self.phase_no_crypto(patient)
        self.phase_smtp_down(patient)
        self.phase_reimport(patient)
        self.finish()

    def phase_everyday(self, patient: Browser, admin: Browser) -> None:
        say("1. everyday: book twice, cancel one, activate the waiting account")
        first = patient.book_first_free("anna-weber")
        second = patient.book_first_free("anna-weber")
        patient.cancel(second)
        [(pending_pk,)] = self.clinic.rows(
            "SELECT id FROM accounts_user WHERE national_id = '300000002'"
        )
        admin.activate_in_admin("300000002", pending_pk)
        events = [
            self.event_of(first, "appointment.booked"),
            self.event_of(second, "appointment.booked"),
            self.event_of(second, "appointment.cancelled"),
        ]
        activated = self.clinic.rows(
            "SELECT id FROM notifications_event WHERE type = 'account.activated'"
        )
        if len(activated) != 1:
            raise RuntimeError(f"expected one account.activated event, found {activated}")
        events.append(activated[0][0])
        self.delivered(events, 60)
        self.figures["everyday"] = len(events)

    def phase_restart(self, patient: Browser) -> None:
        say("2. n8n restarts while a patient books")
        self.n8n.stop()
        during_stop = patient.book_first_free("jonas-becker")
        self.n8n.start()
        # Booked as soon as /healthz says ok: n8n is up, its webhooks are not yet.
        wait_for("n8n's /healthz", self.n8n.healthy, 180, every=0.1)
        during_start = patient.book_first_free("jonas-becker")
        events = [
            self.event_of(during_stop, "appointment.booked"),
            self.event_of(during_start, "appointment.booked"),
        ]
        wait_for("the Clinic webhook in n8n", self.n8n.webhook_registered, 120, every=0.2)
        self.delivered(events, 150)
        attempts = self.attempts_of(events)
        self.figures["restart_events"] = len(events)
        self.figures["restart_failed_answers"] = collections.Counter(
            "refused" if code is None else str(code)
            for _, code, outcome in attempts
            if outcome != "delivered"
        )

    def phase_forged(self) -> None:
        say("3. forged requests straight to n8n")
        body = json.dumps(
            {"id": str(uuid.uuid4()), "type": "appointment.booked", "data": {}},
            separators=(",", ":"),
        ).encode()
        now = int(time.time())
        msg = str(uuid.uuid4())
        good = signed_headers(self.secret, msg, now, body)
        forged = {
            "unsigned": ({}, body),
            "signed with another secret": (
                signed_headers("whsec_" + base64.b64encode(b"x" * 32).decode(), msg, now, body),
                body,
            ),
            "tampered body": (good, body.replace(b"booked", b"cancelled")),
            "stale timestamp (10 min)": (
                signed_headers(self.secret, msg, now - 600, body),
                body,
            ),
        }
        answers = {name: self.n8n.post(b, h).status_code for name, (h, b) in forged.items()}
        self.figures["forged"] = answers
        # A replay of a real delivery, within its five minutes: the same id, so n8n drops it
        # (answers 200, writes no second e-mail).
        before = len(self.sink.messages)
        replay = self.last_booked_request()
        self.figures["replay"] = self.n8n.post(*replay).status_code
        time.sleep(2)
        self.figures["replay_mails"] = len(self.sink.messages) - before

    def last_booked_request(self) -> tuple[bytes, dict[str, str]]:
        return self.booked_request("DESC")

    def first_booked_request(self) -> tuple[bytes, dict[str, str]]:
        return self.booked_request("ASC")

    def booked_request(self, order: str) -> tuple[bytes, dict[str, str]]:
        """A delivered appointment.booked event, signed again now (as a retry would be)."""
        [(event_id, payload)] = self.clinic.rows(
            "SELECT id, payload FROM notifications_event WHERE type = 'appointment.booked'"
            f" ORDER BY created_at {order} LIMIT 1"
        )
        body = json.dumps(json.loads(payload), separators=(",", ":"), ensure_ascii=False).encode()
        msg = str(uuid.UUID(event_id))
        return body, signed_headers(self.secret, msg, int(time.time()), body)

    def phase_wrong_secret(self, patient: Browser) -> None:
        say("4. n8n runs with a wrong CLINIC_WEBHOOK_SECRET while patients book")
        self.n8n.stop()
        self.n8n.start(secret="whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
        self.n8n.wait_ready()
        booked = [patient.book_first_free("leila-haddad") for _ in range(2)]
        events = [self.event_of(b, "appointment.booked") for b in booked]
        wanted = {e.replace("-", "") for e in events}

        def retried() -> bool:
            attempts = self.attempts_of(events)
            refused = {event for event, code, _ in attempts if code == 401}
            tries = collections.Counter(event for event, _, _ in attempts)
            return refused == wanted and all(tries[e] >= 2 for e in wanted)

        # Each refused with 401, and tried again (after about 15 s) while still wrong.
        wait_for("refused and retried attempts of each delivery", retried, 150, every=1)
        say("   fixing the secret")
        self.n8n.stop()
        self.n8n.start(secret=self.secret)
        self.n8n.wait_ready()
        self.delivered(events, 150)
        attempts = self.attempts_of(events)
        self.figures["wrong_secret_events"] = len(events)
        self.figures["wrong_secret_401s"] = sum(1 for _, code, _ in attempts if code == 401)
        self.figures["wrong_secret_retried"] = len({e for e, code, _ in attempts if code == 401})
        self.figures["wrong_secret_delivered"] = len(
            {e for e, _, outcome in attempts if outcome == "delivered"}
        )

    def phase_no_crypto(self, patient: Browser) -> None:
        say("5. n8n runs without NODE_FUNCTION_ALLOW_BUILTIN=crypto while a patient books")
        self.n8n.stop()
        self.n8n.start(allow_crypto=False)
        self.n8n.wait_ready()
        event = self.event_of(patient.book_first_free("mehmet-yilmaz"), "appointment.booked")
        wait_for(
            "n8n to answer 500",
            lambda: any(code == 500 for _, code, _ in self.attempts_of([event])),
            60,
            every=1,
        )
        say("   allowing crypto again")
        self.n8n.stop()
        self.n8n.start()
        self.n8n.wait_ready()
        self.delivered([event], 120)
        self.figures["no_crypto_500s"] = sum(
            1 for _, code, _ in self.attempts_of([event]) if code == 500
        )

    def phase_reimport(self, patient: Browser) -> None:
        say("7. the workflow is imported again (the README's command line), then activated")
        self.n8n.stop()
        self.n8n.cli("import:workflow", f"--input={WORKFLOW}")
        active, credential, remembered = self.n8n.workflow_state()
        self.figures["reimport_state"] = (
            f"{'active' if active else 'inactive'}, credential "
            f"{'kept' if credential == 'n8nCheckSmtp0001' else 'LOST'}, handled ids "
            f"{'kept' if remembered else 'LOST'}"
        )
        # n8n up, the workflow inactive: its webhook answers 404 until it is activated.
        self.n8n.start()
        wait_for("n8n's /healthz", self.n8n.healthy, 180)
        event = self.event_of(patient.book_first_free("piotr-nowak"), "appointment.booked")
        wait_for(
            "n8n to answer 404",
            lambda: any(code == 404 for _, code, _ in self.attempts_of([event])),
            60,
            every=1,
        )
        self.n8n.stop()
        workflow_id = json.loads(WORKFLOW.read_text())["id"]
        self.n8n.cli("update:workflow", f"--id={workflow_id}", "--active=true")
        self.n8n.start()
        self.n8n.wait_ready()
        self.delivered([event], 150)
        self.figures["reimport_404s"] = sum(
            1 for _, code, _ in self.attempts_of([event]) if code == 404
        )
        # An event handled before the re-import, sent again: still known, so no second e-mail.
        before = len(self.sink.messages)
        self.figures["reimport_replay"] = self.n8n.post(*self.first_booked_request()).status_code
        time.sleep(2)
        self.figures["reimport_replay_mails"] = len(self.sink.messages) - before

    def phase_smtp_down(self, patient: Browser) -> None:
        say("6. the SMTP server is down while a patient books")
        self.sink.stop()
        booked = patient.book_first_free("sofia-rossi")
        event = self.event_of(booked, "appointment.booked")

        def answered_503() -> bool:
            return any(code == 503 for _, code, _ in self.attempts_of([event]))

        wait_for("n8n to answer 503", answered_503, 60, every=1)
        self.sink.start()
        self.delivered([event], 120)
        self.figures["smtp_down_503s"] = sum(
            1 for _, code, _ in self.attempts_of([event]) if code == 503
        )

    def finish(self) -> None:
        # Let the last answers and e-mails land, then stop Clinic before reading its outbox.
        time.sleep(3)
        self.clinic.stop()
        deliveries = self.deliveries()
        events = self.clinic.rows("SELECT id, type, payload FROM notifications_event")
        appointment_events = [e for e in events if e[1].startswith("appointment.")]
        expected_mails = collections.Counter(
            json.loads(payload)["data"]["patient"]["email"] for _, _, payload in appointment_events
        )
        received = collections.Counter(str(m["To"]) for m in self.sink.messages)
        undelivered = [d for d in deliveries if d[2] != "delivered"]
        self.n8n.stop()
        executions = dict(
            self.n8n.query("SELECT status, COUNT(*) FROM execution_entity GROUP BY status")
        )
        ended = self.n8n.answers()
        all_attempts = self.clinic.rows(
            "SELECT a.status_code, a.outcome FROM notifications_deliveryattempt a"
            " JOIN notifications_delivery d ON d.id = a.delivery_id WHERE d.channel = 'webhook'"
        )
        answers = collections.Counter(
            "no answer" if code is None else str(code) for code, _ in all_attempts
        )
        by_type = collections.Counter(t for _, t, _ in events)
        missing_mails = sum((expected_mails - received).values())
        extra_mails = sum((received - expected_mails).values())
        lost = len(undelivered) + missing_mails
        f = self.figures
        forged = f["forged"]

        def listed(counter: collections.Counter[str] | dict[str, int], sep: str = " ×") -> str:
            return ", ".join(f"{k}{sep}{v}" for k, v in sorted(counter.items()))

        rows = [
            ("events recorded by Clinic", len(events), listed(by_type)),
            ("  of them by seed_demo", f["demo_events"], "must be 0"),
            (
                "webhook deliveries delivered",
                len(deliveries) - len(undelivered),
                f"of {len(deliveries)}",
            ),
            (
                "n8n executions",
                sum(executions.values()),
                f"ended in: {listed(ended)} (the check's readiness probes: {self.n8n.probes})",
            ),
            (
                "  that succeeded",
                executions.get("success", 0),
                "n8n's status; the rest were cut off when the check stopped n8n mid-request",
            ),
            ("answers to Clinic's attempts", len(all_attempts), listed(answers, ": ")),
            (
                "e-mails received by the SMTP sink",
                len(self.sink.messages),
                f"expected {sum(expected_mails.values())} (one per appointment event), "
                f"missing {missing_mails}, extra {extra_mails}",
            ),
            (
                "forged requests refused (401)",
                sum(1 for c in forged.values() if c == 401),
                f"of {len(forged)}: {listed(forged, ' ')}",
            ),
            (
                "replay of a delivered event: answer",
                f["replay"],
                f"second e-mails: {f['replay_mails']}",
            ),
            (
                "n8n restart: deliveries retried, then delivered",
                f["restart_events"],
                f"answers before: {listed(f['restart_failed_answers'])}",
            ),
            (
                "wrong secret: deliveries retried (401) while wrong",
                f["wrong_secret_retried"],
                f"{f['wrong_secret_401s']} attempts refused",
            ),
            (
                "  delivered after it was fixed",
                f["wrong_secret_delivered"],
                f"of {f['wrong_secret_events']}",
            ),
            ("crypto not allowed: answers 500, then delivered", f["no_crypto_500s"], ""),
            ("SMTP down: answers 503, then delivered", f["smtp_down_503s"], ""),
            (
                "re-import: answers 404 while inactive",
                f["reimport_404s"],
                f"{f['reimport_state']}; delivered after activation",
            ),
            (
                "  an event handled before it, again: answer",
                f["reimport_replay"],
                f"second e-mails: {f['reimport_replay_mails']}",
            ),
            ("EVENTS LOST", lost, "must be 0"),
        ]
        width = max(len(r[0]) for r in rows)
        print()
        print(f"n8n {N8N_VERSION} (Node {node_version()}), docs/n8n-workflow.json as shipped")
        print(f"{'what':<{width}}  {'n':>5}  notes")
        print(f"{'-' * width}  {'-' * 5}  {'-' * 40}")
        for name, n, note in rows:
            print(f"{name:<{width}}  {n!s:>5}  {note}")
        print()
        self.ok = (
            lost == 0
            and extra_mails == 0
            and f["demo_events"] == 0
            and all(c == 401 for c in forged.values())
            and f["replay_mails"] == 0
            and f["wrong_secret_delivered"] == f["wrong_secret_events"]
            and f["no_crypto_500s"] > 0
            and f["smtp_down_503s"] > 0
            and f["reimport_404s"] > 0
            and f["reimport_replay_mails"] == 0
        )


def node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()


def main() -> int:
    global deadline
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--timeout", type=float, default=1200, help="seconds for the run, after the install"
    )
    args = parser.parse_args()
    # The first run's install (npm, then building sqlite3) has a bound of its own.
    deadline = started_at + 1800
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("scripts/n8n-check needs Node.js 20+ and npm", file=sys.stderr)
        return 2
    binary = install_n8n()
    deadline = time.monotonic() + args.timeout
    check = Check(binary)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        check.run()
    except BaseException as exc:
        say(f"FAILED: {type(exc).__name__}: {exc}")
        say(f"logs: {WORK.relative_to(ROOT)}/*.log")
        return 1
    finally:
        Process.stop_all()
        check.sink.stop()
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
