"""The README stays short and true: its size, its links, its curl walkthrough, the module map."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from store.embedded_server import stop_embedded_server
from tests.code_layout import application_modules, project_imports
from tests.live.server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_LINES = 200
README_MAX_BYTES = 15_000
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto: ...
STATUS = re.compile(r"\d{3}\b")
# A line a walkthrough prints for a status: the code, or the code and a content type.
STATUS_LINE = re.compile(r"(\d{3})(?: [\w.+/-]+)?")


def markdown_files() -> list[Path]:
    """The README and every page under docs/."""
    return [README, *sorted(DOCS.glob("*.md"))]


def prose(text: str) -> str:
    """Markdown without its code blocks and code spans, where links are not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings, repeated ones numbered as GitHub does."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for line in FENCE.sub("", path.read_text()).splitlines():
        match = re.match(r"#{1,6} (.+)", line)
        if not match:
            continue
        base = slug(match[1])
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(path: Path) -> list[str]:
    """The relative links of one Markdown file whose file or heading does not exist."""
    broken = []
    for target in LINK.findall(prose(path.read_text())):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target} (no such heading)")
    return broken


def test_readme_is_under_200_lines_and_15_kb() -> None:
    """The README is a short start; the details live in docs/."""
    text = README.read_text()
    assert len(text.splitlines()) < README_MAX_LINES
    assert len(text.encode()) < README_MAX_BYTES


@pytest.mark.parametrize("path", markdown_files(), ids=lambda path: path.name)
def test_every_relative_link_points_at_a_file_and_heading_that_exist(path: Path) -> None:
    """A link into the repository or the docs that leads nowhere fails, anchors included."""
    assert broken_links(path) == []


def test_readme_links_to_every_docs_page() -> None:
    """Every page under docs/ can be reached from the README."""
    linked = {target.partition("#")[0] for target in LINK.findall(prose(README.read_text()))}
    assert {f"docs/{page.name}" for page in DOCS.glob("*.md")} <= linked


def test_the_link_check_sees_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    """The checker itself: a wrong file and a wrong heading are reported, good links are not."""
    page = tmp_path / "page.md"
    page.write_text(
        "# A page\n\n## Good heading\n\n[ok](#good-heading) [ok](page.md#a-page) "
        "[bad](#no-such) [bad](missing.md) `[code](missing.md)` [web](https://example.com/x)\n"
    )
    assert broken_links(page) == ["#no-such (no such heading)", "missing.md (no such file)"]


# The curl walkthroughs, run against `make run`'s server ----------------------------------------

NOT_FOUND = '{"data":null,"error":"Not Found","message":"Book not found"}'
# Each walkthrough: the file, the heading of the section whose shell block it is, and lines its
# output must hold (besides the codes).
WALKTHROUGHS = {
    "readme": (README, "Walkthrough with curl", ["Hello World!", NOT_FOUND]),
    "every-route": (DOCS / "api.md", "Walkthrough of every route with curl", [NOT_FOUND]),
}


def walkthrough(path: Path, heading: str) -> str:
    """The first shell block of a section of a Markdown file."""
    section = path.read_text().split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```sh\n", 1)[1].split("\n```", 1)[0]


def commands(script: str) -> list[str]:
    """The script's commands, each continued line joined to the line it continues."""
    return [line.strip() for line in script.replace("\\\n", " ").splitlines() if line.strip()]


def promised_codes(script: str) -> list[str]:
    """The status code each curl command promises in the comment that ends it, in order."""
    codes = []
    for command in commands(script):
        if not command.startswith("curl "):
            continue
        assert "%{http_code}" in command, f"prints no status code: {command}"
        comment = command.rsplit(" # ", 1)
        assert len(comment) == 2 and STATUS.match(comment[1]), f"no code promised: {command}"
        codes.append(comment[1][:3])
    return codes


def printed_codes(output: str) -> list[str]:
    """The status codes a run printed: the lines that are a code (and maybe a content type)."""
    return [match[1] for line in output.splitlines() if (match := STATUS_LINE.fullmatch(line))]


def runnable(script: str, url: str) -> str:
    """The walkthrough aimed at this server and this interpreter instead of make run's."""
    script, api_lines = re.subn(r"^API=.*$", f"API={url}", script, flags=re.MULTILINE)
    script, python_lines = re.subn(
        r"^PY=.*$", f"PY={shlex.quote(sys.executable)}", script, flags=re.MULTILINE
    )
    assert (api_lines, python_lines) == (1, 1)
    return "set -eu\n" + script


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[LiveServer]:
    """Yield `make run`'s command on a new instance folder; stop it and its database after."""
    server = LiveServer(tmp_path / "instance")
    server.start()
    yield server
    server.stop()
    stop_embedded_server(server.instance)


def run_walkthrough(script: str, server: LiveServer, folder: Path) -> str:
    """Run a walkthrough as pasted into a shell; return what it printed (nothing on stderr)."""
    folder.mkdir()
    result = subprocess.run(
        ["bash", "-c", runnable(script, server.url)],
        cwd=folder,
        env={**os.environ, "TMPDIR": str(folder)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert (result.returncode, result.stderr) == (0, "")
    return result.stdout


@pytest.mark.integration
@pytest.mark.parametrize("name", WALKTHROUGHS)
def test_walkthrough_prints_the_status_codes_it_promises(
    name: str, fresh_server: LiveServer, tmp_path: Path
) -> None:
    """Pasted in order, every curl command of the walkthrough answers the code its comment says."""
    path, heading, expected_lines = WALKTHROUGHS[name]
    script = walkthrough(path, heading)
    promised = promised_codes(script)
    assert len(promised) >= 10
    output = run_walkthrough(script, fresh_server, tmp_path / "shell")
    assert printed_codes(output) == promised
    assert set(expected_lines) <= set(output.splitlines())
    # The thumbnail it fetched is the server's cover, bounded by 150x150, in its own folder.
    (thumbnail,) = (tmp_path / "shell").glob("tmp.*/thumb*.jpg")
    with Image.open(thumbnail) as image:
        assert (image.format, max(image.size)) == ("JPEG", 150)


def test_promised_codes_refuse_a_curl_command_that_hides_its_status() -> None:
    """A walkthrough command that prints no code, or promises none, is caught."""
    with pytest.raises(AssertionError, match="prints no status code"):
        promised_codes("curl -s $API/   # 200\n")
    with pytest.raises(AssertionError, match="no code promised"):
        promised_codes("curl -s -w '%{http_code}\\n' \\\n  $API/\n")
    assert promised_codes("curl -s -w '%{http_code}\\n' \\\n  $API/ -X GET   # 200, ok\n") == [
        "200"
    ]


# docs/architecture.md's module tables against the code ----------------------------------------


def documented_modules() -> dict[str, set[str]]:
    """The rows of architecture.md's module tables: dotted module name -> the imports it lists."""
    rows: dict[str, set[str]] = {}
    for line in (DOCS / "architecture.md").read_text().splitlines():
        match = re.match(r"\| `([\w./]+)\.py` \|.*\|([^|]*)\|$", line)
        if match:
            rows[match[1].replace("/", ".")] = set(re.findall(r"`([\w.]+)`", match[2]))
    return rows


def test_architecture_lists_every_module_with_its_real_imports() -> None:
    """A module added, removed or rewired without updating docs/architecture.md fails."""
    modules = application_modules()
    actual = {name: project_imports(path) for name, path in modules.items()}
    assert documented_modules() == actual
