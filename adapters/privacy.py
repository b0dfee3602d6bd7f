"""Buyers' personal data (names, emails, phones, addresses) handled like secrets: masked in the HTTP trace,
in log records and in error messages.

:func:`mask` takes any text (a JSON body, a truncated excerpt of one, a Python ``repr`` of a dict in a
log line, a form body) and replaces

- the values of personal fields (``email``, ``first_name``, ``buyerName``, ``receiver_mobile``,
  ``addressLine1``, ... in any of the marketplaces' spellings), and every value inside a personal
  container (``billing``, ``shipping``, ``shippingAddress``, ``buyer``, ``recipient``, ``shipTo``, ...)
  except its country, in JSON that parses whole;
- the same fields as ``"key": "value"``, ``'key': 'value'`` or ``key=value`` in any other text;
- e-mail addresses anywhere;
- every value learned that way, wherever else it shows up (a name quoted in a message).

with ``***``. Country codes stay (orders keep them; they do not identify anyone).

Importing this module installs a log-record factory that masks every log message of the process.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"

#: fields whose value identifies a buyer, whatever container they are in (keys compared lowercase,
#: without ``_`` and ``-``: ``first_name``, ``firstName`` and ``FirstName`` are one)
PERSONAL_FIELDS = frozenset(
    {
        "email",
        "buyeremail",
        "customeremail",
        "contactemail",
        "phone",
        "phonenumber",
        "primaryphone",
        "mobile",
        "mobileno",
        "telephone",
        "firstname",
        "lastname",
        "fullname",
        "buyername",
        "buyersignerfullname",
        "buyerloginid",
        "buyernick",
        "buyerusername",
        "customername",
        "contactperson",
        "recipientname",
        "receivername",
        "receivermobile",
        "receiverphone",
        "receiveraddress",
        "receiverzip",
        "receivercity",
        "receiverdistrict",
        "receivertown",
        "address1",
        "address2",
        "address3",
        "addressline1",
        "addressline2",
        "addressline3",
        "street",
        "street1",
        "street2",
        "streetaddress",
        "detailaddress",
        "address",  # AliExpress OrderAddressDTO's first address line
        "localizedaddress",
        "postcode",
        "postalcode",
        "zip",
        "zipcode",
        "city",
    }
)
#: containers whose every value is personal (but their country and technical ids)
PERSONAL_CONTAINERS = frozenset(
    {
        "billing",
        "shipping",
        "billingaddress",
        "shippingaddress",
        "defaultaddress",
        "customer",
        "buyer",
        "buyerinfo",
        "recipient",
        "deliveryaddress",
        "shipto",
        "contactaddress",
        "receiptaddress",
        "shippingaddressinfo",
    }
)
#: inside a personal container, these stay readable
KEEP = frozenset(
    {"country", "countrycode", "countrycodev2", "countryname", "addresstype", "id", "typename", "currency"}
)

_KEY = r"[A-Za-z][A-Za-z0-9_\-]{0,40}"
_JSON_PAIR = re.compile(rf'"({_KEY})"(\s*:\s*)"((?:[^"\\]|\\.)*)"')
_REPR_PAIR = re.compile(rf"'({_KEY})'(\s*:\s*)'((?:[^'\\]|\\.)*)'")
_FORM_PAIR = re.compile(rf"(?:^|(?<=[?&;\s]))({_KEY})(=)([^&;\s\"']+)")
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
MIN_LEARNED = 4  # shorter values (a state code, "1") are too common to replace everywhere
MAX_LEARNED = 5000


def _norm(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def is_personal_field(key: str) -> bool:
    """True for a field (in any spelling) whose value identifies a buyer."""
    return _norm(key) in PERSONAL_FIELDS


class _Learned:
    """Personal values seen so far in this process (the most recent :data:`MAX_LEARNED`)."""

    def __init__(self) -> None:
        self._values: OrderedDict[str, None] = OrderedDict()
        self._sorted: list[str] | None = []  # longest first; None = to sort again after an addition
        self._seen: set[str] = set()  # the values as given (their forms are computed once)
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        value = value.strip()
        if len(value) < MIN_LEARNED or value == MASK or value in self._seen:
            return
        forms = {
            value,
            quote(value, safe=""),
            quote_plus(value),
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
        }
        with self._lock:
            if len(self._seen) > 4 * MAX_LEARNED:
                self._seen.clear()
            self._seen.add(value)
            for form in forms:
                self._values[form] = None
                self._values.move_to_end(form)
            while len(self._values) > MAX_LEARNED:
                self._values.popitem(last=False)
            self._sorted = None

    def replace(self, text: str) -> str:
        with self._lock:
            if self._sorted is None:
                self._sorted = sorted(self._values, key=len, reverse=True)
            values = self._sorted
        for value in values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._seen.clear()
            self._sorted = []


learned = _Learned()


def mask(text: str | None) -> str | None:
    """``text`` with every buyer's personal data replaced by ``***`` (see the module docstring)."""
    if not text:
        return text
    own: _Learned | None = None
    if text.lstrip()[:1] in ("{", "["):
        try:
            data = json.loads(text)
        except ValueError:
            pass
        else:  # a whole document: its own personal values are all there is to replace (fast on big pages)
            own = _Learned()
            for value in _personal_values(data, inside=False):
                learned.add(value)
                own.add(value)
    text = _JSON_PAIR.sub(_pair, text)
    text = _REPR_PAIR.sub(_pair, text)
    text = _FORM_PAIR.sub(_form_pair, text)
    text = EMAIL.sub(_email, text)
    return (own or learned).replace(text)


