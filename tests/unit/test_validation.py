"""Input rules for strings, codes, digests, media types, grades and page sizes."""

from __future__ import annotations

import pytest

from casehub.domain import validation as v
from casehub.domain.errors import ErrorCode, ValidationFailed

FIELD = ("case", "title")


def refused(call, field):
    with pytest.raises(ValidationFailed) as info:
        call()
    err = info.value
    assert err.code is ErrorCode.VALIDATION
    assert err.field == list(field)
    return err


# --- text -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "multiline"),
    [
        ("Operation Nightjar", False),
        ("a", False),
        ("  padded  ", False),
        ("Ünïcödé \u2013 案件 🚔", False),
        ("x" * 10, False),
        ("line one\nline two", True),
        ("crlf\r\nline", True),
        ("tab\tseparated", True),
        ("\nleading newline", True),
    ],
)
def test_text_accepts_and_returns_value_unchanged(value, multiline):
    assert v.text(value, field=FIELD, max_length=100, multiline=multiline) == value


@pytest.mark.parametrize(
    ("value", "multiline", "message"),
    [
        ("", False, "Must not be empty."),
        ("", True, "Must not be empty."),
        (" ", False, "Must not be empty."),
        ("   ", True, "Must not be empty."),
        ("\u3000", False, "Must not be empty."),
        ("\n\t\r", True, "Must not be empty."),
        ("\n", False, "Must not be empty."),
        ("x" * 11, False, "Must be at most 10 characters."),
        ("x\n" * 6, True, "Must be at most 10 characters."),
        ("nul\x00byte", False, "Must not contain control characters."),
        ("nul\x00byte", True, "Must not contain control characters."),
        ("esc\x1b[31m", False, "Must not contain control characters."),
        ("esc\x1b[31m", True, "Must not contain control characters."),
        ("ls\u2028sep", False, "Must not contain control characters."),
        ("ls\u2028sep", True, "Must not contain control characters."),
        ("ps\u2029sep", True, "Must not contain control characters."),
        ("del\x7f", False, "Must not contain control characters."),
        ("nel\x85", True, "Must not contain control characters."),
        ("bell\x07", True, "Must not contain control characters."),
        ("surrogate\ud800", False, "Must not contain control characters."),
        ("new\nline", False, "Must not contain control characters."),
        ("cr\rx", False, "Must not contain control characters."),
        ("tab\there", False, "Must not contain control characters."),
        ("vt\x0bff", True, "Must not contain control characters."),
        ("ff\x0cx", True, "Must not contain control characters."),
        (
            "r\u202egpj",
            False,
            "Must not contain invisible or text-direction override characters.",
        ),
        ("iso\u2066x", True, "Must not contain invisible or text-direction override characters."),
        ("zw\u200bsp", False, "Must not contain invisible or text-direction override characters."),
        ("\ufeffbom", False, "Must not contain invisible or text-direction override characters."),
    ],
)
def test_text_refuses(value, multiline, message):
    err = refused(lambda: v.text(value, field=FIELD, max_length=10, multiline=multiline), FIELD)
    assert err.message == message


@pytest.mark.parametrize("value", ["\u0645\u200c\u06cc", "👩\u200d💻", "Ελληνικά", "日本語"])
def test_text_keeps_joiners_and_scripts(value):
    assert v.text(value, field=FIELD, max_length=10) == value


@pytest.mark.parametrize("max_length", [1, 5, 200])
def test_text_length_boundary(max_length):
    assert v.text("y" * max_length, field=FIELD, max_length=max_length) == "y" * max_length
    refused(lambda: v.text("y" * (max_length + 1), field=FIELD, max_length=max_length), FIELD)


def test_text_error_does_not_echo_the_value():
    secret = "secret-value\x00"
    err = refused(lambda: v.text(secret, field=FIELD, max_length=100), FIELD)
    assert "secret-value" not in str(err)
    assert "secret-value" not in err.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("ok", "ok"), ("two\nlines", None)],
)
def test_optional_text(value, expected):
    if value is not None and expected is None:
        refused(lambda: v.optional_text(value, field=FIELD, max_length=50), FIELD)
    else:
        assert v.optional_text(value, field=FIELD, max_length=50) == expected


def test_optional_text_passes_multiline_and_refuses_blank():
    assert v.optional_text("a\nb", field=FIELD, max_length=5, multiline=True) == "a\nb"
    refused(lambda: v.optional_text("", field=FIELD, max_length=5), FIELD)
    refused(lambda: v.optional_text("toolong", field=FIELD, max_length=5), FIELD)


