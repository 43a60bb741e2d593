"Fixtures shared by the end-to-end tests."
import pytest
from irmas.scratch import scratch_dataset, untrained_model

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
