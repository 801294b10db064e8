/** A source of uniform random numbers for sampling. */
export interface Rng {
  /** A uniform float in [0, 1). */
  nextFloat(): number;
}

/**
 * A small, fast, seedable PRNG (xoshiro128**, seeded through splitmix32): the same seed
 * gives the same sequence on every platform, which is what makes OpenAI's `seed` work.
 * Not for cryptography.
 *
 * @example Usage
 * ```ts
 * const a = new SeededRng(42);
 * const b = new SeededRng(42);
 * a.nextFloat() === b.nextFloat(); // true
 * ```
 */
export class SeededRng implements Rng {
  /** The seed this generator started from, so an unseeded run can be reproduced. */
  readonly seed: number;
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /**
   * @param seed Any safe integer, negative included.
   * @throws {RangeError} When the seed is not a safe integer.
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`Cannot seed random generator: ${seed} is not a safe integer`);
    }
    this.seed = seed;
    const wide = BigInt(seed);
    const low = Number(BigInt.asUintN(32, wide));
    const high = Number(BigInt.asUintN(32, wide >> 32n));
    // splitmix32 is a bijection of its state, so distinct seeds give distinct, never all-zero states.
    this.#s0 = splitmix32(low);
    this.#s1 = splitmix32(low + 0x9e3779b9);
    this.#s2 = splitmix32(high ^ 0x5bd1e995);
    this.#s3 = splitmix32((high ^ 0x5bd1e995) + 0x9e3779b9);
  }

  /** A generator seeded from the platform's cryptographic randomness. */
  static fromEntropy(): SeededRng {
    const words = crypto.getRandomValues(new Uint32Array(2));
    // 21 + 32 bits keeps the seed a safe integer.
    return new SeededRng((words[0] & 0x1fffff) * 2 ** 32 + words[1]);
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9);
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result >>> 0;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
}
