"End-to-end: a run notebook refuses a parameter it does not know, a wrong value, or a model it would overwrite, before anything heavy runs and without touching the model; the baseline's run fits and labels its scores."
import json, subprocess, sys
from pathlib import Path

import pytest
from conftest import ROOT, run_notebook, warnings_in
from irmas.model_file import UNTUNED
from irmas.scratch import scratch_dataset

@pytest.fixture
def existing(tmp_path):
    "A model file that a run of the same name would replace"
    model = tmp_path/'demo.json'
    model.write_text('{"earlier": "model"}')
    return tmp_path/'demo'

@pytest.mark.parametrize('notebook, params, says', [
    ('03_train', dict(epoch=1), '03_train: unknown parameter epoch; known: data'),
    ('03_train', dict(seed='abc'), "seed='abc': must be a whole number of at least 0"),
    ('03_train', {}, 'demo.json exists: give another name, or overwrite=True to replace it'),
    ('03a_train_baseline', dict(valid_pct=2), 'valid_pct=2: must be a number in (0, 1]')])
def test_run_notebook_refuses_before_it_runs(notebook, params, says, existing, tmp_path):
    r = run_notebook(notebook, tmp_path/'out.ipynb', dict(name=existing, data=tmp_path/'absent', **params))
    assert r.returncode != 0 and says in r.stdout + r.stderr
    assert (tmp_path/'demo.json').read_text() == '{"earlier": "model"}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['demo.json', 'out.ipynb', 'out.log']   # nothing else written

def test_irmas_train_refuses_before_a_kernel_starts(existing, tmp_path):
    runs = tmp_path/'runs'
    for params, says in ((['epochs=abc'], "irmas_train: epochs='abc': must be a whole number of at least 1"),
                         ([f'name={existing}'], 'demo.json exists: give another name, or overwrite=True'),
                         (['epoch=1'], 'irmas_train: unknown parameter epoch')):
        r = subprocess.run([str(Path(sys.executable).parent/'irmas_train'), *params, '--runs', str(runs)],
                           capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert r.returncode != 0 and says in r.stderr
    assert not runs.exists()                                    # no notebook was started

def test_baseline_run_fits_and_labels_its_scores(tmp_path):
    "The classical baseline's run, as `make demo` runs it: a model file whose scores say they are at 0.5, a quiet log"
    data = scratch_dataset(tmp_path/'data')
    r = run_notebook('03a_train_baseline', tmp_path/'run.ipynb', dict(data=data, name=tmp_path/'baseline', valid_pct=0.25))
    assert r.returncode == 0, r.stderr[-3000:]
    scores = json.loads((tmp_path/'baseline.json').read_text())['scores']
    assert scores['thresholds'] == UNTUNED and 0 <= scores['test_macro_f1'] <= 1 and 'valid_macro_f1' in scores
    assert warnings_in(r.stdout + r.stderr) == []
    cells = json.loads((tmp_path/'run.ipynb').read_text())['cells']
    assert not [c for c in cells if 'def ' in ''.join(c['source']) or 'test_eq' in ''.join(c['source'])]
