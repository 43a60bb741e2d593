"""Feature throughput: log-mel spectrograms of 3 s clips, computed one clip at a time (the per-item path of a
Dataset's __getitem__, with librosa as the seed projects did and with torchaudio) against whole batches through
`irmas.spectrogram.LogMel`, all measured in the same run.

    python bench/features.py [--device cpu|cuda] [--n-clips 512] [--batch-size 64]

librosa comes with the `bench` extra (`pip install -e '.[bench]'`); without it that row is left out.
"""
import argparse, time

import torch, torchaudio
from irmas.spectrogram import LogMel

def clips_per_second(fn, batches, device, repeats:int=3) -> float:
    "Clips per second of `fn` over `batches`: the best of `repeats` passes, after one warm-up batch"
    fn(batches[0])
    best = float('inf')
    for _ in range(repeats):
        if device.type == 'cuda': torch.cuda.synchronize()
        start = time.perf_counter()
        for b in batches: fn(b)
        if device.type == 'cuda': torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return sum(len(b) for b in batches) / best

def per_item_paths(sr, device) -> dict:
    "The one-clip-at-a-time baselines: librosa (when installed, CPU only) and torchaudio"
    mel = torchaudio.transforms.MelSpectrogram(sr, n_fft=2048, hop_length=512, n_mels=128, f_min=20.).to(device)
    to_db = torchaudio.transforms.AmplitudeToDB(top_db=80.).to(device)
    paths = {}
    try:
        import librosa
        def librosa_item(b):
            for c in b.cpu().numpy():
                librosa.power_to_db(librosa.feature.melspectrogram(y=c, sr=sr, n_fft=2048, hop_length=512, n_mels=128, fmin=20.), top_db=80.)
        paths['per item, librosa (the seed projects)'] = librosa_item
    except ImportError: pass
    paths['per item, torchaudio'] = lambda b: [to_db(mel(c)) for c in b]
    return paths

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--n-clips', type=int, default=512)
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--sr', type=int, default=22050)
    a = p.parse_args()
    device = torch.device(a.device)
    clips = torch.randn(a.n_clips, 3 * a.sr, device=device) * 0.1
    batches = list(clips.split(a.batch_size))
    paths = {**per_item_paths(a.sr, device), f'batched, LogMel ({a.batch_size} clips a batch)': LogMel(a.sr).to(device)}
    with torch.inference_mode():
        rates = {label: clips_per_second(fn, batches, device) for label, fn in paths.items()}
    base = next(iter(rates.values()))
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else f'CPU, {torch.get_num_threads()} threads'
    print(f'log-mel (128 bins, 2048-point FFT, hop 512) of 3 s clips at {a.sr} Hz on {name}, {a.n_clips} clips')
    print('| path | clips/s | ratio to the first |\n| --- | ---: | ---: |')
    for label, rate in rates.items(): print(f'| {label} | {rate:,.0f} | {rate / base:.1f}x |')

if __name__ == '__main__': main()
