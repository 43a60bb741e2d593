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
