"""Routing: named agency, most specific rule, classifier, admin queue, in that order."""

from __future__ import annotations

import dataclasses

from shared.domain.routing import (
    KeywordProfile,
    Method,
    Routing,
    RoutingFacts,
    Rule,
    classify,
    matching_rules,
    route,
)

RULES = [
    Rule("jabar-jalan", "infrastruktur.jalan", "32", "dbmpr-jabar"),
    Rule("cianjur-infrastruktur", "infrastruktur", "32.03", "dpupr-cianjur"),
    Rule("cianjur-kesehatan", "kesehatan", "32.03", "dinkes-cianjur"),
    Rule("cianjur-kesehatan-puskesmas", "kesehatan.puskesmas", "32.03", "puskesmas-cipanas"),
]
AGENCIES = {"dbmpr-jabar", "dpupr-cianjur", "dinkes-cianjur", "puskesmas-cipanas", "dlh-cianjur"}
PROFILES = [
    KeywordProfile("dpupr-cianjur", ("jalan", "berlubang", "jembatan")),
    KeywordProfile("dlh-cianjur", ("sampah", "limbah", "bau")),
    KeywordProfile("dinkes-cianjur", ("puskesmas", "dokter", "obat")),
]
FACTS = RoutingFacts(
    category="infrastruktur.jalan",
    province_code="32",
    regency_code="32.03",
    target_agency_id=None,
    text="Jalan berlubang di depan pasar",
)


def routed(facts: RoutingFacts, threshold: float = 0.75) -> Routing:
    return route(
        facts,
        rules=RULES,
        known_agencies=AGENCIES,
        profiles=PROFILES,
        auto_route_threshold=threshold,
    )


def test_a_named_agency_wins() -> None:
    result = routed(dataclasses.replace(FACTS, target_agency_id="dlh-cianjur"))
    assert (result.method, result.agency_id) == (Method.NAMED, "dlh-cianjur")


def test_an_unknown_named_agency_is_ignored() -> None:
    result = routed(dataclasses.replace(FACTS, target_agency_id="no-such-agency"))
    assert result.method is Method.RULE


def test_the_regency_rule_beats_the_province_rule_with_a_deeper_category() -> None:
    result = routed(FACTS)
    assert (result.method, result.agency_id, result.rule_id) == (
        Method.RULE,
        "dpupr-cianjur",
        "cianjur-infrastruktur",
    )


def test_a_deeper_category_wins_within_the_same_place() -> None:
    facts = dataclasses.replace(FACTS, category="kesehatan.puskesmas")
    assert routed(facts).rule_id == "cianjur-kesehatan-puskesmas"
    assert (
        routed(dataclasses.replace(facts, category="kesehatan.rsud")).rule_id == "cianjur-kesehatan"
    )


def test_a_province_rule_covers_its_other_regencies() -> None:
    facts = dataclasses.replace(FACTS, regency_code="32.04")
    assert routed(facts).agency_id == "dbmpr-jabar"


def test_rules_never_match_another_province_or_a_sibling_category() -> None:
    other = dataclasses.replace(FACTS, province_code="33", regency_code="33.01")
    assert matching_rules(RULES, other) == []
    sibling = dataclasses.replace(FACTS, category="infrastrukturx")
    assert matching_rules(RULES, sibling) == []


def test_an_agency_that_said_bukan_wewenang_is_skipped_for_the_next_rule() -> None:
    facts = dataclasses.replace(FACTS, excluded_agencies=frozenset({"dpupr-cianjur"}))
    result = routed(facts)
    assert (result.agency_id, result.rule_id) == ("dbmpr-jabar", "jabar-jalan")


def test_a_confident_classifier_routes_when_no_rule_matches() -> None:
    facts = dataclasses.replace(
        FACTS, category="lainnya", text="Sampah menumpuk, bau limbah dari pasar, sampah lagi"
    )
    result = routed(facts)
    assert result.method is Method.CLASSIFIER and result.agency_id == "dlh-cianjur"
    assert result.confidence is not None and result.confidence >= 0.75


def test_a_weak_suggestion_waits_for_an_admin() -> None:
    facts = dataclasses.replace(FACTS, category="lainnya", text="Ada sampah dan jalan rusak")
    result = routed(facts)
    assert result.method is Method.ADMIN_QUEUE and result.agency_id is None
    assert result.suggested_agency_id in {"dlh-cianjur", "dpupr-cianjur"}


def test_nothing_to_go_on_goes_to_the_admin_queue() -> None:
    facts = dataclasses.replace(FACTS, category="lainnya", text="Mohon informasi jadwal")
    result = routed(facts)
    assert (result.method, result.agency_id, result.suggested_agency_id) == (
        Method.ADMIN_QUEUE,
        None,
        None,
    )


def test_classifier_confidence_grows_with_evidence_and_shrinks_with_rivals() -> None:
    one = classify("sampah", PROFILES)
    three = classify("sampah limbah bau", PROFILES)
    mixed = classify("sampah limbah bau jalan jembatan", PROFILES)
    assert one and three and mixed
    assert one[1] < three[1]
    assert mixed[1] < three[1]
    assert classify("tidak ada kata kunci", PROFILES) is None


# --- districts and units --------------------------------------------------------------

DISTRICT_RULES = [
    *RULES,
    Rule("cugenang-jalan", "infrastruktur.jalan", "32.03.11", "dpupr-cianjur", unit="uptd-utara"),
]


def test_a_district_rule_beats_the_regency_rule_and_carries_its_unit() -> None:
    facts = dataclasses.replace(FACTS, district_code="32.03.11")
    result = route(
        facts,
        rules=DISTRICT_RULES,
        known_agencies=AGENCIES,
        profiles=PROFILES,
        auto_route_threshold=0.75,
    )
    assert (result.agency_id, result.unit_id, result.rule_id) == (
        "dpupr-cianjur",
        "uptd-utara",
        "cugenang-jalan",
    )


def test_a_district_rule_leaves_the_other_districts_and_regency_only_reports_alone() -> None:
    for district in ("32.03.10", None):
        facts = dataclasses.replace(FACTS, district_code=district)
        found = [r.id for r in matching_rules(DISTRICT_RULES, facts)]
        assert found == ["cianjur-infrastruktur", "jabar-jalan"]


def test_the_most_specific_place_comes_first_whatever_the_category_depth() -> None:
    rules = [
        Rule("cianjur-jalan", "infrastruktur.jalan", "32.03", "dpupr-cianjur"),
        Rule("cugenang-infrastruktur", "infrastruktur", "32.03.11", "dpupr-cianjur"),
    ]
    facts = dataclasses.replace(FACTS, district_code="32.03.11")
    assert [r.id for r in matching_rules(rules, facts)] == [
        "cugenang-infrastruktur",
        "cianjur-jalan",
    ]


def test_a_unit_rule_is_skipped_when_its_agency_said_bukan_wewenang() -> None:
    facts = dataclasses.replace(
        FACTS, district_code="32.03.11", excluded_agencies=frozenset({"dpupr-cianjur"})
    )
    result = route(
        facts,
        rules=DISTRICT_RULES,
        known_agencies=AGENCIES,
        profiles=PROFILES,
        auto_route_threshold=0.75,
    )
    assert (result.agency_id, result.unit_id) == ("dbmpr-jabar", None)
