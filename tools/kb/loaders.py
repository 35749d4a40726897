"""Read one article per file: Markdown with front matter, HTML, plain text or PDF."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import yaml

from tools.kb.models import Article, Section

MAX_FILE_BYTES = 5 * 1024 * 1024
SUPPORTED = {".md", ".markdown", ".html", ".htm", ".txt", ".pdf"}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
# A line to say, with [slots] the copilot fills: 'Say: "..."' or 'Once <fact>, say: "..."'.
_SAY = re.compile(r'(?i)^\s*(?:once [^,"]{1,80}, )?say:\s*"[^"]+"\s*$')


class ArticleError(Exception):
    """This file cannot become an article; the message says why."""


def load(path: Path, root: Path) -> Article:
    """The article in `path`; raises ArticleError naming the problem."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise ArticleError(f"unsupported file type {suffix or '(none)'}")
    size = path.stat().st_size
    if size == 0:
        raise ArticleError("empty file")
    if size > MAX_FILE_BYTES:
        raise ArticleError(f"{size:,} bytes; at most {MAX_FILE_BYTES:,} allowed")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    source = str(path.relative_to(root))
    meta: dict[str, object] = {}
    if suffix == ".pdf":
        sections = _pdf(path)
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ArticleError(f"not UTF-8 text (byte {exc.start})") from None
        if "\x00" in text:
            raise ArticleError("binary content in a text file")
        if suffix in (".md", ".markdown"):
            meta, body = _front_matter(text)
            sections = _markdown(body)
        elif suffix in (".html", ".htm"):
            meta, sections = _html(text)
        else:
            sections = _plain(text)
    sections, script = _scripts(sections)
    sections = [s for s in sections if s.text.strip()]
    if not sections:
        raise ArticleError("no text found")
    return _article(meta, sections, path, source, digest).model_copy(update={"script": script})


def _scripts(sections: list[Section]) -> tuple[list[Section], list[str]]:
    """The sections without their lines to say, and those lines in order.

    The lines are templates for reply drafts, not knowledge: indexed, their [slots] and
    second-person phrasing would compete with the passages that answer the question.
    """
    script: list[str] = []
    out: list[Section] = []
    for section in sections:
        kept = []
        for line in section.text.splitlines():
            if _SAY.match(line):
                script.append(" ".join(line.split()))
            else:
                kept.append(line)
        out.append(section.model_copy(update={"text": "\n".join(kept).strip()}))
    return out, script


def _article(
    meta: dict[str, object], sections: list[Section], path: Path, source: str, digest: str
) -> Article:
    article_id = str(meta.get("id") or path.stem)
    if not _ID.match(article_id):
        raise ArticleError(f"id {article_id[:40]!r} must be letters, digits, '.', '_' or '-'")
    title = str(meta.get("title") or (sections[0].path[0] if sections[0].path else path.stem))
    updated = meta.get("updated")
    if updated is not None and not isinstance(updated, date):
        try:
            updated = date.fromisoformat(str(updated))
        except ValueError:
            raise ArticleError(f"updated: {str(updated)[:20]!r} is not a date") from None
    return Article(
        id=article_id,
        title=title[:300],
        url=str(meta.get("url") or ""),
        tags=_strings(meta.get("tags")),
        product=str(meta.get("product") or ""),
        channel=_strings(meta.get("channel")),
        locale=str(meta.get("locale") or "en-US"),
        updated=updated,
        source=source,
        sections=sections,
        content_hash=digest,
    )


def _strings(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return [str(v) for v in value]
    raise ArticleError(f"expected a list, got {type(value).__name__}")


def _front_matter(text: str) -> tuple[dict[str, object], str]:
    if not text.startswith("---"):
        return {}, text
    end = text.find("\n---", 3)
    if end < 0:
        raise ArticleError("front matter opened with --- but never closed")
    try:
        meta = yaml.safe_load(text[3:end]) or {}
    except yaml.YAMLError as exc:
        raise ArticleError(f"front matter is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(meta, dict):
        raise ArticleError("front matter must be a mapping of keys to values")
    return meta, text[end + 4 :]


def _markdown(body: str) -> list[Section]:
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    fenced = False
    for line in body.splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match:
            sections.append(Section(path=_path(stack), text="\n".join(lines).strip()))
            _push(stack, len(match.group(1)), match.group(2).strip())
            lines = []
        else:
            lines.append(line)
    sections.append(Section(path=_path(stack), text="\n".join(lines).strip()))
    return sections


def _push(stack: list[tuple[int, str]], level: int, heading: str) -> None:
    """A heading closes every open heading at its level or deeper, then opens itself."""
    while stack and stack[-1][0] >= level:
        stack.pop()
    stack.append((level, heading))


def _path(stack: list[tuple[int, str]]) -> tuple[str, ...]:
    return tuple(text for _, text in stack)


def _plain(text: str) -> list[Section]:
    lines = text.strip().splitlines()
    title = lines[0].strip()[:200] if lines else ""
    return [Section(path=(title,), text="\n".join(lines[1:]).strip() or title)]


class _HtmlText(HTMLParser):
    """Headings h1-h3 start sections; script, style and nav are dropped."""

    SKIP = frozenset({"script", "style", "nav", "header", "footer", "noscript", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = []
        self.stack: list[tuple[int, str]] = []
        self.parts: list[str] = []
        self.heading: int | None = None
        self.heading_text: list[str] = []
        self.skipping = 0
        self.title = ""
        self.in_title = False
        self.meta: dict[str, object] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "title":
            self.in_title = True
        elif tag == "meta":
            d = dict(attrs)
            if d.get("name") and d.get("content"):
                self.meta[str(d["name"])] = d["content"]
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self.heading, self.heading_text = int(tag[1]), []
        elif tag in ("p", "li", "br", "div", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "title":
            self.in_title = False
        elif self.heading is not None and tag == f"h{self.heading}":
            text = " ".join("".join(self.heading_text).split())
            _push(self.stack, self.heading, text)
            self.heading = None

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if self.in_title:
            self.title += data
        elif self.heading is not None:
            self.heading_text.append(data)
        else:
            self.parts.append(data)

    def _flush(self) -> None:
        text = re.sub(r"[ \t]+", " ", "".join(self.parts))
        text = re.sub(r"\n\s*\n+", "\n\n", text).strip()
        self.sections.append(Section(path=_path(self.stack), text=text))
        self.parts = []


def _html(text: str) -> tuple[dict[str, object], list[Section]]:
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    parser._flush()
    meta = {
        k: v
        for k, v in parser.meta.items()
        if k in ("id", "url", "tags", "product", "channel", "locale", "updated")
    }
    if parser.title.strip():
        meta["title"] = " ".join(parser.title.split())
    return meta, parser.sections


def _pdf(path: Path) -> list[Section]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ArticleError(f"not a readable PDF ({type(exc).__name__})") from None
    title = next((line.strip() for p in pages for line in p.splitlines() if line.strip()), "")
    return [
        Section(path=(title[:200], f"page {i + 1}"), text=p.strip()) for i, p in enumerate(pages)
    ]
