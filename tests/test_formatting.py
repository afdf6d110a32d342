"""Values read the same on every page, in mail and in exports: the formatters and their filters."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from aimweb import formatting


def test_dates_read_the_us_way_without_platform_specific_directives():
    assert formatting.us_date(date(2026, 7, 1)) == "07/01/2026"
    assert formatting.us_datetime(datetime(2026, 7, 1, 9, 5)) == "07/01/2026 09:05 UTC"
    assert formatting.long_date(date(2026, 12, 1)) == "December 1, 2026"  # no leading zero, any libc
    assert formatting.long_datetime(datetime(2026, 12, 1, 14, 5)) == "December 1, 2026, 14:05 UTC"
    assert formatting.us_date(None) == formatting.long_date(None) == "—"


def test_numbers_read_with_thousands_separators():
    assert formatting.amount(Decimal("1250.5")) == "1,250.50"
    assert formatting.usd(Decimal("3.1")) == "$3.10"
    assert formatting.kg(Decimal("12500.4")) == "12,500 kg"
    assert formatting.metric_tons(Decimal("1234.56")) == "1,234.6"
    assert formatting.whole(1234567) == "1,234,567"
    assert formatting.hts("7601103000") == "7601.10.30.00"
    assert formatting.country("CA") == "Canada"


def test_every_formatter_is_a_template_filter(app):
    for fn in formatting.FILTERS:
        assert app.jinja_env.filters[fn.__name__] is fn
    with app.app_context():
        rendered = app.jinja_env.from_string("{{ d|long_date }} · {{ n|whole }} · {{ c|country }}").render(
            d=date(2026, 12, 1), n=12500, c="CA")
    assert rendered == "December 1, 2026 · 12,500 · Canada"
