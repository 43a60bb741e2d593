"End-to-end: the `irmas_synth` console script as a user runs it, and the readers on what it writes."
import subprocess, sys
from pathlib import Path

import numpy as np, pandas as pd, pytest, soundfile as sf
from irmas.data import INSTRUMENTS, read_irmas_train, read_irmas_test, load_audio, AudioError
from irmas.sounds import default_soundfont

SCRIPT = Path(sys.executable).parent/'irmas_synth'

def run(*args):
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=600)

@pytest.fixture(scope='module')
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp('synth')
    r = run('--out', out, '--n-train', 22, '--n-test', 5, '--seed', 7, '--n-workers', 2)
    assert r.returncode == 0, r.stderr
    return out, r.stdout

def test_summary_and_layout(rendered):
    out, stdout = rendered
    assert f'{out}: 22 training excerpts, 5 test excerpts' in stdout
    train, test = read_irmas_train(out), read_irmas_test(out)
    assert sorted(train.instrument.unique()) == INSTRUMENTS
    assert test[INSTRUMENTS].sum(axis=1).between(1, 4).all()
    assert len(list((out/'IRMAS-TestingData').glob('*.txt'))) == 5

def test_progress_piped_to_a_log_is_a_line_not_a_redrawn_bar(rendered):
    _, stdout = rendered
    assert '\r' not in stdout and '█' not in stdout
    bars = [line for line in stdout.splitlines() if '% [' in line]
    assert len(bars) == 1 and bars[0].startswith('100.00% [27/27'), bars     # 22 + 5 renders: one line, at the end (conftest.py)

def test_second_run_renders_nothing(rendered):
    out, _ = rendered
    before = {p: p.stat().st_mtime_ns for p in out.rglob('*.wav')}
    assert run('--out', out, '--n-train', 22, '--n-test', 5, '--seed', 7).returncode == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob('*.wav')} == before

def test_other_dataset_in_same_folder_is_refused(rendered):
    out, _ = rendered
    r = run('--out', out, '--n-train', 30, '--n-test', 5, '--seed', 7)
    assert r.returncode != 0 and 'holds a different rendered dataset' in r.stderr and 'plan.csv' in r.stderr

def test_bad_files_in_a_rendered_folder_are_named_and_skipped(rendered, tmp_path):
    out, _ = rendered
    bad = tmp_path/'IRMAS-TrainingData'
    for f in (out/'IRMAS-TrainingData').glob('cel/*.wav'): (bad/'cel').mkdir(parents=True, exist_ok=True); (bad/'cel'/f.name).write_bytes(f.read_bytes())
    (bad/'cel'/'notes.wav').write_text('text, not audio')
    (bad/'xyz').mkdir(); sf.write(bad/'xyz'/'[xyz][cla]0001__1.wav', np.zeros(100, dtype=np.float32), 8000)
    with pytest.warns(UserWarning, match='left out 2 file'):
        df = read_irmas_train(tmp_path)
    assert (df.instrument == 'cel').all() and len(df) > 0
    assert {Path(s['file']).name for s in df.attrs['skipped']} == {'notes.wav', '[xyz][cla]0001__1.wav'}
    with pytest.raises(AudioError, match='notes.wav: cannot be read as audio'): load_audio(bad/'cel'/'notes.wav')

def test_unseen_timbres_render_a_test_set_of_their_own(tmp_path):
    r = run('--out', tmp_path, '--n-train', 0, '--n-test', 3, '--timbres', 'unseen', '--seed', 1, '--n-workers', 1)
    assert r.returncode == 0, r.stderr
    assert f'{tmp_path}: 0 training excerpts, 3 test excerpts, unseen timbres' in r.stdout
    assert len(read_irmas_test(tmp_path)) == 3 and not (tmp_path/'IRMAS-TrainingData').exists()
    r = run('--out', tmp_path/'odd', '--n-train', 11, '--n-test', 1, '--timbres', 'odd')
    assert r.returncode != 0 and 'timbres must be one of all, seen, unseen' in r.stderr

def test_expression_and_several_soundfonts(tmp_path):
    copy = tmp_path/'copy.sf2'
    copy.write_bytes(default_soundfont().read_bytes())
    r = run('--out', tmp_path/'set', '--n-train', 11, '--n-test', 2, '--expression', '--n-workers', 1,
            '--soundfont', default_soundfont(), '--soundfont', copy)
    assert r.returncode == 0, r.stderr
    plan = pd.read_csv(tmp_path/'set'/'plan.csv')
    assert set(plan.soundfont) == {str(default_soundfont()), str(copy)} and plan.expression.all()
    assert len(read_irmas_train(tmp_path/'set')) == 11
    (tmp_path/'bad.sf2').write_text('not a soundfont')
    r = run('--out', tmp_path/'bad', '--n-train', 11, '--n-test', 1, '--soundfont', tmp_path/'bad.sf2')
    assert r.returncode != 0 and 'bad.sf2: not a SoundFont' in r.stderr and not (tmp_path/'bad').exists()
