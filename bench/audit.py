"""How many injected label errors the label audit finds: a share of a rendered training set's excerpts is
given another instrument's label (`irmas.audit.inject_label_errors`), the audit ranks the whole set, and the
table gives, for each seed of the injection, the share of the injected errors among the lowest-quality 5 %,
10 % and 20 %, the share cleanlab flags, how many excerpts it flags in all, how often the baseline's most
probable instrument is the true one, and how often the suggested labels are the true ones, with the
one-instrument suggestion (`irmas.audit.suggested_labels` on single-label data) beside cleanlab's labels turned
over. The baseline's features are computed once and shared by the seeds.

    python bench/audit.py --data data/synth-tonejs [--share 0.05] [--seeds 0,1,2]
"""
import argparse, time, warnings

import numpy as np, pandas as pd
from cleanlab.multilabel_classification.filter import find_multilabel_issues_per_class
from irmas.audit import (inject_label_errors, injected_found, label_issues, out_of_fold_probs,
                         suggested_labels)
from irmas.baseline import baseline_features
from irmas.data import INSTRUMENTS, read_irmas_train
from irmas.progress import text_progress
from irmas.recipes import markdown_table

def turned_over(noisy:pd.DataFrame, probs:pd.DataFrame) -> pd.Series:
    "cleanlab's per-instrument verdicts applied to `noisy`'s labels (the most probable if none is left)"
    given = noisy.set_index('file').loc[probs.index, INSTRUMENTS].values.astype(bool)
    labels = [list(np.flatnonzero(g)) for g in given]
    wrong = find_multilabel_issues_per_class(labels, probs.values)
    suggested = suggested_labels(given, probs.values, wrong, one=False)
    return pd.Series([' '.join(np.array(INSTRUMENTS)[s]) for s in suggested], index=probs.index)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', required=True, help='a rendered dataset (IRMAS training layout)')
    ap.add_argument('--share', type=float, default=0.05,
                    help='share of the excerpts given a wrong label')
    ap.add_argument('--seeds', default='0,1,2')
    args = ap.parse_args()
    text_progress()
    df = read_irmas_train(args.data)
    start = time.perf_counter()
    X, kept = baseline_features(df)
    measured = time.perf_counter() - start
    rows = {}
    for seed in map(int, args.seeds.split(',')):
        noisy = inject_label_errors(kept, args.share, seed)
        start = time.perf_counter()
        probs = out_of_fold_probs(noisy, features=(X, noisy))
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            issues = label_issues(noisy, probs)
        audited = time.perf_counter() - start
        wrong = noisy.file[noisy.injected]
        truth = kept.set_index('file').labels[wrong]
        one, over = issues.suggested[wrong] == truth, turned_over(noisy, probs)[wrong] == truth
        heard = probs.idxmax(axis=1) == kept.set_index('file').labels[probs.index]
        rows[f'seed {seed}'] = {**{f'found in the lowest {t:.0%}': injected_found(issues, noisy, t)
                                   for t in (0.05, 0.1, 0.2)},
                                'flagged by cleanlab': issues.flagged[wrong].mean(),
                                'excerpts flagged': issues.flagged.sum(),
                                'baseline names the true instrument': heard.mean(),
                                'suggestion right: one instrument': one.mean(),
                                'suggestion right: turned over': over.mean(),
                                'audit (s)': audited}
    table = pd.DataFrame(rows)
    spread = [f'{m:.3f} ± {s:.3f}' for m, s in zip(table.mean(axis=1), table.std(axis=1))]
    table = pd.concat([table.map('{:.3f}'.format), pd.Series(spread, table.index, name='mean ± sd')],
                      axis=1)
    counted = table.index == 'excerpts flagged'
    table.loc[counted] = [f'{rows[k]["excerpts flagged"]:d}' for k in rows] + [spread[counted.argmax()]]
    print(f"\n{len(kept)} excerpts of {args.data}, {args.share:.0%} given a wrong label; baseline "
          f"features {measured:.0f} s\n")
    print(markdown_table(table))

if __name__ == '__main__': main()
