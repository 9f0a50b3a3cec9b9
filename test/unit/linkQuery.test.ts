import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readLinkQuery } from '../../src/core/agents/linkQuery';

const KEYS = ['robot', 'text'];
/** What VS Code hands the extension: the link's query percent-decoded once (its URI.parse). */
const asReceived = (query: string) => query.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => decodeURIComponent(run));
const read = (query: string) => Object.fromEntries(readLinkQuery(asReceived(query), KEYS));

test('values encoded twice come out exactly, whatever they contain', () => {
  for (const text of ['Release 1.2 & notes', '1+1=2', '100% done', 'a%20b literally', '构建通过 ✅', 'line 1\nline 2', '#hash?q=1']) {
    const query = `robot=${encodeURIComponent(encodeURIComponent('Team A'))}&text=${encodeURIComponent(encodeURIComponent(text))}`;
    assert.deepEqual(read(query), { robot: 'Team A', text }, text);
  }
});

test('values encoded once keep their & and = (split only before a known field) and their %', () => {
  const text = 'Fish & chips = lunch, 100% sure';
  assert.deepEqual(read(`robot=Team&text=${encodeURIComponent(text)}`), { robot: 'Team', text });
  assert.deepEqual(read(`text=${encodeURIComponent('a & b')}&robot=Ops`), { robot: 'Ops', text: 'a & b' });
  assert.deepEqual(read('text=Hello%20from%20a%20link'), { text: 'Hello from a link' });
});

test('form encoding (URLSearchParams) works: + is a space', () => {
  const query = new URLSearchParams({ robot: 'Team', text: 'build green at 10:00' }).toString();
  assert.deepEqual(read(query), { robot: 'Team', text: 'build green at 10:00' });
});

test('unknown fields are ignored, the first of a repeated field wins, a lone % stays', () => {
  assert.deepEqual(read('evil=1&robot=Team&robot=Other&text=50%'), { robot: 'Team', text: '50%' });
  assert.deepEqual(read(''), {});
  assert.deepEqual(read('text'), {});
});
