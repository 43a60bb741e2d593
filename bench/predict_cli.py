"""Whole-process prediction: where `irmas_predict`'s time goes, as users run it. For each model file (a PyTorch one,
its ONNX export) and each hop, over each folder: seconds of audio per second of wall time in a process that has
loaded everything (`predict_files`) and as a fresh `irmas_predict` process (start-up, imports and model loading
included, best of 3); then each model's start-up (a fresh process on one 1 s file) and its cost per file (a folder of
short clips against one file of the same length, in-process). Ratios are against the first model at the first hop.

    python bench/predict_cli.py --model models/demo.json --model models/demo-onnx.json [--hop 1.5 --hop 3] \\
        [--audio data/synth/IRMAS-TestingData]

The folder that is always timed holds `--n-files` clips of 5-12 s (16-bit stereo noise at 44.1 kHz, like IRMAS's),
written to a temporary folder and removed; `--audio` adds folders of real clips.
"""
import argparse, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np, soundfile as sf, torch
from inference import write_noise        # bench/inference.py, beside this file
from irmas.model_file import as_models
from irmas.inference import audio_files, predict_files

BIN = Path(sys.executable).parent

def wall(cmd:list) -> float:
    "Seconds that the command `cmd` takes, which must succeed"
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - start

def in_process(models, audio, hop, bs, device) -> float:
    "Seconds `predict_files` takes over `audio` (a folder or files) with `models` loaded"
    start = time.perf_counter()
    predict_files(models, audio, hop=hop, bs=bs, device=device, progress=False)
    return time.perf_counter() - start

def duration(folder) -> float:
    "Seconds of audio in the files of `folder`"
    return sum(sf.info(str(f)).duration for f in audio_files(folder))

def write_clips(folder:Path, n:int, low:float=5., high:float=12.) -> Path:
    "`n` noise clips of `low`-`high` seconds in `folder`"
    folder.mkdir()
    lengths = np.random.default_rng(0).uniform(low, high, n)
    for i, s in enumerate(lengths): write_noise(folder/f'clip{i:03d}.wav', s)
    return folder

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--model', action='append', help='model file(s), the first the baseline')
    p.add_argument('--hop', action='append', type=float, help='seconds (default: the models\' own)')
    p.add_argument('--audio', action='append', default=[], help='more folders of clips')
    p.add_argument('--bs', type=int, help='windows a batch (default: irmas_predict\'s)')
    p.add_argument('--n-files', type=int, default=240)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    a = p.parse_args()
    models, hops = a.model or ['models/demo.json'], a.hop or [None]
    for m in models:
        if not Path(m).is_file(): raise SystemExit(f"{m}: no such model (`make demo` writes models/demo.json)")
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        folders = {f'{a.n_files} clips of 5-12 s (noise)': write_clips(d/'clips', a.n_files), **{f: Path(f) for f in a.audio}}
        short = write_clips(d/'short', 1, 1., 1.)
        long = d/'long.wav'
        seconds = {name: duration(folder) for name, folder in folders.items()}
        clips = audio_files(folders[next(iter(folders))])
        write_noise(long, seconds[next(iter(folders))])
        rows, costs, base = [], [], {}
        for model in models:
            loaded = as_models(model)
            predict_files(loaded, clips[:2], device=a.device, progress=False)          # warm-up
            for hop in hops:
                for name, folder in folders.items():
                    audio = seconds[name]
                    cmd = [str(BIN/'irmas_predict'), '--model', model, '--audio', str(folder), '--out', str(d/'out.csv'),
                           '--device', a.device, *(['--hop', str(hop)] if hop else []), *(['--bs', str(a.bs)] if a.bs else [])]
                    inside, whole = audio / in_process(loaded, folder, hop, a.bs, a.device), audio / min(wall(cmd) for _ in range(3))
                    base.setdefault(name, (inside, whole))
                    rows.append(f"| {model} | {hop or 'its own'} | {name} | {audio / 60:.1f} min | {inside:,.0f}x "
                                f"| {inside / base[name][0]:.2f} | {whole:,.0f}x | {whole / base[name][1]:.2f} |")
            start = min(wall([str(BIN/'irmas_predict'), '--model', model, '--audio', str(short), '--out', str(d/'o.csv'),
                              '--device', a.device]) for _ in range(3))
            per_file = (in_process(loaded, clips, hops[0], a.bs, a.device)
                        - in_process(loaded, [long], hops[0], a.bs, a.device)) / (len(clips) - 1)
            costs.append(f"| {model} | {start:.2f} s | {per_file * 1e3:.1f} ms |")
    name = torch.cuda.get_device_name() if a.device == 'cuda' else f'CPU, {torch.get_num_threads()} threads'
    print(f"{name}; seconds of audio per second of wall time")
    print('| model | hop (s) | folder | audio | in-process | ratio | whole process (best of 3) | ratio |')
    print('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |')
    print('\n'.join(rows))
    print('\n| model | start-up: one 1 s file, a fresh process (best of 3) | cost per file, in-process |')
    print('| --- | ---: | ---: |')
    print('\n'.join(costs))

if __name__ == '__main__': main()
