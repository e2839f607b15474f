"""A seeded, deterministic simulated brand with six channels: the web shop's
PostgreSQL database, a social platform with a JSON API, and daily file exports
in a landing folder from the stores' tills (POS), the app, the e-mail/SMS tool
(campaigns) and the service desk. Its hidden truth (who is who, who will buy,
what each campaign really does) is written to ``<state_dir>/truth/`` for
testing identity resolution and models.

    save_settings(state_dir, SimulationSettings(customers=2000, seed=42, start_date=date(2024, 1, 1)))
    advance_world(state_dir, shop_dsn, landing, through=date(2024, 6, 29))  # files in landing/<channel>/
    with serve_social_api(state_dir, token="secret") as base_url:
        ...
"""
from c360.simulator.advance import AdvanceReport, advance_world, last_simulated_day, read_truth
from c360.simulator.settings import SimulationSettings, load_settings, save_settings
from c360.simulator.social_api import serve_social_api

__all__ = [
    "AdvanceReport",
    "SimulationSettings",
    "advance_world",
    "last_simulated_day",
    "load_settings",
    "read_truth",
    "save_settings",
    "serve_social_api",
]
