"End-to-end: `irmas_serve` started as users start it, answering over loopback, and its page used in headless Chromium."
import base64, json, shutil, socket, subprocess, sys, time, zipfile
from pathlib import Path

import httpx, pytest, websocket
from irmas.data import INSTRUMENTS, INSTRUMENT_NAMES, read_irmas_test

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def server(untrained):
    "`irmas_serve` on a free port, once it answers /health"
    out, model = untrained
    port = free_port()
    log = open(out/'serve.log', 'w')
    proc = subprocess.Popen([str(Path(sys.executable).parent/'irmas_serve'), '--model', str(model), '--port', str(port), '--device', 'cpu'],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}'
    for _ in range(120):
        try:
            if httpx.get(f'{url}/health').status_code == 200: break
        except httpx.TransportError: time.sleep(0.5)
    else:
        proc.kill(); pytest.fail(f"irmas_serve did not answer: {(out/'serve.log').read_text()[-2000:]}")
    yield url, out
    proc.terminate(); proc.wait(timeout=30); log.close()

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
    names = httpx.get(f'{url}/instruments').json()                  # what the page names its bars with
    assert list(names) == INSTRUMENTS and names == {c: INSTRUMENT_NAMES[c] for c in INSTRUMENTS}

def test_the_page_ships_in_the_wheel(tmp_path):
    "irmas/static/ is package data, not a module that nbdev exports: a wheel built from the project holds it"
    pytest.importorskip('setuptools', minversion='77')     # what pyproject.toml builds with, offline
    root, src = Path(__file__).parents[1], tmp_path/'src'
    shutil.copytree(root/'irmas', src/'irmas', ignore=shutil.ignore_patterns('__pycache__'))
    for name in ('pyproject.toml', 'README.md'): shutil.copy(root/name, src/name)
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q',
                        '-w', str(tmp_path/'dist'), str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    shipped = zipfile.ZipFile(next((tmp_path/'dist').glob('*.whl'))).namelist()
    assert {'irmas/serve.py', 'irmas/static/index.html'} <= set(shipped)

class Chromium:
    "Headless Chromium driven over the DevTools protocol (what Selenium and Playwright do, without either)"
    def __init__(self, profile:Path):
        port = free_port()
        self.proc = subprocess.Popen([shutil.which('chromium'), '--headless=new', '--no-sandbox', '--disable-gpu', f'--remote-debugging-port={port}',
                                      f'--user-data-dir={profile}', '--window-size=1000,1400', 'about:blank'],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(60):
            try: pages = [t for t in httpx.get(f'http://127.0.0.1:{port}/json').json() if t['type'] == 'page']; break
            except httpx.TransportError: time.sleep(0.5)
        self.ws, self.n = websocket.create_connection(pages[0]['webSocketDebuggerUrl'], timeout=60, suppress_origin=True), 0
    def __call__(self, method:str, **params) -> dict:
        "Send one DevTools command; its result"
        self.n += 1
        self.ws.send(json.dumps(dict(id=self.n, method=method, params=params)))
        while (reply := json.loads(self.ws.recv())).get('id') != self.n: pass
        if 'error' in reply: raise RuntimeError(reply['error'])
        return reply['result']
    def js(self, expression:str):
        return self('Runtime.evaluate', expression=expression, returnByValue=True)['result'].get('value')
    def wait_for(self, expression:str, seconds:float=120):
        "The value of `expression` once it is truthy"
        for _ in range(int(seconds * 4)):
            if value := self.js(expression): return value
            time.sleep(0.25)
        raise TimeoutError(f"{expression} stayed false for {seconds} s")
    def close(self): self.ws.close(); self.proc.terminate(); self.proc.wait(timeout=30)

@pytest.mark.skipif(shutil.which('chromium') is None, reason="no chromium: `apt-get install chromium` (the CI setup does) to test the page in a browser")
def test_page_shows_predictions_for_an_uploaded_file(server, tmp_path):
    url, out = server
    clip = Path(read_irmas_test(out/'data').path[0])
    browser = Chromium(tmp_path/'profile')
    try:
        browser('Page.navigate', url=url)
        browser.wait_for("document.readyState === 'complete' && !!document.getElementById('pick')")
        node = browser('DOM.querySelector', nodeId=browser('DOM.getDocument')['root']['nodeId'], selector='#pick')['nodeId']
        browser('DOM.setFileInputFiles', nodeId=node, files=[str(clip)])
        named = browser.wait_for("document.querySelector('.named') && document.querySelector('.named').innerText")
        heading = browser.js("document.querySelector('.file h3').innerText")
        bars = browser.js("document.querySelectorAll('.bar').length")
        windows = browser.wait_for("document.querySelectorAll('svg.timeline rect').length")
        spectrogram = browser.wait_for("document.querySelector('img.spectrogram') && document.querySelector('img.spectrogram').naturalWidth")
        (out/'page.png').write_bytes(base64.b64decode(browser('Page.captureScreenshot')['data']))
    finally: browser.close()
    assert heading == clip.name and bars == len(INSTRUMENTS)
    assert windows % len(INSTRUMENTS) == 0 and windows >= 3 * len(INSTRUMENTS) and spectrogram > 100   # a bar per window and instrument
    assert 'cello' in named and 'clarinet' not in named                    # the stored thresholds, read off the page
