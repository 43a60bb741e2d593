"End-to-end: `irmas_download`, `download_irmas` and `download_dataset` against an HTTP server on loopback that serves small archives made here."
import json, shutil, socket, subprocess, sys, tarfile
from pathlib import Path

import numpy as np, pytest, soundfile as sf
from irmas.data import read_irmas_train, read_irmas_test
from irmas.synth import render_dataset
from irmas.download import (DATASETS, IRMAS_ARCHIVES, DownloadError, dataset_notice, download_dataset,
                            download_irmas, file_md5)
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

def run(*args, cwd=None):
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd)

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

KEYS = ['000046_3840', '014572_72960']                               # OpenMIC sample keys: <track>_<start>
NOTES = ['bass_synthetic_033-022-050', 'mallet_acoustic_047-094-127']   # NSynth note_str: <instrument>-<pitch>-<velocity>

@pytest.fixture(scope='module')
def tarballs(tmp_path_factory):
    "Tiny tarballs shaped like OpenMIC-2018's and NSynth's test split's, served from one folder, and their tables"
    src = tmp_path_factory.mktemp('tar')
    omic = src/'openmic-2018'
    for i, key in enumerate(KEYS):
        (omic/'audio'/key[:3]).mkdir(parents=True, exist_ok=True)
        sf.write(omic/'audio'/key[:3]/f'{key}.ogg', np.full(22050, .1 * (i + 1)), 22050)
    (omic/'partitions').mkdir()
    (omic/'partitions'/'split01_train.csv').write_text(f'{KEYS[0]}\n')
    (omic/'partitions'/'split01_test.csv').write_text(f'{KEYS[1]}\n')
    (omic/'class-map.json').write_text(json.dumps({'accordion': 0, 'banjo': 1, 'bass': 2}))
    np.savez(omic/'openmic-2018.npz', X=np.arange(2 * 10 * 128, dtype=np.uint8).reshape(2, 10, 128),
             Y_true=np.array([[1., .5, 0.], [0., .25, 1.]]), Y_mask=np.array([[1, 0, 0], [0, 1, 1]], bool),
             sample_key=np.array(KEYS))
    synth = src/'nsynth-test'
    (synth/'audio').mkdir(parents=True)
    for note in NOTES: sf.write(synth/'audio'/f'{note}.wav', np.zeros(16000 * 4, np.int16), 16000)
    (synth/'examples.json').write_text(json.dumps({n: dict(note_str=n, pitch=int(n.split('-')[1]),
                                                         instrument_family_str=n.split('_')[0])
                                                   for n in NOTES}))
    www = src/'www'
    www.mkdir()
    for name, folder in [('openmic', omic), ('nsynth-test', synth)]:
        with tarfile.open(www/f'{name}.tgz', 'w:gz') as t: t.add(folder, folder.name)
    tables = {name: DATASETS[name].archives.assign(archive=f'{name}.tgz', md5=file_md5(www/f'{name}.tgz'))
              for name in ('openmic', 'nsynth-test')}
    return www, tables

@pytest.fixture
def tar_server(tarballs):
    with FolderServer(tarballs[0]) as httpd: yield httpd

def test_openmic_arrives_in_its_own_layout(tarballs, tar_server, tmp_path):
    _, tables = tarballs
    done = download_dataset('openmic', tmp_path, mirror=tar_server.url, archives=tables['openmic'])
    assert done.reset_index().values.tolist() == [['all', 'openmic-2018', 'downloaded']]
    root = tmp_path/'openmic-2018'
    with np.load(root/'openmic-2018.npz') as npz:
        assert npz['sample_key'].tolist() == KEYS and npz['X'].shape == (2, 10, 128)
        assert npz['Y_true'][1].tolist() == [0., .25, 1.] and npz['Y_mask'].sum() == 3
    assert json.loads((root/'class-map.json').read_text()) == {'accordion': 0, 'banjo': 1, 'bass': 2}
    assert (root/'partitions'/'split01_train.csv').read_text() == '000046_3840\n'
    clips = sorted(p.relative_to(root).as_posix() for p in root.rglob('*.ogg'))
    assert clips == ['audio/000/000046_3840.ogg', 'audio/014/014572_72960.ogg']
    assert sf.info(root/clips[1]).samplerate == 22050 and sf.info(root/clips[1]).frames == 22050
    assert sorted(p.name for p in tmp_path.iterdir()) == ['openmic-2018']     # the archive is gone
    assert (root/'.archive.md5').read_text() == tables['openmic'].md5['all']
    n = len(tar_server.requests)
    again = download_dataset('openmic', tmp_path, mirror=tar_server.url, archives=tables['openmic'])
    assert again.status.tolist() == ['present'] and len(tar_server.requests) == n

