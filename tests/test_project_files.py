"What an open project carries: its licence, the terms of what it uses, how to cite it, its changes."
import re
from pathlib import Path

import yaml
import irmas
from irmas.sounds import SAMPLE_TERMS, SOUNDFONT_TERMS, SOUNDFONTS, TONEJS
from irmas.download import DATASETS

ROOT = Path(__file__).parents[1]

def text(name:str) -> str:
    "The project file `name`, its runs of white space as single spaces (NOTICE wraps its lines)"
    return re.sub(r'\s+', ' ', (ROOT/name).read_text(encoding='utf-8')).strip()

def test_the_licence_is_apache_2():
    licence = text('LICENSE')
    assert licence.startswith('Apache License Version 2.0, January 2004')
    assert 'END OF TERMS AND CONDITIONS' in licence and 'APPENDIX' in licence        # the full text
    assert re.search(r'^license = "Apache-2.0"$', (ROOT/'pyproject.toml').read_text(), re.M)

def test_the_notice_names_every_sound_and_its_terms():
    notice = text('NOTICE')
    for name in {*SOUNDFONTS, *SOUNDFONT_TERMS}: assert name.lower() in notice.lower(), name
    for source in SAMPLE_TERMS: assert source.removeprefix('npm:') in notice, source
    for package in TONEJS: assert package in notice, package                   # credited by name
    assert '"Only for personal use. Not commercial."' in notice and 'CC BY-NC-SA 3.0' in notice
    assert 'CC BY 3.0' in SAMPLE_TERMS['npm:tonejs-instrument-']
    assert 'Creative Commons Attribution 3.0' in notice
    assert 'Only for personal use. Not commercial.' in SOUNDFONT_TERMS['merlin']
    assert 'real-recordings' in notice and 'not distributed' in notice

def test_the_notice_names_every_dataset_irmas_downloads_and_its_licence():
    notice = text('NOTICE')
    for name, d in DATASETS.items():
        start = notice.index('IRMAS (make data' if name == 'irmas' else f'(irmas_download --dataset {name})')
        section = notice[start:start + 900]                                         # its own paragraph
        assert d.citation.split()[0].rstrip(',') in section, name                   # whom to cite
        assert d.licence.split(' (')[0] in section, name                             # its licence

def test_the_citation_is_cff_of_this_version_citing_irmas():
    cff = yaml.safe_load((ROOT/'CITATION.cff').read_text(encoding='utf-8'))
    assert cff['cff-version'] == '1.2.0' and {'message', 'title', 'authors'} <= set(cff)
    assert cff['version'] == irmas.__version__ and cff['license'] == 'Apache-2.0'
    paper, = [r for r in cff['references'] if r['type'] == 'conference-paper']
    authors = [a['family-names'] for a in paper['authors']]
    assert authors == ['Bosch', 'Janer', 'Fuhrmann', 'Herrera'] and paper['year'] == 2012
    assert paper['title'].startswith('A Comparison of Sound Segregation Techniques')

def test_the_changelog_keeps_a_changelog():
    changelog = (ROOT/'CHANGELOG.md').read_text(encoding='utf-8')
    assert changelog.startswith('# Changelog') and '## [Unreleased]' in changelog
    assert '### Added' in changelog and irmas.__version__ in changelog
