"End-to-end: `irmas_predict` as users run it, on a folder of awkward files, with an exported model whose thresholds are set."
import json, shutil, subprocess, sys
from pathlib import Path

import numpy as np, pandas as pd, pytest, soundfile as sf, torch
from conftest import warnings_in
from irmas.data import INSTRUMENTS, read_irmas_train, load_audio
from irmas.baseline import fit_baseline, save_baseline
from irmas.model_file import load_model
from irmas.scratch import PAIR, instrument_excerpts, trained_baseline, pair_audio

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
    assert list(table.columns) == ['file', *INSTRUMENTS, 'top_probability']   # the contract's header, then how sure
    assert table.file.tolist() == GOOD
    assert set(np.unique(table[INSTRUMENTS].values)) <= {0, 1}

def test_bad_files_are_listed_not_fatal(work, csv_run):
    out, *_ = work
    errors = pd.read_csv(out/'subs'/'run.csv.errors.csv')
    assert errors.file.tolist() == ['corrupt.wav', 'empty.wav']
    assert errors.error[0].startswith('cannot be read as audio') and errors.error[1] == 'is empty (0 bytes)'
    assert '4 of 6 files predicted' in csv_run.stdout and '2 could not be read' in csv_run.stdout
    assert '[6/6 ' in csv_run.stdout and '4 read, 2 failed]' in csv_run.stdout          # the bar's last line
    said = [line for line in csv_run.stderr.splitlines() if 'left out' in line]              # one line, no source path
    assert said == [line for line in csv_run.stderr.splitlines() if line.strip()], csv_run.stderr
    assert len(said) == 1 and said[0].startswith('irmas_predict: predict_files: left out 2 file(s), e.g. corrupt.wav')
    assert 'UserWarning' not in csv_run.stderr and 'submit.py' not in csv_run.stderr

def test_stored_thresholds_are_applied(work, csv_run):
    out, *_ = work
    table = pd.read_csv(out/'subs'/'run.csv')
    assert (table.cel == 1).all() and (table.cla == 0).all()               # thresholds 0 and above 1
    probs = pd.read_csv(out/'subs'/'run.csv.probs.csv')
    assert probs.file.tolist() == GOOD and ((probs[INSTRUMENTS] >= 0) & (probs[INSTRUMENTS] <= 1)).all().all()
    others = [c for c in INSTRUMENTS if c not in ('cel', 'cla')]
    assert ((probs[others] >= 0.5).values == table[others].values.astype(bool)).all()   # 0.5 where none is stored
    assert (table.top_probability == probs[INSTRUMENTS].max(axis=1)).all()            # written alike: equal

def test_json_and_one_threshold(work):
    out, model, _ = work
    r = irmas_predict('--model', model, '--audio', out/'data'/'IRMAS-TestingData', '--out', out/'run.json', '--format', 'json', '--threshold', '0')
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
    assert r.returncode != 0 and 'nowhere: no such file or folder' in r.stderr
    r = irmas_predict('--model', model, '--audio', audio, '--out', out/'strict.csv', '--strict')
    assert r.returncode != 0 and 'corrupt.wav' in r.stderr

def test_a_resume_state_is_refused(work):
    "A training run's <name>-last.json (what irmas.learner.Checkpoints writes for resume=True) is named for what it is"
    out, _, audio = work
    (out/'run-last.json').write_text(json.dumps(dict(last_epoch=2, best=0.4, best_epoch=1, lr=3e-3)))
    r = irmas_predict('--model', out/'run-last.json', '--audio', audio)
    assert r.returncode != 0 and 'older irmas' not in r.stderr
    assert (f"{out/'run-last.json'}: the state a training run resumes from (resume=True), not a model file; "
            "give the model file the run wrote beside it, run.json") in r.stderr

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
    labels = pd.read_csv(out/'mixed.csv', index_col='file')[INSTRUMENTS]
    thresholds = np.array([0.25, 0.755] + [0.5] * 9)                # the mean of the members' thresholds
    named = probs['mixed'].values >= thresholds
    assert (labels.values[named.any(1)] == named[named.any(1)]).all()

def test_a_pickled_model_is_refused(work):
    out, _, audio = work
    (out/'old.pkl').write_bytes(b'\x80\x04K\x01.')                # a pickle, as irmas wrote models before
    r = irmas_predict('--model', out/'old.pkl', '--audio', audio)
    assert r.returncode != 0 and 'old.pkl: a pickled model of an older irmas' in r.stderr

