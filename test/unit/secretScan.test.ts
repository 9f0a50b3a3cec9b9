import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecret, redactSecrets, REDACTED, scanForSecrets } from '../../src/core/text/secretScan';
import { sourceLineOf } from '../../src/core/text/sourceLines';

// Made-up values in the shapes the rules look for, assembled so that this file itself is not a finding.
const AWS_KEY_ID = 'AKIA' + 'Q3EGRT5YBHN7ZK2M';
const AWS_SECRET = 'tV7x2Qm9Lp' + 'Zr4Kc8Wn1Hs6Jd3Fg5Bv0Ny2Xa7Ueq';
const GITHUB_TOKEN = 'ghp_' + 'k7Qz3Lm9Vx2Rt5Wc8Np1Hs4Jd6Fg0Bv3Ny7X';
const SLACK_TOKEN = 'xoxb-' + '2837465019-2837465019283-Qm7Lp2Zr4Kc8Wn1Hs6Jd3Fg5';
const DINGTALK_TOKEN = '9f8e7d6c5b4a' + '3928170f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b';
const DINGTALK_SECRET = 'SEC' + '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';
const PRIVATE_KEY = ['-----BEGIN ' + 'RSA PRIVATE KEY-----', 'MIIEpAIBAAKCAQEA1c7+9z5Pad7OejecsQ0bu3aozN3tihPmljnnudb9G3HECdnH', 'lWu2/a1gB9JW5TBQ+AVpum9Okx7KfqkfBKL9mcHgSL0yWMdjMfNOqNtrQqKlN4kE', '-----END ' + 'RSA PRIVATE KEY-----'].join('\n');

const snippet = [
  'import boto3',
  `client = boto3.client("s3", aws_access_key_id="${AWS_KEY_ID}",`,
  `    aws_secret_access_key="${AWS_SECRET}")`,
  `GITHUB = "${GITHUB_TOKEN}"  # for the release script`,
  'print("done")',
].join('\n');

test('an AWS access key pair and a GitHub token are each found on their line', async () => {
  const findings = await scanForSecrets(snippet);
  assert.deepEqual(findings.map((f) => [f.line, snippet.slice(f.start, f.end)]), [[2, AWS_KEY_ID], [3, AWS_SECRET], [4, GITHUB_TOKEN]]);
  assert.ok(findings.every((f) => !f.masked.includes(snippet.slice(f.start, f.end))), 'never shown whole');
  assert.deepEqual(findings.map((f) => f.kind), ['AWS Access Key ID', 'AWS Secret Access Key', 'GitHub personal access tokens']);
});

test('redaction replaces only the values and keeps every other character and every line', async () => {
  const findings = await scanForSecrets(snippet);
  const redacted = redactSecrets(snippet, findings);
  assert.equal(redacted, [
    'import boto3',
    `client = boto3.client("s3", aws_access_key_id="${REDACTED}",`,
    `    aws_secret_access_key="${REDACTED}")`,
    `GITHUB = "${REDACTED}"  # for the release script`,
    'print("done")',
  ].join('\n'));
  assert.deepEqual(await scanForSecrets(redacted), []);
});

test('a private key is found and redacted line by line, so the message keeps its line count', async () => {
  const text = `key:\n${PRIVATE_KEY}\nend`;
  const findings = await scanForSecrets(text);
  assert.equal(findings.length, 1);
  assert.equal(findings[0].line, 2);
  const redacted = redactSecrets(text, findings);
  assert.equal(redacted.split('\n').length, text.split('\n').length);
  assert.ok(!redacted.includes('MIIEpAIBAAKCAQEA'));
  assert.ok(redacted.startsWith('key:\n') && redacted.endsWith('\nend'));
});

test('other rules of the preset: a Slack token and basic auth in a URL', async () => {
  const text = `slack: ${SLACK_TOKEN}\ncurl https://deploy:Sup3rS3cretPassw0rd@registry.example.com/v2/\n`;
  const findings = await scanForSecrets(text);
  assert.deepEqual(findings.map((f) => f.line), [1, 2]);
  assert.ok(!redactSecrets(text, findings).includes('Sup3rS3cretPassw0rd'));
});

test('credentials in URLs: only the password is the value, so redaction keeps the user name and host', async () => {
  const password = 'Sup3r' + 'S3cretPassw0rd';
  const text = [
    `curl https://deploy:${password}@registry.example.com/v2/`,
    `DATABASE_URL=postgres://app_user:${password}@db.internal.corp:5432/app?sslmode=require`,
  ].join('\n');
  const findings = await scanForSecrets(text);
  assert.deepEqual(findings.map((f) => [f.line, text.slice(f.start, f.end)]), [[1, password], [2, password]]);
  assert.equal(findings[0].masked, 'Sup3******** (19 chars)');
  assert.equal(redactSecrets(text, findings), [
    `curl https://deploy:${REDACTED}@registry.example.com/v2/`,
    `DATABASE_URL=postgres://app_user:${REDACTED}@db.internal.corp:5432/app?sslmode=require`,
  ].join('\n'));
});

test('DingTalk webhook tokens and signing secrets are found even for robots not configured here', async () => {
  const text = `hook: https://oapi.dingtalk.com/robot/send?access_token=${DINGTALK_TOKEN}\nsign with ${DINGTALK_SECRET}`;
  const findings = await scanForSecrets(text);
  assert.deepEqual(findings.map((f) => [f.kind, f.line]), [['DingTalk robot access token', 1], ['DingTalk robot signing secret', 2]]);
  assert.equal(redactSecrets(text, findings), `hook: https://oapi.dingtalk.com/robot/send?access_token=${REDACTED}\nsign with ${REDACTED}`);
});

test("the user's own robot credentials are found literally, wherever they appear", async () => {
  const text = 'outgoing token is tok-Ab12Cd34Ef\nand tok-Ab12Cd34Ef again; short "abc" is ignored';
  const findings = await scanForSecrets(text, [{ kind: 'Outgoing token of "Team"', value: 'tok-Ab12Cd34Ef' }, { kind: 'short', value: 'abc' }]);
  assert.deepEqual(findings.map((f) => [f.kind, f.line]), [['Outgoing token of "Team"', 1], ['Outgoing token of "Team"', 2]]);
});

test('ordinary code and prose have no findings', async () => {
  const text = 'const total = items.reduce((sum, item) => sum + item.price, 0);\n// 发布说明：构建成功\nSee https://github.com/org/repo/blob/abc/src/a.ts#L2-L4';
  assert.deepEqual(await scanForSecrets(text), []);
});

test('masking shows a prefix and the length only', () => {
  assert.equal(maskSecret(GITHUB_TOKEN), 'ghp_******** (40 chars)');
  assert.equal(maskSecret('short-secret'), '******** (12 chars)');
});

test('a finding is placed on the line of the user\'s file, not of the message around it', () => {
  const code = `import os\nKEY = "${AWS_KEY_ID}"\n\nTOKEN = "abc"`;
  const source = { label: 'src/config.py', text: code, firstLine: 10 };
  assert.equal(sourceLineOf(source, AWS_KEY_ID), 11);
  assert.equal(sourceLineOf(source, 'abc'), 13);
  assert.equal(sourceLineOf(source, 'import'), 10);
  assert.equal(sourceLineOf(source, 'not there'), undefined);
  assert.equal(sourceLineOf(source, ''), undefined);
});
