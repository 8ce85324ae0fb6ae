"""Parsers for the text formats found in the Debian packages the corpus is built from.

Each function takes paths inside an unpacked package tree and yields plain-text units
(strings, or (key, text) pairs where a stable key matters for aligned sets). The formats and
their quirks are documented in ../shared/docs/corpus-sources.md; this file only reads them.
"""
import gzip
import html
import os
import re
import struct
import subprocess
import tarfile
import zlib

# ---------------------------------------------------------------------------------- plain files

def read_text(path):
    """Text of a file (gzip-aware): UTF-8, or Latin-1 for the older files that are not UTF-8."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def files_under(root, suffixes, skip=lambda p: False):
    """Sorted paths under `root` whose name ends with one of `suffixes`."""
    out = []
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            if n.endswith(tuple(suffixes)) and not os.path.islink(p) and not skip(p):
                out.append(p)
    return sorted(out)


def tar_members(tar_path, suffixes):
    """(member name, text) for files in a tarball whose name ends with one of `suffixes`."""
    with tarfile.open(tar_path) as tf:
        for m in tf:
            if m.isfile() and m.name.endswith(tuple(suffixes)):
                yield m.name, tf.extractfile(m).read().decode("utf-8", "replace")


# ------------------------------------------------------------------------------ SWORD modules

def _sword_entries(moddir, prefix, wide):
    for testament in ("ot", "nt"):
        index = os.path.join(moddir, f"{testament}.{prefix}s")
        if not os.path.exists(index) or os.path.getsize(index) == 0:
            continue
        blocks_raw = open(index, "rb").read()
        data = open(os.path.join(moddir, f"{testament}.{prefix}z"), "rb").read()
        verses = open(os.path.join(moddir, f"{testament}.{prefix}v"), "rb").read()
        blocks = [zlib.decompress(data[o:o + n]) if n else b"" for o, n, _ in struct.iter_unpack("<III", blocks_raw)]
        width, fmt = (12, "<III") if wide else (10, "<IIH")
        seen = set()
        for b, off, size in struct.iter_unpack(fmt, verses[:len(verses) // width * width]):
            if size == 0 or (b, off) in seen:
                continue
            seen.add((b, off))
            yield blocks[b][off:off + size].decode("utf-8", "replace")


def _osis_plain(osis):
    osis = re.sub(r"(?s)<note\b[^>]*>.*?</note>", "", osis)
    osis = re.sub(r"<(?:div|p|lb|l|lg|title|chapter|verse|milestone)\b[^>]*>|</(?:div|p|l|lg|title)>", " ", osis)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", osis))).strip()


def sword_chapters(moddir, prefix="bz", wide=False):
    """(OSIS chapter id like 'Gen.1', text) for a SWORD zText module."""
    current, buf = "front", []
    for entry in _sword_entries(moddir, prefix, wide):
        m = re.search(r'<chapter\b[^>]*osisID="([^"]+)"[^>]*sID=', entry)
        if m:
            if buf:
                yield current, " ".join(buf)
            current, buf = m.group(1), []
        text = _osis_plain(entry)
        if text:
            buf.append(text)
    if buf:
        yield current, " ".join(buf)


# ---------------------------------------------------------------------- R lazy-load database

def rdb_character_vectors(path):
    """Each object of an R lazy-load .rdb as a list of strings (its CHARSXP records)."""
    data = open(path, "rb").read()
    pos = 0
    while pos < len(data):
        z = zlib.decompressobj()
        raw = z.decompress(data[pos + 4:])
        pos = len(data) - len(z.unused_data)
        lines, i = [], 0
        while i < len(raw) - 8:
            flags, n = struct.unpack(">Ii", raw[i:i + 8])
            if flags & 0xFF == 9 and flags < 0x100000:
                if n == -1:
                    lines.append("")
                    i += 8
                    continue
                if 0 <= n < 1 << 20:
                    lines.append(raw[i + 8:i + 8 + n].decode("utf-8", "replace"))
                    i += 8 + n
                    continue
            i += 1
        yield lines


def novel_chapters(lines):
    """Splits a novel's lines into chapters on 'CHAPTER I' style headings."""
    chapters, buf = [], []
    for line in lines:
        if re.match(r"^\s*(CHAPTER|Chapter)\s+[IVXLC\d]+\.?\s*$", line) and buf:
            chapters.append("\n".join(buf).strip())
            buf = []
        buf.append(line)
    if buf:
        chapters.append("\n".join(buf).strip())
    return [c for c in chapters if c]


# ------------------------------------------------------------------------------------ dictd

_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def _dictd_number(s):
    n = 0
    for c in s:
        n = n * 64 + _B64[c]
    return n


