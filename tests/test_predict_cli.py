"End-to-end: `irmas_predict` as users run it, on a folder of awkward files, with an exported model whose thresholds are set."
import json, subprocess, sys
from pathlib import Path

import numpy as np, pandas as pd, pytest, soundfile as sf
from irmas.data import INSTRUMENTS, read_irmas_train
from irmas.baseline import fit_baseline, save_baseline

GOOD = ['mono_8k.wav', 'nested/six_48k.flac', 'short.wav', 'ten_minutes.flac']

@pytest.fixture(scope='module')
def work(untrained):
    "The untrained model of conftest.py and a folder of awkward audio beside it"
    out, model = untrained
    audio, rng = out/'audio', np.random.default_rng(0)
    (audio/'nested').mkdir(parents=True)
    noise = lambda *shape: rng.uniform(-0.2, 0.2, shape).astype(np.float32)
    sf.write(audio/'short.wav', noise(11025), 22050)                         # half a second
    sf.write(audio/'ten_minutes.flac', noise(600 * 16000), 16000)            # ten minutes
    sf.write(audio/'mono_8k.wav', noise(8000 * 6), 8000)
    sf.write(audio/'nested'/'six_48k.flac', noise(48000 * 5, 6), 48000)      # 6 channels
    (audio/'corrupt.wav').write_bytes(b'RIFF\x24\x00\x00\x00WAVEfmt ' + bytes(30))
    (audio/'empty.wav').write_bytes(b'')
    return out, model, audio

def irmas_predict(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent/'irmas_predict'), *map(str, args), '--device', 'cpu'],
                          capture_output=True, text=True, timeout=600)

@pytest.fixture(scope='module')
def csv_run(work):
    out, model, audio = work
    return irmas_predict('--model', model, '--audio', audio, '--out', out/'subs'/'run.csv', '--probs')

def test_every_readable_file_gets_its_row(work, csv_run):
    out, *_ = work
    assert csv_run.returncode == 0, csv_run.stderr[-2000:]
    table = pd.read_csv(out/'subs'/'run.csv')
    assert list(table.columns) == ['file', *INSTRUMENTS]                   # the contract's header, in its order
    assert table.file.tolist() == GOOD
    assert set(np.unique(table[INSTRUMENTS].values)) <= {0, 1}

def test_bad_files_are_listed_not_fatal(work, csv_run):
    out, *_ = work
    errors = pd.read_csv(out/'subs'/'run.csv.errors.csv')
    assert errors.file.tolist() == ['corrupt.wav', 'empty.wav']
    assert errors.error.str.contains('cannot be read').all()
    assert '4 files predicted' in csv_run.stdout and '2 could not be read' in csv_run.stdout

def test_stored_thresholds_are_applied(work, csv_run):
    out, *_ = work
    table = pd.read_csv(out/'subs'/'run.csv')
    assert (table.cel == 1).all() and (table.cla == 0).all()               # thresholds 0 and above 1
    probs = pd.read_csv(out/'subs'/'run.csv.probs.csv')
    assert probs.file.tolist() == GOOD and ((probs[INSTRUMENTS] >= 0) & (probs[INSTRUMENTS] <= 1)).all().all()
    others = [c for c in INSTRUMENTS if c not in ('cel', 'cla')]
    assert ((probs[others] >= 0.5).values == table[others].values.astype(bool)).all()   # 0.5 where none is stored

def test_json_ensemble_and_threshold(work):
    out, model, _ = work
    r = irmas_predict('--model', model, '--model', model, '--audio', out/'data'/'IRMAS-TestingData', '--out', out/'run.json',
                      '--format', 'json', '--threshold', '0', '--window', '2', '--hop', '0.5', '--aggregate', 'max')
    assert r.returncode == 0, r.stderr[-2000:]
    answer = json.loads((out/'run.json').read_text())
    assert len(answer) == 2 and all('/' not in k and not k.endswith('.wav') for k in answer)   # file stems
    assert all(list(v) == INSTRUMENTS and set(v.values()) == {1} for v in answer.values())     # threshold 0: everything

def test_clear_errors(work):
    out, model, audio = work
    r = irmas_predict('--model', model)
    assert r.returncode != 0 and 'give --model and --audio' in r.stderr
    r = irmas_predict('--model', out/'absent.json', '--audio', audio)
    assert r.returncode != 0 and 'absent.json: no such model file' in r.stderr
    r = irmas_predict('--model', model, '--audio', out/'nowhere')
    assert r.returncode != 0 and 'nowhere: no such folder' in r.stderr
    r = irmas_predict('--model', model, '--audio', audio, '--out', out/'strict.csv', '--strict')
    assert r.returncode != 0 and 'corrupt.wav' in r.stderr

@pytest.fixture(scope='module')
def baseline(untrained):
    "The classical baseline fitted on the tiny dataset of conftest.py, as a model file"
    out, _ = untrained
    return save_baseline(fit_baseline(read_irmas_train(out/'data')), out/'baseline')

def test_the_baseline_and_a_mixed_ensemble_predict(work, csv_run, baseline):
    out, model, audio = work
    for models, name in (([baseline], 'baseline'), ([model, baseline], 'mixed')):
        r = irmas_predict(*[a for m in models for a in ('--model', m)], '--audio', audio, '--out', out/f'{name}.csv', '--probs')
        assert r.returncode == 0, r.stderr[-2000:]
    probs = {k: pd.read_csv(f, index_col='file') for k, f in (('run', out/'subs'/'run.csv.probs.csv'),
             ('baseline', out/'baseline.csv.probs.csv'), ('mixed', out/'mixed.csv.probs.csv'))}
    assert probs['baseline'].index.tolist() == GOOD
    assert not np.allclose(probs['baseline'].values, probs['run'].values, atol=0.05)        # two different models
    assert np.allclose(probs['mixed'].values, (probs['run'].values + probs['baseline'].values) / 2, atol=1e-5)
    labels = pd.read_csv(out/'mixed.csv', index_col='file')
    thresholds = np.array([0.25, 0.755] + [0.5] * 9)                # the mean of the members' thresholds
    named = probs['mixed'].values >= thresholds
    assert (labels.values[named.any(1)] == named[named.any(1)]).all()

def test_a_pickled_model_is_refused(work):
    out, _, audio = work
    (out/'old.pkl').write_bytes(b'\x80\x04K\x01.')                # a pickle, as irmas wrote models before
    r = irmas_predict('--model', out/'old.pkl', '--audio', audio)
    assert r.returncode != 0 and 'old.pkl: a pickled model of an older irmas' in r.stderr
