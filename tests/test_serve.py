"End-to-end: `irmas_serve` started as users start it, answering over loopback, and its page used in headless Chromium."
import base64, json, os, shutil, socket, subprocess, sys, time, zipfile
from pathlib import Path

import httpx, pandas as pd, pytest, soundfile as sf, websocket
import irmas
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
                            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED='1'))
    url = f'http://127.0.0.1:{port}'
    for _ in range(120):
        try:
            if httpx.get(f'{url}/health').status_code == 200: break
        except httpx.TransportError: time.sleep(0.5)
    else:
        proc.kill(); pytest.fail(f"irmas_serve did not answer: {(out/'serve.log').read_text()[-2000:]}")
    yield url, out
    proc.terminate(); proc.wait(timeout=30); log.close()

def upload(path:Path, field:str='file') -> list:
    "The multipart files of a request carrying the audio file `path` in `field`"
    return [(field, (path.name, path.read_bytes(), 'audio/wav'))]

def floats(x) -> list:
    "Every float in the JSON value `x`"
    if isinstance(x, dict): return floats(list(x.values()))
    if isinstance(x, list): return [n for v in x for n in floats(v)]
    return [x] if isinstance(x, float) else []

def test_predict_returns_the_competition_json(server):
    "What `curl -F file=@clip.wav URL/predict` sends: the multipart field `file`"
    url, out = server
    clip = Path(read_irmas_test(out/'data').path[0])
    r = httpx.post(f'{url}/predict', files=upload(clip), timeout=120)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert list(answer) == [clip.stem] and list(answer[clip.stem]) == INSTRUMENTS
    assert (answer[clip.stem]['cel'], answer[clip.stem]['cla']) == (1, 0)      # the thresholds stored with the model
    assert httpx.post(f'{url}/predict', files=upload(clip, 'files'), timeout=120).json() == answer
    free = httpx.post(f'{url}/predict?probs=true&at_least_one=false', files=upload(clip), timeout=120).json()[clip.stem]
    assert {c: free[c] for c in INSTRUMENTS} == answer[clip.stem]                  # the cello reaches its threshold of 0 anyway
    assert free['top_probability'] == max(free['probabilities'].values())
    log = (out/'serve.log').read_text()
    assert 'POST /predict' in log and '%' not in log and 'arning' not in log, log[-2000:]   # requests, no bars or warnings

def test_every_number_is_rounded_to_4_places(server):
    url, out = server
    clip = Path(read_irmas_test(out/'data').path[0])
    replies = [httpx.post(f'{url}/predict?probs=true', files=upload(clip), timeout=120).json(),
               httpx.post(f'{url}/timeline', files=upload(clip), timeout=120).json(),
               httpx.get(f'{url}/thresholds').json(), httpx.get(f'{url}/models').json()]
    numbers = floats(replies)
    assert len(numbers) > 100 and [n for n in numbers if round(n, 4) != n] == []
    assert 0 < replies[1]['start'][1] < replies[1]['end'][0] < replies[1]['duration']  # windows overlap

def test_openapi_docs_and_page(server):
    url, _ = server
    schema = httpx.get(f'{url}/openapi.json').json()
    assert schema['info']['version'] == irmas.__version__        # the package's, not FastAPI's 0.1.0
    paths = schema['paths']
    for route in ('/predict', '/predict-directory'):
        documented = {p['name']: p for p in paths[route]['post']['parameters']}['at_least_one']
        assert documented['schema']['default'] is True and 'none of the eleven' in documented['description']
    assert httpx.get(f'{url}/docs').status_code == 200
    assert 'Which instruments play?' in httpx.get(url).text
    assert httpx.get(f'{url}/thresholds').json() == dict.fromkeys(INSTRUMENTS, 0.5) | dict(cel=0., cla=1.01)
    names = httpx.get(f'{url}/instruments').json()                  # what the page names its bars with
    assert list(names) == INSTRUMENTS and names == {c: INSTRUMENT_NAMES[c] for c in INSTRUMENTS}

