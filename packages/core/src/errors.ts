/**
 * Error raised for bad user input (a file, a row, a config key). The message always names
 * where the problem is (`source`) and what is wrong, so a user never has to read a stack
 * trace from deep inside a tensor op.
 */
export class G2DError extends Error {
  readonly source?: string;
  constructor(message: string, options: { source?: string; cause?: unknown } = {}) {
    super(options.source ? `${options.source}: ${message}` : message, { cause: options.cause });
    this.name = 'G2DError';
    this.source = options.source;
  }
}

/** Throws a G2DError naming `source` if any value is NaN or infinite. */
export function assertFinite(values: ArrayLike<number>, source: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw new G2DError(`contains ${Number.isNaN(v) ? 'NaN' : 'an infinite value'} at flat index ${i}`, { source });
    }
  }
}
