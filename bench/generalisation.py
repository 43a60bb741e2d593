"""Do models hear instruments in music they never heard? Each training recipe, with several seeds.

The command-line form of the ablation notebook (`nbs/03c_ablation.ipynb`, functions in `irmas.recipes`) for any
recipes. Each run is the training notebook (`irmas_train`) with the recipe's parameters and a seed; its
thresholds are tuned as `make demo` tunes them (mixtures of the held-out songs of its own training data), and it is
scored on real recordings that no recipe trains or tunes on (`--real`, a folder with `labels.csv`: by default
`../shared/real-recordings` where it is there), on labelled test clips rendered from a soundfont that no recipe
trained on (`--never-heard`), and on the rendered test clips of sounds it trained on (`--heard`). Prints, per recipe,
the mean and spread (standard deviation) over the seeds of macro-F1 at the tuned per-instrument thresholds, at one
tuned global threshold and at 0.5, and of the threshold-free ROC-AUC and mean average precision, and each mean over
the first recipe's; then ROC-AUC per instrument on the real recordings.

    irmas_synth --out data/synth-timgm6mb --soundfont timgm6mb
    python bench/generalisation.py --never-heard data/gmbank --heard data/synth-timgm6mb \\
        --recipe 'random start: data=data/synth-timgm6mb' \\
        --recipe 'imagenet: data=data/synth-timgm6mb arch=tf_efficientnet_lite0 weights=imagenet'

A recipe is `label: name=value ...`, in `irmas_train`'s form; `--ensemble 'label: a, b'` scores the mean of
recipes a and b's runs at each seed. Models go to `models/<prefix>/<label's slug>-s<seed>.json`
with their scores beside them; a run already there is neither trained nor scored again (`--rerun` does both).
"""
import argparse
from pathlib import Path

from irmas.cli import parameter_value
from irmas.data import read_irmas_test
from irmas.progress import text_progress
from irmas.runs import ParameterError
from irmas.recipes import (check_recipes, markdown_table, measure_recipes, per_instrument, real_recordings,
                           seed_table)

ROOT = Path(__file__).parents[1]
REAL = ROOT.parent/'shared'/'real-recordings'   # beside the clone, never copied into it

def recipe(text:str) -> tuple:
    "`(label, parameters)` of a recipe written `label: name=value ...`"
    label, _, params = text.partition(':')
    if not params.strip() or any('=' not in p for p in params.split()):
        raise argparse.ArgumentTypeError(f"{text!r}: a recipe is 'label: name=value ...'")
    return label.strip(), {k: parameter_value(v) for k, v in (p.split('=', 1) for p in params.split())}

def ensemble(text:str) -> tuple:
    "`(label, [recipe labels])` of an ensemble written `label: a, b`"
    label, _, members = text.partition(':')
    if not members.strip(): raise argparse.ArgumentTypeError(f"{text!r}: an ensemble is 'label: a, b'")
    return label.strip(), [m.strip() for m in members.split(',')]

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--recipe', action='append', required=True, type=recipe, help="'label: name=value ...'")
    ap.add_argument('--ensemble', action='append', default=[], type=ensemble, help="'label: a, b'")
    ap.add_argument('--real', default=REAL if REAL.is_dir() else None,
                    help='real recordings with their labels.csv (never trained or tuned on)')
    ap.add_argument('--never-heard', required=True, help='labelled test clips of a soundfont no recipe trained on')
    ap.add_argument('--heard', help='the rendered test clips of the training sounds')
    ap.add_argument('--seeds', default='42,43,44')
    ap.add_argument('--n-tune', type=int, default=300, help='mixtures of held-out songs that tune thresholds')
    ap.add_argument('--prefix', default='generalisation')
    ap.add_argument('--rerun', action='store_true')
    args = ap.parse_args()
    text_progress()
    recipes = dict(args.recipe + args.ensemble)
    if len(recipes) < len(args.recipe) + len(args.ensemble): ap.error('two recipes share a label')
    try: check_recipes(recipes)
    except ParameterError as e: ap.error(str(e))
    sets = {**({'real recordings': real_recordings(args.real)} if args.real else {}),
            'never heard': read_irmas_test(ROOT/args.never_heard),
            **({'heard': read_irmas_test(ROOT/args.heard)} if args.heard else {})}
    seeds = [int(s) for s in args.seeds.split(',')]
    results = measure_recipes(recipes, seeds, sets, args.prefix, args.n_tune, args.rerun, ROOT)
    print(f"\n{', '.join(f'{len(clips)} {where} clips' for where, clips in sets.items())}; seeds {args.seeds}\n")
    print(markdown_table(seed_table(results.drop(columns=per_instrument(results)))))
    if args.real:
        print('\nROC-AUC per instrument on the real recordings\n')
        print(markdown_table(seed_table(results[per_instrument(results, 'real recordings')])))

if __name__ == '__main__': main()