def dictd_entries(index_path, dict_path):
    """Entries of a dictd database in file order, deduplicated, without the 00-database-* headers."""
    spans = set()
    with open(index_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0].startswith("00-database") or parts[0].startswith("00database"):
                continue
            spans.add((_dictd_number(parts[1]), _dictd_number(parts[2])))
    with gzip.open(dict_path, "rb") as f:
        data = f.read()
    for off, n in sorted(spans):
        text = data[off:off + n].decode("utf-8", "replace").strip()
        if text:
            yield text


# ---------------------------------------------------------------------------------- fortunes

def fortune_cookies(path):
    text = read_text(path)
    return [c.strip() for c in re.split(r"(?m)^%\s*$", text) if c.strip()]


# --------------------------------------------------------------------------------------- HTML

def html_text(raw):
    raw = re.sub(r"(?is)<(head|script|style)\b.*?</\1>", " ", raw)
    raw = re.sub(r"(?i)<br\s*/?>|</p>|</h\d>|</li>|</div>", "\n", raw)
    text = html.unescape(re.sub(r"<[^>]+>", "", raw))
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    return re.sub(r"\n\s*\n+", "\n\n", text).strip()


# ---------------------------------------------------------------------------------------- OBO

_OBO_KEEP = ("name:", "namespace:", "def:", "synonym:", "is_a:", "comment:")


def obo_terms(path, drop_prefixes=()):
    """(namespace, text) for each non-obsolete [Term] stanza with the useful lines kept."""
    text = read_text(path)
    for stanza in re.split(r"\n\s*\n", text):
        if not stanza.startswith("[Term]") or "is_obsolete: true" in stanza:
            continue
        lines, namespace = [], ""
        for line in stanza.splitlines()[1:]:
            if not line.startswith(_OBO_KEEP) or any(p in line for p in drop_prefixes):
                continue
            line = re.sub(r" \[[^\]]*\]$", "", line)
            if line.startswith("namespace:"):
                namespace = line.split(":", 1)[1].strip()
            lines.append(line)
        if lines:
            yield namespace, "\n".join(lines)


# ----------------------------------------------------------------------------------- Metamath

_MM_STATEMENT = re.compile(r"\$\((?P<c>(?:(?!\$\)).)*?)\$\)\s*(?P<l>\S+)\s+\$(?P<k>[ap])\s(?P<s>.*?)\$[.=]", re.S)


def metamath_statements(path):
    """'label $a|$p statement' with its comment, proofs removed."""
    text = re.sub(r"\$=.*?\$\.", "$.", read_text(path), flags=re.S)
    for m in _MM_STATEMENT.finditer(text):
        comment = re.sub(r"\s+", " ", m.group("c")).strip()
        statement = re.sub(r"\s+", " ", m.group("s")).strip()
        yield f"{m.group('l')} ${m.group('k')} {statement} $.\n{comment}"


# ---------------------------------------------------------------------------------- man pages

def is_man_stub(path):
    for line in read_text(path).splitlines():
        if line.startswith(('.\\"', "'\\\"")) or not line.strip():
            continue
        return line.startswith(".so ")
    return True


def render_man(path):
    """A man page rendered to plain UTF-8 text with groff (no formatting, no headers/footers)."""
    src = gzip.open(path, "rb").read() if path.endswith(".gz") else open(path, "rb").read()
    out = subprocess.run(["groff", "-k", "-Tutf8", "-mandoc", "-P-cbou", "-rLL=100n"], input=src,
                         capture_output=True, timeout=60).stdout.decode("utf-8", "replace")
    lines = out.splitlines()
    # The first and last non-empty lines are the "LS(1) ... LS(1)" header and footer.
    idx = [i for i, line in enumerate(lines) if line.strip()]
    if len(idx) > 2:
        lines = lines[idx[0] + 1:idx[-1]]
    text = "\n".join(re.sub(r" {2,}", " ", line).rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def man_key(path):
    """Aligned key of a man page across languages: 'ls.1' for .../man1/ls.1.gz."""
    name = os.path.basename(path)
    return name[:-3] if name.endswith(".gz") else name


# ------------------------------------------------------------------------------------ helpers

def split_long(text, limit=16000, piece=8000):
    """Splits text longer than `limit` chars into ~`piece`-char parts at line breaks."""
    if len(text) <= limit:
        return [text]
    parts, buf, size = [], [], 0
    for line in text.splitlines(keepends=True):
        buf.append(line)
        size += len(line)
        if size >= piece:
            parts.append("".join(buf))
            buf, size = [], 0
    if buf:
        if parts and size < piece // 4:
            parts[-1] += "".join(buf)
        else:
            parts.append("".join(buf))
    return [p.strip() for p in parts if p.strip()]


def group_units(units, target=4000):
    """Packs consecutive short units (dictionary entries, ontology terms) into ~target-char docs."""
    docs, buf, size = [], [], 0
    for u in units:
        buf.append(u)
        size += len(u) + 2
        if size >= target:
            docs.append("\n\n".join(buf))
            buf, size = [], 0
    if buf:
        docs.append("\n\n".join(buf))
    return docs