def test_nsynth_test_arrives_in_data_nsynth_test_by_default(tarballs, tar_server, tmp_path, monkeypatch):
    _, tables = tarballs
    monkeypatch.chdir(tmp_path)
    done = download_dataset('nsynth-test', mirror=tar_server.url, archives=tables['nsynth-test'], keep=True)
    assert done.status.tolist() == ['downloaded'] and tar_server.requests == [('nsynth-test.tgz', None)]
    root = tmp_path/'data'/'nsynth-test'
    assert sorted(p.name for p in root.iterdir()) == ['nsynth-test', 'nsynth-test.tgz']
    examples = json.loads((root/'nsynth-test'/'examples.json').read_text())
    assert {n: e['pitch'] for n, e in examples.items()} == {NOTES[0]: 22, NOTES[1]: 94}
    assert sorted(p.name for p in (root/'nsynth-test'/'audio').iterdir()) == [f'{n}.wav' for n in NOTES]
    info = sf.info(root/'nsynth-test'/'audio'/f'{NOTES[0]}.wav')
    assert (info.samplerate, info.frames) == (16000, 64000)

@pytest.mark.parametrize('name', ['openmic', 'nsynth-test'])
def test_a_wrong_checksum_names_the_archive_and_unpacks_nothing(tarballs, tar_server, tmp_path, name):
    www, tables = tarballs
    with pytest.raises(DownloadError) as e:
        download_dataset(name, tmp_path, mirror=tar_server.url, archives=tables[name].assign(md5='0' * 32))
    assert str(e.value).startswith(f'{tmp_path/name}.tgz: MD5 {file_md5(www/f"{name}.tgz")} '
                                   f'does not match the published {"0" * 32}')
    assert list(tmp_path.iterdir()) == []

def test_an_interrupted_openmic_transfer_resumes_where_it_stopped(tarballs, tar_server, tmp_path):
    www, tables = tarballs
    size = (www/'openmic.tgz').stat().st_size
    tar_server.cut['openmic.tgz'] = size // 2
    with pytest.raises(DownloadError, match=r'openmic\.tgz: the connection closed after .* kept: run again'):
        download_dataset('openmic', tmp_path, mirror=tar_server.url, archives=tables['openmic'])
    assert (tmp_path/'openmic.tgz.part').stat().st_size == size // 2
    done = download_dataset('openmic', tmp_path, mirror=tar_server.url, archives=tables['openmic'])
    assert done.status.tolist() == ['downloaded']
    assert tar_server.requests[-1] == ('openmic.tgz', f'bytes={size // 2}-') and tar_server.served == size
    with np.load(tmp_path/'openmic-2018'/'openmic-2018.npz') as npz: assert npz['sample_key'].tolist() == KEYS

def test_the_command_names_the_licence_before_fetching(tarballs, tar_server, tmp_path):
    www, _ = tarballs
    shutil.copy(www/'openmic.tgz', www/'openmic-2018-v1.0.0.tgz')   # the real name: the real MD5 cannot match
    r = run('--dataset', 'openmic', '--mirror', tar_server.url, cwd=tmp_path)
    assert r.returncode == 1 and 'Traceback' not in r.stderr
    assert r.stdout.splitlines()[0] == dataset_notice('openmic')
    assert r.stdout.splitlines()[0] == ('OpenMIC-2018: CC BY 4.0 (its clips come from the Free Music Archive, each '
                                        'under its own Creative Commons licence); from https://zenodo.org/record/'
                                        '1432913 (doi:10.5281/zenodo.1432913); cite Humphrey, Durand and McFee, '
                                        'ISMIR 2018')
    assert tar_server.requests == [('openmic-2018-v1.0.0.tgz', None)]
    assert (f'{Path("data")/"openmic"/"openmic-2018-v1.0.0.tgz"}: MD5 {file_md5(www/"openmic.tgz")} does not match '
            'the published e4ccf187e2bb5ab2e115416e8aafe7f4') in r.stderr
    assert list((tmp_path/'data'/'openmic').iterdir()) == []

def test_the_command_fetches_nsynth_test_and_names_its_parts(tarballs, tar_server, tmp_path):
    r = run('--dataset', 'nsynth-test', '--dest', tmp_path, '--parts', 'train', '--mirror', tar_server.url)
    assert r.returncode == 1 and "nsynth-test: unknown part(s) ['train']; known parts: test" in r.stderr
    assert r.stdout == dataset_notice('nsynth-test') + '\n' and tar_server.requests == []

def test_the_command_says_what_it_unpacked(tarballs, tar_server, tmp_path, monkeypatch, capsys):
    from dataclasses import replace
    from irmas.cli import irmas_download
    monkeypatch.setitem(DATASETS, 'nsynth-test', replace(DATASETS['nsynth-test'], archives=tarballs[1]['nsynth-test']))
    irmas_download(str(tmp_path), 'nsynth-test', mirror=tar_server.url)
    said = capsys.readouterr().out.splitlines()
    assert said[0] == dataset_notice('nsynth-test')
    assert said[-1] == f'{tmp_path}: 3 files in nsynth-test/'                 # examples.json and two notes
