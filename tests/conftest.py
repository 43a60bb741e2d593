"Fixtures shared by the end-to-end tests."
import pytest
from irmas.scratch import scratch_dataset, untrained_model

@pytest.fixture(scope='session')
def untrained(tmp_path_factory):
    "A tiny rendered dataset and an untrained CNN's model file, with thresholds that name the cello always and the clarinet never"
    out = tmp_path_factory.mktemp('untrained')
    scratch_dataset(out/'data')
    return out, untrained_model(out/'model', out/'data', thresholds=dict(cel=0., cla=1.01))
