"""Rendered audio matches its labels: each rendered excerpt is taken apart into the parts the synthesiser played, and
every instrument its labels name must be among them, audibly, played by a sound that the soundfont itself calls that
instrument (its preset names, not irmas.synth's tables, are the judge)."""
import re

import numpy as np, pandas as pd, pytest, tinysoundfont
from scipy.signal import correlate
import irmas.synth as synth
from irmas.sounds import default_soundfont, render_midi
from irmas.synth import plan_dataset, render_excerpt

SR = 22050
CALLED = dict(cel=r'cello', cla=r'clarinet', flu=r'piccolo|flute|recorder', gac=r'nylon guitar|steel guitar',   # by the soundfont's preset names
              gel=r'jazz guitar|clean guitar|guitar mutes|overdrive guitar|distortion ?guitar', org=r'(organ \d|church organ|reed organ)',
              pia=r'(piano \d|honky tonk)', sax=r'(sop|alto|tenor |bari)sax', tru=r'(solo ?|mute )trumpet', vio=r'violin|fiddle',
              voi=r'choir aahs|voice oohs|synth vox|solo vox')
# every class, seen and unseen sounds, with expression, one to four instruments; 3 s each, to keep it quick
SPECS = pd.concat([plan_dataset(33, 8, seed=11), plan_dataset(0, 4, seed=12, timbres='unseen'),
                   plan_dataset(0, 4, seed=13, expression=True)]).assign(duration=3.).to_dict('records')

@pytest.fixture(scope='module')
def instruments_called():
    "The instruments named at the start of the default soundfont's name for a General MIDI program"
    font = tinysoundfont.Synth()
    bank = font.sfload(str(default_soundfont()))
    return lambda program: {c for c, names in CALLED.items() if re.match(names, font.sfpreset_name(bank, 0, program).lower())}

def test_the_judge_knows_every_sound_the_dataset_plays(instruments_called):
    assert {p: instruments_called(p) for p in synth.GM_PROGRAMS} == {p: {c} for p, (c, *_) in synth.GM_PROGRAMS.items()}

def taken_apart(excerpt:np.ndarray, parts:list) -> tuple:
    "`(residual, shares)`: `excerpt` as a weighted sum of slices of `parts` by least squares, at the lag that fits best; each part's share of its energy"
    n, total = len(excerpt), sum(parts)
    near = int(np.argmax(sum(correlate(total[:, c], excerpt[:, c], mode='valid', method='fft') for c in range(2))))
    fits = []
    for lag in range(max(0, near - 2), min(len(total) - n, near + 2) + 1):    # the correlation's peak can miss by a sample
        A = np.stack([p[lag:lag + n].ravel() for p in parts], 1)
        weights = np.linalg.lstsq(A, excerpt.ravel(), rcond=None)[0]
        fits.append((np.linalg.norm(A @ weights - excerpt.ravel()) / np.linalg.norm(excerpt), A * weights))
    residual, weighted = min(fits, key=lambda fit: fit[0])
    return residual, (weighted ** 2).sum(0) / np.square(excerpt).sum()

@pytest.mark.parametrize('spec', SPECS, ids=[f"{s['timbres']}{'-expression' if s['expression'] else ''}-{s['file']}" for s in SPECS])
def test_each_labelled_instrument_plays_audibly(spec, monkeypatch, instruments_called):
    played = []
    def recorded(pm, *args, **kwargs):
        audio = render_midi(pm, *args, **kwargs)
        played.append((pm.instruments[0].program, pm.instruments[0].is_drum, audio))
        return audio
    monkeypatch.setattr(synth, 'render_midi', recorded)
    residual, shares = taken_apart(render_excerpt(spec, SR), [audio for *_, audio in played])
    assert residual < 1e-3                                              # the excerpt is these parts, mixed
    parts = [(program, sorted(instruments_called(program)), round(float(share), 3)) for (program, drums, _), share in zip(played, shares) if not drums]
    heard = {c for _, called, share in parts if share > 0.04 for c in called}                   # -14 dB of the whole or louder
    assert set(spec['labels'].split()) <= heard, f"{spec['file']} is labelled {spec['labels']}; its parts (program, instrument, share of the energy): {parts}"