# --- agency codes and jurisdictions ------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["MY-PDRM", "FR", "INTERPOL", "A1", "9X", "AB-", "A" * 32, "X-" * 16, "US-FBI-2"]
)
def test_agency_code_accepts(value):
    assert v.agency_code(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "A",
        "my-pdrm",
        "My-PDRM",
        "-MY",
        "A" * 33,
        "MY PDRM",
        "MY_PDRM",
        "MY-PDRM\n",
        " MY",
        "ÄB",
        "MY.PDRM",
        "\uff2d\uff39",
    ],
)
def test_agency_code_refuses(value):
    refused(lambda: v.agency_code(value), ["code"])


def test_agency_code_uses_given_field():
    refused(lambda: v.agency_code("x", field=["input", "code"]), ["input", "code"])


@pytest.mark.parametrize(
    "value", ["MY", "FR", "US", "GB", "SG", "TH", "ID", "PH", "INT", "ZW", "AD"]
)
def test_jurisdiction_accepts(value):
    assert v.jurisdiction(value) == value


@pytest.mark.parametrize(
    "value",
    ["my", "My", "XX", "ZZ", "UK", "EU", "int", "Int", "MYS", "M", "", " MY", "MY ", "INTL"],
)
def test_jurisdiction_refuses(value):
    refused(lambda: v.jurisdiction(value), ["jurisdiction"])


def test_jurisdiction_uses_given_field():
    refused(lambda: v.jurisdiction("XX", field=["agency", "j"]), ["agency", "j"])


# --- digests, media types, grading, page size ---------------------------------------------------

DIGEST = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("value", [DIGEST, "0" * 64, "f" * 64, "0123456789abcdef" * 4])
def test_sha256_accepts(value):
    assert v.sha256_hex(value, field=["sha256"]) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        DIGEST.upper(),
        DIGEST[:-1],
        DIGEST + "0",
        "g" * 64,
        DIGEST[:-1] + "G",
        " " + DIGEST[1:],
        DIGEST + "\n",
        "sha256:" + DIGEST[7:],
    ],
)
def test_sha256_refuses(value):
    refused(lambda: v.sha256_hex(value, field=["evidence", "sha256"]), ["evidence", "sha256"])


@pytest.mark.parametrize(
    "value",
    [
        "image/jpeg",
        "application/pdf",
        "text/plain",
        "video/mp4",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/ld+json",
        "message/rfc822",
        "a/" + "b" * 127,
        "a" * 63 + "/b",
    ],
)
def test_media_type_accepts(value):
    assert v.media_type(value, field=["mediaType"]) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "image",
        "image/",
        "/jpeg",
        "IMAGE/JPEG",
        "image/JPEG",
        "text/plain; charset=utf-8",
        "text/plain\n",
        "image/jpeg/x",
        "image /jpeg",
        "a/" + "b" * 128,
        "a" * 64 + "/b",
        ".image/jpeg",
    ],
)
def test_media_type_refuses(value):
    refused(lambda: v.media_type(value, field=["mediaType"]), ["mediaType"])


@pytest.mark.parametrize(
    ("value", "ok"),
    [(0, False), (1, True), (2, True), (3, True), (4, True), (5, False), (-1, False), (100, False)],
)
def test_information_accuracy(value, ok):
    field = ["evidence", "informationAccuracy"]
    if ok:
        assert v.information_accuracy(value, field=field) == value
    else:
        refused(lambda: v.information_accuracy(value, field=field), field)


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (None, {}, 20),
        (None, {"default": 5}, 5),
        (1, {}, 1),
        (20, {}, 20),
        (100, {}, 100),
        (50, {"maximum": 50}, 50),
    ],
)
def test_page_size_accepts(value, kwargs, expected):
    assert v.page_size(value, **kwargs) == expected


@pytest.mark.parametrize(
    ("value", "kwargs", "message"),
    [
        (0, {}, "Must be between 1 and 100."),
        (-1, {}, "Must be between 1 and 100."),
        (101, {}, "Must be between 1 and 100."),
        (51, {"maximum": 50}, "Must be between 1 and 50."),
    ],
)
def test_page_size_refuses(value, kwargs, message):
    err = refused(lambda: v.page_size(value, **kwargs), ["first"])
    assert err.message == message


# --- platform names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("telegram", "telegram"),
        ("Telegram", "telegram"),
        ("WhatsApp", "whatsapp"),
        ("ETHEREUM", "ethereum"),
        ("x.com", "x.com"),
        ("we_chat-2", "we_chat-2"),
        ("1inch", "1inch"),
        ("a", "a"),
        ("a" * 64, "a" * 64),
    ],
)
def test_platform_name_accepts_and_lower_cases(value, expected):
    assert v.platform_name(value, field=["platform"]) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "a" * 65,
        "-telegram",
        ".x",
        "_x",
        "@telegram",
        "tele gram",
        "telegram\n",
        "télégram",
        "t/g",
    ],
)
def test_platform_name_refuses(value):
    refused(lambda: v.platform_name(value, field=["ids", "0", "chain"]), ["ids", "0", "chain"])
