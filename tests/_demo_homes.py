"""Whole demo nightlies at one home path, kept side by side (the engine-equality and the cluster
tests compare them table by table).

Every nightly runs on a fresh copy of one generated demo company (one pseudonymisation key for
every copy: the demo ships none, and a nightly would create a random one, so each copy would key
subject ids differently) at the same home path, because the landed tables record the paths of the
input files. A finished run is moved aside to ``base/<name>`` when the next one needs the home;
:meth:`DemoHomes.where` says where a run is now, :meth:`DemoHomes.bring_home` moves it back for
a command that reads it through its config file.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

DEMO_DATE = "2026-11-22"


class DemoHomes:
    def __init__(self, base: Path) -> None:
        from jobs.demo import generate_demo
        from jobs.secrets.pseudonym import load_or_create

        self.base = base
        self.demo = base / "demo"
        self.home = base / "home"
        self.at_home: str | None = None
        self.seconds: dict[str, float] = {}
        generate_demo(self.demo, as_of=date.fromisoformat(DEMO_DATE))
        load_or_create(str(self.demo / "keys"))

    def run(self, name: str, extra_conf: str, nightly: Callable[[Path], None]) -> Path:
        """A fresh copy at the home path, its config (``home`` + ``extra_conf``), ``nightly(conf)``."""
        self._park()
        shutil.copytree(self.demo, self.home)
        conf = self.home / "conf.yaml"
        conf.write_text(f"home: {self.home}\n{extra_conf}", encoding="utf-8")
        self.at_home = name
        t0 = time.monotonic()
        nightly(conf)
        self.seconds[name] = time.monotonic() - t0
        print(f"demo nightly {name}: {self.seconds[name]:.1f} s")  # shown with -rP
        return self.home

    def where(self, name: str) -> Path:
        """Where the run ``name`` is now (the home path, or its place aside)."""
        return self.home if self.at_home == name else self.base / name

    def bring_home(self, name: str) -> Path:
        """The run ``name`` moved back to the home path (the one there moved aside)."""
        if self.at_home != name:
            self._park()
            os.rename(self.base / name, self.home)
            self.at_home = name
        return self.home

    def _park(self) -> None:
        if self.at_home is not None:
            os.rename(self.home, self.base / self.at_home)
            self.at_home = None


def in_process(conf: Path) -> None:
    """``compliance nightly`` for the demo date in this process (the suite's Spark session)."""
    from jobs.cli import main

    assert main(["nightly", "--conf", str(conf), "--run-date", DEMO_DATE, "--quiet"]) == 0, conf
