/** The version `exo-node --version` prints. */
export const VERSION: string = "0.1.0";
