"""The corpus recipe: which Debian packages feed which domain, and how their files become documents.

A domain reader gets the folder where packages were unpacked (one sub-folder per package) and
returns Doc records. `group` ties documents that must land on the same side of the train /
held-out split: the same Bible chapter in English and Spanish ("bible:Gen.1"), the same man
page in every language ("man:ls.1"). Everything else is grouped by itself.
"""
import glob
import os
import re
from dataclasses import dataclass

import formats as F


@dataclass
class Doc:
    text: str
    domain: str
    lang: str
    source: str   # package (and file) it came from
    group: str    # split unit


def _pkg(root, name, *parts):
    return os.path.join(root, name, *parts)


def _file_docs(root, domain, lang, pkg, paths, prefix_len):
    docs = []
    for p in paths:
        rel = p[prefix_len:].lstrip("/")
        for i, part in enumerate(F.split_long(F.read_text(p))):
            docs.append(Doc(part, domain, lang, f"{pkg}:{rel}", f"{pkg}:{rel}#{i}"))
    return docs


def _grouped(units, domain, lang, source, target=4000):
    return [Doc(t, domain, lang, source, f"{source}@{i}") for i, t in enumerate(F.group_units(units, target))]


# ------------------------------------------------------------------------------------- code

def code_c(root):
    tar = glob.glob(_pkg(root, "newlib-source", "usr/src/newlib/*.tar.xz"))[0]
    docs = []
    for name, text in F.tar_members(tar, (".c",)):
        for i, part in enumerate(F.split_long(text)):
            docs.append(Doc(part, "code_c", "en", f"newlib-source:{name}", f"newlib:{name}#{i}"))
    return docs


def code_python(root):
    docs = []
    for pkg in ("libpython3.11-minimal", "libpython3.11-stdlib"):
        base = _pkg(root, pkg, "usr/lib/python3.11")
        paths = F.files_under(base, (".py",), skip=lambda p: "/test/" in p or "/tests/" in p)
        docs += _file_docs(root, "code_python", "en", pkg, paths, len(base))
    return docs


def code_shell(root):
    base = _pkg(root, "zsh-common", "usr/share/zsh")
    paths = F.files_under(base, ("",), skip=lambda p: p.endswith(".zwc") or "/help/" in p)
    return _file_docs(root, "code_shell", "en", "zsh-common", paths, len(base))


def code_lisp(root):
    base = _pkg(root, "emacs-el", "usr/share/emacs")
    return _file_docs(root, "code_lisp", "en", "emacs-el", F.files_under(base, (".el.gz",)), len(base))


def code_go(root):
    base = _pkg(root, "golang-1.19-src", "usr/share/go-1.19/src")
    paths = F.files_under(base, (".go",), skip=lambda p: p.endswith("_test.go") or "/testdata/" in p)
    return _file_docs(root, "code_go", "en", "golang-1.19-src", paths, len(base))


# -------------------------------------------------------------------------- English prose

def literature_en(root):
    docs = []
    rdb = _pkg(root, "r-cran-janeaustenr", "usr/lib/R/site-library/janeaustenr/data/Rdata.rdb")
    for b, lines in enumerate(F.rdb_character_vectors(rdb)):
        for c, chapter in enumerate(F.novel_chapters(lines)):
            for i, part in enumerate(F.split_long(chapter)):
                docs.append(Doc(part, "literature_en", "en", f"r-cran-janeaustenr:book{b}", f"austen:{b}.{c}#{i}"))
    for p in sorted(glob.glob(_pkg(root, "cfi-en", "usr/share/doc/cfi-en/html/*.htm*"))):
        for i, part in enumerate(F.split_long(F.html_text(F.read_text(p)))):
            docs.append(Doc(part, "literature_en", "en", f"cfi-en:{os.path.basename(p)}", f"cfi:{p}#{i}"))
    devil = _pkg(root, "dict-devil", "usr/share/dictd/devil")
    docs += _grouped(F.dictd_entries(devil + ".index", devil + ".dict.dz"), "literature_en", "en", "dict-devil")
    fdir = _pkg(root, "fortunes", "usr/share/games/fortunes")
    for p in sorted(glob.glob(os.path.join(fdir, "*"))):
        if os.path.isfile(p) and not os.path.islink(p) and "." not in os.path.basename(p):
            docs += _grouped(F.fortune_cookies(p), "literature_en", "en", f"fortunes:{os.path.basename(p)}", 3000)
    return docs


def _bible(root, pkg, module, domain, lang):
    moddir = _pkg(root, pkg, "usr/share/sword/modules/texts/ztext", module)
    return [Doc(text, domain, lang, f"{pkg}:{cid}", f"bible:{cid}") for cid, text in F.sword_chapters(moddir)
            if cid != "front"]


def religion_en(root):
    return (_bible(root, "sword-text-web", "engWEB2015eb", "religion_en", "en") +
            _bible(root, "sword-text-kjv", "engKJV2006eb", "religion_en", "en"))


def religion_es(root):
    return _bible(root, "sword-text-sparv", "spaRV1909eb", "religion_es", "es")


