"Fixtures shared by the end-to-end tests."
import json, warnings

import pytest
from irmas.data import read_irmas_train
from irmas.synth import render_dataset
from irmas.learner import cnn_learner, export_model

@pytest.fixture(scope='session')
def untrained(tmp_path_factory):
    "A tiny rendered dataset and an untrained CNN exported from it, with thresholds that name the cello always and the clarinet never"
    out = tmp_path_factory.mktemp('untrained')
    render_dataset(out/'data', n_train=22, n_test=2, seed=3, n_workers=0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        learn = cnn_learner(read_irmas_train(out/'data'), read_irmas_train(out/'data'), arch='resnet18', n_mels=32, bs=8, device='cpu')
    model = export_model(learn, out/'model')
    settings = json.loads(model.with_suffix('.json').read_text())
    model.with_suffix('.json').write_text(json.dumps(dict(settings, thresholds=dict(cel=0., cla=1.01))))
    return out, model
