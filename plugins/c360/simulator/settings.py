"""The knobs of a simulated brand, saved beside its state so every later
advance rebuilds exactly the same world."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from c360.simulator.faults import FAULTS

SETTINGS_FILE = "settings.json"


@dataclass(frozen=True)
class SimulationSettings:
    customers: int = 2000  # people in the world, buyers and prospects
    seed: int = 42
    start_date: date = date(2024, 1, 1)  # first simulated day; history starts here
    stores: int = 4
    prospect_share: float = 0.10  # social-only people who never buy
    churn_share: float = 0.35  # buyers whose purchase rate collapses on some day
    faults: tuple[str, ...] = ()  # failures injected into file drops (see faults.py)
    fault_rate: float = 0.05  # chance that each fault strikes each delivered file

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError("customers must be at least 1")
        if not 3 <= self.stores <= 5:
            raise ValueError("stores must be between 3 and 5")
        unknown = sorted(set(self.faults) - set(FAULTS))
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(unknown)}")
        for name in ("prospect_share", "churn_share", "fault_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")

    def to_json(self) -> str:
        values = dataclasses.asdict(self)
        values["start_date"] = self.start_date.isoformat()
        return json.dumps(values, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "SimulationSettings":
        values = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown simulation settings: {', '.join(unknown)}")
        if "start_date" in values:
            values["start_date"] = date.fromisoformat(values["start_date"])
        if "faults" in values:
            values["faults"] = tuple(values["faults"])
        return cls(**values)


def save_settings(state_dir: Path, settings: SimulationSettings) -> None:
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = state_dir / f".{SETTINGS_FILE}.tmp"
    tmp.write_text(settings.to_json())
    tmp.replace(state_dir / SETTINGS_FILE)


def load_settings(state_dir: Path) -> SimulationSettings:
    path = Path(state_dir) / SETTINGS_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"no simulation settings at {path}: save them first with save_settings(state_dir, SimulationSettings(...))"
        )
    return SimulationSettings.from_json(path.read_text())
