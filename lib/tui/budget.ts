/**
 * The lines of a screen area shared among its parts, granted step by step in order of
 * priority: what matters most is granted first, so a small terminal keeps it and a large
 * one gets everything.
 */
export class Budget<Part extends string> {
  #left: number;
  #lines = new Map<Part, number>();

  /** A budget of `lines` lines, none granted yet. */
  constructor(lines: number) {
    this.#left = Math.max(0, lines);
  }

  /**
   * Raises `part` to `upTo` lines as far as the lines left allow; with `whole`, only when
   * all of them fit (a part shown in less would be no use).
   */
  grant(part: Part, upTo: number, whole = false): void {
    const want = Math.max(0, upTo - this.get(part));
    if (want === 0 || (whole && want > this.#left)) return;
    const given = Math.min(want, this.#left);
    this.#lines.set(part, this.get(part) + given);
    this.#left -= given;
  }

  /** Lines granted to `part`. */
  get(part: Part): number {
    return this.#lines.get(part) ?? 0;
  }

  /** Lines not granted yet. */
  get left(): number {
    return this.#left;
  }
}
