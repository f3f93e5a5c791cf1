import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as Record<string, unknown>;

describe('package.json metadata (what the npm page shows)', () => {
  it('has repository, homepage, bugs and keywords on the same GitHub repository', () => {
    const repository = pkg.repository as { type: string; url: string };
    assert.equal(repository.type, 'git');
    const base = /^git\+(https:\/\/github\.com\/[^/]+\/[^/]+)\.git$/.exec(repository.url)?.[1];
    assert.ok(base, `repository.url ${repository.url} is not a git+https GitHub URL`);
    assert.equal(pkg.homepage, `${base}#readme`);
    assert.deepEqual(pkg.bugs, { url: `${base}/issues` });
    assert.ok(Array.isArray(pkg.keywords) && pkg.keywords.includes('dogpile') && pkg.keywords.includes('memcached'));
  });

  it('README links are absolute (npm does not serve docs/), point into the repository, and name files that exist', () => {
    const base = /^git\+(https:\/\/github\.com\/[^/]+\/[^/]+)\.git$/.exec((pkg.repository as { url: string }).url)?.[1] as string;
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] as string);
    assert.ok(links.length > 10);
    for (const link of links) {
      assert.match(link, /^(https?:|mailto:)/, `README link ${link} is relative and breaks on the npm page`);
      if (link.startsWith(`${base}/blob/main/`)) {
        const file = link.slice(`${base}/blob/main/`.length).replace(/#.*$/, '');
        assert.ok(existsSync(new URL(file, root)), `README links to ${file}, which does not exist`);
      }
    }
  });
});