@pytest.fixture(scope='module')
def pair(tmp_path_factory):
    "Two models that tell piano from trumpet, a sure one at 22.05 kHz and a less sure one at 16 kHz, and a folder of audio they never heard: pia.wav, tru.wav and pia_then_tru.wav (6 s of piano, 3 s of trumpet)"
    out = tmp_path_factory.mktemp('pair')
    excerpts = instrument_excerpts(out/'excerpts')
    return out, trained_baseline(out/'sure', excerpts), trained_baseline(out/'unsure', excerpts, sr=16000, C=0.1), pair_audio(out/'audio')

def predicted(out, models:list, *options) -> tuple:
    "The 0/1 labels and the probabilities that `irmas_predict` writes for the pair's audio with `models` and `options`"
    csv = out/('_'.join([Path(m).stem for m in models] + [o.lstrip('-') for o in options]) + '.csv')   # e.g. sure_window_3_hop_3.csv
    r = irmas_predict(*[a for m in models for a in ('--model', m)], '--audio', out/'audio', '--out', csv, '--probs', *options)
    assert r.returncode == 0 and warnings_in(r.stderr) == [], r.stderr[-2000:]
    return pd.read_csv(csv, index_col='file'), pd.read_csv(f'{csv}.probs.csv', index_col='file')

def by_hand(model_file, path, starts, window:float=3.) -> np.ndarray:
    "The probabilities of a 22.05 kHz model (no resampling) for the windows of `path` that begin at `starts` (s), cut by hand"
    model, settings = load_model(model_file)
    wav, sr = load_audio(path)
    assert sr == settings['sr'] == 22050
    with torch.no_grad(): return model(torch.stack([wav[round(s * sr):round((s + window) * sr)] for s in starts])).sigmoid().numpy()

FILES = ['pia.wav', 'pia_then_tru.wav', 'tru.wav']

@pytest.fixture(scope='module')
def in_3s_windows(pair):
    "The sure model's labels and probabilities in windows of 3 s, 3 s apart: two of piano and one of trumpet in the mixed file"
    out, sure, *_ = pair
    return predicted(out, [sure], '--window', '3', '--hop', '3')

def test_a_trained_model_names_what_plays(pair, in_3s_windows):
    _, sure, _, audio = pair
    labels, probs = in_3s_windows
    assert labels.index.tolist() == FILES
    assert labels[list(PAIR)].values.tolist() == [[1, 0], [1, 0], [0, 1]]            # the mean of the mixed file's windows: the piano
    assert (labels[INSTRUMENTS].drop(columns=list(PAIR)).values == 0).all()
    assert np.allclose(probs.loc['pia_then_tru.wav'].values, by_hand(sure, audio/'pia_then_tru.wav', [0, 3, 6]).mean(0), atol=1e-4)
    assert np.allclose(probs.loc['tru.wav'].values, by_hand(sure, audio/'tru.wav', [0])[0], atol=1e-4)

def test_window_hop_and_aggregate_change_the_answer(pair):
    out, sure, _, audio = pair
    mixed = audio/'pia_then_tru.wav'
    labels, probs = predicted(out, [sure], '--window', '3', '--hop', '3', '--aggregate', 'max')
    assert labels.loc['pia_then_tru.wav', list(PAIR)].tolist() == [1, 1]               # the trumpet's window counts in full
    assert np.allclose(probs.loc['pia_then_tru.wav'].values, by_hand(sure, mixed, [0, 3, 6]).max(0), atol=1e-4)
    _, probs = predicted(out, [sure])                                                  # the defaults: 3 s windows, the baseline's own hop
    assert np.allclose(probs.loc['pia_then_tru.wav'].values, by_hand(sure, mixed, [0, 1.5, 3, 4.5, 6]).mean(0), atol=1e-4)
    _, probs = predicted(out, [sure], '--window', '1.5', '--hop', '2.5')
    assert np.allclose(probs.loc['pia_then_tru.wav'].values, by_hand(sure, mixed, [0, 2.5, 5, 7.5], 1.5).mean(0), atol=1e-4)

def test_an_ensemble_averages_two_different_models(pair, in_3s_windows):
    out, _, unsure, _ = pair
    (_, alone), (_, other) = in_3s_windows, predicted(out, [unsure], '--window', '3', '--hop', '3')
    labels, both = predicted(out, [pair[1], unsure], '--window', '3', '--hop', '3')
    assert np.abs(alone.values - other.values).max() > 0.05                           # two models that differ
    assert np.allclose(both.values, (alone.values + other.values) / 2, atol=1e-5)
    assert labels[list(PAIR)].values.tolist() == [[1, 0], [1, 0], [0, 1]]

