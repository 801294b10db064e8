/** Bytes of the little-endian u32 body length that starts every frame. */
export const FRAME_PREFIX_BYTES = 4;

/** Bytes of the body header: u8 type code, u8 flags, u16 reserved. */
export const BODY_HEADER_BYTES = 4;

/** Largest body a {@linkcode FrameDecoder} accepts unless told otherwise: 1 GiB. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024 * 1024;

/** Largest body accepted before the handshake completes: 64 KiB. */
export const HANDSHAKE_MAX_FRAME_BYTES = 64 * 1024;

/** Largest body length the u32 prefix can express. */
export const MAX_U32 = 0xffff_ffff;

/** Most dimensions a tensor may have on the wire. */
export const MAX_TENSOR_NDIM = 8;

/** Tensor bytes start at a multiple of this many bytes from the start of the body. */
export const TENSOR_ALIGNMENT = 8;

/** The four bytes ("EXON") that open every hello body after its header. */
export const HELLO_MAGIC: Readonly<Uint8Array> = new Uint8Array([0x45, 0x58, 0x4f, 0x4e]);

/** Bytes of the random nonce in every hello. */
export const HELLO_NONCE_BYTES = 32;

/** Bytes of a non-empty auth proof (an HMAC-SHA256). */
export const AUTH_PROOF_BYTES = 32;
