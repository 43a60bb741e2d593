"End-to-end: `irmas_export --format onnx` as users run it, and `irmas_predict` with the exported graph against the model it came from."
import json, subprocess, sys
from pathlib import Path

import numpy as np, pandas as pd, pytest
from conftest import warnings_in
from irmas.data import INSTRUMENTS
from irmas.model_file import write_ensemble

def command(name:str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent/name), *map(str, args)], capture_output=True, text=True, timeout=600)

@pytest.fixture(scope='module')
def exported(untrained):
    "The untrained model of conftest.py (its thresholds name the cello always, the clarinet never) exported to ONNX"
    out, model = untrained
    r = command('irmas_export', '--model', model, '--format', 'onnx', '--out', out/'onnx'/'model')
    assert r.returncode == 0 and warnings_in(r.stderr) == [], r.stderr[-2000:]
    return out, model, r

def test_export_writes_the_graph_and_its_settings(exported):
    out, model, r = exported
    assert sorted(p.name for p in (out/'onnx').iterdir()) == ['model.json', 'model.onnx']
    assert r.stdout.startswith(f"{out/'onnx'/'model.onnx'}: mel bands' power to logits and probabilities")
    card, source = json.loads((out/'onnx'/'model.json').read_text()), json.loads(model.read_text())
    assert card['model'] == 'OnnxClassifier' and card['onnx']['source'] == '../model.json'
    assert card['onnx']['takes'] == 'mel'
    assert card['onnx']['input'].startswith('mel: float32 (batch, ')
    assert {k: card[k] for k in ('sr', 'seconds', 'thresholds')} == {k: source[k] for k in ('sr', 'seconds', 'thresholds')}

@pytest.mark.parametrize('given', ['model.onnx', 'model.json'])
def test_predict_with_the_graph_as_with_the_model(exported, given):
    "irmas_predict writes the same labels with the exported graph, named by either file, as with the PyTorch model file, on rendered music"
    out, model, _ = exported
    runs = {}
    for name, m in (('torch', model), ('onnx', out/'onnx'/given)):
        r = command('irmas_predict', '--model', m, '--audio', out/'data'/'IRMAS-TestingData', '--out', out/f'{name}.csv', '--probs', '--device', 'cpu')
        assert r.returncode == 0 and warnings_in(r.stderr) == [], r.stderr[-2000:]
        runs[name] = pd.read_csv(out/f'{name}.csv', index_col='file'), pd.read_csv(out/f'{name}.csv.probs.csv', index_col='file')
    (labels, probs), (onnx_labels, onnx_probs) = runs['torch'], runs['onnx']
    assert len(labels) == 2 and onnx_labels.index.tolist() == labels.index.tolist()
    assert (onnx_labels[INSTRUMENTS].values == labels[INSTRUMENTS].values).all()
    assert (onnx_labels.cel == 1).all() and (onnx_labels.cla == 0).all()          # the source's thresholds
    assert np.abs(onnx_probs.values - probs.values).max() < 1e-4

def test_what_does_not_export_is_refused(exported):
    out, model, _ = exported
    ensemble = write_ensemble(out/'pair', [model, out/'onnx'/'model.json'])
    r = command('irmas_export', '--model', ensemble)
    assert r.returncode != 0 and f"irmas_export: {ensemble}: an ensemble, not one network: export each" in r.stderr
    r = command('irmas_export', '--model', out/'absent.json')
    assert r.returncode != 0 and 'absent.json: no such model file' in r.stderr
    r = command('irmas_export')
    assert r.returncode != 0 and 'give --model' in r.stderr
