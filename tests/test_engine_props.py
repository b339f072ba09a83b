"""Property tests: generated configs (random layout, comments, CRLF, spacing) survive every edit:
the data is exactly the old data plus the change, and the other lines keep their bytes and order."""

from __future__ import annotations

import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codexprov.config import edit

KEY = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True).filter(
    lambda k: k not in ("model", "model_provider", "model_providers", "projects")
)
VALUE = st.one_of(
    st.integers(-5, 5000).map(str),
    st.text(
        st.characters(codec="utf-8", exclude_characters='"\\\r\n', exclude_categories=("Cc", "Cs")), max_size=12
    ).map(lambda s: f'"{s}"'),
    st.just("true"),
    st.just('[1, 2, "[x]"]'),
    st.just('"""\n[model_providers.fake]\n"""'),
    st.just('{ a = 1, b = "[c]" }'),
)
COMMENT = st.text(
    st.characters(codec="utf-8", exclude_characters="\r\n", exclude_categories=("Cc", "Cs")), max_size=15
).map(lambda s: "# " + s)
SPACE = st.sampled_from([" = ", "=", "  =  ", "\t= "])


@st.composite
def configs(draw):
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append(draw(COMMENT))
    root_keys = draw(st.lists(KEY, max_size=3, unique=True))
    if draw(st.booleans()):
        lines.append(f'model{draw(SPACE)}"m0"' + (f"  {draw(COMMENT)}" if draw(st.booleans()) else ""))
    for key in root_keys:
        lines.append(f"{key}{draw(SPACE)}{draw(VALUE)}")
    providers = draw(st.lists(st.from_regex(r"p[a-z0-9]{0,4}", fullmatch=True), max_size=3, unique=True))
    owned: dict[str, set[str]] = {pid: set() for pid in providers}
    style = draw(st.sampled_from(["tables", "dotted", "super"]))
    sections: list[list[str]] = []
    if style == "dotted":
        for pid in providers:
            lines.append(f'model_providers.{pid}.name{draw(SPACE)}"{pid.upper()}"')
            owned[pid].add(lines[-1])
    elif style == "super" and providers:
        sections.append(["[model_providers]"] + [f'{pid} = {{ name = "{pid.upper()}" }}' for pid in providers])
        for pid in providers:
            owned[pid].add(f'{pid} = {{ name = "{pid.upper()}" }}')
    else:
        for pid in providers:
            body = [f"[model_providers.{pid}]", f'name{draw(SPACE)}"{pid.upper()}"']
            for key in draw(st.lists(KEY, max_size=2, unique=True)):
                body.append(f"{key}{draw(SPACE)}{draw(VALUE)}")
            sections.append(body)
            owned[pid].update(line for chunk in body for line in chunk.split("\n"))
    for i in range(draw(st.integers(0, 3))):
        sections.append([draw(COMMENT)] * draw(st.integers(0, 1)) + [f'[projects."/p/{i}"]', 'trust_level = "trusted"'])
    draw(st.randoms()).shuffle(sections)
    out = list(lines)
    for body in sections:
        if out and draw(st.booleans()):
            out.append("")
        out.extend(body)
    text = nl.join(out)
    if draw(st.booleans()) and text:
        text += nl
    return text, providers, owned


def _check_other_lines_kept(before: str, after: str, concerned) -> None:
    after_lines = after.splitlines()
    pos = 0
    for line in before.splitlines():
        if concerned(line):
            continue
        try:
            pos = after_lines.index(line, pos) + 1
        except ValueError:
            raise AssertionError(f"line lost or moved: {line!r}\n--- before\n{before}\n--- after\n{after}") from None


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(configs())
def test_add_provider(case) -> None:
    text, _, _ = case
    tomllib.loads(text)
    table = {
        "name": "New",
        "base_url": "http://n/v1",
        "wire_api": "responses",
        "query_params": {"v": "1"},
        "auth": {"command": "/bin/x", "args": ["token", "new"]},
    }
    after = edit.add_table(text, ("model_providers", "new"), table)
    expected = tomllib.loads(text)
    expected.setdefault("model_providers", {})["new"] = table
    assert tomllib.loads(after) == expected
    _check_other_lines_kept(text, after, lambda line: line.startswith("model_providers ="))


@SETTINGS
@given(configs())
def test_set_root_keys(case) -> None:
    text, _, _ = case
    after = edit.set_root_keys(text, {"model_provider": "px", "model": "m1"})
    expected = tomllib.loads(text)
    expected.update(model_provider="px", model="m1")
    assert tomllib.loads(after) == expected
    _check_other_lines_kept(text, after, lambda line: line.startswith("model"))


@SETTINGS
@given(configs())
def test_remove_provider(case) -> None:
    text, providers, owned = case
    if not providers:
        return
    pid = providers[0]
    after = edit.remove_table(text, ("model_providers", pid))
    expected = tomllib.loads(text)
    del expected["model_providers"][pid]
    got = tomllib.loads(after)
    if not expected["model_providers"] and "model_providers" not in got:
        del expected["model_providers"]
    assert got == expected
    _check_other_lines_kept(
        text,
        after,
        lambda line: line in owned[pid] or not line.strip() or line.startswith("#") or "model_providers" in line,
    )


@SETTINGS
@given(configs())
def test_round_trip_no_edit(case) -> None:
    text, _, _ = case
    assert edit.set_root_keys(text, {}) == text
    assert edit.scoped_edit(text, ("model_providers",), lambda doc: None) == text
