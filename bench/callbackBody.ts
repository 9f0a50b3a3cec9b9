// A realistic group message callback (about 900 bytes), as DingTalk posts it to the gateway.
import { randomUUID } from 'node:crypto';

const TEXT = ' 构建 #1234 失败了，能帮忙看一下 test/e2e/send.test.ts 吗？ The failing step is "upload artifacts".';

/** A callback with its own msgId; `textSuffix` is appended to the message text. */
export function callbackBody(msgId = `msg${randomUUID()}`, textSuffix = ''): string {
  return JSON.stringify({
    msgtype: 'text',
    text: { content: `${TEXT}${textSuffix}` },
    msgId,
    createAt: Date.now(),
    conversationType: '2',
    conversationId: 'cidBenchConversation0123456789==',
    conversationTitle: '后端小组 Backend',
    senderId: '$:LWCP_v1:$benchSender0123456789',
    senderNick: '张三',
    senderCorpId: 'dingcorp0123456789',
    senderStaffId: 'staff0123',
    chatbotUserId: '$:LWCP_v1:$benchBot0123456789',
    chatbotCorpId: 'dingcorp0123456789',
    robotCode: 'dingbenchrobot',
    isAdmin: false,
    sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=0123456789abcdef0123456789abcdef',
    sessionWebhookExpiredTime: Date.now() + 3_600_000,
    atUsers: [{ dingtalkId: '$:LWCP_v1:$benchBot0123456789' }],
    isInAtList: true,
  });
}
