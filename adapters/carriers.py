"""The carriers a shipment may name, in our own codes; each marketplace maps them to its own.

A user types ``SF``, ``sf-express``, ``China Post`` or ``4px``; :func:`canonical` turns any spelling listed
here into our code, and each adapter declares ``carrier_codes`` (our code -> the marketplace's code or name)
in its mapping module. A carrier a marketplace has no mapping for is refused before anything is recorded
(:class:`~adapters.base.UnmappedCarrier` names the channel and the carrier).
"""

from __future__ import annotations

import re

#: our code -> what it means (the carriers every marketplace mapping starts from)
CARRIERS: dict[str, str] = {
    "SF": "SF Express (顺丰速运)",
    "YTO": "YTO Express (圆通速递)",
    "ZTO": "ZTO Express (中通快递)",
    "STO": "STO Express (申通快递)",
    "YUNDA": "Yunda Express (韵达快递)",
    "EMS": "China EMS (中国邮政速递)",
    "CHINAPOST": "China Post (中国邮政)",
    "DHL": "DHL",
    "FEDEX": "FedEx",
    "UPS": "UPS",
    "USPS": "USPS",
    "4PX": "4PX (递四方)",
    "YANWEN": "Yanwen (燕文)",
    "CAINIAO": "Cainiao (菜鸟)",
}


def english_name(code: str) -> str:
    """The carrier's name in English (``SF`` -> ``SF Express``): what a marketplace without a carrier
    list of its own (WooCommerce notes, Amazon's ``carrierName`` for ``Other``) shows."""
    return CARRIERS[code].split(" (", 1)[0]


_ALIASES = {
    "SFEXPRESS": "SF",
    "SHUNFENG": "SF",
    "YTOEXPRESS": "YTO",
    "YUANTONG": "YTO",
    "ZTOEXPRESS": "ZTO",
    "ZHONGTONG": "ZTO",
    "STOEXPRESS": "STO",
    "SHENTONG": "STO",
    "YUNDAEXPRESS": "YUNDA",
    "CHINAEMS": "EMS",
    "CHINAPOSTAIRMAIL": "CHINAPOST",
    "POST": "CHINAPOST",
    "POSTB": "CHINAPOST",
    "DHLEXPRESS": "DHL",
    "FOURPX": "4PX",
}


def _squash(text: str) -> str:
    return re.sub(r"[\s_\-.]+", "", text).upper()


def canonical(text: str) -> str | None:
    """Our code for ``text`` (any spelling above, case and spaces ignored); None if we do not know it."""
    key = _squash(text)
    if key in CARRIERS:
        return key
    return _ALIASES.get(key)
