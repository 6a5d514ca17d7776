"""Which agency a report goes to, in the order the SP4N-LAPOR! guideline gives.

1. the agency the reporter named; 2. the most specific category x region rule;
3. a keyword classifier's suggestion, automatic only above a confidence threshold;
4. the admin queue. Agencies that already answered "Bukan Wewenang" for this report
are never chosen again, so a wrong rule cannot bounce a report back and forth.
Pure: the reference data comes in as arguments.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from shared.domain.report import Action, TimelineEvent


class Method(StrEnum):
    NAMED = "named"
    RULE = "rule"
    CLASSIFIER = "classifier"
    ADMIN_QUEUE = "admin_queue"


@dataclass(frozen=True)
class Rule:
    id: str
    category: str  # a parent category matches its children
    region: str  # a province code matches its regencies, a regency its districts
    agency: str  # the agency the report is dispositioned to
    unit: str | None = None  # the agency's unit the rule names, set on the disposition


@dataclass(frozen=True)
class KeywordProfile:
    """The words that suggest an agency: those of the categories it handles."""

    agency_id: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class RoutingFacts:
    category: str
    province_code: str
    regency_code: str | None
    target_agency_id: str | None
    text: str  # title and description, for the classifier
    excluded_agencies: frozenset[str] = frozenset()  # said "Bukan Wewenang" before
    district_code: str | None = None  # kecamatan, when the reporter chose one


@dataclass(frozen=True)
class Routing:
    method: Method
    agency_id: str | None  # None: the admin queue
    rule_id: str | None = None
    confidence: float | None = None
    suggested_agency_id: str | None = None  # a weak suggestion shown to the admin
    unit_id: str | None = None  # a rule that names a unit: the agency's unit to set


def covers(general: str, specific: str) -> bool:
    """A dotted code covers itself and everything below it: region ``32`` covers
    ``32.03``; category ``infrastruktur`` covers ``infrastruktur.jalan``."""
    return specific == general or specific.startswith(general + ".")


def _specificity(rule: Rule) -> tuple[int, int]:
    # The place counts first: a Cugenang rule beats a Cianjur rule, and a Cianjur rule a
    # Jawa Barat rule, whatever the categories, because the office nearest the place
    # answers first for it.
    return rule.region.count(".") + 1, rule.category.count(".") + 1


def matching_rules(rules: Iterable[Rule], facts: RoutingFacts) -> list[Rule]:
    """Rules that match the report, most specific first (rule id breaks ties, stably)."""
    place = facts.district_code or facts.regency_code or facts.province_code
    found = [
        rule
        for rule in rules
        if covers(rule.category, facts.category) and covers(rule.region, place)
    ]
    return sorted(found, key=lambda rule: (tuple(-n for n in _specificity(rule)), rule.id))


_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def classify(text: str, profiles: Sequence[KeywordProfile]) -> tuple[str, float] | None:
    """The agency whose keywords the text matches most, and a confidence in [0, 1).

    Confidence is the winner's share of all keyword hits, damped by how many hits
    there were: one stray word is weak evidence even when nothing else matched.
    """
    lowered = text.lower()
    words = Counter(_WORD.findall(lowered))
    scores: dict[str, int] = {}
    for profile in profiles:
        hits = 0
        for keyword in profile.keywords:
            phrase = keyword.lower()
            hits += lowered.count(phrase) if " " in phrase else words[phrase]
        if hits:
            scores[profile.agency_id] = hits
    if not scores:
        return None
    best = max(sorted(scores), key=lambda agency: scores[agency])
    top, total = scores[best], sum(scores.values())
    confidence = (top / total) * (1 - 0.5**top)
    return best, round(confidence, 3)


def route(
    facts: RoutingFacts,
    *,
    rules: Iterable[Rule],
    known_agencies: Collection[str],
    profiles: Sequence[KeywordProfile],
    auto_route_threshold: float,
) -> Routing:
    def allowed(agency: str | None) -> bool:
        return bool(agency) and agency in known_agencies and agency not in facts.excluded_agencies

    if allowed(facts.target_agency_id):
        return Routing(Method.NAMED, facts.target_agency_id)
    for rule in matching_rules(rules, facts):
        if allowed(rule.agency):
            return Routing(Method.RULE, rule.agency, rule_id=rule.id, unit_id=rule.unit)
    candidates = [p for p in profiles if allowed(p.agency_id)]
    suggestion = classify(facts.text, candidates)
    if suggestion is not None:
        agency, confidence = suggestion
        if confidence >= auto_route_threshold:
            return Routing(Method.CLASSIFIER, agency, confidence=confidence)
        return Routing(Method.ADMIN_QUEUE, None, confidence=confidence, suggested_agency_id=agency)
    return Routing(Method.ADMIN_QUEUE, None)


def rule_tallies(event: TimelineEvent) -> tuple[tuple[str, str], ...]:
    """The per-rule counters an event moves, as (rule id, counter) pairs.

    A rule's misrouting rate is ``not_our_authority / dispositions``; both are counted
    in the commit that records the event, so the published figure cannot drift.
    """
    rule_id = event.data.get("rule_id")
    if not rule_id:
        return ()
    if event.action is Action.DISPOSITION:
        return ((str(rule_id), "dispositions"),)
    if event.action is Action.NOT_OUR_AUTHORITY:
        return ((str(rule_id), "not_our_authority"),)
    return ()
