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
