"""End-to-end: the evaluation run notebook (nbs/04_evaluate.ipynb) run with papermill on the
classical baseline, as `make demo` runs it, on the scratch fixture, beside an untrained network."""
import json, re, tempfile

import pandas as pd, pytest
from conftest import run_notebook, warnings_in
from irmas.data import INSTRUMENTS, read_irmas_train, read_irmas_test, split_by_song
from irmas.scratch import scratch_dataset, untrained_model
from irmas.baseline import fit_baseline, save_baseline
from irmas.model_file import UNTUNED, model_thresholds
from irmas.inference import predict_frame, labels_of
from irmas.scores import multilabel_scores, labels_from_probs
from irmas.submit import predict_folder, side_file
from irmas.evaluate import (REPORT_TABLES, evaluate_saved_model, held_out_excerpts, tuning_set,
                            tune_thresholds)

N_TUNE = 16

@pytest.fixture(scope='module')
def models(tmp_path_factory):
    """A scratch dataset; the baseline fitted on its training songs, saved as 03a_baseline's run
    saves it; and an untrained network's report to set beside it"""
    out = tmp_path_factory.mktemp('evaluate')
    data = scratch_dataset(out/'data', n_test=4)
    excerpts = read_irmas_train(data)
    fitted = fit_baseline(excerpts[~split_by_song(excerpts, 0.25, 0)])
    fitted.irmas_config.update(data=str(data), valid_pct=0.25, seed=0)
    save_baseline(fitted, out/'models'/'baseline', dict(thresholds=UNTUNED, test_macro_f1=0.123))
    evaluate_saved_model(untrained_model(out/'models'/'untrained', data, data=str(data)), n_tune=0)
    return out

@pytest.fixture(scope='module')
def run(models):
    "The run notebook on the baseline as `make demo` runs it, executed; its log kept"
    params = dict(name=models/'models'/'baseline', n_tune=N_TUNE, unseen=models/'data',
                  submission=models/'submissions'/'baseline.csv')
    r = run_notebook('04_evaluate', models/'run.ipynb', params,
                     f"compare: [{models/'models'/'untrained'}]")
    assert r.returncode == 0, r.stderr[-3000:]
    assert warnings_in(r.stdout + r.stderr) == []
    return json.loads((models/'run.ipynb').read_text())

def scores_at(model, folder, thresholds) -> tuple:
    "Macro-F1 of `model` on the labelled `folder` at `thresholds`, and at 0.5"
    clips = read_irmas_test(folder)
    probs = predict_frame(model, clips)
    y = labels_of(clips, probs).values
    return tuple(multilabel_scores(y, labels_from_probs(probs.values, t))['macro_f1']
                 for t in (thresholds, 0.5))

def baseline_scores(models) -> dict:
    "The scores in the baseline's model file"
    return json.loads((models/'models'/'baseline.json').read_text())['scores']

def test_run_tunes_stores_and_scores_the_baseline(models, run):
    file = models/'models'/'baseline.json'
    settings = json.loads(file.read_text())
    with tempfile.TemporaryDirectory() as d:    # the tuning, done again: the thresholds stored
        tuning = tuning_set(held_out_excerpts(settings), d, N_TUNE)
        probs = predict_frame(file, tuning)
        tuned = tune_thresholds(labels_of(tuning, probs), probs)[1]
    assert model_thresholds(settings).tolist() == tuned.tolist()
    scores = settings['scores']                                  # the fit's scores replaced
    assert scores['thresholds'] == f'tuned per instrument on {N_TUNE} mixtures of held-out songs'
    stored, at_half = scores_at(file, models/'data', model_thresholds(settings))
    assert scores['test_macro_f1'] == pytest.approx(stored)
    assert scores['test_macro_f1_at_0_5'] == pytest.approx(at_half)
    assert (scores['test_n_clips'], scores['unseen_n_clips']) == (4, 4)
    assert scores['test_data'] == str(models/'data')

def test_run_writes_the_submission_that_irmas_predict_writes(models, run):
    ours = models/'submissions'/'baseline.csv'
    predict_folder(models/'models'/'baseline.json', models/'data'/'IRMAS-TestingData',
                   models/'predicted.csv', probs=True)
    assert len(pd.read_csv(ours)) == 4
    pd.testing.assert_frame_equal(pd.read_csv(ours), pd.read_csv(models/'predicted.csv'))
    pd.testing.assert_frame_equal(pd.read_csv(side_file(ours, 'probs')),
                                  pd.read_csv(models/'predicted.csv.probs.csv'))

def test_run_writes_the_report(models, run):
    report, scores = models/'models'/'baseline'/'report', baseline_scores(models)
    assert json.loads((report/'headline.json').read_text()) == scores
    written = {p.name for p in report.iterdir()}
    assert written >= {'headline.json', 'report.html', *[f'{k}.csv' for k in REPORT_TABLES]}
    assert pd.read_csv(report/'instruments.csv').instrument.tolist() == INSTRUMENTS
    # rounded to 4 places
    assert not re.search(r'\d\.\d{5}', (report/'probabilities.csv').read_text())
    page = (report/'report.html').read_text()
    assert f"<b>{scores['test_macro_f1']:.3f}</b><span>macro-F1</span>" in page
    assert page.count('<audio') == 4

