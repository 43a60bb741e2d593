"""End-to-end: the ablation run notebook (nbs/03c_ablation.ipynb) refuses a recipe it cannot train, or clips it
lacks, before any recipe trains."""
import pytest
from conftest import ROOT, run_notebook

@pytest.mark.parametrize('params, says', [
    (dict(undo={'mixing': {'mixx': 0.}}), "recipe 'without mixing': unknown parameter mixx"),
    (dict(recipe={'data': 'data/synth', 'timbre': 'yes'}),
     "recipe 'recipe': timbre='yes': must be a bool"),
    (dict(never_heard='data/no-such-clips'), 'data/no-such-clips: no clips of sounds never heard'),
    (dict(real='data/no-such-recordings', never_heard='TMP'),
     'data/no-such-recordings: no labels.csv of real recordings')])
def test_ablation_refuses_before_anything_trains(params, says, tmp_path):
    prefix = f'test-ablation-{tmp_path.name}'
    # Python's repr of these values is YAML
    params = {k: str(tmp_path) if v == 'TMP' else v for k, v in params.items()}   # a folder there
    yaml = '\n'.join(f'{k}: {v!r}' for k, v in dict(prefix=prefix, **params).items())
    r = run_notebook('03c_ablation', tmp_path/'out.ipynb', {}, yaml)
    assert r.returncode != 0 and says in r.stdout + r.stderr, (r.stdout + r.stderr)[-2000:]
    assert not (ROOT/'models'/prefix).exists() and not (ROOT/'runs'/prefix).exists()
