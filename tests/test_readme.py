"The README's Python snippets, run as written in a folder laid out as they expect: a README that shows broken code fails."
import re, shutil
from pathlib import Path

import pandas as pd, pytest
from irmas.data import INSTRUMENTS
from irmas.scratch import nsynth_tree, scratch_dataset, untrained_model

README = Path(__file__).parents[1]/'README.md'

def python_snippets(markdown:str) -> list:
    "The fenced ```python blocks of `markdown`, in order"
    return re.findall(r'^```python\n(.*?)^```$', markdown, re.S | re.M)

SNIPPETS = python_snippets(README.read_text())

def test_snippets_found():
    "The README has its snippets: predicting with a model file, the probabilities and timeline, training the demo's recipe"
    assert len(SNIPPETS) >= 3, len(SNIPPETS)
    assert any("cnn_learner(" in s and "'tf_efficientnet_lite0', weights='imagenet'" in s and 'mix=0.25' in s
               and 'export_model(' in s for s in SNIPPETS)
    assert any('predict_timeline(' in s and 'plot_timeline(' in s for s in SNIPPETS)

@pytest.fixture(scope='module')
def project(tmp_path_factory):
    """A folder laid out as the snippets expect after `make demo`: a dataset in data/synth (a scratch one, 48 excerpts so
    that the demo's batch of 32 fills once), models/demo.json (an untrained model file: any model file predicts) and
    song.wav (one of the dataset's test clips), and NSynth's test split in miniature in data/nsynth-test"""
    out = tmp_path_factory.mktemp('project')
    data = scratch_dataset(out/'data'/'synth', n_train=48, n_test=2)
    untrained_model(out/'models'/'demo', data)
    shutil.copy(sorted((data/'IRMAS-TestingData').rglob('*.wav'))[0], out/'song.wav')
    nsynth_tree(out/'data'/'nsynth-test')
    return out

@pytest.mark.parametrize('snippet', SNIPPETS, ids=[f'snippet{i}' for i in range(len(SNIPPETS))])
def test_snippet_runs(snippet, project, monkeypatch):
    "Each snippet runs as written, from the project's folder, in a namespace of its own"
    monkeypatch.chdir(project)
    monkeypatch.setenv('MPLBACKEND', 'Agg')
    exec(compile(snippet, f'{README.name} snippet', 'exec'), {'__name__': '__readme__'})

def test_trained_model_predicts(project, monkeypatch):
    "The model file the training snippet ends with is one that irmas_predict takes"
    from irmas.cli import irmas_predict
    monkeypatch.chdir(project)
    snippet = next(s for s in SNIPPETS if 'export_model(' in s)
    if not (project/'models'/'mine.json').exists():
        exec(compile(snippet, f'{README.name} snippet', 'exec'), {'__name__': '__readme__'})
    irmas_predict(model=['models/mine.json'], audio='song.wav', out='mine.csv', device='cpu')
    answer = pd.read_csv(project/'mine.csv')
    assert answer.file.tolist() == ['song.wav'] and answer[INSTRUMENTS].values.sum() >= 1
