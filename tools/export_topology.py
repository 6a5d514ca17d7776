"""Write ``infra/topology.json`` from ``shared/topology.py`` and ``shared/config.py``.

Terraform cannot import Python, so the one definition of the Pub/Sub topology and the
schedules (``shared.topology``) is exported as JSON that ``infra/*.tf`` reads with
``jsondecode(file(...))`` and ``for_each``: a topic, subscription or schedule is
defined once, and the local stack and production follow the same list. The names of
the ``LAPOR_*`` settings are exported too, so Terraform refuses a misspelt setting.

    python -m tools.export_topology           # rewrite infra/topology.json
    python -m tools.export_topology --check   # exit 1 if the committed file is stale

tests/infra/test_terraform.py fails when the committed file differs from what this
produces, naming this command.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from shared import topology as default_topology
from shared.config import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
TOPOLOGY_JSON = REPO_ROOT / "infra" / "topology.json"
COMMAND = "python -m tools.export_topology"

# What tools.stack.ensure_pubsub gives every subscription locally, used unless a
# Subscription declares its own ``ack_deadline_s``.
DEFAULT_ACK_DEADLINE_S = 60
# shared.topology.Schedule: "cron: production, in the scheduler's time zone
# (Asia/Jakarta)", unless a Schedule declares its own ``time_zone``.
DEFAULT_TIME_ZONE = "Asia/Jakarta"
# Settings Terraform sets itself, never through the ``settings`` variable: the token
# secret comes from Secret Manager, the project from ``project_id``, and the topic
# names are the topology's (a renamed topic would be published to but never created).
TERRAFORM_OWNED_SETTINGS = frozenset({"LAPOR_TOKEN_SECRET", "LAPOR_PROJECT"})


def terraform_owned(setting: str) -> bool:
    return setting in TERRAFORM_OWNED_SETTINGS or setting.startswith("LAPOR_TOPIC_")


def schedule_name(function: str, path: str) -> str:
    """A Cloud Scheduler job id (letters, digits, hyphens): ``sweep`` for ``/``."""
    suffix = "-".join(part for part in path.strip("/").split("/") if part)
    return f"{function}-{suffix}" if suffix else function


def topology_document(topology: ModuleType = default_topology) -> dict[str, Any]:
    subscriptions = [
        {
            "name": spec.name,
            "topic": spec.topic,
            "push_function": spec.push_function,
            "dead_letter_topic": spec.dead_letter_topic,
            "max_delivery_attempts": spec.max_delivery_attempts,
            "min_backoff_s": spec.min_backoff_s,
            "max_backoff_s": spec.max_backoff_s,
            "ack_deadline_s": getattr(spec, "ack_deadline_s", DEFAULT_ACK_DEADLINE_S),
        }
        for spec in topology.SUBSCRIPTIONS
    ]
    schedules = [
        {
            "name": getattr(schedule, "name", None)
            or schedule_name(schedule.function, schedule.path),
            "function": schedule.function,
            "path": schedule.path,
            "method": schedule.method.upper(),
            "cron": schedule.cron,
            "time_zone": getattr(schedule, "time_zone", DEFAULT_TIME_ZONE),
        }
        for schedule in getattr(topology, "SCHEDULES", ())
    ]
    settings = sorted(
        variable for variable in Settings.environment_names() if not terraform_owned(variable)
    )
    return {
        "generated_by": f"{COMMAND} (from shared/topology.py and shared/config.py)",
        "topics": sorted(topology.TOPICS),
        "subscriptions": sorted(subscriptions, key=lambda s: str(s["name"])),
        "schedules": sorted(schedules, key=lambda s: str(s["name"])),
        "settings": settings,
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    expected = render(topology_document())
    if "--check" in argv:
        current = TOPOLOGY_JSON.read_text(encoding="utf-8") if TOPOLOGY_JSON.exists() else ""
        if current != expected:
            print(f"{TOPOLOGY_JSON} is stale: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    TOPOLOGY_JSON.write_text(expected, encoding="utf-8")
    print(f"wrote {TOPOLOGY_JSON.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
