"End-to-end: `irmas_download` and `download_irmas` against an HTTP server on loopback that serves small archives made here."
import shutil, socket, subprocess, sys
from pathlib import Path

import pytest
from irmas.data import read_irmas_train, read_irmas_test
from irmas.synth import render_dataset
from irmas.download import IRMAS_ARCHIVES, DownloadError, download_irmas, file_md5
from irmas.scratch import FolderServer

SCRIPT = Path(sys.executable).parent/'irmas_download'

@pytest.fixture(scope='module')
def archives(tmp_path_factory):
    "A folder holding a tiny training archive and a tiny test archive packed the way IRMAS packs its own, and their table"
    src = tmp_path_factory.mktemp('src')
    render_dataset(src, n_train=22, n_test=3, seed=5, n_workers=0)
    (src/'nest'/'IRMAS-TestingData-Part2').mkdir(parents=True)
    (src/'IRMAS-TestingData').rename(src/'nest'/'IRMAS-TestingData-Part2'/'IRTestingData-Part2')
    www = src/'www'
    shutil.make_archive(www/'train', 'zip', src, 'IRMAS-TrainingData')
    shutil.make_archive(www/'test2', 'zip', src/'nest')
    table = IRMAS_ARCHIVES.loc[['train', 'test2']].assign(archive=['train.zip', 'test2.zip'],
                                                          md5=[file_md5(www/'train.zip'), file_md5(www/'test2.zip')])
    return www, table

@pytest.fixture
def server(archives):
    with FolderServer(archives[0]) as httpd: yield httpd

def run(*args):
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=300)

def test_fetches_verifies_unpacks_and_a_second_run_fetches_nothing(archives, server, tmp_path):
    _, table = archives
    done = download_irmas(tmp_path, mirror=server.url, archives=table)
    assert done.status.tolist() == ['downloaded', 'downloaded']
    train, test = read_irmas_train(tmp_path), read_irmas_test(tmp_path)
    assert (len(train), len(test)) == (22, 3)
    assert all(f.startswith('IRMAS-TestingData/Part2/') for f in test.file)   # lifted out of IRTestingData-Part2/
    assert sorted(p.name for p in tmp_path.iterdir()) == ['IRMAS-TestingData', 'IRMAS-TrainingData']
    n = len(server.requests)
    assert download_irmas(tmp_path, mirror=server.url, archives=table).status.tolist() == ['present', 'present']
    assert len(server.requests) == n

def test_an_interrupted_transfer_resumes_where_it_stopped(archives, server, tmp_path):
    www, table = archives
    size = (www/'train.zip').stat().st_size
    server.cut['train.zip'] = size // 3
    with pytest.raises(DownloadError, match=r'train\.zip.*kept: run again to resume'):
        download_irmas(tmp_path, parts=['train'], mirror=server.url, archives=table)
    assert (tmp_path/'train.zip.part').stat().st_size == size // 3
    download_irmas(tmp_path, parts=['train'], mirror=server.url, archives=table, keep=True)
    assert server.requests[-1] == ('train.zip', f'bytes={size // 3}-')
    assert server.served == size                          # nothing was sent twice
    assert (tmp_path/'train.zip').read_bytes() == (www/'train.zip').read_bytes()
    assert len(read_irmas_train(tmp_path)) == 22

def test_a_server_that_ignores_the_range_gets_the_whole_file_written_anew(archives, server, tmp_path):
    www, table = archives
    (tmp_path/'train.zip.part').write_bytes((www/'train.zip').read_bytes()[:1000])
    server.ignore_range = True
    download_irmas(tmp_path, parts=['train'], mirror=server.url, archives=table)
    assert len(read_irmas_train(tmp_path)) == 22

def test_a_complete_part_file_is_taken_as_it_is(archives, server, tmp_path):
    www, table = archives
    shutil.copy(www/'test2.zip', tmp_path/'test2.zip.part')
    download_irmas(tmp_path, parts=['test2'], mirror=server.url, archives=table)
    assert server.served == 0 and len(read_irmas_test(tmp_path)) == 3

def test_a_truncated_archive_is_named_removed_and_unpacked_nowhere(archives, server, tmp_path):
    www, _ = archives
    (www/'IRMAS-TrainingData.zip').write_bytes((www/'train.zip').read_bytes()[:5000])   # served in full, but short
    r = run('--dest', tmp_path/'irmas', '--parts', 'train', '--mirror', server.url)
    assert r.returncode == 1
    assert 'IRMAS-TrainingData.zip: MD5' in r.stderr and 'does not match the published 4fd9f5ed5a18d8e2687e6360b5f60afe' in r.stderr
    assert 'corrupt file was removed' in r.stderr and 'Traceback' not in r.stderr
    assert sorted(p.name for p in (tmp_path/'irmas').iterdir()) == []

def test_a_missing_archive_and_an_unreachable_server_say_so(server, tmp_path):
    r = run('--dest', tmp_path, '--parts', 'test3', '--mirror', server.url)
    assert r.returncode == 1 and 'IRMAS-TestingData-Part3.zip: the server answered 404' in r.stderr
    (tmp_path/'IRMAS-TestingData-Part3.zip.part').write_bytes(b'x' * 100)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    r = run('--dest', tmp_path, '--parts', 'test3', '--mirror', f'http://127.0.0.1:{port}', '--timeout', 5)
    assert r.returncode == 1 and 'unreachable' in r.stderr
    assert 'IRMAS-TestingData-Part3.zip.part (100 bytes) is kept' in r.stderr
    assert (tmp_path/'IRMAS-TestingData-Part3.zip.part').stat().st_size == 100

def test_unknown_parts_are_refused(tmp_path):
    r = run('--dest', tmp_path, '--parts', 'train,test9')
    assert r.returncode == 1 and "unknown part(s) ['test9']; known parts: train, test1, test2, test3" in r.stderr
