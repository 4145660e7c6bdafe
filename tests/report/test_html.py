from __future__ import annotations

from alops.report import html


def test_escape_quotes_and_markup_passes_through() -> None:
    assert html.escape('<b a="1">&\'') == "&lt;b a=&quot;1&quot;&gt;&amp;&#x27;"
    assert html.escape(html.Markup("<b>x</b>")) == "<b>x</b>"
    assert html.escape(None) == ""


def test_element_escapes_content_and_attributes() -> None:
    out = html.element("td", "<script>", class_='x" onload="y', title=None)
    assert out == '<td class="x&quot; onload=&quot;y">&lt;script&gt;</td>'


def test_table_escapes_cells_and_marks_numbers() -> None:
    out = html.table(["metric", "value"], [["<acc>", 0.95], ["n", 3], ["ok", html.badge(True)]])
    assert '<th scope="col">metric</th>' in out
    assert '<td>&lt;acc&gt;</td><td class="num">0.95</td>' in out
    assert '<td class="num">3</td>' in out
    assert '<span class="badge pass">PASS</span>' in out
    assert html.badge(False) == '<span class="badge fail">FAIL</span>'
    assert html.badge(True, "skip", kind="skip") == '<span class="badge skip">skip</span>'


def test_link_refuses_script_urls() -> None:
    assert html.link("https://gitlab.example.com/p", "<p>") == '<a href="https://gitlab.example.com/p">&lt;p&gt;</a>'
    assert html.link("javascript:alert(1)", "x") == "x"
    assert html.link("//evil.example/x", "x") == "x"
    assert html.link("experiments/index.html", "e").startswith("<a href=")


def test_image_is_a_data_uri() -> None:
    out = html.image(b"\x89PNG", 'a"b')
    assert out == '<img src="data:image/png;base64,iVBORw==" alt="a&quot;b">'


def test_page_is_self_contained() -> None:
    doc = html.page("<t>", html.join([html.element("h1", "x"), html.pre("a && b")]))
    assert doc.startswith("<!DOCTYPE html>")
    assert "<title>&lt;t&gt;</title>" in doc
    assert "<pre><code>a &amp;&amp; b</code></pre>" in doc
    assert "default-src 'none'" in doc
    assert "http" not in doc.replace("http-equiv", "")
    assert html.details("s", "<x>") == "<details><summary>s</summary>\n&lt;x&gt;\n</details>"
