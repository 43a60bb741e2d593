"""Inference speed and memory: seconds of audio per second of wall time over a folder of 20 s files, and the peak
memory of one 5-minute against one 60-minute file; `irmas.inference.predict_files` (windows read batch by batch, batches
filled across files) against the path it replaced (each file decoded whole, then its windows), measured in the same run.

    python bench/inference.py [--model models/demo.json] [--device cpu|cuda] [--n-files 40] [--hop 1.5]

Without `--model` (or when the file is absent) it times an untrained model of the demo's shape (efficientnet_b0 over
64 mel bins at 22.05 kHz): the time does not depend on the weights. Test files are noise, 16-bit stereo at 44.1 kHz,
like IRMAS; they are written to a temporary folder and removed.
"""
import argparse, resource, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np, soundfile as sf, torch
from irmas.data import load_audio
from irmas.inference import predict_files, window_probabilities
from irmas.model_file import as_models
from irmas.models import AudioClassifier, make_features, timm_backbone
from irmas.progress import text_progress
from irmas.spectrogram import windows

def bench_model(path) -> list:
    "The model at `path` if there is one, else an untrained model of the demo's shape"
    if path and Path(path).is_file(): return as_models(path)
    stats = dict(mean=torch.zeros(64), std=torch.ones(64))
    return [(AudioClassifier(make_features('logmel', 22050, 64), stats, timm_backbone('efficientnet_b0'), augment=False),
             dict(sr=22050, seconds=3.))]

def whole_files(models, paths, hop, device):
    "The path `predict_files` replaced: each file decoded whole and resampled, its windows in one go, one file at a time"
    (model, settings), = models
    sr, win = settings['sr'], settings['seconds']
    for p in paths:
        chunks = windows(load_audio(p, sr=sr)[0], round(win * sr), round(hop * sr))
        window_probabilities(model, [(c, torch.zeros(len(c), dtype=torch.long)) for c in chunks.split(64)], 1, device=device)

PATHS = dict(streamed=lambda models, paths, hop, device: predict_files(models, paths, hop=hop, device=device), whole=whole_files)

def write_noise(path, seconds:float, sr:int=44100):
    "`seconds` of 16-bit stereo noise at `sr`, written in one-minute blocks"
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, 'w', sr, 2, 'PCM_16') as f:
        for start in range(0, int(seconds * sr), 60 * sr):
            f.write(rng.uniform(-0.3, 0.3, (min(60 * sr, int(seconds * sr) - start), 2)).astype(np.float32))

def peak_memory(args, path_kind:str, audio:Path) -> float:
    "Peak resident memory (MiB) of a fresh process that loads the model and predicts `audio` by `path_kind`"
    cmd = [sys.executable, __file__, '--peak-of', str(audio), '--path', path_kind, '--device', args.device, '--hop', str(args.hop)]
    if args.model: cmd += ['--model', args.model]
    return float(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()[-1])

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--model', default=None)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--n-files', type=int, default=40)
    p.add_argument('--hop', type=float, default=1.5)
    p.add_argument('--peak-of', default=None, help=argparse.SUPPRESS)   # the child process of peak_memory
    p.add_argument('--path', default='streamed', help=argparse.SUPPRESS)
    a = p.parse_args()
    text_progress()                          # a line per bar, not a redrawn one, when the table goes to a file
    models, device = bench_model(a.model), torch.device(a.device)
    if a.peak_of:
        PATHS[a.path](models, [a.peak_of], a.hop, device)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024); return
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        clips = [d/f'clip{i:03d}.wav' for i in range(a.n_files)]
        for c in clips: write_noise(c, 20)
        speed = {}
        for kind, run in PATHS.items():
            run(models, clips[:2], a.hop, device)                     # warm-up
            start = time.perf_counter()
            run(models, clips, a.hop, device)
            speed[kind] = 20 * len(clips) / (time.perf_counter() - start)
        write_noise(d/'5min.wav', 300); write_noise(d/'60min.wav', 3600)
        memory = {kind: [peak_memory(a, kind, d/f) for f in ('5min.wav', '60min.wav')] for kind in PATHS}
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else f'CPU, {torch.get_num_threads()} threads'
    decoded = 3600 * 44100 * 2 * 4 / 2**20
    print(f"{a.model if a.model and Path(a.model).is_file() else 'untrained efficientnet_b0, 64 mel bins'} on {name}; "
          f"3 s windows {a.hop} s apart; {a.n_files} files of 20 s (16-bit stereo, 44.1 kHz)")
    print('| path | seconds of audio per second | ratio | peak MiB, 5 min file | peak MiB, 60 min file | growth |')
    print('| --- | ---: | ---: | ---: | ---: | ---: |')
    for kind in ('whole', 'streamed'):
        (five, sixty), label = memory[kind], dict(whole='each file decoded whole (before)', streamed='predict_files (streamed)')[kind]
        print(f"| {label} | {speed[kind]:,.0f}x | {speed[kind] / speed['whole']:.2f} | {five:,.0f} | {sixty:,.0f} | {sixty - five:+,.0f} |")
    print(f"(the 60-minute file decodes to {decoded:,.0f} MiB as float32 stereo)")

if __name__ == '__main__': main()
