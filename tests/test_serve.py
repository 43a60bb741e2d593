"End-to-end: `irmas_serve` started as users start it, answering a request over loopback."
import socket, subprocess, sys, time
from pathlib import Path

import httpx, pytest
from irmas.data import INSTRUMENTS, read_irmas_test

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def server(untrained):
    "`irmas_serve` on a free port, once it answers /health"
    out, model = untrained
    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent/'irmas_serve'), '--model', str(model), '--port', str(port), '--device', 'cpu'],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f'http://127.0.0.1:{port}'
    for _ in range(120):
        try:
            if httpx.get(f'{url}/health').status_code == 200: break
        except httpx.TransportError: time.sleep(0.5)
    else:
        proc.kill(); pytest.fail(f"irmas_serve did not answer: {proc.stdout.read()[-2000:]}")
    yield url, out
    proc.terminate(); proc.wait(timeout=30)

def test_predict_returns_the_competition_json(server):
    url, out = server
    clip = Path(read_irmas_test(out/'data').path[0])
    r = httpx.post(f'{url}/predict', files=[('files', (clip.name, clip.read_bytes(), 'audio/wav'))], timeout=120)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert list(answer) == [clip.stem] and list(answer[clip.stem]) == INSTRUMENTS
    assert (answer[clip.stem]['cel'], answer[clip.stem]['cla']) == (1, 0)      # the thresholds stored with the model

def test_openapi_docs_and_page(server):
    url, _ = server
    assert '/predict' in httpx.get(f'{url}/openapi.json').json()['paths']
    assert httpx.get(f'{url}/docs').status_code == 200
    assert 'Which instruments play?' in httpx.get(url).text
