"""Training speed: samples per second in training and validation, and the time an epoch takes, for the training
notebook's learner with fp32 weights in contiguous memory (the baseline, measured in the same run) and the other modes
the device offers: channels-last weights on both, fp16 and bf16 mixed precision on a GPU; with the validation macro-F1 each mode reached,
so that a faster mode is seen not to learn worse.

    python bench/train.py [--data data/synth] [--device cpu|cuda] [--n-train N] [--epochs 2] [--bs 64] [--n-mels 128]

`--data` is a rendered or downloaded dataset (`irmas_synth --out data/synth` renders the default). Its songs are split
as the training notebook splits them, and `--n-train` samples the training part (default: all of it, as the `gpu` preset
trains). Every mode trains the same model from the same weights on the same batches for `--epochs` one-cycle epochs;
the figures are the last epoch's, since the first pays for warm-up. On the 2-core CPU, `--n-train 3000 --bs 32
--n-mels 64` (the `cpu` preset's sizes) takes about two minutes.
"""
import argparse, random, time
from pathlib import Path

import numpy as np, torch
from fastai.callback.core import Callback
from irmas.data import read_irmas_train, split_by_song
from irmas.learner import cnn_learner
from irmas.progress import text_progress

class PhaseTimer(Callback):
    "Wall time and samples of each training and validation phase, the device synchronised at both ends"
    order = 100
    def now(self) -> float:
        if self.dls.device.type == 'cuda': torch.cuda.synchronize()
        return time.perf_counter()
    def before_train(self): self.started, self.samples = self.now(), 0
    before_validate = before_train
    def after_batch(self): self.samples += len(self.yb[0])
    def after_train(self): self.train_phase = self.samples, self.now() - self.started
    def after_validate(self): self.valid_phase = self.samples, self.now() - self.started

PRECISIONS = dict(fp32=lambda learn: learn.to_fp32(), fp16=lambda learn: learn.to_fp32().to_fp16(), bf16=lambda learn: learn.to_fp32().to_bf16())
LAYOUTS = {'contiguous': torch.contiguous_format, 'channels last': torch.channels_last}   # of the weights, which activations follow
MODES = [('fp32', 'contiguous'), ('fp32', 'channels last'), ('fp16', 'channels last'), ('bf16', 'channels last'), ('fp16', 'contiguous')]
ROLES = {MODES[0]: 'baseline', ('fp32', 'channels last'): 'the CPU default', ('fp16', 'channels last'): 'the GPU default'}

def mode_name(precision:str, layout:str) -> str:
    "A table row's name: precision, weights' layout, and the mode's role if it has one"
    name = f"{precision}{' mixed precision' if precision != 'fp32' else ''}, {layout}"
    return name + (f' ({ROLES[precision, layout]})' if (precision, layout) in ROLES else '')

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', default='data/synth')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--n-train', type=int, default=None)
    p.add_argument('--epochs', type=int, default=2)
    p.add_argument('--bs', type=int, default=64)
    p.add_argument('--n-mels', type=int, default=128)
    p.add_argument('--arch', default='efficientnet_b0')
    p.add_argument('--lr', type=float, default=3e-3)
    a = p.parse_args()
    if not (Path(a.data)/'IRMAS-TrainingData').is_dir():
        raise SystemExit(f"{a.data}: no IRMAS-TrainingData folder; render one with `irmas_synth --out {a.data}`")
    device = torch.device(a.device)
    cuda = device.type == 'cuda'
    text_progress()
    df = read_irmas_train(a.data)
    df['is_valid'] = split_by_song(df, 0.2, 42)
    train_df, valid_df = df[~df.is_valid], df[df.is_valid]
    if a.n_train and a.n_train < len(train_df): train_df = train_df.sample(a.n_train, random_state=42)
    start = time.perf_counter()
    learn = cnn_learner(train_df, valid_df, a.arch, n_mels=a.n_mels, bs=a.bs, device=device)
    loading = time.perf_counter() - start
    learn.add_cb(timer := PhaseTimer())
    initial = {k: v.detach().cpu().clone() for k, v in learn.model.state_dict().items()}   # off the GPU: not in its peak memory
    rows = []
    usable = ('fp32', 'fp16', 'bf16') if cuda and torch.cuda.is_bf16_supported() else ('fp32', 'fp16') if cuda else ('fp32',)   # fastai autocasts CUDA only
    for precision, layout in [m for m in MODES if m[0] in usable]:
        PRECISIONS[precision](learn)
        learn.model.to(memory_format=LAYOUTS[layout])
        learn.model.load_state_dict(initial)
        learn.opt = None                                                    # a fresh optimiser for every mode
        torch.manual_seed(0); random.seed(0); np.random.seed(0)
        for dl in learn.dls.loaders: dl.rng = random.Random(0)              # fastai shuffles with a generator of its own
        if cuda: torch.cuda.reset_peak_memory_stats(device)
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.epochs, a.lr)
        (n_train, t_train), (n_valid, t_valid) = timer.train_phase, timer.valid_phase
        peak = f'{torch.cuda.max_memory_allocated(device) / 2**20:,.0f}' if cuda else ''
        f1 = learn.recorder.values[-1][learn.recorder.metric_names.index('macro_f1') - 1]   # the names start with 'epoch', the values don't
        rows.append((mode_name(precision, layout), n_train / t_train, n_valid / t_valid, t_train + t_valid, f1, peak))
    name = torch.cuda.get_device_name(device) if cuda else f'CPU, {torch.get_num_threads()} threads'
    print(f"{a.arch} over {a.n_mels} mel bins, batch {a.bs}, on {name}; {len(train_df)} training and {len(valid_df)} validation "
          f"excerpts of {a.data} (loaded and their statistics taken in {loading:.0f} s); epoch {a.epochs} of {a.epochs}")
    print('| mode | training samples/s | ratio | validation samples/s | epoch s | validation macro-F1 | peak GPU MiB |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    for mode, train_rate, valid_rate, epoch, f1, peak in rows:
        print(f"| {mode} | {train_rate:,.0f} | {train_rate / rows[0][1]:.2f} | {valid_rate:,.0f} | {epoch:.1f} | {f1:.3f} | {peak} |")

if __name__ == '__main__': main()
