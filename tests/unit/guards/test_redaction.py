"""Redaction replaces spans by placeholders and merges spans that overlap."""

from __future__ import annotations

from chatkeep.guards.redaction import Span, merge_spans, placeholder, redact


def test_placeholder_names_the_label() -> None:
    assert placeholder("email") == "[REDACTED_EMAIL]"
    assert placeholder("national_id") == "[REDACTED_NATIONAL_ID]"


def test_each_span_is_replaced() -> None:
    text = "mail a@b.io or call +3725551234 now"
    spans = [Span(5, 11, "email"), Span(20, 31, "phone")]
    assert redact(text, spans) == "mail [REDACTED_EMAIL] or call [REDACTED_PHONE] now"


def test_overlapping_spans_become_one_placeholder_with_the_stronger_label() -> None:
    text = "0123456789"
    merged = merge_spans(
        [Span(2, 6, "email", rank=1), Span(4, 8, "credential", rank=4), Span(7, 9, "phone", 2)]
    )
    assert merged == [Span(2, 9, "credential", 4)]
    assert redact(text, [Span(2, 6, "email", 1), Span(4, 9, "credential", 4)]) == "01[REDACTED_CREDENTIAL]9"


def test_contained_span_is_absorbed() -> None:
    assert merge_spans([Span(0, 10, "iban", 3), Span(2, 4, "phone", 2)]) == [Span(0, 10, "iban", 3)]


def test_touching_spans_stay_separate() -> None:
    assert redact("abcd", [Span(0, 2, "a"), Span(2, 4, "b")]) == "[REDACTED_A][REDACTED_B]"


def test_no_spans_leaves_text_alone() -> None:
    assert redact("hello", []) == "hello"
