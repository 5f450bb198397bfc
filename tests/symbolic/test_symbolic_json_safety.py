"""Loading JSON never imports, unpickles, unmarshals or evaluates anything."""
import json
import os
import sys

import pytest

import symbolic_helpers  # noqa: F401  (registers symt.* types)

from mldsl import symbolic as sym
from mldsl.errors import UnknownTypeError

EVIL_MODULE = "mldsl_symt_evil_payload"


@pytest.fixture
def evil_module(tmp_path, monkeypatch):
    """A module on sys.path whose import writes a marker file."""
    marker = tmp_path / "PWNED"
    (tmp_path / f"{EVIL_MODULE}.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\n"
        "class Evil:\n"
        "    def __init__(self, **kw):\n"
        f"        open({str(marker)!r}, 'w').write('constructed')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop(EVIL_MODULE, None)
    return marker


def crafted_documents(marker):
    cmd = f"touch {marker}"
    return [
        {"_type": "os.system", "command": cmd},
        {"_type": "posix.system", "command": cmd},
        {"_type": "subprocess.Popen", "args": ["touch", str(marker)]},
        {"_type": "builtins.eval", "source": f"open({str(marker)!r}, 'w')"},
        {"_type": "builtins.exec", "source": "import os"},
        {"_type": f"{EVIL_MODULE}.Evil"},
        {"_type": EVIL_MODULE},
        {"_type": "pickle.loads", "data": "gASVAAAAAAAAAAA="},
        {"_type": "marshal.loads", "data": "AAAA"},
        {"_type": "copyreg._reconstructor", "args": ["os.system", cmd]},
        {"_type": "object", "__reduce__": ["os.system", [cmd]]},
        {"py/reduce": [{"py/function": "os.system"}, {"py/tuple": [cmd]}]},
        {"__reduce__": {"_type": "os.system"}, "args": [cmd]},
        {"a": [{"b": {"_type": "os.system", "command": cmd}}]},
        {"_type": "mldsl.symbolic.object.Object.__subclasses__"},
        {"_type": "__import__", "name": "os"},
    ]


def test_crafted_json_runs_nothing(evil_module, tmp_path):
    marker = evil_module
    modules_before = set(sys.modules)
    for doc in crafted_documents(marker):
        for load in (lambda d: sym.from_json(d), lambda d: sym.from_json_str(json.dumps(d))):
            try:
                load(doc)
            except UnknownTypeError as e:
                assert repr(doc["_type"] if "_type" in doc else "os.system") in str(e) or "os.system" in str(e)
            # documents without a "_type" anywhere load as plain data
        f = tmp_path / "doc.json"
        f.write_text(json.dumps(doc))
        try:
            sym.load(f)
        except UnknownTypeError:
            pass
    assert not marker.exists()
    assert set(sys.modules) - modules_before == set()
    assert EVIL_MODULE not in sys.modules


def test_unknown_type_error_names_it(evil_module):
    with pytest.raises(UnknownTypeError) as e:
        sym.from_json({"_type": "os.system", "command": "true"})
    assert "'os.system'" in str(e.value) and "never imports" in str(e.value)
    with pytest.raises(UnknownTypeError, match=EVIL_MODULE):
        sym.from_json({"_type": f"{EVIL_MODULE}.Evil"})
    assert not evil_module.exists() and EVIL_MODULE not in sys.modules


def test_plain_reduce_keys_are_just_data():
    d = sym.from_json({"__reduce__": ["os.system", ["true"]]})
    assert isinstance(d, sym.Dict) and d["__reduce__"] == ["os.system", ["true"]]


def test_lookup_type_never_imports(evil_module):
    before = set(sys.modules)
    for name in ["os.path.join", f"{EVIL_MODULE}.Evil", "json.loads", "importlib.import_module"]:
        with pytest.raises(UnknownTypeError):
            sym.lookup_type(name)
    assert set(sys.modules) == before and not evil_module.exists()


def test_resolver_returning_non_symbolic_is_rejected():
    for bad in (os.system, dict, "os.system", 3):
        with pytest.raises(UnknownTypeError, match="not a sym.Object class"):
            sym.from_json({"_type": "x", "command": "true"}, resolver=lambda n, b=bad: b)


def test_reserved_constructor_kwargs_cannot_be_injected():
    with pytest.raises(Exception, match="allow_partial|root_path"):
        sym.from_json({"_type": "symt.Dense", "allow_partial": True})
    with pytest.raises(Exception, match="root_path"):
        sym.from_json({"_type": "symt.Dense", "units": 1, "root_path": "x"})


def test_json_module_has_no_dangerous_imports():
    import mldsl.symbolic.json_io as jio

    src = open(jio.__file__).read()
    for word in ("import pickle", "import marshal", "importlib", "__import__", "eval(", "exec(", "yaml"):
        assert word not in src