def mask_value(value: Any) -> Any:
    """A JSON-like value with its personal parts masked (for structures logged or stored as they are)."""
    return _masked(value, inside=False)


def _pair(match: re.Match[str]) -> str:
    key, sep, value = match.group(1), match.group(2), match.group(3)
    if not value or value == MASK or not is_personal_field(key):
        return match.group(0)
    learned.add(value)
    quote = match.group(0)[0]
    return f"{quote}{key}{quote}{sep}{quote}{MASK}{quote}"


def _form_pair(match: re.Match[str]) -> str:
    if not is_personal_field(match.group(1)) or match.group(3) == MASK:
        return match.group(0)
    learned.add(match.group(3))
    return f"{match.group(1)}={MASK}"


def _email(match: re.Match[str]) -> str:
    learned.add(match.group(0))
    return MASK


def _personal_values(data: Any, *, inside: bool, key: str = "") -> Iterator[str]:
    """Every personal leaf value of a parsed JSON document, as text."""
    if isinstance(data, dict):
        for k, v in data.items():
            name = _norm(str(k))
            if name in KEEP and inside:
                continue
            yield from _personal_values(
                v, inside=inside or name in PERSONAL_CONTAINERS or name in PERSONAL_FIELDS, key=name
            )
    elif isinstance(data, list):
        for item in data:
            yield from _personal_values(item, inside=inside, key=key)
    elif inside and isinstance(data, str | int) and not isinstance(data, bool):
        yield str(data)


def _masked(data: Any, *, inside: bool) -> Any:
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            name = _norm(str(k))
            keep = name in KEEP and inside
            out[k] = v if keep else _masked(v, inside=inside or name in PERSONAL_CONTAINERS or name in PERSONAL_FIELDS)
        return out
    if isinstance(data, list):
        return [_masked(item, inside=inside) for item in data]
    if inside and isinstance(data, str | int) and not isinstance(data, bool) and data != "":
        return MASK
    if isinstance(data, str):
        return mask(data)
    return data


# ------------------------------------------------------------------------------------------- logs
_previous_factory = logging.getLogRecordFactory()


def _masking_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _previous_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a malformed record is not ours to fix
        return record
    clean = mask(message)
    if clean != message:
        record.msg, record.args = clean, None
    return record


if not getattr(logging.getLogRecordFactory(), "_masks_personal_data", False):
    _masking_factory._masks_personal_data = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(_masking_factory)
