"""Who runs small-batch products, chosen by a measurement cached per CPU model in a per-user JSON file
that is trusted only when it is ours (issue 19, item 2). The timer is a stand-in: no timings are tested."""
import json
import os
import stat
import subprocess
import sys

import pytest

from mldsl.kernels import sgemm_select as S

KEY = "Some CPU | x86_64_v3 | openblas 1"


def timer(own, blas, calls=None):
    def t():
        if calls is not None:
            calls.append(1)
        return {"own_s": own, "blas_s": blas}
    return t


def test_auto_measures_once_then_reads_the_cache(tmp_path):
    d = str(tmp_path / "cache" / "mldsl")
    calls = []
    first = S.choose("auto", True, KEY, timer(2.0, 1.0, calls), d)
    assert first["sgemm"] == "blas" and first["by"] == "measurement" and calls == [1]
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700                      # a private directory
    data = json.loads((tmp_path / "cache" / "mldsl" / "sgemm.json").read_text())   # plain JSON
    assert data["version"] == 1 and data["entries"][KEY]["sgemm"] == "blas"
    again = S.choose("auto", True, KEY, timer(1.0, 2.0, calls), d)
    assert again["sgemm"] == "blas" and again["by"] == "cached measurement" and calls == [1]
    other = S.choose("auto", True, KEY + " other", timer(1.0, 2.0, calls), d)   # another CPU: measured
    assert other["sgemm"] == "own" and calls == [1, 1]
    assert set(json.loads((tmp_path / "cache" / "mldsl" / "sgemm.json").read_text())["entries"]) == {KEY, KEY + " other"}


def test_the_environment_forces_either_without_measuring(tmp_path):
    calls = []
    assert S.choose("own", True, KEY, timer(2.0, 1.0, calls), str(tmp_path))["sgemm"] == "own"
    assert S.choose("blas", True, KEY, timer(1.0, 2.0, calls), str(tmp_path))["sgemm"] == "blas"
    assert S.choose("own", False, KEY, timer(1.0, 2.0, calls), str(tmp_path))["sgemm"] == "blas"   # no AVX-512
    assert calls == [] and not (tmp_path / "sgemm.json").exists()


def _write_cache(d, choice="own"):
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    (d / "sgemm.json").write_text(json.dumps({"version": 1, "entries": {
        KEY: {"sgemm": choice, "own_s": 1.0, "blas_s": 2.0}}}))
    os.chmod(d / "sgemm.json", 0o600)


@pytest.mark.parametrize("spoil", ["group-writable dir", "world-writable file", "symlink", "malformed",
                                   "wrong version", "bad entry", "not json text", "too large"])
def test_a_cache_that_is_not_ours_or_malformed_is_ignored(tmp_path, spoil):
    d = tmp_path / "mldsl"
    _write_cache(d)
    f = d / "sgemm.json"
    if spoil == "group-writable dir":
        os.chmod(d, 0o770)
    elif spoil == "world-writable file":
        os.chmod(f, 0o666)
    elif spoil == "symlink":
        real = tmp_path / "elsewhere.json"
        f.rename(real)
        f.symlink_to(real)
    elif spoil == "malformed":
        f.write_text('{"version": 1, "entries": {')
    elif spoil == "wrong version":
        f.write_text(json.dumps({"version": 99, "entries": {KEY: {"sgemm": "own", "own_s": 1, "blas_s": 2}}}))
    elif spoil == "bad entry":
        f.write_text(json.dumps({"version": 1, "entries": {KEY: {"sgemm": "__import__('os')", "own_s": 1, "blas_s": 2}}}))
    elif spoil == "not json text":
        f.write_bytes(b"\x80\x04\x95pickle")
    elif spoil == "too large":
        f.write_text(" " * (S.MAX_CACHE_BYTES + 10) + "{}")
    assert S.load_cache(str(d)) == {}
    calls = []
    decision = S.choose("auto", True, KEY, timer(2.0, 1.0, calls), str(d))
    assert calls == [1] and decision["sgemm"] == "blas"                   # measured, not taken from it
    if spoil != "group-writable dir":
        assert S.load_cache(str(d))[KEY]["sgemm"] == "blas"                 # replaced: the directory is ours
    else:
        assert decision["cache"] is None                                    # not ours: nothing written


def test_a_cache_owned_by_someone_else_is_ignored(tmp_path, monkeypatch):
    d = tmp_path / "mldsl"
    _write_cache(d)
    assert S.load_cache(str(d))[KEY]["sgemm"] == "own"
    monkeypatch.setattr(os, "getuid", lambda: os.stat(d).st_uid + 1)       # as another user sees it
    assert S.load_cache(str(d)) == {}
    assert S.save_cache(str(d), {}) is False


def test_the_kernels_apply_the_cached_choice_and_build_info_reports_it(tmp_path):
    import mldsl.kernels as K
    if not K.own_sgemm_available():
        pytest.skip("the own sgemm needs AVX-512")
    info = K.build_info()
    d = tmp_path / "mldsl"
    key = S.cache_key(info["isa"], f"{info['blas']['name']} {info['blas']['version']}")
    d.mkdir(mode=0o700)
    (d / "sgemm.json").write_text(json.dumps({"version": 1, "entries": {key: {"sgemm": "blas", "own_s": 2, "blas_s": 1}}}))
    code = "import json, mldsl.kernels as K; i = K.build_info(); print(json.dumps([i['sgemm'], i['sgemm_choice']]))"
    env = {**os.environ, "MLDSL_SGEMM": "auto", "XDG_CACHE_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    sgemm, choice = json.loads(out)
    assert sgemm == "blas" and choice["by"] == "cached measurement" and choice["sgemm"] == "blas"


def test_processes_starting_together_measure_once(tmp_path):
    """A search's workers start at once with no cache: one measures, under the lock, the others wait and
    read its result instead of timing beside it (which would also skew every measurement)."""
    d = tmp_path / "cache" / "mldsl"
    log = tmp_path / "measured.log"
    code = (
        "import json, sys, time\n"
        "from mldsl.kernels import sgemm_select as S\n"
        "def timer():\n"
        f"    open({str(log)!r}, 'a').write('x')\n"
        "    time.sleep(0.5)\n"
        "    return {'own_s': 1.0, 'blas_s': 2.0}\n"
        f"print(json.dumps(S.choose('auto', True, {KEY!r}, timer, {str(d)!r})))\n")
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(4)]
    decisions = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert log.read_text() == "x"                                        # one measurement in all
    assert sorted(x["by"] for x in decisions) == ["cached measurement"] * 3 + ["measurement"]
    assert {x["sgemm"] for x in decisions} == {"own"}
    assert stat.S_IMODE(os.lstat(d / "sgemm.lock").st_mode) == 0o600



def test_a_directory_another_process_creates_meanwhile_is_used(tmp_path, monkeypatch):
    """Processes starting together all find the cache directory missing; the ones whose mkdir then fails
    because another made it must still lock and read it, not measure beside it."""
    d = tmp_path / "cache" / "mldsl"
    d.mkdir(parents=True, mode=0o700)
    monkeypatch.setattr(S.os.path, "lexists", lambda p: False)     # it was missing when this one looked
    assert S._private_dir(str(d), create=True)
    with S.measuring_lock(str(d)) as held:
        assert held
