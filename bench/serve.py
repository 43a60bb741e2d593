"""Prediction service under load: requests per second and latency percentiles of `POST /predict` with one 20 s clip
(16-bit stereo, 44.1 kHz, as IRMAS ships them) in the multipart field `file` (as `curl -F file=@clip.wav` sends it),
from clients on loopback one at a time and several at once, and of what the page asks for each file it is given
(`/predict?probs=true`, then `/timeline`), against the same prediction in-process (`predict_files`, no HTTP)
measured in the same run.

    python bench/serve.py [--model models/demo.json] [--requests 40] [--clients 1 4] [--device cpu|cuda]

The count of requests bounds the run, and every request has a 120 s timeout.
"""
import argparse, socket, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx, numpy as np, torch
sys.path.insert(0, str(Path(__file__).parent))
from inference import write_noise
from irmas.inference import predict_files
from irmas.model_file import as_models

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def timed(fn, n:int, clients:int=1) -> tuple:
    "Calls per second of `fn` run `n` times by `clients` threads, and the seconds each call took"
    def one(_):
        start = time.perf_counter(); fn(); return time.perf_counter() - start
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool: seconds = list(pool.map(one, range(n)))
    return n / (time.perf_counter() - start), np.array(seconds)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--model', default='models/demo.json')
    p.add_argument('--requests', type=int, default=40)
    p.add_argument('--clients', type=int, nargs='+', default=[1, 4])
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    a = p.parse_args()
    if not Path(a.model).is_file(): raise SystemExit(f"{a.model}: no such model (`make demo` writes models/demo.json)")
    rows = {}
    with tempfile.TemporaryDirectory() as d:
        clip = Path(d)/'clip.wav'
        write_noise(clip, 20)
        models = as_models(a.model)
        predict_files(models, [clip], device=a.device)                       # warm-up
        rows['in-process predict_files, 1 caller'] = timed(lambda: predict_files(models, [clip], device=a.device), a.requests)
        port = free_port()
        server = subprocess.Popen([str(Path(sys.executable).parent/'irmas_serve'), '--model', a.model, '--port', str(port), '--device', a.device],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f'http://127.0.0.1:{port}'
        try:
            for _ in range(240):
                try: httpx.get(f'{url}/health'); break
                except httpx.TransportError: time.sleep(0.5)
            body = clip.read_bytes()
            def post(route:str='/predict'):
                upload = [('file', ('clip.wav', body, 'audio/wav'))]
                return httpx.post(f'{url}{route}', files=upload, timeout=120).raise_for_status()
            def page():
                "What the page sends for one file"
                post('/predict?probs=true'); post('/timeline')
            post(); page()                                                   # warm-up
            for clients in a.clients: rows[f'POST /predict, {clients} client(s)'] = timed(post, a.requests, clients)
            rows["the page's two requests for a file, 1 client"] = timed(page, a.requests)
        finally: server.terminate(); server.wait(timeout=30)
    name = torch.cuda.get_device_name() if a.device == 'cuda' else f'CPU, {torch.get_num_threads()} threads'
    print(f"{a.model} on {name}; {a.requests} requests of one 20 s clip each")
    print('| path | requests/s | ratio | p50 ms | p90 ms | p99 ms |\n| --- | ---: | ---: | ---: | ---: | ---: |')
    base = next(iter(rows.values()))[0]
    for label, (rate, seconds) in rows.items():
        p50, p90, p99 = np.percentile(seconds * 1000, [50, 90, 99])
        print(f'| {label} | {rate:.1f} | {rate / base:.2f} | {p50:.0f} | {p90:.0f} | {p99:.0f} |')

if __name__ == '__main__': main()
