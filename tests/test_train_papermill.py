"End-to-end: the training, evaluation and submission notebooks run headlessly with papermill, as users run them, on a tiny rendered dataset."
import json, re, shutil, subprocess, sys
from pathlib import Path

import pandas as pd, pytest, torch
from conftest import run_notebook, warnings_in
from irmas.data import INSTRUMENTS, read_irmas_train, read_irmas_test, load_audio
from irmas.synth import render_dataset
from irmas.scores import labels_from_probs
from irmas.inference import predict_audio
from irmas.model_file import load_model

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp('train')
    render_dataset(out/'data', n_train=66, n_test=6, seed=2, n_workers=2)
    return out

def papermill(out:Path, run:str, /, yaml:str='', notebook:str='03_train', **params) -> Path:
    "Run `notebook` (by default training on the tiny dataset in `out`; `params` may be any of its parameters) with `run_notebook`; the executed notebook `<run>.ipynb`, its log `<run>.log`"
    if notebook == '03_train': params = dict(dict(data=str(out/'data'), unseen=str(out/'data'), bs=16, epochs=2, n_train=40, name=str(out/run)), **params)
    r = run_notebook(notebook, out/f'{run}.ipynb', params, yaml)
    assert r.returncode == 0, r.stderr[-3000:]
    return out/f'{run}.ipynb'

def run_cells(notebook:Path) -> list:
    "The run's cells (those flagged slow) of the executed `notebook`"
    return [c for c in json.loads(notebook.read_text())['cells'] if ''.join(c['source']).startswith('#| slow')]

def printed(notebook:Path) -> str:
    "All text and HTML that the run's cells of the executed `notebook` show"
    outputs = [o for c in run_cells(notebook) for o in c.get('outputs', [])]
    return ''.join(''.join(o.get('text', '')) + ''.join(o.get('data', {}).get('text/html', '')) for o in outputs)

def bar_debris(log:str) -> list:
    "What drawn bars leave in a log: HTML bars, carriage returns of redrawn ones, their block characters"
    return [mark for mark in ('IPython.core.display.HTML', '<progress', '\r', '█') if mark in log]

@pytest.fixture(scope='module')
def cnn(data):
    excerpts = read_irmas_train(data/'data').file
    pd.DataFrame(dict(file=excerpts[:1], labels=['voi cel'])).to_csv(data/'relabel.csv', index=False)
    pd.DataFrame(dict(file=excerpts[1:3])).to_csv(data/'leave-out.csv', index=False)
    # mixing, timbre augmentation and the genre and drums targets on, to run those paths too; the batch size
    # left to the preset; irmas_audit's lists
    notebook = papermill(data, 'cnn', arch='resnet18', n_mels=32, mix=0.5, timbre=True, aux=True, bs=None,
                         relabel=data/'relabel.csv', leave_out=data/'leave-out.csv')
    shutil.copy(data/'cnn.json', data/'cnn-trained.json')       # as training left it: evaluation replaces its scores
    return notebook

def test_the_run_shows_only_the_run(data, cnn):
    cells = json.loads(cnn.read_text())['cells']
    sources = '\n'.join(''.join(c['source']) for c in cells)
    assert 'fastcore.test' not in sources and 'test_eq' not in sources and '#| export' not in sources
    shown = printed(cnn) + '\n'.join(''.join(o.get('text', '')) for c in cells for o in c.get('outputs', []))
    assert 'tiny' not in shown and 'LOAD REPORT' not in shown           # no fixture's output, no test model's
    assert warnings_in((data/'cnn.log').read_text()) == []

