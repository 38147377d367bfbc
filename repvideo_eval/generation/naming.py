"""File names for generated videos: VBench's `{prompt}-{i}.mp4` whenever that is a safe name.

VBench's standard mode finds videos by exactly that name, so we keep it whenever we can. A prompt
that cannot be a file name as it is (a `/`, a leading `.`, control or non-ASCII characters, or more
than 200 bytes) gets a sanitised, shortened name with a hash of the exact prompt, which keeps names
unique; the sidecar always holds the exact prompt.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_PROMPT_BYTES = 200
_SAFE_CHARS = re.compile(r"[^A-Za-z0-9 ,.;:'!()&+=@#%_-]")


def prompt_is_safe_file_stem(prompt: str) -> bool:
    return (
        bool(prompt.strip())
        and prompt.isascii()
        and prompt.isprintable()
        and "/" not in prompt
        and "\\" not in prompt
        and not prompt.startswith(".")
        and len(prompt.encode("utf-8")) <= MAX_PROMPT_BYTES
        and prompt == prompt.strip()
    )


def safe_prompt_stem(prompt: str) -> str:
    """A file-name-safe stem for `prompt`, unique per exact prompt text."""
    if prompt_is_safe_file_stem(prompt):
        return prompt
    folded = unicodedata.normalize("NFKD", prompt).encode("ascii", "ignore").decode("ascii")
    cleaned = _SAFE_CHARS.sub("_", folded).strip().lstrip(".") or "prompt"
    digest = hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:10]
    return f"{cleaned[:120].rstrip()}~{digest}"


def video_file_stem(prompt: str, sample_index: int) -> str:
    return f"{safe_prompt_stem(prompt)}-{sample_index}"
