import type { MessageType } from "./messages.ts";

/** The u8 code that opens each message body, by message type. */
export const MESSAGE_TYPE_CODES: Readonly<Record<MessageType, number>> = {
  hello: 1,
  auth: 2,
  refuse: 3,
  ping: 4,
  pong: 5,
  topology_request: 6,
  topology_reply: 7,
  prompt: 8,
  tensor: 9,
  token: 10,
  status: 11,
  error: 12,
  cancel: 13,
  quiet: 14,
};

const TYPES_BY_CODE: ReadonlyMap<number, MessageType> = new Map(
  Object.entries(MESSAGE_TYPE_CODES).map(([type, code]) => [code, type as MessageType]),
);

/** Returns the message type for a wire code, or undefined for an unknown code. */
export function messageTypeFromCode(code: number): MessageType | undefined {
  return TYPES_BY_CODE.get(code);
}
