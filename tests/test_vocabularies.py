"End-to-end: training in OpenMIC's twenty labels and on IRMAS and OpenMIC together, with papermill as users run it, and MIREX's output from the model it writes."
import json, subprocess, sys, warnings
from pathlib import Path

import numpy as np, pandas as pd, pytest, torch
from conftest import run_notebook
from irmas.datasets import OPENMIC, read_datasets, read_openmic
from irmas.inference import labels_of, predict_frame
from irmas.scores import labels_from_probs, multilabel_scores
from irmas.learner import cnn_learner, masked_bce
from irmas.data import INSTRUMENTS
from irmas.scratch import openmic_tree, scratch_dataset

PREDICT = Path(sys.executable).parent/'irmas_predict'

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp('vocabularies')
    openmic_tree(out/'openmic', n=8)
    scratch_dataset(out/'synth', n_train=22, n_test=2)
    return out

def train(out, run:str, yaml:str='', **params) -> str:
    "Train a tiny CNN with 03_train (`params` and `yaml` given to papermill); what the run printed"
    params = dict(unseen='', arch='resnet18', n_mels=32, bs=4, epochs=1, name=str(out/run), **params)
    r = run_notebook('03_train', out/f'{run}.ipynb', params, yaml)
    assert r.returncode == 0, r.stderr[-3000:]
    return (out/f'{run}.log').read_text()

def predict(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(PREDICT), *map(str, args)], capture_output=True, text=True, timeout=300)

@pytest.fixture(scope='module')
def openmic_model(data):
    log = train(data, 'openmic', data=str(data/'openmic'))
    return data/'openmic.json', log

def test_a_model_trained_on_openmic_names_its_twenty_labels(openmic_model):
    model, log = openmic_model
    settings = json.loads(model.read_text())
    assert settings['instruments'] == OPENMIC
    assert '20 labels (openmic); unknown, and left out of the loss:' in log
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')                         # the fixture's missing clip
        clips = read_openmic(model.parent/'openmic', 'test')
    probs = predict_frame(model, clips, device='cpu')
    y = labels_of(clips, probs).values
    assert np.isnan(y).any() and not np.isnan(y).all()          # OpenMIC's partial judgements
    assert settings['scores']['test_macro_f1'] == pytest.approx(   # scored on the test partition, unknowns aside
        multilabel_scores(y, labels_from_probs(probs.values))['macro_f1'])
    assert 'mean (macro-F1, mAP)' in (model.parent/'openmic.ipynb').read_text()

def test_mirex_output_holds_the_twenty_confidences_of_each_clip(data, openmic_model, tmp_path):
    clips = sorted((data/'openmic'/'audio').rglob('*.ogg'))
    r = predict('--model', openmic_model[0], '--audio', data/'openmic'/'audio', '--format', 'mirex',
                '--out', tmp_path/'mirex.csv', '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(tmp_path/'mirex.csv')
    assert list(table.columns) == ['file', *OPENMIC]
    assert len(table) == len(clips) == 15                       # 16 clips, one missing from the fixture
    values = table[OPENMIC].values
    assert ((values > 0) & (values < 1)).all() and values.std() > 0

def test_mirex_output_of_an_irmas_model_is_refused(untrained, tmp_path):
    out, model = untrained
    r = predict('--model', model, '--audio', out/'data'/'IRMAS-TestingData', '--format', 'mirex',
                '--out', tmp_path/'mirex.csv')
    assert r.returncode != 0
    assert "irmas_predict: --format mirex writes OpenMIC's twenty labels, and this model names 11 others" in r.stderr
    assert not (tmp_path/'mirex.csv').exists()

def test_an_ensemble_of_models_naming_other_labels_is_refused_before_predicting(untrained, openmic_model, tmp_path):
    out, model = untrained
    r = predict('--model', model, '--model', openmic_model[0], '--audio', out/'data'/'IRMAS-TestingData',
                '--out', tmp_path/'both.csv')
    assert r.returncode != 0 and 'files predicted' not in r.stderr
    assert 'models naming different labels cannot be averaged: one names 11 (cel cla flu ...), another 20' in r.stderr

def test_evaluation_scores_a_model_in_openmics_labels_on_the_known_targets(data, openmic_model):
    model, _ = openmic_model
    trained = json.loads(model.read_text())['scores']['test_macro_f1']      # before evaluation replaces it
    r = run_notebook('04_evaluate', data/'openmic-report.ipynb',
                     dict(name=str(data/'openmic'), n_tune=0, unseen=''), yaml='compare: []')
    assert r.returncode == 0, r.stderr[-3000:]
    report = data/'openmic'/'report'
    table = pd.read_csv(report/'instruments.csv', index_col='instrument')
    assert table.index.tolist() == OPENMIC
    judged = table.loc[['piano', 'trumpet']]                    # the fixture's instruments: scored
    assert judged.average_precision.between(0, 1).all() and (judged.support > 0).all()
    headline = json.loads((report/'headline.json').read_text())
    assert headline['test_macro_f1'] == pytest.approx(trained)     # the same clips at the same 0.5
    assert (report/'report.html').stat().st_size > 10_000

def test_thresholds_are_not_tuned_on_a_vocabulary_without_irmas_mixtures(data, openmic_model):
    r = run_notebook('04_evaluate', data/'openmic-tuned.ipynb', dict(name=str(data/'openmic'), n_tune=20))
    assert r.returncode != 0
    assert "thresholds are tuned on mixtures of the held-out songs of one dataset in IRMAS's labels; this model names others" in r.stderr

def test_irmas_and_openmic_train_together_in_irmas_labels(data):
    log = train(data, 'both', yaml=f"data: [{data/'synth'}, {data/'openmic'}]", vocabulary='irmas', mix=0.5)
    settings = json.loads((data/'both.json').read_text())
    assert settings['instruments'] == INSTRUMENTS and settings['data'] == [str(data/'synth'), str(data/'openmic')]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')                         # the fixture's missing clip
        unknown = read_datasets([data/'synth', data/'openmic'], labels='irmas')[INSTRUMENTS].isna().values.mean()
    assert 0.1 < unknown < 0.5                                  # OpenMIC's clips: unknown but for the few judged
    assert f'11 labels (irmas); unknown, and left out of the loss: {unknown:.1%} of the targets' in log
    assert np.isfinite(pd.read_csv(data/'both-history.csv')[['train_loss', 'valid_loss']].values).all()

def test_the_loss_of_a_mixed_batch_ignores_the_unknown_labels(data):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        both = read_datasets([data/'synth', data/'openmic'], labels='irmas')
        learn = cnn_learner(both, both, arch='resnet18', n_mels=32, bs=16, device='cpu', mix=0.5)
    assert learn.loss_func is masked_bce
    _, y = learn.dls.one_batch()
    assert y.isnan().any() and not y.isnan().all()
    out = torch.randn_like(y)
    changed = torch.where(y.isnan(), out + 100 * torch.randn_like(out), out)   # only where unknown
    assert torch.equal(learn.loss_func(out, y), learn.loss_func(changed, y))
    known = ~y.isnan()
    assert learn.loss_func(out, y).item() == pytest.approx(
        torch.nn.functional.binary_cross_entropy_with_logits(out[known], y[known]).item())
