"Fixtures and helpers shared by the end-to-end tests."
import subprocess, sys
from pathlib import Path

import pytest
from irmas.scratch import scratch_dataset, untrained_model

ROOT = Path(__file__).parents[1]

def run_notebook(notebook:str, out:Path, params:dict, yaml:str='') -> subprocess.CompletedProcess:
    "papermill on `nbs/<notebook>.ipynb` as users run it, from the project folder, executed into `out`; its output kept in `<out>.log`"
    cmd = [str(Path(sys.executable).parent/'papermill'), str(ROOT/'nbs'/f'{notebook}.ipynb'), str(out), '-k', 'python3', '--log-output']
    for k, v in params.items(): cmd += ['-p', k, str(v)]
    if yaml: cmd += ['-y', yaml]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=ROOT)
    out.with_suffix('.log').write_text(r.stdout + r.stderr)
    return r

def warnings_in(log:str) -> list:
    "The lines of `log` that carry a warning, Python's or a library's logger's"
    return [line for line in log.splitlines() if 'Warning' in line or 'WARNING' in line]

@pytest.fixture(scope='session', autouse=True)
def bars_write_at_their_end():
    "Log bars in every test and its subprocesses write their last line only, never one on the clock: no count of log lines depends on how fast the machine is"
    with pytest.MonkeyPatch.context() as env:
        env.setenv('IRMAS_PROGRESS_EVERY', 'inf')
        yield

@pytest.fixture(scope='session')
def untrained(tmp_path_factory):
    "A tiny rendered dataset and an untrained CNN's model file, with thresholds that name the cello always and the clarinet never"
    out = tmp_path_factory.mktemp('untrained')
    scratch_dataset(out/'data')
    return out, untrained_model(out/'model', out/'data', thresholds=dict(cel=0., cla=1.01))