def test_the_page_ships_in_the_wheel(tmp_path):
    "irmas/static/ is package data, not a module that nbdev exports: a wheel built from the project holds it, and LICENSE and NOTICE"
    pytest.importorskip('setuptools', minversion='77')     # what pyproject.toml builds with, offline
    root, src = Path(__file__).parents[1], tmp_path/'src'
    shutil.copytree(root/'irmas', src/'irmas', ignore=shutil.ignore_patterns('__pycache__'))
    for name in ('pyproject.toml', 'README.md', 'LICENSE', 'NOTICE'): shutil.copy(root/name, src/name)
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q',
                        '-w', str(tmp_path/'dist'), str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    shipped = zipfile.ZipFile(next((tmp_path/'dist').glob('*.whl'))).namelist()
    assert {'irmas/serve.py', 'irmas/static/index.html', 'irmas/static/favicon.svg'} <= set(shipped)
    licences = {Path(name).name for name in shipped if '.dist-info/licenses/' in name}
    assert licences == {'LICENSE', 'NOTICE'}                 # the licence and the terms of what irmas uses

class Chromium:
    "Headless Chromium driven over the DevTools protocol (what Selenium and Playwright do, without either)"
    def __init__(self, profile:Path, *flags:str):
        port = free_port()
        self.proc = subprocess.Popen([shutil.which('chromium'), '--headless=new', '--no-sandbox', '--disable-gpu', f'--remote-debugging-port={port}',
                                      f'--user-data-dir={profile}', '--window-size=1000,1400', *flags, 'about:blank'],
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
    def screenshot(self, path:Path):
        "Write the whole page, as far as it scrolls, to the PNG file `path`"
        m = self('Page.getLayoutMetrics')['cssContentSize']
        whole = dict(x=0, y=0, width=m['width'], height=m['height'], scale=1)
        shot = self('Page.captureScreenshot', captureBeyondViewport=True, clip=whole)
        path.write_bytes(base64.b64decode(shot['data']))

needs_chromium = pytest.mark.skipif(shutil.which('chromium') is None, reason="no chromium: `apt-get install "
                                    "chromium` (the CI setup does) to test the page in a browser")

@needs_chromium
def test_docs_render_without_a_network(server, tmp_path):
    "/docs in a browser that reaches no host but the server's: Swagger UI draws every route, nothing from a CDN"
    url, out = server
    paths = httpx.get(f'{url}/openapi.json').json()['paths']
    offline = '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'     # every name fails to resolve
    browser = Chromium(tmp_path/'profile', offline)
    try:
        browser('Page.navigate', url=f'{url}/docs')
        drawn = browser.wait_for("document.querySelectorAll('.opblock').length", 60)
        title = browser.js("document.querySelector('.info .title').textContent")
        loaded = browser.js("performance.getEntriesByType('resource').map(e => e.name)")
        icon = browser.js("document.querySelector('link[rel~=icon]').href")
        browser.screenshot(out/'docs.png')
    finally: browser.close()
    assert drawn == sum(len(methods) for methods in paths.values()) == 8    # every route, drawn
    assert title.startswith('irmas') and irmas.__version__ in title         # name and package version
    assert {f'{url}/static-offline-docs/swagger-ui-bundle.js', f'{url}/openapi.json'} <= set(loaded)
    assert [u for u in loaded if not u.startswith(f'{url}/')] == [] and icon == f'{url}/favicon.svg'

@needs_chromium
def test_page_shows_predictions_for_an_uploaded_file(server, tmp_path):
    "Three files in one go: a clip, the same clip as FLAC under the same stem, and a file that is not audio, named with HTML"
    url, out = server
    clip = Path(read_irmas_test(out/'data').path[0])
    flac = tmp_path/f'{clip.stem}.flac'
    wav, sr = sf.read(clip)
    sf.write(flac, wav, sr)
    broken = tmp_path/'<img src=x onerror=alert(1)> notes & co.wav'
    broken.write_text('not audio')
    expected = httpx.post(f'{url}/predict?probs=true', files=upload(clip), timeout=120).json()[clip.stem]
    logged = len((out/'serve.log').read_text())                             # what the page asks for is logged after this
    browser = Chromium(tmp_path/'profile')
    downloads = tmp_path/'downloads'
    try:
        browser('Browser.setDownloadBehavior', behavior='allow', downloadPath=str(downloads))
        browser('Page.navigate', url=url)
        browser.wait_for("document.readyState === 'complete' && !!document.getElementById('pick')")
        ticked = browser.js("document.getElementById('at-least-one').checked")
        node = browser('DOM.querySelector', nodeId=browser('DOM.getDocument')['root']['nodeId'], selector='#pick')['nodeId']
        browser('DOM.setFileInputFiles', nodeId=node, files=[str(clip), str(flac), str(broken)])
        browser.wait_for("document.querySelectorAll('svg.timeline').length === 2 && !document.querySelector('.status')", 240)
        headings = browser.js("[...document.querySelectorAll('.file h2')].map(h => h.textContent)")
        named = browser.js("[...document.querySelectorAll('.named-list strong')].map(e => e.textContent)")
        rows = browser.js("""[...document.querySelector('.file table.bars').querySelectorAll('tbody tr')]
                             .map(r => [r.dataset.code, r.className, r.querySelector('.threshold').textContent])""")
        windows = browser.js("document.querySelector('svg.timeline').querySelectorAll('rect.window').length")
        spectrogram = browser.js("document.querySelector('svg.timeline image.spectrogram').getAttribute('href').length")
        audio = browser('Runtime.evaluate', awaitPromise=True, returnByValue=True, expression="""
            Promise.all([...document.querySelectorAll('audio')].map(a => fetch(a.src).then(r => r.arrayBuffer())
                .then(b => [a.src.slice(0, 5), b.byteLength])))""")['result']['value']
        playhead = browser.js("document.querySelectorAll('svg.timeline line.playhead').length")
        errors = browser.js("[...document.querySelectorAll('.file .error')].map(e => e.textContent)")
        injected = browser.js("document.querySelectorAll('#results img').length")
        browser.js("document.getElementById('download-csv').click(); document.getElementById('download-json').click()")
        for _ in range(120):
            if {p.name for p in downloads.glob('*')} >= {'irmas-predictions.csv', 'irmas-predictions.json'}: break
            time.sleep(0.25)
        browser.js("document.getElementById('at-least-one').click()")      # unticked: the files are asked about again
        browser.wait_for("document.querySelectorAll('svg.timeline').length === 2 && !document.querySelector('.status')", 240)
        again = browser.js("[...document.querySelectorAll('.named-list strong')].map(e => e.textContent)")
        none = browser.js("""prediction(Object.assign(Object.fromEntries(Object.keys(NAMES).map(c => [c, 0])),
            {probabilities: Object.fromEntries(Object.keys(NAMES).map(c => [c, 0.1])), top_probability: 0.1})).map(n => n.textContent)""")
        browser.screenshot(out/'page.png')
    finally: browser.close()
    assert headings == [clip.name, flac.name, broken.name]                  # keyed by full name: the stems collide
    assert 'cello' in named[0].split(', ') and 'clarinet' not in named[0]    # the stored thresholds, read off the page
    assert len(rows) == len(INSTRUMENTS)
    assert dict((code, threshold) for code, _, threshold in rows)['cla'].startswith('1.01')    # thresholds shown
    assert dict((code, cls) for code, cls, _ in rows) == {c: 'named' if expected[c] else 'off' for c in INSTRUMENTS}
    probs = [expected['probabilities'][code] for code, _, _ in rows]
    assert probs == sorted(probs, reverse=True)                             # bars sorted by probability
    assert windows >= 3 * len(INSTRUMENTS) and windows % len(INSTRUMENTS) == 0 and spectrogram > 1000
    assert audio == [['blob:', clip.stat().st_size], ['blob:', flac.stat().st_size]] and playhead == 2
    assert len(errors) == 1 and errors[0].startswith(f'{broken.name}: cannot be read as audio')
    assert '/' not in errors[0] and '0000' not in errors[0]                 # no path, not the server's name for it
    assert injected == 0                                                    # names shown as text, never parsed as HTML
    table = pd.read_csv(downloads/'irmas-predictions.csv', index_col='file')
    assert list(table.index) == [clip.name, flac.name]
    assert list(table.columns) == INSTRUMENTS + [f'{c}_probability' for c in INSTRUMENTS] + ['top_probability']
    assert table.loc[clip.name, 'top_probability'] == expected['top_probability'] == max(expected['probabilities'].values())
    assert table.loc[clip.name, INSTRUMENTS].tolist() == [expected[c] for c in INSTRUMENTS]
    assert table.loc[clip.name, [f'{c}_probability' for c in INSTRUMENTS]].tolist() == [expected['probabilities'][c] for c in INSTRUMENTS]
    as_json = json.loads((downloads/'irmas-predictions.json').read_text())
    assert list(as_json) == [clip.name, flac.name] and as_json[clip.name] == expected
    log = (out/'serve.log').read_text()[logged:]
    assert ticked and log.count('/predict?probs=true&at_least_one=true') == 3           # the box, ticked by default, sent with each file
    assert log.count('/predict?probs=true&at_least_one=false') == 3 and again == named  # unticked: asked again (the cello is named anyway)
    assert none[:2] == ['Named: none of the eleven', 'No instrument reached its threshold (the highest probability is 0.100): the file may hold none of the eleven.']
