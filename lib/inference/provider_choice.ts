/**
 * `--execution-provider auto`: the provider a shard runs on, measured by the probe
 * (provider_probe.ts) the first time and read from the state directory after that (see
 * decision_cache.ts), with one log line saying what was measured and what won.
 * @module
 */
import { join } from "node:path";
import type { Logger } from "../log/logger.ts";
import {
  describeCandidate,
  probeProviders,
  type ProbeRequest,
  type ProbeResult,
  type ProbeSettings,
} from "./provider_probe.ts";
import {
  type DecisionCache,
  decisionKey,
  type MachineIdentity,
  openDecisionCache,
} from "./decision_cache.ts";

export type { CandidateResult, ProbeSettings } from "./provider_probe.ts";
export type { MachineIdentity } from "./decision_cache.ts";

/** Where `auto` put a shard and why: what the probe measured, now or at an earlier start. */
export interface ProviderChoice extends ProbeResult {
  /** When the candidates were measured, ms since the epoch. */
  measuredAt: number;
  /** Whether the choice was read from the state directory instead of measured at this load. */
  cached: boolean;
}

/** How an engine decides for `auto`. */
export interface AutoProviderOptions {
  /**
   * Where decisions are kept (the state directory's `engine-choices`) and the machine they
   * were measured on; without it every load measures.
   */
  decisions?: { dir: string; machine: MachineIdentity };
  /** Measure again even where a decision was kept before this engine started (--reprobe). */
  reprobe?: boolean;
  /** Probe settings only tests change. */
  probe?: ProbeSettings;
}

/** Where decisions are kept, under the state directory. */
const DECISIONS_DIR = "engine-choices";

/**
 * The options of a node or `run`: decisions kept under `<stateDir>/engine-choices` for
 * this machine (its chip name as detected or given, and its logical cores).
 */
export function autoProviderOptions(
  stateDir: string,
  chip: string,
  reprobe: boolean,
): AutoProviderOptions {
  const dir = join(stateDir, DECISIONS_DIR);
  return { decisions: { dir, machine: { chip, cores: navigator.hardwareConcurrency } }, reprobe };
}

/** The shard to choose for: what the probe needs, without its own settings. */
export type ChoiceRequest = Omit<ProbeRequest, "logger" | "providers" | "settings">;

/**
 * Decides where `auto` runs shards for one engine: a kept decision when there is one for
 * this model, shard, dtype, build and machine (and `reprobe` does not ask to measure
 * again), else a probe, whose decision is then kept.
 */
export class ProviderChooser {
  #options: AutoProviderOptions;
  #logger: Logger;
  #startedAt = Date.now();
  #cache: DecisionCache | null;
  #probes = 0;

  /** A chooser whose `reprobe` applies to decisions kept before now. */
  constructor(options: AutoProviderOptions, logger: Logger) {
    this.#options = options;
    this.#logger = logger;
    this.#cache = options.decisions ? openDecisionCache(options.decisions.dir, logger) : null;
  }

  /** Probes this chooser ran: a start that found its decision kept runs none. */
  get probes(): number {
    return this.#probes;
  }

  /** The provider and dtype for the shard, logged as one line. */
  async choose(request: ChoiceRequest): Promise<ProviderChoice> {
    const key = this.#options.decisions
      ? await decisionKey(request, this.#options.decisions.machine)
      : null;
    const kept = key === null ? null : await this.#cache!.read(key);
    if (kept !== null && !(this.#options.reprobe && kept.measuredAt < this.#startedAt)) {
      const choice = { ...kept, cached: true };
      this.#logger.info(describeChoice(choice));
      return choice;
    }
    this.#probes++;
    const probed = await probeProviders({
      ...request,
      logger: this.#logger,
      settings: this.#options.probe,
    });
    const choice: ProviderChoice = { ...probed, measuredAt: Date.now(), cached: false };
    if (key !== null) await this.#cache!.write(key, choice);
    this.#logger.info(describeChoice(choice));
    return choice;
  }

  /**
   * Forgets the decision kept for the shard (its provider no longer loads there), so that
   * the next start measures again.
   */
  async forget(request: ChoiceRequest): Promise<void> {
    if (!this.#options.decisions) return;
    await this.#cache!.forget(await decisionKey(request, this.#options.decisions.machine));
  }
}

/**
 * The log line of a choice: "auto: webgpu q4 41.2 tok/s (prompt 310 tok/s), cpu q4 27.5
 * tok/s (prompt 120 tok/s) → webgpu", then which layers were timed, or when the kept
 * decision was measured.
 */
export function describeChoice(choice: ProviderChoice): string {
  const { startLayer, endLayer } = choice.probeLayers;
  const how = choice.cached
    ? `measured ${
      new Date(choice.measuredAt).toISOString().slice(0, 16).replace("T", " ")
    } UTC and kept; --reprobe measures again`
    : `layers ${startLayer}..${endLayer} timed${
      choice.projected ? ", projected to the shard" : ""
    }`;
  return `auto: ${
    choice.candidates.map(describeCandidate).join(", ")
  } → ${choice.provider} (${how})`;
}