@pytest.fixture(scope='module')
def unheard(pair):
    "The pair's audio beside 3 s of silence and 3 s of white noise, which hold none of the eleven"
    out, *_, audio = pair
    folder = out/'unheard'
    shutil.copytree(audio, folder)
    sf.write(folder/'silence.wav', np.zeros(3 * 22050, np.float32), 22050)
    sf.write(folder/'noise.wav', np.random.default_rng(0).uniform(-0.2, 0.2, 3 * 22050).astype(np.float32), 22050)
    return folder

def test_none_of_the_eleven_is_an_answer(pair, unheard):
    "By default every file names one instrument; --no-at-least-one lets a file whose top probability is below its threshold name none"
    out, sure, *_ = pair
    runs = {}
    for name, options in (('forced', []), ('free', ['--no-at-least-one'])):
        r = irmas_predict('--model', sure, '--audio', unheard, '--out', out/f'{name}.csv', '--probs', '--threshold', 0.8, *options)
        assert r.returncode == 0 and warnings_in(r.stderr) == [], r.stderr[-2000:]
        runs[name] = r.stdout, pd.read_csv(out/f'{name}.csv', index_col='file')
    (said_forced, forced), (said_free, free) = runs['forced'], runs['free']
    probs = pd.read_csv(out/'free.csv.probs.csv', index_col='file')[INSTRUMENTS]
    top = probs.max(axis=1)
    assert forced.index.tolist() == free.index.tolist() == sorted(FILES + ['noise.wav', 'silence.wav'])
    assert (forced.top_probability == top).all() and (free.top_probability == top).all()   # the probabilities file's own, to the digit
    assert (forced[INSTRUMENTS].sum(axis=1) >= 1).all()
    assert (free[INSTRUMENTS].values == (probs.values >= 0.8)).all()                      # the threshold alone decides
    unsure = top.index[top < 0.8].tolist()
    assert 'pia_then_tru.wav' in unsure                  # piano 6 s, trumpet 3 s: the mean of its windows is about 0.76 piano
    assert (free.loc[unsure, INSTRUMENTS].sum(axis=1) == 0).all() and (forced.loc[unsure, INSTRUMENTS].sum(axis=1) == 1).all()
    assert forced.loc['pia_then_tru.wav', 'pia'] == 1 and free.loc['pia.wav', 'pia'] == forced.loc['pia.wav', 'pia'] == 1
    # this baseline knows two classes and no third, and calls white noise trumpet and silence piano with probabilities
    # near 1: a file names none only where the model is unsure, which the rule above holds to for whatever it hears
    assert f'{len(unsure)} naming none;' in said_free and 'naming none' not in said_forced

def test_one_file_or_several(pair, in_3s_windows):
    "--audio takes one file, named by its name, or several, each named by its name; an empty one is said to be empty"
    out, sure, _, audio = pair
    r = irmas_predict('--model', sure, '--audio', audio/'pia.wav', '--out', out/'one.csv', '--probs', '--window', '3', '--hop', '3')
    assert r.returncode == 0 and warnings_in(r.stderr) == [], r.stderr[-2000:]
    assert '1 file predicted,' in r.stdout and '[1/1 ' in r.stdout and '1 read, 0 failed]' in r.stdout
    one, probs = pd.read_csv(out/'one.csv', index_col='file'), pd.read_csv(out/'one.csv.probs.csv', index_col='file')
    assert one.index.tolist() == ['pia.wav'] and one[list(PAIR)].values.tolist() == [[1, 0]]   # the piano, alone
    assert np.allclose(probs.values, in_3s_windows[1].loc[['pia.wav']].values, atol=1e-5)        # as in its folder
    (out/'empty.wav').write_bytes(b'')
    r = irmas_predict('--model', sure, '--audio', audio/'tru.wav', audio/'pia_then_tru.wav', out/'empty.wav',
                      '--out', out/'some.json', '--format', 'json', '--window', '3', '--hop', '3')
    assert r.returncode == 0, r.stderr[-2000:]
    answer = json.loads((out/'some.json').read_text())
    assert list(answer) == ['tru', 'pia_then_tru']                                              # the files' stems
    assert [[v[c] for c in PAIR] for v in answer.values()] == [[0, 1], [1, 0]]
    assert '2 of 3 files predicted' in r.stdout and '2 read, 1 failed]' in r.stdout
    assert pd.read_csv(out/'some.json.errors.csv').values.tolist() == [['empty.wav', 'is empty (0 bytes)']]
    r = irmas_predict('--model', sure, '--audio', out/'empty.wav', '--out', out/'empty.csv')
    assert r.returncode != 0 and f"irmas_predict: {out/'empty.wav'}: is empty (0 bytes)" in r.stderr
    r = irmas_predict('--model', sure, '--audio', audio/'pia.wav', out/'unheard'/'pia.wav', '--out', out/'twice.csv')
    assert r.returncode != 0 and 'two files named pia.wav' in r.stderr
