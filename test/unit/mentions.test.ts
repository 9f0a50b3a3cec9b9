import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseMentions } from '../../src/core/mentions';
import { markdownMessage, notifiedBy, validateMessage, withMentions } from '../../src/core/messages';

const none = { atMobiles: [], atUserIds: [], isAtAll: false };

test('mobiles, user ids and @all', () => {
  assert.deepEqual(parseMentions('@13800138000 please look, cc @user123 and @all'), {
    atMobiles: ['13800138000'],
    atUserIds: ['user123'],
    isAtAll: true,
  });
  assert.equal(parseMentions('@所有人 上线了').isAtAll, true);
  assert.equal(parseMentions('@ALL done').isAtAll, true);
  assert.equal(parseMentions('@allison done').isAtAll, false);
  assert.deepEqual(parseMentions('@allison done').atUserIds, ['allison']);
});

test('an email or URL is not a mention', () => {
  assert.deepEqual(parseMentions('mail name@example.com or see https://x.com/@user'), none);
  assert.deepEqual(parseMentions('a@13800138000'), none);
});

test('mentions after CJK punctuation and brackets', () => {
  assert.deepEqual(parseMentions('请（@13800138000）和，@dev_1、@ops-2处理').atMobiles, ['13800138000']);
  assert.deepEqual(parseMentions('请（@13800138000）和，@dev_1、@ops-2处理').atUserIds, ['dev_1', 'ops-2']);
  assert.deepEqual(parseMentions('(@abc)').atUserIds, ['abc']);
  assert.deepEqual(parseMentions('第一行\n@abc').atUserIds, ['abc']);
});

test('deduplicates in order', () => {
  assert.deepEqual(parseMentions('@b @13800138000 @a @b @13800138000'), {
    atMobiles: ['13800138000'],
    atUserIds: ['b', 'a'],
    isAtAll: false,
  });
});

test('user id punctuation: dots and dashes inside, not trailing', () => {
  assert.deepEqual(parseMentions('thanks @john.doe.').atUserIds, ['john.doe']);
  assert.deepEqual(parseMentions('hi @a-b-, ok').atUserIds, ['a-b']);
  assert.deepEqual(parseMentions('@x@y').atUserIds, []);
});

test('only 11-digit numbers starting with 1 are mobiles; +86 is not accepted', () => {
  assert.deepEqual(parseMentions('@23800138000 @1380013800').atMobiles, []);
  assert.deepEqual(parseMentions('@23800138000 @1380013800').atUserIds, ['23800138000', '1380013800']);
  assert.deepEqual(parseMentions('@+8613800138000'), none);
  assert.deepEqual(parseMentions('@138001380001').atMobiles, []);
});

test('nothing inside inline code or fenced code blocks', () => {
  assert.deepEqual(parseMentions('run `@all` or ``x @y``'), none);
  assert.deepEqual(parseMentions('```\n@13800138000\n@all\n```\n@after'), { ...none, atUserIds: ['after'] });
  assert.deepEqual(parseMentions('~~~ts\n@inside\n~~~'), none);
  assert.deepEqual(parseMentions('````\n```\n@still_code\n````'), none);
  assert.deepEqual(parseMentions('unclosed `tick @real'), { ...none, atUserIds: ['real'] });
  assert.deepEqual(parseMentions('`code`@glued'), none);
});

test('text without mentions', () => {
  assert.deepEqual(parseMentions(''), none);
  assert.deepEqual(parseMentions('@ alone, @@, @.'), none);
  assert.deepEqual(parseMentions('@张三 你好'), none);
});

test('the @-scan finds exactly what the reference lookbehind pattern finds (property)', () => {
  // The original definition of a mention, kept as the model: one regex with a lookbehind.
  const REFERENCE = /(?:^|(?<=[\s(（,，、:：;；[【「『]))@(所有人|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)(?![A-Za-z0-9_@]|[.-][A-Za-z0-9_])/g;
  const reference = (text: string) => {
    const names = [...text.matchAll(REFERENCE)].map((m) => m[1]);
    const isAtAll = names.some((n) => n === '所有人' || n.toLowerCase() === 'all');
    const rest = names.filter((n) => n !== '所有人' && n.toLowerCase() !== 'all');
    return {
      atMobiles: [...new Set(rest.filter((n) => /^1\d{10}$/.test(n)))],
      atUserIds: [...new Set(rest.filter((n) => !/^1\d{10}$/.test(n)))],
      isAtAll,
    };
  };
  const piece = fc.oneof(
    fc.constantFrom('@', '@all', '@ALL', '@所有人', '@13800138000', '@user_1', '@a.b', '@a-', '@x@y', 'name@example.com', ' ', '\n', '\t', '\u3000'),
    fc.constantFrom('(', '（', ',', '，', '、', ':', '：', ';', '；', '[', '【', '「', '『', '.', '-', '_', 'é', '中'),
    fc.string({ unit: fc.constantFrom(...'ab1_.-@ '), maxLength: 6 }),
  );
  fc.assert(fc.property(fc.array(piece, { maxLength: 12 }).map((p) => p.join('')), (text) => {
    assert.deepEqual(parseMentions(text), reference(text));
  }), { numRuns: 2000 });
});

test('a file or a selection notifies nobody by itself: "Thanks @all" and @Injectable stay text', () => {
  const file = markdownMessage('Release 1.2', 'Thanks @all for the release!\n\n@Injectable() marks a service. Call @13800138000.', 'none');
  assert.deepEqual(file.at, { atMobiles: [], atUserIds: [], isAtAll: false }, 'the request says "nobody"');
  assert.deepEqual(notifiedBy([file]), { everyone: false, people: [] });
  assert.equal(markdownMessage('Typed', 'Thanks @all').at?.isAtAll, true, 'typed messages keep today\'s parsing');
});

test('the Mention… choice notifies exactly who was picked, adding @id to the text when it is not written there', () => {
  const file = markdownMessage('Notes', 'Thanks @all. Ping @alice later.', 'none');
  const nobody = withMentions(file, { everyone: false, people: [] });
  assert.deepEqual(nobody.at, { atMobiles: [], atUserIds: [], isAtAll: false });
  assert.equal(nobody.markdown.text, file.markdown.text);
  const some = withMentions(file, { everyone: false, people: ['alice', '@13800138000'] });
  assert.deepEqual(some.at, { atMobiles: ['13800138000'], atUserIds: ['alice'], isAtAll: false });
  assert.equal(some.markdown.text, 'Thanks @all. Ping @alice later.\n\n@13800138000');
  assert.deepEqual(validateMessage(some), [], 'DingTalk sees each @id in the text');
  const everyone = withMentions(file, { everyone: true, people: [] });
  assert.equal(everyone.at?.isAtAll, true);
  assert.deepEqual(notifiedBy([everyone]), { everyone: true, people: [] });
  assert.deepEqual(notifiedBy([some]), { everyone: false, people: ['13800138000', 'alice'] });
});

test('a mention inside a block quote (someone else\'s words, as Quote writes them) notifies nobody', () => {
  assert.deepEqual(parseMentions('> Eve: @all please look\n> and @13800000000 too\n\n@13800138000 on it'), {
    atMobiles: ['13800138000'], atUserIds: [], isAtAll: false,
  });
  assert.equal(parseMentions('> @all').isAtAll, false);
  assert.equal(parseMentions('a > b @all').isAtAll, true, 'a > inside a line is not a quote');
});
