"""vbench's own GRiT pieces that need no detectron2, imported from the installed vbench.

`vbench.third_party.grit_src.grit` imports detectron2 in its `__init__`, so its pure-torch files
(the text decoder with its BERT layers and greedy search, the backbone's window and
relative-position helpers) are loaded here by path, under stand-in parent packages; boto3 (which
vbench's copy of BERT's file_utils imports for downloads it never does at inference) is stubbed
when absent. The modules run unchanged.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import types
from pathlib import Path

import vbench

GRIT = Path(vbench.__file__).parent / "third_party" / "grit_src" / "grit" / "modeling"
_PREFIX = "_vbench_grit_pieces"


def _package(name: str, path: Path) -> None:
    if name not in sys.modules:
        module = types.ModuleType(name)
        module.__path__ = [str(path)]
        sys.modules[name] = module


def _stub_boto3() -> None:
    if "boto3" not in sys.modules and importlib.util.find_spec("boto3") is None:
        boto3 = types.ModuleType("boto3")
        botocore = types.ModuleType("botocore")
        exceptions = types.ModuleType("botocore.exceptions")
        exceptions.ClientError = type("ClientError", (Exception,), {})
        botocore.exceptions = exceptions
        # A spec on each stand-in: other code's importlib.util.find_spec("boto3") (transformers
        # makes such calls) raises ValueError on a module whose __spec__ is None.
        for stub in (boto3, botocore, exceptions):
            stub.__spec__ = importlib.machinery.ModuleSpec(stub.__name__, None)
        sys.modules.update(
            {"boto3": boto3, "botocore": botocore, "botocore.exceptions": exceptions}
        )


def load(subpackage: str, module: str) -> types.ModuleType:
    """`grit/modeling/<subpackage>/<module>.py` as a module of a stand-in package."""
    _stub_boto3()
    _package(_PREFIX, GRIT)
    package = f"{_PREFIX}.{subpackage}"
    _package(package, GRIT / subpackage)
    name = f"{package}.{module}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, GRIT / subpackage / f"{module}.py")
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded
        spec.loader.exec_module(loaded)
    return sys.modules[name]