def dictionary_en(root):
    base = _pkg(root, "dict-gcide", "usr/share/dictd/gcide")
    return _grouped(F.dictd_entries(base + ".index", base + ".dict.dz"), "dictionary_en", "en", "dict-gcide")


def glossary_computing(root):
    docs = []
    for pkg, name in (("dict-foldoc", "foldoc"), ("dict-jargon", "jargon"), ("dict-vera", "vera")):
        base = _pkg(root, pkg, "usr/share/dictd", name)
        docs += _grouped(F.dictd_entries(base + ".index", base + ".dict.dz"), "glossary_computing", "en", pkg)
    return docs


def legal(root):
    """Licence texts and Debian governance texts, paragraphs deduplicated across the whole bundle."""
    texts = []
    for p in sorted(glob.glob(_pkg(root, "base-files", "usr/share/common-licenses/*"))):
        if not os.path.islink(p):
            texts.append(("base-files:" + os.path.basename(p), F.read_text(p)))
    for p in sorted(glob.glob(_pkg(root, "ruby-licensee", "**/_licenses/*.txt"), recursive=True)):
        texts.append(("ruby-licensee:" + os.path.basename(p), re.sub(r"(?s)^---.*?---\s*", "", F.read_text(p))))
    for name in ("constitution.txt.gz", "social-contract.txt.gz"):
        p = _pkg(root, "doc-debian", "usr/share/doc/debian", name)
        if os.path.exists(p):
            texts.append(("doc-debian:" + name, F.read_text(p)))
    for p in sorted(glob.glob(os.path.join(root, "*", "usr/share/doc/*/copyright"))):
        texts.append((os.path.relpath(p, root).split("/")[0] + ":copyright", F.read_text(p)))
    seen, docs = set(), []
    for source, text in texts:
        kept = []
        for para in re.split(r"\n\s*\n", text):
            key = re.sub(r"\W+", " ", para).strip().lower()
            if key and key not in seen:
                seen.add(key)
                kept.append(para.strip("\n"))
        body = "\n\n".join(kept).strip()
        if len(body) > 200:
            for i, part in enumerate(F.split_long(body)):
                docs.append(Doc(part, "legal", "en", source, f"{source}#{i}"))
    return docs


# ------------------------------------------------------------------------- science, math, music

def math_formal(root):
    p = _pkg(root, "metamath-databases", "usr/share/metamath/databases/set.mm")
    return _grouped(F.metamath_statements(p), "math_formal", "en", "metamath-databases:set.mm")


def _obo(root, name, domain, drop=()):
    p = _pkg(root, "emboss-data", "usr/share/EMBOSS/data/OBO", name)
    by_namespace = {}
    for ns, text in F.obo_terms(p, drop):
        by_namespace.setdefault(ns, []).append(text)
    docs = []
    for ns in sorted(by_namespace):
        docs += _grouped(by_namespace[ns], domain, "en", f"emboss-data:{name}:{ns}")
    return docs


def biology(root):
    return _obo(root, "go.obo", "biology")


def chemistry(root):
    return _obo(root, "chebi.obo", "chemistry", drop=("InChI=", "InChIKey"))


def music(root):
    docs = []
    for p in sorted(glob.glob(_pkg(root, "csoundqt-examples", "**/*.csd"), recursive=True)):
        text = F.read_text(p)
        if "<CsFileB" in text:
            continue
        text = text.split("</CsoundSynthesizer>")[0] + "</CsoundSynthesizer>"
        rel = p.split("/Examples/")[-1]
        for i, part in enumerate(F.split_long(text)):
            docs.append(Doc(part, "music", "en", f"csoundqt-examples:{rel}", f"csound:{rel}#{i}"))
    return docs


# ------------------------------------------------------------------------ manuals, languages

def _man_docs(root, pkg, mandir, domain, lang, workers):
    from concurrent.futures import ThreadPoolExecutor
    paths = [p for p in F.files_under(_pkg(root, pkg, mandir), (".gz",)) if not F.is_man_stub(p)]
    with ThreadPoolExecutor(workers) as pool:
        rendered = list(pool.map(F.render_man, paths))
    docs = []
    for p, text in zip(paths, rendered):
        if len(text) < 200:
            continue
        key = F.man_key(p)
        for i, part in enumerate(F.split_long(text)):
            docs.append(Doc(part, domain, lang, f"{pkg}:{key}", f"man:{key}#{i}"))
    return docs


def techdoc_en(root, workers=2):
    docs = _man_docs(root, "manpages", "usr/share/man", "techdoc_en", "en", workers)
    docs += _man_docs(root, "manpages-dev", "usr/share/man", "techdoc_en", "en", workers)
    base = _pkg(root, "python3.11-doc", "usr/share/doc/python3.11/html/_sources")
    docs += _file_docs(root, "techdoc_en", "en", "python3.11-doc", F.files_under(base, (".rst.txt",)), len(base))
    return docs


