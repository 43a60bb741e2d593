"End-to-end: the training notebook run headlessly with papermill, as users run it, on a tiny rendered dataset."
import json, subprocess, sys
from pathlib import Path

import pytest, torch
from irmas.data import render_dataset, read_irmas_test, load_audio
from irmas.learner import load_model, predict_clip

ROOT = Path(__file__).parents[1]

@pytest.fixture(scope='module')
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('train')
    render_dataset(tmp/'data', n_train=66, n_test=6, seed=2, n_workers=2)
    params = dict(data=str(tmp/'data'), arch='resnet18', n_mels=32, bs=16, epochs=1, n_train=40, name=str(tmp/'model'))
    cmd = [str(Path(sys.executable).parent/'papermill'), str(ROOT/'nbs'/'03_train.ipynb'), str(tmp/'out.ipynb'), '-k', 'python3']
    for k, v in params.items(): cmd += ['-p', k, str(v)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=ROOT)  # as users run it, from the project
    assert r.returncode == 0, r.stderr[-3000:]
    return tmp

def test_run_exports_a_model_with_its_scores(run):
    config = json.loads((run/'model.json').read_text())
    assert config['arch'] == 'resnet18' and config['n_mels'] == 32
    assert 0 <= config['scores']['valid_macro_f1'] <= 1 and 0 <= config['scores']['test_macro_f1'] <= 1

def test_exported_model_predicts_any_length(run):
    model, config = load_model(run/'model.pkl')
    wav = load_audio(read_irmas_test(run/'data').path[0], sr=config['sr'])[0]
    for n in (config['sr'] // 2, len(wav)):
        p = predict_clip(model, wav[:n], config['sr'])
        assert p.shape == (11,) and ((p >= 0) & (p <= 1)).all()

def test_printed_summary(run):
    out = json.loads((run/'out.ipynb').read_text())
    text = ''.join(''.join(o.get('text', '')) for c in out['cells'] for o in c.get('outputs', []))
    assert 'validation macro-F1' in text and 'rendered test macro-F1' in text
