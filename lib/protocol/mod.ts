/**
 * The exo-node wire protocol: message types, the frame encoder and the incremental frame
 * decoder. Pure: no I/O. The byte layout is documented in docs/PROTOCOL.md.
 *
 * @example Round trip
 * ```ts
 * const decoder = new FrameDecoder();
 * const [message] = decoder.push(encodeMessage({ type: "ping", id: 7, sentAt: 0 }));
 * ```
 *
 * @module
 */
export * from "./messages.ts";
export * from "./protocol_error.ts";
export * from "./limits.ts";
export * from "./type_codes.ts";
export * from "./dtype.ts";
export * from "./tensor.ts";
export * from "./encode_message.ts";
export * from "./decode_message_body.ts";
export * from "./frame_decoder.ts";
export * from "./status_json.ts";
