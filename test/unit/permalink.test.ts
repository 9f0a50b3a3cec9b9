import { test } from 'node:test';
import assert from 'node:assert/strict';
import { permalinkFor, remoteRepository } from '../../src/core/send/permalink';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const lines = { path: 'src/app.ts', commit: SHA, startLine: 2, endLine: 4 };

test('GitHub from HTTPS, SSH, scp-like, ssh.github.com on port 443, with and without .git', () => {
  const expected = `https://github.com/octo/hello/blob/${SHA}/src/app.ts#L2-L4`;
  for (const remote of [
    'https://github.com/octo/hello.git',
    'https://github.com/octo/hello',
    'https://user@github.com/octo/hello.git/',
    'git@github.com:octo/hello.git',
    'git@github.com:octo/hello',
    'ssh://git@github.com/octo/hello.git',
    'ssh://git@ssh.github.com:443/octo/hello.git',
    'git://github.com/octo/hello.git',
  ]) assert.equal(permalinkFor(remote, lines), expected, remote);
  assert.equal(permalinkFor('git@github.com:octo/hello.git', { ...lines, endLine: 2 }), `https://github.com/octo/hello/blob/${SHA}/src/app.ts#L2`);
});

test('GitLab, with subgroups, and self-hosted GitLab recognised by the host setting, with web and SSH ports', () => {
  assert.equal(permalinkFor('git@gitlab.com:group/sub/project.git', lines), `https://gitlab.com/group/sub/project/-/blob/${SHA}/src/app.ts#L2-4`);
  assert.equal(permalinkFor('https://git.example.com/team/app.git', lines), undefined, 'unknown host: no link');
  const selfHosted = { 'git.example.com': 'gitlab' as const };
  assert.equal(permalinkFor('https://git.example.com:8443/team/app.git', lines, selfHosted), `https://git.example.com:8443/team/app/-/blob/${SHA}/src/app.ts#L2-4`);
  assert.equal(permalinkFor('ssh://git@git.example.com:2222/team/app.git', lines, selfHosted), `https://git.example.com/team/app/-/blob/${SHA}/src/app.ts#L2-4`);
  assert.equal(permalinkFor('git@GIT.EXAMPLE.COM:team/app', lines, selfHosted), `https://git.example.com/team/app/-/blob/${SHA}/src/app.ts#L2-4`);
  assert.equal(permalinkFor('https://ghe.corp.local/team/app.git', lines, { 'ghe.corp.local': 'github' }), `https://ghe.corp.local/team/app/blob/${SHA}/src/app.ts#L2-L4`);
});

test('Gitee and Alibaba Cloud Codeup', () => {
  assert.equal(permalinkFor('git@gitee.com:oschina/app.git', lines), `https://gitee.com/oschina/app/blob/${SHA}/src/app.ts#L2-L4`);
  assert.equal(permalinkFor('https://gitee.com/oschina/app', lines), `https://gitee.com/oschina/app/blob/${SHA}/src/app.ts#L2-L4`);
  assert.equal(permalinkFor('git@codeup.aliyun.com:5f1a2b3c4d5e6f7a8b9c0d1e/team/app.git', lines),
    `https://codeup.aliyun.com/5f1a2b3c4d5e6f7a8b9c0d1e/team/app/blob/${SHA}/src/app.ts#L2-L4`);
});

test('Bitbucket', () => {
  for (const remote of ['git@bitbucket.org:team/app.git', 'https://someone@bitbucket.org/team/app.git']) {
    assert.equal(permalinkFor(remote, lines), `https://bitbucket.org/team/app/src/${SHA}/src/app.ts#lines-2:4`, remote);
  }
});

test('Azure DevOps in all its spellings', () => {
  const expected = `https://dev.azure.com/org/proj/_git/repo?path=/src/app.ts&version=GC${SHA}&line=2&lineEnd=5&lineStartColumn=1&lineEndColumn=1&lineStyle=plain&_a=contents`;
  for (const remote of [
    'https://dev.azure.com/org/proj/_git/repo',
    'https://org@dev.azure.com/org/proj/_git/repo',
    'git@ssh.dev.azure.com:v3/org/proj/repo',
    'https://org.visualstudio.com/proj/_git/repo',
    'https://org.visualstudio.com/DefaultCollection/proj/_git/repo',
  ]) assert.equal(permalinkFor(remote, lines), expected, remote);
});

test('paths and names are percent-encoded, including what would end a markdown link', () => {
  const link = permalinkFor('https://github.com/octo/hello.git', { ...lines, path: 'docs/发布 说明 (v2).md' });
  assert.equal(link, `https://github.com/octo/hello/blob/${SHA}/docs/%E5%8F%91%E5%B8%83%20%E8%AF%B4%E6%98%8E%20%28v2%29.md#L2-L4`);
});

test('what is not a repository URL gives no link', () => {
  for (const remote of ['', 'not a url', '/srv/git/app.git', 'file:///srv/git/app.git', 'https://github.com/only-owner', 'https://dev.azure.com/org/proj']) {
    assert.equal(permalinkFor(remote, lines), undefined, remote);
  }
  assert.equal(remoteRepository('https://github.com/octo/hello.git')?.origin, 'https://github.com');
});

test('without lines the link is to the whole file', () => {
  const file = { path: 'README.md', commit: SHA };
  assert.equal(permalinkFor('git@github.com:octo/hello.git', file), `https://github.com/octo/hello/blob/${SHA}/README.md`);
  assert.equal(permalinkFor('git@gitlab.com:g/p.git', file), `https://gitlab.com/g/p/-/blob/${SHA}/README.md`);
  assert.equal(permalinkFor('git@bitbucket.org:t/a.git', file), `https://bitbucket.org/t/a/src/${SHA}/README.md`);
  assert.equal(permalinkFor('https://dev.azure.com/org/proj/_git/repo', file), `https://dev.azure.com/org/proj/_git/repo?path=/README.md&version=GC${SHA}&_a=contents`);
});
