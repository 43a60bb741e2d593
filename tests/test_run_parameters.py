"End-to-end: a run notebook refuses a parameter it does not know, a wrong value, or a model it would overwrite, before anything heavy runs and without touching the model."
import subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent

def refused(cmd:list, tmp_path:Path) -> str:
    "Run `cmd` from the project folder; it must fail; what it printed"
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode != 0, r.stdout[-2000:]
    return r.stdout + r.stderr

@pytest.fixture
def existing(tmp_path):
    "A model file that a run of the same name would replace"
    model = tmp_path/'demo.json'
    model.write_text('{"earlier": "model"}')
    return tmp_path/'demo'

@pytest.mark.parametrize('notebook, params, says', [
    ('03_train', ['-p', 'epoch', '1'], '03_train: unknown parameter epoch; known: data'),
    ('03_train', ['-p', 'seed', 'abc'], "seed='abc': must be a whole number of at least 0"),
    ('03_train', [], 'demo.json exists: give another name, or overwrite=True to replace it'),
    ('03a_train_baseline', ['-p', 'valid_pct', '2'], 'valid_pct=2: must be a number in (0, 1]')])
def test_run_notebook_refuses_before_it_runs(notebook, params, says, existing, tmp_path):
    cmd = [str(BIN/'papermill'), str(ROOT/'nbs'/f'{notebook}.ipynb'), str(tmp_path/'out.ipynb'), '-k', 'python3',
           '-p', 'name', str(existing), '-p', 'data', str(tmp_path/'absent'), *params]
    assert says in refused(cmd, tmp_path)
    assert (tmp_path/'demo.json').read_text() == '{"earlier": "model"}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['demo.json', 'out.ipynb']     # nothing else written

def test_irmas_train_refuses_before_a_kernel_starts(existing, tmp_path):
    runs = tmp_path/'runs'
    for params, says in ((['epochs=abc'], "irmas_train: epochs='abc': must be a whole number of at least 1"),
                         ([f'name={existing}'], 'demo.json exists: give another name, or overwrite=True'),
                         (['epoch=1'], 'irmas_train: unknown parameter epoch')):
        assert says in refused([str(BIN/'irmas_train'), *params, '--runs', str(runs)], tmp_path)
    assert not runs.exists()                                    # no notebook was started