def test_cnn_run_exports_a_model_with_its_scores(data, cnn):
    config = json.loads((data/'cnn-trained.json').read_text())
    assert config['scores']['thresholds'] == '0.5 (not tuned)'              # labelled: evaluation tunes them
    assert (config['arch'], config['n_mels'], config['head'], config['mix'], config['timbre'], config['aux']) == ('resnet18', 32, 'single', 0.5, True, True)
    assert 0 <= config['scores']['valid_macro_f1'] <= 1 and 0 <= config['scores']['test_macro_f1'] <= 1
    assert config['scores']['unseen_macro_f1'] == pytest.approx(config['scores']['test_macro_f1'])   # `unseen` is the test folder here

def test_cnn_run_keeps_history_and_the_best_epoch(data, cnn):
    history = pd.read_csv(data/'cnn-history.csv')               # `name` is a path here, so everything lands beside it
    assert history.epoch.tolist() == [0, 1]
    assert json.loads((data/'cnn-trained.json').read_text())['scores']['valid_macro_f1'] == pytest.approx(history.macro_f1.max())
    assert any('image/png' in o.get('data', {}) for o in run_cells(cnn)[-1]['outputs'])          # the history's curves end the run

def test_exported_model_predicts_any_length(data, cnn):
    wav, sr = load_audio(read_irmas_test(data/'data').path[0])
    for n in (sr // 2, len(wav)):
        p = predict_audio(data/'cnn.json', wav[:n], sr)
        assert p.shape == (11,) and ((p >= 0) & (p <= 1)).all()

def test_log_is_plain_text(data, cnn):
    text = printed(cnn)
    assert 'validation macro-F1' in text and 'test macro-F1 ' in text and 'unseen-timbre macro-F1 ' in text
    assert 'macro_f1' in text and '<progress' not in text          # the epoch table as text, no HTML bars anywhere
    log = (data/'cnn.log').read_text()
    assert bar_debris(log) == []
    assert 'FutureWarning' not in log and 'TqdmWarning' not in log   # silenced where they arise
    table = [line.split()[0] for line in log.splitlines() if re.match(r'epoch\s+train_loss|\d+\s+\d+\.\d{6}\s', line)]
    assert table == ['epoch', '0', '1'], table                                 # the results table, each row once
    assert not any(line.startswith('Epoch ') for line in log.splitlines())     # batches write no line before the interval (conftest.py), not one each

def test_run_records_resolved_parameters_and_shows_its_table(data, cnn):
    "The record shows the sizes the preset picked (bs) beside those given, the model file keeps it, and the per-instrument table is displayed"
    cells = run_cells(cnn)
    record, = [c for c in cells if 'run_parameters(' in ''.join(c['source'])]
    shown = ''.join(''.join(o['data']['text/plain']) for o in record['outputs'] if 'data' in o)
    for given in ("'bs': 32", "'n_mels': 32", "'epochs': 2", "'n_train': 40", "'preset': 'cpu'"): assert given in shown, (given, shown)
    parameters = json.loads((data/'cnn-trained.json').read_text())['parameters']
    assert {k: parameters[k] for k in ('bs', 'n_mels', 'epochs', 'n_train')} == dict(bs=32, n_mels=32, epochs=2, n_train=40)
    table, = [c for c in cells if 'instrument_report(' in ''.join(c['source'])]
    html = ''.join(''.join(o.get('data', {}).get('text/html', '')) for o in table['outputs'])
    assert '>test</th>' in html and '>unseen</th>' in html and all(f'<th>{c}</th>' in html for c in INSTRUMENTS), html[:500]
    assert '>average_precision</th>' in html and '<th>mean (macro-F1, mAP)</th>' in html, html[:500]
    assert 'baseline baseline' not in printed(cnn)

def test_run_applies_label_changes_and_leaves_listed_excerpts_out(data, cnn):
    shown = printed(cnn)
    assert f"excerpts relabelled: 1 (by {data/'relabel.csv'})" in shown
    assert f"excerpts left out: 2 (by {data/'leave-out.csv'})" in shown

def test_student_learns_from_a_teacher_model_file(data, cnn):
    "Distillation through the run's parameters: the model file names its teacher, and the student predicts"
    papermill(data, 'student', arch='resnet18', n_mels=32, epochs=1, teacher=data/'cnn.json', teacher_weight=0.7)
    config = json.loads((data/'student.json').read_text())
    assert (config['teacher'], config['teacher_weight']) == ([str(data/'cnn.json')], 0.7)
    assert 0 <= config['scores']['test_macro_f1'] <= 1

def test_tags_run_puts_musicnn_beside_the_trained_network(data):
    "tags=mtt: the model file holds the tagger; the five its tags name answer with the mean logit, six alone"
    run = papermill(data, 'tagged', arch='resnet18', n_mels=32, epochs=1, n_train=16, tags='mtt', score=False)
    model, config = load_model(data/'tagged.json')
    assert (config['tags'], config['tags_fusion'], config['parameters']['tags']) == ('mtt', 'logit', 'mtt')
    assert list(config['scores']) == ['thresholds', 'valid_macro_f1']   # score=False: test clips left to evaluation
    assert 'test macro-F1' not in printed(run) and 'validation macro-F1' in printed(run)
    clips = torch.as_tensor(load_audio(read_irmas_test(data/'data').path[0])[0][:3 * 22050])[None]
    both, tags = model(clips).sigmoid()[0].detach(), model.tags
    model.tags = None
    alone = model(clips).sigmoid()[0].detach()
    named = tags.names.any(1)
    assert [INSTRUMENTS[i] for i in named.nonzero()[:, 0]] == ['cel', 'flu', 'pia', 'vio', 'voi']
    assert torch.equal(both[~named], alone[~named]) and (both[named] - alone[named]).abs().min() > 1e-4

def test_progress_lines_say_what_they_count(data, cnn):
    log = (data/'cnn.log').read_text()
    assert re.search(r'^excerpts read: 100\.00% \[\d+/\d+ ', log, re.M) and re.search(r'^files predicted: 100\.00% \[6/6 ', log, re.M)
    assert not re.search(r'^\d+\.\d+% \[', log, re.M), 'a progress line that does not say what it counts'

def test_ast_runs_end_to_end_with_a_tiny_config(data):
    tiny = '{hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, num_mel_bins: 64}'
    papermill(data, 'ast', yaml=f'ast_config: {tiny}', arch='ast', epochs=1)
    config = json.loads((data/'ast.json').read_text())
    assert (config['arch'], config['sr'], config['ast_config']['hidden_size']) == ('ast', 16000, 32)
    wav, sr = load_audio(read_irmas_test(data/'data').path[0])
    assert predict_audio(data/'ast.json', wav, sr).shape == (11,)

@pytest.fixture(scope='module')
def evaluated(data, cnn):
    return papermill(data, 'cnn-report', notebook='04_evaluate', name=str(data/'cnn'), n_tune=30, unseen=str(data/'data'))

def test_evaluation_tunes_thresholds_and_writes_a_report(data, evaluated):
    config = json.loads((data/'cnn.json').read_text())
    assert list(config['thresholds']) == INSTRUMENTS
    report = data/'cnn'/'report'
    headline = json.loads((report/'headline.json').read_text())
    assert headline == config['scores'] and headline['test_n_clips'] == 6       # one set of scores
    assert headline['unseen_n_clips'] == 6 and headline['unseen_macro_f1'] == pytest.approx(headline['test_macro_f1'])   # the same clips
    assert pd.read_csv(report/'instruments.csv').instrument.tolist() == INSTRUMENTS
    assert (report/'curves.png').stat().st_size > 10_000
    assert 'test macro-F1 ' in printed(evaluated) and '<progress' not in printed(evaluated)
    log = (data/'cnn-report.log').read_text()
    assert bar_debris(log) == [] and warnings_in(log) == []

def test_training_and_evaluation_write_the_model_card(data, evaluated):
    "models/<name>/MODEL_CARD.md (here beside the run's files, as `name` is a path): written by training, written again by evaluation with its tuned scores"
    card = (data/'cnn'/'MODEL_CARD.md').read_text()
    assert re.findall(r'^## (.*)', card, re.M) == ['Intended use', 'Training data and sounds', 'Recipe', 'Scores', 'Limitations', 'Provenance']
    scores = json.loads((data/'cnn.json').read_text())['scores']
    assert f"| test macro f1 | {scores['test_macro_f1']:.3f} |" in card and scores['thresholds'] in card
    assert 'NOTICE' in card and 'timgm6mb' in card and 'arch=resnet18' in card and 'acoustic guitar (gac)' in card
    assert '- epochs: 2 (epoch ' in card and '- irmas: ' in card
    assert f"its card to {data/'cnn'/'MODEL_CARD.md'}" in printed(data/'cnn.ipynb') and f"model card: {data/'cnn'/'MODEL_CARD.md'}" in printed(evaluated)

def test_submission_notebook_uses_the_stored_thresholds(data, evaluated):
    test_folder = data/'data'/'IRMAS-TestingData'
    papermill(data, 'cnn-submit', notebook='05_submit', model=str(data/'cnn.json'), audio=str(test_folder), out=str(data/'cnn.csv'))
    table, probs = pd.read_csv(data/'cnn.csv', index_col='file'), pd.read_csv(data/'cnn.csv.probs.csv', index_col='file')
    assert list(table.columns) == [*INSTRUMENTS, 'top_probability']
    assert len(table) == len(read_irmas_test(test_folder))
    thresholds = json.loads((data/'cnn.json').read_text())['thresholds']
    labels = labels_from_probs(probs.values, [thresholds[c] for c in INSTRUMENTS])
    assert (table[INSTRUMENTS].values == labels).all()

def test_accelerate_launch_trains_through_irmas_train(data):
    "One CPU process under `accelerate launch`: the way several GPUs train, with fastai's distrib_ctx in place"
    bin = Path(sys.executable).parent
    cmd = [str(bin/'accelerate'), 'launch', '--cpu', '--num_processes', '1', '--num_machines', '1', '--mixed_precision', 'no',
           '--dynamo_backend', 'no', str(bin/'irmas_train'), f"data={data/'data'}", 'epochs=1', 'n_train=40', 'bs=16', 'lr=1e-3',
           'arch=resnet18', 'n_mels=32', f"name={data/'launched'}"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=data)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((data/'launched.json').read_text())['arch'] == 'resnet18'
    assert pd.read_csv(data/'launched-history.csv').epoch.tolist() == [0]
    assert json.loads((data/'launched-last.json').read_text())['lr'] == 1e-3      # a number, as papermill's -p reads it
    assert 'validation macro-F1' in printed(data/'runs'/'launched.ipynb')

# The same run in two processes of batch 16 and in one of batch 32: 32 excerpts, so one step an epoch in both
SAME_RUN = ['epochs=2', 'n_train=32', 'lr=1e-3', 'arch=convnext_atto', 'n_mels=32', 'augment=False']

@pytest.fixture(scope='module')
def two_processes(data):
    """The run in two CPU processes under `accelerate launch`, and in one process with their global batch.
    `--multi_gpu` starts the two with torchrun, and `data_parallel` trains them over gloo as the learner is on the CPU:
    accelerate's `--cpu` starts one process unless an MPI hostfile is given (`accelerate/commands/launch.py`)."""
    bin = Path(sys.executable).parent
    launch = [str(bin/'accelerate'), 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1',
              '--mixed_precision', 'no', '--dynamo_backend', 'no', '--main_process_port', '0']
    for cmd in ([*launch, str(bin/'irmas_train'), 'bs=16', f"name={data/'two'}"],
                [str(bin/'irmas_train'), 'bs=32', f"name={data/'one'}"]):
        r = subprocess.run([*cmd, f"data={data/'data'}", *SAME_RUN], capture_output=True, text=True, timeout=900,
                           cwd=data)
        assert r.returncode == 0, r.stderr[-3000:]
    return data

def test_accelerate_launch_two_processes_write_one_model_and_its_scores_once(two_processes):
    "One model file, one history row an epoch, one set of checkpoints; the scores shown by the first process only"
    data = two_processes
    assert sorted(p.name for p in data.glob('two*')) == ['two', 'two-history.csv', 'two-last.json', 'two-last.pth',
                                                         'two.json', 'two.pth', 'two.safetensors']   # none by process
    assert sorted(p.name for p in (data/'runs').glob('two*')) == ['two-rank1.ipynb', 'two.ipynb']
    assert pd.read_csv(data/'two-history.csv').epoch.tolist() == [0, 1]                       # each epoch once
    shown = printed(data/'runs'/'two.ipynb'), printed(data/'runs'/'two-rank1.ipynb')
    assert [text.count('validation macro-F1') for text in shown] == [1, 0]     # the first process scores, alone
    assert json.loads((data/'two.json').read_text())['parameters']['bs'] == 16

def test_accelerate_launch_two_processes_each_train_half_of_every_epoch(two_processes):
    "32 excerpts at 16 a batch: 2 batches an epoch in one process, 1 in each of the two"
    shown = printed(two_processes/'runs'/'two.ipynb') + printed(two_processes/'runs'/'two-rank1.ipynb')
    assert sorted(re.findall(r'^process \d of 2: .*$', shown, re.M)) == [
        f"process {k} of 2: training batches by epoch [1, 1], of 2 an epoch in one process" for k in (0, 1)]

def test_accelerate_launch_two_processes_train_the_model_of_one_process(two_processes):
    """The two processes of batch 16 train the model that one process trains with batch 32, up to float rounding:
    fastai averages their gradients, and with one step an epoch each step sees the same 32 excerpts in both runs
    (fastai's `DistributedDL` hands each process a contiguous half of the epoch's order, so with more steps the global
    batches would group other excerpts). The run has no augmentation, which each process would draw on its own, and
    a convnext, which normalises each example by layer norm: torch's `SyncBatchNorm` runs on GPUs only, so on the CPU
    each process would normalise its own half-batch in a resnet's batch norm (that differs from one process by 1e-4)."""
    from safetensors.torch import load_file
    data = two_processes
    two, one = load_file(data/'two.safetensors'), load_file(data/'one.safetensors')
    assert two.keys() == one.keys() and len(two) > 100
    # far below a step: Adam moves a weight by about the step's learning rate, 4e-5 then 7.5e-4 in this cycle
    assert max((two[k] - one[k]).abs().max().item() for k in two) < 1e-5
    scores = [json.loads((data/f'{run}.json').read_text())['scores'] for run in ('two', 'one')]
    assert scores[0]['valid_macro_f1'] == pytest.approx(scores[1]['valid_macro_f1'])
    # not valid_loss: fastai averages it over the first process's share of the validation set alone
    histories = [pd.read_csv(data/f'{run}-history.csv') for run in ('two', 'one')]
    assert histories[0].train_loss.tolist() == pytest.approx(histories[1].train_loss.tolist(), rel=1e-5)

def test_musicnn_run_trains_a_head_over_the_tagger(data):
    "arch=musicnn from the installed MTT tagger, frozen: its head fitted on one pass, exported, predicting"
    papermill(data, 'musicnn', arch='musicnn', weights='mtt', frozen=True, epochs=1, n_train=16)
    config = json.loads((data/'musicnn.json').read_text())
    assert (config['arch'], config['weights'], config['frozen'], config['sr'], config['feature']) == \
        ('musicnn', 'mtt', True, 16000, 'musicnn')
    wav, sr = load_audio(read_irmas_test(data/'data').path[0])
    p = predict_audio(data/'musicnn.json', wav, sr)
    assert p.shape == (11,) and ((p >= 0) & (p <= 1)).all()
