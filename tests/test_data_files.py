"""Checks of the data files in data/ (workaround catalogue, CPR events, municipalities, names, fees)."""

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
JSON_FILES = ["workarounds.json", "cpr_events.json", "municipalities.json", "names.json", "fees.json"]

# Every section of the guide (seeds/workaround-guide-da.txt) that has its own catalogue entry.
GUIDE_SECTIONS = [
    "2.1.1", "2.2.1", "2.3.1", "2.3.2", "2.4.1", "2.5.1", "2.6.1", "2.6.2", "2.6.5",
    "2.6.7", "2.6.8", "2.7.1", "2.7.3", "2.7.5", "2.7.6", "2.7.7", "2.7.8", "3.1.3", "3.1.7",
]
CONDITION_KEYS = {
    "current_group": int, "luna_known": bool, "has_cpr_change_to_self": bool,
    "has_supplementary_address": bool, "has_note_state_posted": bool,
    "current_doctor_closed": bool, "age_under": int, "has_guardian": bool,
    "from_greenland": bool, "to_greenland": bool, "moved_to_residence_parent": bool,
}


def load(name):
    with open(DATA / name, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def catalogue():
    return load("workarounds.json")


@pytest.fixture(scope="module")
def events():
    return load("cpr_events.json")["events"]


@pytest.mark.parametrize("name", JSON_FILES)
def test_every_data_file_is_valid_utf8_json(name):
    assert isinstance(load(name), dict)


def test_there_are_98_municipalities_with_unique_three_digit_codes_including_capital_area():
    munis = load("municipalities.json")["municipalities"]
    codes = [m["code"] for m in munis]
    assert len(munis) == 98
    assert len(set(codes)) == 98
    assert len({m["name"] for m in munis}) == 98
    assert all(isinstance(c, int) and 100 <= c <= 999 for c in codes)
    assert {101, 147, 155, 185, 461, 751, 851} <= set(codes)


def test_every_municipality_has_region_coordinates_in_denmark_and_a_postcode():
    regions = {"Hovedstaden", "Sjælland", "Syddanmark", "Midtjylland", "Nordjylland"}
    for m in load("municipalities.json")["municipalities"]:
        assert m["region"] in regions, m
        assert 54.5 < m["lat"] < 57.8 and 8.0 < m["lon"] < 15.2, m
        assert len(m["postcode"]) == 4 and m["postcode"].isdigit() and m["city"], m


def test_every_guide_section_is_in_the_catalogue_exactly_once_with_da_and_en_texts(catalogue):
    ids = [w["id"] for w in catalogue["workarounds"]]
    assert sorted(ids) == sorted(GUIDE_SECTIONS)
    for w in catalogue["workarounds"]:
        for field in ("title", "summary"):
            assert w[field]["da"].strip() and w[field]["en"].strip(), (w["id"], field)
        assert w["steps"]["da"] and len(w["steps"]["da"]) == len(w["steps"]["en"]), w["id"]
        assert all(s.strip() for s in w["steps"]["da"] + w["steps"]["en"]), w["id"]


def test_section_3_1_3_has_its_own_row_served_by_the_guardian_wizard(catalogue):
    by_id = {w["id"]: w for w in catalogue["workarounds"]}
    assert by_id["2.6.2"]["release"] == "CPR"
    assert (by_id["3.1.3"]["release"], by_id["3.1.3"]["wizard"]) == (None, by_id["2.6.2"]["wizard"])


def test_every_catalogue_key_is_unique(catalogue):
    keys = [w["key"] for w in catalogue["workarounds"]]
    assert len(keys) == len(set(keys))


def test_catalogue_keeps_jira_ids_and_releases_as_written_in_the_guide(catalogue):
    by_id = {w["id"]: w for w in catalogue["workarounds"]}
    assert by_id["2.4.1"]["jira"] == ["PHIKOMEXT-108", "PHIKOMEXT-76"]
    assert by_id["2.7.6"]["jira"] == ["PHIKOMEXT-076"]
    assert by_id["2.1.1"]["jira"] == [] and by_id["2.1.1"]["release"] is None
    assert by_id["2.4.1"]["release"] == "1.3"
    for w in catalogue["workarounds"]:
        assert w["release"] in (None, "1.1", "1.2", "1.3", "CPR"), w["id"]


def test_there_are_four_attention_points_ap1_to_ap4(catalogue):
    aps = catalogue["attention_points"]
    assert [a["id"] for a in aps] == ["AP1", "AP2", "AP3", "AP4"]
    for a in aps:
        assert a["title"]["da"] and a["title"]["en"] and a["text"]["da"] and a["text"]["en"]
    assert aps[2]["jira"] == ["PHIKOMEXT-014"] and aps[2]["release"] == "1.1"


def test_every_suggestion_points_to_null_or_a_catalogue_id(catalogue):
    # a workaround, or an attention point whose check is the solution (040: AP4)
    ids = {w["id"] for w in catalogue["workarounds"]} | {a["id"] for a in catalogue["attention_points"]}
    for s in catalogue["suggestions"]:
        assert s["workaround"] is None or s["workaround"] in ids, s


def test_every_suggestion_attention_is_null_or_an_attention_point(catalogue):
    aps = {a["id"] for a in catalogue["attention_points"]}
    for s in catalogue["suggestions"]:
        assert s.get("attention") is None or s["attention"] in aps, s


def test_every_suggestion_event_code_is_a_wildcard_or_a_known_event(catalogue, events):
    codes = {e["code"] for e in events}
    for s in catalogue["suggestions"]:
        assert s["event_code"] == "*" or s["event_code"] in codes, s


def test_suggestion_conditions_use_only_the_agreed_vocabulary_and_types(catalogue):
    for s in catalogue["suggestions"]:
        for key, value in s["when"].items():
            assert key in CONDITION_KEYS, s
            assert type(value) is CONDITION_KEYS[key], s


def test_suggestions_end_with_a_catch_all_giving_no_suggestion(catalogue):
    last = catalogue["suggestions"][-1]
    assert last["event_code"] == "*" and last["when"] == {} and last["workaround"] is None
    assert all(s["event_code"] != "*" for s in catalogue["suggestions"][:-1])


def test_every_task_creating_event_has_a_suggestion_or_attention(catalogue, events):
    covered = {
        s["event_code"] for s in catalogue["suggestions"]
        if s["workaround"] is not None or s.get("attention") is not None
    }
    missing = [e["code"] for e in events if e["creates_task"] and e["code"] not in covered]
    assert missing == []


def test_cpr_event_codes_are_unique_and_have_da_en_names_and_a_source(events):
    codes = [e["code"] for e in events]
    assert len(codes) == len(set(codes))
    for e in events:
        assert e["name"]["da"] and e["name"]["en"], e
        assert e["source"] in ("CPR", "LUNA", "PLO"), e
        assert isinstance(e["creates_task"], bool) and isinstance(e["due_days"], int), e


def test_rediscovery_011_is_due_the_same_day(events):
    by_code = {e["code"]: e for e in events}
    assert by_code["011"]["due_days"] == 0
    assert by_code["011"]["creates_task"] is True


def test_names_lists_have_the_agreed_sizes_without_duplicates():
    names = load("names.json")
    for key, size in (("first_male", 60), ("first_female", 60), ("last", 80), ("streets", 60)):
        assert len(names[key]) == size and len(set(names[key])) == size, key


def test_card_fee_is_220_in_2023_and_225_in_2024():
    assert load("fees.json")["card_fee_kr"] == {"2023": 220, "2024": 225}


def test_every_workaround_and_attention_point_has_a_short_name_that_fits_the_inbox_column(catalogue):
    # The inbox's Løsning column is 16 cells at 80 columns: "2.7.3 " plus at most 10.
    for w in catalogue["workarounds"] + catalogue["attention_points"]:
        for lang in ("da", "en"):
            short = w["short"][lang]
            assert short.strip() and len(short) <= 10, (w["id"], lang, short)
