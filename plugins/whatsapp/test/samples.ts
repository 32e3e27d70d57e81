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
