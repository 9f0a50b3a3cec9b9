// Splitting for a keyword robot: DingTalk refuses any message that contains none of the robot's keywords
// (errcode 310000, "keywords not in content"), so every part must carry one, not just the part it was written in.
import { MAX_BODY_BYTES, messageTextForKeywords, type RobotMessage } from '../messages';
import { splitMessage } from '../split';

/**
 * The parts DingTalk will receive from a robot with `keywords`: a part that lost every keyword in splitting
 * gets the first keyword on a last line (room for it is kept when splitting, so the part still fits).
 * Without keywords, or when the message is not split, it is splitMessage's answer unchanged.
 */
export function splitForKeywords(message: RobotMessage, keywords: readonly string[], maxBodyBytes = MAX_BODY_BYTES): RobotMessage[] {
  const keyword = keywords[0];
  if (!keyword) return splitMessage(message, maxBodyBytes);
  const room = Buffer.byteLength(JSON.stringify(`\n\n${keyword}`), 'utf8');
  const parts = splitMessage(message, maxBodyBytes - room);
  if (parts.length === 1) return parts;
  const hasKeyword = (part: RobotMessage) => keywords.some((k) => messageTextForKeywords(part).includes(k));
  return parts.map((part) => {
    if (hasKeyword(part)) return part;
    if (part.msgtype === 'text') return { ...part, text: { content: `${part.text.content}\n\n${keyword}` } };
    if (part.msgtype === 'markdown') return { ...part, markdown: { ...part.markdown, text: `${part.markdown.text}\n\n${keyword}` } };
    return part;
  });
}
