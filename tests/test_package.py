"The package as users get it: importable, its console scripts installed, its notebooks clean."
import json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).parents[1]

def test_import_in_a_fresh_interpreter():
    r = subprocess.run([sys.executable, '-c', 'import irmas, irmas.data; print(irmas.__version__, len(irmas.data.INSTRUMENTS))'],
                       capture_output=True, text=True, cwd='/')
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[1] == '11'

def test_notebooks_carry_no_execution_counts():
    for nb in sorted((ROOT/'nbs').glob('*.ipynb')):
        cells = json.loads(nb.read_text())['cells']
        counts = [c.get('execution_count') for c in cells if c['cell_type'] == 'code']
        assert not any(counts), f'{nb.name} has execution counts: run nbdev-clean'

def loaded_modules(statement:str) -> set:
    "The top-level packages that a fresh interpreter has loaded after running `statement`"
    code = f'import sys; {statement}; print(" ".join(sorted({{m.split(".")[0] for m in sys.modules}})))'
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd='/')
    assert r.returncode == 0, r.stderr
    return set(r.stdout.split())

def test_predicting_loads_no_training_libraries():
    assert not {'fastai', 'timm', 'transformers'} & loaded_modules('import irmas.inference, irmas.submit, irmas.serve')

def test_commands_load_the_library_only_when_they_run():
    assert not {'torch', 'numpy', 'pandas'} & loaded_modules('import irmas.cli')
    r = subprocess.run([str(Path(sys.executable).parent/'irmas_predict'), '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and '--model' in r.stdout and r.stderr == ''
