"""values: AnyValue → string exactly as the exporter's pcommon AsString writes it."""

from __future__ import annotations

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

from clew.collector.values import as_string, attributes, float_string


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1.0, "1"),
        (-0.0, "-0"),
        (0.0, "0"),
        (2.5, "2.5"),
        (0.1, "0.1"),
        (100.0, "100"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-7"),
        (1e-6, "0.000001"),
        (-2.5e-5, "-0.000025"),
        (3.14e-10, "3.14e-10"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (12345678901234567890.0, "12345678901234567000"),
        (float("nan"), "json: unsupported value: NaN"),
        (float("inf"), "json: unsupported value: +Inf"),
        (float("-inf"), "json: unsupported value: -Inf"),
    ],
)
def test_doubles_print_like_go(number: float, text: str) -> None:
    assert float_string(number) == text


def test_nested_values_are_go_json() -> None:
    nested = AnyValue(
        kvlist_value=KeyValueList(
            values=[
                KeyValue(key="z", value=AnyValue(string_value='quote " & <tag> \u2028')),
                KeyValue(
                    key="a",
                    value=AnyValue(
                        array_value=ArrayValue(
                            values=[
                                AnyValue(double_value=1e21),
                                AnyValue(bytes_value=b"\x00"),
                                AnyValue(),
                            ]
                        )
                    ),
                ),
            ]
        )
    )
    assert as_string(nested) == (
        '{"a":[1e+21,"AA==",null],"z":"quote \\" \\u0026 \\u003ctag\\u003e \\u2028"}'
    )


def test_nested_non_finite_double_is_empty() -> None:
    value = AnyValue(array_value=ArrayValue(values=[AnyValue(double_value=float("nan"))]))
    assert as_string(value) == ""


def test_duplicate_keys_last_wins() -> None:
    pairs = [KeyValue(key="k", value=AnyValue(string_value=v)) for v in ("1", "2")]
    assert attributes(pairs) == {"k": "2"}
