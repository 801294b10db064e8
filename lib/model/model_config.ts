/** Architectures the engine can run (`model_type` in config.json). */
export type Architecture = "llama" | "mistral" | "qwen2" | "qwen3";

/** Llama 3.x `rope_scaling` of type "llama3". */
export interface Llama3RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

/** Hyperparameters of a decoder-only transformer, read from a Hugging Face config.json. */
export interface ModelConfig {
  architecture: Architecture;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: Llama3RopeScaling | null;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry biases (qwen2). */
  attentionBias: boolean;
  /** Per-head RMS norms on q and k before rotary (qwen3). */
  qkNorm: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
  /** The checkpoint's dtype (`torch_dtype`), informational. */
  torchDtype: string;
}
