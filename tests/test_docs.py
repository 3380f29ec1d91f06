"""The README's Python example runs as written, and says what it prints."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_python_example_runs_and_its_comments_hold():
    blocks = _python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "README has no python example"
    lines = blocks[0].splitlines()
    namespace: dict = {}
    for line in lines:
        code, _, comment = line.partition("#")
        if not code.strip():
            continue
        if "=" in code.split("(")[0] or code.startswith(("import", "from")):
            exec(code, namespace)  # noqa: S102 - the README's own statements
            continue
        value = eval(code, namespace)  # noqa: S307 - the README's own expressions
        numbers = re.findall(r"(\d+\.\d+) bits", comment)
        if numbers and isinstance(value, float):  # 'plug-in: 10.50 bits' and the like
            assert value == pytest.approx(float(numbers[-1]), abs=0.006), line
        quoted = re.search(r"'([^']*?)(?:\.\.\.)?'", comment)
        if quoted and isinstance(value, str):  # a reason: its start as quoted
            assert value.startswith(quoted.group(1).rstrip(" .")), (value, line)


def test_theory_md_reason_example_is_what_classify_prints():
    from mi_regimes.verdicts import classify, summarize_counts

    text = (README.parent / "docs" / "theory.md").read_text(encoding="utf-8")
    quoted = re.search(r"each with K = 2\^30: `(undersampled:.*?)`", text, flags=re.S)
    assert quoted, "the example moved"
    printed = classify(summarize_counts([25] * 4), alphabet_size=2**30).reason
    assert " ".join(quoted.group(1).split()) == printed
