"""`syncer fx import` of the ECB's eurofxref XML: 1 EUR = rate units of each currency, per day; a report
then converts through them (directly, inversely, or triangulated through the base currency)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from listing_sync.syncer import fx
from listing_sync.syncer.models import FxRate
from listing_sync.syncer.tabular import InputRejected
from sqlalchemy import select

# the shape of https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist-90d.xml (two days)
ECB = """<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
    xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>
  <Cube>
    <Cube time="2026-11-30">
      <Cube currency="USD" rate="1.0550"/>
      <Cube currency="JPY" rate="161.53"/>
      <Cube currency="CNY" rate="7.6412"/>
      <Cube currency="ISK" rate="145.90"/>
    </Cube>
    <Cube time="2026-11-27">
      <Cube currency="USD" rate="1.0512"/>
      <Cube currency="CNY" rate="7.6101"/>
    </Cube>
  </Cube>
</gesmes:Envelope>
"""


def test_ecb_daily_xml_is_imported_with_its_source(session, tmp_path: Path) -> None:
    path = tmp_path / "eurofxref-hist-90d.xml"
    path.write_text(ECB, encoding="utf-8")
    assert fx.import_rates(session, path) == (6, 0)
    assert fx.import_rates(session, path) == (0, 6)  # idempotent
    rows = {(r.base, r.quote, r.day): (r.rate, r.source) for r in session.scalars(select(FxRate))}
    assert rows[("EUR", "USD", date(2026, 11, 30))] == (Decimal("1.0550"), "ECB")
    assert rows[("EUR", "CNY", date(2026, 11, 27))] == (Decimal("7.6101"), "ECB")
    # USD -> CNY has no pair either way: through EUR (the base currency here), 1 / 1.0550 x 7.6412
    book = fx.RateBook(session, "CNY", via="EUR")
    used = book.find("USD", date(2026, 12, 1))
    assert used is not None and used.method == "via EUR"
    assert used.rate == Decimal("0.947867") * Decimal("7.6412")
    assert "ECB" in str(used.legs[0]) and "1 / EUR->USD" in str(used.legs[0])


def test_a_bad_ecb_file_is_refused_whole(session, tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(ECB.replace('"161.53"', '"-1"').replace('"ISK"', '"XXX"'), encoding="utf-8")
    with pytest.raises(InputRejected) as refused:
        fx.import_rates(session, path)
    text = str(refused.value)
    assert "rate must be positive" in text and "XXX" in text and "nothing was applied" in text
    assert session.scalars(select(FxRate)).first() is None
    (tmp_path / "other.xml").write_text("<rates/>", encoding="utf-8")
    with pytest.raises(InputRejected, match="not an ECB"):
        fx.import_rates(session, tmp_path / "other.xml")
