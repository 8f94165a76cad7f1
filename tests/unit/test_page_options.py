"""The 报名信息 page's long selects (gateway.pages.common.options): every value and label
escaped, the saved value marked selected, and a saved value no longer allowed kept and
marked as such (the page must show what was saved, not silently pick another)."""
from __future__ import annotations

from gateway.pages.common import MONTH_CHOICES, options, year_choices

UNITS = [{"unit_id": "U1", "name": "郑州市第一人民医院"}, {"unit_id": "U2", "name": "<b>某单位</b> & \"二\""}]
TRADES = [{"code": "T013", "name": "护理员"}, {"code": "T021", "name": "电工"}, {"code": "T034", "name": "汽车驾驶员"}]


def test_values_and_labels_are_escaped_and_the_saved_one_selected():
    html = str(options(UNITS, "U2", value="unit_id"))
    assert html == ('<option value="U1">郑州市第一人民医院</option>'
                    '<option value="U2" selected>&lt;b&gt;某单位&lt;/b&gt; &amp; &#34;二&#34;</option>')
    assert "selected" not in str(options(UNITS, None, value="unit_id"))
    assert "selected" not in str(options(UNITS, "", value="unit_id"))


def test_only_allowed_trades_are_offered_and_a_saved_one_no_longer_allowed_stays_marked():
    assert str(options(TRADES, None)).count("<option") == 3                       # no restriction
    assert str(options(TRADES, None, allowed=["T021"])) == '<option value="T021">电工</option>'
    html = str(options(TRADES, "T034", allowed=["T021"]))
    assert html == '<option value="T021">电工</option><option value="T034" selected>汽车驾驶员（不可选）</option>'
    assert str(options(TRADES, None, allowed=[])) == ""


def test_years_newest_first_and_months_match_their_saved_text():
    html = str(options(year_choices(2026, 2024), 2025))
    assert html == ('<option value="2026">2026年</option><option value="2025" selected>2025年</option>'
                    '<option value="2024">2024年</option>')
    months = str(options(MONTH_CHOICES, "07"))
    assert months.count("<option") == 12 and '<option value="07" selected>07月</option>' in months


def test_a_page_reads_a_dicts_items_by_name_and_its_methods_still_where_no_key_has_their_name():
    """PageEnvironment: ``x.name`` on a plain dict is its item; ``.items()``/``.get()`` still
    the dict's own; anything else (objects, missing names) as Jinja2 has it."""
    from types import SimpleNamespace

    from gateway.pages.common import env

    t = env.from_string("{{ d.name }}|{{ d.missing }}|{% for k, v in n.items() %}{{ k }}={{ v }};{% endfor %}"
                        "|{{ n.get('a') }}|{{ o.name }}|{{ d.items }}")
    out = t.render(d={"name": "张伟", "items": "列表"}, n={"a": 1, "b": 2}, o=SimpleNamespace(name="对象"))
    assert out == "张伟||a=1;b=2;|1|对象|列表"
