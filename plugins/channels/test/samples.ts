/** Sample updates from https://core.telegram.org/bots/webhooks#testing-your-bot, verbatim. */
export const telegramMessage = {
  update_id: 10000,
  message: {
    date: 1441645532,
    chat: { last_name: 'Test Lastname', id: 1111111, first_name: 'Test', username: 'Test' },
    message_id: 1365,
    from: { last_name: 'Test Lastname', id: 1111111, first_name: 'Test', username: 'Test' },
    text: '/start',
  },
};

export const telegramEditedMessage = {
  update_id: 10000,
  edited_message: {
    date: 1441645532,
    chat: { last_name: 'Test Lastname', id: 1111111, first_name: 'Test', username: 'Test' },
    message_id: 1365,
    from: { last_name: 'Test Lastname', id: 1111111, first_name: 'Test', username: 'Test' },
    text: 'Edited text',
    edit_date: 1441646600,
  },
};

export const telegramCallbackQuery = {
  update_id: 10000,
  callback_query: {
    id: '4382bfdwdsb323b2d9',
    from: { last_name: 'Test Lastname', type: 'private', id: 1111111, first_name: 'Test', username: 'Test' },
    data: 'Data from button callback',
    inline_message_id: '1234csdbsk4839',
  },
};

/** Same page: an inline query, a kind Plinth acknowledges and ignores. */
export const telegramInlineQuery = {
  update_id: 10000,
  inline_query: {
    id: '134567890097',
    from: { last_name: 'Test Lastname', type: 'private', id: 1111111, first_name: 'Test', username: 'Test' },
    query: 'inline query',
    offset: '',
  },
};

/** https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples#text-messages, verbatim. */
export const whatsappText = {
  object: 'whatsapp_business_account',
  entry: [{
    id: 'WHATSAPP_BUSINESS_ACCOUNT_ID',
    changes: [{
      value: {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: 'PHONE_NUMBER', phone_number_id: 'PHONE_NUMBER_ID' },
        contacts: [{ profile: { name: 'NAME' }, wa_id: 'PHONE_NUMBER' }],
        messages: [{ from: 'PHONE_NUMBER', id: 'wamid.ID', timestamp: 'TIMESTAMP', text: { body: 'MESSAGE_BODY' }, type: 'text' }],
      },
      field: 'messages',
    }],
  }],
};

/** Same page, "Message status updates" (delivered), with the id of a message we sent. */
export function whatsappStatus(wamid: string, status = 'delivered') {
  return {
    object: 'whatsapp_business_account',
    entry: [{
      id: 'WHATSAPP_BUSINESS_ACCOUNT_ID',
      changes: [{
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: 'PHONE_NUMBER', phone_number_id: 'PHONE_NUMBER_ID' },
          statuses: [{
            id: wamid, status, timestamp: 'TIMESTAMP', recipient_id: 'PHONE_NUMBER',
            conversation: { id: 'CONVERSATION_ID', expiration_timestamp: 'TIMESTAMP', origin: { type: 'user_initiated' } },
            pricing: { billable: true, pricing_model: 'CBP', category: 'user_initiated' },
          }],
        },
        field: 'messages',
      }],
    }],
  };
}
