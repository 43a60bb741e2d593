"""Whole-process prediction: `irmas_predict` as users run it, start-up and model loading included, in seconds of audio
per second of wall time, against `irmas.inference.predict_files` in a process that has already loaded everything,
on the same files in the same run; and how long `irmas_predict --help` takes.

    python bench/predict_cli.py [--model models/demo.json] [--audio DIR | --n-files 100 --seconds 10] [--device cpu|cuda]

`--audio` times a folder of real clips (`data/synth/IRMAS-TestingData`, say); without it the files are noise,
16-bit stereo at 44.1 kHz like IRMAS, written to a temporary folder and removed.
"""
import argparse, statistics, subprocess, sys, tempfile, time
from pathlib import Path

import soundfile as sf, torch
from inference import write_noise        # bench/inference.py, beside this file
from irmas.model_file import as_models
from irmas.inference import audio_files, predict_files

BIN = Path(sys.executable).parent

def wall(cmd:list) -> float:
    "Seconds that the command `cmd` takes, which must succeed"
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - start

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--model', default='models/demo.json')
    p.add_argument('--audio', default=None)
    p.add_argument('--n-files', type=int, default=100)
    p.add_argument('--seconds', type=float, default=10.)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    a = p.parse_args()
    if not Path(a.model).is_file(): raise SystemExit(f"{a.model}: no such model (`make demo` writes models/demo.json)")
    help_s = statistics.median(wall([str(BIN/'irmas_predict'), '--help']) for _ in range(5))
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        folder = Path(a.audio) if a.audio else d/'audio'
        if not a.audio:
            folder.mkdir()
            for i in range(a.n_files): write_noise(folder/f'clip{i:03d}.wav', a.seconds)
        files = audio_files(folder)
        audio = sum(sf.info(str(f)).duration for f in files)
        cmd = [str(BIN/'irmas_predict'), '--model', a.model, '--audio', str(folder), '--out', str(d/'out.csv'),
               '--device', a.device]
        whole = audio / min(wall(cmd) for _ in range(3))
        models = as_models(a.model)
        predict_files(models, files[:2], device=a.device)                      # warm-up
        start = time.perf_counter()
        predict_files(models, folder, device=a.device)                        # as the command reads it
        loaded = audio / (time.perf_counter() - start)
    name = torch.cuda.get_device_name() if a.device == 'cuda' else f'CPU, {torch.get_num_threads()} threads'
    what = a.audio or f"noise (16-bit stereo, 44.1 kHz)"
    print(f"{a.model} on {name}; {len(files)} files, {audio / 60:.1f} minutes of audio: {what}")
    print('| what | seconds of audio per second | ratio |')
    print('| --- | ---: | ---: |')
    print(f"| in-process `predict_files`, model loaded | {loaded:,.0f}x | 1.00 |")
    print(f"| whole process `irmas_predict` (best of 3) | {whole:,.0f}x | {whole / loaded:.2f} |")
    print(f"`irmas_predict --help`: {help_s:.2f} s (median of 5)")

if __name__ == '__main__': main()
