"""Start the real ``mailbot`` command many times, fast: a fork server.

Importing mailbot's dependencies takes about 2 s per process, and the SIGKILL test starts
the command over twenty times. This helper process (``python -m tests.faults_launcher``)
imports the command once, then for each request forks a fresh child that runs exactly what
``python -m mailbot ARGS`` runs (``mailbot.cli.app``) with its own arguments, environment,
working directory and output files, and nothing else shared: the engine, the IMAP and SMTP
connections, the keys are all created by the child from its configuration. The test kills
the child by pid with SIGKILL, as it would any other process.

Protocol, one JSON object per line on stdin, one answer per line on stdout:
``{"run": [args], "cwd": d, "env": {..}, "out": path, "err": path}`` -> ``{"pid": n}``;
``{"poll": pid}`` -> ``{"status": code | null}`` (null: still running; a signal is
``-signum``); ``{"wait": pid}`` -> ``{"status": code}``. The launcher itself starts no
thread, so forking it is safe.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child(request: dict) -> None:
    """In the forked child: become ``mailbot ARGS`` and never return."""
    code = 70
    try:
        os.setpgid(0, 0)
        os.chdir(request["cwd"])
        os.environ.update(request["env"])
        for fd, path in ((1, request["out"]), (2, request["err"])):
            out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(out, fd)
            os.close(out)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        from mailbot.cli import app

        try:
            app(args=request["run"], prog_name="mailbot")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _status(raw: int) -> int:
    return -os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else os.WEXITSTATUS(raw)


def main() -> None:
    """Serve requests until stdin closes."""
    import mailbot.cli  # the expensive imports, done once
    import mailbot.send.smtp
    import mailbot.service
    import mailbot.sources.imap  # noqa: F401

    done: dict[int, int] = {}
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if "run" in request:
            pid = os.fork()
            if pid == 0:
                _child(request)
            answer = {"pid": pid}
        elif "poll" in request:
            pid = request["poll"]
            if pid not in done:
                got, raw = os.waitpid(pid, os.WNOHANG)
                if got:
                    done[pid] = _status(raw)
            answer = {"status": done.get(pid)}
        else:
            pid = request["wait"]
            if pid not in done:
                done[pid] = _status(os.waitpid(pid, 0)[1])
            answer = {"status": done[pid]}
        print(json.dumps(answer), flush=True)


class Launcher:
    """The test side: start the fork server, run the command through it."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self._proc = subprocess.Popen([sys.executable, "-m", "tests.faults_launcher"],
                                      cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, bufsize=1)
        ready = self._proc.stdout.readline()
        if not ready:
            raise RuntimeError("faults_launcher did not start")

    def _ask(self, request: dict) -> dict:
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("faults_launcher died")
        return json.loads(line)

    def start(self, args: list[str], cwd: Path, env: dict[str, str], out: Path,
              err: Path) -> LaunchedCli:
        pid = self._ask({"run": args, "cwd": str(cwd), "env": env, "out": str(out),
                         "err": str(err)})["pid"]
        return LaunchedCli(self, pid, out, err)

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(10)


class LaunchedCli:
    """A running ``mailbot`` child; the same calls as :class:`subprocess.Popen`."""

    def __init__(self, launcher: Launcher, pid: int, out: Path, err: Path) -> None:
        self._launcher, self.pid, self.out, self.err = launcher, pid, out, err
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._launcher._ask({"poll": self.pid})["status"]
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            self.returncode = self._launcher._ask({"wait": self.pid})["status"]
        return self.returncode

    def kill(self) -> None:
        """SIGKILL, unless it has already ended."""
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)

    def output(self) -> str:
        return "".join(p.read_text(errors="replace") for p in (self.out, self.err)
                       if p.exists())


if __name__ == "__main__":
    main()
