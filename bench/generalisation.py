"""Do models hear instruments in sounds they never trained on? Each training recipe, with several seeds.

Each run is the training notebook (`irmas_train`) with the recipe's parameters and a seed; its thresholds are tuned
as `make demo` tunes them (mixtures of the held-out songs of its own training data), and it is scored on labelled test
clips rendered from a soundfont that no recipe trained on (`--never-heard`), and on the rendered test clips of the
sounds it trained on (`--heard`). Prints, per recipe, the mean and spread (standard deviation) over the seeds of
macro-F1 at the tuned per-instrument thresholds, at one tuned global threshold and at 0.5, and of the threshold-free
ROC-AUC and mean average precision; and the ratio of each mean to the first recipe's.

    python bench/generalisation.py --never-heard data/gmbank --heard data/synth \\
        --recipe 'today: data=data/synth' \\
        --recipe 'imagenet: data=data/synth arch=tf_efficientnet_lite0 weights=imagenet'

A recipe is `label: name=value ...`, in `irmas_train`'s form. Models go to `models/<prefix>/<label>-s<seed>.json`
with their scores beside them; a run already there is neither trained nor scored again (`--retrain` does both).
"""
import argparse, json, subprocess, sys, tempfile
from pathlib import Path

import numpy as np, pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from irmas.data import read_irmas_test
from irmas.evaluate import held_out_excerpts, tune_thresholds, tuning_set
from irmas.inference import labels_of, predict_frame
from irmas.model_file import read_settings
from irmas.scores import labels_from_probs, multilabel_scores

ROOT = Path(__file__).parents[1]

def train(label:str, params:list, seed:int, prefix:str, retrain:bool) -> Path:
    "Model file of recipe `label` at `seed`, trained with `irmas_train` unless already there"
    name = f'{prefix}/{label}-s{seed}'
    path = ROOT/'models'/f'{name}.json'
    if retrain or not path.exists():
        cmd = [str(Path(sys.executable).parent/'irmas_train'), *params, f'seed={seed}', f'name={name}',
               'overwrite=true', 'baseline=none', "unseen=''", '--runs', str(ROOT/'runs'/prefix)]
        subprocess.run(cmd, check=True, cwd=ROOT)
    return path

def scores(path:Path, never_heard:pd.DataFrame, heard:pd.DataFrame, n_tune:int) -> dict:
    "Scores of model `path` on the clips it never heard and on those it heard, thresholds tuned"
    with tempfile.TemporaryDirectory() as d:
        tuning = tuning_set(held_out_excerpts(read_settings(path), ROOT), d, n_tune)
        tune_probs = predict_frame(path, tuning)
        global_t, per_instrument = tune_thresholds(labels_of(tuning, tune_probs).values, tune_probs.values)
    out = {}
    for where, clips in (('never heard', never_heard), ('heard', heard)):
        probs = predict_frame(path, clips)
        y, p = labels_of(clips, probs).values, probs.values
        f1 = lambda t: multilabel_scores(y, labels_from_probs(p, t))['macro_f1']
        out.update({f'{where}: macro-F1 tuned': f1(per_instrument),
                    f'{where}: macro-F1 one tuned threshold': f1(global_t),
                    f'{where}: macro-F1 at 0.5': f1(0.5),
                    f'{where}: ROC-AUC': roc_auc_score(y, p, average='macro'),
                    f'{where}: mAP': average_precision_score(y, p, average='macro')})
    return dict(out, **{'tuned global threshold': global_t})

def table(results:pd.DataFrame) -> pd.DataFrame:
    "Each score by recipe: mean ± spread over the seeds, and each later recipe's mean over the first's"
    by = results.groupby('recipe', sort=False)
    mean, std = by.mean(), by.std()
    out = {}
    for recipe in mean.index:
        out[recipe] = mean.loc[recipe].map('{:.3f}'.format) + ' ± ' + std.loc[recipe].map('{:.3f}'.format)
        if recipe != mean.index[0]:
            out[f'{recipe} ÷ {mean.index[0]}'] = (mean.loc[recipe] / mean.iloc[0]).map('{:.2f}x'.format)
    return pd.DataFrame(out).rename_axis('score')

def markdown(df:pd.DataFrame) -> str:
    "`df` as a Markdown table (pandas' `to_markdown` needs tabulate, which irmas does not install)"
    rows = [[df.index.name or '', *map(str, df.columns)]]
    rows += [[str(i), *map(str, r)] for i, r in zip(df.index, df.values)]
    lines = ['| ' + ' | '.join(r) + ' |' for r in rows]
    return '\n'.join([lines[0], '| --- ' * len(rows[0]) + '|', *lines[1:]])

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--recipe', action='append', required=True, help="'label: name=value ...'")
    ap.add_argument('--never-heard', required=True, help='labelled test clips of a soundfont no recipe trained on')
    ap.add_argument('--heard', required=True, help='the rendered test clips of the training sounds')
    ap.add_argument('--seeds', default='42,43,44')
    ap.add_argument('--n-tune', type=int, default=300, help='mixtures of held-out songs that tune thresholds')
    ap.add_argument('--prefix', default='generalisation')
    ap.add_argument('--retrain', action='store_true')
    args = ap.parse_args()
    never_heard, heard = read_irmas_test(ROOT/args.never_heard), read_irmas_test(ROOT/args.heard)
    rows = []
    for recipe in args.recipe:
        label, params = recipe.split(':', 1)
        for seed in map(int, args.seeds.split(',')):
            path = train(label.strip(), params.split(), seed, args.prefix, args.retrain)
            scored = path.with_suffix('.scores.json')
            if args.retrain or not scored.exists():
                row = dict(recipe=label.strip(), seed=seed, **scores(path, never_heard, heard, args.n_tune))
                scored.write_text(json.dumps(row, indent=1))
            row = json.loads(scored.read_text())
            rows.append(row)
            print(json.dumps(row), flush=True)
    results = pd.DataFrame(rows).drop(columns='seed')
    print(f"\n{len(never_heard)} never-heard clips ({args.never_heard}), {len(heard)} heard ({args.heard}); "
          f"seeds {args.seeds}\n")
    print(markdown(table(results)))

if __name__ == '__main__': main()