def _fortunes_lang(root, pkg, lang, domain):
    docs = []
    fdir = _pkg(root, pkg, "usr/share/games/fortunes", lang)
    for p in sorted(glob.glob(os.path.join(fdir, "*"))):
        if os.path.isfile(p) and not os.path.islink(p) and not p.endswith((".dat", ".u8")):
            docs += _grouped(F.fortune_cookies(p), domain, lang, f"{pkg}:{os.path.basename(p)}", 3000)
    return docs


def _language(lang, fortunes=True):
    def read(root, workers=2):
        domain = f"lang_{lang}"
        docs = _man_docs(root, f"manpages-{lang}", f"usr/share/man/{lang}", domain, lang, workers)
        if fortunes:
            docs += _fortunes_lang(root, f"fortunes-{lang}", lang, domain)
        return docs
    read.__name__ = f"lang_{lang}"
    return read


DOMAINS = {
    "code_c": (code_c, ["newlib-source"]),
    "code_python": (code_python, ["libpython3.11-minimal", "libpython3.11-stdlib"]),
    "code_shell": (code_shell, ["zsh-common"]),
    "code_lisp": (code_lisp, ["emacs-el"]),
    "code_go": (code_go, ["golang-1.19-src"]),
    "literature_en": (literature_en, ["r-cran-janeaustenr", "cfi-en", "dict-devil", "fortunes"]),
    "religion_en": (religion_en, ["sword-text-web", "sword-text-kjv"]),
    "religion_es": (religion_es, ["sword-text-sparv"]),
    "dictionary_en": (dictionary_en, ["dict-gcide"]),
    "glossary_computing": (glossary_computing, ["dict-foldoc", "dict-jargon", "dict-vera"]),
    "legal": (legal, ["base-files", "ruby-licensee", "doc-debian"]),
    "math_formal": (math_formal, ["metamath-databases"]),
    "biology": (biology, ["emboss-data"]),
    "chemistry": (chemistry, ["emboss-data"]),
    "music": (music, ["csoundqt-examples"]),
    "techdoc_en": (techdoc_en, ["manpages", "manpages-dev", "python3.11-doc"]),
    "lang_de": (_language("de"), ["manpages-de", "fortunes-de"]),
    "lang_fr": (_language("fr", fortunes=False), ["manpages-fr"]),
    "lang_es": (_language("es"), ["manpages-es", "fortunes-es"]),
    "lang_ru": (_language("ru"), ["manpages-ru", "fortunes-ru"]),
    "lang_pl": (_language("pl"), ["manpages-pl", "fortunes-pl"]),
    "lang_ja": (_language("ja", fortunes=False), ["manpages-ja"]),
}

# Packages unpacked only in part (the rest of the .deb is samples or data we do not use).
PARTIAL_EXTRACT = {
    "emboss-data": ["./usr/share/EMBOSS/data/OBO/go.obo", "./usr/share/EMBOSS/data/OBO/chebi.obo",
                    "./usr/share/doc/emboss-data/copyright"],
    "csoundqt-examples": ["--wildcards", "*.csd", "./usr/share/doc/*/copyright"],
}

# Where each package's licence is stated (recorded per source in LICENSES).
LICENSES = {
    "newlib-source": "BSD-like mix (per-file notices)", "libpython3.11-minimal": "PSF-2",
    "libpython3.11-stdlib": "PSF-2", "zsh-common": "Zsh licence (MIT-like)", "emacs-el": "GPL-3+",
    "golang-1.19-src": "BSD-3-Clause (Go)", "r-cran-janeaustenr": "texts public domain, package MIT",
    "cfi-en": "public domain", "dict-devil": "public domain", "fortunes": "BSD and various",
    "sword-text-web": "public domain", "sword-text-kjv": "public domain", "sword-text-sparv": "public domain",
    "dict-gcide": "GPL-2+", "dict-foldoc": "GFDL-1.1+ (no invariant sections)", "dict-jargon": "public domain",
    "dict-vera": "GFDL (no invariant sections)", "base-files": "licence texts, verbatim copying",
    "ruby-licensee": "MIT (choosealicense.com texts verbatim)", "doc-debian": "Debian: GPL-2+/OPL",
    "metamath-databases": "CC0-1.0", "emboss-data": "GO and ChEBI: CC-BY-3.0 (Debian packaging GPL)",
    "csoundqt-examples": "LGPL-2.1+ (a few LGPL-3/GPL-3)", "manpages": "Linux man-pages copyleft, GPL, BSD mix",
    "manpages-dev": "Linux man-pages copyleft, GPL, BSD mix", "python3.11-doc": "PSF-2",
    "manpages-de": "GPL-3+ (manpages-l10n)", "manpages-fr": "GPL-3+ (manpages-l10n)",
    "manpages-es": "GPL-3+ (manpages-l10n)", "manpages-ru": "GPL-3+ (manpages-l10n)",
    "manpages-pl": "GPL-3+ (manpages-l10n)", "manpages-ja": "original man-page licences (DFSG)",
    "fortunes-de": "GPL-2+", "fortunes-es": "GPL-2+", "fortunes-ru": "GPL-2+", "fortunes-pl": "GPL-2+",
}