def test_run_shows_only_the_run(models, run):
    code = [''.join(c['source']) for c in run['cells'] if c['cell_type'] == 'code']
    assert not [s for s in code if re.search(r'\bdef |test_eq|test_fail|rng|_demo\b', s)]
    outputs = [o for c in run['cells'] for o in c.get('outputs', [])]
    assert not [o for o in outputs if o['output_type'] == 'error']
    text = ''.join(''.join(o.get('text', '')) + ''.join(o.get('data', {}).get('text/plain', ''))
                   for o in outputs)
    scores = baseline_scores(models)
    assert (f"baseline on {models/'data'}: test macro-F1 {scores['test_macro_f1']:.3f} "
            f"({scores['test_macro_f1_at_0_5']:.3f} at 0.5)") in text
    assert 'made-up' not in text
    assert sum('image/png' in o.get('data', {}) for o in outputs) >= 6

def test_run_sets_the_model_beside_the_others(models, run):
    cell, = [c for c in run['cells'] if "result['comparison']" in ''.join(c['source'])]
    compare = ''.join(''.join(o.get('data', {}).get('text/html', '')) for o in cell['outputs'])
    untrained = json.loads((models/'models'/'untrained.json').read_text())['scores']
    assert '>baseline<' in compare and '>untrained<' in compare
    assert f"{untrained['test_macro_f1']:.3f}" in compare
    assert '>...<' not in compare and '>test_n_clips<' in compare    # every score, none clipped

def test_report_holds_the_comparison_glossary_and_provenance(models, run):
    "report.html: the comparison the run computed, what its scores mean, where the model came from"
    page = (models/'models'/'baseline'/'report'/'report.html').read_text()
    beside = re.search('<h2>Beside other models</h2>(.*?)<h2>', page, re.S)[1]
    untrained = json.loads((models/'models'/'untrained.json').read_text())['scores']
    assert '<th>baseline</th>' in beside and '<th>untrained</th>' in beside
    assert f"<td>{untrained['test_macro_f1']:.3f}</td>" in beside
    assert f"<td>{baseline_scores(models)['test_macro_f1']:.3f}</td>" in beside
    assert '<th>cel (cello)</th>' in beside
    glossary = page.split('<h2>What the scores mean</h2>')[1]
    for term in ('macro-F1', 'hamming score', 'exact match', 'best single', 'unseen', 'ROC AUC', 'mAP'):
        assert f'<dt>{term}</dt>' in glossary, term
    made = re.search('<h2>Provenance</h2>(.*?)<h2>', page, re.S)[1]
    for label in ('written', 'irmas', 'git commit', 'model file', 'trained on', 'sounds', 'recipe'):
        assert f'<th>{label}</th>' in made, label
    assert f"{models/'data'}: 22 training excerpts, 4 test clips" in made and 'timgm6mb' in made
    assert 'kind=logreg' in made
    assert re.search(r'The model names .* so it (over|under)-names|It names as many', page)
    assert page.count('<table') == page.count('<div class="wide"><table')      # each scrolls in its box

def test_run_writes_the_model_card(models, run):
    card = (models/'models'/'baseline'/'MODEL_CARD.md').read_text()
    assert re.findall(r'^## (.*)', card, re.M) == ['Intended use', 'Training data and sounds', 'Recipe', 'Scores', 'Limitations', 'Provenance']
    assert f"| test macro f1 | {baseline_scores(models)['test_macro_f1']:.3f} |" in card and 'NOTICE' in card

def test_run_writes_and_tunes_an_ensemble(models, run):
    "`members`: the run writes their ensemble's model file and stores its own thresholds and scores"
    both, baseline, untrained = [models/'models'/m for m in ('both', 'baseline', 'split')]
    untrained_model(untrained, models/'data', data=str(models/'data'), valid_pct=0.25, seed=0)
    r = run_notebook('04_evaluate', models/'both.ipynb',
                     dict(name=both, n_tune=N_TUNE, unseen=models/'data'),
                     f"members: [{baseline}, {untrained}]\ncompare: []")
    assert r.returncode == 0, r.stderr[-3000:]
    settings = json.loads((models/'models'/'both.json').read_text())
    assert settings['model'] == 'Ensemble'
    assert settings['members'] == ['baseline.json', 'split.json']
    tuned = f'tuned per instrument on {N_TUNE} mixtures of held-out songs'
    assert settings['scores']['thresholds'] == tuned
    stored, _ = scores_at(models/'models'/'both.json', models/'data', model_thresholds(settings))
    assert settings['scores']['test_macro_f1'] == pytest.approx(stored)
    clips = read_irmas_test(models/'data')
    mean = sum(predict_frame(f'{m}.json', clips) for m in (baseline, untrained)) / 2
    ensemble = predict_frame(models/'models'/'both.json', clips)
    assert ensemble.values == pytest.approx(mean.values, abs=1e-6)
